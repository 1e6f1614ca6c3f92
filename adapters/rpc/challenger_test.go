package rpc_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending/credit"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// challengerDoc is the example policy as version n with a minimum line
// of ¥60,000 instead of ¥10,000.
func challengerDoc(t testing.TB, n int) string {
	t.Helper()
	doc := policyDoc(t, n)
	out := strings.Replace(doc, "\n  min_amount: 10000\n", "\n  min_amount: 60000\n", 1)
	require.NotEqual(t, doc, out)
	return out
}

func decisionID(t *testing.T, name string) string {
	t.Helper()
	_, _, id, err := credit.ParseDecisionName(name, "decision")
	require.NoError(t, err)
	return id
}

// TestChallenger: who may designate and read a challenger; a live
// assessment and a batch re-assessment under it store shadows and
// answer as without it; stopping it stops the shadows.
func TestChallenger(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		e := lendingEnv(t, st)
		v2, err := e.policies.UploadPolicy(e.as("risk-1"), &sanzhiv1.UploadPolicyRequest{Parent: product, Document: challengerDoc(t, 2)})
		require.NoError(t, err)

		// A draft is no challenger.
		_, err = e.policies.StartChallenger(e.as("risk-1"), &sanzhiv1.StartChallengerRequest{Name: v2.Name})
		requireCode(t, err, codes.FailedPrecondition, "", "")
		_, err = e.policies.ApprovePolicy(e.as("risk-2"), &sanzhiv1.ApprovePolicyRequest{Name: v2.Name})
		require.NoError(t, err)

		// Only the bank's risk managers start and stop; they and the
		// regulators read.
		for _, who := range []string{"officer", "risk-other", "clerk-a", "regulator", "operator"} {
			_, err = e.policies.StartChallenger(e.as(who), &sanzhiv1.StartChallengerRequest{Name: v2.Name})
			requireCode(t, err, codes.PermissionDenied, "", "")
			_, err = e.policies.StopChallenger(e.as(who), &sanzhiv1.StopChallengerRequest{Parent: product})
			requireCode(t, err, codes.PermissionDenied, "", "")
		}
		for _, who := range []string{"officer", "risk-other", "clerk-a", "operator"} {
			_, err = e.policies.GetChallenger(e.as(who), &sanzhiv1.GetChallengerRequest{Parent: product})
			requireCode(t, err, codes.PermissionDenied, "", "")
		}
		_, err = e.policies.GetChallenger(e.as("regulator"), &sanzhiv1.GetChallengerRequest{Parent: product})
		requireCode(t, err, codes.NotFound, "", "")
		_, err = e.policies.StartChallenger(e.as("risk-1"), &sanzhiv1.StartChallengerRequest{Name: product + "/policies/zero"})
		requireCode(t, err, codes.InvalidArgument, "name", "")
		_, err = e.policies.StopChallenger(e.as("risk-1"), &sanzhiv1.StopChallengerRequest{Parent: product + "/x"})
		requireCode(t, err, codes.InvalidArgument, "parent", "")

		c, err := e.policies.StartChallenger(e.as("risk-1"), &sanzhiv1.StartChallengerRequest{Name: v2.Name})
		require.NoError(t, err)
		assert.Equal(t, v2.Name, c.Policy)
		assert.EqualValues(t, 2, c.Version)
		assert.Equal(t, e.ids["risk-1"], c.StartedBy)

		// A live assessment: the champion decides, the challenger shadows.
		_, _, line := consented(t, e)
		id := decisionID(t, line.Decision)
		sh, err := st.ShadowDecision(ctx, id, 2)
		require.NoError(t, err)
		assert.Equal(t, 1, sh.ChampionVersion)
		assert.Regexp(t, `^[0-9]+(,[0-9]+)+$`, sh.Bins, "a bin per characteristic")
		got, err := e.policies.GetChallenger(e.as("regulator"), &sanzhiv1.GetChallengerRequest{Parent: product})
		require.NoError(t, err)
		assert.EqualValues(t, 1, got.ShadowDecisions)

		// A batch re-assessment: one shadow per decision of the run.
		run, err := e.credit.StartReassessment(e.as("risk-1"), &sanzhiv1.StartReassessmentRequest{Product: product})
		require.NoError(t, err)
		_, _, runID, err := credit.ParseRunName(run.Name, "name")
		require.NoError(t, err)
		require.NoError(t, e.lending.ContinueRun(ctx, runID, 2, nil))
		got, err = e.policies.GetChallenger(e.as("risk-2"), &sanzhiv1.GetChallengerRequest{Parent: product})
		require.NoError(t, err)
		assert.EqualValues(t, 2, got.ShadowDecisions, "the run's decision has its shadow")
		pairs := 0
		for p, err := range st.ShadowPairs(ctx, "tongxiang-rcb", "sanzhi-xindai", 1, 2) {
			require.NoError(t, err)
			pairs++
			assert.NotEmpty(t, p.Grade)
		}
		assert.Equal(t, 2, pairs)

		// A household whose points changed is re-assessed (ReassessDue,
		// events.go): its decision has its shadow too.
		_, err = e.lending.ReassessDue(ctx, 1000)
		require.NoError(t, err)
		hh, _, _ := consented(t, e)
		submitAndApprove(t, e, pointsReq(e, hh, "ZZ-MS-01", 1))
		n, err := e.lending.ReassessDue(ctx, 1000)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		ds, err := e.credit.ListDecisions(e.as("regulator"), &sanzhiv1.ListDecisionsRequest{Household: hh})
		require.NoError(t, err)
		require.Len(t, ds.Decisions, 2)
		require.Equal(t, credit.ActorService, ds.Decisions[0].DecidedBy)
		for _, d := range ds.Decisions {
			_, err = st.ShadowDecision(ctx, decisionID(t, d.Name), 2)
			require.NoError(t, err, "the assessment's and the re-assessment's shadows")
		}

		// The back-test of the champion compares the challenger on the
		// observation decisions it shadowed: each household's first
		// decision of version 1 (the run's and the re-assessment's later
		// decisions are not observations).
		bt, err := sanzhiv1.NewModelRiskServiceClient(e.conn).GetBacktestReport(e.as("risk-1"),
			&sanzhiv1.GetBacktestReportRequest{Name: product + "/policies/1", Format: sanzhiv1.BacktestFormat_BACKTEST_FORMAT_CSV})
		require.NoError(t, err)
		require.NotNil(t, bt.Challenger, "the report compares the current challenger")
		assert.Equal(t, product+"/policies/2", bt.Challenger.Challenger)
		assert.EqualValues(t, 2, bt.Challenger.Decisions, "two households' first decisions have shadows")
		assert.Zero(t, bt.Challenger.Observed, "no loan has an outcome yet")
		assert.False(t, bt.Challenger.Measured)
		assert.Contains(t, string(bt.Rendered), "section,challenger_swaps")

		stopped, err := e.policies.StopChallenger(e.as("risk-2"), &sanzhiv1.StopChallengerRequest{Parent: product})
		require.NoError(t, err)
		assert.Equal(t, "stopped", stopped.StopReason)
		assert.Equal(t, e.ids["risk-2"], stopped.StoppedBy)
		_, err = e.policies.StopChallenger(e.as("risk-2"), &sanzhiv1.StopChallengerRequest{Parent: product})
		requireCode(t, err, codes.FailedPrecondition, "", "")

		bt, err = sanzhiv1.NewModelRiskServiceClient(e.conn).GetBacktestReport(e.as("risk-1"),
			&sanzhiv1.GetBacktestReportRequest{Name: product + "/policies/1"})
		require.NoError(t, err)
		assert.Nil(t, bt.Challenger, "a stopped challenger is not compared")

		// Without a challenger, no shadow.
		_, _, line = consented(t, e)
		_, err = st.ShadowDecision(ctx, decisionID(t, line.Decision), 2)
		assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	})
}
