package merklelog_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
)

// rotated is a log of 100 leaves (checkpoints at 37 and 100) under key A,
// rotated to key B (handover at 101), and grown by 20 leaves under B
// (checkpoint at 121), with a receipt of entry 7 taken before the
// rotation.
type rotated struct {
	oldSkey, oldVkey, newSkey, newVkey string
	oldV, newV                         note.Verifier
	history                            *audit.KeyHistory
	handover                           sqlstore.StoredCheckpoint
	oldReceipt, newReceipt             audit.Receipt
	after                              *merklelog.Log // the server restarted with key B
}

func keyID(v note.Verifier) string { return fmt.Sprintf("%s+%08x", v.Name(), v.KeyHash()) }

func receiptOf(t *testing.T, l *merklelog.Log, seq, size uint64) audit.Receipt {
	t.Helper()
	p, err := l.Entry(context.Background(), seq, size)
	require.NoError(t, err)
	return audit.Receipt{Entry: p.Leaf.Data, LeafIndex: seq, Proof: p.Proof, Checkpoint: p.Checkpoint.Note}
}

func rotate(t *testing.T, st *sqlstore.Store) rotated {
	t.Helper()
	ctx := context.Background()
	var r rotated
	var err error
	r.oldSkey, r.oldVkey, err = audit.GenerateKey("sanzhi.test/audit")
	require.NoError(t, err)
	before, err := merklelog.New(st, r.oldSkey, time.Now)
	require.NoError(t, err)
	record(t, st, 0, 37)
	_, err = before.Publish(ctx)
	require.NoError(t, err)
	record(t, st, 37, 63)
	_, err = before.Publish(ctx)
	require.NoError(t, err)
	r.oldReceipt = receiptOf(t, before, 7, 37)

	r.newSkey, r.newVkey, err = audit.GenerateKey("sanzhi.test/audit")
	require.NoError(t, err)
	rot, err := merklelog.Rotate(ctx, st, nil, r.oldSkey, r.newSkey, "local-operator", time.Now())
	require.NoError(t, err)
	require.Equal(t, uint64(101), rot.Handover.Size, "the rotation entry grows the tree by one")
	assert.Equal(t, r.newVkey, rot.VerifierKey)
	r.history, r.handover = rot.History, rot.Handover

	r.after, err = merklelog.New(st, r.newSkey, time.Now)
	require.NoError(t, err)
	record(t, st, 100, 20)
	cp, err := r.after.Publish(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(121), cp.Size)
	r.newReceipt = receiptOf(t, r.after, 110, 121)
	r.oldV, err = audit.NewVerifier(r.oldVkey)
	require.NoError(t, err)
	r.newV, err = audit.NewVerifier(r.newVkey)
	require.NoError(t, err)
	return r
}

