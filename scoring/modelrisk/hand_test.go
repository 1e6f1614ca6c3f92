package modelrisk_test

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/scoring/modelrisk"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// Each case here is small enough to work out on paper; the working is in
// the comments.

const tol = 1e-6

func TestPerformanceByHand(t *testing.T) {
	// Bads score 1, 2, 3; goods 2, 3, 4, 5; three decisions without an
	// outcome (at 0, 3 and 10) must change nothing.
	ds := []*modelrisk.Decision{
		scored(1, modelrisk.Bad), scored(2, modelrisk.Bad), scored(3, modelrisk.Bad),
		scored(2, modelrisk.Good), scored(3, modelrisk.Good), scored(4, modelrisk.Good), scored(5, modelrisk.Good),
		scored(0, modelrisk.NoOutcome), scored(3, modelrisk.NoOutcome), scored(10, modelrisk.NoOutcome),
	}
	r := report(t, tally(t, handSpec(), modelrisk.DefaultConfig(asOf), ds...), nil)
	assert.EqualValues(t, 10, r.Decisions)
	assert.EqualValues(t, 7, r.Outcomes)
	assert.EqualValues(t, 4, r.Goods)
	assert.EqualValues(t, 3, r.Bads)
	p := r.Performance
	require.True(t, p.Measured)
	// AUC over the 4·3 = 12 (good, bad) pairs, each good counting the bads
	// below it and half those level with it:
	//   good 2: bad 1 below, bad 2 level → 1.5
	//   good 3: bads 1, 2 below, bad 3 level → 2.5
	//   good 4: 3;  good 5: 3
	//   AUC = (1.5 + 2.5 + 3 + 3) / 12 = 10/12 = 0.833333…
	assert.InDelta(t, 10.0/12, p.AUC, 1e-15)
	// Gini = 2·AUC − 1 = 8/12.
	assert.InDelta(t, 8.0/12, p.Gini, 1e-15)
	// Cumulative shares at or below each score (bad | good | gap):
	//   1: 1/3 | 0   | 1/3
	//   2: 2/3 | 1/4 | 5/12
	//   3: 1   | 2/4 | 1/2   ← KS
	//   4: 1   | 3/4 | 1/4
	//   5: 1   | 1   | 0
	assert.InDelta(t, 0.5, p.KS, 1e-15)
	assert.Equal(t, 3, p.KSScore)
	want := []modelrisk.KSPoint{{Score: 1, Bad: 1.0 / 3}, {Score: 2, Bad: 2.0 / 3, Good: 0.25},
		{Score: 3, Bad: 1, Good: 0.5}, {Score: 4, Bad: 1, Good: 0.75}, {Score: 5, Bad: 1, Good: 1}}
	require.Len(t, p.KSCurve, len(want))
	for i, w := range want {
		assert.Equal(t, w.Score, p.KSCurve[i].Score)
		assert.InDelta(t, w.Bad, p.KSCurve[i].Bad, 1e-15)
		assert.InDelta(t, w.Good, p.KSCurve[i].Good, 1e-15)
	}
	// The ROC is the same shares from (0,0); its trapezoids add up to the
	// AUC: 0 + ¼·(⅓+⅔)/2 + ¼·(⅔+1)/2 + ¼ + ¼ = 0.125 + 0.208333 + 0.5.
	require.Len(t, p.ROC, 6)
	assert.Equal(t, modelrisk.ROCPoint{}, p.ROC[0])
	area := 0.0
	for i := 1; i < len(p.ROC); i++ {
		area += (p.ROC[i].Good - p.ROC[i-1].Good) * (p.ROC[i].Bad + p.ROC[i-1].Bad) / 2
	}
	assert.InDelta(t, 0.125+0.25*(2.0/3+1)/2+0.5, area, 1e-12)
	assert.InDelta(t, p.AUC, area, 1e-12)
}

