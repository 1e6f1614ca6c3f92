package modelrisk_test

import (
	"encoding/json"
	"errors"
	"iter"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/modelrisk"
)

func TestRankingProperties(t *testing.T) {
	spec := testSpec(t)
	cfg := modelrisk.DefaultConfig(asOf)
	for seed := range uint64(100) {
		r := rand.New(rand.NewPCG(seed, 1))
		nb, ng := 1+r.IntN(50), 1+r.IntN(50)
		cut := 1 + r.IntN(119)
		// Perfect: every bad below cut, every good at or above it.
		var perfect, reversed, constant []*modelrisk.Decision
		s := r.IntN(121)
		for range nb {
			lo, hi := r.IntN(cut), cut+r.IntN(121-cut)
			perfect = append(perfect, &modelrisk.Decision{Score: lo, Bins: []int{0, 0}, Outcome: modelrisk.Bad, Applicant: modelrisk.Applicant{Village: "v"}})
			reversed = append(reversed, &modelrisk.Decision{Score: hi, Bins: []int{0, 0}, Outcome: modelrisk.Bad, Applicant: modelrisk.Applicant{Village: "v"}})
			constant = append(constant, &modelrisk.Decision{Score: s, Bins: []int{0, 0}, Outcome: modelrisk.Bad, Applicant: modelrisk.Applicant{Village: "v"}})
		}
		for range ng {
			lo, hi := r.IntN(cut), cut+r.IntN(121-cut)
			perfect = append(perfect, &modelrisk.Decision{Score: hi, Bins: []int{0, 0}, Outcome: modelrisk.Good, Applicant: modelrisk.Applicant{Village: "v"}})
			reversed = append(reversed, &modelrisk.Decision{Score: lo, Bins: []int{0, 0}, Outcome: modelrisk.Good, Applicant: modelrisk.Applicant{Village: "v"}})
			constant = append(constant, &modelrisk.Decision{Score: s, Bins: []int{0, 0}, Outcome: modelrisk.Good, Applicant: modelrisk.Applicant{Village: "v"}})
		}
		p := report(t, tally(t, spec, cfg, perfect...), nil).Performance
		assert.Equal(t, 1.0, p.AUC, "a perfect ranking")
		assert.Equal(t, 1.0, p.Gini)
		assert.Equal(t, 1.0, p.KS)
		p = report(t, tally(t, spec, cfg, reversed...), nil).Performance
		assert.Equal(t, 0.0, p.AUC, "a reversed ranking")
		assert.Equal(t, -1.0, p.Gini)
		assert.Equal(t, 1.0, p.KS)
		p = report(t, tally(t, spec, cfg, constant...), nil).Performance
		assert.Equal(t, 0.5, p.AUC, "a constant score")
		assert.Equal(t, 0.0, p.Gini)
		assert.Equal(t, 0.0, p.KS)
	}
}

func TestMeasuresStayInRange(t *testing.T) {
	spec := testSpec(t)
	cfg := modelrisk.DefaultConfig(asOf)
	for seed := range uint64(100) {
		r := rand.New(rand.NewPCG(seed, 2))
		ref := tally(t, spec, cfg, population(r, 1+r.IntN(300))...).Reference()
		rep := report(t, tally(t, spec, cfg, population(r, 2+r.IntN(300))...), &ref)
		if p := rep.Performance; p.Measured {
			assert.True(t, p.KS >= 0 && p.KS <= 1, "KS %v", p.KS)
			assert.True(t, p.AUC >= 0 && p.AUC <= 1, "AUC %v", p.AUC)
			assert.True(t, p.Gini >= -1 && p.Gini <= 1, "Gini %v", p.Gini)
			last := p.ROC[len(p.ROC)-1]
			assert.Equal(t, modelrisk.ROCPoint{Good: 1, Bad: 1}, last)
		}
		for _, ps := range append([]modelrisk.PSI{rep.Score}, rep.Characteristics[0].PSI, rep.Characteristics[1].PSI) {
			assert.GreaterOrEqual(t, ps.Value, 0.0)
			for _, b := range ps.Bins {
				assert.GreaterOrEqual(t, b.Term, 0.0)
			}
		}
		for _, g := range rep.Grades {
			assert.True(t, g.Low <= g.BadRate && g.BadRate <= g.High || g.Outcomes == 0)
			assert.True(t, g.Implied > 0 && g.Implied < 1, "%+v", g)
			assert.LessOrEqual(t, g.ImpliedAtHi, g.ImpliedAtLo, "a higher score implies a lower bad rate")
		}
	}
}

