package credit

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/scoring/rules"
)

func steps(ss ...StoredStep) *Decision {
	return &Decision{Kind: Automated, Explanation: Explanation{LimitSteps: ss}}
}

func bindingOf(ws []WorkingStep) []string {
	var out []string
	for _, w := range ws {
		if w.Binding {
			out = append(out, w.Step+":"+w.ID)
		}
	}
	return out
}

// The step that binds is the last cap or floor that lowered the amount
// (a rounding is not a bound); the minimum or an override decides alone.
func TestWorkingBinding(t *testing.T) {
	base := StoredStep{Step: rules.StepBase, ID: "B", Amount: "50000", Result: "50000"}
	adj := StoredStep{Step: rules.StepAdjustment, ID: "points", Amount: "5000", Result: "55000"}
	product := StoredStep{Step: rules.StepCap, ID: "product_max", Amount: "52000", Result: "52000"}
	income := StoredStep{Step: rules.StepCap, ID: "income_multiple", Amount: "41500.5", Result: "41500.5"}
	round := StoredStep{Step: rules.StepRound, ID: "1000", Amount: "-500.5", Result: "41000"}
	for name, c := range map[string]struct {
		d    *Decision
		want []string
	}{
		"no bound":        {steps(base, adj), nil},
		"one cap":         {steps(base, adj, product), []string{"cap:product_max"}},
		"the last cap":    {steps(base, adj, product, income, round), []string{"cap:income_multiple"}},
		"floor":           {steps(base, StoredStep{Step: rules.StepExistingDebt, Amount: "-60000", Result: "-10000"}, StoredStep{Step: rules.StepFloor, Amount: "10000", Result: "0"}), []string{"floor:"}},
		"below minimum":   {steps(base, product, StoredStep{Step: rules.StepMinimum, Amount: "60000", Result: "0"}), []string{"minimum:"}},
		"nothing to show": {steps(), nil},
	} {
		assert.Equal(t, c.want, bindingOf(Working(c.d, nil)), name)
	}
	o := steps(base, adj, product)
	o.Kind = Override
	ws := Working(o, nil)
	assert.Equal(t, []string{"override:"}, bindingOf(ws), "an override decides, not the policy's cap")
	for _, w := range ws {
		assert.NotEmpty(t, w.Text.ZH)
		assert.NotEmpty(t, w.Text.EN)
	}
}

// From the first step resting on other banks' figures, amounts and
// running amounts are withheld, but for the outcome itself.
func TestWorkingWithholdsOtherBanks(t *testing.T) {
	d := steps(
		StoredStep{Step: rules.StepBase, ID: "C", Amount: "30000", Result: "30000"},
		StoredStep{Step: rules.StepCap, ID: CapTotalExposure, Amount: "20000.37", Result: "20000.37"},
		StoredStep{Step: rules.StepRound, ID: "1000", Amount: "-0.37", Result: "20000"},
	)
	ws := Working(d, nil)
	require.Len(t, ws, 3)
	assert.False(t, ws[0].AmountWithheld || ws[0].ResultWithheld, "the bank's own figures are shown")
	assert.True(t, ws[1].AmountWithheld && ws[1].ResultWithheld)
	assert.True(t, ws[1].Binding)
	assert.True(t, ws[2].AmountWithheld, "the rounding would give the room away")
	assert.False(t, ws[2].ResultWithheld, "the outcome is shown")

	// An adjustment whose input the page cannot know is withheld too.
	d = steps(StoredStep{Step: rules.StepBase, ID: "C", Amount: "30000", Result: "30000"},
		StoredStep{Step: rules.StepAdjustment, ID: "unknown", Amount: "-1234.56", Result: "28765.44"},
		StoredStep{Step: rules.StepRound, ID: "1000", Amount: "-765.44", Result: "28000"})
	ws = Working(d, nil)
	assert.True(t, ws[1].AmountWithheld)
	assert.True(t, ws[2].AmountWithheld)
	assert.False(t, ws[2].ResultWithheld)
}

// A decision stored before decisions kept their working gets it replayed
// on read when it has one to show; a batch decision is replayed whole.
func TestNeedsWorking(t *testing.T) {
	legacy := &Decision{Kind: Automated, Eligible: true, Explanation: Explanation{Reasons: []Text{{Code: "r"}}}}
	assert.True(t, needsWorking(legacy))
	assert.False(t, needsReplay(legacy))
	below := &Decision{Kind: Automated, Explanation: Explanation{Reasons: []Text{{Code: "r"}},
		Declines: []Text{{Code: rules.DeclineBelowMinimum}}}}
	assert.True(t, needsWorking(below))
	for name, d := range map[string]*Decision{
		"knocked out":    {Kind: Automated, Explanation: Explanation{KnockOuts: []Text{{Code: "k"}}}},
		"grade declined": {Kind: Automated, Explanation: Explanation{Declines: []Text{{Code: rules.DeclineGradeNotEligible}}}},
		"kept":           steps(StoredStep{Step: rules.StepBase, ID: "A", Amount: "1", Result: "1"}),
		"override":       {Kind: Override, Eligible: true},
	} {
		assert.False(t, needsWorking(d), name)
	}
}
