package policies_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/policies"
)

// approved uploads version n and has a second person approve it.
func (f *fixture) approved(t *testing.T, n int) {
	t.Helper()
	ctx := context.Background()
	_, err := f.svc.Upload(ctx, maker, parent, doc(bank, product, n, ""))
	require.NoError(t, err)
	_, err = f.svc.Approve(ctx, checker, name(n))
	require.NoError(t, err)
	f.recorded(t, 2, "upload and approve")
}

func TestChallengerDesignation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.approved(t, 1)
	_, err := f.svc.Activate(ctx, operator, name(1))
	require.NoError(t, err)
	f.recorded(t, 1, "activate 1")
	f.approved(t, 2)
	f.approved(t, 3)
	_, err = f.svc.Upload(ctx, maker, parent, doc(bank, product, 4, ""))
	require.NoError(t, err)
	f.recorded(t, 1, "upload 4")

	_, err = f.svc.GetChallenger(ctx, parent)
	assert.True(t, fault.Is(err, fault.NotFound), "none yet, got %v", err)
	assert.Equal(t, policies.ReasonChallengerNotFound, reason(err))

	// Only an approved version: not a draft, not the champion.
	for _, n := range []int{4, 1} {
		_, err = f.svc.StartChallenger(ctx, maker, name(n))
		assert.True(t, fault.Is(err, fault.FailedPrecondition), "version %d: %v", n, err)
		assert.Equal(t, policies.ReasonChallengerNotApproved, reason(err))
	}
	_, err = f.svc.StartChallenger(ctx, maker, name(9))
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	f.recorded(t, 0, "refused starts")

	// One person may start it: no maker-checker for a shadow.
	c, err := f.svc.StartChallenger(ctx, maker, name(2))
	require.NoError(t, err)
	assert.Equal(t, 2, c.Version)
	assert.Equal(t, maker.ID, c.StartedBy)
	assert.Nil(t, c.StopTime)
	f.recorded(t, 1, "start")

	// Starting it again returns it and records nothing; another version
	// must wait until it is stopped.
	again, err := f.svc.StartChallenger(ctx, checker, name(2))
	require.NoError(t, err)
	assert.Equal(t, maker.ID, again.StartedBy)
	_, err = f.svc.StartChallenger(ctx, maker, name(3))
	assert.True(t, fault.Is(err, fault.FailedPrecondition), "got %v", err)
	assert.Equal(t, policies.ReasonChallengerExists, reason(err))
	f.recorded(t, 0, "start again, another start")

	got, err := f.svc.GetChallenger(ctx, parent)
	require.NoError(t, err)
	assert.Equal(t, 2, got.Challenger.Version)
	assert.Equal(t, policies.ShadowCounts{}, got.Counts)

	stopped, err := f.svc.StopChallenger(ctx, checker, parent)
	require.NoError(t, err)
	assert.Equal(t, checker.ID, stopped.StoppedBy)
	assert.Equal(t, policies.StopStopped, stopped.StopReason)
	require.NotNil(t, stopped.StopTime)
	f.recorded(t, 1, "stop")
	_, err = f.svc.StopChallenger(ctx, checker, parent)
	assert.True(t, fault.Is(err, fault.FailedPrecondition), "got %v", err)
	assert.Equal(t, policies.ReasonNoChallenger, reason(err))
	_, err = f.svc.GetChallenger(ctx, parent)
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)

	// Version 3, then activated: the designation ends with the
	// activation, in its transaction, told in its record.
	_, err = f.svc.StartChallenger(ctx, maker, name(3))
	require.NoError(t, err)
	f.recorded(t, 1, "start 3")
	_, err = f.svc.Activate(ctx, operator, name(3))
	require.NoError(t, err)
	f.recorded(t, 1, "activate 3, which ends the challenger")
	_, err = f.svc.GetChallenger(ctx, parent)
	assert.True(t, fault.Is(err, fault.NotFound), "the champion is no challenger, got %v", err)

	// Superseded and older approved versions: superseded is refused.
	_, err = f.svc.StartChallenger(ctx, maker, name(1))
	assert.Equal(t, policies.ReasonChallengerNotApproved, reason(err), "superseded: %v", err)
	f.recorded(t, 0, "refused")
}

func TestChallengerActivationOfAnotherVersionKeepsIt(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.approved(t, 1)
	f.approved(t, 2)
	_, err := f.svc.StartChallenger(ctx, maker, name(1))
	require.NoError(t, err)
	_, err = f.svc.Activate(ctx, operator, name(2))
	require.NoError(t, err)
	f.recorded(t, 2, "start, activate")
	got, err := f.svc.GetChallenger(ctx, parent)
	require.NoError(t, err)
	assert.Equal(t, 1, got.Challenger.Version, "activating another version leaves the challenger be")
}

func TestChallengerBadNames(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for _, tc := range []struct {
		call  func() error
		field string
	}{
		{func() error { _, err := f.svc.StartChallenger(ctx, maker, parent); return err }, "name"},
		{func() error { _, err := f.svc.StartChallenger(ctx, maker, parent+"/policies/active"); return err }, "name"},
		{func() error { _, err := f.svc.StartChallenger(ctx, maker, "banks/X/products/y/policies/1"); return err }, "name"},
		{func() error { _, err := f.svc.StopChallenger(ctx, maker, name(1)); return err }, "parent"},
		{func() error { _, err := f.svc.GetChallenger(ctx, "banks/"+bank); return err }, "parent"},
	} {
		err := tc.call()
		var fe *fault.Error
		require.True(t, errors.As(err, &fe), "got %v", err)
		assert.Equal(t, fault.Invalid, fe.Kind)
		require.Len(t, fe.Violations, 1)
		assert.Equal(t, tc.field, fe.Violations[0].Field)
	}
	f.recorded(t, 0, "bad names")
}

func TestCanChallenge(t *testing.T) {
	v := &policies.Version{Bank: bank, Product: product, Version: 2, State: policies.Approved}
	change, err := policies.CanChallenge(v, nil)
	assert.True(t, change)
	require.NoError(t, err)
	change, err = policies.CanChallenge(v, &policies.Challenger{Version: 2})
	assert.False(t, change)
	require.NoError(t, err)
	_, err = policies.CanChallenge(v, &policies.Challenger{Version: 3})
	assert.Equal(t, policies.ReasonChallengerExists, reason(err))
	for _, st := range []policies.State{policies.Draft, policies.Active, policies.Superseded} {
		v.State = st
		_, err = policies.CanChallenge(v, nil)
		assert.Equal(t, policies.ReasonChallengerNotApproved, reason(err), "%s", st)
	}
}
