package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vocabEnv resolves every vocabulary input, its slot being its index in
// the vocabulary.
func vocabEnv(name string) (int, *InputSpec, string) {
	i, ok := inputIndex[name]
	if !ok {
		return -1, nil, "unknown input " + name
	}
	return i, inputs[i], ""
}

// vocabVals reads every vocabulary input of in, as evaluation does.
func vocabVals(in Input) []value {
	out := make([]value, len(inputs))
	for i, s := range inputs {
		switch {
		case s.dec != nil:
			out[i].d = *s.dec(&in)
		case s.num != nil:
			out[i].i = int64(*s.num(&in))
		case s.flag != nil:
			if *s.flag(&in) {
				out[i].i = 1
			}
		default:
			out[i].i = int64(s.enumIndex(string(*s.str(&in))))
		}
	}
	return out
}

func TestCondEval(t *testing.T) {
	in := typical() // credit 115, village star, age 45, debt 30000, not dishonest
	for _, tc := range []struct {
		src, canonical string
		want           bool
	}{
		{"facts.dishonest_debtor", "facts.dishonest_debtor", false},
		{"not facts.dishonest_debtor", "not facts.dishonest_debtor", true},
		{"facts.dishonest_debtor == false", "facts.dishonest_debtor == false", true},
		{"facts.dishonest_debtor != false", "facts.dishonest_debtor != false", false},
		{"points.credit > 114.99", "points.credit > 114.99", true},
		{"points.credit >= 115.00", "points.credit >= 115", true},
		{"points.credit > 115", "points.credit > 115", false},
		{"points.credit < 115", "points.credit < 115", false},
		{"points.credit <= 115", "points.credit <= 115", true},
		{"points.credit == 115.0", "points.credit == 115", true},
		{"points.credit != 115", "points.credit != 115", false},
		{"points.credit > -5", "points.credit > -5", true},
		{"applicant.age < 18 or applicant.age > 65", "applicant.age < 18 or applicant.age > 65", false},
		{"applicant.age>=45and applicant.age<=45", "applicant.age >= 45 and applicant.age <= 45", true},
		{"star.level == village", "star.level == village", true},
		{"star.level != 'village'", "star.level != village", false},
		{`star.level in [county, "town"]`, "star.level in [town, county]", false},
		{"star.level not in [county, town]", "star.level not in [town, county]", true},
		{"(points.credit < 60 or facts.existing_debt > 20000) and not blacklisted",
			"(points.credit < 60 or facts.existing_debt > 20000) and not blacklisted", true},
		{"points.credit < 60 or facts.existing_debt > 20000 and blacklisted",
			"points.credit < 60 or (facts.existing_debt > 20000 and blacklisted)", false},
		{"not (blacklisted or facts.dishonest_debtor)", "not (blacklisted or facts.dishonest_debtor)", true},
	} {
		t.Run(tc.src, func(t *testing.T) {
			c, errs := parseCond(tc.src, vocabEnv)
			require.Empty(t, errs)
			assert.Equal(t, tc.canonical, c.String())
			assert.Equal(t, tc.want, c.eval(vocabVals(in)))
			// The canonical form parses to the same condition.
			c2, errs := parseCond(c.String(), vocabEnv)
			require.Empty(t, errs)
			assert.Equal(t, c.String(), c2.String())
			assert.Equal(t, tc.want, c2.eval(vocabVals(in)))
		})
	}
}

func TestCondErrors(t *testing.T) {
	for _, tc := range []struct {
		src  string
		at   int // byte offset of the problem
		want string
	}{
		{"", 0, "empty"},
		{"points.credit >", 15, "expected a value"},
		{"points.credit > 5 5", 18, "unexpected"},
		{"(blacklisted", 12, "expected )"},
		{"blacklisted or", 14, "ends too early"},
		{"blacklisted || x", 12, "write and / or"},
		{"!blacklisted", 0, "use not"},
		{"points.credit = 5", 14, "use =="},
		{"points.credit > 1.", 16, "not a number"},
		{"points.credit > 5 # note", 18, "unexpected character"},
		{"star.level == 'town", 14, "unterminated"},
		{"nosuch.input", 0, "unknown input"},
		{"points.credit", 0, "compare it with a value"},
		{"star.level", 0, "compare it with a value"},
		{"blacklisted > true", 12, "only == and != apply"},
		{"blacklisted == 1", 15, "true or false"},
		{"applicant.age > 17.5", 16, "whole number"},
		{"points.credit == village", 17, "compare it with a number"},
		{"star.level == gold", 14, `"gold" is not a value`},
		{"star.level in [town, town]", 21, "listed twice"},
		{"star.level in [none, village, town, county]", 11, "always true"},
		{"points.credit in [1]", 14, "in applies to enum inputs"},
		{"points.credit > 1000000", 16, "outside the range"},
		{"star.level not blacklisted", 15, "expected in"},
		{"star.level in town", 14, "expected ["},
		{"star.level in [town county]", 20, "expected , or ]"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			c, errs := parseCond(tc.src, vocabEnv)
			assert.Nil(t, c)
			require.NotEmpty(t, errs)
			assert.Contains(t, errs[0].msg, tc.want)
			assert.Equal(t, tc.at, errs[0].off)
		})
	}
}

// Type problems do not stop the checker: every one is reported.
func TestCondReportsEveryTypeError(t *testing.T) {
	_, errs := parseCond("points.credit == true or star.level > town or nosuch > 1", vocabEnv)
	require.Len(t, errs, 3)
	assert.Equal(t, []int{17, 36, 46}, []int{errs[0].off, errs[1].off, errs[2].off})
}

func TestCondLimits(t *testing.T) {
	deep := ""
	for range maxCondDepth + 1 {
		deep += "not "
	}
	_, errs := parseCond(deep+"blacklisted", vocabEnv)
	require.NotEmpty(t, errs)
	assert.Contains(t, errs[0].msg, "nested")

	long := "blacklisted"
	for len(long) <= maxCondLen {
		long += " or blacklisted"
	}
	_, errs = parseCond(long, vocabEnv)
	require.NotEmpty(t, errs)
	assert.Contains(t, errs[0].msg, "at most")
}

func TestCondReadsAndThresholds(t *testing.T) {
	c, errs := parseCond("facts.existing_debt > 500000 or other_banks.total_drawn > 300000 or facts.existing_debt == 7", vocabEnv)
	require.Empty(t, errs)
	debt := inputIndex["facts.existing_debt"]
	assert.True(t, c.reads(debt))
	assert.False(t, c.reads(inputIndex["points.credit"]))
	th := c.thresholds(debt)
	require.Len(t, th, 2)
	assert.Equal(t, "500000", th[0].String())
	assert.Equal(t, "7", th[1].String())
}

// Evaluating a condition allocates nothing.
func TestCondEvalAllocs(t *testing.T) {
	c, errs := parseCond("(points.credit < 60 or repayment.overdue_days_max_24m > 90) and not blacklisted and star.level in [town, county]", vocabEnv)
	require.Empty(t, errs)
	vals := vocabVals(typical())
	allocs := testing.AllocsPerRun(100, func() { c.eval(vals) })
	assert.Zero(t, allocs)
}
