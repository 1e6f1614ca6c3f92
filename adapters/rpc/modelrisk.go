package rpc

import (
	"context"
	"strconv"
	"strings"

	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/modelrisk"
	"github.com/sanzhi/sanzhi/scoring/policies"
)

// ModelRisk serves sanzhi.v1.ModelRiskService: convert, call the
// back-tester once, convert back.
type ModelRisk struct {
	sanzhiv1.UnimplementedModelRiskServiceServer
	bt Backtester
}

// Backtester back-tests a policy version (app.Backtester).
type Backtester interface {
	Backtest(ctx context.Context, req app.BacktestRequest) (*app.BacktestResult, error)
}

// NewModelRisk returns the handler; without a back-tester it answers
// UNAVAILABLE.
func NewModelRisk(bt Backtester) *ModelRisk { return &ModelRisk{bt: bt} }

func (s *ModelRisk) GetBacktestReport(ctx context.Context, req *sanzhiv1.GetBacktestReportRequest) (*sanzhiv1.BacktestReport, error) {
	if s.bt == nil {
		return nil, fault.New(fault.Unavailable, "BACKTEST_UNAVAILABLE", "this server has no back-tester")
	}
	var format, ctype string
	switch req.GetFormat() {
	case sanzhiv1.BacktestFormat_BACKTEST_FORMAT_UNSPECIFIED:
	case sanzhiv1.BacktestFormat_BACKTEST_FORMAT_HTML:
		format, ctype = "html", "text/html; charset=utf-8"
	case sanzhiv1.BacktestFormat_BACKTEST_FORMAT_CSV:
		format, ctype = "csv", "text/csv; charset=utf-8"
	default:
		return nil, fault.InvalidField("format", "unknown format %d", req.GetFormat())
	}
	res, err := s.bt.Backtest(ctx, app.BacktestRequest{Name: req.GetName(), AsOf: req.GetAsOf(), Format: format,
		English: strings.HasPrefix(strings.ToLower(req.GetLanguage()), "en")})
	if err != nil {
		return nil, err
	}
	out := BacktestOut(res.Report)
	out.FullView, out.Format = res.Full, req.GetFormat()
	if res.Rendered != nil {
		out.Rendered, out.ContentType = res.Rendered, ctype
	}
	return out, nil
}

// BacktestOut converts a back-test report's figures.
func BacktestOut(r *modelrisk.Report) *sanzhiv1.BacktestReport {
	p := r.Performance
	out := &sanzhiv1.BacktestReport{
		Name:       policies.ProductName(r.Bank, r.Product) + "/policies/" + strconv.Itoa(r.Version),
		PolicyHash: r.PolicyHash, AsOf: string(r.AsOf),
		Decisions: r.Decisions, Outcomes: r.Outcomes, Goods: r.Goods, Bads: r.Bads,
		PerformanceMeasured: p.Measured, Ks: p.KS, KsScore: int32(p.KSScore), Auc: p.AUC, Gini: p.Gini,
		Total:        gradeOut(r.Total),
		HasReference: r.HasReference, ReferenceDecisions: r.ReferenceDecisions,
		PsiWatch: r.PSIWatch, PsiShift: r.PSIShift,
		AdverseImpactThreshold: r.Fairness.AdverseImpact, MinGroup: int32(r.Fairness.MinGroup),
	}
	out.Total.Grade = ""
	for _, g := range r.Grades {
		out.Grades = append(out.Grades, gradeOut(g))
	}
	if r.HasReference {
		out.ScoreStability = &sanzhiv1.Stability{Psi: r.Score.Value, Level: stabilityOut(r.Score.Level)}
		for _, c := range r.Characteristics {
			out.CharacteristicStability = append(out.CharacteristicStability,
				&sanzhiv1.Stability{Characteristic: c.ID, Psi: c.Value, Level: stabilityOut(c.Level)})
		}
	}
	for _, d := range r.Fairness.Dimensions {
		fd := &sanzhiv1.FairnessDimension{Dimension: d.Name, MostFavoured: d.MostFavoured}
		for _, g := range d.Groups {
			fd.Groups = append(fd.Groups, &sanzhiv1.FairnessGroup{Key: g.Key, Decisions: g.Decisions, Approved: g.Approved,
				ApprovalRate: g.ApprovalRate, AverageLimit: g.AvgLimit.StringFixed(2), AverageRate: g.AvgRate.StringFixed(6),
				HasRatio: g.HasRatio, AdverseImpact: g.AdverseImpact, Small: g.Small, Flagged: g.Flagged})
		}
		out.Fairness = append(out.Fairness, fd)
	}
	if c := r.Challenger; c != nil {
		out.Challenger = &sanzhiv1.ChallengerComparison{
			Challenger: policies.ProductName(r.Bank, r.Product) + "/policies/" + strconv.Itoa(r.ChallengerVersion),
			Decisions:  c.Decisions, Observed: c.Observed, Bads: c.Bads,
			Measured:   c.Champion.Measured && c.Challenger.Measured,
			ChampionKs: c.Champion.KS, ChampionAuc: c.Champion.AUC, ChampionGini: c.Champion.Gini,
			ChallengerKs: c.Challenger.KS, ChallengerAuc: c.Challenger.AUC, ChallengerGini: c.Challenger.Gini,
			SwapIn: c.SwapIn, SwapOut: c.SwapOut, SwapInBad: c.SwapInBad, SwapOutBad: c.SwapOutBad,
			SwapShare: c.SwapShare}
	}
	return out
}

func gradeOut(g modelrisk.GradeRow) *sanzhiv1.BacktestGrade {
	return &sanzhiv1.BacktestGrade{Grade: g.Grade, Eligible: g.Eligible, MinScore: int32(g.Lo), MaxScore: int32(g.Hi),
		Decisions: g.Decisions, Outcomes: g.Outcomes, Bads: g.Bads, Share: g.Share,
		BadRate: g.BadRate, BadRateLow: g.Low, BadRateHigh: g.High, ImpliedBadRate: g.Implied, Miscalibrated: g.Miscalibrated}
}

func stabilityOut(l string) sanzhiv1.StabilityLevel {
	switch l {
	case modelrisk.Stable:
		return sanzhiv1.StabilityLevel_STABILITY_LEVEL_STABLE
	case modelrisk.Watch:
		return sanzhiv1.StabilityLevel_STABILITY_LEVEL_WATCH
	case modelrisk.Shift:
		return sanzhiv1.StabilityLevel_STABILITY_LEVEL_SHIFT
	}
	return sanzhiv1.StabilityLevel_STABILITY_LEVEL_UNSPECIFIED
}
