package audit

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/tlog"
)

const treeN = 50

// honestLog returns the leaves of a log of treeN entries, their leaf hashes
// and its root according to tlog.
func honestLog(t *testing.T) (leaves, hashes [][]byte, root []byte) {
	l := newMemLog(t)
	for i := uint64(0); i < treeN; i++ {
		l.add(t, testEntry(i))
		hashes = append(hashes, LeafHash(l.data[i]))
	}
	return l.data, hashes, l.tlogRoot(t, treeN)
}

// rebuild feeds leaves (and stored hashes, if any) to a TreeBuilder and
// returns it with the first error.
func rebuild(leaves, hashes [][]byte) (*TreeBuilder, error) {
	b := NewTreeBuilder()
	for i, d := range leaves {
		var h []byte
		if hashes != nil {
			h = hashes[i]
		}
		if err := b.Add(d, h); err != nil {
			return b, err
		}
	}
	return b, nil
}

func requireTamper(t *testing.T, err error, index uint64, reason string) {
	t.Helper()
	var te *TamperError
	require.True(t, errors.As(err, &te), "want a *TamperError, got %v", err)
	assert.Equal(t, index, te.Index)
	assert.Contains(t, te.Reason, reason)
	assert.Contains(t, err.Error(), "leaf "+strconv.FormatUint(index, 10)+": ")
}

func TestTreeBuilderHonest(t *testing.T) {
	leaves, hashes, want := honestLog(t)
	b := NewTreeBuilder()
	empty, err := tlog.TreeHash(0, tlog.HashReaderFunc(func([]int64) ([]tlog.Hash, error) { return nil, nil }))
	require.NoError(t, err)
	assert.Equal(t, empty[:], b.Root(), "empty tree")

	var nodes []compact.NodeID
	b.OnNode = func(level uint, index uint64, hash []byte) {
		nodes = append(nodes, compact.NewNodeID(level, index))
	}
	for i := range leaves {
		require.NoError(t, b.Add(leaves[i], hashes[i]))
	}
	assert.Equal(t, uint64(treeN), b.Size())
	assert.Equal(t, want, b.Root())
	assert.Len(t, nodes, treeN-popcount(treeN))

	// Without stored leaf hashes the result is the same.
	b2, err := rebuild(leaves, nil)
	require.NoError(t, err)
	assert.Equal(t, want, b2.Root())
}

func TestTreeBuilderOnNodeMatchesTlog(t *testing.T) {
	l := newMemLog(t)
	for i := uint64(0); i < treeN; i++ {
		l.add(t, testEntry(i))
	}
	b := NewTreeBuilder()
	seen := 0
	b.OnNode = func(level uint, index uint64, hash []byte) {
		seen++
		require.NotZero(t, level)
		assert.Equal(t, l.tlog[tlog.StoredHashIndex(int(level), int64(index))][:], hash, "node (%d, %d)", level, index)
	}
	for _, d := range l.data {
		require.NoError(t, b.Add(d, nil))
	}
	assert.Equal(t, treeN-popcount(treeN), seen)
}

func TestTreeBuilderDetectsTampering(t *testing.T) {
	leaves, hashes, want := honestLog(t)
	const k = 17

	t.Run("changed byte, stored leaf hash kept", func(t *testing.T) {
		l := slices.Clone(leaves)
		l[k] = bytes.Replace(l[k], []byte("household.update"), []byte("household.updatf"), 1)
		_, err := rebuild(l, hashes)
		requireTamper(t, err, k, "stored leaf hash")
	})
	t.Run("changed byte, leaf hash recomputed", func(t *testing.T) {
		l := slices.Clone(leaves)
		l[k] = bytes.Replace(l[k], []byte("1200.50"), []byte("9200.50"), 1)
		h := slices.Clone(hashes)
		h[k] = LeafHash(l[k])
		b, err := rebuild(l, h)
		require.NoError(t, err)
		assert.NotEqual(t, want, b.Root(), "the root no longer matches the checkpoint")
	})
	t.Run("changed byte breaks the encoding", func(t *testing.T) {
		l := slices.Clone(leaves)
		l[k] = bytes.Replace(l[k], []byte(`"actor":`), []byte(`"actor" `), 1)
		_, err := rebuild(l, nil)
		requireTamper(t, err, k, "entry is not canonical JSON")
	})
	t.Run("deleted leaf", func(t *testing.T) {
		l := slices.Delete(slices.Clone(leaves), k, k+1)
		h := slices.Delete(slices.Clone(hashes), k, k+1)
		_, err := rebuild(l, h)
		requireTamper(t, err, k, "entry has seq 18, want 17: entries are missing")
	})
	t.Run("swapped leaves", func(t *testing.T) {
		l, h := slices.Clone(leaves), slices.Clone(hashes)
		l[k], l[k+5] = l[k+5], l[k]
		h[k], h[k+5] = h[k+5], h[k]
		_, err := rebuild(l, h)
		requireTamper(t, err, k, "entry has seq 22, want 17")
	})
	t.Run("inserted leaf", func(t *testing.T) {
		forged := testEntry(k) // a second leaf claiming seq 17
		forged = bytes.Replace(forged, []byte("clerk-01"), []byte("clerk-99"), 1)
		l := slices.Insert(slices.Clone(leaves), k, forged)
		h := slices.Insert(slices.Clone(hashes), k, LeafHash(forged))
		_, err := rebuild(l, h)
		requireTamper(t, err, k+1, "entry has seq 17, want 18: an entry is duplicated, inserted or out of order")
	})
	t.Run("truncated tail", func(t *testing.T) {
		b, err := rebuild(leaves[:40], hashes[:40])
		require.NoError(t, err)
		assert.Equal(t, uint64(40), b.Size())
		c := Checkpoint{Origin: testOrigin, Size: treeN, Root: want}
		err = VerifyConsistency(c, Checkpoint{Origin: testOrigin, Size: b.Size(), Root: b.Root()}, nil)
		assert.EqualError(t, err, "tree shrank from 50 to 40")
	})
	t.Run("wrong stored leaf hash", func(t *testing.T) {
		h := slices.Clone(hashes)
		h[k] = bytes.Clone(h[k])
		h[k][0] ^= 1
		_, err := rebuild(leaves, h)
		requireTamper(t, err, k, "stored leaf hash")
	})
	t.Run("failed Add leaves the builder unchanged", func(t *testing.T) {
		b, err := rebuild(leaves[:k], hashes[:k])
		require.NoError(t, err)
		root := b.Root()
		requireTamper(t, b.Add(leaves[k+1], nil), k, "seq 18")
		assert.Equal(t, uint64(k), b.Size())
		assert.Equal(t, root, b.Root())
		for i := k; i < treeN; i++ {
			require.NoError(t, b.Add(leaves[i], hashes[i]))
		}
		assert.Equal(t, want, b.Root())
	})
}

