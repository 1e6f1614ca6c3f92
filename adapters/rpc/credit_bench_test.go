package rpc_test

import (
	"sync/atomic"
	"testing"

	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// BenchmarkGetCreditLine reads lines from parallel clients (50 on 2
// cores) through the real chain on PostgreSQL, basic view: the CPU side of
// bench/ghz/credit.sh, which a CPU profile of this benchmark takes apart.
func BenchmarkGetCreditLine(b *testing.B) {
	e := lendingEnv(b, pgtest.NewDB(b).Store())
	households := make([]string, 20)
	for i := range households {
		households[i], _, _ = consented(b, e)
	}
	officer := e.as("officer")
	var n atomic.Int64
	b.SetParallelism(25)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			hh := households[int(n.Add(1))%len(households)]
			if _, err := e.credit.GetCreditLine(officer, &sanzhiv1.GetCreditLineRequest{
				Product: product, Household: hh, Purpose: "post_loan"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
