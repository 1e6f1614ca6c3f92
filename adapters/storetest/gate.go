package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/policies"
)

// testPolicyGateReports holds a store to the gate reports' contract:
// numbered per version from 1, the latest read back whole (checks, JSON
// text byte for byte, times to the microsecond), NotFound for a version
// without one and for a version that does not exist.
func testPolicyGateReports(t *testing.T, s Store) {
	ctx := context.Background()
	k := policyVersions
	k.insert(t, s, newPolicy(bankA, productA, 1))
	k.insert(t, s, newPolicy(bankA, productA, 2))
	k.insert(t, s, newPolicy(bankB, productA, 1))

	latest := func(bank, product string, n int) (*policies.GateReport, error) {
		var out *policies.GateReport
		err := s.Policies().Read(ctx, func(tx policies.Reader) error {
			var err error
			out, err = tx.LatestGateReport(ctx, bank, product, n)
			return err
		})
		return out, err
	}
	insert := func(r *policies.GateReport) error {
		return s.Policies().Write(ctx, func(tx policies.Writer) error { return tx.InsertGateReport(ctx, r) })
	}

	_, err := latest(bankA, productA, 1)
	assert.True(t, fault.Is(err, fault.NotFound), "no report yet, got %v", err)

	first := &policies.GateReport{Bank: bankA, Product: productA, Version: 1, PolicyHash: newPolicy(bankA, productA, 1).ContentHash,
		AsOf: "2026-03-01", Households: 0, Passed: true, Checks: []policies.GateCheck{
			{ID: "psi", Threshold: 0.25, Passed: true, ZH: "评分稳定性 PSI 0.0000，上限 0.2500", EN: "score PSI 0.0000 against a maximum of 0.2500"},
		}, Summary: `{"households":0}`, Reference: `{"policy_hash":"x","decisions":0,"scores":null,"bins":[]}`,
		EvaluatedBy: "risk-1", Time: base.Add(123456789)}
	require.NoError(t, insert(first))
	assert.Equal(t, 1, first.Seq)

	second := &policies.GateReport{Bank: bankA, Product: productA, Version: 1, PolicyHash: first.PolicyHash,
		AgainstVersion: 7, AsOf: "2026-03-02", Households: 1234, Passed: false, Checks: []policies.GateCheck{
			{ID: "psi", Value: 0.031, Threshold: 0.25, Passed: true, Applicable: true, ZH: "甲", EN: "a"},
			{ID: "adverse_impact", Value: 0.7123, Threshold: 0.8, Passed: false, Applicable: true, ZH: "最低不利影响比", EN: "lowest"},
			{ID: "lost_share", Value: 0.01, Threshold: 0.05, Passed: true, Applicable: true, ZH: "丙", EN: "c"},
		}, Summary: `{"households":1234,"judged_dimensions":["sex","village"]}`,
		Reference:   `{"policy_hash":"h","decisions":1234,"scores":[{"score":500,"n":1234}],"bins":[[1234,0]]}`,
		EvaluatedBy: "risk-2", Time: base.Add(time.Hour)}
	require.NoError(t, insert(second))
	assert.Equal(t, 2, second.Seq)

	// Another version's and another bank's reports are numbered apart.
	other := *first
	other.Version, other.Seq = 2, 0
	require.NoError(t, insert(&other))
	assert.Equal(t, 1, other.Seq)
	otherBank := *first
	otherBank.Bank, otherBank.Seq = bankB, 0
	require.NoError(t, insert(&otherBank))
	assert.Equal(t, 1, otherBank.Seq)

	got, err := latest(bankA, productA, 1)
	require.NoError(t, err)
	assert.True(t, second.Time.Equal(got.Time), "time %v, want %v", got.Time, second.Time)
	got.Time = second.Time
	assert.Equal(t, second, got)
	got, err = latest(bankA, productA, 2)
	require.NoError(t, err)
	assert.Equal(t, 1, got.Seq)
	assert.Equal(t, first.Checks, got.Checks)
	assert.Equal(t, first.Reference, got.Reference)

	// A version that does not exist has no report and takes none; a
	// failed write leaves nothing.
	_, err = latest(bankA, productB, 1)
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	missing := *first
	missing.Product, missing.Seq = productB, 0
	err = insert(&missing)
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	_, err = latest(bankA, productB, 1)
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
}
