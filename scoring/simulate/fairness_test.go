package simulate_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/modelrisk"
	"github.com/sanzhi/sanzhi/scoring/rules"
	"github.com/sanzhi/sanzhi/scoring/simulate"
)

// personID builds a valid 身份证号 born on birth, female when female.
func personID(t *testing.T, birth string, seq int, female bool) idnum.PersonID {
	t.Helper()
	sexDigit := 1
	if female {
		sexDigit = 2
	}
	first := fmt.Sprintf("330483%s%02d%d", birth, seq%100, sexDigit)
	c, err := idnum.CheckDigit(first)
	require.NoError(t, err)
	id, err := idnum.ParsePersonID(first + string(c))
	require.NoError(t, err)
	return id
}

// fairOutcomes evaluates the population with heads' IDs: even households
// male born 1980, odd female born 1990, the last three with no ID.
func fairOutcomes(t *testing.T, n int) []simulate.Outcome {
	t.Helper()
	newP, base := parse(t, newYAML), parse(t, baseYAML)
	rows := population(n)
	out := make([]simulate.Outcome, n)
	for i := range rows {
		c := simulate.NewCase(&rows[i], decimal.NewFromInt(90), time.Date(1980, 5, 1, 0, 0, 0, 0, household.Shanghai), day)
		switch {
		case i >= n-3:
		case i%2 == 0:
			c.HeadID = personID(t, "19800501", i, false)
		default:
			c.HeadID = personID(t, "19900501", i, true)
		}
		out[i] = simulate.Evaluate(newP, base, c, day)
	}
	return out
}

func TestFairnessInReport(t *testing.T) {
	const n = 80
	outs := fairOutcomes(t, n)
	acc := simulate.NewAccumulator(parse(t, newYAML), parse(t, baseYAML), day)
	wantApproved := map[string]int64{}
	for _, o := range outs {
		acc.Add(o)
		key := modelrisk.Unknown
		if !o.HeadID.IsZero() {
			key = o.HeadID.Sex().String()
		}
		if o.New.Eligible {
			wantApproved[key]++
		}
	}
	require.NoError(t, acc.Err())
	r := acc.Report(nil)
	require.Len(t, r.Fairness.Dimensions, 3)
	sex := r.Fairness.Dimensions[1]
	assert.Equal(t, modelrisk.BySex, sex.Name)
	got := map[string]modelrisk.Group{}
	for _, g := range sex.Groups {
		got[g.Key] = g
	}
	assert.Equal(t, int64(39), got["male"].Decisions, "even households but the last three")
	assert.Equal(t, int64(38), got["female"].Decisions)
	assert.Equal(t, int64(3), got[modelrisk.Unknown].Decisions)
	for k, want := range wantApproved {
		assert.Equal(t, want, got[k].Approved, k)
	}
	require.NotNil(t, r.ScoreShift, "a base gives the score's PSI")
	assert.GreaterOrEqual(t, r.ScoreShift.Value, 0.0)
	assert.InDelta(t, float64(r.Lost.Count)/n, r.LostShare(), 1e-12)

	// Masked keeps the three unknowns apart; Aggregate pools them (3 < MinCell)
	// with the smallest other group, so no row describes fewer than five.
	masked, agg := r.For(simulate.Masked), r.For(simulate.Aggregate)
	assert.Len(t, masked.Fairness.Dimensions[1].Groups, 3)
	for _, d := range agg.Fairness.Dimensions {
		var total int64
		for _, g := range d.Groups {
			assert.GreaterOrEqual(t, g.Decisions, int64(simulate.MinCell), "%s/%s", d.Name, g.Key)
			total += g.Decisions
		}
		assert.Equal(t, int64(n), total, d.Name)
	}
	aggSex := agg.Fairness.Dimensions[1].Groups
	require.Len(t, aggSex, 2)
	assert.Equal(t, simulate.PooledGroup, aggSex[1].Key)
	assert.Equal(t, sex.MostFavoured, aggSex[0].Key, "the most favoured group is never pooled")

	for _, en := range []bool{false, true} {
		out, err := agg.Render("table", en)
		require.NoError(t, err)
		assert.Contains(t, string(out), map[bool]string{false: "公平性", true: "Fairness"}[en])
		assert.Contains(t, string(out), map[bool]string{false: "不利影响比", true: "adverse impact"}[en])
		html, err := agg.Render("html", en)
		require.NoError(t, err)
		assert.Contains(t, string(html), map[bool]string{false: "按性别", true: "By sex"}[en])
	}
	csv, err := agg.Render("csv", false)
	require.NoError(t, err)
	assert.Contains(t, string(csv), "section,fairness\ndimension,group,households")
	assert.Contains(t, string(csv), "sex,pooled,")
	for _, o := range outs {
		if !o.HeadID.IsZero() {
			assert.NotContains(t, string(csv), o.HeadID.Raw()[6:14], "no birth date (nor 身份证号) leaves the report")
			break
		}
	}
}

