package rpc_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	policyexamples "github.com/sanzhi/sanzhi/examples/policies"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/simulate"
)

// policyDoc is the example 三治信农贷 policy as version n.
func policyDoc(t testing.TB, n int) string {
	t.Helper()
	b, err := policyexamples.FS.ReadFile(policyexamples.TongxiangFile)
	require.NoError(t, err)
	doc := strings.Replace(string(b), "\nversion: 1\n", "\nversion: "+strconv.Itoa(n)+"\n", 1)
	require.Contains(t, doc, "\nversion: "+strconv.Itoa(n)+"\n")
	return doc
}

func TestPolicyLifecycle(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		const product = "banks/tongxiang-rcb/products/sanzhi-xindai"
		risk1, risk2 := e.as("risk-1"), e.as("risk-2")

		lint, err := e.policies.LintPolicy(e.as("bank"), &sanzhiv1.LintPolicyRequest{Document: policyDoc(t, 1)})
		require.NoError(t, err)
		assert.True(t, lint.Valid)
		assert.Len(t, lint.ContentHash, 64)
		bad := strings.Replace(policyDoc(t, 1), "\ncurrency: CNY", "\ncurrency: CNY\ncolour: red", 1)
		lint, err = e.policies.LintPolicy(e.as("bank"), &sanzhiv1.LintPolicyRequest{Document: bad})
		require.NoError(t, err)
		assert.False(t, lint.Valid)
		require.NotEmpty(t, lint.Problems)
		assert.Positive(t, lint.Problems[0].Line)

		_, err = e.policies.UploadPolicy(risk1, &sanzhiv1.UploadPolicyRequest{Parent: product, Document: bad})
		requireCode(t, err, codes.InvalidArgument, "", "")
		v1, err := e.policies.UploadPolicy(risk1, &sanzhiv1.UploadPolicyRequest{Parent: product, Document: policyDoc(t, 1)})
		require.NoError(t, err)
		assert.Equal(t, sanzhiv1.PolicyState_POLICY_STATE_DRAFT, v1.State)
		assert.Len(t, v1.ContentHash, 64)

		_, err = e.policies.ApprovePolicy(risk1, &sanzhiv1.ApprovePolicyRequest{Name: v1.Name})
		requireCode(t, err, codes.FailedPrecondition, "", "")
		assert.Equal(t, "MAKER_CHECKER", reasonOf(err))
		_, err = e.policies.ActivatePolicy(risk2, &sanzhiv1.ActivatePolicyRequest{Name: v1.Name})
		requireCode(t, err, codes.FailedPrecondition, "", "")
		assert.Equal(t, "POLICY_NOT_APPROVED", reasonOf(err))
		_, err = e.policies.ApprovePolicy(risk2, &sanzhiv1.ApprovePolicyRequest{Name: v1.Name})
		require.NoError(t, err)
		v1, err = e.policies.ActivatePolicy(risk1, &sanzhiv1.ActivatePolicyRequest{Name: v1.Name})
		require.NoError(t, err)
		assert.Equal(t, sanzhiv1.PolicyState_POLICY_STATE_ACTIVE, v1.State)

		changed := strings.Replace(policyDoc(t, 2), "line: {term_months: 12, review_months: 12}", "line: {term_months: 24, review_months: 12}", 1)
		v2, err := e.policies.UploadPolicy(risk2, &sanzhiv1.UploadPolicyRequest{Parent: product, Document: changed})
		require.NoError(t, err)
		diff, err := e.policies.DiffPolicies(e.as("regulator"), &sanzhiv1.DiffPoliciesRequest{Name: product + "/policies/active", Other: v2.Name})
		require.NoError(t, err)
		assert.Contains(t, diff.Diff, "+version: 2")
		assert.Contains(t, diff.Diff, "+line: {term_months: 24, review_months: 12}")
		_, err = e.policies.ApprovePolicy(risk1, &sanzhiv1.ApprovePolicyRequest{Name: v2.Name})
		require.NoError(t, err)
		_, err = e.policies.ActivatePolicy(risk2, &sanzhiv1.ActivatePolicyRequest{Name: v2.Name})
		require.NoError(t, err)
		old, err := e.policies.GetPolicy(e.as("regulator"), &sanzhiv1.GetPolicyRequest{Name: v1.Name})
		require.NoError(t, err)
		assert.Equal(t, sanzhiv1.PolicyState_POLICY_STATE_SUPERSEDED, old.State)
		list, err := e.policies.ListPolicies(risk1, &sanzhiv1.ListPoliciesRequest{Parent: product})
		require.NoError(t, err)
		require.Len(t, list.Policies, 2)
		assert.Equal(t, v2.Name, list.Policies[0].Name)
		assert.Empty(t, list.Policies[0].Document)

		// Another bank's risk manager and the village side are refused.
		_, err = e.policies.GetPolicy(e.as("risk-other"), &sanzhiv1.GetPolicyRequest{Name: v1.Name})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, err = e.policies.UploadPolicy(e.as("risk-other"), &sanzhiv1.UploadPolicyRequest{Parent: product, Document: policyDoc(t, 9)})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, err = e.policies.ListPolicies(e.as("clerk-a"), &sanzhiv1.ListPoliciesRequest{Parent: product})
		requireCode(t, err, codes.PermissionDenied, "", "")
	})
}