func TestPSIOfIdenticalDistributionsIsZero(t *testing.T) {
	spec := testSpec(t)
	cfg := modelrisk.DefaultConfig(asOf)
	for seed := range uint64(50) {
		r := rand.New(rand.NewPCG(seed, 3))
		ds := population(r, 1+r.IntN(500))
		ref := tally(t, spec, cfg, ds...).Reference()
		// The same population, and the same distribution three times over.
		for _, k := range []int{1, 3} {
			var now []*modelrisk.Decision
			for range k {
				now = append(now, ds...)
			}
			rep := report(t, tally(t, spec, cfg, now...), &ref)
			assert.Zero(t, rep.Score.Value)
			assert.Equal(t, modelrisk.Stable, rep.Score.Level)
			for _, c := range rep.Characteristics {
				assert.Zero(t, c.Value)
			}
		}
	}
}

func TestAdverseImpactOfMostFavouredIsOne(t *testing.T) {
	villages := []string{"330483102215", "330483104221", "330483105201", "330483106001"}
	births := []string{"19500101", "19700505", "19851231", "19990615"}
	cfg := modelrisk.DefaultConfig(asOf)
	cfg.MinGroup = 3
	for seed := range uint64(50) {
		r := rand.New(rand.NewPCG(seed, 4))
		f, err := modelrisk.NewFairness(cfg)
		require.NoError(t, err)
		for i := range 20 + r.IntN(200) {
			a := modelrisk.Applicant{Village: villages[r.IntN(len(villages))], ID: pid(t, births[r.IntN(len(births))], i%1000)}
			if r.IntN(3) > 0 {
				a.Approved, a.Limit, a.Rate = true, r.Int64N(30_000_000), 30_000+r.Int64N(40_000)
			}
			require.NoError(t, f.Add(&a))
		}
		for _, d := range f.Report().Dimensions {
			if d.MostFavoured == "" {
				continue
			}
			for _, g := range d.Groups {
				require.True(t, g.HasRatio)
				assert.GreaterOrEqual(t, g.AdverseImpact, 0.0)
				if g.Key == d.MostFavoured {
					assert.Equal(t, 1.0, g.AdverseImpact, "%s %s", d.Name, g.Key)
					assert.False(t, g.Flagged)
				} else if !g.Small && g.Key != modelrisk.Unknown {
					assert.LessOrEqual(t, g.AdverseImpact, 1.0, "the most favoured has the highest rate")
				}
				assert.Equal(t, !g.Small && g.Key != modelrisk.Unknown && g.AdverseImpact < cfg.AdverseImpact, g.Flagged)
			}
		}
	}
}

// Splitting the decisions among tallies and merging them, or adding them
// in another order, gives the same report.
func TestMergeAndOrderDoNotMatter(t *testing.T) {
	spec := testSpec(t)
	cfg := modelrisk.DefaultConfig(asOf)
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 5))
		ds := population(r, 2+r.IntN(500))
		for i, d := range ds {
			d.Village = []string{"a", "b", "c"}[i%3]
			d.ID = pid(t, "19800101", i%1000)
			if d.Score >= 50 {
				d.Approved, d.Limit, d.Rate = true, int64(d.Score)*100_000, 50_000
			}
		}
		ref := tally(t, spec, cfg, ds[:len(ds)/2]...).Reference()
		whole := report(t, tally(t, spec, cfg, ds...), &ref)
		k := r.IntN(len(ds))
		left, right := tally(t, spec, cfg, ds[:k]...), tally(t, spec, cfg, ds[k:]...)
		require.NoError(t, left.Merge(right))
		assert.Equal(t, whole, report(t, left, &ref))
		shuffled := append([]*modelrisk.Decision(nil), ds...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		assert.Equal(t, whole, report(t, tally(t, spec, cfg, shuffled...), &ref))
	}
}

