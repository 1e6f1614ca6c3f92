package merklelog

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/transparency-dev/merkle/rfc6962"

	"golang.org/x/mod/sumdb/note"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
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
	prev         []byte // the last leaf handed to the builder
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

// flush checks and adds the queued leaves. A leaf at position x holding
// entry x-1, different from the leaf before it, means an entry was
// inserted just before it: the inserted one, at x-1, is the first altered
// leaf. (Holding a copy of leaf x-1, leaf x itself is the altered one.)
func (c *leafChecker) flush() error {
	if len(c.data) == 0 {
		return nil
	}
	start := c.b.Size()
	err := c.b.AddBatch(c.data, c.hashes)
	var te *TamperError
	if errors.As(err, &te) && te.Index >= start && te.Index-start < uint64(len(c.data)) && te.Index > 0 {
		i := te.Index - start
		before := c.prev
		if i > 0 {
			before = c.data[i-1]
		}
		if e, perr := audit.ParseEntry(c.data[i]); perr == nil && e.Seq+1 == te.Index && !bytes.Equal(before, c.data[i]) {
			err = &TamperError{Index: te.Index - 1, Reason: fmt.Sprintf("leaf %d holds entry %d: an entry was inserted at %d", te.Index, e.Seq, te.Index-1)}
		}
	}
	c.prev = c.data[len(c.data)-1]
	c.data, c.hashes = c.data[:0], c.hashes[:0]
	return err
}

// size counts the leaves seen, queued or added.
func (c *leafChecker) size() uint64 { return c.b.Size() + uint64(len(c.data)) }

// verification is the state of one Verify run.
type verification struct {
	st  Store
	c   *leafChecker
	rep *Report
	// intact is a prefix of the log proven by a signed root it matched:
	// no leaf below it was altered.
	intact uint64
	head   sqlstore.TreeHead
	border [][]byte
	// column is the first leaf whose plain columns differ from its signed
	// entry (see checkColumns).
	column *TamperError
}

// checkColumns compares the row's filter columns with the entry in its
// data, in the same pass. It only notes the first mismatch: a leaf whose
// data was itself rewritten is named better by the tree (its columns
// then differ too), so Verify reports the column only when nothing
// earlier or at the same leaf is wrong with the tree.
func (vf *verification) checkColumns(l sqlstore.Leaf) {
	if vf.column != nil {
		return
	}
	// The fast path, without parsing: the columns are what the data's own
	// members say (for canonical data, which the tree check enforces on
	// the same leaf). Anything else is parsed and named as before.
	if audit.HasColumns(l.Data, l.Cols.Action, l.Cols.Actor, l.Cols.Subject, l.Cols.Time) {
		return
	}
	e, err := audit.ParseEntry(l.Data)
	if err != nil {
		return // not canonical: the tree check names it
	}
	if col := l.Cols.Mismatch(e); col != "" {
		vf.column = &TamperError{Index: l.Seq, Object: fmt.Sprintf("column %s of leaf %d (audit_leaves)", col, l.Seq),
			Reason: fmt.Sprintf("differs from the signed entry: the %s a query filters on was rewritten", col)}
	}
}

// firstTamper prefers the column mismatch when it lies before the leaf
// the tree names (or the tree found nothing).
func (vf *verification) firstTamper(err error) error {
	var te *TamperError
	if vf.column == nil || (err != nil && (!errors.As(err, &te) || te.Index <= vf.column.Index)) {
		return err
	}
	return vf.column
}

// Verify recomputes the whole stored log from its leaves and checks it
// against every stored signed checkpoint (signatures with v), the stored
// subtree hashes, the tree head, and, when since is set, a checkpoint the
// regulator kept from an earlier visit: the log must extend it. A failure
// is a *TamperError naming the first altered leaf the stored evidence
// points at, or the altered object (subtree hash, checkpoint, head).
// progress, if set, is called with leaves done and total.
func Verify(ctx context.Context, st Store, v note.Verifier, since []byte, progress func(done, total uint64)) (Report, error) {
	if v == nil {
		return Report{}, errors.New("verify: no verifier key")
	}
	return VerifyKeys(ctx, st, audit.SingleKey(v), since, progress)
}

