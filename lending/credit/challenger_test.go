package credit

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	examples "github.com/sanzhi/sanzhi/examples/policies"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// challengerPolicy is the example policy as version 2 with a minimum
// line of ¥60,000 instead of ¥10,000: smaller lines decline under it.
func challengerPolicy(t *testing.T) *rules.Policy {
	t.Helper()
	doc, err := examples.FS.ReadFile(examples.TongxiangFile)
	require.NoError(t, err)
	s := strings.Replace(string(doc), "\nversion: 1\n", "\nversion: 2\n", 1)
	s = strings.Replace(s, "\n  min_amount: 10000\n", "\n  min_amount: 60000\n", 1)
	p, err := rules.Parse([]byte(s), nil)
	require.NoError(t, err)
	require.Equal(t, 2, p.Version)
	return p
}

// planBytes is the plan's decision, line and event as stored, with the
// random ids made equal so that two plans compare byte for byte.
func planBytes(t *testing.T, p *Plan) []byte {
	t.Helper()
	d, l, ev := *p.Decision, *p.Line, *p.Event
	ids := strings.NewReplacer(d.ID, "d", l.ID, "l", ev.ID, "e")
	d.ID, l.ID, l.DecisionID, ev.ID, ev.LineID = "d", "l", "d", "e", "l"
	ev.Payload = []byte(ids.Replace(string(ev.Payload)))
	b, err := json.Marshal([]any{d, l, ev})
	require.NoError(t, err)
	return b
}

// TestShadowChangesNothing: a plan with a challenger carries its shadow,
// on the very input, and its decision, line and event are byte for byte
// those of the plan without one, full and outcome-only alike.
func TestShadowChangesNothing(t *testing.T) {
	pol, chal := planPolicy(t), challengerPolicy(t)
	for _, outcome := range []bool{false, true} {
		for _, credit := range []string{"20", "90", "130", "400"} {
			in := PlanInput{Policy: pol, Bank: pol.Bank, Product: pol.Product, Parts: planParts(credit), Actor: "sanzhid",
				Now: planNow, Outcome: outcome}
			without, err := PlanAssessment(in)
			require.NoError(t, err)
			assert.Nil(t, without.Shadow)
			in.Challenger = chal
			with, err := PlanAssessment(in)
			require.NoError(t, err)
			assert.Equal(t, string(planBytes(t, without)), string(planBytes(t, with)), "credit %s", credit)

			sh := with.Shadow
			require.NotNil(t, sh, credit)
			full := rules.Evaluate(chal, mustInput(t, with.Decision.Input), with.Decision.On)
			assert.Equal(t, with.Decision.ID, sh.DecisionID)
			assert.Equal(t, []any{1, 2, chal.Hash()}, []any{sh.ChampionVersion, sh.ChallengerVersion, sh.PolicyHash})
			assert.Equal(t, []any{full.Eligible, full.Score, full.Grade, full.Limit.String(), full.Rate.String()},
				[]any{sh.Eligible, sh.Score, sh.Grade, sh.Limit.String(), sh.Rate.String()}, credit)
			var bins []int
			for _, c := range full.Characteristics {
				bins = append(bins, c.Bin)
			}
			assert.Equal(t, joinBins(bins), sh.Bins, "the bins of the full evaluation")
			assert.Len(t, strings.Split(sh.Bins, ","), len(chal.Characteristics))
			assert.Equal(t, with.Decision.Score, sh.Score, "only the minimum moved: the same score")
			assert.True(t, sh.Time.Equal(with.Decision.Time))
		}
	}
}

// TestShadowDiffers: the challenger's higher minimum declines a
// household the champion gives a smaller line.
func TestShadowDiffers(t *testing.T) {
	pol, chal := planPolicy(t), challengerPolicy(t)
	seen := 0
	for _, credit := range []string{"0", "20", "50", "90", "130", "200", "400"} {
		p, err := PlanAssessment(PlanInput{Policy: pol, Bank: pol.Bank, Product: pol.Product, Parts: planParts(credit),
			Actor: "sanzhid", Now: planNow, Challenger: chal})
		require.NoError(t, err)
		d := p.Decision
		small := d.Eligible && d.Limit.LessThan(decimal.NewFromInt(60000))
		if small {
			seen++
		}
		assert.Equal(t, d.Eligible && !small, p.Shadow.Eligible, "credit %s: limit %s", credit, d.Limit)
		assert.Equal(t, d.Grade, p.Shadow.Grade)
	}
	assert.NotZero(t, seen, "one of the households gets a line under ¥60,000 from the champion")
}

// TestShadowSkipped: no shadow for the champion itself or another
// product's policy; a challenger that panics is counted, not fatal.
func TestShadowSkipped(t *testing.T) {
	pol := planPolicy(t)
	in := PlanInput{Policy: pol, Bank: pol.Bank, Product: pol.Product, Parts: planParts("130"), Actor: "sanzhid", Now: planNow,
		Challenger: pol}
	p, err := PlanAssessment(in)
	require.NoError(t, err)
	assert.Nil(t, p.Shadow, "the champion does not shadow itself")
	other := *challengerPolicy(t)
	other.Product = "another-product"
	in.Challenger = &other
	p, err = PlanAssessment(in)
	require.NoError(t, err)
	assert.Nil(t, p.Shadow, "another product's policy")

	broken := *challengerPolicy(t)
	broken.Grades = nil // evaluation indexes the grades: it panics
	in.Challenger = &broken
	before := ShadowFailures()
	p, err = PlanAssessment(in)
	require.NoError(t, err)
	assert.Nil(t, p.Shadow)
	assert.True(t, p.Decision.Eligible)
	assert.Equal(t, before+1, ShadowFailures())
}

func mustInput(t *testing.T, canonical string) rules.Input {
	t.Helper()
	in, err := rules.DecodeInput([]byte(canonical))
	require.NoError(t, err)
	return in
}

// BenchmarkPlanShadow is planning one batch decision (outcome only)
// without and with a challenger: the shadow's evaluation (its outcome and
// bins) is the difference.
func BenchmarkPlanShadow(b *testing.B) {
	doc, err := examples.FS.ReadFile(examples.TongxiangFile)
	require.NoError(b, err)
	pol, err := rules.Parse(doc, nil)
	require.NoError(b, err)
	s := strings.Replace(string(doc), "\nversion: 1\n", "\nversion: 2\n", 1)
	chal, err := rules.Parse([]byte(s), nil)
	require.NoError(b, err)
	for _, c := range []*rules.Policy{nil, chal} {
		name := map[bool]string{true: "champion", false: "challenger"}[c == nil]
		b.Run(name, func(b *testing.B) {
			in := PlanInput{Policy: pol, Bank: pol.Bank, Product: pol.Product, Parts: planParts("130"), Actor: "sanzhid",
				Now: planNow, Outcome: true, Challenger: c}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := PlanAssessment(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