func TestReferenceRoundTripsThroughJSON(t *testing.T) {
	spec := testSpec(t)
	cfg := modelrisk.DefaultConfig(asOf)
	ds := population(rand.New(rand.NewPCG(1, 1)), 300)
	ref := tally(t, spec, cfg, ds...).Reference()
	b, err := json.Marshal(ref)
	require.NoError(t, err)
	var back modelrisk.Reference
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, ref, back)
	assert.Equal(t, report(t, tally(t, spec, cfg, ds...), &ref), report(t, tally(t, spec, cfg, ds...), &back))
}

func TestComputeStreams(t *testing.T) {
	spec := testSpec(t)
	cfg := modelrisk.DefaultConfig(asOf)
	ds := population(rand.New(rand.NewPCG(2, 2)), 400)
	// One Decision reused for every row, as a store cursor would.
	seq := func(fail error) iter.Seq2[*modelrisk.Decision, error] {
		return func(yield func(*modelrisk.Decision, error) bool) {
			var d modelrisk.Decision
			d.Bins = make([]int, 2)
			for i, src := range ds {
				if fail != nil && i == 200 {
					yield(nil, fail)
					return
				}
				d.Score, d.Outcome, d.Applicant = src.Score, src.Outcome, src.Applicant
				copy(d.Bins, src.Bins)
				if !yield(&d, nil) {
					return
				}
			}
		}
	}
	got, err := modelrisk.Compute(spec, cfg, nil, seq(nil))
	require.NoError(t, err)
	assert.Equal(t, report(t, tally(t, spec, cfg, ds...), nil), got)
	cursorLost := errors.New("cursor lost")
	_, err = modelrisk.Compute(spec, cfg, nil, seq(cursorLost))
	assert.ErrorIs(t, err, cursorLost)
}

