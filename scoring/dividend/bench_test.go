package dividend

import (
	"fmt"
	"testing"

	"github.com/shopspring/decimal"
)

// BenchmarkAllocate100k is the allocation alone over 100,000 households
// (the CPU part of a round; BenchmarkDividendRound100k in app has the
// store's).
func BenchmarkAllocate100k(b *testing.B) {
	hs := make([]Holding, 100_000)
	for i := range hs {
		hs[i] = Holding{Household: fmt.Sprintf("hh-%06d", (i*7919)%100_000), Shares: decimal.New(int64(i%41*4+i%4), -2),
			Points: decimal.New(int64((i*7)%23-5), 0), BlackListed: i%100 == 0}
	}
	r := &Rule{Village: "330483102299", Version: 1, SharesPercent: decimal.NewFromInt(60), PointsPercent: decimal.NewFromInt(40),
		Balance: Credit, Cap: decimal.NewFromInt(2000), BlackList: LosePoints, Hash: "h"}
	in := Input{Village: "330483102299", RecordDate: "2026-03-31", Pool: decimal.RequireFromString("12345678.90"), Rule: r, Holdings: hs}
	for b.Loop() {
		if _, err := Allocate(in); err != nil {
			b.Fatal(err)
		}
	}
}
