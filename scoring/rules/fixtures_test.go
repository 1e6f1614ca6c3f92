package rules

import (
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/examples/policies"
)

// smallYAML is a small valid policy. Tests mutate single lines of it and
// find the expected line by searching the mutated text, so line numbers
// are never hand-maintained.
const smallYAML = `bank: test-bank
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

// mutate replaces each old (which must occur exactly once) with new.
func mutate(t *testing.T, doc string, pairs ...string) string {
	t.Helper()
	require.Zero(t, len(pairs)%2)
	for i := 0; i < len(pairs); i += 2 {
		require.Equal(t, 1, strings.Count(doc, pairs[i]), "fixture must contain %q exactly once", pairs[i])
		doc = strings.Replace(doc, pairs[i], pairs[i+1], 1)
	}
	return doc
}

// lineOf returns the 1-based line of the only line containing marker.
func lineOf(t *testing.T, doc, marker string) int {
	t.Helper()
	line := 0
	for i, l := range strings.Split(doc, "\n") {
		if strings.Contains(l, marker) {
			require.Zero(t, line, "marker %q is on more than one line", marker)
			line = i + 1
		}
	}
	require.NotZero(t, line, "marker %q not found", marker)
	return line
}

// colOf returns the 1-based column of text on the line holding marker.
func colOf(t *testing.T, doc, marker, text string) int {
	t.Helper()
	l := strings.Split(doc, "\n")[lineOf(t, doc, marker)-1]
	i := strings.Index(l, text)
	require.GreaterOrEqual(t, i, 0, "%q not on line %q", text, l)
	return len([]rune(l[:i])) + 1
}

func lintErrors(t *testing.T, err error) LintErrors {
	t.Helper()
	require.Error(t, err)
	var le LintErrors
	require.True(t, errors.As(err, &le), "want LintErrors, got %T: %v", err, err)
	require.NotEmpty(t, le)
	return le
}

// findErr returns the problem on line whose message contains want.
func findErr(t *testing.T, errs LintErrors, line int, want string) LintError {
	t.Helper()
	for _, e := range errs {
		if e.Line == line && strings.Contains(e.Message, want) {
			return e
		}
	}
	require.Failf(t, "problem not reported", "want %q at line %d; got:\n%s", want, line, errs.Error())
	return LintError{}
}

func mustParse(t testing.TB, src string, items ItemForCredit) *Policy {
	t.Helper()
	p, err := Parse([]byte(src), items)
	require.NoError(t, err)
	return p
}

func exampleBytes(t testing.TB) []byte {
	t.Helper()
	b, err := policies.FS.ReadFile(policies.TongxiangFile)
	require.NoError(t, err)
	return b
}

func examplePolicy(t testing.TB) *Policy {
	t.Helper()
	return mustParse(t, string(exampleBytes(t)), nil)
}

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// typical is a household of the example policy that gets grade A with a
// limit: every figure below appears in TestEvaluateTypical's working.
func typical() Input {
	var in Input
	in.Points = PointsInput{Credit: d("115"), SelfGovernance: d("6"), RuleOfLaw: d("3"), Virtue: d("12")}
	in.Star.Level = StarVillage
	in.Facts = FactsInput{IncomePerCapita: d("45000"), AnnualIncome: d("150000"), Labourers: 2, Members: 4,
		LandMu: d("3"), ExistingDebt: d("30000")}
	in.Applicant.Age = 45
	in.Recommendation = RecommendationInput{Present: true, Creditworthy: true, Amount: d("80000")}
	return in
}

// catalogueItems is a catalogue lookup: FZ-PA-11 (上访) is not for credit.
func catalogueItems(code string) (exists, forCredit bool) {
	switch code {
	case "FZ-PA-06", "FZ-PA-08", "FZ-PA-15", "DZ-XF-01":
		return true, true
	case "FZ-PA-11":
		return true, false
	}
	return false, false
}
