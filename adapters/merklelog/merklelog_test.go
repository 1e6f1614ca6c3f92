package merklelog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// backend is a store with the attacker's raw connection beside it.
type backend = storetest.Intruder

func backends(t *testing.T, fn func(t *testing.T, b backend)) { storetest.IntruderBackends(t, fn) }

func newLog(t *testing.T, st *sqlstore.Store) (*merklelog.Log, string) {
	t.Helper()
	skey, vkey, err := audit.GenerateKey("sanzhi.test/audit")
	require.NoError(t, err)
	l, err := merklelog.New(st, skey, time.Now)
	require.NoError(t, err)
	return l, vkey
}

// record queues n records in one transaction, as writes do.
func record(t *testing.T, st *sqlstore.Store, from, n int) {
	t.Helper()
	require.NoError(t, st.Households().Write(context.Background(), func(tx household.Writer) error {
		for i := from; i < from+n; i++ {
			if err := tx.Record(context.Background(), audit.Record{
				Time: time.Date(2026, 11, 24, 8, 0, i, 0, time.UTC), Actor: "p-clerk", Action: "household.update",
				Subject:     fmt.Sprintf("villages/330483102215/households/h%03d", i%7),
				RequestHash: audit.HashBytes([]byte(fmt.Sprint("req", i))), ResultHash: audit.HashBytes([]byte(fmt.Sprint("res", i))),
				Payload: map[string]string{"n": fmt.Sprint(i), "amount": "1234.50"},
			}); err != nil {
				return err
			}
		}
		return nil
	}))
}

// fill builds a log of 100 leaves with checkpoints at 37 and 100.
func fill(t *testing.T, st *sqlstore.Store) (*merklelog.Log, string) {
	t.Helper()
	l, vkey := newLog(t, st)
	record(t, st, 0, 37)
	cp, err := l.Publish(context.Background())
	require.NoError(t, err)
	require.Equal(t, uint64(37), cp.Size)
	record(t, st, 37, 63)
	cp, err = l.Publish(context.Background())
	require.NoError(t, err)
	require.Equal(t, uint64(100), cp.Size)
	return l, vkey
}

func TestProofsVerifyTwoWays(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		l, vkey := fill(t, b.Store)
		v, err := audit.NewVerifier(vkey)
		require.NoError(t, err)
		for _, size := range []uint64{37, 100} {
			stored, err := l.Checkpoint(ctx, size)
			require.NoError(t, err)
			cp, err := audit.OpenCheckpoint([]byte(stored.Note), v.Name(), v)
			require.NoError(t, err)
			var th tlog.Hash
			copy(th[:], cp.Root)
			for seq := uint64(0); seq < size; seq++ {
				p, err := l.Entry(ctx, seq, size)
				require.NoError(t, err)
				require.NoError(t, audit.VerifyInclusion(cp, seq, p.Leaf.Data, p.Proof), "seq %d size %d", seq, size)
				// An independent implementation agrees.
				rp := make(tlog.RecordProof, len(p.Proof))
				for i, h := range p.Proof {
					copy(rp[i][:], h)
				}
				require.NoError(t, tlog.CheckRecord(rp, int64(size), th, int64(seq), tlog.RecordHash(p.Leaf.Data)), "tlog: seq %d size %d", seq, size)
			}
		}
		oldCP, _ := l.Checkpoint(ctx, 37)
		newCP, _ := l.Checkpoint(ctx, 100)
		proof, err := l.Consistency(ctx, 37, 100)
		require.NoError(t, err)
		require.NoError(t, audit.VerifyConsistency(audit.Checkpoint{Origin: v.Name(), Size: 37, Root: oldCP.Root},
			audit.Checkpoint{Origin: v.Name(), Size: 100, Root: newCP.Root}, proof))
		tp := make(tlog.TreeProof, len(proof))
		for i, h := range proof {
			copy(tp[i][:], h)
		}
		var h37, h100 tlog.Hash
		copy(h37[:], oldCP.Root)
		copy(h100[:], newCP.Root)
		require.NoError(t, tlog.CheckTree(tp, 100, h100, 37, h37))

		// Bad requests are refused clearly.
		_, err = l.Consistency(ctx, 100, 37)
		assert.True(t, fault.Is(err, fault.Invalid), "shrunken tree: %v", err)
		assert.ErrorContains(t, err, "shrank")
		_, err = l.Consistency(ctx, 37, 1000)
		assert.True(t, fault.Is(err, fault.Invalid), "past the tree: %v", err)
		_, err = l.Entry(ctx, 50, 37)
		assert.True(t, fault.Is(err, fault.FailedPrecondition), "index past the checkpoint: %v", err)
		_, err = l.Entry(ctx, 0, 55)
		assert.True(t, fault.Is(err, fault.NotFound), "no checkpoint at 55: %v", err)

		// Receipts verify offline.
		p, err := l.Entry(ctx, 42, 0)
		require.NoError(t, err)
		r := audit.Receipt{Entry: p.Leaf.Data, LeafIndex: 42, Proof: p.Proof, Checkpoint: p.Checkpoint.Note}
		raw, err := json.Marshal(r)
		require.NoError(t, err)
		var back audit.Receipt
		require.NoError(t, json.Unmarshal(raw, &back))
		e, _, err := audit.VerifyReceipt(back, v.Name(), v)
		require.NoError(t, err)
		assert.Equal(t, uint64(42), e.Seq)
	})
}