func TestPerformanceNeedsGoodsAndBads(t *testing.T) {
	for name, o := range map[string]modelrisk.Outcome{"only goods": modelrisk.Good, "only bads": modelrisk.Bad, "no outcomes": modelrisk.NoOutcome} {
		t.Run(name, func(t *testing.T) {
			r := report(t, tally(t, handSpec(), modelrisk.DefaultConfig(asOf), scored(2, o), scored(7, o)), nil)
			assert.False(t, r.Performance.Measured)
			assert.Zero(t, r.Performance.AUC)
			assert.Empty(t, r.Performance.ROC)
		})
	}
}

func TestWilsonByHand(t *testing.T) {
	// z = 1.959964, z² = 3.841459. For k of n: p̂ = k/n,
	//   centre = (p̂ + z²/2n) / (1 + z²/n)
	//   half   = z·√(p̂(1−p̂)/n + z²/4n²) / (1 + z²/n)
	cases := []struct {
		k, n    int64
		lo, hi  float64
		working string
	}{
		// 0/10: centre = 0.192073/1.384146 = 0.138766,
		// half = 1.959964·√(0.0096036)/1.384146 = 0.138766 → [0, 0.277533]
		{0, 10, 0, 0.277533, "no bads"},
		// 5/10: centre 0.5, half = 1.959964·√(0.025+0.0096036)/1.384146
		// = 0.364593/1.384146 = 0.263407 → [0.236593, 0.763407]
		{5, 10, 0.236593, 0.763407, "half"},
		// 1/20: centre = (0.05+0.096036)/1.192073 = 0.122506,
		// half = 1.959964·√(0.002375+0.0024009)/1.192073 = 0.113625
		{1, 20, 0.008881, 0.236131, "one in twenty"},
		// 10/10 mirrors 0/10.
		{10, 10, 0.722467, 1, "all bad"},
	}
	for _, c := range cases {
		lo, hi := modelrisk.Wilson(c.k, c.n, modelrisk.Z95)
		assert.InDelta(t, c.lo, lo, tol, c.working)
		assert.InDelta(t, c.hi, hi, tol, c.working)
	}
	lo, hi := modelrisk.Wilson(0, 0, modelrisk.Z95)
	assert.Equal(t, [2]float64{0, 1}, [2]float64{lo, hi}, "no trials: no information")
}

