package rules

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/examples/catalogues"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

func TestParseSmall(t *testing.T) {
	p := mustParse(t, smallYAML, nil)
	assert.Equal(t, "test-bank", p.Bank)
	assert.Equal(t, "test-loan", p.Product)
	assert.Equal(t, 1, p.Version)
	assert.Equal(t, "2024-01-01", string(p.EffectiveDate))
	assert.Equal(t, 30, p.DecisionValidDays)
	require.Len(t, p.Inputs, 4)
	assert.Equal(t, "points.credit", p.Inputs[0].Name)
	assert.Equal(t, TypeDecimal, p.Inputs[0].Type)
	assert.Equal(t, "1000", p.Inputs[0].Max.String())
	require.Len(t, p.KnockOuts, 1)
	assert.Equal(t, "facts.dishonest_debtor", p.KnockOuts[0].When.String())
	require.Len(t, p.Characteristics, 2)
	assert.Equal(t, "[100, 120)", p.Characteristics[0].Bins[1].Range.String())
	assert.Equal(t, "[120, +inf)", p.Characteristics[0].Bins[2].Range.String())
	assert.Equal(t, []string{"town", "county"}, p.Characteristics[1].Bins[1].Values)
	assert.Equal(t, 0, p.MinScore())
	assert.Equal(t, 120, p.MaxScore())
	assert.Equal(t, []string{"A", "B", "D"}, []string{p.Grades[0].Name, p.Grades[1].Name, p.Grades[2].Name})
	assert.False(t, p.Grades[2].Eligible)
	assert.Equal(t, "100000", p.Limit.BaseByGrade["A"].String())
	assert.Equal(t, "3", p.Limit.Caps.IncomeMultiple.String())
	assert.Equal(t, "1000", p.Limit.MinAmount.String(), "min_amount defaults to one rounding unit")
	assert.Equal(t, "0.0395", p.Rates.ByGrade["A"].Rate.String())
	assert.Equal(t, "0.05", p.Rates.ByGrade["B"].Rate.String())
	assert.Len(t, p.Hash(), 64)
	assert.Equal(t, "test-bank/test-loan v1", p.String())
}

