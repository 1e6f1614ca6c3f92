package credit

import (
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	examples "github.com/sanzhi/sanzhi/examples/policies"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/scoring/assess"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

func planPolicy(t *testing.T) *rules.Policy {
	t.Helper()
	doc, err := examples.FS.ReadFile(examples.TongxiangFile)
	require.NoError(t, err)
	p, err := rules.Parse(doc, nil)
	require.NoError(t, err)
	return p
}

// parts is an eligible household of village 330483102215 as of 2026-06-15.
func planParts(credit string) assess.Parts {
	d := decimal.RequireFromString
	h := &household.Household{ID: "01b00000-0000-7000-8000-000000000042", Village: "330483102215",
		Facts: household.Facts{Members: 4, Labourers: 2, AnnualIncome: d("150000"), LandAreaMu: d("3"),
			CollectiveShares: d("10"), ExistingDebt: d("0")}}
	return assess.Parts{Household: h, ApplicantBirth: time.Date(1975, 3, 1, 0, 0, 0, 0, household.Shanghai),
		Points: points.Balance{AsOf: "2026-06-15", Credit: d(credit), ByDomain: map[points.Domain]decimal.Decimal{
			points.Virtue: d("12"), points.SelfGovernance: d("6"), points.RuleOfLaw: d("3")}},
		Standing: evidence.Standing{AsOf: "2026-06-15", Star: &evidence.Evidence{Level: evidence.LevelVillage, Stars: 3}}}
}

var planNow = time.Date(2026, 6, 15, 4, 0, 0, 0, time.UTC) // noon in Asia/Shanghai

func planLine(bank, product, limit, drawn string, status lending.Status, version int) *Line {
	d := decimal.RequireFromString
	return &Line{Line: lending.Line{ID: "line-" + bank + "-" + product, Household: "villages/330483102215/households/01b00000-0000-7000-8000-000000000042",
		Bank: bank, Limit: d(limit), Drawn: d(drawn), Rate: d("0.05"), Status: status, ValidUntil: "2027-01-01",
		DecisionID: "old", Version: version}, Product: product, Village: "330483102215",
		HouseholdID: "01b00000-0000-7000-8000-000000000042"}
}

func TestPlanAssessment(t *testing.T) {
	pol := planPolicy(t)
	in := PlanInput{Policy: pol, Bank: pol.Bank, Product: pol.Product, Parts: planParts("130"), Actor: "sanzhid", Now: planNow}

	// No line yet: the plan opens one.
	open, err := PlanAssessment(in)
	require.NoError(t, err)
	require.True(t, open.Opened)
	d := open.Decision
	assert.True(t, d.Eligible, "knock-outs %v declines %v", d.Explanation.KnockOuts, d.Explanation.Declines)
	assert.NotEmpty(t, d.Explanation.Reasons)
	assert.Equal(t, d.ID, open.Line.DecisionID)
	assert.True(t, open.Line.Limit.Equal(d.Limit))
	assert.True(t, open.Line.Drawn.IsZero())
	assert.Equal(t, 1, open.Line.Version)
	assert.Equal(t, lending.StatusActive, open.Line.Status)
	assert.Equal(t, EventLineOpened, open.Event.Type)
	assert.Equal(t, open.Line.ID, open.Event.LineID)
	in2, err := rules.DecodeInput([]byte(d.Input))
	require.NoError(t, err)
	assert.Equal(t, d.InputHash, in2.Hash(), "the stored input is the hashed one")

	// A frozen line with money drawn: updated, still frozen, drawn kept;
	// the other bank's line only reaches the policy as an aggregate.
	frozen := planLine(pol.Bank, pol.Product, "50000", "1234.56", lending.StatusFrozen, 7)
	frozen.FreezeReason = FreezeBlacklisted
	other := planLine("haining-rcb", pol.Product, "20000", "5000", lending.StatusActive, 3)
	in.Lines = []*Line{frozen, other}
	up, err := PlanAssessment(in)
	require.NoError(t, err)
	assert.False(t, up.Opened)
	assert.Equal(t, 7, up.PrevVersion)
	assert.Equal(t, 8, up.Line.Version)
	assert.Equal(t, lending.StatusFrozen, up.Line.Status)
	assert.Equal(t, FreezeBlacklisted, up.Line.FreezeReason)
	assert.Equal(t, "1234.56", up.Line.Drawn.StringFixed(2))
	assert.Equal(t, frozen.ID, up.Line.ID)
	assert.Equal(t, EventLineUpdated, up.Event.Type)
	snap, err := rules.DecodeInput([]byte(up.Decision.Input))
	require.NoError(t, err)
	assert.Equal(t, "20000", snap.OtherBanks.TotalLimit.String())
	assert.Equal(t, "5000", snap.OtherBanks.TotalDrawn.String())
	assert.Equal(t, "1234.56", frozen.Drawn.StringFixed(2), "the locked line is not changed in place")

	// A closed line takes no decision.
	closed := planLine(pol.Bank, pol.Product, "0", "0", lending.StatusClosed, 9)
	in.Lines = []*Line{closed}
	_, err = PlanAssessment(in)
	assert.Equal(t, lending.ReasonLineClosed, planReason(err))
}

func planReason(err error) string {
	var f *fault.Error
	if errors.As(err, &f) {
		return f.Reason
	}
	return ""
}

// TestOutcomeReplay: a decision planned with Outcome keeps the outcome,
// knock-outs and declines, and Replay gives back exactly the explanation
// a full evaluation stores; a tampered decision does not replay.
func TestOutcomeReplay(t *testing.T) {
	pol := planPolicy(t)
	for _, credit := range []string{"20", "90", "130", "400"} {
		in := PlanInput{Policy: pol, Bank: pol.Bank, Product: pol.Product, Parts: planParts(credit), Actor: "sanzhid", Now: planNow}
		full, err := PlanAssessment(in)
		require.NoError(t, err)
		in.Outcome = true
		brief, err := PlanAssessment(in)
		require.NoError(t, err)
		f, b := full.Decision, brief.Decision
		assert.Equal(t, f.InputHash, b.InputHash, credit)
		assert.Equal(t, f.Input, b.Input, credit)
		assert.Equal(t, []any{f.Eligible, f.Score, f.Grade, f.Limit.String(), f.Rate.String(), f.ValidUntil},
			[]any{b.Eligible, b.Score, b.Grade, b.Limit.String(), b.Rate.String(), b.ValidUntil}, credit)
		assert.Equal(t, f.Explanation.KnockOuts, b.Explanation.KnockOuts, credit)
		assert.Equal(t, f.Explanation.Declines, b.Explanation.Declines, credit)
		assert.Empty(t, b.Explanation.Reasons)
		assert.Empty(t, b.Explanation.Counterfactuals)
		require.True(t, needsReplay(b))

		e, err := Replay(pol, b)
		require.NoError(t, err)
		assert.Equal(t, f.Explanation, e, "credit %s: the replay is the full evaluation's explanation", credit)

		tampered := *b
		tampered.Score++
		_, err = Replay(pol, &tampered)
		assert.Equal(t, "DECISION_REPLAY", planReason(err))
		tampered = *b
		tampered.Input = `{"format":"nope"}`
		_, err = Replay(pol, &tampered)
		assert.Equal(t, "DECISION_REPLAY", planReason(err))
	}
}

// BenchmarkReplay is what reading a decision a run stored costs on top of
// the read: decoding its input and evaluating it with the explanation.
func BenchmarkReplay(b *testing.B) {
	doc, err := examples.FS.ReadFile(examples.TongxiangFile)
	require.NoError(b, err)
	pol, err := rules.Parse(doc, nil)
	require.NoError(b, err)
	plan, err := PlanAssessment(PlanInput{Policy: pol, Bank: pol.Bank, Product: pol.Product, Parts: planParts("130"),
		Actor: "sanzhid", Now: planNow, Outcome: true})
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Replay(pol, plan.Decision); err != nil {
			b.Fatal(err)
		}
	}
}
