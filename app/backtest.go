package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/modelreport"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/modelrisk"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/rules"
	"github.com/sanzhi/sanzhi/scoring/simulate"
)

// Back-testing a policy version (issue 16 §3, docs/MODEL-RISK.md): the
// version's observation decisions stream from the store with their
// outcomes (computed in SQL by the bad definition of the version's own
// document) into one modelrisk.Tally, which is compared with the reference
// population of the version's latest gate report. Each applicant's
// 身份证号 is opened for the fairness figures, read and dropped.

// BacktestRequest names the version and the report's date and form.
type BacktestRequest struct {
	Name string // banks/{bank}/products/{product}/policies/{n|active}
	AsOf string // YYYY-MM-DD; empty: today in Asia/Shanghai
	// Format is the rendering wanted besides the figures: "" (none),
	// "html" (a standalone page) or "csv".
	Format  string
	English bool
	// Local is the CLI's local operator (no key), who holds the database
	// and its key already: not put to the access policy, shown the bank's
	// (pooled) view.
	Local bool
}

// BacktestResult is the report and its rendering.
type BacktestResult struct {
	Report   *modelrisk.Report
	Rendered []byte
	// Full is true for a regulator's view: fairness groups are not pooled.
	Full bool
}

// Backtester runs back-tests.
type Backtester struct {
	Store    *sqlstore.Store
	Keyring  *pii.Keyring
	Policies *policies.Service
	Now      func() time.Time
}

