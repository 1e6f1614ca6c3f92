package rpc

import (
	"context"
	"errors"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sanzhi/sanzhi/access"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/dividend"
	"github.com/sanzhi/sanzhi/scoring/docver"
)

// Dividends serves sanzhi.v1.DividendService: convert, call the dividend
// service once, convert back.
type Dividends struct {
	sanzhiv1.UnimplementedDividendServiceServer
	svc *dividend.Service
}

// NewDividends returns the handler over svc.
func NewDividends(svc *dividend.Service) *Dividends { return &Dividends{svc: svc} }

func (s *Dividends) UploadDividendRule(ctx context.Context, req *sanzhiv1.UploadDividendRuleRequest) (*sanzhiv1.DividendRule, error) {
	v, err := s.svc.UploadRule(ctx, access.FromContext(ctx), req.GetParent(), []byte(req.GetDocument()))
	if err != nil {
		return nil, err
	}
	return DividendRuleOut(v), nil
}

func (s *Dividends) LintDividendRule(_ context.Context, req *sanzhiv1.LintDividendRuleRequest) (*sanzhiv1.LintDividendRuleResponse, error) {
	r, err := dividend.ParseRule([]byte(req.GetDocument()))
	var le dividend.LintErrors
	if errors.As(err, &le) {
		out := &sanzhiv1.LintDividendRuleResponse{}
		for _, p := range le {
			out.Problems = append(out.Problems, &sanzhiv1.DividendRuleProblem{
				Line: int32(p.Line), Column: int32(p.Column), Path: p.Path, Message: p.Message})
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	return &sanzhiv1.LintDividendRuleResponse{Valid: true, VillageCode: r.Village, Version: int32(r.Version), ContentHash: r.Hash}, nil
}

func (s *Dividends) ActivateDividendRule(ctx context.Context, req *sanzhiv1.ActivateDividendRuleRequest) (*sanzhiv1.DividendRule, error) {
	v, err := s.svc.ActivateRule(ctx, access.FromContext(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return DividendRuleOut(v), nil
}

func (s *Dividends) GetDividendRule(ctx context.Context, req *sanzhiv1.GetDividendRuleRequest) (*sanzhiv1.DividendRule, error) {
	v, err := s.svc.GetRule(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return DividendRuleOut(v), nil
}

func (s *Dividends) ListDividendRules(ctx context.Context, req *sanzhiv1.ListDividendRulesRequest) (*sanzhiv1.ListDividendRulesResponse, error) {
	page, err := s.svc.ListRules(ctx, req.GetParent(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &sanzhiv1.ListDividendRulesResponse{NextPageToken: page.NextToken}
	for _, v := range page.Versions {
		out.Rules = append(out.Rules, DividendRuleOut(v))
	}
	return out, nil
}

func (s *Dividends) CreateRound(ctx context.Context, req *sanzhiv1.CreateRoundRequest) (*sanzhiv1.DividendRound, error) {
	r := req.GetRound()
	out, err := s.svc.CreateRound(ctx, access.FromContext(ctx), dividend.CreateInput{
		Parent: req.GetParent(), Title: r.GetTitle(), Pool: r.GetPool(), RecordDate: r.GetRecordDate(),
		RuleVersion: int(r.GetRuleVersion()), RequestID: req.GetRequestId(),
	})
	if err != nil {
		return nil, err
	}
	return RoundOut(out), nil
}

func (s *Dividends) GetRound(ctx context.Context, req *sanzhiv1.GetRoundRequest) (*sanzhiv1.DividendRound, error) {
	r, err := s.svc.GetRound(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return RoundOut(r), nil
}

func (s *Dividends) ListRounds(ctx context.Context, req *sanzhiv1.ListRoundsRequest) (*sanzhiv1.ListRoundsResponse, error) {
	page, err := s.svc.ListRounds(ctx, req.GetParent(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &sanzhiv1.ListRoundsResponse{NextPageToken: page.NextToken}
	for _, r := range page.Rounds {
		out.Rounds = append(out.Rounds, RoundOut(r))
	}
	return out, nil
}

func (s *Dividends) ReviewRound(ctx context.Context, req *sanzhiv1.ReviewRoundRequest) (*sanzhiv1.DividendRound, error) {
	r, err := s.svc.ReviewRound(ctx, access.FromContext(ctx), req.GetName(),
		req.GetDecision() == sanzhiv1.RoundDecision_ROUND_DECISION_APPROVE, req.GetReason())
	if err != nil {
		return nil, err
	}
	return RoundOut(r), nil
}

func (s *Dividends) ApproveRound(ctx context.Context, req *sanzhiv1.ApproveRoundRequest) (*sanzhiv1.DividendRound, error) {
	r, err := s.svc.ApproveRound(ctx, access.FromContext(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return RoundOut(r), nil
}

func (s *Dividends) ObjectToAllocation(ctx context.Context, req *sanzhiv1.ObjectToAllocationRequest) (*sanzhiv1.DividendObjection, error) {
	o, err := s.svc.Object(ctx, access.FromContext(ctx), req.GetRound(), req.GetHousehold(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return ObjectionOut(o), nil
}

func (s *Dividends) ListObjections(ctx context.Context, req *sanzhiv1.ListObjectionsRequest) (*sanzhiv1.ListObjectionsResponse, error) {
	list, err := s.svc.ListObjections(ctx, req.GetParent())
	if err != nil {
		return nil, err
	}
	out := &sanzhiv1.ListObjectionsResponse{}
	for _, o := range list {
		out.Objections = append(out.Objections, ObjectionOut(o))
	}
	return out, nil
}

func (s *Dividends) ResolveObjection(ctx context.Context, req *sanzhiv1.ResolveObjectionRequest) (*sanzhiv1.DividendObjection, error) {
	o, err := s.svc.ResolveObjection(ctx, access.FromContext(ctx), req.GetName(),
		req.GetOutcome() == sanzhiv1.ObjectionOutcome_OBJECTION_OUTCOME_UPHOLD, req.GetReason())
	if err != nil {
		return nil, err
	}
	return ObjectionOut(o), nil
}

func (s *Dividends) ListAllocations(ctx context.Context, req *sanzhiv1.ListAllocationsRequest) (*sanzhiv1.ListAllocationsResponse, error) {
	page, err := s.svc.ListRows(ctx, req.GetParent(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	village, _, _ := dividend.ParseRoundName(req.GetParent(), "parent")
	out := &sanzhiv1.ListAllocationsResponse{NextPageToken: page.NextToken}
	for _, r := range page.Rows {
		out.Allocations = append(out.Allocations, AllocationOut(village, r))
	}
	return out, nil
}

func (s *Dividends) GetStatement(ctx context.Context, req *sanzhiv1.GetStatementRequest) (*sanzhiv1.DividendStatement, error) {
	st, err := s.svc.Statement(ctx, access.FromContext(ctx), req.GetRound(), req.GetHousehold())
	if err != nil {
		return nil, err
	}
	out := &sanzhiv1.DividendStatement{
		Round: RoundOut(st.Round), Allocation: AllocationOut(st.Round.Village, st.Row),
		SharesPercent: st.Rule.SharesPercent.String(), PointsPercent: st.Rule.PointsPercent.String(),
		PointsBalance: string(st.Rule.Balance), PointsAreas: st.Rule.Areas,
		SharesPool: st.SharesPool.StringFixed(2), PointsPool: st.PointsPool.StringFixed(2),
		SharesPart: st.SharesPart.StringFixed(2), PointsPart: st.PointsPart.StringFixed(2),
	}
	if st.Rule.Cap.IsPositive() {
		out.HouseholdCap = st.Rule.Cap.StringFixed(2)
	}
	for _, o := range st.Objections {
		out.Objections = append(out.Objections, ObjectionOut(o))
	}
	return out, nil
}

func (s *Dividends) ExportPayout(ctx context.Context, req *sanzhiv1.ExportPayoutRequest) (*sanzhiv1.ExportPayoutResponse, error) {
	p, err := s.svc.Payout(ctx, access.FromContext(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return &sanzhiv1.ExportPayoutResponse{FileName: p.FileName, Content: p.File, Sha256: p.SHA256,
		Lines: int32(p.Count), Total: dividend.Yuan(p.Total)}, nil
}

func (s *Dividends) VerifyRound(ctx context.Context, req *sanzhiv1.VerifyRoundRequest) (*sanzhiv1.VerifyRoundResponse, error) {
	v, err := s.svc.Verify(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return &sanzhiv1.VerifyRoundResponse{
		Round: RoundOut(v.Round), ReplayedHash: v.Replayed, Identical: v.Identical,
		LedgerHash: v.Ledger, LedgerIdentical: v.LedgerIdentical, LedgerError: v.LedgerError,
		Changed: v.Changed, ChangedCount: int32(v.ChangedCount),
	}, nil
}

func optTS(t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return timestamppb.New(*t)
}

// DividendRuleOut converts a rule version to its API form.
func DividendRuleOut(v *dividend.RuleVersion) *sanzhiv1.DividendRule {
	return &sanzhiv1.DividendRule{
		Name: v.Name(), VillageCode: v.Village, Version: int32(v.Version), Title: v.Title,
		State: map[docver.State]sanzhiv1.DividendRuleState{
			docver.Draft: sanzhiv1.DividendRuleState_DIVIDEND_RULE_STATE_DRAFT, docver.Active: sanzhiv1.DividendRuleState_DIVIDEND_RULE_STATE_ACTIVE,
			docver.Superseded: sanzhiv1.DividendRuleState_DIVIDEND_RULE_STATE_SUPERSEDED,
		}[v.State],
		Document: v.Document, ContentHash: v.ContentHash, UploadedBy: v.UploadedBy, UploadTime: timestamppb.New(v.UploadTime),
		ActivatedBy: v.ActivatedBy, ActivateTime: optTS(v.ActivateTime), SupersedeTime: optTS(v.SupersedeTime),
	}
}

var roundStates = map[dividend.State]sanzhiv1.DividendRoundState{
	dividend.Draft: sanzhiv1.DividendRoundState_DIVIDEND_ROUND_STATE_DRAFT, dividend.Rejected: sanzhiv1.DividendRoundState_DIVIDEND_ROUND_STATE_REJECTED,
	dividend.OnNotice: sanzhiv1.DividendRoundState_DIVIDEND_ROUND_STATE_ON_NOTICE, dividend.Approved: sanzhiv1.DividendRoundState_DIVIDEND_ROUND_STATE_APPROVED,
	dividend.Withdrawn: sanzhiv1.DividendRoundState_DIVIDEND_ROUND_STATE_WITHDRAWN,
}

// RoundOut converts a round to its API form.
func RoundOut(r *dividend.Round) *sanzhiv1.DividendRound {
	return &sanzhiv1.DividendRound{
		Name: r.Name(), Title: r.Title, Pool: r.Pool.StringFixed(2), RecordDate: string(r.RecordDate),
		RuleVersion: int32(r.RuleVersion), VillageCode: r.Village, RuleContentHash: r.RuleHash, State: roundStates[r.State],
		Households: int32(r.Households), PaidHouseholds: int32(r.Paid),
		TotalShares: r.TotalShares.String(), TotalPoints: r.TotalPoints.String(), AllocationHash: r.AllocationHash,
		CreatedBy: r.CreatedBy, CreateTime: timestamppb.New(r.CreateTime),
		ReviewedBy: r.ReviewedBy, ReviewTime: optTS(r.ReviewTime), ReviewReason: r.ReviewReason,
		NoticeStart: string(r.NoticeStart), NoticeEnd: string(r.NoticeEnd),
		ApprovedBy: r.ApprovedBy, ApproveTime: optTS(r.ApproveTime),
		WithdrawnBy: r.WithdrawnBy, WithdrawTime: optTS(r.WithdrawTime), WithdrawReason: r.WithdrawReason,
		OpenObjections: int32(r.OpenObjections),
	}
}

// ObjectionOut converts an objection to its API form.
func ObjectionOut(o *dividend.Objection) *sanzhiv1.DividendObjection {
	return &sanzhiv1.DividendObjection{
		Name: o.Name(), Household: o.HouseholdName(), Reason: o.Reason, ObjectedBy: o.ObjectedBy,
		ObjectTime: timestamppb.New(o.ObjectTime),
		State: map[dividend.ObjectionState]sanzhiv1.ObjectionState{
			dividend.Open: sanzhiv1.ObjectionState_OBJECTION_STATE_OPEN, dividend.Dismissed: sanzhiv1.ObjectionState_OBJECTION_STATE_DISMISSED,
			dividend.Upheld: sanzhiv1.ObjectionState_OBJECTION_STATE_UPHELD,
		}[o.State],
		ResolvedBy: o.ResolvedBy, ResolveTime: optTS(o.ResolveTime), ResolveReason: o.ResolveReason,
	}
}

// AllocationOut converts one line of a round of village.
func AllocationOut(village string, r *dividend.Row) *sanzhiv1.DividendAllocation {
	return &sanzhiv1.DividendAllocation{
		Household: resource.Household(village, r.Household), HeadName: r.HeadName, Group: r.Group,
		Shares: r.Shares.String(), Points: r.Points.String(), BlackListed: r.BlackListed,
		CountedShares: r.CountedShares.String(), CountedPoints: r.CountedPoints.String(),
		Excluded: string(r.Excluded), Capped: r.Capped, Amount: dividend.Yuan(r.Amount),
	}
}
