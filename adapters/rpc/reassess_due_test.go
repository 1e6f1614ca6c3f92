package rpc_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// TestTwoReassessorsDoNotDoubleAssess: two re-assessors (two services
// over one database, as two sanzhid instances are) work the same marks at
// once; every marked household is assessed exactly once, and its mark is
// gone only with its assessment.
func TestTwoReassessorsDoNotDoubleAssess(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := lendingEnv(t, st)
		ctx := context.Background()
		var hhs []string
		for range 6 {
			hh, _, _ := consented(t, e)
			hhs = append(hhs, hh)
		}
		_, err := e.lending.ReassessDue(ctx, 1000) // marks the set-up left
		require.NoError(t, err)
		for _, hh := range hhs {
			submitAndApprove(t, e, pointsReq(e, hh, "ZZ-MS-01", 1))
		}
		second := e.second()
		var wg sync.WaitGroup
		counts := make([]int, 2)
		errs := make([]error, 2)
		for i, svc := range []interface {
			ReassessDue(context.Context, int) (int, error)
		}{e.lending, second} {
			wg.Go(func() { counts[i], errs[i] = svc.ReassessDue(ctx, 1000) })
		}
		wg.Wait()
		require.NoError(t, errs[0])
		require.NoError(t, errs[1])
		for _, hh := range hhs {
			ds, err := e.credit.ListDecisions(e.as("regulator"), &sanzhiv1.ListDecisionsRequest{Household: hh})
			require.NoError(t, err)
			assert.Equal(t, 2, len(ds.Decisions), "%s: the first assessment and exactly one re-assessment", hh)
		}
		n, err := e.lending.ReassessDue(ctx, 1000)
		require.NoError(t, err)
		assert.Zero(t, n, "every mark cleared with its assessment")
	})
}
