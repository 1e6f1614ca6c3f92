package modelreport_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/sanzhi/sanzhi/adapters/modelreport"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/modelrisk"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// The policy's labels are a bank's free text: one tries markup, another a
// spreadsheet formula.
const policyYAML = `bank: test-bank
product: test-loan
version: 2
effective_date: 2024-01-01
currency: CNY
name: {zh-CN: 测试政策, en: Test policy}
decision_valid_days: 30
inputs:
  points.credit: {type: decimal, min: 0, max: 1000}
  star.level: {type: enum}
scorecard:
  scaling: {base_score: 100, base_odds: 10, pdo: 20}
  characteristics:
    - id: points
      input: points.credit
      label: {zh-CN: "三治积分<script>alert(1)</script>", en: "Points <script>alert(1)</script>"}
      monotone: increasing
      bins:
        - {range: "[0, 100)", points: 0}
        - {range: "[100, 120)", points: 50}
        - {range: "[120, +inf)", points: 100, label: {zh-CN: "=HYPERLINK(1)", en: "=HYPERLINK(1)"}}
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
  round_down_to: 1000
rates:
  base_rate: 0.0345
  by_grade:
    A: {spread_bp: 50}
    B: {annual_rate: 0.05}
`

func pid(t testing.TB, birth string, seq int) idnum.PersonID {
	first := fmt.Sprintf("330483%s%03d", birth, seq)
	c, err := idnum.CheckDigit(first)
	require.NoError(t, err)
	id, err := idnum.ParsePersonIDAt(first+string(c), time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	return id
}

// build makes a report over n random decisions with a real signal, a
// reference of half as many (shifted, so the PSI is not zero) when
// withRef, and applicants of three villages, both sexes and four ages.
func build(t testing.TB, n int, withRef bool) *modelrisk.Report {
	p, err := rules.Parse([]byte(policyYAML), nil)
	require.NoError(t, err)
	spec := modelrisk.SpecOf(p)
	cfg := modelrisk.DefaultConfig("2026-06-30")
	cfg.MinGroup = 10
	r := rand.New(rand.NewPCG(9, 9))
	births := []string{"19500101", "19700505", "19851231", "19990615"}
	tally := func(n, shift int) *modelrisk.Tally {
		tl, err := modelrisk.NewTally(spec, cfg)
		require.NoError(t, err)
		for i := range n {
			s := min(120, r.IntN(121)+shift)
			d := modelrisk.Decision{Score: s, Bins: []int{min(s/50, 2), r.IntN(2)},
				Applicant: modelrisk.Applicant{Village: []string{"330483102215", "330483104221", "330483105201"}[i%3],
					ID: pid(t, births[r.IntN(4)], i%1000)}}
			if s >= 50 {
				d.Approved, d.Limit, d.Rate = true, int64(s)*100_000, 40_000
			}
			switch {
			case r.IntN(5) == 0:
			case r.Float64() < 1/(1+math.Exp(float64(s-40)/15)):
				d.Outcome = modelrisk.Bad
			default:
				d.Outcome = modelrisk.Good
			}
			require.NoError(t, tl.Add(&d))
		}
		return tl
	}
	var ref *modelrisk.Reference
	if withRef {
		rr := tally(n/2, 10).Reference()
		ref = &rr
	}
	rep, err := tally(n, 0).Report(ref)
	require.NoError(t, err)
	return rep
}

// parse checks the fragment is well-formed HTML and returns its elements
// by tag, and every attribute name seen.
func parse(t *testing.T, frag string) (map[string]int, map[string]bool) {
	t.Helper()
	tags, attrs := map[string]int{}, map[string]bool{}
	z := html.NewTokenizer(strings.NewReader(frag))
	depth := 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		tok := z.Token()
		switch tt {
		case html.StartTagToken:
			depth++
			tags[tok.Data]++
			for _, a := range tok.Attr {
				attrs[a.Key] = true
			}
		case html.SelfClosingTagToken:
			tags[tok.Data]++
			for _, a := range tok.Attr {
				attrs[a.Key] = true
			}
		case html.EndTagToken:
			depth--
		}
	}
	assert.Zero(t, depth, "every element is closed")
	return tags, attrs
}

func TestHTMLFragment(t *testing.T) {
	rep := build(t, 3000, true)
	for _, en := range []bool{false, true} {
		frag := string(modelreport.HTML(rep, en))
		tags, attrs := parse(t, frag)
		assert.Equal(t, 4, tags["svg"], "ROC, KS, calibration and PSI charts")
		for _, id := range []string{"mr-roc", "mr-ks", "mr-cal", "mr-psi"} {
			assert.Contains(t, frag, `aria-labelledby="`+id+`-t"`)
		}
		assert.GreaterOrEqual(t, tags["polyline"], 3, "the ROC and the two KS curves")
		assert.Equal(t, len(rep.Grades)+0, tags["polygon"], "one implied-rate diamond per grade")
		assert.False(t, attrs["style"], "no style attribute: the console's CSP forbids inline styles")
		assert.NotContains(t, frag, "<script>", "labels are escaped")
		assert.Contains(t, frag, "&lt;script&gt;alert(1)&lt;/script&gt;")
		assert.Contains(t, frag, "AUC "+strconv.FormatFloat(rep.Performance.AUC, 'f', 3, 64))
		assert.Contains(t, frag, "KS "+strconv.FormatFloat(rep.Performance.KS, 'f', 3, 64)+" @ "+strconv.Itoa(rep.Performance.KSScore))
		assert.Contains(t, frag, "330483104221")
		for _, key := range []string{"level_", "dim_", "roc_", "cum_", "most_favoured", "no_ratio"} {
			assert.NotContains(t, frag, key, "every word is translated")
		}
		if en {
			assert.Contains(t, frag, "Back-testing, stability and fairness report")
			assert.Contains(t, frag, `lang="en"`)
			assert.Contains(t, frag, "By sex (read from the ID number, not stored)")
			assert.Contains(t, frag, ">female<")
		} else {
			assert.Contains(t, frag, "模型回溯测试、稳定性与公平性报告")
			assert.Contains(t, frag, `lang="zh-CN"`)
			assert.Contains(t, frag, ">女<")
			assert.NotContains(t, frag, ">female<")
			assert.Contains(t, frag, "不利影响比")
		}
	}
}

