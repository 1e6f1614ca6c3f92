package auditlog

import (
	"bytes"
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
)

// TamperError names the first leaf at which the stored log stops being the
// log its signed checkpoints describe.
type TamperError = audit.TamperError

// Report summarises a successful verification.
type Report struct {
	Leaves      uint64
	Checkpoint  audit.Checkpoint // the latest signed checkpoint, verified
	Checkpoints int              // stored checkpoints whose roots were recomputed
	Nodes       int              // stored subtree hashes compared
}

// chunk is how many leaves are checked between comparisons of stored
// subtree hashes: large enough to amortise queries (one per tree level per
// chunk), small enough to keep memory flat (a few MB).
const chunk = 1 << 16

// batch is how many leaves are handed to TreeBuilder.AddBatch at once, so
// checking and hashing spread over every core.
const batch = 1024

// leafChecker recomputes the tree leaf by leaf (audit.TreeBuilder checks
// each entry is canonical, numbered by its position and matches its stored
// hash) and collects completed subtrees to compare with the stored ones.
type leafChecker struct {
	b     *audit.TreeBuilder
	nodes []nodeHash // completed subtrees since the last flush
	// pending leaves not yet handed to the builder
	data, hashes [][]byte
}

type nodeHash struct {
	level uint
	index uint64
	hash  []byte
}

func newLeafChecker(size uint64, border [][]byte) (*leafChecker, error) {
	b, err := audit.NewTreeBuilderAt(size, border)
	if err != nil {
		return nil, err
	}
	c := &leafChecker{b: b}
	b.OnNode = func(level uint, index uint64, hash []byte) {
		c.nodes = append(c.nodes, nodeHash{level, index, hash})
	}
	return c, nil
}

// add queues the leaf stored at row seq; a row number out of step means a
// row was deleted, inserted or renumbered. Queued leaves are checked by
// flush (and whenever a batch fills).
func (c *leafChecker) add(seq uint64, data, storedHash []byte) error {
	if want := c.size(); seq != want {
		if err := c.flush(); err != nil {
			return err // an earlier leaf is the first bad one
		}
		return &TamperError{Index: want, Reason: fmt.Sprintf("expected leaf %d, found leaf %d (a leaf was deleted, inserted or moved)", want, seq)}
	}
	c.data = append(c.data, data)
	c.hashes = append(c.hashes, storedHash)
	if len(c.data) == batch {
		return c.flush()
	}
	return nil
}

// flush checks and adds the queued leaves.
func (c *leafChecker) flush() error {
	if len(c.data) == 0 {
		return nil
	}
	err := c.b.AddBatch(c.data, c.hashes)
	c.data, c.hashes = c.data[:0], c.hashes[:0]
	return err
}

// size counts the leaves seen, queued or added.
func (c *leafChecker) size() uint64 { return c.b.Size() + uint64(len(c.data)) }

