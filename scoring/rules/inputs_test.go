package rules

import (
	"encoding/json"
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
		"repayment.overdue_days_max_24m:int", "repayment.overdue_count_24m:int", "applicant.age:int",
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
