package rpc_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// BenchmarkGetPoints1000 reads the points of a household with 1,000 ledger
// entries through the real chain, on both stores: the CPU side of the
// GetPoints figure in BENCHMARKS.md (the ghz run measures the rest).
func BenchmarkGetPoints1000(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var st *sqlstore.Store
			if name == "sqlite" {
				db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"))
				require.NoError(b, err)
				b.Cleanup(func() { db.Close() })
				require.NoError(b, db.Migrate(context.Background()))
				st = db.Store()
			} else {
				st = pgtest.NewDB(b).Store()
			}
			e := newEnv(b, st)
			e.noonTomorrow()
			activateCounty(b, e)
			hh, _ := newHousehold(b, e, villageA, false)
			fillLedger(b, e, hh, 1000)
			e.clock.Advance(8 * 24 * time.Hour) // past 公示
			ctx := e.as("clerk-a")
			req := &sanzhiv1.GetPointsRequest{Household: hh}
			p, err := e.points.GetPoints(ctx, req)
			require.NoError(b, err)
			require.Len(b, p.Entries, 1000)
			b.ResetTimer()
			for b.Loop() {
				if _, err := e.points.GetPoints(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fillLedger gives household hh n machine-recorded ledger entries
// (n a multiple of 500), occurred over the last 80 days.
func fillLedger(b *testing.B, e *env, hh string, n int) {
	items := []string{"DZ-ML-01", "ZZ-MS-05", "DZ-XF-06", "ZZ-GY-02"}
	for chunk := range n / 500 {
		req := &sanzhiv1.BatchSubmitEvidenceRequest{Parent: "villages/" + villageA}
		for i := range 500 {
			k := chunk*500 + i
			r := pointsReq(e, hh, items[k%4], 1)
			r.Evidence.OccurredOn = string(points.AddDays(household.Date(e.today()), -(k % 80)))
			r.Evidence.SystemSource = "bench"
			req.Requests = append(req.Requests, r)
		}
		res, err := e.evidence.BatchSubmitEvidence(e.as("clerk-a"), req)
		require.NoError(b, err)
		for _, r := range res.Results {
			require.Nil(b, r.Status, fmt.Sprint(r.Status))
		}
	}
}

// BenchmarkReviewLargeSheet approves, one at a time, evidence of
// households whose sheets already hold 1,000 entries, on PostgreSQL: the
// case where a posting appends its line to the stored sheet instead of
// rewriting all of it (sqlstore's AppendEntries). The submissions are made
// outside the timer.
func BenchmarkReviewLargeSheet(b *testing.B) {
	e := newEnv(b, pgtest.NewDB(b).Store())
	e.noonTomorrow()
	activateCounty(b, e)
	hhs := make([]string, 4)
	for i := range hhs {
		hhs[i], _ = newHousehold(b, e, villageA, false)
		fillLedger(b, e, hhs[i], 1000)
	}
	clerk, reviewer := e.as("clerk-a"), e.as("reviewer-a")
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		ev, err := e.evidence.SubmitEvidence(clerk, pointsReq(e, hhs[i%len(hhs)], "ZZ-MS-01", 1))
		require.NoError(b, err)
		b.StartTimer()
		_, err = e.evidence.ReviewEvidence(reviewer, &sanzhiv1.ReviewEvidenceRequest{
			Name: ev.Name, Decision: sanzhiv1.ReviewDecision_REVIEW_DECISION_APPROVE})
		require.NoError(b, err)
	}
}