func TestRotateKey(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		r := rotate(t, b.Store)

		// The history: A from 0, B from the handover.
		keys := r.history.Keys()
		require.Len(t, keys, 2)
		assert.Equal(t, []uint64{0, 101}, []uint64{keys[0].From, keys[1].From})
		assert.Equal(t, r.oldVkey+" 0\n"+r.newVkey+" 101\n", strings.SplitN(string(r.history.Text()), "\n", 2)[1])

		// The handover carries both signatures; each key opens it on its own.
		assert.Equal(t, 2, strings.Count(r.handover.Note, "\n— sanzhi.test/audit "), r.handover.Note)
		for _, v := range []note.Verifier{r.oldV, r.newV} {
			_, err := audit.OpenCheckpoint([]byte(r.handover.Note), "sanzhi.test/audit", v)
			require.NoError(t, err)
		}
		// The rotation is on record in the log, naming both keys.
		p, err := r.after.Entry(ctx, 100, 0)
		require.NoError(t, err)
		assert.Equal(t, merklelog.ActionRotateKey, p.Entry.Action)
		assert.Equal(t, r.oldVkey, p.Entry.Payload["old_key"])
		assert.Equal(t, r.newVkey, p.Entry.Payload["new_key"])

		// The whole log verifies with the history, from a kept old checkpoint too.
		rep, err := merklelog.VerifyKeys(ctx, b.Store, r.history, nil, nil)
		require.NoError(t, err)
		assert.Equal(t, uint64(121), rep.Leaves)
		assert.Equal(t, 4, rep.Checkpoints)
		kept, err := b.Store.Checkpoint(ctx, 37)
		require.NoError(t, err)
		_, err = merklelog.VerifyKeys(ctx, b.Store, r.history, []byte(kept.Note), nil)
		require.NoError(t, err)

		// One key alone is not enough, and the failure names the checkpoint and keys.
		_, err = merklelog.Verify(ctx, b.Store, r.oldV, nil, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "checkpoint at size 121")
		assert.Contains(t, err.Error(), keyID(r.newV))
		assert.Contains(t, err.Error(), keyID(r.oldV))
		_, err = merklelog.Verify(ctx, b.Store, r.newV, nil, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "checkpoint at size 37")
		assert.Contains(t, err.Error(), "signed by another key ("+keyID(r.oldV)+")")

		// After the rotation the log serves checkpoints and receipts signed by B.
		latest, err := r.after.Checkpoint(ctx, 0)
		require.NoError(t, err)
		_, err = audit.OpenCheckpoint([]byte(latest.Note), "sanzhi.test/audit", r.newV)
		require.NoError(t, err)
		assert.Equal(t, r.newVkey, r.after.VerifierKey())
		_, _, err = audit.VerifyReceipt(r.newReceipt, "", r.newV)
		require.NoError(t, err)

		// Receipts: the old one keeps verifying with the history (and the
		// old key), not with the new key alone; the new one with the history.
		for _, rc := range []audit.Receipt{r.oldReceipt, r.newReceipt, receiptOf(t, r.after, 100, 101)} {
			_, _, err := audit.VerifyReceiptKeys(rc, r.history)
			require.NoError(t, err)
		}
		_, _, err = audit.VerifyReceipt(r.oldReceipt, "", r.oldV)
		require.NoError(t, err)
		_, _, err = audit.VerifyReceipt(r.oldReceipt, "", r.newV)
		require.ErrorContains(t, err, "signed by another key")
		_, _, err = audit.VerifyReceipt(r.newReceipt, "", r.oldV)
		require.ErrorContains(t, err, "signed by another key")
	})
}

func TestRotateKeyTamperedHistory(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		r := rotate(t, b.Store)
		_, stranger, err := audit.GenerateKey("sanzhi.test/audit")
		require.NoError(t, err)
		sv, err := audit.NewVerifier(stranger)
		require.NoError(t, err)
		cases := map[string]struct {
			text string
			msg  []string
		}{
			"boundary too late": {fmt.Sprintf("%s 0\n%s 102\n", r.oldVkey, r.newVkey),
				[]string{"checkpoint at size 101", "signed by " + keyID(r.newV)}},
			"boundary too early": {fmt.Sprintf("%s 0\n%s 100\n", r.oldVkey, r.newVkey),
				[]string{"checkpoint at size 100", "handover", keyID(r.newV) + "'s is missing"}},
			"boundary between checkpoints": {fmt.Sprintf("%s 0\n%s 50\n", r.oldVkey, r.newVkey),
				[]string{"checkpoint at size 100"}},
			"boundary past the log": {fmt.Sprintf("%s 0\n%s 101\n%s 500\n", r.oldVkey, r.newVkey, stranger),
				[]string{"checkpoint at size 500", "missing"}},
			"unknown key instead of the new one": {fmt.Sprintf("%s 0\n%s 101\n", r.oldVkey, stranger),
				[]string{"checkpoint at size 121", "signed by another key (" + keyID(r.newV) + ")", keyID(sv)}},
			"keys swapped": {fmt.Sprintf("%s 0\n%s 101\n", r.newVkey, r.oldVkey),
				[]string{"checkpoint at size 121"}},
			"old key only": {fmt.Sprintf("%s 0\n", r.oldVkey),
				[]string{"checkpoint at size 121", "signed by another key (" + keyID(r.newV) + ")"}},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				h, err := audit.ParseKeyHistory([]byte(tc.text))
				require.NoError(t, err)
				_, err = merklelog.VerifyKeys(ctx, b.Store, h, nil, nil)
				require.Error(t, err)
				var te *audit.TamperError
				require.ErrorAs(t, err, &te)
				for _, m := range tc.msg {
					assert.Contains(t, err.Error(), m)
				}
				// A receipt against the handover alone catches a moved
				// boundary too (a swapped or stranger key only shows at
				// later checkpoints, as above).
				_, _, err = audit.VerifyReceiptKeys(r.handoverReceipt(t), h)
				if strings.HasPrefix(name, "boundary too") {
					require.Error(t, err, "the handover receipt")
				}
			})
		}

		// A server restarted with the retired key after the handover: its
		// checkpoint is signed out of turn.
		stale, err := merklelog.New(b.Store, r.oldSkey, time.Now)
		require.NoError(t, err)
		record(t, b.Store, 120, 5)
		_, err = stale.Publish(ctx)
		require.NoError(t, err)
		_, err = merklelog.VerifyKeys(ctx, b.Store, r.history, nil, nil)
		require.ErrorContains(t, err, "checkpoint at size 126")
		assert.Contains(t, err.Error(), "not signed by "+keyID(r.newV))
	})
}

