package policies_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/policies"
)

// gateFixture is a fixture whose service evaluates the gate with a stand-in
// for the simulation: it stores a report that passes when pass says so.
type gateFixture struct {
	*fixture
	pass  bool
	calls int
}

func newGateFixture(t *testing.T, pass bool) *gateFixture {
	g := &gateFixture{fixture: newFixture(t), pass: pass}
	g.svc.SetGate(func(ctx context.Context, p *access.Principal, name string) (*policies.GateReport, error) {
		g.calls++
		v, err := g.svc.Get(ctx, name)
		if err != nil {
			return nil, err
		}
		against := 0
		if a, err := g.svc.Get(ctx, v.Parent()+"/policies/active"); err == nil {
			against = a.Version
		}
		check := policies.GateCheck{ID: "lost_share", Value: 0.125, Threshold: 0.05, Passed: g.pass, Applicable: true,
			ZH: "失去授信户占比 0.1250，上限 0.0500", EN: "share of households losing a line 0.1250 against a maximum of 0.0500"}
		return g.svc.RecordGate(ctx, p, &policies.GateReport{Bank: v.Bank, Product: v.Product, Version: v.Version,
			PolicyHash: v.ContentHash, AgainstVersion: against, AsOf: "2026-03-02", Households: 80, Passed: g.pass,
			Checks: []policies.GateCheck{check}, Summary: "{}", Reference: "{}"})
	})
	return g
}

// approvedGate uploads version n (with a rate line) as maker and has checker approve it.
func (f *fixture) approvedGate(t *testing.T, n int) {
	t.Helper()
	ctx := context.Background()
	_, err := f.svc.Upload(ctx, maker, parent, doc(bank, product, n, "rate: 4.35\n"))
	require.NoError(t, err)
	_, err = f.svc.Approve(ctx, checker, name(n))
	require.NoError(t, err)
	f.recorded(t, 2, "upload and approve")
}

// lastActivation integrates the audit queue and returns the canonical
// JSON of the latest policy.activate entry ("" for none).
func (f *fixture) lastActivation(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	st := f.st
	head, _, err := st.Integrate(ctx, 10000)
	require.NoError(t, err)
	f.records = 0 // the queue is empty now
	last := ""
	require.NoError(t, st.ScanLeaves(ctx, 0, head.Size, func(l sqlstore.Leaf) error {
		if strings.Contains(string(l.Data), `"action":"policy.activate"`) {
			last = string(l.Data)
		}
		return nil
	}))
	return last
}

func TestGatePassingActivates(t *testing.T) {
	ctx := context.Background()
	f := newGateFixture(t, true)
	f.approvedGate(t, 1)

	_, err := f.svc.LatestGate(ctx, name(1))
	assert.Equal(t, "GATE_REPORT_NOT_FOUND", reason(err))
	assert.True(t, fault.Is(err, fault.NotFound))

	v, err := f.svc.Activate(ctx, maker, name(1))
	require.NoError(t, err, "a passing gate: even the uploader activates, as before")
	assert.Equal(t, policies.Active, v.State)
	assert.Equal(t, 1, f.calls, "no report attached: the activation evaluated one")
	f.recorded(t, 2, "the gate report and the activation")
	entry := f.lastActivation(t)
	assert.Contains(t, entry, `"gate_passed":"true"`)
	assert.Contains(t, entry, `"gate_seq":"1"`)

	r, err := f.svc.LatestGate(ctx, parent+"/policies/active")
	require.NoError(t, err)
	assert.Equal(t, 1, r.Seq)
	assert.Equal(t, maker.ID, r.EvaluatedBy)
	assert.True(t, r.Passed)

	// Version 2 has a report against no active version, evaluated before
	// version 1 was activated: it no longer fits, so activation evaluates
	// again, against version 1.
	f.approvedGate(t, 2)
	_, err = f.svc.RecordGate(ctx, checker, &policies.GateReport{Bank: bank, Product: product, Version: 2,
		PolicyHash: mustHash(t, 2), AsOf: "2026-03-02", Passed: true, Summary: "{}", Reference: "{}"})
	require.NoError(t, err)
	f.recorded(t, 1, "a gate report")
	_, err = f.svc.Activate(ctx, checker, name(2))
	require.NoError(t, err)
	assert.Equal(t, 2, f.calls)
	r, err = f.svc.LatestGate(ctx, name(2))
	require.NoError(t, err)
	assert.Equal(t, 2, r.Seq)
	assert.Equal(t, 1, r.AgainstVersion)
	f.recorded(t, 2, "the new report and the activation")
}

func mustHash(t *testing.T, n int) string {
	m, err := check(doc(bank, product, n, "rate: 4.35\n"))
	require.NoError(t, err)
	return m.ContentHash
}

