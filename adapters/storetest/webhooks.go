package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/delivery"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending/credit"
)

func newEndpoint(bank string, at time.Time) *delivery.Endpoint {
	return &delivery.Endpoint{
		Bank: bank, URL: "https://" + bank + ".example/hook",
		Secret:          pii.Sealed{KeyID: "k1", Ciphertext: []byte("sealed-" + bank)},
		NextAttemptTime: at, LeaseUntil: at.Add(-time.Second),
		CreatedBy: "op-1", CreateTime: at, UpdatedBy: "op-1", UpdateTime: at,
	}
}

func writeWebhooks(s Store, fn func(ctx context.Context, tx delivery.Writer) error) error {
	return s.Webhooks().Write(context.Background(), func(tx delivery.Writer) error { return fn(context.Background(), tx) })
}

func readEndpoint(t *testing.T, s Store, bank string) (*delivery.Endpoint, error) {
	t.Helper()
	var e *delivery.Endpoint
	err := s.Webhooks().Read(context.Background(), func(tx delivery.Reader) error {
		var err error
		e, err = tx.Endpoint(context.Background(), bank)
		return err
	})
	return e, err
}

// appendBankEvents commits n line events of bank, one transaction.
func appendBankEvents(t *testing.T, s Store, bank string, n int) {
	t.Helper()
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		for i := range n {
			ev := &credit.LineEvent{Bank: bank, ID: newID(t), Type: credit.EventDrawdown, LineID: "line-" + bank,
				Village: villageA, HouseholdID: "h-1", Payload: fmt.Appendf(nil, `{"n":%d}`, i), Time: base}
			if err := tx.AppendLineEvent(ctx, ev); err != nil {
				return err
			}
		}
		return nil
	}))
}

// testWebhookEndpoints: an endpoint round-trips, is stored once per bank,
// and an update changes its configuration and retry state but not its
// cursor or lease.
func testWebhookEndpoints(t *testing.T, s Store) {
	_, err := readEndpoint(t, s, bankA)
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	e := newEndpoint(bankA, base)
	require.NoError(t, writeWebhooks(s, func(ctx context.Context, tx delivery.Writer) error { return tx.InsertEndpoint(ctx, e) }))
	got, err := readEndpoint(t, s, bankA)
	require.NoError(t, err)
	assert.Equal(t, e.URL, got.URL)
	assert.Equal(t, e.Secret, got.Secret)
	assert.Nil(t, got.Previous)
	assert.Nil(t, got.PreviousUntil)
	sameInstant(t, base, got.NextAttemptTime, "next attempt")
	sameInstant(t, base, got.CreateTime, "create time")

	err = writeWebhooks(s, func(ctx context.Context, tx delivery.Writer) error {
		return tx.InsertEndpoint(ctx, newEndpoint(bankA, base))
	})
	assert.True(t, fault.Is(err, fault.AlreadyExists), "one endpoint a bank, got %v", err)

	// Delivery state first, then a configuration update leaves it alone.
	claimed := false
	require.NoError(t, writeWebhooks(s, func(ctx context.Context, tx delivery.Writer) error {
		var err error
		claimed, err = tx.ClaimEndpoint(ctx, bankA, "inst-1", base, base.Add(time.Minute))
		if err != nil || !claimed {
			return err
		}
		d := *e
		d.Cursor, d.LeaseOwner, d.LeaseUntil = 3, "inst-1", base.Add(time.Minute)
		_, err = tx.UpdateDelivery(ctx, &d, "inst-1", 0)
		return err
	}))
	require.True(t, claimed)
	u := *e
	until := base.Add(24 * time.Hour)
	u.URL, u.Previous, u.PreviousUntil = "https://new.example/hook", &e.Secret, &until
	u.Secret = pii.Sealed{KeyID: "k2", Ciphertext: []byte("rotated")}
	u.Attempts, u.LastError, u.NextAttemptTime = 0, "", base.Add(time.Second)
	u.UpdatedBy, u.UpdateTime = "op-2", base.Add(time.Hour)
	require.NoError(t, writeWebhooks(s, func(ctx context.Context, tx delivery.Writer) error { return tx.UpdateEndpoint(ctx, &u) }))
	got, err = readEndpoint(t, s, bankA)
	require.NoError(t, err)
	assert.Equal(t, u.URL, got.URL)
	assert.Equal(t, u.Secret, got.Secret)
	require.NotNil(t, got.Previous)
	assert.Equal(t, e.Secret, *got.Previous)
	require.NotNil(t, got.PreviousUntil)
	sameInstant(t, until, *got.PreviousUntil, "previous until")
	assert.Equal(t, "op-2", got.UpdatedBy)
	assert.Equal(t, int64(3), got.Cursor, "an update keeps the cursor")
	assert.Equal(t, "inst-1", got.LeaseOwner, "and the lease")

	ghost := newEndpoint(bankB, base)
	err = writeWebhooks(s, func(ctx context.Context, tx delivery.Writer) error { return tx.UpdateEndpoint(ctx, ghost) })
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
}