func TestCalibrationByHand(t *testing.T) {
	// Scaling: score 100 means odds 10:1 and every 20 points double them,
	// so the implied bad rate 1/(1+odds) is
	//   120: odds 20 → 1/21 = 0.047619
	//   100: odds 10 → 1/11 = 0.090909
	//    60: odds 10·2^-2 = 2.5 → 1/3.5 = 0.285714
	//    10: odds 10·2^-4.5 = 0.441942 → 1/1.441942 = 0.693509
	spec := testSpec(t)
	sc := spec.Scaling
	assert.InDelta(t, 1.0/21, sc.BadRate(120), 1e-15)
	assert.InDelta(t, 1.0/11, sc.BadRate(100), 1e-15)
	assert.InDelta(t, 1/3.5, sc.BadRate(60), 1e-15)
	assert.InDelta(t, 0.693509, sc.BadRate(10), tol)

	var ds []*modelrisk.Decision
	add := func(score, n int, o modelrisk.Outcome) {
		for range n {
			ds = append(ds, &modelrisk.Decision{Score: score, Bins: []int{0, 0}, Outcome: o, Applicant: modelrisk.Applicant{Village: "v"}})
		}
	}
	add(120, 10, modelrisk.Good) // A: 20 with an outcome, 1 bad
	add(100, 9, modelrisk.Good)
	add(100, 1, modelrisk.Bad)
	add(60, 2, modelrisk.Good) // B: 10, 8 bad
	add(60, 8, modelrisk.Bad)
	add(10, 5, modelrisk.NoOutcome) // D: no outcome at all
	r := report(t, tally(t, spec, modelrisk.DefaultConfig(asOf), ds...), nil)
	require.Len(t, r.Grades, 3)
	a, b, d := r.Grades[0], r.Grades[1], r.Grades[2]

	// A covers 100..120. 1 bad of 20: 0.05, Wilson [0.008881, 0.236131].
	// Implied: the mean over its 20 decisions, (10/21 + 10/11)/20 = 0.069264,
	// inside the interval.
	assert.Equal(t, "A", a.Grade)
	assert.Equal(t, [2]int{100, 120}, [2]int{a.Lo, a.Hi})
	assert.EqualValues(t, 20, a.Outcomes)
	assert.EqualValues(t, 1, a.Bads)
	assert.InDelta(t, 0.05, a.BadRate, 1e-15)
	assert.InDelta(t, 0.008881, a.Low, tol)
	assert.InDelta(t, 0.236131, a.High, tol)
	assert.InDelta(t, (10.0/21+10.0/11)/20, a.Implied, 1e-12)
	assert.InDelta(t, 1.0/11, a.ImpliedAtLo, 1e-12)
	assert.InDelta(t, 1.0/21, a.ImpliedAtHi, 1e-12)
	assert.False(t, a.Miscalibrated)
	assert.InDelta(t, 20.0/30, a.Share, 1e-15)

	// B covers 50..99. 8 bad of 10: 0.8, Wilson: centre 0.992073/1.384146 =
	// 0.716740, half 0.226578 → [0.490162, 0.943318]; implied 0.285714 is
	// below it: the grade is much worse than the scaling says.
	assert.Equal(t, [2]int{50, 99}, [2]int{b.Lo, b.Hi})
	assert.InDelta(t, 0.8, b.BadRate, 1e-15)
	assert.InDelta(t, 0.490162, b.Low, tol)
	assert.InDelta(t, 0.943318, b.High, tol)
	assert.InDelta(t, 1/3.5, b.Implied, 1e-12)
	assert.True(t, b.Miscalibrated)

	// D covers 0..49, has 5 decisions and no outcome: implied over its
	// decisions, interval [0, 1], never miscalibrated.
	assert.Equal(t, [2]int{0, 49}, [2]int{d.Lo, d.Hi})
	assert.EqualValues(t, 5, d.Decisions)
	assert.Zero(t, d.Outcomes)
	assert.InDelta(t, 0.693509, d.Implied, tol)
	assert.Equal(t, [2]float64{0, 1}, [2]float64{d.Low, d.High})
	assert.False(t, d.Miscalibrated)

	// All grades: 9 bad of 30 against the mean implied rate of the 30.
	assert.EqualValues(t, 35, r.Total.Decisions)
	assert.EqualValues(t, 30, r.Total.Outcomes)
	assert.EqualValues(t, 9, r.Total.Bads)
	assert.InDelta(t, (10.0/21+10.0/11+10/3.5)/30, r.Total.Implied, 1e-12)
}