func TestBadInputs(t *testing.T) {
	spec := handSpec()
	cfg := modelrisk.DefaultConfig(asOf)
	tl := tally(t, spec, cfg, scored(3, modelrisk.Bad), scored(7, modelrisk.Good))
	before := report(t, tl, nil)
	for _, c := range []struct {
		name string
		d    modelrisk.Decision
		msg  string
	}{
		{"score below the range", modelrisk.Decision{Score: -1, Bins: []int{0}, Applicant: modelrisk.Applicant{Village: "v"}}, "score -1 is outside the policy's range 0..10"},
		{"score above the range", modelrisk.Decision{Score: 11, Bins: []int{0}, Applicant: modelrisk.Applicant{Village: "v"}}, "outside the policy's range"},
		{"too few bins", modelrisk.Decision{Score: 1, Applicant: modelrisk.Applicant{Village: "v"}}, "a decision has 0 characteristics, the policy 1"},
		{"bin out of range", modelrisk.Decision{Score: 1, Bins: []int{2}, Applicant: modelrisk.Applicant{Village: "v"}}, "bin 2 of characteristic c does not exist"},
		{"negative bin", modelrisk.Decision{Score: 1, Bins: []int{-1}, Applicant: modelrisk.Applicant{Village: "v"}}, "bin -1"},
		{"unknown outcome", modelrisk.Decision{Score: 1, Bins: []int{0}, Outcome: 9, Applicant: modelrisk.Applicant{Village: "v"}}, "unknown outcome 9"},
		{"no village", modelrisk.Decision{Score: 1, Bins: []int{0}}, "no village"},
		{"declined with a limit", modelrisk.Decision{Score: 1, Bins: []int{0}, Applicant: modelrisk.Applicant{Village: "v", Limit: 100}}, "declined decision has a limit"},
		{"negative limit", modelrisk.Decision{Score: 1, Bins: []int{0}, Applicant: modelrisk.Applicant{Village: "v", Approved: true, Limit: -1}}, "out of range"},
		{"rate above 1000%", modelrisk.Decision{Score: 1, Bins: []int{0}, Applicant: modelrisk.Applicant{Village: "v", Approved: true, Rate: 10_000_001}}, "out of range"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := c.d
			assert.ErrorContains(t, tl.Add(&d), c.msg)
		})
	}
	assert.EqualValues(t, 2, tl.Len(), "nothing counted")
	assert.Equal(t, before, report(t, tl, nil), "nothing changed")

	t.Run("config", func(t *testing.T) {
		for _, c := range []struct {
			field string
			edit  func(*modelrisk.Config)
		}{
			{"as_of", func(c *modelrisk.Config) { c.AsOf = "2026-02-30" }},
			{"as_of", func(c *modelrisk.Config) { c.AsOf = "" }},
			{"psi_thresholds", func(c *modelrisk.Config) { c.PSIWatch = 0.3 }},
			{"psi_thresholds", func(c *modelrisk.Config) { c.PSIWatch = 0 }},
			{"adverse_impact", func(c *modelrisk.Config) { c.AdverseImpact = 1.2 }},
			{"min_group", func(c *modelrisk.Config) { c.MinGroup = 0 }},
			{"age_bands", func(c *modelrisk.Config) { c.AgeBands = []int{40, 30} }},
		} {
			cfg := modelrisk.DefaultConfig(asOf)
			c.edit(&cfg)
			_, err := modelrisk.NewTally(spec, cfg)
			require.Error(t, err, c.field)
			assert.True(t, fault.Is(err, fault.Invalid), c.field)
			var f *fault.Error
			require.ErrorAs(t, err, &f)
			assert.Equal(t, c.field, f.Violations[0].Field)
		}
	})

	t.Run("spec", func(t *testing.T) {
		for name, edit := range map[string]func(*modelrisk.Spec){
			"empty range":         func(s *modelrisk.Spec) { s.MaxScore = -1 },
			"huge range":          func(s *modelrisk.Spec) { s.MaxScore = 1 << 22 },
			"no grades":           func(s *modelrisk.Spec) { s.Grades = nil },
			"grades out of order": func(s *modelrisk.Spec) { s.Grades[1].MinScore = 9 },
			"no odds":             func(s *modelrisk.Spec) { s.Scaling.BaseOdds = 0 },
			"no pdo":              func(s *modelrisk.Spec) { s.Scaling.PDO = 0 },
			"no bins":             func(s *modelrisk.Spec) { s.Characteristics[0].Bins = nil },
		} {
			s := handSpec()
			edit(&s)
			_, err := modelrisk.NewTally(s, cfg)
			assert.Error(t, err, name)
		}
	})

	t.Run("reference", func(t *testing.T) {
		good := tally(t, spec, cfg, scored(3, modelrisk.NoOutcome), scored(8, modelrisk.NoOutcome)).Reference()
		for name, edit := range map[string]func(*modelrisk.Reference){
			"another version":       func(r *modelrisk.Reference) { r.PolicyHash = "other" },
			"no decisions":          func(r *modelrisk.Reference) { r.Decisions = 0 },
			"scores don't add up":   func(r *modelrisk.Reference) { r.Decisions = 3 },
			"scores out of order":   func(r *modelrisk.Reference) { r.Scores[0], r.Scores[1] = r.Scores[1], r.Scores[0] },
			"wrong characteristics": func(r *modelrisk.Reference) { r.Bins = nil },
			"wrong bins":            func(r *modelrisk.Reference) { r.Bins[0] = []int64{2} },
			"bins don't add up":     func(r *modelrisk.Reference) { r.Bins[0] = []int64{3, 0} },
		} {
			ref := good
			ref.Scores = append([]modelrisk.ScoreCount(nil), good.Scores...)
			ref.Bins = [][]int64{append([]int64(nil), good.Bins[0]...)}
			edit(&ref)
			_, err := tl.Report(&ref)
			require.Error(t, err, name)
			assert.True(t, fault.Is(err, fault.FailedPrecondition), name)
			assert.ErrorContains(t, err, "the reference population does not fit policy b/p v1", name)
		}
	})

	t.Run("merge", func(t *testing.T) {
		other := handSpec()
		other.Hash = "other"
		o := tally(t, other, cfg, scored(1, modelrisk.Bad))
		assert.ErrorContains(t, tl.Merge(o), "different policy versions")
		cfg2 := modelrisk.DefaultConfig("2026-01-01")
		o = tally(t, spec, cfg2, scored(1, modelrisk.Bad))
		assert.ErrorContains(t, tl.Merge(o), "different age bands or dates")
		assert.EqualValues(t, 2, tl.Len())
		assert.Equal(t, before, report(t, tl, nil), "nothing changed")
	})
}