// VerifyKeys is Verify for a log whose signing key was rotated: each
// checkpoint's signatures are checked against the key history (the key
// that signed at its size, both keys at a handover), and every handover
// the history names must be a stored (or the kept) checkpoint.
func VerifyKeys(ctx context.Context, st Store, keys *audit.KeyHistory, since []byte, progress func(done, total uint64)) (Report, error) {
	var rep Report
	if keys == nil {
		return rep, errors.New("verify: no key history")
	}
	var cp audit.Checkpoint
	haveLatest := false
	latest, err := st.Checkpoint(ctx, 0)
	switch {
	case err == nil:
		if cp, err = keys.OpenCheckpoint([]byte(latest.Note)); err != nil {
			return rep, checkpointTamper(latest.Size, err)
		}
		haveLatest = true
	case fault.Is(err, fault.NotFound) && since != nil:
		// Every checkpoint gone: the one the regulator kept still binds.
	default:
		return rep, fmt.Errorf("reading the latest checkpoint: %w", err)
	}
	// Roots to check as the recomputation passes each size.
	want := map[uint64][]byte{}
	if err := st.ScanCheckpoints(ctx, func(c sqlstore.StoredCheckpoint) error {
		oc, err := keys.OpenCheckpoint([]byte(c.Note))
		if err != nil {
			return checkpointTamper(c.Size, err)
		}
		if oc.Size != c.Size || !bytes.Equal(oc.Root, c.Root) {
			return checkpointTamper(c.Size, errors.New("stored size or root differs from the signed note"))
		}
		want[oc.Size] = oc.Root
		return nil
	}); err != nil {
		return rep, err
	}
	target := cp.Size
	if since != nil {
		kept, err := keys.OpenCheckpoint(since)
		if err != nil {
			return rep, fmt.Errorf("kept checkpoint: %w", err)
		}
		if r, ok := want[kept.Size]; ok && !bytes.Equal(r, kept.Root) {
			return rep, fmt.Errorf("the log's checkpoint at size %d differs from the one you kept: the log was rewritten", kept.Size)
		}
		want[kept.Size] = kept.Root
		if !haveLatest || kept.Size > cp.Size {
			cp = kept // the log must reach it; a shorter log was truncated
		}
		target = max(target, kept.Size)
	}
	rep.Checkpoint = cp
	for _, n := range keys.Handovers() {
		if _, ok := want[n]; !ok {
			return rep, checkpointTamper(n, errors.New("missing: the key history says a new key took over at this size, with a checkpoint signed by both keys, but the log has no checkpoint here (a wrong size in the history, or the handover checkpoint was deleted)"))
		}
	}
	if r, ok := want[0]; ok && !bytes.Equal(r, emptyRoot()) {
		return rep, &TamperError{Index: 0, Reason: "checkpoint of the empty tree has a wrong root"}
	}
	rep.Checkpoints = len(want)

	c, err := newLeafChecker(0, nil)
	if err != nil {
		return rep, err
	}
	vf := &verification{st: st, c: c, rep: &rep}
	if vf.head, vf.border, err = st.HeadState(ctx); err != nil {
		return rep, err
	}
	if vf.head.Size == 0 {
		if err := vf.checkHead(ctx); err != nil {
			return rep, err
		}
	}
	total := max(target, vf.head.Size)
	err = scanLeaves(ctx, st, func(l sqlstore.Leaf) error {
		if l.Seq >= max(vf.head.Size, target) {
			// Past the head and every checkpoint: forged, unless a
			// sequencer moved the head since we read it.
			h, b, err := st.HeadState(ctx)
			if err != nil {
				return err
			}
			if h.Size <= l.Seq {
				if err := vf.compare(ctx); err != nil {
					return err
				}
				return &TamperError{Index: l.Seq, Reason: fmt.Sprintf("leaf past the tree head (%d leaves) and the latest signed checkpoint (%d): forged", h.Size, target)}
			}
			vf.head, vf.border = h, b
		}
		vf.checkColumns(l)
		if err := c.add(l.Seq, l.Data, l.LeafHash); err != nil {
			return vf.leafError(ctx, err)
		}
		size := c.size()
		if root, ok := want[size]; ok {
			if err := c.flush(); err != nil {
				return vf.leafError(ctx, err)
			}
			if got := c.b.Root(); !bytes.Equal(got, root) {
				return vf.rootMismatch(ctx, size, "the signed checkpoint")
			}
			vf.intact = size
		}
		if size == vf.head.Size {
			if err := c.flush(); err != nil {
				return vf.leafError(ctx, err)
			}
			if err := vf.checkHead(ctx); err != nil {
				return err
			}
		}
		if size%chunk == 0 {
			if err := c.flush(); err != nil {
				return vf.leafError(ctx, err)
			}
			if err := vf.compare(ctx); err != nil {
				return err
			}
			if progress != nil {
				progress(size, total)
			}
		}
		return nil
	})
	if err != nil {
		return rep, vf.firstTamper(err)
	}
	if err := c.flush(); err != nil {
		return rep, vf.firstTamper(vf.leafError(ctx, err))
	}
	if err := vf.compare(ctx); err != nil {
		return rep, vf.firstTamper(err)
	}
	n := c.size()
	if n < target {
		return rep, vf.firstTamper(&TamperError{Index: n, Reason: fmt.Sprintf("the log ends at %d leaves but the signed checkpoint covers %d (truncated)", n, target)})
	}
	if n < vf.head.Size {
		return rep, vf.firstTamper(&TamperError{Index: n, Reason: fmt.Sprintf("the log ends at %d leaves but the tree head counts %d (leaves past the last checkpoint deleted)", n, vf.head.Size)})
	}
	if vf.head.Size < cp.Size {
		return rep, vf.firstTamper(&TamperError{Index: vf.head.Size, Object: "tree head (audit_head)",
			Reason: fmt.Sprintf("the head counts %d leaves, behind the signed checkpoint of %d", vf.head.Size, cp.Size)})
	}
	// A sequencer may have grown the tree since the scan began: its new
	// subtree hashes are not strays.
	now, _, err := st.HeadState(ctx)
	if err != nil {
		return rep, err
	}
	if err := vf.strayNodes(ctx, max(n, now.Size)); err != nil {
		return rep, vf.firstTamper(err)
	}
	if vf.column != nil {
		return rep, vf.column
	}
	if progress != nil {
		progress(total, total)
	}
	rep.Leaves = n
	return rep, nil
}

