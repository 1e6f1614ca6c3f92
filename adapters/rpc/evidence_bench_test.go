package rpc_test

import (
	"sync"
	"sync/atomic"
	"testing"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// BenchmarkEvidenceWrites submits and then approves evidence that needs
// review, from parallel clients spread over 50 households, through the
// real chain on PostgreSQL: the CPU side of bench/ghz/evidence.sh's
// figures (BENCHMARKS.md, issue 19), which a CPU profile of this
// benchmark takes apart. EmptyRPC is the same server's floor.
func BenchmarkEvidenceWrites(b *testing.B) {
	const clients = 25 // per GOMAXPROCS: 50 on 2 cores, as the ghz runs
	e := newEnv(b, pgtest.NewDB(b).Store())
	e.noonTomorrow()
	activateCounty(b, e)
	households := make([]string, 50)
	for i := range households {
		households[i], _ = newHousehold(b, e, villageA, false)
	}
	clerk, reviewer := e.as("clerk-a"), e.as("reviewer-a")
	health := healthpb.NewHealthClient(e.conn)
	b.Run("EmptyRPC", func(b *testing.B) {
		b.SetParallelism(clients)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := health.Check(clerk, &healthpb.HealthCheckRequest{}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	var (
		mu      sync.Mutex
		pending []string
		n, next atomic.Int64
	)
	b.Run("SubmitEvidence", func(b *testing.B) {
		b.SetParallelism(clients)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				hh := households[int(n.Add(1))%len(households)]
				ev, err := e.evidence.SubmitEvidence(clerk, pointsReq(e, hh, "ZZ-MS-01", 1))
				if err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				pending = append(pending, ev.Name)
				mu.Unlock()
			}
		})
	})
	b.Run("ReviewEvidence", func(b *testing.B) {
		if b.N > len(pending) {
			b.Skipf("%d submissions to review, %d asked for: run with -benchtime Nx, the same N for both", len(pending), b.N)
		}
		b.SetParallelism(clients)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				name := pending[next.Add(1)-1]
				if _, err := e.evidence.ReviewEvidence(reviewer, &sanzhiv1.ReviewEvidenceRequest{
					Name: name, Decision: sanzhiv1.ReviewDecision_REVIEW_DECISION_APPROVE}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