func TestPSIByHand(t *testing.T) {
	spec := handSpec()
	cfg := modelrisk.DefaultConfig(asOf)
	bins := func(lo, hi int) []*modelrisk.Decision {
		var ds []*modelrisk.Decision
		for range lo {
			ds = append(ds, scored(0, modelrisk.NoOutcome))
		}
		for range hi {
			ds = append(ds, scored(9, modelrisk.NoOutcome))
		}
		return ds
	}
	t.Run("shift", func(t *testing.T) {
		// Reference 50/50, now 25/75:
		// (0.25−0.5)·ln(0.25/0.5) + (0.75−0.5)·ln(0.75/0.5)
		// = 0.25·0.693147 + 0.25·0.405465 = 0.274653 ≥ 0.25: shift.
		ref := tally(t, spec, cfg, bins(50, 50)...).Reference()
		r := report(t, tally(t, spec, cfg, bins(25, 75)...), &ref)
		require.Len(t, r.Characteristics, 1)
		c := r.Characteristics[0]
		assert.InDelta(t, 0.274653, c.Value, tol)
		assert.Equal(t, modelrisk.Shift, c.Level)
		assert.InDelta(t, 0.25*0.693147, c.Bins[0].Term, tol)
		assert.Equal(t, rules.Label{ZH: "低", EN: "low"}, c.Bins[0].Label)
		assert.EqualValues(t, 50, c.Bins[1].RefCount)
		assert.EqualValues(t, 75, c.Bins[1].Count)
		// The score has two values, 0 and 9: the deciles cut at 0 (and at
		// 9, the top, dropped), so the score's bins are the same halves.
		assert.InDelta(t, 0.274653, r.Score.Value, tol)
		assert.Len(t, r.Score.Bins, 2)
	})
	t.Run("no decisions", func(t *testing.T) {
		// Nothing decided yet: every share is 0, and an index over them
		// (about 9.2 with ε) would flag a shift of nothing.
		ref := tally(t, spec, cfg, bins(50, 50)...).Reference()
		r := report(t, tally(t, spec, cfg), &ref)
		assert.False(t, r.HasReference)
		assert.Empty(t, r.Characteristics)
		assert.Zero(t, r.Score.Value)
	})
	t.Run("empty bin", func(t *testing.T) {
		// Reference all low, now 90/10. The empty reference share is taken
		// as ε = 0.0001:
		// (0.9−1)·ln(0.9) + (0.1−0.0001)·ln(0.1/0.0001)
		// = 0.0105361 + 0.0999·6.907755 = 0.0105361 + 0.6900847 = 0.7006208
		ref := tally(t, spec, cfg, bins(100, 0)...).Reference()
		r := report(t, tally(t, spec, cfg, bins(90, 10)...), &ref)
		assert.InDelta(t, 0.7006208, r.Characteristics[0].Value, tol)
		assert.Equal(t, modelrisk.Shift, r.Characteristics[0].Level)
	})
	t.Run("levels", func(t *testing.T) {
		// 45/55 against 50/50: (−0.05)·ln(0.9) + 0.05·ln(1.1)
		// = 0.005268 + 0.004766 = 0.010034: stable.
		// 35/65: 0.15·ln(1/0.7) + 0.15·ln(1.3) = 0.053501 + 0.039355 =
		// 0.092856: stable still; 33/67: 0.17·(ln(0.5/0.33)+ln(0.67/0.5))
		// = 0.17·(0.415515+0.292670) = 0.120391: watch.
		ref := tally(t, spec, cfg, bins(50, 50)...).Reference()
		for _, c := range []struct {
			lo, hi int
			want   float64
			level  string
		}{{45, 55, 0.010034, modelrisk.Stable}, {35, 65, 0.092856, modelrisk.Stable}, {33, 67, 0.120391, modelrisk.Watch}} {
			r := report(t, tally(t, spec, cfg, bins(c.lo, c.hi)...), &ref)
			assert.InDelta(t, c.want, r.Characteristics[0].Value, tol)
			assert.Equal(t, c.level, r.Characteristics[0].Level)
		}
	})
}