// readBatch is how many leaves the reading goroutine hands over at once.
const readBatch = 1024

// readAhead is how many batches the reading goroutine may run ahead: half
// a comparison chunk.
const readAhead = chunk / readBatch / 2

// scanLeaves is st.ScanLeaves over the whole log with fn, the checking,
// on the caller's goroutine and the reading on another, so that the two
// overlap. fn sees exactly the leaves and order ScanLeaves gives; its
// first error stops the reading and is returned.
func scanLeaves(ctx context.Context, st Store, fn func(sqlstore.Leaf) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Up to readAhead batches (a few tens of MB) read ahead, so that the
	// leaves keep streaming while the checker waits on the stored subtree
	// hashes of a chunk.
	full := make(chan []sqlstore.Leaf, readAhead)
	free := make(chan []sqlstore.Leaf, readAhead+2)
	var readErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(full)
		buf := make([]sqlstore.Leaf, 0, readBatch)
		send := func() error {
			select {
			case full <- buf:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case buf = <-free:
				buf = buf[:0]
			default:
				buf = make([]sqlstore.Leaf, 0, readBatch)
			}
			return nil
		}
		readErr = st.ScanLeaves(ctx, 0, math.MaxInt64, func(l sqlstore.Leaf) error {
			buf = append(buf, l)
			if len(buf) == readBatch {
				return send()
			}
			return nil
		})
		if readErr == nil && len(buf) > 0 {
			readErr = send()
		}
	}()
	var err error
	for ls := range full {
		for _, l := range ls {
			if err = fn(l); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
		clear(ls) // drop the references to the leaves' bytes
		select {
		case free <- ls:
		default:
		}
	}
	cancel()
	for range full { // let the reader end
	}
	<-done
	if err != nil {
		return err
	}
	return readErr
}

// errStop ends a scan early.
var errStop = errors.New("stop")

