package modelrisk_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/modelrisk"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

const asOf household.Date = "2026-06-30"

// policyYAML scores 0..120: points give 0, 50 or 100 and the star 0 or
// 20. A from 100, B from 50, D below; a score of 100 means odds of 10:1
// and every 20 points double them.
const policyYAML = `bank: test-bank
product: test-loan
version: 3
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
      label: {zh-CN: 三治积分, en: Governance points}
      monotone: increasing
      bins:
        - {range: "[0, 100)", points: 0}
        - {range: "[100, 120)", points: 50}
        - {range: "[120, +inf)", points: 100, label: {zh-CN: 高分, en: "high <b>"}}
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

func testSpec(t testing.TB) modelrisk.Spec {
	t.Helper()
	p, err := rules.Parse([]byte(policyYAML), nil)
	require.NoError(t, err)
	return modelrisk.SpecOf(p)
}

// handSpec is a spec for hand-computed cases: scores 0..10, one
// characteristic of two bins, grades A (≥ 5) and B.
func handSpec() modelrisk.Spec {
	return modelrisk.Spec{Bank: "b", Product: "p", Version: 1, Hash: "h", MinScore: 0, MaxScore: 10,
		Grades:  []modelrisk.GradeSpec{{Name: "A", MinScore: 5, Eligible: true}, {Name: "B", MinScore: 0, Eligible: true}},
		Scaling: modelrisk.Scaling{BaseScore: 5, BaseOdds: 10, PDO: 5},
		Characteristics: []modelrisk.CharSpec{{ID: "c", Label: rules.Label{ZH: "特征", EN: "characteristic"},
			Bins: []rules.Label{{ZH: "低", EN: "low"}, {ZH: "高", EN: "high"}}}}}
}

// pid returns a valid 身份证号 of a person born on birth (YYYYMMDD) whose
// sequence number is seq: odd for a man, even for a woman.
func pid(t testing.TB, birth string, seq int) idnum.PersonID {
	t.Helper()
	first := fmt.Sprintf("330483%s%03d", birth, seq)
	c, err := idnum.CheckDigit(first)
	require.NoError(t, err)
	id, err := idnum.ParsePersonIDAt(first+string(c), time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	return id
}

// scored is a decision with only a score, an outcome and the bin the
// score falls in (low below 5), declined, in village v1, no ID.
func scored(score int, o modelrisk.Outcome) *modelrisk.Decision {
	bin := 0
	if score >= 5 {
		bin = 1
	}
	return &modelrisk.Decision{Score: score, Bins: []int{bin}, Outcome: o, Applicant: modelrisk.Applicant{Village: "v1"}}
}

func tally(t testing.TB, spec modelrisk.Spec, cfg modelrisk.Config, ds ...*modelrisk.Decision) *modelrisk.Tally {
	t.Helper()
	tl, err := modelrisk.NewTally(spec, cfg)
	require.NoError(t, err)
	for _, d := range ds {
		require.NoError(t, tl.Add(d))
	}
	return tl
}

func report(t testing.TB, tl *modelrisk.Tally, ref *modelrisk.Reference) *modelrisk.Report {
	t.Helper()
	r, err := tl.Report(ref)
	require.NoError(t, err)
	return r
}