func TestVerifyDetectsTampering(t *testing.T) {
	byteChanged := func(t *testing.T, b backend, seq int) []byte {
		l, err := b.Store.Leaf(context.Background(), uint64(seq))
		require.NoError(t, err)
		return bytes.Replace(l.Data, []byte("p-clerk"), []byte("p-clerx"), 1)
	}
	cases := []struct {
		name   string
		tamper func(t *testing.T, b backend)
		index  []uint64 // acceptable first bad index
		msg    string
	}{
		{"one byte of an entry changed", func(t *testing.T, b backend) {
			b.Exec(t, `UPDATE audit_leaves SET data = $1 WHERE seq = 17`, byteChanged(t, b, 17))
		}, []uint64{17}, "leaf hash"},
		{"byte changed and leaf hash recomputed", func(t *testing.T, b backend) {
			d := byteChanged(t, b, 17)
			b.Exec(t, `UPDATE audit_leaves SET data = $1, leaf_hash = $2 WHERE seq = 17`, d, audit.LeafHash(d))
		}, []uint64{16}, "rewritten"}, // the pair 16-17 under one stored subtree; see TestVerifyNamesTheAlteredPlace
		{"entry deleted", func(t *testing.T, b backend) {
			b.Exec(t, `DELETE FROM audit_leaves WHERE seq = 17`)
		}, []uint64{17}, "deleted"},
		{"two entries swapped", func(t *testing.T, b backend) {
			l10, _ := b.Store.Leaf(context.Background(), 10)
			l20, _ := b.Store.Leaf(context.Background(), 20)
			b.Exec(t, `UPDATE audit_leaves SET data = $1, leaf_hash = $2 WHERE seq = 10`, l20.Data, l20.LeafHash)
			b.Exec(t, `UPDATE audit_leaves SET data = $1, leaf_hash = $2 WHERE seq = 20`, l10.Data, l10.LeafHash)
		}, []uint64{10}, "out of order"},
		{"entry inserted", func(t *testing.T, b backend) {
			renumber(t, b, 30, +1)
			forged := audit.Entry{Seq: 30, Record: audit.Record{Time: time.Now().UTC(), Actor: "intruder", Action: "household.update", Subject: "x", Payload: map[string]string{}}}
			d := forged.Canonical()
			b.Exec(t, `INSERT INTO audit_leaves (seq, time, actor, action, subject, data, leaf_hash) VALUES (30, $1, 'intruder', 'household.update', 'x', $2, $3)`,
				"2026-11-24T00:00:00.000000Z", d, audit.LeafHash(d))
		}, []uint64{30, 31}, ""},
		{"tail truncated", func(t *testing.T, b backend) {
			b.Exec(t, `DELETE FROM audit_leaves WHERE seq >= 90`)
		}, []uint64{90}, "truncated"},
		{"stored subtree hash altered", func(t *testing.T, b backend) {
			b.Exec(t, `UPDATE audit_nodes SET hash = $1 WHERE level = 2 AND idx = 3`, make([]byte, 32))
		}, []uint64{12}, "subtree"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each case has databases of its own; they wait on fsync, not CPU
			backends(t, func(t *testing.T, b backend) {
				_, vkey := fill(t, b.Store)
				v, err := audit.NewVerifier(vkey)
				require.NoError(t, err)
				rep, err := merklelog.Verify(context.Background(), b.Store, v, nil, nil)
				require.NoError(t, err, "the untouched log verifies")
				require.Equal(t, uint64(100), rep.Leaves)
				require.Positive(t, rep.Nodes)

				b.DisableAuditGuards(t) // as an attacker with DDL rights would
				tc.tamper(t, b)
				_, err = merklelog.Verify(context.Background(), b.Store, v, nil, nil)
				require.Error(t, err)
				var te *audit.TamperError
				require.ErrorAs(t, err, &te, "tampering is reported as such: %v", err)
				assert.Contains(t, tc.index, te.Index, "first bad index: %v", err)
				assert.Contains(t, err.Error(), tc.msg)
			})
		})
	}
}

