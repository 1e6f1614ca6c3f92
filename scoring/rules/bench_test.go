package rules

import (
	"testing"

	"github.com/shopspring/decimal"
)

// BenchmarkEvaluate measures one decision of the example policy,
// explanation and counterfactual search included.
func BenchmarkEvaluate(b *testing.B) {
	p := examplePolicy(b)
	top := typical()
	top.Points = PointsInput{Credit: d("160"), SelfGovernance: d("12"), RuleOfLaw: d("10"), Virtue: d("40")}
	top.Star.Level = StarCounty
	knocked := typical()
	knocked.Points.Credit = d("50")
	knocked.Items = map[string]decimal.Decimal{"FZ-PA-08": d("-30")}
	for _, bc := range []struct {
		name string
		in   Input
	}{{"typical", typical()}, {"top_grade", top}, {"knocked_out", knocked}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Evaluate(p, bc.in, "2024-03-01")
			}
		})
	}
}

// BenchmarkParse measures loading the example policy.
func BenchmarkParse(b *testing.B) {
	src := exampleBytes(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(src, nil); err != nil {
			b.Fatal(err)
		}
	}
}