// strayNodes finds a stored subtree hash past the end of a tree of size
// leaves: no leaves back it (and the sequencer would fail on it when the
// tree grows there). One indexed probe per level.
func (vf *verification) strayNodes(ctx context.Context, size uint64) error {
	for level := uint(1); level < 64; level++ {
		var found *TamperError
		err := vf.st.ScanNodes(ctx, level, size>>level, math.MaxInt64, func(idx uint64, _ []byte) error {
			found = &TamperError{Index: idx << level, Object: fmt.Sprintf("stored subtree hash (level %d, index %d)", level, idx),
				Reason: fmt.Sprintf("lies past the end of the tree of %d leaves: forged", size)}
			return errStop
		})
		if found != nil {
			return found
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func checkpointTamper(size uint64, err error) error {
	return &TamperError{Index: size, Object: fmt.Sprintf("checkpoint at size %d", size), Reason: err.Error()}
}

// leafError reports a bad leaf, unless a stored subtree completed before
// it already names an earlier one.
func (vf *verification) leafError(ctx context.Context, err error) error {
	if cerr := vf.compare(ctx); cerr != nil {
		var a, b *TamperError
		if errors.As(cerr, &a) && errors.As(err, &b) && a.Index <= b.Index {
			return cerr
		}
	}
	return err
}

// rootMismatch localises a recomputed root of the first size leaves that
// differs from a signed or stored one: first by the stored subtree hashes
// completed since the last comparison, then by what they leave open.
func (vf *verification) rootMismatch(ctx context.Context, size uint64, against string) error {
	if err := vf.compare(ctx); err != nil {
		return err
	}
	// Every stored subtree matches its leaves: only a leaf under none of
	// them, the odd last one, can differ on its own.
	if size%2 == 1 && size-1 >= vf.intact {
		return &TamperError{Index: size - 1, Reason: fmt.Sprintf("root of the first %d leaves does not match %s: the entry and its leaf hash were rewritten", size, against)}
	}
	return &TamperError{Index: vf.intact, Reason: fmt.Sprintf("root of the first %d leaves does not match %s although every stored subtree hash matches: leaves from %d on were rewritten together with their stored subtree hashes", size, against, vf.intact)}
}

// checkHead compares the stored tree head with the recomputed tree of the
// same size. Its border holds the hash of an odd last leaf, which no
// stored subtree covers.
func (vf *verification) checkHead(ctx context.Context) error {
	if err := vf.compare(ctx); err != nil {
		return err
	}
	const head = "tree head (audit_head)"
	got := vf.c.b.Border()
	ids := audit.BorderNodes(vf.head.Size)
	if len(vf.border) != len(got) {
		return &TamperError{Index: vf.head.Size, Object: head, Reason: fmt.Sprintf("border has %d hashes, a tree of %d leaves has %d", len(vf.border), vf.head.Size, len(got))}
	}
	for i := range got {
		if bytes.Equal(got[i], vf.border[i]) {
			continue
		}
		if ids[i].Level == 0 && ids[i].Index >= vf.intact {
			return &TamperError{Index: ids[i].Index, Reason: "the entry and its leaf hash were rewritten: the tree head still holds the old leaf hash"}
		}
		return &TamperError{Index: ids[i].Index << ids[i].Level, Object: head,
			Reason: fmt.Sprintf("border hash of subtree (level %d, index %d) differs from the recomputed one, which matches the stored subtree", ids[i].Level, ids[i].Index)}
	}
	if !bytes.Equal(vf.c.b.Root(), vf.head.Root) {
		return &TamperError{Index: vf.head.Size, Object: head, Reason: "root differs from the root of its own border, which matches the leaves"}
	}
	return nil
}

type nodeKey struct {
	level uint
	index uint64
}

// compare checks the subtree hashes recomputed since the last comparison
// against the stored ones, lowest level first. On a mismatch it descends
// to the lowest mismatching subtrees and names the first altered leaf, or
// the altered stored hash when the leaves beneath it are intact.
func (vf *verification) compare(ctx context.Context) error {
	nodes := vf.c.nodes
	if len(nodes) == 0 {
		return nil
	}
	vf.c.nodes = vf.c.nodes[:0]
	byLevel := map[uint][]nodeHash{}
	var levels []uint
	for _, n := range nodes {
		if _, ok := byLevel[n.level]; !ok {
			levels = append(levels, n.level)
		}
		byLevel[n.level] = append(byLevel[n.level], n)
	}
	slices.Sort(levels)
	stored := map[nodeKey][]byte{}
	bad := map[nodeKey]bool{}
	var mismatched []nodeHash
	for _, level := range levels {
		// ns is in index order (the builder completes a level's subtrees
		// left to right), as the scan is: the two are merged as they
		// stream, keeping only what differs.
		ns := byLevel[level]
		lo, hi := ns[0].index, ns[len(ns)-1].index
		i := 0
		miss := func(n nodeHash, h []byte) {
			k := nodeKey{level, n.index}
			if h != nil {
				stored[k] = h
			}
			bad[k] = true
			mismatched = append(mismatched, n)
		}
		if err := vf.st.ScanNodes(ctx, level, lo, hi, func(idx uint64, h []byte) error {
			for ; i < len(ns) && ns[i].index < idx; i++ {
				miss(ns[i], nil) // no stored hash
			}
			if i < len(ns) && ns[i].index == idx {
				if !bytes.Equal(h, ns[i].hash) {
					miss(ns[i], h)
				}
				i++
			}
			return nil
		}); err != nil {
			return err
		}
		for ; i < len(ns); i++ {
			miss(ns[i], nil)
		}
		vf.rep.Nodes += len(ns)
	}
	if len(mismatched) == 0 {
		return nil
	}
	var found []*TamperError
	for _, n := range mismatched {
		k := nodeKey{n.level, n.index}
		if bad[nodeKey{n.level - 1, 2 * n.index}] || bad[nodeKey{n.level - 1, 2*n.index + 1}] {
			continue // a lower mismatch localises better
		}
		te, err := vf.judge(ctx, k, stored[k])
		if err != nil {
			return err
		}
		found = append(found, te)
	}
	// Deterministic: the first leaf; at equal leaves an altered entry
	// before an altered stored hash.
	slices.SortStableFunc(found, func(a, b *TamperError) int {
		if a.Index != b.Index {
			return cmp.Compare(a.Index, b.Index)
		}
		return cmp.Compare(a.Object, b.Object)
	})
	return found[0]
}

// judge names what is altered under a lowest mismatching subtree k (its
// stored children, if any, match their leaves): above level 1 the stored
// hash itself; at level 1 either one of its two leaves (an entry rewritten
// together with its leaf hash) or the stored hash, told apart by the
// stored parent: it agrees with the stored pair unless the pair's stored
// hash was changed.
func (vf *verification) judge(ctx context.Context, k nodeKey, storedHash []byte) (*TamperError, error) {
	first, last := k.index<<k.level, (k.index+1)<<k.level-1
	obj := fmt.Sprintf("stored subtree hash (level %d, index %d)", k.level, k.index)
	state := "altered"
	if storedHash == nil {
		state = "missing"
	}
	if k.level == 1 && storedHash == nil && last >= vf.intact {
		// No stored hash for a pair past the proven prefix: the sequencer
		// always stores one, so a leaf was appended outside it.
		return &TamperError{Index: max(first, vf.intact), Reason: fmt.Sprintf(
			"no stored hash covers leaves %d-%d: a leaf was appended outside the sequencer (or the stored hash deleted)", first, last)}, nil
	}
	if k.level == 1 && storedHash != nil && last >= vf.intact {
		var parent, sibling []byte
		if err := vf.st.ScanNodes(ctx, 2, k.index/2, k.index/2, func(_ uint64, h []byte) error { parent = h; return nil }); err != nil {
			return nil, err
		}
		if err := vf.st.ScanNodes(ctx, 1, k.index^1, k.index^1, func(_ uint64, h []byte) error { sibling = h; return nil }); err != nil {
			return nil, err
		}
		l, r := storedHash, sibling
		if k.index%2 == 1 {
			l, r = sibling, storedHash
		}
		if parent == nil || sibling == nil || bytes.Equal(rfc6962.DefaultHasher.HashChildren(l, r), parent) {
			idx := max(first, vf.intact)
			return &TamperError{Index: idx, Reason: fmt.Sprintf(
				"the entry and its leaf hash were rewritten: the stored hash of leaves %d-%d no longer matches them (the stored hashes tell the altered leaf only to within this pair)", first, last)}, nil
		}
	}
	return &TamperError{Index: first, Object: obj, Reason: fmt.Sprintf(
		"is %s: it does not match leaves %d-%d, whose lower stored hashes match them (or those leaves were rewritten together with every stored hash beneath it)", state, first, last)}, nil
}

func emptyRoot() []byte {
	a, _ := audit.NewAppender(0, nil)
	r, _ := a.Root()
	return r
}
