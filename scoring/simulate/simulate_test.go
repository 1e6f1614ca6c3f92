package simulate_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
	"github.com/sanzhi/sanzhi/scoring/rules"
	"github.com/sanzhi/sanzhi/scoring/simulate"
)

const baseYAML = `bank: test-bank
product: test-loan
version: 1
effective_date: 2024-01-01
currency: CNY
name: {zh-CN: 测试政策, en: Test policy}
decision_valid_days: 30
inputs:
  points.credit: {type: decimal, min: 0, max: 1000}
  facts.dishonest_debtor: {type: bool}
  star.level: {type: enum}
  facts.annual_income: {type: decimal, min: 0, max: 10000000}
knockouts:
  - id: dishonest
    when: facts.dishonest_debtor
    reason: {zh-CN: 失信被执行人, en: Dishonest debtor}
scorecard:
  scaling: {base_score: 100, base_odds: 10, pdo: 20}
  characteristics:
    - id: points
      input: points.credit
      label: {zh-CN: 三治积分, en: Governance points}
      monotone: increasing
      bins:
        - {range: "[0, 100)", points: 0}
        - {range: "[100, 120)", points: 50}
        - {range: "[120, +inf)", points: 100}
    - id: star
      input: star.level
      label: {zh-CN: 星级, en: Star level}
      monotone: increasing
      bins:
        - {values: [none, village], points: 0}
        - {values: [town, county], points: 20}
grades:
  - {grade: A, min_score: 100}
  - {grade: B, min_score: 50}
  - {grade: D, min_score: 0, eligible: false}
limit:
  base_by_grade: {A: 100000, B: 50000}
  caps:
    product_max: 200000
    income_multiple: 3
  round_down_to: 1000
rates:
  base_rate: 0.0345
  by_grade:
    A: {spread_bp: 50}
    B: {annual_rate: 0.05}
`

// newYAML: A needs 120 points, B's base amount rises to 60,000, and a low
// income knocks out.
var newYAML = strings.NewReplacer(
	"version: 1", "version: 2",
	"{grade: A, min_score: 100}", "{grade: A, min_score: 120}",
	"B: 50000}", "B: 60000}",
	`    reason: {zh-CN: 失信被执行人, en: Dishonest debtor}
`, `    reason: {zh-CN: 失信被执行人, en: Dishonest debtor}
  - id: low_income
    when: facts.annual_income < 20000
    reason: {zh-CN: 收入过低, en: Income too low}
`).Replace(baseYAML)

const day household.Date = "2026-06-30"

var villages = []string{"330483102215", "330483104221"}

func parse(t *testing.T, doc string) *rules.Policy {
	t.Helper()
	p, err := rules.Parse([]byte(doc), nil)
	require.NoError(t, err)
	return p
}

// population builds n synthetic households: points from 90 upwards in
// steps of 2, every fourth with a town star, every ninth a dishonest
// debtor, every seventh with a low income; alternating villages.
func population(n int) []simulate.Row {
	rows := make([]simulate.Row, n)
	for i := range n {
		h := &household.Household{ID: fmt.Sprintf("h%03d", i), Village: villages[i%2], HeadName: fmt.Sprintf("户主%d", i),
			Facts: household.Facts{Members: 4, Labourers: 2, AnnualIncome: decimal.NewFromInt(100000),
				LandAreaMu: decimal.Zero, CollectiveShares: decimal.Zero, ExistingDebt: decimal.Zero,
				DishonestDebtor: i%9 == 0}}
		if i%7 == 0 {
			h.Facts.AnnualIncome = decimal.NewFromInt(15000)
		}
		r := simulate.Row{Household: h}
		if pts := 2 * i; pts > 0 {
			r.Entries = []points.Entry{{ID: "e" + h.ID, Household: h.ID, ItemCode: "V01", Domain: points.Virtue, Kind: points.Award,
				Quantity: 1, Requested: decimal.NewFromInt(int64(pts)), Points: decimal.NewFromInt(int64(pts)), Capped: decimal.Zero,
				OccurredOn: "2026-01-05", EffectiveOn: "2026-01-20", ValidUntil: "2028-01-20", ForCredit: true}}
		}
		if i%4 == 0 {
			revoked := time.Date(2026, 9, 1, 0, 0, 0, 0, household.Shanghai)
			r.Listings = []*evidence.Evidence{{ID: "s" + h.ID, Village: h.Village, Household: h.ID, Kind: evidence.StarRating,
				Level: evidence.LevelTown, Stars: 3, ValidUntil: "2027-12-31", State: evidence.Revoked,
				NoticeStart: "2026-02-01", NoticeEnd: "2026-02-08", RevokeTime: &revoked}}
		}
		rows[i] = r
	}
	return rows
}

