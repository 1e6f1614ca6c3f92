package storetest

import (
	"bytes"
	"context"
	"fmt"
	"math/bits"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// auditRecord is the i-th record the audit tests queue.
func auditRecord(i int) audit.Record {
	return audit.Record{
		Time: time.Date(2026, 11, 24, 8, 0, i, 0, time.UTC), Actor: "p-clerk", Action: "household.update",
		Subject:     fmt.Sprintf("villages/330483102215/households/h%03d", i%7),
		RequestHash: audit.HashBytes(fmt.Append(nil, "req", i)), ResultHash: audit.HashBytes(fmt.Append(nil, "res", i)),
		Payload: map[string]string{"n": fmt.Sprint(i), "amount": "1234.50"},
	}
}

// queueRecords queues records from..from+n-1 in one transaction, as
// writes do.
func queueRecords(t *testing.T, s Store, from, n int) {
	t.Helper()
	require.NoError(t, s.Households().Write(context.Background(), func(tx household.Writer) error {
		for i := from; i < from+n; i++ {
			if err := tx.Record(context.Background(), auditRecord(i)); err != nil {
				return err
			}
		}
		return nil
	}))
}

// mth is the RFC 6962 tree hash of leaf hashes, computed here from the
// definition, independent of the store's incremental tree.
func mth(leaves [][]byte) []byte {
	switch n := len(leaves); n {
	case 0:
		return rfc6962.DefaultHasher.EmptyRoot()
	case 1:
		return leaves[0]
	default:
		k := 1 << (bits.Len(uint(n-1)) - 1) // the largest power of two below n
		return rfc6962.DefaultHasher.HashChildren(mth(leaves[:k]), mth(leaves[k:]))
	}
}

// leafHashes reads every leaf of s, checking each is stored in sequence
// with its own hash.
func leafHashes(t *testing.T, s Store) [][]byte {
	t.Helper()
	var out [][]byte
	require.NoError(t, s.ScanLeaves(context.Background(), 0, 1<<62, func(l sqlstore.Leaf) error {
		require.Equal(t, uint64(len(out)), l.Seq, "leaves are stored without gaps")
		require.Equal(t, audit.LeafHash(l.Data), l.LeafHash, "leaf %d's hash", l.Seq)
		out = append(out, l.LeafHash)
		return nil
	}))
	return out
}

// testAuditSequencing: Integrate moves queued records into the tree in
// queue order, at most max at a time, without gaps; leaves, subtree hashes
// and the head agree with the tree computed from the definition.
func testAuditSequencing(t *testing.T, s Store) {
	ctx := context.Background()
	head, err := s.Head(ctx)
	require.NoError(t, err)
	assert.Zero(t, head.Size)
	_, err = s.Leaf(ctx, 0)
	assert.True(t, fault.Is(err, fault.NotFound), "no leaf in an empty log, got %v", err)
	_, _, err = s.Integrate(ctx, 10)
	require.NoError(t, err, "integrating an empty queue")

	queueRecords(t, s, 0, 5)
	queueRecords(t, s, 5, 3)
	n, err := s.QueueLength(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(8), n)

	head, moved, err := s.Integrate(ctx, 5)
	require.NoError(t, err)
	assert.Equal(t, 5, moved)
	assert.Equal(t, uint64(5), head.Size)
	n, err = s.QueueLength(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(3), n, "the rest waits")
	head, moved, err = s.Integrate(ctx, 100)
	require.NoError(t, err)
	assert.Equal(t, 3, moved)
	assert.Equal(t, uint64(8), head.Size)
	again, moved, err := s.Integrate(ctx, 100)
	require.NoError(t, err)
	assert.Zero(t, moved)
	assert.Equal(t, head, again)

	got, err := s.Head(ctx)
	require.NoError(t, err)
	assert.Equal(t, head, got)
	state, border, err := s.HeadState(ctx)
	require.NoError(t, err)
	assert.Equal(t, head, state)
	assert.Len(t, border, 1, "the compact range of eight leaves is one subtree")

	lh := leafHashes(t, s)
	require.Len(t, lh, 8)
	assert.Equal(t, mth(lh), head.Root)
	for i := range 8 {
		l, err := s.Leaf(ctx, uint64(i))
		require.NoError(t, err)
		e, err := audit.ParseEntry(l.Data)
		require.NoError(t, err)
		assert.Equal(t, uint64(i), e.Seq)
		want := auditRecord(i)
		assert.Equal(t, want.Payload, e.Payload, "leaf %d holds record %d: queue order", i, i)
		assert.True(t, want.Time.Equal(e.Time))
		assert.Equal(t, want.Subject, e.Subject)
	}
	_, err = s.Leaf(ctx, 8)
	assert.True(t, fault.Is(err, fault.NotFound), "past the end, got %v", err)

	var seqs []uint64
	require.NoError(t, s.ScanLeaves(ctx, 2, 6, func(l sqlstore.Leaf) error {
		seqs = append(seqs, l.Seq)
		return nil
	}))
	assert.Equal(t, []uint64{2, 3, 4, 5}, seqs, "from <= seq < to")

	h01 := rfc6962.DefaultHasher.HashChildren(lh[0], lh[1])
	h23 := rfc6962.DefaultHasher.HashChildren(lh[2], lh[3])
	nodes, err := s.Nodes(ctx, []sqlstore.NodeID{{Level: 0, Index: 3}, {Level: 1, Index: 1}, {Level: 2, Index: 0}, {Level: 3, Index: 0}})
	require.NoError(t, err)
	assert.Equal(t, [][]byte{lh[3], h23, rfc6962.DefaultHasher.HashChildren(h01, h23), head.Root}, nodes)
	var level1 []uint64
	require.NoError(t, s.ScanNodes(ctx, 1, 1, 2, func(idx uint64, h []byte) error {
		level1 = append(level1, idx)
		if idx == 1 {
			assert.Equal(t, h23, h)
		}
		return nil
	}))
	assert.Equal(t, []uint64{1, 2}, level1)
	_, err = s.Nodes(ctx, []sqlstore.NodeID{{Level: 1, Index: 9}})
	assert.True(t, fault.Is(err, fault.Internal), "a missing node is a damaged tree, got %v", err)

	// A read put on record queues like a write's record.
	require.NoError(t, s.RecordRead(ctx, auditRecord(8)))
	n, err = s.QueueLength(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
}

// testAuditBatchQueue: a transaction that queues many records (a
// re-assessment's page) stores each as queued, in queue order, with the
// characters a bulk path such as COPY must escape. (Such a path was
// measured, and not kept: BENCHMARKS.md, issue 19, 2026-12-06, second
// session.)
func testAuditBatchQueue(t *testing.T, s Store) {
	ctx := context.Background()
	awkward := []string{"tab\there", "two\nlines", `back\slash`, `\N`, `\.`, "村民小组长 王伟", `"quoted"`, ""}
	record := func(i int) audit.Record {
		r := auditRecord(i)
		r.Time = r.Time.Add(time.Duration(i) * time.Microsecond)
		r.Payload[fmt.Sprintf("k\t%d", i%3)] = awkward[i%len(awkward)]
		return r
	}
	var want []audit.Record
	for _, n := range []int{63, 64, 150} {
		from := len(want)
		require.NoError(t, s.Households().Write(ctx, func(tx household.Writer) error {
			for i := from; i < from+n; i++ {
				if err := tx.Record(ctx, record(i)); err != nil {
					return err
				}
			}
			return nil
		}))
		for i := from; i < from+n; i++ {
			want = append(want, record(i))
		}
	}
	head, moved, err := s.Integrate(ctx, 1000)
	require.NoError(t, err)
	require.Equal(t, len(want), moved)
	require.Equal(t, uint64(len(want)), head.Size)
	for i, w := range want {
		l, err := s.Leaf(ctx, uint64(i))
		require.NoError(t, err)
		e, err := audit.ParseEntry(l.Data)
		require.NoError(t, err)
		assert.Equal(t, w.Payload, e.Payload, "leaf %d holds record %d", i, i)
		assert.True(t, w.Time.Equal(e.Time), "leaf %d: time %v, want %v", i, e.Time, w.Time)
		assert.Equal(t, []string{w.Actor, w.Action, w.Subject, w.RequestHash, w.ResultHash},
			[]string{e.Actor, e.Action, e.Subject, e.RequestHash, e.ResultHash}, "leaf %d", i)
	}
}

// testAuditReadsGrouped: reads put on record at once are committed in
// groups (the recorder's group commit, of any size), and every record
// reaches the log once, whole.
func testAuditReadsGrouped(t *testing.T, s Store) {
	ctx := context.Background()
	const n = 200
	record := func(i int) audit.Record {
		r := auditRecord(i)
		r.Subject = fmt.Sprintf("households/read-%03d", i)
		r.Time = r.Time.Add(time.Duration(i) * time.Microsecond)
		return r
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.RecordRead(ctx, record(i))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "read %d", i)
	}
	head, moved, err := s.Integrate(ctx, 1000)
	require.NoError(t, err)
	require.Equal(t, n, moved)
	require.Equal(t, uint64(n), head.Size)
	seen := map[string]bool{}
	for seq := range uint64(n) {
		l, err := s.Leaf(ctx, seq)
		require.NoError(t, err)
		e, err := audit.ParseEntry(l.Data)
		require.NoError(t, err)
		var i int
		_, err = fmt.Sscanf(e.Subject, "households/read-%03d", &i)
		require.NoError(t, err, "leaf %d: subject %q", seq, e.Subject)
		require.False(t, seen[e.Subject], "leaf %d: %s recorded twice", seq, e.Subject)
		seen[e.Subject] = true
		w := record(i)
		assert.Equal(t, w.Payload, e.Payload, "leaf %d", seq)
		assert.True(t, w.Time.Equal(e.Time), "leaf %d: time %v, want %v", seq, e.Time, w.Time)
		assert.Equal(t, []string{w.Actor, w.Action, w.RequestHash, w.ResultHash},
			[]string{e.Actor, e.Action, e.RequestHash, e.ResultHash}, "leaf %d", seq)
	}
	assert.Len(t, seen, n)
}

// testAuditCheckpoints: checkpoints are stored once per size (the first
// signature stands), found by size or latest, and scanned in size order.
func testAuditCheckpoints(t *testing.T, s Store) {
	ctx := context.Background()
	_, err := s.Checkpoint(ctx, 0)
	assert.True(t, fault.Is(err, fault.NotFound), "no checkpoint yet, got %v", err)

	queueRecords(t, s, 0, 3)
	h3, _, err := s.Integrate(ctx, 100)
	require.NoError(t, err)
	cp3 := sqlstore.StoredCheckpoint{Size: 3, Root: h3.Root, Note: "note at 3", Time: base}
	require.NoError(t, s.SaveCheckpoint(ctx, cp3))
	require.NoError(t, s.SaveCheckpoint(ctx, sqlstore.StoredCheckpoint{Size: 3, Root: h3.Root, Note: "another", Time: base.Add(time.Hour)}))
	got, err := s.Checkpoint(ctx, 3)
	require.NoError(t, err)
	assert.Equal(t, "note at 3", got.Note, "saving a size again keeps the first")
	assert.Equal(t, h3.Root, got.Root)
	assert.True(t, base.Truncate(time.Microsecond).Equal(got.Time), "time %v", got.Time)

	queueRecords(t, s, 3, 2)
	h5, _, err := s.Integrate(ctx, 100)
	require.NoError(t, err)
	require.NoError(t, s.SaveCheckpoint(ctx, sqlstore.StoredCheckpoint{Size: 5, Root: h5.Root, Note: "note at 5", Time: base.Add(time.Minute)}))
	latest, err := s.Checkpoint(ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, uint64(5), latest.Size)
	assert.Equal(t, "note at 5", latest.Note)
	_, err = s.Checkpoint(ctx, 4)
	assert.True(t, fault.Is(err, fault.NotFound), "no checkpoint at 4, got %v", err)

	var sizes []uint64
	require.NoError(t, s.ScanCheckpoints(ctx, func(c sqlstore.StoredCheckpoint) error {
		sizes = append(sizes, c.Size)
		return nil
	}))
	assert.Equal(t, []uint64{3, 5}, sizes)
}

// testAuditConcurrentIntegrators: integrators running at once serialise:
// every record becomes exactly one leaf, in queue order, and the tree
// stays whole.
func testAuditConcurrentIntegrators(t *testing.T, s Store) {
	ctx := context.Background()
	const txs, per = 8, 25
	for i := range txs {
		queueRecords(t, s, i*per, per)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, n, err := s.Integrate(ctx, 30)
				if !assert.NoError(t, err) || n == 0 {
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, txs*per, total, "each record sequenced once")
	head, err := s.Head(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(txs*per), head.Size)
	lh := leafHashes(t, s)
	assert.Equal(t, mth(lh), head.Root)
	for i, want := range []int{0, 99, txs*per - 1} {
		l, err := s.Leaf(ctx, uint64(want))
		require.NoError(t, err)
		e, err := audit.ParseEntry(l.Data)
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprint(want), e.Payload["n"], "check %d: queue order", i)
	}
}

// testAuditTablesAreAppendOnly plays an insider with plain DML rights (raw
// SQL, so an Intruder test): every UPDATE, DELETE and (PostgreSQL)
// TRUNCATE of the audit tables is refused, including the sequencer's own
// statements when they are not the precise transition it makes; the
// sequencer still works and the log still verifies.
func testAuditTablesAreAppendOnly(t *testing.T, b Intruder) {
	ctx := context.Background()
	skey, vkey, err := audit.GenerateKey("sanzhi.test/audit")
	require.NoError(t, err)
	l, err := merklelog.New(b.Store, skey, time.Now)
	require.NoError(t, err)
	// A log of 100 leaves with checkpoints at 37 and 100.
	queueRecords(t, b.Store, 0, 37)
	cp, err := l.Publish(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(37), cp.Size)
	queueRecords(t, b.Store, 37, 63)
	cp, err = l.Publish(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(100), cp.Size)
	queueRecords(t, b.Store, 100, 3) // three records waiting in the queue

	refused := []string{
		`UPDATE audit_leaves SET subject = 'x' WHERE seq = 5`,
		`UPDATE audit_leaves SET data = data WHERE seq = 99`,
		`DELETE FROM audit_leaves WHERE seq = 99`,
		`DELETE FROM audit_leaves`,
		`UPDATE audit_nodes SET hash = hash WHERE level = 1 AND idx = 0`,
		`DELETE FROM audit_nodes WHERE level = 1`,
		`DELETE FROM audit_nodes`,
		`UPDATE audit_checkpoints SET note = 'x' WHERE size = 100`,
		`DELETE FROM audit_checkpoints WHERE size = 100`,
		`DELETE FROM audit_checkpoints`,
		`DELETE FROM audit_head`,
		`UPDATE audit_head SET size = 37`,               // rollback
		`UPDATE audit_head SET size = 100, root = root`, // rewrite in place
		`UPDATE audit_head SET size = 103`,              // forward past the leaves
		`UPDATE audit_queue SET subject = 'x'`,
		`DELETE FROM audit_queue`, // dropping records before they are logged
	}
	if b.Dialect == "postgres" {
		for _, tb := range AuditTables {
			refused = append(refused, `TRUNCATE `+tb)
		}
		refused = append(refused, `TRUNCATE audit_leaves, audit_nodes, audit_checkpoints, audit_head, audit_queue`)
	}
	for _, q := range refused {
		err := b.Try(q)
		require.Error(t, err, "%s must be refused", q)
		assert.Regexp(t, `append-only|refused`, err.Error(), q)
	}

	// A queue row already in the log (its leaf below the head) stays
	// undeletable too: the sequencer's window is its own transaction.
	n, err := b.Store.QueueLength(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(3), n, "refused statements changed nothing")

	// The sequencer's own path still works.
	cp, err = l.Publish(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(103), cp.Size)
	n, err = b.Store.QueueLength(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	v, err := audit.NewVerifier(vkey)
	require.NoError(t, err)
	rep, err := merklelog.Verify(ctx, b.Store, v, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, uint64(103), rep.Leaves)
	require.Error(t, b.Try(`UPDATE audit_head SET size = 103`), "re-setting the head to its size")
	assert.True(t, bytes.Equal(mth(leafHashes(t, b.Store)), cp.Root))
}