// Each class of problem is reported at the line (and, in conditions, the
// column) where it was written.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edits   []string
		items   ItemForCredit
		marker  string // the offending line contains it
		col     string // when set, the column of this text on that line
		message string
	}{
		{"unknown key", []string{"decision_valid_days: 30", "decision_valid_days: 30\ncolour: red"}, nil,
			"colour: red", "", "unknown field"},
		{"unknown key in a bin", []string{`{range: "[100, 120)", points: 50}`, `{range: "[100, 120)", points: 50, weight: 2}`}, nil,
			`"[100, 120)"`, "", "unknown field"},
		{"type error", []string{"version: 1", "version: one"}, nil, "version: one", "", "must be a whole number"},
		{"type error in points", []string{`points: 50}`, `points: "50"}`}, nil, `points: "50"`, "", "must be a whole number"},
		{"bool expected", []string{"{grade: D, min_score: 0, eligible: false}", "{grade: D, min_score: 0, eligible: no}"}, nil,
			"eligible: no", "", "must be true or false"},
		{"duplicate key", []string{"version: 1", "version: 1\nversion: 2"}, nil, "version: 2", "", "duplicate key"},
		{"overlapping bins", []string{`"[100, 120)"`, `"[90, 120)"`}, nil, `"[90, 120)"`, "", "overlaps the bin before it"},
		{"overlap at a closed end", []string{`"[0, 100)"`, `"[0, 100]"`}, nil, `"[100, 120)"`, "", "overlaps"},
		{"gapped bins", []string{`"[120, +inf)"`, `"[130, +inf)"`}, nil, `"[130, +inf)"`, "", "leaves a gap"},
		{"gap at an open end", []string{`"[100, 120)"`, `"(100, 120)"`}, nil, `"(100, 120)"`, "", "100 itself has no bin"},
		{"bins out of order", []string{`"[120, +inf)"`, `"[50, +inf)"`}, nil, `"[50, +inf)"`, "", "out of order"},
		{"uncovered range", []string{`"[0, 100)"`, `"[10, 100)"`}, nil, `"[10, 100)"`, "", "does not cover the declared range"},
		{"uncovered top", []string{`"[120, +inf)"`, `"[120, 500)"`}, nil, `"[120, 500)"`, "", "its maximum, has no bin"},
		{"uncovered enum value", []string{"values: [town, county]", "values: [town]"}, nil, "values: [none, village]", "", "county has none"},
		{"enum value twice", []string{"values: [town, county]", "values: [town, county, none]"}, nil,
			"values: [town, county, none]", "", "already in bin 0"},
		{"unknown enum value", []string{"values: [town, county]", "values: [town, county, gold]"}, nil,
			"values: [town, county, gold]", "", `"gold" is not a value of star.level`},
		{"monotone violated", []string{`"[120, +inf)", points: 100`, `"[120, +inf)", points: 40`}, nil,
			`"[120, +inf)"`, "", "points fall from 50 to 40"},
		{"empty range", []string{`"[100, 120)"`, `"[100, 100)"`}, nil, `"[100, 100)"`, "", "is empty"},
		{"bad range syntax", []string{`"[100, 120)"`, `"100 to 120"`}, nil, `"100 to 120"`, "", "is not a range"},
		{"unreachable grade", []string{"{grade: A, min_score: 100}", "{grade: A, min_score: 200}"}, nil,
			"{grade: A, min_score: 200}", "", "unreachable grade A"},
		{"unreachable low grade", []string{"{grade: D, min_score: 0, eligible: false}", "{grade: D, min_score: -50, eligible: false}",
			"{grade: B, min_score: 50}", "{grade: B, min_score: 0}"}, nil, "{grade: D", "", "unreachable grade D"},
		{"scores without a grade", []string{"{grade: D, min_score: 0, eligible: false}", "{grade: D, min_score: 10, eligible: false}"}, nil,
			"{grade: D", "", "scores from 0 to 9 get no grade"},
		{"grades out of order", []string{"{grade: B, min_score: 50}", "{grade: B, min_score: 150}"}, nil,
			"{grade: B", "", "best first"},
		{"cap below base", []string{"product_max: 200000", "product_max: 80000"}, nil,
			"product_max: 80000", "", "is below the base amount ¥100000 of grade A"},
		{"base of an ineligible grade", []string{"{A: 100000, B: 50000}", "{A: 100000, B: 50000, D: 1000}"}, nil,
			"base_by_grade:", "", "grade D is not eligible"},
		{"base missing", []string{"{A: 100000, B: 50000}", "{A: 100000}"}, nil,
			"base_by_grade:", "", "no base amount for eligible grade B"},
		{"base rises as grade falls", []string{"{A: 100000, B: 50000}", "{A: 100000, B: 150000}"}, nil,
			"base_by_grade:", "", "more than the better grade A gets"},
		{"round unit not positive", []string{"round_down_to: 1000", "round_down_to: 0"}, nil, "round_down_to: 0", "", "must be more than 0"},
		{"rate missing", []string{"    B: {annual_rate: 0.05}\n", ""}, nil, "  by_grade:", "", "no rate for eligible grade B"},
		{"rate falls as grade falls", []string{"{annual_rate: 0.05}", "{annual_rate: 0.03}"}, nil,
			"{annual_rate: 0.03}", "", "below the better grade A"},
		{"undeclared input (characteristic)", []string{"input: star.level", "input: star.stars"}, nil,
			"input: star.stars", "", "reads star.stars, which is not declared"},
		{"undeclared input (condition)", []string{"when: facts.dishonest_debtor", "when: facts.dishonest_debtor or applicant.age > 70"}, nil,
			"when: facts.dishonest_debtor or", "applicant.age", "reads applicant.age, which is not declared"},
		{"undeclared input (cap)", []string{"  facts.annual_income: {type: decimal, min: 0, max: 10000000}\n", ""}, nil,
			"income_multiple: 3", "", "reads facts.annual_income, which is not declared"},
		{"unknown input", []string{"  star.level: {type: enum}", "  star.level: {type: enum}\n  facts.favourite_colour: {type: enum}"}, nil,
			"facts.favourite_colour", "", `unknown input "facts.favourite_colour"`},
		{"unknown input in a condition", []string{"when: facts.dishonest_debtor", "when: facts.dishonest_debtor or facts.shoe_size > 40"}, nil,
			"when: facts.dishonest_debtor or", "facts.shoe_size", `unknown input "facts.shoe_size"`},
		{"declared but never read", []string{"  star.level: {type: enum}", "  star.level: {type: enum}\n  blacklisted: {type: bool}"}, nil,
			"blacklisted: {type: bool}", "", "declared but never read"},
		{"declared type wrong", []string{"points.credit: {type: decimal", "points.credit: {type: int"}, nil,
			"points.credit: {type: int", "", "points.credit is decimal, not \"int\""},
		{"declared range beyond the engine's", []string{"facts.annual_income: {type: decimal, min: 0,", "facts.annual_income: {type: decimal, min: -5,"}, nil,
			"facts.annual_income: {type: decimal, min: -5", "", "must be between 0 and"},
		{"not-for-credit item", []string{
			"  star.level: {type: enum}", "  star.level: {type: enum}\n  item.FZ-PA-11: {type: decimal, min: -100, max: 100}",
			"when: facts.dishonest_debtor", "when: facts.dishonest_debtor or item.FZ-PA-11 < 0"}, catalogueItems,
			"item.FZ-PA-11: {type", "", "marked not-for-credit"},
		{"item not in the catalogue", []string{
			"  star.level: {type: enum}", "  star.level: {type: enum}\n  item.ZZ-XX-99: {type: decimal, min: -100, max: 100}",
			"when: facts.dishonest_debtor", "when: facts.dishonest_debtor or item.ZZ-XX-99 < 0"}, catalogueItems,
			"item.ZZ-XX-99: {type", "", "the catalogue has no item ZZ-XX-99"},
		{"bad condition syntax", []string{"when: facts.dishonest_debtor", "when: facts.dishonest_debtor and"}, nil,
			"when: facts.dishonest_debtor and", "", "ends too early"},
		{"bad operator", []string{"when: facts.dishonest_debtor", "when: facts.dishonest_debtor && points.credit < 10"}, nil,
			"when: facts.dishonest_debtor &&", "&&", "write and / or"},
		{"single =", []string{"when: facts.dishonest_debtor", "when: points.credit = 10"}, nil,
			"when: points.credit = 10", "= 10", "use =="},
		{"unbalanced parenthesis", []string{"when: facts.dishonest_debtor", "when: (facts.dishonest_debtor or points.credit < 10"}, nil,
			"when: (facts", "", "expected )"},
		{"type mismatch: decimal vs bool", []string{"when: facts.dishonest_debtor", "when: points.credit == true"}, nil,
			"when: points.credit == true", "true", "compare it with a number"},
		{"type mismatch: ordering an enum", []string{"when: facts.dishonest_debtor", "when: star.level > town"}, nil,
			"when: star.level > town", ">", "only ==, != and in apply"},
		{"type mismatch: bare number", []string{"when: facts.dishonest_debtor", "when: points.credit"}, nil,
			"when: points.credit", "points.credit", "compare it with a value"},
		{"type mismatch: in on a number", []string{"when: facts.dishonest_debtor", "when: points.credit in [1, 2]"}, nil,
			"when: points.credit in", "in [", "in applies to enum inputs"},
		{"condition literal out of range", []string{"when: facts.dishonest_debtor", "when: points.credit < 1000000"}, nil,
			"when: points.credit < 1000000", "1000000", "outside the range of points.credit"},
		{"quoted condition column", []string{"when: facts.dishonest_debtor", `when: "points.credit == true"`}, nil,
			`when: "points.credit == true"`, "true", "compare it with a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := mutate(t, smallYAML, tc.edits...)
			_, err := Parse([]byte(doc), tc.items)
			errs := lintErrors(t, err)
			line := lineOf(t, doc, tc.marker)
			e := findErr(t, errs, line, tc.message)
			if tc.col != "" {
				assert.Equal(t, colOf(t, doc, tc.marker, tc.col), e.Column, "column of %q in %s", tc.col, errs.Error())
			}
		})
	}
}

