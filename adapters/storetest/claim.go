package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/lending/credit"
)

// claimer claims id's mark in a transaction of its own.
func claimer(t *testing.T, s Store) func(id string) bool {
	return func(id string) bool {
		t.Helper()
		var ok bool
		require.NoError(t, s.Lending().Locked(context.Background(), func(tx credit.Writer) error {
			var err error
			ok, err = tx.ClaimDue(context.Background(), id)
			return err
		}))
		return ok
	}
}

// testClaimDue: a re-assessor claims a household's mark for its
// transaction; a claim that did not clear the mark leaves it.
func testClaimDue(t *testing.T, s Store) {
	h := newHousehold(t, villageA, 1)
	other := newHousehold(t, villageA, 2)
	insert(t, s, h)
	insert(t, s, other)
	openLine(t, s, h, bankA, productA)
	claim := claimer(t, s)
	assert.False(t, claim(h.ID), "no mark, nothing to claim")
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.MarkDue(ctx, h.ID, base) }))
	assert.True(t, claim(h.ID))
	assert.False(t, claim(other.ID))
	assert.True(t, claim(h.ID), "a claim that did not clear leaves the mark")
}

// testClaimDueSkipsHeld: a second claim while the first is held does not
// wait and does not get it (PostgreSQL: SKIP LOCKED); a change marking the
// household meanwhile waits and marks it anew once the claim's
// transaction cleared it, so that change is not lost. An engine with one
// writer at a time never holds two claims at once, and opts out.
func testClaimDueSkipsHeld(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	openLine(t, s, h, bankA, productA)
	claim := claimer(t, s)
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.MarkDue(ctx, h.ID, base) }))

	held, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.Lending().Locked(ctx, func(tx credit.Writer) error {
			ok, err := tx.ClaimDue(ctx, h.ID)
			if err != nil || !ok {
				return err
			}
			close(held)
			<-release
			return tx.ClearDue(ctx, []string{h.ID})
		})
	}()
	<-held
	start := time.Now()
	assert.False(t, claim(h.ID), "held by the first: skipped")
	assert.Less(t, time.Since(start), 2*time.Second, "a second claim does not wait")
	changed := make(chan error, 1)
	go func() {
		changed <- appendToSheet(s, h.ID, award("claim-1", h.ID, "5", "2026-03-10", true))
	}()
	select {
	case err := <-changed:
		t.Fatalf("the change did not wait for the claim: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	require.NoError(t, <-done)
	require.NoError(t, <-changed)
	ids, err := readLending(s, func(tx credit.Reader) ([]string, error) { return tx.DueHouseholds(ctx, 10) })
	require.NoError(t, err)
	assert.Equal(t, []string{h.ID}, ids, "the change made while the mark was claimed marked the household anew")
}
