package audit

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/tlog"
)

// testEntry is the canonical leaf i of the test logs.
func testEntry(i uint64) []byte {
	return Entry{Seq: i, Record: Record{
		Time:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond),
		Actor:   "principals/clerk-01",
		Action:  "household.update",
		Subject: fmt.Sprintf("villages/330483102215/households/%08d", i),
		Payload: map[string]string{"i": fmt.Sprint(i), "amount": "1200.50"},
	}}.Canonical()
}

// memLog is a log kept twice: by this package (perfect-subtree nodes from
// the Appender's visitor, leaf hashes at level 0) and by sumdb/tlog (its own
// stored hashes), which shares no code with transparency-dev/merkle.
type memLog struct {
	data  [][]byte
	nodes map[compact.NodeID][]byte
	app   *Appender
	tlog  []tlog.Hash
}

func newMemLog(t testing.TB) *memLog {
	a, err := NewAppender(0, nil)
	require.NoError(t, err)
	return &memLog{nodes: map[compact.NodeID][]byte{}, app: a}
}

func (l *memLog) add(t testing.TB, data []byte) {
	n := uint64(len(l.data))
	h := LeafHash(data)
	l.nodes[compact.NewNodeID(0, n)] = h
	require.NoError(t, l.app.Append(h, func(level uint, index uint64, hash []byte) {
		require.NotZero(t, level, "level-0 nodes are not reported")
		id := compact.NewNodeID(level, index)
		if _, dup := l.nodes[id]; dup {
			t.Fatalf("node %+v reported twice", id)
		}
		l.nodes[id] = hash
	}))
	l.data = append(l.data, data)
	hs, err := tlog.StoredHashes(int64(n), data, l)
	require.NoError(t, err)
	l.tlog = append(l.tlog, hs...)
}

// ReadHashes makes memLog the tlog.HashReader over tlog's stored hashes.
func (l *memLog) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(l.tlog)) {
			return nil, fmt.Errorf("tlog hash %d not stored", x)
		}
		out[i] = l.tlog[x]
	}
	return out, nil
}

// read is the NodeReader over this package's stored nodes.
func (l *memLog) read(ids []compact.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := l.nodes[id]
		if !ok {
			return nil, fmt.Errorf("node %+v not stored", id)
		}
		out[i] = h
	}
	return out, nil
}

func (l *memLog) tlogRoot(t testing.TB, size uint64) []byte {
	th, err := tlog.TreeHash(int64(size), l)
	require.NoError(t, err)
	return th[:]
}

func hashesOf(hs []tlog.Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}

func tlogHashes(t testing.TB, hs [][]byte) []tlog.Hash {
	out := make([]tlog.Hash, len(hs))
	for i, h := range hs {
		require.Len(t, h, HashSize)
		copy(out[i][:], h)
	}
	return out
}

func cp(size uint64, root []byte) Checkpoint {
	return Checkpoint{Origin: "test.example/log", Size: size, Root: root}
}

// checkInclusion compares our proof of leaf index in the tree of size with
// tlog's, and verifies each with the other implementation.
func (l *memLog) checkInclusion(t testing.TB, index, size uint64) {
	ours, err := InclusionProof(index, size, l.read)
	require.NoError(t, err)
	theirs, err := tlog.ProveRecord(int64(size), int64(index), l)
	require.NoError(t, err)
	require.Equal(t, hashesOf(theirs), ours, "inclusion proof of %d in %d", index, size)

	root := l.tlogRoot(t, size)
	var th tlog.Hash
	copy(th[:], root)
	require.NoError(t, tlog.CheckRecord(tlogHashes(t, ours), int64(size), th, int64(index), tlog.RecordHash(l.data[index])))
	require.NoError(t, VerifyInclusion(cp(size, root), index, l.data[index], hashesOf(theirs)))
}

func (l *memLog) checkConsistency(t testing.TB, size1, size2 uint64) {
	ours, err := ConsistencyProof(size1, size2, l.read)
	require.NoError(t, err)
	root1, root2 := l.tlogRoot(t, size1), l.tlogRoot(t, size2)
	require.NoError(t, VerifyConsistency(cp(size1, root1), cp(size2, root2), ours), "consistency %d -> %d", size1, size2)
	if size1 == 0 {
		assert.Empty(t, ours) // tlog does not prove anything about the empty tree
		return
	}
	theirs, err := tlog.ProveTree(int64(size2), int64(size1), l)
	require.NoError(t, err)
	require.Equal(t, hashesOf(theirs), ours, "consistency proof %d -> %d", size1, size2)
	var th1, th2 tlog.Hash
	copy(th1[:], root1)
	copy(th2[:], root2)
	require.NoError(t, tlog.CheckTree(tlogHashes(t, ours), int64(size2), th2, int64(size1), th1))
}