func TestParseDuplicateID(t *testing.T) {
	doc := mutate(t, smallYAML, "- id: star", "- id: points")
	errs := lintErrors(t, Lint([]byte(doc), nil))
	e := findErr(t, errs, lineOf(t, doc, "input: star.level")-1, `duplicate id "points"`)
	assert.Contains(t, e.Message, "first at line 20")
	assert.Equal(t, "scorecard.characteristics[1].id", e.Path)
}

// Every problem of a document is reported at once, sorted by line.
func TestParseReportsAllProblems(t *testing.T) {
	doc := mutate(t, smallYAML,
		"version: 1", "version: one",
		"decision_valid_days: 30", "decision_valid_days: 30\ncolour: red",
		`"[100, 120)"`, `"[90, 120)"`,
		`"[120, +inf)"`, `"[130, +inf)"`,
		"when: facts.dishonest_debtor", "when: facts.dishonest_debtor or applicant.age > 70",
		"product_max: 200000", "product_max: 80000",
		"{grade: A, min_score: 100}", "{grade: A, min_score: 100}\n  - {grade: AA, min_score: 120}",
	)
	_, err := Parse([]byte(doc), nil)
	errs := lintErrors(t, err)
	findErr(t, errs, lineOf(t, doc, "version: one"), "whole number")
	findErr(t, errs, lineOf(t, doc, "colour: red"), "unknown field")
	findErr(t, errs, lineOf(t, doc, `"[90, 120)"`), "overlaps")
	findErr(t, errs, lineOf(t, doc, `"[130, +inf)"`), "gap")
	findErr(t, errs, lineOf(t, doc, "applicant.age > 70"), "not declared")
	findErr(t, errs, lineOf(t, doc, "product_max: 80000"), "below the base amount")
	findErr(t, errs, lineOf(t, doc, "{grade: AA"), "best first")
	assert.GreaterOrEqual(t, len(errs), 7)
	for i := 1; i < len(errs); i++ {
		assert.LessOrEqual(t, errs[i-1].Line, errs[i].Line, "sorted by line")
	}
	// The error converts to an Invalid fault, one violation per problem.
	var f *fault.Error
	require.True(t, errors.As(err, &f))
	assert.Equal(t, fault.Invalid, f.Kind)
	assert.Equal(t, "POLICY_INVALID", f.Reason)
	assert.Len(t, f.Violations, len(errs))
	assert.Contains(t, f.Violations[0].Description, "line 3:")
}

