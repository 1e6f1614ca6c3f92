package audit

import (
	"bytes"
	"fmt"
)

// TamperError says that leaf Index of a log is not what it should be.
type TamperError struct {
	Index  uint64
	Reason string
}

func (e *TamperError) Error() string { return fmt.Sprintf("leaf %d: %s", e.Index, e.Reason) }

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

// Add appends the leaf data as leaf number Size(). It checks that data is a
// canonical entry (ParseEntry's rules) whose seq equals its position, and, if
// storedLeafHash is not nil, that it equals LeafHash(data). On failure it
// returns a *TamperError naming the position and leaves the builder as it
// was.
func (b *TreeBuilder) Add(data, storedLeafHash []byte) error {
	index := b.a.Size()
	seq, err := checkCanonical(data)
	if err != nil {
		return &TamperError{Index: index, Reason: err.Error()}
	}
	if seq != index {
		var why string
		switch {
		case seq > index:
			why = fmt.Sprintf("entry has seq %d, want %d: entries are missing or out of order", seq, index)
		default:
			why = fmt.Sprintf("entry has seq %d, want %d: an entry is duplicated, inserted or out of order", seq, index)
		}
		return &TamperError{Index: index, Reason: why}
	}
	h := LeafHash(data)
	if storedLeafHash != nil && !bytes.Equal(storedLeafHash, h) {
		return &TamperError{Index: index, Reason: fmt.Sprintf("stored leaf hash %x does not match the hash of the entry, %x", storedLeafHash, h)}
	}
	if err := b.a.Append(h, b.OnNode); err != nil {
		return &TamperError{Index: index, Reason: err.Error()}
	}
	return nil
}

// Size returns the number of leaves added.
func (b *TreeBuilder) Size() uint64 { return b.a.Size() }

// Root returns the RFC 6962 root hash of the leaves added so far (for none,
// SHA-256 of the empty string).
func (b *TreeBuilder) Root() []byte {
	root, err := b.a.Root()
	if err != nil { // cannot happen: the range starts at 0
		panic(err)
	}
	return root
}