func outcomes(t *testing.T, newP, base *rules.Policy, rows []simulate.Row) []simulate.Outcome {
	t.Helper()
	out := make([]simulate.Outcome, len(rows))
	for i := range rows {
		c := simulate.NewCase(&rows[i], decimal.NewFromInt(90), time.Date(1980, 5, 1, 0, 0, 0, 0, household.Shanghai), day)
		out[i] = simulate.Evaluate(newP, base, c, day)
	}
	return out
}

func TestCaseFromRow(t *testing.T) {
	rows := population(5)
	c := simulate.NewCase(&rows[4], decimal.NewFromInt(90), time.Date(1980, 7, 1, 0, 0, 0, 0, household.Shanghai), day)
	assert.Equal(t, "villages/330483102215/households/h004", c.Name)
	assert.Equal(t, "98", c.Input.Points.Credit.String(), "base 90 plus 8 points")
	assert.Equal(t, rules.StarTown, c.Input.Star.Level, "revoked star still counts before its revocation day")
	assert.Equal(t, 45, c.Input.Applicant.Age)
	later := simulate.NewCase(&rows[4], decimal.NewFromInt(90), time.Time{}, "2026-09-15")
	assert.Equal(t, rules.StarNone, later.Input.Star.Level, "and not after it")
}

func TestAccumulator(t *testing.T) {
	base, newP := parse(t, baseYAML), parse(t, newYAML)
	rows := population(40)
	outs := outcomes(t, newP, base, rows)
	acc := simulate.NewAccumulator(newP, base, day)
	for _, o := range outs {
		acc.Add(o)
	}
	r := acc.Report(nil)

	// A reference computed straight from the decisions.
	var eligBase, eligNew, gained, lost int
	expBase, expNew := decimal.Zero, decimal.Zero
	byVillage := map[string][2]decimal.Decimal{}
	knocks := map[string][2]int{}
	bands := map[int64][2]int{} // band's lower end → eligible households in it
	band := func(limit decimal.Decimal) int64 {
		lo := int64(0)
		for _, b := range simulate.LimitBands {
			if !limit.LessThan(decimal.NewFromInt(b)) {
				lo = b
			}
		}
		return lo
	}
	for i, o := range outs {
		in := simulate.NewCase(&rows[i], decimal.NewFromInt(90), time.Date(1980, 5, 1, 0, 0, 0, 0, household.Shanghai), day).Input
		db, dn := rules.Evaluate(base, in, day), rules.Evaluate(newP, in, day)
		require.Equal(t, db.Grade, o.Base.Grade)
		require.True(t, dn.Limit.Equal(o.New.Limit))
		v := byVillage[o.Village]
		if db.Eligible {
			eligBase++
			c := bands[band(db.Limit)]
			c[0]++
			bands[band(db.Limit)] = c
			expBase = expBase.Add(db.Limit)
			v[0] = v[0].Add(db.Limit)
		}
		if dn.Eligible {
			eligNew++
			c := bands[band(dn.Limit)]
			c[1]++
			bands[band(dn.Limit)] = c
			expNew = expNew.Add(dn.Limit)
			v[1] = v[1].Add(dn.Limit)
		}
		byVillage[o.Village] = v
		if dn.Eligible && !db.Eligible {
			gained++
		}
		if db.Eligible && !dn.Eligible {
			lost++
		}
		for _, k := range db.KnockOuts {
			c := knocks[k.ID]
			c[0]++
			knocks[k.ID] = c
		}
		for _, k := range dn.KnockOuts {
			c := knocks[k.ID]
			c[1]++
			knocks[k.ID] = c
		}
	}
	assert.Equal(t, 40, r.Households)
	assert.Equal(t, eligBase, r.EligibleBase)
	assert.Equal(t, eligNew, r.EligibleNew)
	assert.Equal(t, gained, r.Gained.Count)
	assert.Equal(t, lost, r.Lost.Count)
	assert.Positive(t, lost, "the low-income knock-out and A's threshold take lines away")
	assert.True(t, expBase.Equal(r.ExposureBase), "%s vs %s", expBase, r.ExposureBase)
	assert.True(t, expNew.Equal(r.ExposureNew))
	assert.True(t, r.ExposureChange().Equal(expNew.Sub(expBase)))
	require.Len(t, r.ByVillage, 2)
	for _, v := range r.ByVillage {
		assert.True(t, v.Base.Equal(byVillage[v.Village][0]))
		assert.True(t, v.New.Equal(byVillage[v.Village][1]))
		assert.Equal(t, 20, v.Households)
	}
	assert.Equal(t, villages, []string{r.ByVillage[0].Village, r.ByVillage[1].Village}, "villages sorted")

	assert.Equal(t, []string{"A", "B", "D"}, r.Migration.Rows)
	assert.Equal(t, []string{"A", "B", "D"}, r.Migration.Cols)
	total := 0
	for _, row := range r.Migration.Counts {
		for _, n := range row {
			total += n
		}
	}
	assert.Equal(t, 40, total)
	assert.Positive(t, r.Migration.Counts[0][1], "some A become B")
	assert.Zero(t, r.Migration.Counts[1][0], "nobody rises from B to A")

	scoresBase, scoresNew := 0, 0
	for i, b := range r.Scores {
		scoresBase += b.Base
		scoresNew += b.New
		if i > 0 {
			assert.Equal(t, r.Scores[i-1].Lo+simulate.BinWidth, b.Lo, "contiguous bins")
		}
	}
	assert.Equal(t, 40, scoresBase)
	assert.Equal(t, 40, scoresNew)
	assert.Equal(t, 0, r.Scores[0].Lo)
	assert.Equal(t, 100, r.Scores[len(r.Scores)-1].Lo, "max score 120 falls in 100–124")

	require.Len(t, r.Limits, len(simulate.LimitBands))
	limBase, limNew := 0, 0
	for i, b := range r.Limits {
		assert.Equal(t, simulate.LimitBands[i], b.Lo)
		assert.Equal(t, bands[b.Lo][0], b.Base, "band %d", b.Lo)
		assert.Equal(t, bands[b.Lo][1], b.New, "band %d", b.Lo)
		limBase, limNew = limBase+b.Base, limNew+b.New
	}
	assert.Zero(t, r.Limits[len(r.Limits)-1].Hi, "the last band has no upper end")
	assert.Equal(t, eligBase, limBase, "every eligible household in one band")
	assert.Equal(t, eligNew, limNew)

	require.Len(t, r.KnockOuts, 2)
	assert.Equal(t, "dishonest", r.KnockOuts[0].ID)
	assert.Equal(t, "low_income", r.KnockOuts[1].ID)
	for _, k := range r.KnockOuts {
		assert.Equal(t, knocks[k.ID][0], k.Base, k.ID)
		assert.Equal(t, knocks[k.ID][1], k.New, k.ID)
	}
	assert.Zero(t, r.KnockOuts[1].Base)
	assert.Positive(t, r.KnockOuts[1].New)

	// Order changes only the samples.
	rev := simulate.NewAccumulator(newP, base, day)
	for i := len(outs) - 1; i >= 0; i-- {
		rev.Add(outs[i])
	}
	r2 := rev.Report(nil)
	r2.Gained.Sample, r2.Lost.Sample = r.Gained.Sample, r.Lost.Sample
	assert.Equal(t, r, r2)
}