func TestTreeBuilderAddBatch(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4)) // several workers even on a small machine
	l := newMemLog(t)
	const n = 5000
	var hashes [][]byte
	for i := uint64(0); i < n; i++ {
		l.add(t, testEntry(i))
		hashes = append(hashes, LeafHash(l.data[i]))
	}
	want := l.tlogRoot(t, n)

	type node struct {
		level uint
		index uint64
		hash  string
	}
	record := func(b *TreeBuilder) *[]node {
		var nodes []node
		b.OnNode = func(level uint, index uint64, hash []byte) { nodes = append(nodes, node{level, index, string(hash)}) }
		return &nodes
	}
	one := NewTreeBuilder()
	oneNodes := record(one)
	_, err := func() (*TreeBuilder, error) {
		for i := range l.data {
			if err := one.Add(l.data[i], hashes[i]); err != nil {
				return nil, err
			}
		}
		return one, nil
	}()
	require.NoError(t, err)

	for _, split := range [][]int{{0, n}, {0, 1, 257, 4000, n}, {0, 2500, 2500, n}} {
		b := NewTreeBuilder()
		nodes := record(b)
		for i := 1; i < len(split); i++ {
			require.NoError(t, b.AddBatch(l.data[split[i-1]:split[i]], hashes[split[i-1]:split[i]]))
		}
		assert.Equal(t, uint64(n), b.Size())
		assert.Equal(t, want, b.Root())
		assert.Equal(t, *oneNodes, *nodes, "OnNode sees the same nodes in the same order")
	}
	b := NewTreeBuilder()
	require.NoError(t, b.AddBatch(l.data, nil))
	assert.Equal(t, want, b.Root())

	for _, k := range []int{0, 100, 255, 256, 3000, n - 2} { // deleting the last leaf is a truncation, found by the checkpoint
		t.Run(fmt.Sprintf("deleted leaf %d", k), func(t *testing.T) {
			data := slices.Delete(slices.Clone(l.data), k, k+1)
			h := slices.Delete(slices.Clone(hashes), k, k+1)
			b := NewTreeBuilder()
			err := b.AddBatch(data, h)
			requireTamper(t, err, uint64(k), "entries are missing")
			assert.Equal(t, uint64(k), b.Size(), "leaves before the bad one are added")
			ref, err := rebuild(l.data[:k], nil)
			require.NoError(t, err)
			assert.Equal(t, ref.Root(), b.Root())
		})
		t.Run(fmt.Sprintf("wrong stored hash %d", k), func(t *testing.T) {
			h := slices.Clone(hashes)
			h[k] = LeafHash([]byte("x"))
			err := NewTreeBuilder().AddBatch(l.data, h)
			requireTamper(t, err, uint64(k), "stored leaf hash")
		})
	}
	// Two bad leaves: the first one is reported.
	data := slices.Clone(l.data)
	data[4000] = data[3999]
	data[1000] = []byte("{}")
	requireTamper(t, NewTreeBuilder().AddBatch(data, nil), 1000, "entry is not canonical JSON")

	assert.EqualError(t, NewTreeBuilder().AddBatch(l.data, hashes[:3]), "AddBatch: 5000 leaves but 3 stored leaf hashes")
}

func TestTreeBuilderResumeAndCheckLeaf(t *testing.T) {
	leaves, hashes, want := honestLog(t)
	first, err := rebuild(leaves[:23], hashes[:23])
	require.NoError(t, err)
	b, err := NewTreeBuilderAt(first.Size(), first.Border())
	require.NoError(t, err)
	require.NoError(t, b.AddBatch(leaves[23:], hashes[23:]))
	assert.Equal(t, want, b.Root())
	_, err = NewTreeBuilderAt(23, nil)
	assert.EqualError(t, err, "border of a tree of size 23: invalid hashes: got 0 values, want 4")
}

func TestCheckLeaf(t *testing.T) {
	d := testEntry(5)
	h, err := CheckLeaf(5, d, nil)
	require.NoError(t, err)
	assert.Equal(t, LeafHash(d), h)
	_, err = CheckLeaf(5, d, h)
	require.NoError(t, err)
	_, err = CheckLeaf(6, d, nil)
	requireTamper(t, err, 6, "entry has seq 5, want 6")
	_, err = CheckLeaf(5, d, LeafHash(nil))
	requireTamper(t, err, 5, "stored leaf hash")
	_, err = CheckLeaf(5, append(bytes.Clone(d), ' '), nil)
	requireTamper(t, err, 5, "whitespace")
}
