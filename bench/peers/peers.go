// Package peers benchmarks the credit policy engine of 三治信农贷
// (github.com/sanzhi/sanzhi/scoring/rules) against other policy engines,
// starting with Open Policy Agent. It is a module of its own so that the
// service never depends on a peer: nothing in the main module imports it,
// and the main module's ./... does not reach it.
//
// opa/scorecard.rego is the example policy (examples/policies/
// tongxiang-rcb-sanzhi.yaml) written by hand in Rego; peers_test.go checks
// that it decides like our engine and benchmarks both. See README.md.
package peers

import (
	_ "embed"
	"encoding/json"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/scoring/rules"
)

// ScorecardRego is opa/scorecard.rego.
//
//go:embed opa/scorecard.rego
var ScorecardRego string

// ScorecardQuery is the query whose value is the Rego policy's decision.
const ScorecardQuery = "data.sanzhi.scorecard.decision"

// ToOPAInput converts a household snapshot into the input document
// opa/scorecard.rego reads. Decimals become json.Number with the
// decimal's exact text, which OPA turns into a number without passing
// through float64 (a caller that used float64 here would lose exactness
// before OPA even starts). Only the inputs the example policy reads are
// included; an empty star level is "none", as in our engine.
func ToOPAInput(in rules.Input) map[string]any {
	star := string(in.Star.Level)
	if star == "" {
		star = string(rules.StarNone)
	}
	items := make(map[string]any, len(in.Items))
	for code, v := range in.Items {
		items[code] = num(v)
	}
	return map[string]any{
		"points": map[string]any{
			"credit":          num(in.Points.Credit),
			"self_governance": num(in.Points.SelfGovernance),
			"rule_of_law":     num(in.Points.RuleOfLaw),
			"virtue":          num(in.Points.Virtue),
		},
		"star":        map[string]any{"level": star},
		"blacklisted": in.Blacklisted,
		"facts": map[string]any{
			"income_per_capita": num(in.Facts.IncomePerCapita),
			"annual_income":     num(in.Facts.AnnualIncome),
			"labourers":         in.Facts.Labourers,
			"land_mu":           num(in.Facts.LandMu),
			"existing_debt":     num(in.Facts.ExistingDebt),
			"dishonest_debtor":  in.Facts.DishonestDebtor,
		},
		"repayment": map[string]any{
			"overdue_days_max_24m": in.Repayment.OverdueDaysMax24m,
			"overdue_count_24m":    in.Repayment.OverdueCount24m,
		},
		"applicant": map[string]any{"age": in.Applicant.Age},
		"recommendation": map[string]any{
			"present":      in.Recommendation.Present,
			"creditworthy": in.Recommendation.Creditworthy,
			"amount":       num(in.Recommendation.Amount),
		},
		"other_banks": map[string]any{
			"total_limit": num(in.OtherBanks.TotalLimit),
			"total_drawn": num(in.OtherBanks.TotalDrawn),
		},
		"items": items,
	}
}

func num(d decimal.Decimal) json.Number { return json.Number(d.String()) }