// SimulatePolicy runs a stored draft over the households against the
// active version and changes nothing but the audit log.
func TestSimulatePolicy(t *testing.T) {
	// Not parallel: simrun runs one simulation per bank per process.
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		e.noonTomorrow()
		activateCounty(t, e)
		for range simulate.MinCell {
			newHousehold(t, e, villageA, false)
		}
		const product = "banks/tongxiang-rcb/products/sanzhi-xindai"
		risk1, risk2 := e.as("risk-1"), e.as("risk-2")
		v1, err := e.policies.UploadPolicy(risk1, &sanzhiv1.UploadPolicyRequest{Parent: product, Document: policyDoc(t, 1)})
		require.NoError(t, err)
		_, err = e.policies.ApprovePolicy(risk2, &sanzhiv1.ApprovePolicyRequest{Name: v1.Name})
		require.NoError(t, err)
		_, err = e.policies.ActivatePolicy(risk1, &sanzhiv1.ActivatePolicyRequest{Name: v1.Name})
		require.NoError(t, err)
		// Version 2 lends ¥1,000 less at every grade: same eligibility,
		// lower exposure.
		draft := policyDoc(t, 2)
		v2, err := e.policies.UploadPolicy(risk2, &sanzhiv1.UploadPolicyRequest{Parent: product, Document: draft})
		require.NoError(t, err)

		n0, err := st.QueueLength(context.Background())
		require.NoError(t, err)
		res, err := e.policies.SimulatePolicy(risk1, &sanzhiv1.SimulatePolicyRequest{
			Name: v2.Name, Against: product + "/policies/active", Language: "en"})
		require.NoError(t, err)
		assert.Equal(t, int32(simulate.MinCell), res.Households)
		assert.Equal(t, res.EligibleBase, res.EligibleNew, "the same document: the same outcome")
		assert.Equal(t, res.ExposureBase, res.ExposureNew)
		assert.Contains(t, res.Report, "Grade migration")
		html, err := e.policies.SimulatePolicy(e.as("regulator"), &sanzhiv1.SimulatePolicyRequest{
			Name: v2.Name, Format: sanzhiv1.SimulationFormat_SIMULATION_FORMAT_HTML})
		require.NoError(t, err)
		assert.Contains(t, html.Report, "<svg")
		n1, err := st.QueueLength(context.Background())
		require.NoError(t, err)
		assert.Equal(t, n0+2, n1, "a simulation writes its audit entry and nothing else")
		before := snapshot(t, e)

		_, err = e.policies.SimulatePolicy(e.as("clerk-a"), &sanzhiv1.SimulatePolicyRequest{Name: v2.Name})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, err = e.policies.SimulatePolicy(e.as("risk-other"), &sanzhiv1.SimulatePolicyRequest{Name: v2.Name})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, err = e.policies.SimulatePolicy(risk1, &sanzhiv1.SimulatePolicyRequest{Name: v2.Name, AsOf: "2999-01-01"})
		requireCode(t, err, codes.InvalidArgument, "as_of", "")
		_, err = e.policies.SimulatePolicy(risk1, &sanzhiv1.SimulatePolicyRequest{Name: product + "/policies/9"})
		requireCode(t, err, codes.NotFound, "", "")
		assert.Equal(t, before, snapshot(t, e), "a refused simulation writes nothing")
	})
}