// Backtest computes the back-test of req.Name as of req.AsOf and records
// it (policies.Backtest) before returning it.
//
// A version without decisions (or none up to the date) is a report with
// zero counts, not an error: "nothing to measure yet" is an answer. Bad
// input is INVALID_ARGUMENT (name, as_of malformed or in the future,
// format); a principal other than the version's bank's risk managers and
// the regulators is PERMISSION_DENIED before anything is read; a version
// that does not exist is NOT_FOUND.
func (b *Backtester) Backtest(ctx context.Context, req BacktestRequest) (*BacktestResult, error) {
	p := access.FromContext(ctx)
	if p == nil {
		return nil, fault.New(fault.Unauthenticated, "UNAUTHENTICATED", "a back-test needs a principal")
	}
	var v fault.Violations
	bank, _, _, err := policies.ParseName(req.Name, "name", true)
	if err != nil {
		return nil, err
	}
	today := household.Today(b.Now())
	day := today
	if req.AsOf != "" {
		d, err := household.ParseDate(req.AsOf)
		switch {
		case err != nil:
			v.Add("as_of", "%q is not a date in YYYY-MM-DD form", req.AsOf)
		case d.After(today):
			v.Add("as_of", "%s is in the future (today is %s in Asia/Shanghai)", d, today)
		default:
			day = d
		}
	}
	switch req.Format {
	case "", "html", "csv":
	default:
		v.Add("format", "must be html or csv (or empty for the figures only), got %q", req.Format)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !req.Local {
		if err := access.Authorise(p, access.PolicyBacktest, access.Target{Bank: bank}); err != nil {
			return nil, err
		}
	}
	ver, err := b.Policies.Get(ctx, req.Name)
	if err != nil {
		return nil, err
	}
	pol, err := rules.Parse([]byte(ver.Document), nil)
	if err != nil {
		return nil, fault.Wrap(err, fault.FailedPrecondition, "POLICY_UNREADABLE", "%s no longer passes validation", ver.Name())
	}
	report, err := b.compute(ctx, pol, day)
	if err != nil {
		return nil, err
	}
	full := p.Role == access.Regulator
	if !full {
		report.Fairness = simulate.PoolFairness(report.Fairness)
	}
	var figures bytes.Buffer
	if err := modelreport.WriteCSV(&figures, report, true); err != nil {
		return nil, fault.Wrap(err, fault.Internal, "INTERNAL", "cannot render the back-test")
	}
	var out []byte
	switch req.Format {
	case "csv":
		var buf bytes.Buffer
		if err := modelreport.WriteCSV(&buf, report, req.English); err != nil {
			return nil, fault.Wrap(err, fault.Internal, "INTERNAL", "cannot render the back-test")
		}
		out = buf.Bytes()
	case "html":
		out = BacktestPage(report, req.English)
	}
	rec := policies.Backtest{Bank: pol.Bank, Product: pol.Product, Version: pol.Version, ContentHash: pol.Hash(),
		AsOf: string(day), Format: req.Format, View: map[bool]string{true: "full", false: "aggregate"}[full],
		Decisions: report.Decisions, Outcomes: report.Outcomes, HasReference: report.HasReference,
		ReportSHA256: sha256Hex(figures.Bytes())}
	if out != nil {
		rec.OutputSHA256 = sha256Hex(out)
	}
	if err := b.Policies.RecordBacktest(ctx, p, rec); err != nil {
		return nil, err
	}
	return &BacktestResult{Report: report, Rendered: out, Full: full}, nil
}

// BacktestPage is the report as a standalone HTML page (the API's and
// the CLI's html format); the console embeds modelreport.HTML instead.
func BacktestPage(r *modelrisk.Report, en bool) []byte {
	title := "回测报告"
	lang := "zh-CN"
	if en {
		title, lang = "Back-test report", "en"
	}
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html lang=\"" + lang + "\"><head><meta charset=\"utf-8\"><title>" + title + "</title></head><body>\n")
	b.WriteString(string(modelreport.HTML(r, en)))
	b.WriteString("\n</body></html>\n")
	return b.Bytes()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// compute streams the version's decisions into a tally and reports on
// them against the version's reference population.
func (b *Backtester) compute(ctx context.Context, pol *rules.Policy, day household.Date) (*modelrisk.Report, error) {
	t, err := modelrisk.NewTally(modelrisk.SpecOf(pol), modelrisk.DefaultConfig(day))
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "INTERNAL", "cannot back-test %s/%s v%d", pol.Bank, pol.Product, pol.Version)
	}
	sealer := pii.Sealer{Keyring: b.Keyring}
	chal, shadows, err := b.shadows(ctx, pol)
	if err != nil {
		return nil, err
	}
	var pairs []modelrisk.ChallengerObservation
	var d modelrisk.Decision
	q := sqlstore.BacktestQuery{Bank: pol.Bank, Product: pol.Product, Version: pol.Version, AsOf: day,
		WindowMonths: pol.Backtest.WindowMonths, Bad: pol.Backtest.Bad}
	err = b.Store.BacktestDecisions(ctx, q, func(r *sqlstore.BacktestRow) error {
		d.Score, d.Bins, d.Outcome = r.Score, r.Bins, r.Outcome
		if r.Bins == nil && len(pol.Characteristics) > 0 {
			// Stored before decisions kept their bins: score the stored
			// input again under the same version on the same day
			// (evaluation is pure; the replay of explanations does the same).
			in, err := rules.DecodeInput([]byte(r.Input))
			if err != nil {
				return fault.Wrap(err, fault.Internal, "DECISION_REPLAY", "decision %s: its stored input does not decode", r.ID)
			}
			d.Bins = rules.Outcome(pol, in, r.On).Bins
		}
		if sh, ok := shadows[r.ID]; ok {
			pairs = append(pairs, modelrisk.ChallengerObservation{ChampionScore: r.Score, ChallengerScore: sh.score,
				ChampionApproved: r.Eligible, ChallengerApproved: sh.eligible,
				Observed: r.Outcome != modelrisk.NoOutcome, Bad: r.Outcome == modelrisk.Bad})
		}
		d.Applicant = modelrisk.Applicant{Village: r.Village, Approved: r.Eligible}
		if r.Eligible {
			d.Limit, d.Rate = r.Limit, r.Rate
		}
		if r.ApplicantID.KeyID != "" {
			id, err := sealer.Open(r.HouseholdID, r.ApplicantID)
			if err != nil {
				return fault.Wrap(err, fault.Internal, "INTERNAL", "cannot open an applicant's number for the fairness figures")
			}
			d.ID = id
		} else {
			d.ID = idnum.PersonID{}
		}
		if err := t.Add(&d); err != nil {
			return fault.Wrap(err, fault.Internal, "INTERNAL", "decision %s does not fit policy version %d", r.ID, pol.Version)
		}
		d.ID = idnum.PersonID{} // dropped
		return nil
	})
	if err != nil {
		return nil, err
	}
	ref, err := b.Store.PolicyGateReference(ctx, pol.Bank, pol.Product, pol.Version)
	if err != nil {
		return nil, err
	}
	if ref != nil && ref.Decisions == 0 {
		// A version activated over an empty county (a new deployment)
		// has a reference of nobody: nothing to measure stability against.
		ref = nil
	}
	r, err := t.Report(ref)
	if err != nil || chal == 0 {
		return r, err
	}
	cmp, err := modelrisk.CompareChallenger(func(yield func(modelrisk.ChallengerObservation, error) bool) {
		for _, o := range pairs {
			if !yield(o, nil) {
				return
			}
		}
	})
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "INTERNAL", "cannot compare challenger v%d with v%d", chal, pol.Version)
	}
	r.ChallengerVersion, r.Challenger = chal, cmp
	return r, nil
}

// shadow is what the comparison needs of a challenger's shadow decision.
type shadow struct {
	score    int
	eligible bool
}

// shadows reads the shadow decisions of the product's current challenger
// (issue 16 §6) on pol's decisions, by decision id, so the back-test
// compares the two versions on the same observation decisions with the
// same outcomes. No challenger, or one that shadowed none of pol's
// decisions: 0 and nothing. The map holds only shadowed decisions, two
// words each: a challenger shadows a product for weeks, not for a
// million households' history.
func (b *Backtester) shadows(ctx context.Context, pol *rules.Policy) (int, map[string]shadow, error) {
	chal, err := b.Store.ChallengerVersion(ctx, pol.Bank, pol.Product)
	if err != nil || chal == 0 || chal == pol.Version {
		return 0, nil, err
	}
	out := map[string]shadow{}
	for p, err := range b.Store.ShadowPairs(ctx, pol.Bank, pol.Product, pol.Version, chal) {
		if err != nil {
			return 0, nil, err
		}
		out[p.DecisionID] = shadow{score: p.Score, eligible: p.Eligible}
	}
	if len(out) == 0 {
		return 0, nil, nil
	}
	return chal, out, nil
}
