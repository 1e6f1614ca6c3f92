package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/delivery"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/lending/credit"
)

// testBacklog: the waiting work /metrics reports, read from each table it
// lives in: the audit queue and its oldest record, the latest
// checkpoint, households due for re-assessment and what running batch
// runs have left, and per bank the events after its webhook's cursor and
// its dead letters.
func testBacklog(t *testing.T, s Store) {
	ctx := context.Background()
	read := func() sqlstore.Backlog {
		t.Helper()
		b, err := s.Backlog(ctx)
		require.NoError(t, err)
		return b
	}
	assert.Equal(t, sqlstore.Backlog{Webhooks: []sqlstore.WebhookBacklog{}}, read(), "an empty store waits for nothing")

	queueRecords(t, s, 3, 2)
	queueRecords(t, s, 0, 2) // queued later, but earlier records
	b := read()
	assert.Equal(t, int64(4), b.AuditQueued)
	require.NotNil(t, b.AuditOldest)
	sameInstant(t, auditRecord(0).Time, *b.AuditOldest, "oldest queued record")
	_, _, err := s.Integrate(ctx, 100)
	require.NoError(t, err)
	b = read()
	assert.Zero(t, b.AuditQueued, "sequenced")
	assert.Nil(t, b.AuditOldest)
	assert.Nil(t, b.LastCheckpoint, "none signed yet")
	head, err := s.Head(ctx)
	require.NoError(t, err)
	for i, size := range []uint64{head.Size - 1, head.Size} {
		require.NoError(t, s.SaveCheckpoint(ctx, sqlstore.StoredCheckpoint{Size: size, Root: head.Root,
			Note: "note", Time: base.Add(time.Duration(i) * time.Hour)}))
	}
	b = read()
	require.NotNil(t, b.LastCheckpoint)
	sameInstant(t, base.Add(time.Hour), *b.LastCheckpoint, "the latest checkpoint's time")

	// A household with an open line whose points change is due.
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	openLine(t, s, h, bankA, productA)
	assert.Zero(t, read().ReassessDue)
	before := time.Now().Add(-time.Minute)
	require.NoError(t, appendToSheet(s, h.ID, award("backlog-1", h.ID, "5", "2026-03-10", true)))
	b = read()
	assert.Equal(t, int64(1), b.ReassessDue)
	require.NotNil(t, b.ReassessOldest)
	assert.WithinRange(t, *b.ReassessOldest, before, time.Now().Add(time.Minute), "marked now")
	require.NoError(t, s.Lending().Write(ctx, func(tx credit.Writer) error { return tx.ClearDue(ctx, []string{h.ID}) }))
	b = read()
	assert.Zero(t, b.ReassessDue)
	assert.Nil(t, b.ReassessOldest)

	for i, p := range []string{productA, productB} {
		r := &credit.Run{ID: newID(t), Bank: bankA, Product: p, PolicyVersion: 1, State: credit.RunRunning,
			StartedBy: "operator", StartTime: base, UpdateTime: base}
		require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.InsertRun(ctx, r) }))
		r.Done, r.Total = int64(3*i), 10
		if i == 1 {
			r.State = credit.RunDone // nothing left of a finished run
		}
		require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.UpdateRun(ctx, r) }))
	}
	assert.Equal(t, int64(10), read().ReassessRunLeft)

	// bankA: 3 events, cursor 0, two dead letters (one replayed); bankB:
	// 2 events, cursor 1; the third bank has only a dead letter.
	const bankC = "bankc"
	appendBankEvents(t, s, bankA, 3)
	appendBankEvents(t, s, bankB, 2)
	eb := newEndpoint(bankB, base)
	eb.Cursor = 1
	require.NoError(t, writeWebhooks(s, func(ctx context.Context, tx delivery.Writer) error {
		if err := tx.InsertEndpoint(ctx, newEndpoint(bankA, base)); err != nil {
			return err
		}
		if err := tx.InsertEndpoint(ctx, eb); err != nil {
			return err
		}
		for _, d := range []*delivery.DeadLetter{{Bank: bankA, Seq: 1}, {Bank: bankA, Seq: 2}, {Bank: bankC, Seq: 7}} {
			d.EventID, d.EventType, d.DeadTime = newID(t), credit.EventDrawdown, base
			if err := tx.InsertDeadLetter(ctx, d); err != nil {
				return err
			}
		}
		return tx.MarkReplayed(ctx, bankA, 2, base.Add(time.Hour), "op-1")
	}))
	assert.Equal(t, []sqlstore.WebhookBacklog{ // by bank id
		{Bank: bankC, DeadLetters: 1, Unreplayed: 1},
		{Bank: bankB, Pending: 1},
		{Bank: bankA, Pending: 3, DeadLetters: 2, Unreplayed: 1},
	}, read().Webhooks)
}