// TestCrossCheckWithTlog builds one log and, at many sizes, compares roots,
// inclusion proofs and consistency proofs with golang.org/x/mod/sumdb/tlog.
func TestCrossCheckWithTlog(t *testing.T) {
	const small = 300
	n := uint64(70_001)
	if testing.Short() {
		n = 5000
	}
	l := newMemLog(t)

	root, err := l.app.Root()
	require.NoError(t, err)
	assert.Equal(t, l.tlogRoot(t, 0), root, "empty tree")
	assert.Equal(t, HashBytes(nil), fmt.Sprintf("%x", root))

	for i := uint64(0); i < n; i++ {
		l.add(t, testEntry(i))
		root, err := l.app.Root()
		require.NoError(t, err)
		require.Equal(t, l.tlogRoot(t, i+1), root, "root of size %d", i+1)
	}
	// Every perfect subtree was reported exactly once: a tree of n leaves
	// has n - popcount(n) of them above the leaves.
	var above int
	for id := range l.nodes {
		if id.Level > 0 {
			above++
			// And it is the hash tlog stores for the same subtree.
			require.Equal(t, l.tlog[tlog.StoredHashIndex(int(id.Level), int64(id.Index))][:], l.nodes[id])
		}
	}
	assert.Equal(t, int(n)-popcount(n), above)

	t.Run("all proofs up to 300", func(t *testing.T) {
		for size := uint64(1); size <= small; size++ {
			for index := uint64(0); index < size; index++ {
				l.checkInclusion(t, index, size)
			}
			for size1 := uint64(0); size1 <= size; size1++ {
				l.checkConsistency(t, size1, size)
			}
		}
	})

	t.Run("larger trees", func(t *testing.T) {
		sizes := []uint64{511, 512, 513, 1000, 1023, 1024, 1025, 4095, 4096, 4097}
		if !testing.Short() {
			sizes = append(sizes, 65535, 65536, 65537, 70_000, 70_001)
		}
		for _, size := range sizes {
			for _, index := range []uint64{0, 1, size / 3, size / 2, size - 2, size - 1} {
				l.checkInclusion(t, index, size)
			}
			for _, size1 := range []uint64{0, 1, 2, 3, 7, 8, 300, size / 2, size - 1, size} {
				l.checkConsistency(t, size1, size)
			}
			for _, size2 := range []uint64{size, size + 1, n} {
				if size2 <= n {
					l.checkConsistency(t, size, size2)
				}
			}
		}
	})
}

func popcount(n uint64) int {
	c := 0
	for ; n != 0; n &= n - 1 {
		c++
	}
	return c
}

// uniformTree returns the root of a tree of size identical leaves and a
// reader for its perfect subtrees: all subtrees of one level have the same
// hash, so trees of any size cost O(log n) to describe.
func uniformTree(t testing.TB, leaf []byte, size uint64) ([]byte, NodeReader) {
	levels := [][]byte{LeafHash(leaf)}
	for i := 1; i < 64; i++ {
		p := levels[i-1]
		levels = append(levels, rfc6962.DefaultHasher.HashChildren(p, p))
	}
	read := func(ids []compact.NodeID) ([][]byte, error) {
		out := make([][]byte, len(ids))
		for i, id := range ids {
			out[i] = levels[id.Level]
		}
		return out, nil
	}
	border, err := read(BorderNodes(size))
	require.NoError(t, err)
	a, err := NewAppender(size, border)
	require.NoError(t, err)
	root, err := a.Root()
	require.NoError(t, err)
	return root, read
}

// TestTenMillionLeaves proves inclusion and consistency in a tree of ten
// million leaves with this package and checks the proofs with tlog.
func TestTenMillionLeaves(t *testing.T) {
	const size = 10_000_000
	leaf := testEntry(0)
	root, read := uniformTree(t, leaf, size)
	var th tlog.Hash
	copy(th[:], root)
	for _, index := range []uint64{0, 1, 4_999_999, 8_388_607, 8_388_608, size - 1} {
		p, err := InclusionProof(index, size, read)
		require.NoError(t, err)
		require.NoError(t, VerifyInclusion(cp(size, root), index, leaf, p))
		require.NoError(t, tlog.CheckRecord(tlogHashes(t, p), size, th, int64(index), tlog.RecordHash(leaf)))
	}
	for _, size1 := range []uint64{1, 3, 1 << 20, 8_388_608, 9_999_999} {
		root1, _ := uniformTree(t, leaf, size1)
		p, err := ConsistencyProof(size1, size, read)
		require.NoError(t, err)
		require.NoError(t, VerifyConsistency(cp(size1, root1), cp(size, root), p))
		var th1 tlog.Hash
		copy(th1[:], root1)
		require.NoError(t, tlog.CheckTree(tlogHashes(t, p), size, th, int64(size1), th1))
	}
}

