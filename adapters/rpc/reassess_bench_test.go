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
	"github.com/sanzhi/sanzhi/lending/credit"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// BenchmarkReassessRun measures a batch re-assessment of reassessBenchN
// consenting households, pages of 1,000: each iteration is one whole run
// (ContinueRun on 2 workers) and then the Publish that sequences and signs
// every audit record the run queued. It reports households/s of the run
// alone (run-hh/s), of the run and its publish together (hh/s), and the
// publish's time (publish-ms). Run at two commits, it compares the audit
// record of a run: one leaf per decision against one per page.
//
//	CI=1 go test -run '^$' -bench BenchmarkReassessRun -benchtime 4x ./adapters/rpc/
func BenchmarkReassessRun(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"))
		require.NoError(b, err)
		b.Cleanup(func() { db.Close() })
		require.NoError(b, db.Migrate(context.Background()))
		benchReassessRun(b, db.Store())
	})
	b.Run("postgres", func(b *testing.B) { benchReassessRun(b, pgtest.NewDB(b).Store()) })
}

const reassessBenchN = 2000

func benchReassessRun(b *testing.B, st *sqlstore.Store) {
	ctx := context.Background()
	e := newEnv(b, st)
	e.noonTomorrow()
	activateCounty(b, e)
	activatePolicy(b, e)
	for i := range reassessBenchN {
		// A birth date per household: personID's serial alone would repeat.
		req := validCreate(b, villageA)
		req.Household.HeadIdNumber = personID(b, fmt.Sprintf("%04d%02d%02d", 1940+i%60, 1+i/60%12, 1+i/720%28))
		h, err := e.client.CreateHousehold(e.as("clerk-a"), req)
		require.NoError(b, err)
		hh := h.Name
		// A paper form the bank records and the village clerk
		// countersigns: a live consent.
		c, err := e.consents.GrantConsent(e.as("officer"), &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: bankName,
			Purposes: []string{"assessment"}, Channel: "paper", AuthorisationHash: sha})
		require.NoError(b, err)
		_, err = e.consents.CountersignConsent(e.as("clerk-a"), &sanzhiv1.CountersignConsentRequest{Name: c.Name, AuthorisationHash: sha})
		require.NoError(b, err)
	}
	_, err := e.log.Publish(ctx)
	require.NoError(b, err)
	b.ResetTimer()
	var run, publish time.Duration
	for range b.N {
		r, err := e.credit.StartReassessment(e.as("risk-1"), &sanzhiv1.StartReassessmentRequest{Product: product})
		require.NoError(b, err)
		_, _, id, err := credit.ParseRunName(r.Name, "name")
		require.NoError(b, err)
		t0 := time.Now()
		require.NoError(b, e.lending.ContinueRun(ctx, id, 2, nil))
		t1 := time.Now()
		_, err = e.log.Publish(ctx)
		require.NoError(b, err)
		run, publish = run+t1.Sub(t0), publish+time.Since(t1)
		got, err := e.lending.GetRun(ctx, r.Name)
		require.NoError(b, err)
		require.Equal(b, int64(reassessBenchN), got.Done)
	}
	n := float64(b.N * reassessBenchN)
	b.ReportMetric(n/run.Seconds(), "run-hh/s")
	b.ReportMetric(n/(run+publish).Seconds(), "hh/s")
	b.ReportMetric(float64(publish.Milliseconds())/float64(b.N), "publish-ms")
}