func TestHTMLWithoutOutcomesOrReference(t *testing.T) {
	rep := build(t, 300, false)
	rep.Performance = modelrisk.Performance{} // as if no outcome were known
	frag := string(modelreport.HTML(rep, true))
	tags, _ := parse(t, frag)
	assert.Equal(t, 1, tags["svg"], "only the calibration chart")
	assert.Contains(t, frag, "Not measurable yet")
	assert.Contains(t, frag, "no reference population")
}

func TestCSV(t *testing.T) {
	rep := build(t, 3000, true)
	var buf bytes.Buffer
	require.NoError(t, modelreport.WriteCSV(&buf, rep, true))
	cr := csv.NewReader(&buf)
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	require.NoError(t, err)
	sections := map[string][][]string{}
	var cur string
	for i := 0; i < len(recs); i++ {
		if len(recs[i]) == 2 && recs[i][0] == "section" {
			cur = recs[i][1]
			i++ // the header
			continue
		}
		if len(recs[i]) == 1 && recs[i][0] == "" {
			continue
		}
		sections[cur] = append(sections[cur], recs[i])
	}
	assert.ElementsMatch(t, []string{"summary", "roc", "ks_curve", "grades", "psi", "psi_bins", "fairness"}, keys(sections))

	summary := map[string]string{}
	for _, r := range sections["summary"] {
		summary[r[0]] = r[1]
	}
	num := func(s string) float64 {
		f, err := strconv.ParseFloat(s, 64)
		require.NoError(t, err)
		return f
	}
	assert.Equal(t, rep.Performance.AUC, num(summary["auc"]), "full precision")
	assert.Equal(t, rep.Performance.KS, num(summary["ks"]))
	assert.Equal(t, strconv.FormatInt(rep.Decisions, 10), summary["decisions"])
	assert.Equal(t, rep.Score.Level, summary["score_psi_level"])
	assert.Len(t, sections["roc"], len(rep.Performance.ROC))
	assert.Len(t, sections["grades"], len(rep.Grades)+1)
	assert.Equal(t, "all", sections["grades"][len(rep.Grades)][0])
	assert.Len(t, sections["psi"], 1+len(rep.Characteristics))

	// A label that looks like a formula is quoted.
	found := false
	for _, r := range sections["psi_bins"] {
		if strings.Contains(r[1], "HYPERLINK") {
			assert.Equal(t, "'=HYPERLINK(1)", r[1])
			found = true
		}
	}
	assert.True(t, found)

	var rows int
	for _, d := range rep.Fairness.Dimensions {
		rows += len(d.Groups)
	}
	assert.Len(t, sections["fairness"], rows)
	for _, r := range sections["fairness"] {
		if r[0] == modelrisk.BySex && r[1] == "female" {
			assert.Regexp(t, `^\d+\.\d{2}$`, r[5], "the average limit to the fen")
			assert.Regexp(t, `^0\.\d{6}$`, r[6])
		}
	}
}

func keys(m map[string][][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestChallengerSection(t *testing.T) {
	rep := build(t, 300, false)
	assert.NotContains(t, string(modelreport.HTML(rep, true)), "Champion and challenger", "no challenger, no section")
	obs := []modelrisk.ChallengerObservation{
		{ChampionScore: 300, ChallengerScore: 320, ChampionApproved: false, ChallengerApproved: true},
		{ChampionScore: 400, ChallengerScore: 380, ChampionApproved: true, ChallengerApproved: true, Observed: true},
		{ChampionScore: 350, ChallengerScore: 330, ChampionApproved: true, ChallengerApproved: false, Observed: true, Bad: true},
	}
	cmp, err := modelrisk.CompareChallenger(func(yield func(modelrisk.ChallengerObservation, error) bool) {
		for _, o := range obs {
			if !yield(o, nil) {
				return
			}
		}
	})
	require.NoError(t, err)
	rep.ChallengerVersion, rep.Challenger = rep.Version+1, cmp
	for _, en := range []bool{false, true} {
		frag := string(modelreport.HTML(rep, en))
		head := map[bool]string{false: "挑战者对比", true: "Champion and challenger"}[en]
		assert.Contains(t, frag, head)
		assert.Contains(t, frag, " v"+strconv.Itoa(rep.Version+1)+"<", "the challenger's version heads its column")
		assert.Contains(t, frag, "66.67%", "one swap-in and one swap-out in three decisions")
		assert.NotContains(t, frag, "swap_", "every word is translated")
	}
	var buf bytes.Buffer
	require.NoError(t, modelreport.WriteCSV(&buf, rep, true))
	assert.Contains(t, buf.String(), "section,challenger\nrole,version,measured,ks,auc,gini\nchampion,")
	assert.Contains(t, buf.String(), "section,challenger_swaps\n")
	assert.Contains(t, buf.String(), "\n3,2,1,1,1,0,1,0.6666666666666666\n")
}
