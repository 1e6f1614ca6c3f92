package rules

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Property tests: random households (seeded, so a failure reproduces)
// evaluated under the example policy. Values are drawn near the bin edges
// and knock-out thresholds as often as anywhere, since that is where
// mistakes live.

const iterations = 3000

// gen draws a random household.
type gen struct{ r *rand.Rand }

func newGen(seed uint64) gen { return gen{rand.New(rand.NewPCG(seed, 0x5a3f))} }

// num draws a decimal in [lo, hi] with up to two decimal places, or one
// of edges (nudged by ±0.01 or not) a third of the time.
func (g gen) num(lo, hi int64, edges ...int64) decimal.Decimal {
	if len(edges) > 0 && g.r.IntN(3) == 0 {
		e := decimal.NewFromInt(edges[g.r.IntN(len(edges))])
		return e.Add(decimal.New(int64(g.r.IntN(3)-1), -2))
	}
	v := lo + g.r.Int64N(hi-lo+1)
	if g.r.IntN(2) == 0 {
		return decimal.New(v*100+int64(g.r.IntN(100)), -2)
	}
	return decimal.NewFromInt(v)
}

func (g gen) pick(n int) bool { return g.r.IntN(100) < n }

func (g gen) input() Input {
	var in Input
	in.Points.SelfGovernance = g.num(-10, 30, 0, 10)
	in.Points.RuleOfLaw = g.num(-10, 20, 0, 5)
	in.Points.Virtue = g.num(-10, 60, 0, 10, 20, 30)
	// The credit total is base 100 plus the domains plus some noise.
	in.Points.Credit = decimal.NewFromInt(100).Add(in.Points.SelfGovernance).Add(in.Points.RuleOfLaw).Add(in.Points.Virtue).
		Add(g.num(-60, 20))
	in.Star.Level = []StarLevel{"", StarNone, StarVillage, StarTown, StarCounty}[g.r.IntN(5)]
	in.Star.Stars = g.r.IntN(6)
	in.Blacklisted = g.pick(4)
	in.Facts.IncomePerCapita = g.num(0, 100000, 20000, 40000, 60000)
	in.Facts.AnnualIncome = g.num(0, 400000, 10000, 50000)
	in.Facts.Labourers = g.r.IntN(5)
	in.Facts.Members = in.Facts.Labourers + g.r.IntN(4)
	in.Facts.LandMu = g.num(0, 40, 2, 5, 20)
	if g.pick(50) {
		in.Facts.ExistingDebt = g.num(0, 700000, 50000, 150000, 300000, 500000)
	}
	in.Facts.DishonestDebtor = g.pick(3)
	if g.pick(25) {
		in.Repayment.OverdueDaysMax24m = g.r.IntN(200)
		in.Repayment.OverdueCount24m = g.r.IntN(9)
		in.Repayment.OverdueDaysMax12m = g.r.IntN(in.Repayment.OverdueDaysMax24m + 1)
		in.Repayment.OverdueCount12m = g.r.IntN(in.Repayment.OverdueCount24m + 1)
		in.Repayment.Classification = Classifications[g.r.IntN(len(Classifications))]
		in.Repayment.Defaulted24m = g.pick(30)
	}
	in.Applicant.Age = 15 + g.r.IntN(60)
	if g.pick(60) {
		in.Recommendation = RecommendationInput{Present: true, Creditworthy: g.pick(85), Amount: g.num(0, 200000)}
	}
	in.OtherBanks.TotalLimit = g.num(0, 500000, 450000)
	in.OtherBanks.TotalDrawn = g.num(0, 400000, 300000)
	for _, code := range []string{"FZ-PA-06", "FZ-PA-08", "FZ-PA-15"} {
		if g.pick(3) {
			if in.Items == nil {
				in.Items = map[string]decimal.Decimal{}
			}
			in.Items[code] = decimal.NewFromInt(-int64(1 + g.r.IntN(40)))
		}
	}
	return in
}

// Raising governance points, all else equal, never lowers the score or
// the limit (every characteristic on points is monotone increasing, base
// amounts never fall as grades improve, adjustments on points are
// non-negative per point).
func TestPropertyMorePointsNeverLowerTheLimit(t *testing.T) {
	p := examplePolicy(t)
	g := newGen(1)
	for i := range iterations {
		in := g.input()
		before := Evaluate(p, in, on)
		more := in
		more.Points.Credit = in.Points.Credit.Add(g.num(0, 80, 1, 5, 10))
		after := Evaluate(p, more, on)
		require.GreaterOrEqual(t, after.Score, before.Score, "iteration %d", i)
		require.True(t, after.Limit.GreaterThanOrEqual(before.Limit), "iteration %d: limit %s → %s with more points", i, before.Limit, after.Limit)
		if before.Eligible {
			require.True(t, after.Eligible, "iteration %d", i)
		}
	}
}