// Verify recomputes the whole stored log from its leaves and checks it
// against every stored signed checkpoint (signatures with v), the stored
// subtree hashes, and, when since is set, a checkpoint the regulator kept
// from an earlier visit: the log must extend it. progress, if set, is
// called with leaves done and total.
func Verify(ctx context.Context, st *sqlstore.Store, v note.Verifier, since []byte, progress func(done, total uint64)) (Report, error) {
	var rep Report
	latest, err := st.Checkpoint(ctx, 0)
	if err != nil {
		return rep, fmt.Errorf("reading the latest checkpoint: %w", err)
	}
	origin := v.Name()
	cp, err := audit.OpenCheckpoint([]byte(latest.Note), origin, v)
	if err != nil {
		return rep, fmt.Errorf("latest checkpoint: %w", err)
	}
	rep.Checkpoint = cp
	// Roots to check as the recomputation passes each size.
	want := map[uint64][]byte{}
	if err := st.ScanCheckpoints(ctx, func(c sqlstore.StoredCheckpoint) error {
		oc, err := audit.OpenCheckpoint([]byte(c.Note), origin, v)
		if err != nil {
			return fmt.Errorf("checkpoint at size %d: %w", c.Size, err)
		}
		if oc.Size != c.Size || !bytes.Equal(oc.Root, c.Root) {
			return fmt.Errorf("checkpoint at size %d: stored size or root differs from the signed note", c.Size)
		}
		want[oc.Size] = oc.Root
		return nil
	}); err != nil {
		return rep, err
	}
	if since != nil {
		kept, err := audit.OpenCheckpoint(since, origin, v)
		if err != nil {
			return rep, fmt.Errorf("kept checkpoint: %w", err)
		}
		if kept.Size > cp.Size {
			return rep, fmt.Errorf("kept checkpoint has %d leaves but the log's latest has %d: the log was truncated", kept.Size, cp.Size)
		}
		if r, ok := want[kept.Size]; ok && !bytes.Equal(r, kept.Root) {
			return rep, fmt.Errorf("the log's checkpoint at size %d differs from the one you kept: the log was rewritten", kept.Size)
		}
		want[kept.Size] = kept.Root
	}
	if r, ok := want[0]; ok && !bytes.Equal(r, emptyRoot()) {
		return rep, &TamperError{Index: 0, Reason: "checkpoint of the empty tree has a wrong root"}
	}
	rep.Checkpoints = len(want)

	c, err := newLeafChecker(0, nil)
	if err != nil {
		return rep, err
	}
	flush := func() error {
		if err := c.flush(); err != nil {
			return err
		}
		n, err := compareNodes(ctx, st, c.nodes)
		rep.Nodes += n
		c.nodes = c.nodes[:0]
		return err
	}
	err = st.ScanLeaves(ctx, 0, cp.Size, func(l sqlstore.Leaf) error {
		if err := c.add(l.Seq, l.Data, l.LeafHash); err != nil {
			return err
		}
		size := c.size()
		if root, ok := want[size]; ok {
			if err := c.flush(); err != nil {
				return err
			}
			if got := c.b.Root(); !bytes.Equal(got, root) {
				return &TamperError{Index: size - 1, Reason: fmt.Sprintf("root of the first %d leaves does not match the signed checkpoint", size)}
			}
		}
		if size%chunk == 0 {
			if err := flush(); err != nil {
				return err
			}
			if progress != nil {
				progress(size, cp.Size)
			}
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if err := flush(); err != nil {
		return rep, err
	}
	if c.size() < cp.Size {
		return rep, &TamperError{Index: c.size(), Reason: fmt.Sprintf("the log ends at %d leaves but the signed checkpoint covers %d (truncated)", c.size(), cp.Size)}
	}
	if progress != nil {
		progress(cp.Size, cp.Size)
	}
	rep.Leaves = c.size()
	return rep, nil
}

// compareNodes checks recomputed subtree hashes against the stored ones.
func compareNodes(ctx context.Context, st *sqlstore.Store, nodes []nodeHash) (int, error) {
	byLevel := map[uint][]nodeHash{}
	for _, n := range nodes {
		byLevel[n.level] = append(byLevel[n.level], n)
	}
	count := 0
	for level, ns := range byLevel {
		stored := map[uint64][]byte{}
		lo, hi := ns[0].index, ns[len(ns)-1].index
		if err := st.ScanNodes(ctx, level, lo, hi, func(idx uint64, h []byte) error {
			stored[idx] = h
			return nil
		}); err != nil {
			return count, err
		}
		for _, n := range ns {
			count++
			if h, ok := stored[n.index]; !ok || !bytes.Equal(h, n.hash) {
				return count, &TamperError{Index: n.index << level,
					Reason: fmt.Sprintf("stored subtree hash (level %d, index %d) is missing or altered", level, n.index)}
			}
		}
	}
	return count, nil
}

func emptyRoot() []byte {
	a, _ := audit.NewAppender(0, nil)
	r, _ := a.Root()
	return r
}