// handoverReceipt is a receipt of the rotation entry against the handover.
func (r rotated) handoverReceipt(t *testing.T) audit.Receipt {
	return receiptOf(t, r.after, 100, 101)
}

func TestRotateKeyDeletedHandover(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		r := rotate(t, b.Store)
		b.DisableAuditGuards(t)
		b.Exec(t, `DELETE FROM audit_checkpoints WHERE size = 101`)
		_, err := merklelog.VerifyKeys(context.Background(), b.Store, r.history, nil, nil)
		require.ErrorContains(t, err, "checkpoint at size 101")
		assert.Contains(t, err.Error(), "missing")
	})
}

// logState is what a failed rotation must leave unchanged.
func logState(t *testing.T, st *sqlstore.Store) string {
	t.Helper()
	ctx := context.Background()
	h, err := st.Head(ctx)
	require.NoError(t, err)
	q, err := st.QueueLength(ctx)
	require.NoError(t, err)
	var cps []string
	require.NoError(t, st.ScanCheckpoints(ctx, func(c sqlstore.StoredCheckpoint) error {
		cps = append(cps, c.Note)
		return nil
	}))
	return fmt.Sprintf("head %d %x queue %d checkpoints %q", h.Size, h.Root, q, cps)
}

func TestRotateKeyBadInput(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		now := time.Now()
		empty, _, err := audit.GenerateKey("sanzhi.test/audit")
		require.NoError(t, err)
		_, err = merklelog.Rotate(ctx, b.Store, nil, empty, mustKey(t, "sanzhi.test/audit"), "op", now)
		require.ErrorContains(t, err, "no checkpoint yet")

		r := rotate(t, b.Store)
		third := mustKey(t, "sanzhi.test/audit")
		oldOnly, err := audit.NewKeyHistory(r.oldVkey)
		require.NoError(t, err)
		cases := []struct {
			name             string
			history          *audit.KeyHistory
			oldSkey, newSkey string
			msg              string
		}{
			{"same key", r.history, r.newSkey, r.newSkey, "the new key is the old key"},
			{"another log's key", r.history, r.newSkey, mustKey(t, "other.test/audit"), `named "other.test/audit"`},
			{"old key is not the history's current key", r.history, r.oldSkey, third, "current key is " + keyID(r.newV)},
			{"history forgotten at the second rotation", nil, r.newSkey, third, "stored checkpoint at size 37"},
			{"history out of date", oldOnly, r.newSkey, third, "current key is " + keyID(r.oldV)},
			{"back to a retired key", r.history, r.newSkey, r.oldSkey, "listed twice"},
			{"old key not a key", r.history, "PRIVATE+KEY+x", third, "old audit key"},
			{"new key not a key", r.history, r.newSkey, r.newVkey, "new audit key"},
		}
		before := logState(t, b.Store)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := merklelog.Rotate(ctx, b.Store, tc.history, tc.oldSkey, tc.newSkey, "op", now)
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.msg)
				assert.Equal(t, before, logState(t, b.Store), "a refused rotation writes nothing")
			})
		}

		// A second, proper rotation extends the history.
		rot, err := merklelog.Rotate(ctx, b.Store, r.history, r.newSkey, third, "op", now)
		require.NoError(t, err)
		assert.Equal(t, uint64(122), rot.Handover.Size)
		assert.Equal(t, []uint64{122}, rot.History.Handovers()[1:])
		_, err = merklelog.VerifyKeys(ctx, b.Store, rot.History, nil, nil)
		require.NoError(t, err)
	})
}

func mustKey(t *testing.T, name string) string {
	t.Helper()
	skey, _, err := audit.GenerateKey(name)
	require.NoError(t, err)
	return skey
}