// testWebhookLease: one instance holds an endpoint's lease until it runs
// out; delivery state is stored only by the holder at the cursor it read.
func testWebhookLease(t *testing.T, s Store) {
	e := newEndpoint(bankA, base)
	require.NoError(t, writeWebhooks(s, func(ctx context.Context, tx delivery.Writer) error { return tx.InsertEndpoint(ctx, e) }))
	claim := func(owner string, now time.Time) bool {
		t.Helper()
		var ok bool
		require.NoError(t, writeWebhooks(s, func(ctx context.Context, tx delivery.Writer) error {
			var err error
			ok, err = tx.ClaimEndpoint(ctx, bankA, owner, now, now.Add(time.Minute))
			return err
		}))
		return ok
	}
	deliver := func(owner string, prev, cursor int64) bool {
		t.Helper()
		var ok bool
		d := *e
		d.Cursor, d.LeaseOwner, d.LeaseUntil = cursor, owner, base.Add(time.Minute)
		require.NoError(t, writeWebhooks(s, func(ctx context.Context, tx delivery.Writer) error {
			var err error
			ok, err = tx.UpdateDelivery(ctx, &d, owner, prev)
			return err
		}))
		return ok
	}
	assert.False(t, claim("a", base.Add(-time.Hour)), "not due yet")
	assert.True(t, claim("a", base))
	assert.False(t, claim("b", base.Add(30*time.Second)), "leased to a")
	assert.False(t, deliver("b", 0, 1), "b does not hold the lease")
	assert.True(t, deliver("a", 0, 1))
	assert.False(t, deliver("a", 0, 2), "the cursor moved on: a stale update is refused")
	got, err := readEndpoint(t, s, bankA)
	require.NoError(t, err)
	assert.Equal(t, int64(1), got.Cursor)
	assert.Equal(t, "a", got.LeaseOwner)
	assert.False(t, claim("c", base.Add(10*time.Second)), "a's lease still runs")
	assert.True(t, claim("c", base.Add(2*time.Minute)), "a lease that ran out is taken over")
	assert.False(t, deliver("a", 1, 2), "a lost the lease")
}

// testWebhookDueEndpoints: an endpoint is due when it has events after its
// cursor, its next attempt has come and no lease runs; the longest due
// first. LineEventHead is the bank's highest event seq.
func testWebhookDueEndpoints(t *testing.T, s Store) {
	ctx := context.Background()
	due := func(now time.Time) []string {
		t.Helper()
		var out []string
		require.NoError(t, s.Webhooks().Read(ctx, func(tx delivery.Reader) error {
			var err error
			out, err = tx.DueEndpoints(ctx, now, 10)
			return err
		}))
		return out
	}
	head := func(bank string) int64 {
		t.Helper()
		var n int64
		require.NoError(t, s.Webhooks().Read(ctx, func(tx delivery.Reader) error {
			var err error
			n, err = tx.LineEventHead(ctx, bank)
			return err
		}))
		return n
	}
	for i, b := range []string{bankA, bankB} {
		e := newEndpoint(b, base.Add(time.Duration(1-i)*time.Minute)) // bankB is due first
		require.NoError(t, writeWebhooks(s, func(ctx context.Context, tx delivery.Writer) error { return tx.InsertEndpoint(ctx, e) }))
	}
	assert.Empty(t, due(base.Add(time.Hour)), "no events, nothing due")
	assert.Zero(t, head(bankA))
	appendBankEvents(t, s, bankA, 2)
	appendBankEvents(t, s, bankB, 3)
	assert.Equal(t, int64(2), head(bankA))
	assert.Equal(t, int64(3), head(bankB))
	assert.Equal(t, []string{bankB}, due(base), "bankA's next attempt has not come")
	assert.Equal(t, []string{bankB, bankA}, due(base.Add(time.Hour)), "the longest due first")

	var evs []*credit.LineEvent
	require.NoError(t, s.Webhooks().Read(ctx, func(tx delivery.Reader) error {
		var err error
		evs, err = tx.LineEvents(ctx, bankB, 1, 10)
		return err
	}))
	require.Len(t, evs, 2)
	assert.Equal(t, []int64{2, 3}, []int64{evs[0].Seq, evs[1].Seq})

	require.NoError(t, writeWebhooks(s, func(ctx context.Context, tx delivery.Writer) error {
		_, err := tx.ClaimEndpoint(ctx, bankB, "inst", base.Add(time.Hour), base.Add(2*time.Hour))
		return err
	}))
	assert.Equal(t, []string{bankA}, due(base.Add(time.Hour)), "a leased endpoint is not due")
}

