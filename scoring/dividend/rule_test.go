package dividend

import (
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dividends "github.com/sanzhi/sanzhi/examples/dividends"
	"github.com/sanzhi/sanzhi/fault"
)

const goodRule = `kind: dividend_rule
village: "330483102215"
version: 1
name: 南阳村股份+积分分红
split:
  shares_percent: 70
  points_percent: 30
points:
  balance: credit
  areas: [minsheng, xiangfeng]
household_cap: 5000.50
exclusions:
  black_list: points
public_notice_days: 7
`

func TestParseRuleGood(t *testing.T) {
	r, err := ParseRule([]byte(goodRule))
	require.NoError(t, err)
	assert.Equal(t, "330483102215", r.Village)
	assert.Equal(t, 1, r.Version)
	assert.Equal(t, "南阳村股份+积分分红", r.Name)
	assert.True(t, r.SharesPercent.Equal(decimal.NewFromInt(70)))
	assert.True(t, r.PointsPercent.Equal(decimal.NewFromInt(30)))
	assert.Equal(t, Credit, r.Balance)
	assert.Equal(t, []string{"minsheng", "xiangfeng"}, r.Areas)
	assert.Equal(t, "5000.5", r.Cap.String())
	assert.Equal(t, LosePoints, r.BlackList)
	assert.Equal(t, 7, r.NoticeDays)
	assert.Len(t, r.Hash, 64)
}

func TestParseRuleMinimal(t *testing.T) {
	// Shares only: no points section, no cap, no exclusions.
	r, err := ParseRule([]byte(`kind: dividend_rule
village: "330483102215"
version: 2
name: 按股分红
split: {shares_percent: 100, points_percent: 0}
public_notice_days: 3
`))
	require.NoError(t, err)
	assert.True(t, r.Cap.IsZero())
	assert.Equal(t, KeepAll, r.BlackList)
	assert.Equal(t, Balance(""), r.Balance)
}

// problems parses doc and returns its problems as "path: message" lines.
func problems(t *testing.T, doc string) []string {
	t.Helper()
	_, err := ParseRule([]byte(doc))
	require.Error(t, err)
	var le LintErrors
	require.True(t, errors.As(err, &le), "error %v is not LintErrors", err)
	out := make([]string, len(le))
	for i, p := range le {
		out[i] = p.String()
	}
	return out
}

func TestParseRuleSplitMustAddUpTo100(t *testing.T) {
	doc := strings.Replace(goodRule, "points_percent: 30", "points_percent: 20", 1)
	ps := problems(t, doc)
	require.Len(t, ps, 1)
	assert.Contains(t, ps[0], "line 6:3: split: shares_percent 70 + points_percent 20 = 90; the two parts must add up to exactly 100")

	// 100.01 is not 100 either, and the fault is Invalid on "document".
	doc = strings.Replace(goodRule, "points_percent: 30", "points_percent: 30.01", 1)
	_, err := ParseRule([]byte(doc))
	var f *fault.Error
	require.True(t, errors.As(err, &f))
	assert.Equal(t, fault.Invalid, f.Kind)
	assert.Equal(t, "DIVIDEND_RULE_INVALID", f.Reason)
	require.Len(t, f.Violations, 1)
	assert.Equal(t, "document", f.Violations[0].Field)
	assert.Contains(t, f.Violations[0].Description, "= 100.01")
}

func TestParseRuleBadValues(t *testing.T) {
	cases := map[string]struct{ from, to, want string }{
		"unknown key":          {"public_notice_days: 7", "public_notice_days: 7\nbonus: 1", "bonus: unknown field"},
		"negative percent":     {"shares_percent: 70", "shares_percent: -70", "split.shares_percent: must be between 0 and 100"},
		"sub-hundredth":        {"shares_percent: 70", "shares_percent: 69.995", "more than two decimal places"},
		"percent as text":      {"shares_percent: 70", `shares_percent: "70"`, "split.shares_percent: must be a decimal number"},
		"bad balance":          {"balance: credit", "balance: earned", `points.balance: must be "credit" or "redeemable"`},
		"areas on redeemable":  {"balance: credit", "balance: redeemable", "points.areas: applies to credit points only"},
		"duplicate area":       {"[minsheng, xiangfeng]", "[minsheng, minsheng]", `points.areas[1]: area "minsheng" is listed twice`},
		"bad area code":        {"[minsheng, xiangfeng]", "[民生, xiangfeng]", "points.areas[0]"},
		"empty areas":          {"[minsheng, xiangfeng]", "[]", "points.areas: is empty"},
		"negative cap":         {"household_cap: 5000.50", "household_cap: -1", "household_cap: must be positive"},
		"sub-fen cap":          {"household_cap: 5000.50", "household_cap: 5000.505", "whole fen"},
		"bad exclusion":        {"black_list: points", "black_list: yes", `exclusions.black_list: must be "none", "points" or "all"`},
		"notice too long":      {"public_notice_days: 7", "public_notice_days: 31", "public_notice_days: must be between 1 and 30"},
		"bad village":          {`village: "330483102215"`, `village: "33048310221"`, "village:"},
		"wrong kind":           {"kind: dividend_rule", "kind: village", `kind: must be "dividend_rule"`},
		"duplicate key":        {"version: 1", "version: 1\nversion: 2", "version: duplicate key"},
		"anchors not allowed":  {"shares_percent: 70", "shares_percent: &a 70", "anchors"},
		"missing notice days":  {"public_notice_days: 7\n", "", "public_notice_days: required"},
		"points part no rules": {"points:\n  balance: credit\n  areas: [minsheng, xiangfeng]\n", "", "points: required: points_percent is 30"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			require.Contains(t, goodRule, c.from)
			ps := problems(t, strings.Replace(goodRule, c.from, c.to, 1))
			assert.Contains(t, strings.Join(ps, "\n"), c.want)
		})
	}
}

func TestParseRuleCollectsEveryProblem(t *testing.T) {
	doc := strings.NewReplacer("version: 1", "version: 0", "balance: credit", "balance: x", "public_notice_days: 7", "public_notice_days: 0").Replace(goodRule)
	ps := problems(t, doc)
	require.Len(t, ps, 3)
	// Sorted by line.
	assert.Contains(t, ps[0], "version")
	assert.Contains(t, ps[1], "points.balance")
	assert.Contains(t, ps[2], "public_notice_days")
}

func TestParseRuleNotYAML(t *testing.T) {
	for _, doc := range []string{"", "- a\n- b\n", "kind: [", "\xff\xfe"} {
		_, err := ParseRule([]byte(doc))
		assert.True(t, fault.Is(err, fault.Invalid), "%q: %v", doc, err)
	}
}

func TestExampleRuleIsValid(t *testing.T) {
	doc, err := dividends.FS.ReadFile(dividends.NanyangFile)
	require.NoError(t, err)
	r, err := ParseRule(doc)
	require.NoError(t, err)
	assert.Equal(t, "330483102215", r.Village)
	assert.Equal(t, LosePoints, r.BlackList)
}