func TestSamplesAreCapped(t *testing.T) {
	base := parse(t, baseYAML)
	// Nobody is eligible under the draft: every A and B loses its line.
	closed := parse(t, strings.Replace(baseYAML, `    reason: {zh-CN: 失信被执行人, en: Dishonest debtor}
`, `    reason: {zh-CN: 失信被执行人, en: Dishonest debtor}
  - id: everyone_else
    when: not facts.dishonest_debtor
    reason: {zh-CN: 暂停, en: Paused}
`, 1))
	rows := population(90)
	acc := simulate.NewAccumulator(closed, base, day)
	outs := outcomes(t, closed, base, rows)
	var wantLost []string
	for _, o := range outs {
		acc.Add(o)
		if o.Base.Eligible {
			wantLost = append(wantLost, o.Name)
		}
	}
	r := acc.Report(nil)
	require.Greater(t, len(wantLost), simulate.SampleSize)
	assert.Equal(t, len(wantLost), r.Lost.Count)
	require.Len(t, r.Lost.Sample, simulate.SampleSize)
	for i, s := range r.Lost.Sample {
		assert.Equal(t, wantLost[i], s.Name, "the first households in order")
	}
	assert.Zero(t, r.EligibleNew)
	assert.True(t, r.ExposureNew.IsZero())
	assert.Zero(t, r.Gained.Count)
	assert.Empty(t, r.Gained.Sample)
}