func TestScorePSIDecilesByHand(t *testing.T) {
	spec := handSpec()
	cfg := modelrisk.DefaultConfig(asOf)
	many := func(counts map[int]int) []*modelrisk.Decision {
		var ds []*modelrisk.Decision
		for s, n := range counts {
			for range n {
				ds = append(ds, scored(s, modelrisk.NoOutcome))
			}
		}
		return ds
	}
	t.Run("ties merge deciles", func(t *testing.T) {
		// Reference: 50 at 5, 30 at 7, 20 at 9 (100). Deciles 1-5 fall at
		// 5, 6-8 at 7, 9 at 9 (the top, dropped): bins ≤5, 6–7, ≥8 with
		// 50%, 30%, 20%. Now: 20 at 5, 10 at 6, 20 at 7, 50 at 10: 20%, 30%,
		// 50% (10 is above the reference's top: the open bin takes it).
		// PSI = (0.2−0.5)·ln(0.4) + 0 + (0.5−0.2)·ln(2.5)
		//     = 0.274887 + 0.274887 = 0.549774
		ref := tally(t, spec, cfg, many(map[int]int{5: 50, 7: 30, 9: 20})...).Reference()
		r := report(t, tally(t, spec, cfg, many(map[int]int{5: 20, 6: 10, 7: 20, 10: 50})...), &ref)
		require.Len(t, r.Score.Bins, 3)
		var labels []string
		for _, b := range r.Score.Bins {
			labels = append(labels, b.Label.EN)
		}
		assert.Equal(t, []string{"≤5", "6–7", "≥8"}, labels)
		assert.InDelta(t, 0.5, r.Score.Bins[0].RefShare, 1e-15)
		assert.InDelta(t, 0.3, r.Score.Bins[1].Share, 1e-15)
		assert.InDelta(t, 0.549774, r.Score.Value, tol)
	})
	t.Run("ten deciles", func(t *testing.T) {
		// Ten each at 0..9: cuts at 0..8 (9 is the top), ten bins of 10%.
		counts := map[int]int{}
		for s := range 10 {
			counts[s] = 10
		}
		ref := tally(t, spec, cfg, many(counts)...).Reference()
		r := report(t, tally(t, spec, cfg, many(counts)...), &ref)
		require.Len(t, r.Score.Bins, 10)
		assert.Equal(t, "≤0", r.Score.Bins[0].Label.EN)
		assert.Equal(t, "3", r.Score.Bins[3].Label.EN)
		assert.Equal(t, "≥9", r.Score.Bins[9].Label.EN)
		for _, b := range r.Score.Bins {
			assert.InDelta(t, 0.1, b.RefShare, 1e-15)
		}
		assert.Zero(t, r.Score.Value)
	})
}

