package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/lending/credit"
)

// testLineEventsBefore: a bank's events newest first, all or one line's,
// a page before a seq at a time; and a review keeps who opened it.
func testLineEventsBefore(t *testing.T, s Store) {
	ctx := context.Background()
	var all []*credit.LineEvent
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		all = all[:0]
		for i, c := range []struct{ bank, line string }{{bankA, "l-1"}, {bankA, "l-2"}, {bankB, "l-1"},
			{bankA, "l-1"}, {bankA, "l-2"}, {bankA, "l-1"}} {
			ev := &credit.LineEvent{Bank: c.bank, ID: fmt.Sprintf("ev-%d-%s", i, c.line), Type: credit.EventLineFrozen,
				LineID: c.line, Village: villageA, HouseholdID: "h-1", Payload: []byte(`{"n":1}`),
				Time: base.Add(time.Duration(i) * time.Second)}
			if err := tx.AppendLineEvent(ctx, ev); err != nil {
				return err
			}
			all = append(all, ev)
		}
		return nil
	}))
	seqs := func(q credit.EventQuery) []int64 {
		evs, err := readLending(s, func(tx credit.Reader) ([]*credit.LineEvent, error) { return tx.LineEventsBefore(ctx, q) })
		require.NoError(t, err)
		out := []int64{}
		for _, e := range evs {
			assert.Equal(t, q.Bank, e.Bank)
			if q.LineID != "" {
				assert.Equal(t, q.LineID, e.LineID)
			}
			out = append(out, e.Seq)
		}
		return out
	}
	assert.Equal(t, []int64{5, 4, 3, 2, 1}, seqs(credit.EventQuery{Bank: bankA, Limit: 10}), "newest first")
	assert.Equal(t, []int64{5, 4}, seqs(credit.EventQuery{Bank: bankA, Limit: 2}))
	assert.Equal(t, []int64{3, 2}, seqs(credit.EventQuery{Bank: bankA, Before: 4, Limit: 2}), "the next page")
	assert.Equal(t, []int64{5, 3, 1}, seqs(credit.EventQuery{Bank: bankA, LineID: "l-1", Limit: 10}), "one line's")
	assert.Equal(t, []int64{1}, seqs(credit.EventQuery{Bank: bankA, LineID: "l-1", Before: 3, Limit: 10}))
	assert.Equal(t, []int64{1}, seqs(credit.EventQuery{Bank: bankB, Limit: 10}), "another bank's are apart")
	assert.Empty(t, seqs(credit.EventQuery{Bank: bankA, Before: 1, Limit: 10}))
	evs, err := readLending(s, func(tx credit.Reader) ([]*credit.LineEvent, error) {
		return tx.LineEventsBefore(ctx, credit.EventQuery{Bank: bankA, LineID: "l-2", Limit: 1})
	})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	want := *all[4]
	got := *evs[0]
	sameInstant(t, want.Time, got.Time, "event time")
	want.Time, got.Time = time.Time{}, time.Time{}
	assert.Equal(t, want, got, "read back whole")

	// Who opened a review round-trips.
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	d := newDecision(t, h, bankA, productA)
	r := &credit.Review{ID: newID(t), DecisionID: d.ID, Bank: d.Bank, Village: d.Village, HouseholdID: d.HouseholdID,
		Reason: "客户经理复核：收入证明已更新", State: credit.ReviewOpen, RequestedBy: "officer", ByBank: true, RequestTime: base}
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		if err := tx.InsertDecision(ctx, d); err != nil {
			return err
		}
		return tx.InsertReview(ctx, r)
	}))
	got2, err := readLending(s, func(tx credit.Reader) (*credit.Review, error) { return tx.Review(ctx, r.ID) })
	require.NoError(t, err)
	assert.True(t, got2.ByBank, "opened by the bank")
	list, err := readLending(s, func(tx credit.Reader) ([]*credit.Review, error) {
		return tx.Reviews(ctx, credit.ReviewQuery{Bank: bankA, Limit: 10})
	})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.True(t, list[0].ByBank)
}
