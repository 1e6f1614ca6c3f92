package rpc_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/policies"
)

// The activation gate through the API: version 2 of the simulation
// population knocks every household out, so everyone eligible under the
// active version 1 loses a line and the gate fails on lost_share. It is
// refused without a justification and to its uploader, and activated by
// a second risk manager who writes one down.
func TestPolicyGate(t *testing.T) {
	// Not parallel: simrun runs one simulation per bank per process.
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		sp := newSimPopulation(t, e)
		ctx := context.Background()
		v2 := sp.product + "/policies/2"

		// Version 1's activation attached a report: against nothing, so
		// PSI and lost share did not apply, and it passed.
		r1, err := e.policies.GetPolicyGate(e.as("regulator"), &sanzhiv1.GetPolicyGateRequest{Name: sp.product + "/policies/active"})
		require.NoError(t, err)
		assert.True(t, r1.Passed)
		assert.Empty(t, r1.Against)
		assert.Equal(t, int32(8), r1.Households)
		assert.Equal(t, int32(1), r1.Seq)

		// Who may: another bank's risk manager and a village clerk may
		// neither evaluate nor read; a regulator reads but does not
		// evaluate. Nothing is written.
		before := snapshot(t, e)
		for _, who := range []string{"risk-other", "clerk-a"} {
			_, err = e.policies.EvaluatePolicyGate(e.as(who), &sanzhiv1.EvaluatePolicyGateRequest{Name: v2})
			requireCode(t, err, codes.PermissionDenied, "", "")
			_, err = e.policies.GetPolicyGate(e.as(who), &sanzhiv1.GetPolicyGateRequest{Name: v2})
			requireCode(t, err, codes.PermissionDenied, "", "")
		}
		_, err = e.policies.EvaluatePolicyGate(e.as("regulator"), &sanzhiv1.EvaluatePolicyGateRequest{Name: v2})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, err = e.policies.GetPolicyGate(e.as("risk-1"), &sanzhiv1.GetPolicyGateRequest{Name: v2})
		requireCode(t, err, codes.NotFound, "", "")
		_, err = e.policies.EvaluatePolicyGate(e.as("risk-1"), &sanzhiv1.EvaluatePolicyGateRequest{Name: sp.product + "/policies/9"})
		requireCode(t, err, codes.NotFound, "", "")
		_, err = e.policies.EvaluatePolicyGate(e.as("risk-1"), &sanzhiv1.EvaluatePolicyGateRequest{Name: sp.product + "/policies/1"})
		requireCode(t, err, codes.FailedPrecondition, "", "")
		assert.Equal(t, "POLICY_NOT_CANDIDATE", reasonOf(err), "the active version is no candidate")
		assert.Equal(t, before, snapshot(t, e), "refusals write nothing")

		// Evaluate: stored, returned, audited without household data.
		r, err := e.policies.EvaluatePolicyGate(e.as("risk-1"), &sanzhiv1.EvaluatePolicyGateRequest{Name: v2})
		require.NoError(t, err)
		assert.False(t, r.Passed)
		assert.Equal(t, sp.product+"/policies/1", r.Against)
		assert.Equal(t, int32(8), r.Households)
		assert.Equal(t, e.ids["risk-1"], r.EvaluatedBy)
		require.Len(t, r.Checks, 3)
		failed := map[string]bool{}
		for _, c := range r.Checks {
			assert.NotEmpty(t, c.MessageZh, c.Id)
			assert.NotEmpty(t, c.MessageEn, c.Id)
			if !c.Passed {
				failed[c.Id] = true
			}
		}
		assert.True(t, failed["lost_share"], "got %v", r.Checks)
		got, err := e.policies.GetPolicyGate(e.as("regulator"), &sanzhiv1.GetPolicyGateRequest{Name: v2})
		require.NoError(t, err)
		assert.Equal(t, r.Seq, got.Seq)
		assert.Equal(t, r.PolicyHash, got.PolicyHash)
		head, err := e.log.Publish(ctx)
		require.NoError(t, err)
		p, err := e.log.Entry(ctx, head.Size-1, head.Size)
		require.NoError(t, err)
		assert.Equal(t, policies.ActionGate, p.Entry.Action)
		assert.Equal(t, v2, p.Entry.Subject)
		assert.Equal(t, "false", p.Entry.Payload["passed"])
		assert.Contains(t, p.Entry.Payload["failed"], "lost_share")
		assert.Equal(t, "8", p.Entry.Payload["households"])
		assert.Equal(t, sp.product+"/policies/1", p.Entry.Payload["against"])
		for i, h := range sp.heads {
			assert.NotContains(t, string(p.Leaf.Data), h)
			assert.NotContains(t, string(p.Leaf.Data), strings.TrimPrefix(sp.names[i], "villages/"))
		}

		// Activation over the failed gate.
		_, err = e.policies.ApprovePolicy(e.as("risk-1"), &sanzhiv1.ApprovePolicyRequest{Name: v2})
		require.NoError(t, err)
		before = snapshot(t, e)
		_, err = e.policies.ActivatePolicy(e.as("risk-1"), &sanzhiv1.ActivatePolicyRequest{Name: v2})
		requireCode(t, err, codes.FailedPrecondition, "", "")
		assert.Equal(t, policies.ReasonGateFailed, reasonOf(err))
		assert.Contains(t, err.Error(), "losing a line")
		assert.Contains(t, err.Error(), "失去授信户占比")
		_, err = e.policies.ActivatePolicy(e.as("risk-1"), &sanzhiv1.ActivatePolicyRequest{Name: v2, GateJustification: "too short"})
		requireCode(t, err, codes.InvalidArgument, "gate_justification", "between 20 and 2000")
		const why = "Knock-out test agreed by the risk committee, minute 2026-14; reverted next week"
		_, err = e.policies.ActivatePolicy(e.as("risk-2"), &sanzhiv1.ActivatePolicyRequest{Name: v2, GateJustification: why})
		requireCode(t, err, codes.FailedPrecondition, "", "")
		assert.Equal(t, policies.ReasonGateSecondPerson, reasonOf(err), "risk-2 uploaded version 2")
		_, err = e.policies.ActivatePolicy(e.as("risk-other"), &sanzhiv1.ActivatePolicyRequest{Name: v2, GateJustification: why})
		requireCode(t, err, codes.PermissionDenied, "", "")
		assert.Equal(t, before, snapshot(t, e), "refused activations write nothing")
		cur, err := e.policies.GetPolicy(e.as("risk-1"), &sanzhiv1.GetPolicyRequest{Name: sp.product + "/policies/active"})
		require.NoError(t, err)
		assert.Equal(t, int32(1), cur.Version)

		v, err := e.policies.ActivatePolicy(e.as("risk-1"), &sanzhiv1.ActivatePolicyRequest{Name: v2, GateJustification: why})
		require.NoError(t, err)
		assert.Equal(t, sanzhiv1.PolicyState_POLICY_STATE_ACTIVE, v.State)
		head, err = e.log.Publish(ctx)
		require.NoError(t, err)
		p, err = e.log.Entry(ctx, head.Size-1, head.Size)
		require.NoError(t, err)
		assert.Equal(t, "policy.activate", p.Entry.Action)
		assert.Equal(t, why, p.Entry.Payload["gate_justification"])
		assert.Equal(t, "false", p.Entry.Payload["gate_passed"])
		assert.Equal(t, "1", p.Entry.Payload["gate_seq"], "version 2's one report, evaluated above: none evaluated again")
	})
}
