package sqlstore

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

func benchEntries(n int) []points.Entry {
	es := make([]points.Entry, n)
	for i := range es {
		es[i] = points.Entry{ID: fmt.Sprintf("0193a0c4-0000-7000-8000-%012d", i), Household: "0193a0c4-1111-7000-8000-000000000001",
			EvidenceID: fmt.Sprintf("0193a0c4-2222-7000-8000-%012d", i), ItemCode: "DZ-ML-01", Domain: points.Virtue, Area: "meili",
			Kind: points.Award, Quantity: 1, Requested: decimal.RequireFromString("0.5"), Points: decimal.RequireFromString("0.5"),
			Capped: decimal.Zero, OccurredOn: "2026-03-01", EffectiveOn: "2026-03-08", ValidUntil: "2027-03-08", ForCredit: true}
	}
	return es
}

// BenchmarkSheet1000 measures reading a household's sheet of 1,000 entries
// (decode) and computing its balance, the CPU part of GetPoints.
func BenchmarkSheet1000(b *testing.B) {
	s, err := encodeEntries(benchEntries(1000))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := decodeEntries(s); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The baseline: the same entries as JSON, which the sheet was stored
	// as before (see sheet.go).
	js, err := json.Marshal(benchEntries(1000))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode-json-baseline", func(b *testing.B) {
		for b.Loop() {
			var out []points.Entry
			if err := json.Unmarshal(js, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	es, _ := decodeEntries(s)
	b.Run("balances", func(b *testing.B) {
		for b.Loop() {
			points.Balances(decimal.NewFromInt(100), es, household.Date("2026-06-01"))
		}
	})
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			if _, err := encodeEntries(es); err != nil {
				b.Fatal(err)
			}
		}
	})
}