// The limit is never negative, never above any cap, a whole multiple of
// the rounding unit, and at least the minimum when eligible.
func TestPropertyLimitBounds(t *testing.T) {
	p := examplePolicy(t)
	l := p.Limit
	g := newGen(2)
	eligible := 0
	for i := range iterations {
		in := g.input()
		dec := Evaluate(p, in, on)
		lim := dec.Limit
		require.True(t, lim.Sign() >= 0, "iteration %d", i)
		require.True(t, lim.LessThanOrEqual(l.Caps.ProductMax), "iteration %d", i)
		require.True(t, lim.LessThanOrEqual(l.Caps.IncomeMultiple.Mul(in.Facts.AnnualIncome)), "iteration %d", i)
		require.True(t, lim.Add(in.OtherBanks.TotalLimit).LessThanOrEqual(l.Caps.TotalExposureMax) || lim.IsZero(), "iteration %d", i)
		_, rem := lim.QuoRem(l.RoundDownTo, 0)
		require.True(t, rem.IsZero(), "iteration %d: %s is not a multiple of %s", i, lim, l.RoundDownTo)
		if dec.Eligible {
			eligible++
			require.True(t, lim.GreaterThanOrEqual(l.MinAmount), "iteration %d", i)
			require.True(t, dec.Rate.Equal(p.Rates.ByGrade[dec.Grade].Rate), "iteration %d", i)
			require.True(t, p.Grades[p.gradeIndex(dec.Grade)].Eligible, "iteration %d", i)
			// The working adds up: base plus each step's amount, caps aside.
			require.Equal(t, StepBase, dec.LimitSteps[0].Step)
			require.True(t, dec.LimitSteps[len(dec.LimitSteps)-1].Result.Equal(lim), "iteration %d", i)
		} else {
			require.True(t, lim.IsZero(), "iteration %d", i)
			require.True(t, dec.Rate.IsZero(), "iteration %d", i)
			require.True(t, len(dec.KnockOuts)+len(dec.Declines) > 0, "iteration %d: ineligible without a reason", i)
		}
	}
	// The generator must exercise both outcomes, or the test proves little.
	assert.Greater(t, eligible, iterations/10)
	assert.Less(t, eligible, iterations*9/10)
}

// Knock-outs always win, and they never change the score.
func TestPropertyKnockOutsWin(t *testing.T) {
	p := examplePolicy(t)
	g := newGen(3)
	fired := 0
	for i := range iterations {
		in := g.input()
		dec := Evaluate(p, in, on)
		if len(dec.KnockOuts) > 0 {
			fired++
			require.False(t, dec.Eligible, "iteration %d", i)
			require.True(t, dec.Limit.IsZero(), "iteration %d", i)
		}
		// Forcing a knock-out that is not on the scorecard.
		black := in
		black.Blacklisted = true
		bd := Evaluate(p, black, on)
		require.False(t, bd.Eligible, "iteration %d", i)
		require.True(t, bd.Limit.IsZero(), "iteration %d", i)
		require.True(t, slices.ContainsFunc(bd.KnockOuts, func(k FiredKnockOut) bool { return k.ID == "black_list" }), "iteration %d", i)
		require.Equal(t, dec.Score, bd.Score, "iteration %d", i)
		require.Equal(t, dec.Grade, bd.Grade, "iteration %d", i)
	}
	assert.Greater(t, fired, iterations/20)
}

// Reasons: at most four, largest shortfall first, each a real shortfall,
// and none exactly when every characteristic is in its best bin.
func TestPropertyReasons(t *testing.T) {
	p := examplePolicy(t)
	g := newGen(4)
	for i := range iterations {
		dec := Evaluate(p, g.input(), on)
		allBest := true
		sum := 0
		for j, c := range dec.Characteristics {
			allBest = allBest && c.Points == c.BestPoints
			sum += c.Points
			require.Equal(t, p.Characteristics[j].Bins[c.Bin].Points, c.Points, "iteration %d", i)
		}
		require.Equal(t, sum, dec.Score, "iteration %d", i)
		require.Equal(t, allBest, len(dec.Reasons) == 0, "iteration %d", i)
		require.LessOrEqual(t, len(dec.Reasons), 4, "iteration %d", i)
		for j, r := range dec.Reasons {
			require.Positive(t, r.Shortfall, "iteration %d", i)
			require.Equal(t, r.BestPoints-r.Points, r.Shortfall, "iteration %d", i)
			require.NotEmpty(t, r.Text.ZH)
			require.NotEmpty(t, r.Text.EN)
			if j > 0 {
				require.GreaterOrEqual(t, dec.Reasons[j-1].Shortfall, r.Shortfall, "iteration %d", i)
			}
		}
		// No characteristic left out has a larger shortfall than one given.
		if n := len(dec.Reasons); n == 4 {
			for _, c := range dec.Characteristics {
				if !slices.ContainsFunc(dec.Reasons, func(r Reason) bool { return r.Code == c.ID }) {
					require.LessOrEqual(t, c.BestPoints-c.Points, dec.Reasons[3].Shortfall, "iteration %d", i)
				}
			}
		}
	}
}