func TestParseDocumentLevel(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"empty", "", "document is empty"},
		{"not a mapping", "- a\n- b\n", "must be a mapping"},
		{"yaml syntax", "bank: [unclosed\n", "YAML syntax"},
		{"two documents", smallYAML + "---\nbank: x\n", "only one YAML document"},
		{"anchor", strings.Replace(smallYAML, "name: {", "name: &n {", 1), "anchors"},
		{"not utf-8", "bank: \xff\n", "not valid UTF-8"},
		{"currency", strings.Replace(smallYAML, "currency: CNY", "currency: USD", 1), "must be CNY"},
		{"date", strings.Replace(smallYAML, "effective_date: 2024-01-01", "effective_date: 2024-02-30", 1), "YYYY-MM-DD"},
		{"missing section", strings.Replace(smallYAML, "decision_valid_days: 30\n", "", 1), "line: required"},
		{"validity twice", strings.Replace(smallYAML, "decision_valid_days: 30\n", "decision_valid_days: 30\nline: {term_months: 12, review_months: 12}\n", 1),
			"either decision_valid_days or line"},
		{"review after term", strings.Replace(smallYAML, "decision_valid_days: 30\n", "line: {term_months: 12, review_months: 13}\n", 1),
			"line.review_months: must be at most term_months (12)"},
		{"term too long", strings.Replace(smallYAML, "decision_valid_days: 30\n", "line: {term_months: 61, review_months: 12}\n", 1),
			"line.term_months"},
		{"term missing", strings.Replace(smallYAML, "decision_valid_days: 30\n", "line: {review_months: 12}\n", 1),
			"line.term_months: required"},
		{"line unknown key", strings.Replace(smallYAML, "decision_valid_days: 30\n", "line: {term_months: 12, review_months: 12, grace_days: 3}\n", 1),
			"unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := lintErrors(t, Lint([]byte(tc.doc), nil))
			assert.Contains(t, errs.Error(), tc.want)
		})
	}
}

func TestParseExample(t *testing.T) {
	p := examplePolicy(t)
	assert.Equal(t, "tongxiang-rcb", p.Bank)
	assert.Equal(t, "sanzhi-xindai", p.Product)
	assert.Equal(t, 25, p.MinScore())
	assert.Equal(t, 630, p.MaxScore())
	ids := make([]string, len(p.KnockOuts))
	for i, k := range p.KnockOuts {
		ids[i] = k.ID
	}
	assert.Equal(t, []string{"dishonest_debtor", "bad_credit_record", "black_list", "criminal_record", "gambling_drugs",
		"usury", "village_compact", "over_borrowing", "age"}, ids)
	assert.Equal(t, "repayment.classification in [loss, doubtful, substandard] or repayment.defaulted_24m or "+
		"repayment.overdue_days_max_24m > 90 or repayment.overdue_count_24m >= 6", p.KnockOuts[1].When.String())
	require.NotNil(t, p.Line)
	assert.Equal(t, LineTerms{TermMonths: 12, ReviewMonths: 12}, *p.Line)
	assert.Equal(t, "300000", p.Limit.Caps.ProductMax.String())
	assert.Equal(t, "0.0385", p.Rates.ByGrade["AAA"].Rate.String())
}