func TestNoBase(t *testing.T) {
	newP := parse(t, newYAML)
	acc := simulate.NewAccumulator(newP, nil, day)
	for _, o := range outcomes(t, newP, nil, population(12)) {
		assert.False(t, o.HasBase)
		acc.Add(o)
	}
	r := acc.Report([]string{villages[0]})
	assert.Nil(t, r.Base)
	assert.Equal(t, []string{simulate.NoGrade}, r.Migration.Rows)
	assert.Equal(t, 12, r.Migration.Counts[0][0]+r.Migration.Counts[0][1]+r.Migration.Counts[0][2])
	assert.Zero(t, r.Gained.Count+r.Lost.Count)

	// Render is the Write* of its format; "" is the table; others refused.
	for format, write := range map[string]func(*bytes.Buffer) error{
		"": func(b *bytes.Buffer) error { return r.WriteTable(b, true) }, "table": func(b *bytes.Buffer) error { return r.WriteTable(b, true) },
		"csv": func(b *bytes.Buffer) error { return r.WriteCSV(b) }, "html": func(b *bytes.Buffer) error { return r.WriteHTML(b, true) },
	} {
		var want bytes.Buffer
		require.NoError(t, write(&want))
		got, err := r.Render(format, true)
		require.NoError(t, err)
		assert.Equal(t, want.String(), string(got), format)
	}
	_, err := r.Render("pdf", true)
	assert.ErrorContains(t, err, "table, csv, html")

	var buf bytes.Buffer
	require.NoError(t, r.WriteTable(&buf, true))
	assert.Contains(t, buf.String(), "Against    none")
	assert.Contains(t, buf.String(), "scope 330483102215")
	buf.Reset()
	require.NoError(t, r.WriteCSV(&buf))
	rd := csv.NewReader(&buf)
	rd.FieldsPerRecord = -1
	_, err = rd.ReadAll()
	require.NoError(t, err)
	buf.Reset()
	require.NoError(t, r.WriteHTML(&buf, false))
	assert.Contains(t, buf.String(), "<svg")
}

func TestRenderers(t *testing.T) {
	base, newP := parse(t, baseYAML), parse(t, newYAML)
	rows := population(40)
	rows[3].Household.HeadName = `<script>alert("x")</script>`
	acc := simulate.NewAccumulator(newP, base, day)
	for _, o := range outcomes(t, newP, base, rows) {
		acc.Add(o)
	}
	r := acc.Report(nil)

	var zh, en bytes.Buffer
	require.NoError(t, r.WriteTable(&zh, false))
	require.NoError(t, r.WriteTable(&en, true))
	assert.Contains(t, zh.String(), "等级迁移")
	assert.Contains(t, zh.String(), "失去授信户: ")
	assert.Contains(t, en.String(), "Grade migration")
	assert.Contains(t, en.String(), "test-bank/test-loan v2")
	// Aligned: every line of the migration matrix has the same width.
	lines := strings.Split(en.String(), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "Grade migration") {
			w := len(lines[i+1])
			for _, m := range lines[i+2 : i+5] {
				assert.Len(t, m, w, "%q", m)
			}
		}
	}

	var c bytes.Buffer
	require.NoError(t, r.WriteCSV(&c))
	rd := csv.NewReader(&c)
	rd.FieldsPerRecord = -1
	recs, err := rd.ReadAll()
	require.NoError(t, err)
	var names []string
	for _, rec := range recs {
		if rec[0] == "section" {
			names = append(names, rec[1])
		}
	}
	assert.Equal(t, []string{"summary", "grade_migration", "eligibility_changes", "exposure_by_village", "score_distribution", "knockouts", "fairness"}, names)

	var h bytes.Buffer
	require.NoError(t, r.WriteHTML(&h, false))
	page := h.String()
	assert.Contains(t, page, "<svg")
	assert.Equal(t, 2, strings.Count(page, "<svg "))
	assert.NotContains(t, page, "<script>", "text is escaped")
	assert.NotContains(t, page, "ZgotmplZ", "no style or attribute was rejected by the template")
	assert.NotContains(t, page, "http-equiv")
	assert.NotContains(t, page, " src=")

	var hh bytes.Buffer
	w, err := simulate.NewHouseholdsCSV(&hh)
	require.NoError(t, err)
	for _, o := range outcomes(t, newP, base, rows[:3]) {
		require.NoError(t, w.Write(o))
	}
	require.NoError(t, w.Close())
	recs, err = csv.NewReader(&hh).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 4)
	assert.Equal(t, "villages/330483102215/households/h000", recs[1][0])
}

func TestYuan(t *testing.T) {
	for in, want := range map[string]string{"0": "0", "1234500": "1,234,500", "-50.5": "-50.50", "999": "999", "1000": "1,000", "-1234567.25": "-1,234,567.25"} {
		assert.Equal(t, want, simulate.Yuan(decimal.RequireFromString(in)), in)
	}
}