func TestVerifyInclusionRejects(t *testing.T) {
	l := newMemLog(t)
	for i := uint64(0); i < 10; i++ {
		l.add(t, testEntry(i))
	}
	root, err := l.app.Root()
	require.NoError(t, err)
	c := cp(10, root)
	p, err := InclusionProof(3, 10, l.read)
	require.NoError(t, err)
	require.NoError(t, VerifyInclusion(c, 3, l.data[3], p))

	flip := func(b []byte, i int) []byte {
		b = bytes.Clone(b)
		b[i] ^= 1
		return b
	}
	t.Run("flipped data byte", func(t *testing.T) {
		err := VerifyInclusion(c, 3, flip(l.data[3], 20), p)
		require.ErrorIs(t, err, ErrRootMismatch)
		assert.EqualError(t, err, "leaf 3 is not proved in the tree of size 10: proof does not match the checkpoint root")
	})
	t.Run("flipped proof byte", func(t *testing.T) {
		for i := range p {
			q := append([][]byte(nil), p...)
			q[i] = flip(q[i], 31)
			require.ErrorIs(t, VerifyInclusion(c, 3, l.data[3], q), ErrRootMismatch)
		}
	})
	t.Run("flipped root byte", func(t *testing.T) {
		require.ErrorIs(t, VerifyInclusion(cp(10, flip(root, 0)), 3, l.data[3], p), ErrRootMismatch)
	})
	t.Run("other leaf", func(t *testing.T) {
		require.ErrorIs(t, VerifyInclusion(c, 4, l.data[3], p), ErrRootMismatch)
		require.ErrorIs(t, VerifyInclusion(c, 3, l.data[4], p), ErrRootMismatch)
	})
	t.Run("index past size", func(t *testing.T) {
		assert.EqualError(t, VerifyInclusion(c, 12, l.data[3], p), "index 12 is past the tree size 10")
		assert.EqualError(t, VerifyInclusion(c, 10, l.data[3], p), "index 10 is past the tree size 10")
		_, err := InclusionProof(12, 10, l.read)
		assert.EqualError(t, err, "index 12 is past the tree size 10")
	})
	t.Run("wrong proof length", func(t *testing.T) {
		err := VerifyInclusion(c, 3, l.data[3], p[:len(p)-1])
		require.Error(t, err)
		assert.Contains(t, err.Error(), "wrong proof size")
		assert.False(t, errors.Is(err, ErrRootMismatch))
		assert.Error(t, VerifyInclusion(c, 3, l.data[3], append(p, p[0])))
	})
	t.Run("short hash in proof", func(t *testing.T) {
		q := append([][]byte(nil), p...)
		q[1] = q[1][:31]
		assert.EqualError(t, VerifyInclusion(c, 3, l.data[3], q), "inclusion proof hash 1 is 31 bytes, want 32")
	})
	t.Run("bad root", func(t *testing.T) {
		assert.EqualError(t, VerifyInclusion(cp(10, root[:16]), 3, l.data[3], p), "checkpoint root is 16 bytes, want 32")
	})
}