func TestFairnessByHand(t *testing.T) {
	// v1: ten men born 1990-07-01 (35 on 2026-06-30: the birthday is a day
	// away), 8 approved: 4 at ¥50,000 and 4.35%, 4 at ¥100,000 and 5%.
	// v2: ten women born 1960-06-30 (66: the birthday is that day), 5
	// approved at ¥30,000.50, three at 6% and two at 6.5%.
	// v3: one woman born 2000-01-01 (26), declined.
	var ds []*modelrisk.Decision
	app := func(v string, id string, seq int, ok bool, limitFen, rate int64) {
		a := modelrisk.Applicant{Village: v, ID: pid(t, id, seq), Approved: ok}
		if ok {
			a.Limit, a.Rate = limitFen, rate
		}
		ds = append(ds, &modelrisk.Decision{Score: 5, Bins: []int{1}, Applicant: a})
	}
	for i := range 10 {
		switch {
		case i < 4:
			app("v1", "19900701", 2*i+1, true, 5_000_000, 43_500)
		case i < 8:
			app("v1", "19900701", 2*i+1, true, 10_000_000, 50_000)
		default:
			app("v1", "19900701", 2*i+1, false, 0, 0)
		}
	}
	for i := range 10 {
		switch {
		case i < 3:
			app("v2", "19600630", 2*i+2, true, 3_000_050, 60_000)
		case i < 5:
			app("v2", "19600630", 2*i+2, true, 3_000_050, 65_000)
		default:
			app("v2", "19600630", 2*i+2, false, 0, 0)
		}
	}
	app("v3", "20000101", 100, false, 0, 0)
	cfg := modelrisk.DefaultConfig(asOf)
	cfg.MinGroup = 5
	f := report(t, tally(t, handSpec(), cfg, ds...), nil).Fairness
	require.Len(t, f.Dimensions, 3)
	byKey := func(d modelrisk.Dimension) map[string]modelrisk.Group {
		m := map[string]modelrisk.Group{}
		for _, g := range d.Groups {
			m[g.Key] = g
		}
		return m
	}

	// Villages: v1 approves 8/10 = 0.8, the most favoured; v2 5/10 = 0.5,
	// ratio 0.5/0.8 = 0.625 < 0.8: flagged; v3 0/1, ratio 0 but a group of
	// one: small, not flagged.
	vd := f.Dimensions[0]
	assert.Equal(t, modelrisk.ByVillage, vd.Name)
	assert.Equal(t, "v1", vd.MostFavoured)
	v := byKey(vd)
	assert.InDelta(t, 1, v["v1"].AdverseImpact, 0)
	assert.False(t, v["v1"].Flagged)
	assert.InDelta(t, 0.625, v["v2"].AdverseImpact, 1e-15)
	assert.True(t, v["v2"].Flagged)
	assert.True(t, v["v3"].Small)
	assert.Zero(t, v["v3"].AdverseImpact)
	assert.False(t, v["v3"].Flagged)
	// v1's average limit: (4·50,000 + 4·100,000)/8 = 75,000; rate
	// (4·0.0435 + 4·0.05)/8 = 0.04675. v2's: 30,000.50 and
	// (3·0.06 + 2·0.065)/5 = 0.062.
	assert.True(t, decimal.RequireFromString("75000").Equal(v["v1"].AvgLimit), v["v1"].AvgLimit.String())
	assert.True(t, decimal.RequireFromString("0.04675").Equal(v["v1"].AvgRate), v["v1"].AvgRate.String())
	assert.True(t, decimal.RequireFromString("30000.5").Equal(v["v2"].AvgLimit), v["v2"].AvgLimit.String())
	assert.True(t, decimal.RequireFromString("0.062").Equal(v["v2"].AvgRate), v["v2"].AvgRate.String())
	assert.True(t, v["v3"].AvgLimit.IsZero())

	// Sex from the 17th digit: men 8/10 = 0.8; women 5/11. Ratio
	// (5·10)/(11·8) = 50/88 = 0.568182: flagged.
	sd := f.Dimensions[1]
	assert.Equal(t, "male", sd.MostFavoured)
	s := byKey(sd)
	assert.EqualValues(t, 10, s["male"].Decisions)
	assert.EqualValues(t, 11, s["female"].Decisions)
	assert.InDelta(t, 50.0/88, s["female"].AdverseImpact, 1e-15)
	assert.True(t, s["female"].Flagged)
	assert.NotContains(t, s, modelrisk.Unknown, "a group with no decisions is left out")

	// Age on 2026-06-30: 35 → 30-39, 66 → 60-69, 26 → <30 (small).
	ad := f.Dimensions[2]
	a := byKey(ad)
	assert.EqualValues(t, 10, a["30-39"].Decisions)
	assert.EqualValues(t, 10, a["60-69"].Decisions)
	assert.EqualValues(t, 1, a["<30"].Decisions)
	assert.True(t, a["<30"].Small)
	assert.Equal(t, "30-39", ad.MostFavoured)
	assert.InDelta(t, 0.625, a["60-69"].AdverseImpact, 1e-15)
	var keys []string
	for _, g := range ad.Groups {
		keys = append(keys, g.Key)
	}
	assert.Equal(t, []string{"<30", "30-39", "60-69"}, keys, "bands in age order")
}

func TestFairnessFourFifthsExactlyIsNotFlagged(t *testing.T) {
	// Men 5/10, women 4/10: the ratio is exactly 0.8, not under it.
	var ds []*modelrisk.Decision
	for i := range 10 {
		ds = append(ds, &modelrisk.Decision{Score: 5, Bins: []int{1}, Applicant: modelrisk.Applicant{Village: "v", ID: pid(t, "19800101", 2*i+1), Approved: i < 5}})
		ds = append(ds, &modelrisk.Decision{Score: 5, Bins: []int{1}, Applicant: modelrisk.Applicant{Village: "v", ID: pid(t, "19800101", 2*i+2), Approved: i < 4}})
	}
	cfg := modelrisk.DefaultConfig(asOf)
	cfg.MinGroup = 10
	f := report(t, tally(t, handSpec(), cfg, ds...), nil).Fairness
	for _, g := range f.Dimensions[1].Groups {
		if g.Key == "female" {
			assert.Equal(t, 0.8, g.AdverseImpact)
			assert.False(t, g.Flagged)
		}
	}
	// With MinGroup above every group's size there is no most favoured
	// group and no ratio.
	cfg.MinGroup = 11
	f = report(t, tally(t, handSpec(), cfg, ds...), nil).Fairness
	assert.Empty(t, f.Dimensions[1].MostFavoured)
	for _, g := range f.Dimensions[1].Groups {
		assert.False(t, g.HasRatio)
		assert.False(t, g.Flagged)
		assert.True(t, g.Small)
	}
}

