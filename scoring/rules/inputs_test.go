package rules

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The vocabulary is the one the issue fixes; adding an input is a
// deliberate change to this list.
func TestVocabulary(t *testing.T) {
	var names []string
	for _, s := range Inputs() {
		names = append(names, s.Name+":"+s.Type.String())
	}
	assert.Equal(t, []string{
		"points.credit:decimal", "points.self_governance:decimal", "points.rule_of_law:decimal", "points.virtue:decimal",
		"star.level:enum", "star.stars:int", "blacklisted:bool", "facts.income_per_capita:decimal",
		"facts.annual_income:decimal", "facts.labourers:int", "facts.members:int", "facts.land_mu:decimal",
		"facts.collective_shares:decimal", "facts.existing_debt:decimal", "facts.dishonest_debtor:bool",
		"repayment.overdue_days_max_24m:int", "repayment.overdue_count_24m:int",
		"repayment.overdue_days_max_12m:int", "repayment.overdue_count_12m:int", "repayment.classification:enum",
		"repayment.defaulted_24m:bool", "applicant.age:int",
		"recommendation.creditworthy:bool", "recommendation.amount:decimal", "recommendation.present:bool",
		"other_banks.total_limit:decimal", "other_banks.total_drawn:decimal",
	}, names)
	var actionable []string
	for _, s := range Inputs() {
		if s.Direction != 0 {
			actionable = append(actionable, s.Name)
		}
	}
	assert.Equal(t, []string{"points.credit", "points.self_governance", "points.rule_of_law", "points.virtue", "facts.existing_debt"}, actionable)
	_, ok := lookupInput("item.DZ-XF-01")
	assert.True(t, ok)
	for _, bad := range []string{"item.", "item.dz-xf-01", "item.DZ--1", "points", "facts.shoe_size"} {
		_, ok := lookupInput(bad)
		assert.False(t, ok, bad)
	}
}

// referenceCanonical is the canonical form as json.Marshal writes it;
// Canonical writes it by hand for speed and must agree byte for byte.
func referenceCanonical(in Input) []byte {
	vals := map[string]any{}
	for _, s := range inputs {
		if s.Sparse && s.zero(&in) {
			continue
		}
		switch {
		case s.dec != nil:
			vals[s.Name] = s.dec(&in).String()
		case s.num != nil:
			vals[s.Name] = *s.num(&in)
		case s.flag != nil:
			vals[s.Name] = *s.flag(&in)
		default:
			v := string(*s.str(&in))
			if v == "" {
				v = "none"
			}
			vals[s.Name] = v
		}
	}
	for code, d := range in.Items {
		if !d.IsZero() {
			vals[ItemPrefix+code] = d.String()
		}
	}
	b, _ := json.Marshal(map[string]any{"format": inputFormat, "inputs": vals})
	return b
}

func TestInputCanonicalMatchesJSON(t *testing.T) {
	g := newGen(7)
	for i := range 500 {
		in := g.input()
		if i%7 == 0 {
			in.Star.Level = StarLevel([]string{"gold<&>", "村级", `q"uote`, "back\\slash", "tab\t"}[i%5])
		}
		if i%11 == 0 {
			in.Items = map[string]decimal.Decimal{"DZ-XF-01": d("2.50"), "A<B": d("1"), "ZZ": d("0")}
		}
		require.Equal(t, string(referenceCanonical(in)), string(in.Canonical()), "iteration %d", i)
	}
}

// A snapshot stored before the sparse inputs existed has none of them: it
// decodes (they read as zero) and encodes back to the very same bytes, so
// its hash, and every stored decision's replay, stay as they were. One
// with a sparse input set writes it, and round-trips.
func TestSparseInputsKeepStoredSnapshots(t *testing.T) {
	g := newGen(11)
	for i := range 200 {
		in := g.input()
		in.Repayment.OverdueDaysMax12m, in.Repayment.OverdueCount12m = 0, 0
		in.Repayment.Classification, in.Repayment.Defaulted24m = "", false
		stored := in.Canonical()
		for _, name := range []string{"repayment.overdue_days_max_12m", "repayment.overdue_count_12m",
			"repayment.classification", "repayment.defaulted_24m"} {
			require.NotContains(t, string(stored), name)
		}
		back, err := DecodeInput(stored)
		require.NoError(t, err, "iteration %d", i)
		require.Equal(t, string(stored), string(back.Canonical()), "iteration %d", i)
		require.Equal(t, in.Hash(), back.Hash())

		in.Repayment = RepaymentInput{OverdueDaysMax24m: 95, OverdueCount24m: 4, OverdueDaysMax12m: 40,
			OverdueCount12m: 2, Classification: "substandard", Defaulted24m: true}
		full := in.Canonical()
		assert.Contains(t, string(full), `"repayment.classification":"substandard"`)
		assert.Contains(t, string(full), `"repayment.defaulted_24m":true`)
		back, err = DecodeInput(full)
		require.NoError(t, err)
		require.Equal(t, in.Repayment, back.Repayment)
		require.Equal(t, string(full), string(back.Canonical()))
	}
	// Written out at zero (as a general JSON writer might), they still
	// decode; a missing input that is not sparse is still an error.
	zeroed := []byte(`{"format":"sanzhi.policy.input/v1","inputs":{"applicant.age":40,"blacklisted":false,` +
		`"facts.annual_income":"0","facts.collective_shares":"0","facts.dishonest_debtor":false,"facts.existing_debt":"0",` +
		`"facts.income_per_capita":"0","facts.labourers":0,"facts.land_mu":"0","facts.members":0,` +
		`"other_banks.total_drawn":"0","other_banks.total_limit":"0","points.credit":"100","points.rule_of_law":"0",` +
		`"points.self_governance":"0","points.virtue":"0","recommendation.amount":"0","recommendation.creditworthy":false,` +
		`"recommendation.present":false,"repayment.classification":"none","repayment.defaulted_24m":false,` +
		`"repayment.overdue_count_24m":0,"repayment.overdue_days_max_24m":0,"star.level":"none","star.stars":0}}`)
	in, err := DecodeInput(zeroed)
	require.NoError(t, err)
	assert.Equal(t, 40, in.Applicant.Age)
	assert.NotContains(t, string(in.Canonical()), "repayment.classification")
	_, err = DecodeInput([]byte(strings.Replace(string(zeroed), `"applicant.age":40,`, "", 1)))
	require.ErrorContains(t, err, "applicant.age is missing")
}