func TestGateFailedRefusesOnePerson(t *testing.T) {
	ctx := context.Background()
	f := newGateFixture(t, false)
	f.approvedGate(t, 1)

	// Without a justification: refused, naming the failing check; the
	// gate report the activation attached stays, nothing else is written.
	_, err := f.svc.Activate(ctx, checker, name(1))
	require.Error(t, err)
	assert.True(t, fault.Is(err, fault.FailedPrecondition), "got %v", err)
	assert.Equal(t, policies.ReasonGateFailed, reason(err))
	assert.Contains(t, err.Error(), "share of households losing a line")
	assert.Contains(t, err.Error(), "失去授信户占比")
	f.recorded(t, 1, "the gate report only")
	v, err := f.svc.Get(ctx, name(1))
	require.NoError(t, err)
	assert.Equal(t, policies.Approved, v.State)

	// The stored report is used from now on: no second evaluation.
	_, err = f.svc.Activate(ctx, checker, name(1))
	assert.Equal(t, policies.ReasonGateFailed, reason(err))
	assert.Equal(t, 1, f.calls)
	f.recorded(t, 0, "a refusal over the stored report")

	// A justification too short, or not text, is a bad field.
	for _, j := range []string{"too short", "          padded          ", strings.Repeat("长", policies.MaxJustification+1), "twenty chars and a \x00 control"} {
		_, err = f.svc.ActivateWith(ctx, checker, policies.ActivateRequest{Name: name(1), GateJustification: j})
		require.Error(t, err, j)
		var fe *fault.Error
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, fault.Invalid, fe.Kind, j)
		require.Len(t, fe.Violations, 1)
		assert.Equal(t, "gate_justification", fe.Violations[0].Field)
	}
	f.recorded(t, 0, "bad justifications")

	// The uploader may not override the gate, justification or not.
	const why = "村级数据更正后重新评估，风险委员会2026年第3次会议同意启用"
	_, err = f.svc.ActivateWith(ctx, maker, policies.ActivateRequest{Name: name(1), GateJustification: why})
	assert.True(t, fault.Is(err, fault.FailedPrecondition), "got %v", err)
	assert.Equal(t, policies.ReasonGateSecondPerson, reason(err))
	f.recorded(t, 0, "the uploader's override")
	assert.Empty(t, f.lastActivation(t))

	// A second person with a justification activates, and the entry
	// keeps the justification and the report it overrode.
	v, err = f.svc.ActivateWith(ctx, checker, policies.ActivateRequest{Name: name(1), GateJustification: "  " + why + "\n"})
	require.NoError(t, err)
	assert.Equal(t, policies.Active, v.State)
	f.recorded(t, 1, "the activation over the gate")
	entry := f.lastActivation(t)
	assert.Contains(t, entry, `"gate_justification":"`+why+`"`, "trimmed")
	assert.Contains(t, entry, `"gate_passed":"false"`)
	assert.Contains(t, entry, `"gate_seq":"1"`)
	assert.Contains(t, entry, `"gate_failed":"lost_share"`)
}

func TestGateWithoutEvaluator(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.approvedGate(t, 1)
	// A stored failing report binds a service without an evaluator too.
	_, err := f.svc.RecordGate(ctx, checker, &policies.GateReport{Bank: bank, Product: product, Version: 1,
		PolicyHash: mustHash(t, 1), AsOf: "2026-03-02", Passed: false,
		Checks:  []policies.GateCheck{{ID: "psi", Value: 0.4, Threshold: 0.25, Applicable: true, ZH: "评分稳定性", EN: "score PSI"}},
		Summary: "{}", Reference: "{}"})
	require.NoError(t, err)
	f.recorded(t, 1, "a gate report")
	_, err = f.svc.Activate(ctx, operator, name(1))
	assert.Equal(t, policies.ReasonGateFailed, reason(err))
	f.recorded(t, 0, "refused")

	// A report of other content is refused.
	_, err = f.svc.RecordGate(ctx, checker, &policies.GateReport{Bank: bank, Product: product, Version: 1,
		PolicyHash: "0000", AsOf: "2026-03-02", Summary: "{}", Reference: "{}"})
	assert.True(t, fault.Is(err, fault.FailedPrecondition), "got %v", err)
	_, err = f.svc.RecordGate(ctx, checker, &policies.GateReport{Bank: bank, Product: product, Version: 9,
		PolicyHash: "0000", AsOf: "2026-03-02", Summary: "{}", Reference: "{}"})
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	f.recorded(t, 0, "refused reports")

	// Without a report at all the activation goes ahead and says so.
	f.approvedGate(t, 2)
	_, err = f.svc.Activate(ctx, operator, name(2))
	require.NoError(t, err)
	f.recorded(t, 1, "activate")
	assert.Contains(t, f.lastActivation(t), `"gate":"not_evaluated"`)
}