// testWebhookDeadLetters: dead letters are stored once per (bank, seq),
// listed newest first a page at a time, and a replay is recorded.
func testWebhookDeadLetters(t *testing.T, s Store) {
	ctx := context.Background()
	require.NoError(t, writeWebhooks(s, func(ctx context.Context, tx delivery.Writer) error {
		if err := tx.InsertEndpoint(ctx, newEndpoint(bankA, base)); err != nil {
			return err
		}
		for _, seq := range []int64{1, 4, 5, 6} {
			if err := tx.InsertDeadLetter(ctx, &delivery.DeadLetter{Bank: bankA, Seq: seq, EventID: fmt.Sprint("ev-", seq),
				EventType: credit.EventDrawdown, Attempts: 8, LastError: "HTTP 500", DeadTime: base.Add(time.Duration(seq) * time.Minute)}); err != nil {
				return err
			}
		}
		return nil
	}))
	err := writeWebhooks(s, func(ctx context.Context, tx delivery.Writer) error {
		return tx.InsertDeadLetter(ctx, &delivery.DeadLetter{Bank: bankA, Seq: 4, EventID: "again", DeadTime: base})
	})
	assert.True(t, fault.Is(err, fault.AlreadyExists), "got %v", err)

	list := func(before int64, limit int) []int64 {
		t.Helper()
		var seqs []int64
		require.NoError(t, s.Webhooks().Read(ctx, func(tx delivery.Reader) error {
			ds, err := tx.DeadLetters(ctx, bankA, before, limit)
			for _, d := range ds {
				seqs = append(seqs, d.Seq)
			}
			return err
		}))
		return seqs
	}
	assert.Equal(t, []int64{6, 5}, list(0, 2))
	assert.Equal(t, []int64{4, 1}, list(5, 2))
	assert.Empty(t, list(1, 2))

	require.NoError(t, writeWebhooks(s, func(ctx context.Context, tx delivery.Writer) error {
		return tx.MarkReplayed(ctx, bankA, 4, base.Add(time.Hour), "op-1")
	}))
	var d *delivery.DeadLetter
	require.NoError(t, s.Webhooks().Read(ctx, func(tx delivery.Reader) error {
		var err error
		d, err = tx.DeadLetter(ctx, bankA, 4)
		return err
	}))
	assert.Equal(t, "ev-4", d.EventID)
	assert.Equal(t, 8, d.Attempts)
	assert.Equal(t, "HTTP 500", d.LastError)
	assert.Equal(t, "op-1", d.ReplayedBy)
	require.NotNil(t, d.ReplayTime)
	sameInstant(t, base.Add(time.Hour), *d.ReplayTime, "replay time")
	sameInstant(t, base.Add(4*time.Minute), d.DeadTime, "dead time")

	err = writeWebhooks(s, func(ctx context.Context, tx delivery.Writer) error {
		return tx.MarkReplayed(ctx, bankA, 2, base, "op-1")
	})
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	err = s.Webhooks().Read(ctx, func(tx delivery.Reader) error {
		_, err := tx.DeadLetter(ctx, bankA, 2)
		return err
	})
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
}
