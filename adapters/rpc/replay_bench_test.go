package rpc_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/lending/credit"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// BenchmarkReplayRange measures the range replay (`sanzhi audit replay
// --product`) on PostgreSQL: decisions read page by page and evaluated
// again under their pinned policy, per second. The decisions are a batch
// run's over 200 households, cloned to 20,000 rows (distinct ids, the
// same inputs and outcomes: the replay's cost does not depend on which
// household it is).
//
//	CI=1 go test -run '^$' -bench BenchmarkReplayRange -benchtime 5x ./adapters/rpc/
func BenchmarkReplayRange(b *testing.B) {
	ctx := context.Background()
	st := pgtest.NewDB(b).Store()
	e := newEnv(b, st)
	e.noonTomorrow()
	activateCounty(b, e)
	activatePolicy(b, e)
	for range 200 {
		hh, _ := newHousehold(b, e, villageA, false)
		_, err := e.consents.GrantConsent(e.as("officer"), &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: bankName,
			Purposes: []string{"assessment"}, Channel: "counter", AuthorisationHash: sha})
		require.NoError(b, err)
	}
	run, err := e.credit.StartReassessment(e.as("risk-1"), &sanzhiv1.StartReassessmentRequest{Product: product})
	require.NoError(b, err)
	_, _, id, err := credit.ParseRunName(run.Name, "name")
	require.NoError(b, err)
	require.NoError(b, e.lending.ContinueRun(ctx, id, 2, nil))
	seed, err := st.ScanDecisions(ctx, sqlstore.DecisionScan{Limit: 1000})
	require.NoError(b, err)
	require.Len(b, seed, 200)
	const total = 20000
	for n := len(seed); n < total; n += 2000 {
		require.NoError(b, st.Lending().Write(ctx, func(tx credit.Writer) error {
			for i := range min(2000, total-n) {
				d := *seed[i%len(seed)]
				d.ID = uuid.Must(uuid.NewV7()).String()
				if err := tx.InsertDecision(ctx, &d); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	q := sqlstore.DecisionScan{Bank: "tongxiang-rcb", Product: "sanzhi-xindai"}
	b.ResetTimer()
	var replayed int64
	for range b.N {
		sum, err := e.app.ReplayRange(ctx, q, runtime.GOMAXPROCS(0), nil, nil)
		require.NoError(b, err)
		require.Equal(b, int64(total), sum.Identical, "every decision replays identical")
		replayed += sum.Total()
	}
	b.ReportMetric(float64(replayed)/b.Elapsed().Seconds(), "decisions/s")
}
