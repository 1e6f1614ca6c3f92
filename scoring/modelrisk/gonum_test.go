package modelrisk_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/integrate"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/sanzhi/sanzhi/scoring/modelrisk"
)

// These tests hold the measures to a second implementation, gonum's, on
// random populations: gonum works on the raw scores (sorting them), the
// package on counts by score, so they share no code.

// population draws n decisions with scores 0..120 where the chance of
// bad falls with the score (a real but imperfect signal); about one in
// five has no outcome.
func population(r *rand.Rand, n int) []*modelrisk.Decision {
	ds := make([]*modelrisk.Decision, n)
	for i := range ds {
		s := r.IntN(121)
		o := modelrisk.Good
		switch {
		case r.IntN(5) == 0:
			o = modelrisk.NoOutcome
		case r.Float64() < 1/(1+math.Exp(float64(s-40)/15)):
			o = modelrisk.Bad
		}
		ds[i] = &modelrisk.Decision{Score: s, Bins: []int{min(s/50, 2), r.IntN(2)}, Outcome: o,
			Applicant: modelrisk.Applicant{Village: "v"}}
	}
	return ds
}

func TestDiscriminationAgainstGonum(t *testing.T) {
	spec := testSpec(t)
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 7))
		ds := population(r, 50+r.IntN(3000))
		rep := report(t, tally(t, spec, modelrisk.DefaultConfig(asOf), ds...), nil)
		require.True(t, rep.Performance.Measured)

		// gonum: ROC of the score as a classifier of good (higher is
		// better), AUC by the trapezoidal rule over it, KS as the distance
		// between the goods' and the bads' empirical distributions.
		var y []float64
		var good []bool
		var goods, bads []float64
		for _, d := range ds {
			if d.Outcome == modelrisk.NoOutcome {
				continue
			}
			y = append(y, float64(d.Score))
			good = append(good, d.Outcome == modelrisk.Good)
			if d.Outcome == modelrisk.Good {
				goods = append(goods, float64(d.Score))
			} else {
				bads = append(bads, float64(d.Score))
			}
		}
		stat.SortWeightedLabeled(y, good, nil)
		tpr, fpr, _ := stat.ROC(nil, y, good, nil)
		auc := integrate.Trapezoidal(fpr, tpr)
		slices.Sort(goods)
		slices.Sort(bads)
		ks := stat.KolmogorovSmirnov(goods, nil, bads, nil)

		assert.InDelta(t, auc, rep.Performance.AUC, 1e-12, "seed %d", seed)
		assert.InDelta(t, 2*auc-1, rep.Performance.Gini, 1e-12, "seed %d", seed)
		assert.InDelta(t, ks, rep.Performance.KS, 1e-12, "seed %d", seed)
		// gonum's ROC points are ours mirrored: its true positive rate is
		// the share of goods above a cut, ours the share at or below it.
		require.Len(t, rep.Performance.ROC, len(tpr), "one point per distinct score and the origin")
		for i, p := range rep.Performance.ROC {
			j := len(tpr) - 1 - i
			assert.InDelta(t, 1-tpr[j], p.Good, 1e-12)
			assert.InDelta(t, 1-fpr[j], p.Bad, 1e-12)
		}
	}
}

func TestPSIAgainstGonum(t *testing.T) {
	// PSI = Σ (a−e)·ln(a/e) = KL(a‖e) + KL(e‖a), the symmetrised
	// Kullback-Leibler divergence, on the shares after the ε floor.
	spec := testSpec(t)
	cfg := modelrisk.DefaultConfig(asOf)
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 11))
		ref := tally(t, spec, cfg, population(r, 200+r.IntN(2000))...).Reference()
		now := population(r, 200+r.IntN(2000))
		// Shift part of the population up, sometimes, so PSIs vary.
		for _, d := range now[:r.IntN(len(now))] {
			d.Score = min(120, d.Score+r.IntN(30))
			d.Bins[0] = min(d.Score/50, 2)
		}
		rep := report(t, tally(t, spec, cfg, now...), &ref)
		all := append([]modelrisk.PSI{rep.Score}, rep.Characteristics[0].PSI, rep.Characteristics[1].PSI)
		for _, p := range all {
			var a, e []float64
			for _, b := range p.Bins {
				a = append(a, max(b.Share, modelrisk.Epsilon))
				e = append(e, max(b.RefShare, modelrisk.Epsilon))
			}
			want := stat.KullbackLeibler(a, e) + stat.KullbackLeibler(e, a)
			assert.InDelta(t, want, p.Value, 1e-12, "seed %d", seed)
		}
	}
}

func TestWilsonIsTheScoreTestInverted(t *testing.T) {
	// The 95% quantile agrees with gonum's normal distribution.
	assert.InDelta(t, distuv.UnitNormal.Quantile(0.975), modelrisk.Z95, 1e-12)
	// Each end p of the interval is where the score test is just
	// rejected: (p̂ − p)² = z²·p(1−p)/n.
	r := rand.New(rand.NewPCG(3, 5))
	for range 500 {
		n := int64(1 + r.IntN(5000))
		k := r.Int64N(n + 1)
		lo, hi := modelrisk.Wilson(k, n, modelrisk.Z95)
		ph := float64(k) / float64(n)
		require.LessOrEqual(t, lo, ph)
		require.GreaterOrEqual(t, hi, ph)
		for _, p := range []float64{lo, hi} {
			if p <= 1e-12 || p >= 1-1e-12 {
				continue // at 0 or 1 when k is 0 or n: the clamped end
			}
			lhs := (ph - p) * (ph - p)
			rhs := modelrisk.Z95 * modelrisk.Z95 * p * (1 - p) / float64(n)
			assert.InDelta(t, rhs, lhs, 1e-12, "k=%d n=%d", k, n)
		}
	}
}