func TestVerifyRejectsForeignCheckpointsAndShrinking(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		l, vkey := fill(t, b.Store)
		_, otherV, err := audit.GenerateKey("sanzhi.test/audit")
		require.NoError(t, err)
		other, err := audit.NewVerifier(otherV)
		require.NoError(t, err)
		_, err = merklelog.Verify(ctx, b.Store, other, nil, nil)
		require.Error(t, err, "a checkpoint signed by another key is rejected")

		v, err := audit.NewVerifier(vkey)
		require.NoError(t, err)
		kept, err := l.Checkpoint(ctx, 37)
		require.NoError(t, err)
		_, err = merklelog.Verify(ctx, b.Store, v, []byte(kept.Note), nil)
		require.NoError(t, err, "the log extends the checkpoint the regulator kept")

		// A regulator who kept the size-100 checkpoint detects a log that
		// was rolled back and re-signed at a smaller size.
		latest, err := l.Checkpoint(ctx, 100)
		require.NoError(t, err)
		b.DisableAuditGuards(t)
		b.Exec(t, `DELETE FROM audit_checkpoints WHERE size = 100`)
		b.Exec(t, `DELETE FROM audit_leaves WHERE seq >= 37`)
		_, err = merklelog.Verify(ctx, b.Store, v, []byte(latest.Note), nil)
		require.ErrorContains(t, err, "truncated")
	})
}

func TestExportRoundTrip(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		_, vkey := fill(t, b.Store)
		v, err := audit.NewVerifier(vkey)
		require.NoError(t, err)
		for _, from := range []uint64{0, 20, 99} {
			var buf bytes.Buffer
			n, err := merklelog.Export(ctx, b.Store, from, 0, "jsonl", &buf, nil)
			require.NoError(t, err)
			assert.Equal(t, 100-from, n)
			rep, err := merklelog.VerifyExport(bytes.NewReader(buf.Bytes()), v, nil, nil)
			require.NoError(t, err, "from %d", from)
			assert.Equal(t, uint64(100), rep.Leaves)

			bad := bytes.Replace(buf.Bytes(), []byte("p-clerk"), []byte("p-clerx"), 1)
			_, err = merklelog.VerifyExport(bytes.NewReader(bad), v, nil, nil)
			var te *audit.TamperError
			require.ErrorAs(t, err, &te, "a changed export line is caught")
			assert.Equal(t, from, te.Index)
		}
		var csvBuf bytes.Buffer
		_, err = merklelog.Export(ctx, b.Store, 0, 37, "csv", &csvBuf, nil)
		require.NoError(t, err)
		cp, err := b.Store.Checkpoint(ctx, 37)
		require.NoError(t, err)
		rep, err := merklelog.VerifyExport(bytes.NewReader(csvBuf.Bytes()), v, []byte(cp.Note), nil)
		require.NoError(t, err)
		assert.Equal(t, uint64(37), rep.Leaves)
		lines := strings.Split(strings.TrimSpace(csvBuf.String()), "\n")
		assert.Len(t, lines, 38, "a header and one row per leaf")
		_, err = merklelog.VerifyExport(bytes.NewReader(csvBuf.Bytes()), v, nil, nil)
		require.ErrorContains(t, err, "checkpoint")

		_, err = merklelog.Export(ctx, b.Store, 0, 50, "jsonl", &bytes.Buffer{}, nil)
		require.ErrorContains(t, err, "published checkpoint")
		_, err = merklelog.Export(ctx, b.Store, 0, 0, "xml", &bytes.Buffer{}, nil)
		require.ErrorContains(t, err, "jsonl or csv")
	})
}

func TestVerifierKeyMatchesGeneratedKey(t *testing.T) {
	for range 64 {
		skey, vkey, err := audit.GenerateKey("sanzhi.test/audit")
		require.NoError(t, err)
		got, err := merklelog.VerifierKey(skey)
		require.NoError(t, err)
		require.Equal(t, vkey, got)
	}
	_, err := merklelog.VerifierKey("not a key")
	require.Error(t, err)
}