func TestMinAdverseImpact(t *testing.T) {
	fr := modelrisk.FairnessReport{AdverseImpact: 0.8, MinGroup: 30, Dimensions: []modelrisk.Dimension{
		{Name: modelrisk.ByVillage, MostFavoured: "a", Groups: []modelrisk.Group{
			{Key: "a", Decisions: 100, HasRatio: true, AdverseImpact: 1},
			{Key: "b", Decisions: 100, HasRatio: true, AdverseImpact: 0.7},
			{Key: "c", Decisions: 10, HasRatio: true, AdverseImpact: 0.1, Small: true},
		}},
		{Name: modelrisk.BySex, MostFavoured: "male", Groups: []modelrisk.Group{
			{Key: "male", Decisions: 100, HasRatio: true, AdverseImpact: 1},
			{Key: modelrisk.Unknown, Decisions: 100, HasRatio: true, AdverseImpact: 0.2},
			{Key: "female", Decisions: 100, HasRatio: true, AdverseImpact: 0.75},
		}},
	}}
	ratio, dim, group, ok := simulate.MinAdverseImpact(fr)
	require.True(t, ok)
	assert.Equal(t, 0.7, ratio, "small and unknown groups are not judged")
	assert.Equal(t, []string{"village", "b"}, []string{dim, group})
	_, _, _, ok = simulate.MinAdverseImpact(modelrisk.FairnessReport{})
	assert.False(t, ok)
	assert.False(t, strings.Contains(simulate.GroupLabel("female", false), "female"))
}

func TestGate(t *testing.T) {
	outs := fairOutcomes(t, 80)
	newP := parse(t, newYAML)
	acc := simulate.NewAccumulator(newP, parse(t, baseYAML), day)
	for _, o := range outs {
		acc.Add(o)
	}
	r := acc.Report(nil)
	require.Positive(t, r.Lost.Count)

	g := simulate.Gate(r, rules.DefaultGate())
	assert.False(t, g.Passed, "10 of 80 lose a line: above the default 5%")
	failed := g.Failed()
	require.Len(t, failed, 1)
	assert.Equal(t, "lost_share", failed[0].ID)
	assert.Contains(t, failed[0].ZH, "失去授信户占比 0.1250")
	assert.Contains(t, failed[0].EN, "0.1250")

	loose := rules.DefaultGate()
	loose.MaxLostShare = decimal.RequireFromString("0.2")
	assert.True(t, simulate.Gate(r, loose).Passed)

	strict := loose
	strict.MinAdverseImpact = decimal.RequireFromString("0.99")
	g = simulate.Gate(r, strict)
	assert.False(t, g.Passed)
	assert.Equal(t, "adverse_impact", g.Failed()[0].ID)

	// Without an active version: PSI and lost share do not apply.
	first := simulate.NewAccumulator(newP, nil, day)
	for _, o := range outs {
		first.Add(o)
	}
	g = simulate.Gate(first.Report(nil), rules.DefaultGate())
	assert.False(t, g.Checks[0].Applicable)
	assert.False(t, g.Checks[2].Applicable)
	assert.True(t, g.Passed)
}

func TestGateJudgesListedDimensions(t *testing.T) {
	r := &simulate.Report{Fairness: modelrisk.FairnessReport{AdverseImpact: 0.8, MinGroup: 30, Dimensions: []modelrisk.Dimension{
		{Name: modelrisk.BySex, MostFavoured: "male", Groups: []modelrisk.Group{
			{Key: "male", Decisions: 100, HasRatio: true, AdverseImpact: 1},
			{Key: "female", Decisions: 100, HasRatio: true, AdverseImpact: 0.9},
		}},
		{Name: modelrisk.ByAge, MostFavoured: "40-49", Groups: []modelrisk.Group{
			{Key: "40-49", Decisions: 100, HasRatio: true, AdverseImpact: 1},
			{Key: "70+", Decisions: 100, HasRatio: true, AdverseImpact: 0},
		}},
	}}}
	g := simulate.Gate(r, rules.DefaultGate())
	assert.True(t, g.Passed, "age bands are reported, not judged, by default")
	assert.InDelta(t, 0.9, g.Checks[1].Value, 1e-9)
	withAge := rules.DefaultGate()
	withAge.FairnessDimensions = []string{"sex", "village", "age"}
	g = simulate.Gate(r, withAge)
	assert.False(t, g.Passed)
	assert.Equal(t, "adverse_impact", g.Failed()[0].ID)
	assert.Contains(t, g.Failed()[0].EN, "age")
	none := rules.DefaultGate()
	none.FairnessDimensions = nil
	g = simulate.Gate(r, none)
	assert.True(t, g.Passed)
	assert.False(t, g.Checks[1].Applicable)
}