// Counterfactuals, applied, really do what they say: the grade rises (or
// the knock-out clears), the limit changes by exactly the stated delta,
// and a smaller change of the same kind would not have done it.
func TestPropertyCounterfactuals(t *testing.T) {
	p := examplePolicy(t)
	g := newGen(5)
	seen := map[string]int{}
	for i := range iterations {
		in := g.input()
		dec := Evaluate(p, in, on)
		for _, cf := range dec.Counterfactuals {
			seen[cf.Kind+" "+cf.Input]++
			require.True(t, cf.To.Sub(cf.From).Equal(cf.Change), "iteration %d", i)
			spec := inputs[inputIndex[cf.Input]]
			require.Equal(t, spec.Direction, cf.Change.Sign(), "iteration %d: change against the input's direction", i)
			after := Evaluate(p, cf.Apply(in), on)
			require.Equal(t, cf.Grade, after.Grade, "iteration %d", i)
			require.Equal(t, cf.Eligible, after.Eligible, "iteration %d", i)
			require.True(t, after.Limit.Equal(cf.Limit), "iteration %d", i)
			require.True(t, after.Limit.Sub(dec.Limit).Equal(cf.LimitDelta), "iteration %d: stated delta %s, real %s",
				i, cf.LimitDelta, after.Limit.Sub(dec.Limit))
			smaller := cf
			smaller.Change = cf.Change.Sub(spec.Step.Mul(decimal.NewFromInt(int64(spec.Direction))))
			smaller.To = cf.From.Add(smaller.Change)
			less := Evaluate(p, smaller.Apply(in), on)
			switch cf.Kind {
			case LiftGrade:
				require.Less(t, p.gradeIndex(after.Grade), p.gradeIndex(dec.Grade), "iteration %d: grade not lifted", i)
				require.Empty(t, dec.KnockOuts)
				if smaller.Change.Sign() == spec.Direction {
					require.Equal(t, dec.Grade, less.Grade, "iteration %d: a smaller change already lifts", i)
				}
			case ClearKnockOut:
				has := func(d Decision) bool {
					return slices.ContainsFunc(d.KnockOuts, func(k FiredKnockOut) bool { return k.ID == cf.KnockOut })
				}
				require.True(t, has(dec), "iteration %d", i)
				require.False(t, has(after), "iteration %d: knock-out not cleared", i)
				if smaller.Change.Sign() == spec.Direction {
					require.True(t, has(less), "iteration %d: a smaller change already clears", i)
				}
			default:
				t.Fatalf("unknown kind %q", cf.Kind)
			}
		}
	}
	// Every kind of counterfactual the example allows must have been tried.
	for _, k := range []string{"lift_grade points.credit", "lift_grade points.virtue", "lift_grade points.rule_of_law",
		"lift_grade points.self_governance", "lift_grade facts.existing_debt", "clear_knockout points.credit",
		"clear_knockout facts.existing_debt"} {
		assert.Positive(t, seen[k], k)
	}
}

// Identical replay: the same pair gives the same bytes, also from a
// decoded input and a freshly parsed policy.
func TestPropertyReplay(t *testing.T) {
	p := examplePolicy(t)
	p2 := examplePolicy(t)
	g := newGen(6)
	for i := range iterations / 3 {
		in := g.input()
		a := Evaluate(p, in, on).Canonical()
		stored, err := DecodeInput(in.Canonical())
		require.NoError(t, err)
		require.Equal(t, in.Hash(), stored.Hash(), "iteration %d", i)
		b := Evaluate(p2, stored, on).Canonical()
		require.True(t, bytes.Equal(a, b), "iteration %d", i)
	}
}

// Outcome gives exactly Evaluate's outcome, without the explanation.
func TestPropertyOutcomeMatchesEvaluate(t *testing.T) {
	p := examplePolicy(t)
	g := newGen(11)
	for i := range 2000 {
		in := g.input()
		full, short := Evaluate(p, in, "2026-06-15"), Outcome(p, in, "2026-06-15")
		require.Equal(t, full.Eligible, short.Eligible, "case %d", i)
		require.Equal(t, full.Score, short.Score, "case %d", i)
		require.Equal(t, full.Grade, short.Grade, "case %d", i)
		require.True(t, full.Limit.Equal(short.Limit), "case %d: %s vs %s", i, full.Limit, short.Limit)
		require.True(t, full.Rate.Equal(short.Rate), "case %d", i)
		require.Equal(t, full.KnockOuts, short.KnockOuts, "case %d", i)
		require.Equal(t, full.Declines, short.Declines, "case %d", i)
		require.Equal(t, full.ValidUntil, short.ValidUntil, "case %d", i)
		require.Empty(t, short.Reasons)
		require.Empty(t, short.Counterfactuals)
	}
}