func TestVerifyConsistencyRejects(t *testing.T) {
	l := newMemLog(t)
	roots := [][]byte{}
	for i := uint64(0); i <= 10; i++ {
		r, err := l.app.Root()
		require.NoError(t, err)
		roots = append(roots, r)
		l.add(t, testEntry(i))
	}
	old, newer := cp(8, roots[8]), cp(10, roots[10])
	p, err := ConsistencyProof(8, 10, l.read)
	require.NoError(t, err)
	require.NoError(t, VerifyConsistency(old, newer, p))

	t.Run("shrunken tree", func(t *testing.T) {
		assert.EqualError(t, VerifyConsistency(newer, old, p), "tree shrank from 10 to 8")
		_, err := ConsistencyProof(10, 8, l.read)
		assert.EqualError(t, err, "tree shrank from 10 to 8")
	})
	t.Run("wrong proof", func(t *testing.T) {
		q, err := ConsistencyProof(7, 10, l.read)
		require.NoError(t, err)
		assert.Error(t, VerifyConsistency(old, newer, q))
		for i := range p {
			q := append([][]byte(nil), p...)
			q[i] = bytes.Clone(q[i])
			q[i][0] ^= 0x80
			require.ErrorIs(t, VerifyConsistency(old, newer, q), ErrRootMismatch)
		}
		assert.Error(t, VerifyConsistency(old, newer, nil))
	})
	t.Run("rewritten history", func(t *testing.T) {
		// A log that replaced leaf 5 cannot prove it extends the old tree.
		forged := newMemLog(t)
		for i := uint64(0); i < 10; i++ {
			d := testEntry(i)
			if i == 5 {
				d = testEntry(55)
			}
			forged.add(t, d)
		}
		froot, err := forged.app.Root()
		require.NoError(t, err)
		q, err := ConsistencyProof(8, 10, forged.read)
		require.NoError(t, err)
		err = VerifyConsistency(old, cp(10, froot), q)
		require.ErrorIs(t, err, ErrRootMismatch)
		assert.Contains(t, err.Error(), "the tree of size 10 is not an extension of the tree of size 8")
	})
	t.Run("same size, different root", func(t *testing.T) {
		err := VerifyConsistency(cp(10, roots[10]), cp(10, roots[9]), nil)
		require.ErrorIs(t, err, ErrRootMismatch)
		assert.Contains(t, err.Error(), "two checkpoints of size 10 have different roots")
		require.NoError(t, VerifyConsistency(newer, newer, nil))
	})
	t.Run("different logs", func(t *testing.T) {
		other := newer
		other.Origin = "other.example/log"
		assert.EqualError(t, VerifyConsistency(old, other, p), `checkpoints are of different logs, "test.example/log" and "other.example/log"`)
	})
	t.Run("empty old tree", func(t *testing.T) {
		require.NoError(t, VerifyConsistency(cp(0, roots[0]), newer, nil))
		assert.Error(t, VerifyConsistency(cp(0, roots[1]), newer, nil))
	})
}

func TestAppenderResume(t *testing.T) {
	full := newMemLog(t)
	for i := uint64(0); i < 100; i++ {
		full.add(t, testEntry(i))
	}
	for _, size := range []uint64{0, 1, 2, 3, 31, 32, 33, 64, 99} {
		border, err := full.read(BorderNodes(size))
		require.NoError(t, err)
		a, err := NewAppender(size, border)
		require.NoError(t, err)
		for i := size; i < 100; i++ {
			require.NoError(t, a.Append(LeafHash(full.data[i]), func(level uint, index uint64, hash []byte) {
				require.Equal(t, full.nodes[compact.NewNodeID(level, index)], hash)
			}))
		}
		assert.Equal(t, uint64(100), a.Size())
		got, err := a.Root()
		require.NoError(t, err)
		want, err := full.app.Root()
		require.NoError(t, err)
		assert.Equal(t, want, got, "resumed at %d", size)
		assert.Equal(t, full.app.Border(), a.Border())
	}

	// Border is a copy: appending does not change a border taken before.
	a, err := NewAppender(0, nil)
	require.NoError(t, err)
	require.NoError(t, a.Append(LeafHash([]byte("a")), nil))
	before := a.Border()
	require.NoError(t, a.Append(LeafHash([]byte("b")), nil))
	assert.Equal(t, [][]byte{LeafHash([]byte("a"))}, before)

	_, err = NewAppender(3, [][]byte{LeafHash(nil)})
	assert.EqualError(t, err, "border of a tree of size 3: invalid hashes: got 1 values, want 2")
	_, err = NewAppender(1, [][]byte{{1, 2}})
	assert.EqualError(t, err, "border hash 0 is 2 bytes, want 32")
	assert.EqualError(t, a.Append([]byte{1}, nil), "leaf hash is 1 bytes, want 32")
}

func TestBuildProofErrors(t *testing.T) {
	nodes, err := InclusionNodes(5, 13)
	require.NoError(t, err)
	_, err = BuildProof(nodes, nil)
	assert.EqualError(t, err, fmt.Sprintf("got 0 node hashes, the proof needs %d", len(nodes.IDs)))
	hashes := make([][]byte, len(nodes.IDs))
	for i := range hashes {
		hashes[i] = make([]byte, 32)
	}
	hashes[1] = []byte{1}
	_, err = BuildProof(nodes, hashes)
	assert.ErrorContains(t, err, fmt.Sprintf("hash of node (level %d, index %d) is 1 bytes, want 32", nodes.IDs[1].Level, nodes.IDs[1].Index))

	// BuildProof does not modify the caller's slice.
	nodes, err = InclusionNodes(0, 7) // the right side, [4, 7), is two nodes rehashed into one
	require.NoError(t, err)
	hashes = make([][]byte, len(nodes.IDs))
	for i := range hashes {
		hashes[i] = bytes.Repeat([]byte{byte(i + 1)}, 32)
	}
	keep := append([][]byte(nil), hashes...)
	p, err := BuildProof(nodes, hashes)
	require.NoError(t, err)
	assert.Less(t, len(p), len(hashes))
	assert.Equal(t, keep, hashes)
}