// The example loads against the real county catalogue, whose FZ-PA-11 (上访)
// is not for credit; reading it is refused.
func TestParseExampleAgainstCatalogue(t *testing.T) {
	b, err := catalogues.FS.ReadFile(catalogues.CountyFile)
	require.NoError(t, err)
	county, err := points.ParseCounty(b)
	require.NoError(t, err)
	lookup := func(code string) (bool, bool) {
		for _, it := range county.Items {
			if it.Code == code {
				return true, it.ForCredit
			}
		}
		return false, false
	}
	src := string(exampleBytes(t))
	_, err = Parse([]byte(src), lookup)
	require.NoError(t, err)

	bad := mutate(t, src, "item.FZ-PA-15:                  {type", "item.FZ-PA-11:                  {type",
		"when: item.FZ-PA-15 < 0", "when: item.FZ-PA-11 < 0")
	errs := lintErrors(t, Lint([]byte(bad), lookup))
	findErr(t, errs, lineOf(t, bad, "item.FZ-PA-11:  "), "not-for-credit")
}

// The hash identifies what a policy means, not how it is written.
func TestPolicyHash(t *testing.T) {
	base := mustParse(t, smallYAML, nil)
	same := mutate(t, smallYAML,
		"when: facts.dishonest_debtor", "when:   facts.dishonest_debtor  ",
		"name: {zh-CN: 测试政策, en: Test policy}", "# a comment\nname:\n  en: Test policy\n  zh-CN: 测试政策",
		`{range: "[0, 100)", points: 0}`, `{points: 0, range: "[ 0 , 100 )"}`,
	)
	assert.Equal(t, base.Hash(), mustParse(t, same, nil).Hash())
	for _, edit := range [][]string{
		{`"[120, +inf)", points: 100`, `"[120, +inf)", points: 101`},
		{"version: 1", "version: 2"},
		{"{zh-CN: 失信被执行人, en: Dishonest debtor}", "{zh-CN: 失信被执行人, en: Dishonest}"},
		{"round_down_to: 1000", "round_down_to: 500"},
		{"{spread_bp: 50}", "{spread_bp: 60}"},
	} {
		assert.NotEqual(t, base.Hash(), mustParse(t, mutate(t, smallYAML, edit...), nil).Hash(), "edit %v", edit)
	}
}

// A policy with a line block: the decision stands term_months from its
// day (a month's end clamped to the shorter month) and is due for review
// review_months after it; the block enters the policy's hash, and a
// policy without one hashes as it did before the block existed.
func TestLineTerms(t *testing.T) {
	doc := strings.Replace(smallYAML, "decision_valid_days: 30\n", "line: {term_months: 12, review_months: 6}\n", 1)
	p, err := Parse([]byte(doc), nil)
	require.NoError(t, err)
	require.NotNil(t, p.Line)
	assert.Equal(t, LineTerms{TermMonths: 12, ReviewMonths: 6}, *p.Line)
	assert.Zero(t, p.DecisionValidDays)
	d := Evaluate(p, Input{}, "2024-08-31")
	assert.Equal(t, household.Date("2025-08-31"), d.ValidUntil)
	assert.Equal(t, household.Date("2025-02-28"), d.ReviewOn)
	assert.Contains(t, string(d.Canonical()), `"review_on":"2025-02-28"`)

	old, err := Parse([]byte(smallYAML), nil)
	require.NoError(t, err)
	assert.NotContains(t, string(old.Canonical()), `"line"`)
	assert.NotEqual(t, old.Hash(), p.Hash())
	od := Evaluate(old, Input{}, "2024-08-31")
	assert.Equal(t, household.Date("2024-09-30"), od.ValidUntil)
	assert.Empty(t, od.ReviewOn)
	assert.NotContains(t, string(od.Canonical()), "review_on")
}
