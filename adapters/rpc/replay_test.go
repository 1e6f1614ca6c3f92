package rpc_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/lending/credit"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// replayWorld seeds decisions of every kind: assessments, an override
// and a batch re-assessment's decisions. It returns every stored
// decision's name, with the override's and its automated decision's.
type replayWorld struct {
	decisions          []string
	override, replaced string
	hh, hhP            string // the overridden household and its principal
}

func seedReplay(t *testing.T, e *env) replayWorld {
	t.Helper()
	ctx := context.Background()
	var w replayWorld
	for range 3 {
		consented(t, e)
	}
	hh, hhP, line := consented(t, e)
	rv, err := e.credit.RequestReview(e.as(hhP), &sanzhiv1.RequestReviewRequest{Decision: line.Decision, Reason: "收入会增加"})
	require.NoError(t, err)
	_, err = e.credit.ResolveReview(e.as("officer"), &sanzhiv1.ResolveReviewRequest{Name: rv.Name, Outcome: "override",
		Limit: "50000", Justification: "大棚收入经实地核实，提高额度"})
	require.NoError(t, err)
	// Four-eyes: a second person of the bank makes the override take effect.
	res, err := e.credit.ApproveOverride(e.as("risk-1"), &sanzhiv1.ApproveOverrideRequest{Name: rv.Name, Limit: "50000"})
	require.NoError(t, err)
	w.override, w.replaced, w.hh, w.hhP = res.Decision.Name, line.Decision, hh, hhP

	run, err := e.credit.StartReassessment(e.as("risk-1"), &sanzhiv1.StartReassessmentRequest{Product: product})
	require.NoError(t, err)
	_, _, id, err := credit.ParseRunName(run.Name, "name")
	require.NoError(t, err)
	require.NoError(t, e.lending.ContinueRun(ctx, id, 1, nil))

	require.NoError(t, e.st.Conn().ReadTx(ctx, func(q sqlstore.Querier) error {
		rows, err := q.Query(ctx, `SELECT bank, product, id FROM credit_decisions ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b, p, id string
			if err := rows.Scan(&b, &p, &id); err != nil {
				return err
			}
			w.decisions = append(w.decisions, credit.DecisionName(b, p, id))
		}
		return rows.Err()
	}))
	return w
}

func TestReplayDecision(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := lendingEnv(t, st)
		ctx := context.Background()
		w := seedReplay(t, e)
		require.GreaterOrEqual(t, len(w.decisions), 9, "assessments, an override and a run's decisions")

		// Every decision replays IDENTICAL, with its hashes.
		for _, name := range w.decisions {
			r, err := e.audit.ReplayDecision(e.as("regulator"), &sanzhiv1.ReplayDecisionRequest{Decision: name})
			require.NoError(t, err, name)
			assert.Equal(t, sanzhiv1.ReplayResult_REPLAY_RESULT_IDENTICAL, r.Result, "%s: %v", name, r.Diffs)
			assert.Empty(t, r.Diffs)
			assert.Equal(t, r.StoredOutputHash, r.OutputHash)
			assert.Len(t, r.OutputHash, 64)
			assert.Len(t, r.PolicyHash, 64)
			assert.Len(t, r.InputHash, 64)
			assert.Equal(t, int32(1), r.PolicyVersion)
			if name == w.override {
				require.NotNil(t, r.Override, "an override is reported beside its replay")
				assert.Equal(t, w.replaced, r.ReplayedDecision)
				assert.Equal(t, "50000.00", r.Override.Limit)
				assert.Equal(t, "大棚收入经实地核实，提高额度", r.Override.Justification)
			} else {
				assert.Nil(t, r.Override)
				assert.Equal(t, name, r.ReplayedDecision)
			}
		}

		// The range replay (the CLI's) agrees, by product and by time.
		all := sqlstore.DecisionScan{Bank: "tongxiang-rcb", Product: "sanzhi-xindai",
			Since: time.Now().Add(-time.Hour), Until: time.Now().Add(72 * time.Hour)}
		sum, err := e.app.ReplayRange(ctx, all, 2, nil, nil)
		require.NoError(t, err)
		assert.Equal(t, app.ReplaySummary{Identical: int64(len(w.decisions)), Reasons: map[string]int64{}}, sum)
		none := all
		none.Until = time.Now().Add(-time.Minute)
		sum, err = e.app.ReplayRange(ctx, none, 2, nil, nil)
		require.NoError(t, err)
		assert.Zero(t, sum.Total())
		n, err := st.CountDecisions(ctx, all)
		require.NoError(t, err)
		assert.Equal(t, int64(len(w.decisions)), n)

		// The deciding bank replays its own; each replay is one audit entry
		// about the decision, by the caller.
		before, err := e.log.Publish(ctx)
		require.NoError(t, err)
		r, err := e.audit.ReplayDecision(e.as("officer"), &sanzhiv1.ReplayDecisionRequest{Decision: w.replaced})
		require.NoError(t, err)
		assert.Equal(t, sanzhiv1.ReplayResult_REPLAY_RESULT_IDENTICAL, r.Result)
		after, err := e.log.Publish(ctx)
		require.NoError(t, err)
		require.Equal(t, before.Size+1, after.Size)
		p, err := e.log.Entry(ctx, after.Size-1, after.Size)
		require.NoError(t, err)
		assert.Equal(t, credit.ActionReplay, p.Entry.Action)
		assert.Equal(t, w.replaced, p.Entry.Subject)
		assert.Equal(t, e.ids["officer"], p.Entry.Actor)
		assert.Equal(t, "identical", p.Entry.Payload["result"])
		assert.Equal(t, r.OutputHash, p.Entry.ResultHash)

		// Another bank: refused by name, or not found when it names its
		// own bank with our decision's id.
		_, err = e.audit.ReplayDecision(e.as("officer-other"), &sanzhiv1.ReplayDecisionRequest{Decision: w.replaced})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, _, id, err := credit.ParseDecisionName(w.replaced, "decision")
		require.NoError(t, err)
		_, err = e.audit.ReplayDecision(e.as("officer-other"), &sanzhiv1.ReplayDecisionRequest{Decision: otherProd + "/decisions/" + id})
		requireCode(t, err, codes.NotFound, "", "")
		// Unknown decision, a household, a bad name.
		_, err = e.audit.ReplayDecision(e.as("regulator"), &sanzhiv1.ReplayDecisionRequest{Decision: product + "/decisions/" + missing()})
		requireCode(t, err, codes.NotFound, "", "")
		_, err = e.audit.ReplayDecision(e.as(w.hhP), &sanzhiv1.ReplayDecisionRequest{Decision: w.replaced})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, err = e.audit.ReplayDecision(e.as("regulator"), &sanzhiv1.ReplayDecisionRequest{Decision: "decisions/x"})
		requireCode(t, err, codes.InvalidArgument, "decision", "")

		// An insider alters stored outputs: the replay names each field.
		alter := func(sql, name string) {
			_, _, id, err := credit.ParseDecisionName(name, "decision")
			require.NoError(t, err)
			require.NoError(t, e.st.Conn().WriteTx(ctx, func(q sqlstore.Querier) error {
				_, err := q.Exec(ctx, sql, id)
				return err
			}))
		}
		victim := w.decisions[len(w.decisions)-1] // a batch decision
		alter(`UPDATE credit_decisions SET limit_amount = limit_amount + 1000 WHERE id = $1`, victim)
		r, err = e.audit.ReplayDecision(e.as("regulator"), &sanzhiv1.ReplayDecisionRequest{Decision: victim})
		require.NoError(t, err)
		assert.Equal(t, sanzhiv1.ReplayResult_REPLAY_RESULT_DIFFERENT, r.Result)
		require.Len(t, r.Diffs, 1)
		assert.Equal(t, "limit", r.Diffs[0].Field)
		assert.NotEqual(t, r.Diffs[0].Stored, r.Diffs[0].Recomputed)
		assert.NotEqual(t, r.StoredOutputHash, r.OutputHash)

		alter(`UPDATE credit_decisions SET grade = 'Z', score = score + 7 WHERE id = $1`, w.replaced)
		r, err = e.audit.ReplayDecision(e.as("regulator"), &sanzhiv1.ReplayDecisionRequest{Decision: w.override})
		require.NoError(t, err)
		assert.Equal(t, sanzhiv1.ReplayResult_REPLAY_RESULT_DIFFERENT, r.Result, "an override replays its altered automated decision")
		var fields []string
		for _, d := range r.Diffs {
			fields = append(fields, d.Field)
		}
		assert.Equal(t, []string{"score", "grade"}, fields)
		assert.Equal(t, "Z", r.Diffs[1].Stored)

		// A stored input rewritten: its hash no longer matches; an input
		// that does not decode is unreplayable, with the reason.
		alter(`UPDATE credit_decisions SET input = replace(input, '"facts.members":', '"facts.members":1') WHERE id = $1`, w.decisions[0])
		r, err = e.audit.ReplayDecision(e.as("regulator"), &sanzhiv1.ReplayDecisionRequest{Decision: w.decisions[0]})
		require.NoError(t, err)
		assert.Equal(t, sanzhiv1.ReplayResult_REPLAY_RESULT_DIFFERENT, r.Result)
		require.NotEmpty(t, r.Diffs)
		assert.Equal(t, "input_hash", r.Diffs[0].Field)
		alter(`UPDATE credit_decisions SET input = 'not json' WHERE id = $1`, w.decisions[1])
		r, err = e.audit.ReplayDecision(e.as("regulator"), &sanzhiv1.ReplayDecisionRequest{Decision: w.decisions[1]})
		require.NoError(t, err)
		assert.Equal(t, sanzhiv1.ReplayResult_REPLAY_RESULT_UNREPLAYABLE, r.Result)
		assert.Contains(t, r.UnreplayableReason, "does not decode")

		// The range replay counts each kind and hands over the odd ones.
		var odd []string
		sum, err = e.app.ReplayRange(ctx, all, 2, func(r *credit.DecisionReplay) {
			odd = append(odd, credit.DecisionName(r.Decision.Bank, r.Decision.Product, r.Decision.ID))
		}, nil)
		require.NoError(t, err)
		// Altered: the batch decision, the overridden one and the override
		// replaying it, the rewritten input; and one undecodable.
		assert.Equal(t, int64(4), sum.Different)
		assert.Equal(t, int64(1), sum.Unreplayable)
		assert.Equal(t, map[string]int64{"the stored input does not decode": 1}, sum.Reasons)
		assert.Equal(t, int64(len(w.decisions)-5), sum.Identical)
		assert.ElementsMatch(t, []string{victim, w.replaced, w.override, w.decisions[0], w.decisions[1]}, odd)
	})
}
