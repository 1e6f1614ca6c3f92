package audit

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// TamperError says that leaf Index of a log is not what it should be.
type TamperError struct {
	Index  uint64
	Reason string
	// Object, when set, names the stored object found altered while the
	// leaves are intact (a subtree hash, a checkpoint, the tree head);
	// Index is then the first leaf it covers.
	Object string
}

func (e *TamperError) Error() string {
	if e.Object != "" {
		return fmt.Sprintf("%s (from leaf %d): %s", e.Object, e.Index, e.Reason)
	}
	return fmt.Sprintf("leaf %d: %s", e.Index, e.Reason)
}

// TreeBuilder recomputes a log from its leaves, in order, in O(log n) memory,
// checking each leaf on the way. The zero value is not usable; call
// NewTreeBuilder. It is not safe for concurrent use.
type TreeBuilder struct {
	// OnNode, if not nil, is called for every perfect subtree of level >= 1
	// completed by Add, lowest first, with its level, its index on that level
	// and its hash, so that the caller can compare it with a stored subtree
	// hash. The builder does not reuse hash, so OnNode may keep it.
	OnNode func(level uint, index uint64, hash []byte)

	a *Appender
}

// NewTreeBuilder returns a builder for an empty log.
func NewTreeBuilder() *TreeBuilder {
	a, _ := NewAppender(0, nil) // cannot fail for an empty tree
	return &TreeBuilder{a: a}
}

// NewTreeBuilderAt returns a builder that resumes after the first size
// leaves, whose border hashes (see BorderNodes) are known, e.g. from a
// previous verification.
func NewTreeBuilderAt(size uint64, border [][]byte) (*TreeBuilder, error) {
	a, err := NewAppender(size, border)
	if err != nil {
		return nil, err
	}
	return &TreeBuilder{a: a}, nil
}

// Add appends the leaf data as leaf number Size(). It checks that data is a
// canonical entry (ParseEntry's rules) whose seq equals its position, and, if
// storedLeafHash is not nil, that it equals LeafHash(data). On failure it
// returns a *TamperError naming the position and leaves the builder as it
// was.
func (b *TreeBuilder) Add(data, storedLeafHash []byte) error {
	index := b.a.Size()
	h, err := CheckLeaf(index, data, storedLeafHash)
	if err != nil {
		return err
	}
	if err := b.a.Append(h, b.OnNode); err != nil {
		return &TamperError{Index: index, Reason: err.Error()}
	}
	return nil
}

// CheckLeaf checks one leaf the way TreeBuilder.Add does, without adding it:
// data must be a canonical entry (ParseEntry's rules, checked without
// building the Entry) whose seq is index, and storedLeafHash, if not nil,
// must be LeafHash(data). It returns the leaf hash, or a *TamperError.
// It is safe for concurrent use.
func CheckLeaf(index uint64, data, storedLeafHash []byte) ([]byte, error) {
	seq, err := checkCanonical(data)
	if err != nil {
		return nil, &TamperError{Index: index, Reason: err.Error()}
	}
	if seq != index {
		var why string
		switch {
		case seq > index:
			why = fmt.Sprintf("entry has seq %d, want %d: entries are missing or out of order", seq, index)
		default:
			why = fmt.Sprintf("entry has seq %d, want %d: an entry is duplicated, inserted or out of order", seq, index)
		}
		return nil, &TamperError{Index: index, Reason: why}
	}
	h := LeafHash(data)
	if storedLeafHash != nil && !bytes.Equal(storedLeafHash, h) {
		return nil, &TamperError{Index: index, Reason: fmt.Sprintf("stored leaf hash %x does not match the hash of the entry, %x", storedLeafHash, h)}
	}
	return h, nil
}

// batchChunk is how many leaves one worker of AddBatch checks at a time.
const batchChunk = 256

// AddBatch is Add for consecutive leaves: it adds data[i] with stored leaf
// hash storedLeafHashes[i] (storedLeafHashes may be nil) as leaf Size()+i.
// Checking and hashing the leaves runs on up to GOMAXPROCS goroutines while
// the tree is folded in order, so a long verification uses all cores. On the
// first bad leaf it returns its *TamperError with the leaves before it added,
// exactly as a loop over Add would. OnNode is called on the caller's
// goroutine, in the same order as with Add.
func (b *TreeBuilder) AddBatch(data, storedLeafHashes [][]byte) error {
	if storedLeafHashes != nil && len(storedLeafHashes) != len(data) {
		return fmt.Errorf("AddBatch: %d leaves but %d stored leaf hashes", len(data), len(storedLeafHashes))
	}
	stored := func(i int) []byte {
		if storedLeafHashes == nil {
			return nil
		}
		return storedLeafHashes[i]
	}
	workers := min(runtime.GOMAXPROCS(0), (len(data)+batchChunk-1)/batchChunk)
	if workers <= 1 {
		for i, d := range data {
			if err := b.Add(d, stored(i)); err != nil {
				return err
			}
		}
		return nil
	}

	start := b.a.Size()
	type chunk struct {
		hashes [][]byte
		err    error // first bad leaf of the chunk
		done   chan struct{}
	}
	chunks := make([]chunk, (len(data)+batchChunk-1)/batchChunk)
	for i := range chunks {
		chunks[i].done = make(chan struct{})
	}
	var next atomic.Int64 // next chunk to check
	var stop atomic.Bool  // set when the fold has stopped at a bad leaf
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				c := int(next.Add(1) - 1)
				if c >= len(chunks) {
					return
				}
				ch := &chunks[c]
				lo, hi := c*batchChunk, min((c+1)*batchChunk, len(data))
				if !stop.Load() {
					ch.hashes = make([][]byte, 0, hi-lo)
					for i := lo; i < hi; i++ {
						h, err := CheckLeaf(start+uint64(i), data[i], stored(i))
						if err != nil {
							ch.err = err
							break
						}
						ch.hashes = append(ch.hashes, h)
					}
				}
				close(ch.done)
			}
		})
	}
	defer wg.Wait()
	for c := range chunks {
		ch := &chunks[c]
		<-ch.done
		for i, h := range ch.hashes {
			if err := b.a.Append(h, b.OnNode); err != nil {
				stop.Store(true)
				return &TamperError{Index: start + uint64(c*batchChunk+i), Reason: err.Error()}
			}
		}
		if ch.err != nil {
			stop.Store(true)
			return ch.err
		}
	}
	return nil
}

// Size returns the number of leaves in the tree.
func (b *TreeBuilder) Size() uint64 { return b.a.Size() }

// Border returns the border hashes of the tree so far, for NewTreeBuilderAt.
func (b *TreeBuilder) Border() [][]byte { return b.a.Border() }

// Root returns the RFC 6962 root hash of the leaves added so far (for none,
// SHA-256 of the empty string).
func (b *TreeBuilder) Root() []byte {
	root, err := b.a.Root()
	if err != nil { // cannot happen: the range starts at 0
		panic(err)
	}
	return root
}