func TestAgeBandBoundaries(t *testing.T) {
	cfg := modelrisk.DefaultConfig(asOf)
	cfg.AgeBands = []int{30, 40}
	f, err := modelrisk.NewFairness(cfg)
	require.NoError(t, err)
	for _, a := range []modelrisk.Applicant{
		{Village: "v", ID: pid(t, "19960630", 1)}, // 30 on the day: 30-39
		{Village: "v", ID: pid(t, "19960701", 3)}, // 29 until tomorrow: <30
		{Village: "v", ID: pid(t, "19860630", 5)}, // 40: 40+
		{Village: "v", ID: pid(t, "19860701", 7)}, // 39: 30-39
		{Village: "v"}, // no ID: unknown
	} {
		require.NoError(t, f.Add(&a))
	}
	got := map[string]int64{}
	for _, g := range f.Report().Dimensions[2].Groups {
		got[g.Key] = g.Decisions
	}
	assert.Equal(t, map[string]int64{"<30": 1, "30-39": 2, "40+": 1, modelrisk.Unknown: 1}, got)
	// The unknown sex group is there too, and is never the reference.
	for _, g := range f.Report().Dimensions[1].Groups {
		if g.Key == modelrisk.Unknown {
			assert.EqualValues(t, 1, g.Decisions)
		}
	}
}

func TestSpecOfPolicy(t *testing.T) {
	s := testSpec(t)
	assert.Equal(t, "test-bank", s.Bank)
	assert.Equal(t, 3, s.Version)
	assert.Len(t, s.Hash, 64)
	assert.Equal(t, [2]int{0, 120}, [2]int{s.MinScore, s.MaxScore})
	assert.Equal(t, []modelrisk.GradeSpec{{"A", 100, true}, {"B", 50, true}, {"D", 0, false}}, s.Grades)
	assert.Equal(t, modelrisk.Scaling{BaseScore: 100, BaseOdds: 10, PDO: 20}, s.Scaling)
	require.Len(t, s.Characteristics, 2)
	assert.Equal(t, []rules.Label{{ZH: "[0, 100)", EN: "[0, 100)"}, {ZH: "[100, 120)", EN: "[100, 120)"}, {ZH: "高分", EN: "high <b>"}}, s.Characteristics[0].Bins)
	assert.Equal(t, rules.Label{ZH: "town, county", EN: "town, county"}, s.Characteristics[1].Bins[1])
	require.NoError(t, s.Check())
}

func TestConverters(t *testing.T) {
	f, err := modelrisk.Fen(decimal.RequireFromString("30000.5"))
	require.NoError(t, err)
	assert.EqualValues(t, 3_000_050, f)
	_, err = modelrisk.Fen(decimal.RequireFromString("1.005"))
	assert.ErrorContains(t, err, "whole number of fen")
	_, err = modelrisk.Fen(decimal.RequireFromString("-1"))
	assert.Error(t, err)
	m, err := modelrisk.Micro(decimal.RequireFromString("0.0435"))
	require.NoError(t, err)
	assert.EqualValues(t, 43_500, m)
	_, err = modelrisk.Micro(decimal.RequireFromString("0.00000001"))
	assert.ErrorContains(t, err, "millionths")
}
