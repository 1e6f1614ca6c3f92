package audit

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// ErrRootMismatch is wrapped by VerifyInclusion and VerifyConsistency when a
// well-formed proof does not lead to the checkpoint's root.
var ErrRootMismatch = errors.New("proof does not match the checkpoint root")

var rangeFactory = &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

func checkHashes(what string, hashes [][]byte) error {
	for i, h := range hashes {
		if len(h) != HashSize {
			return fmt.Errorf("%s hash %d is %d bytes, want %d", what, i, len(h), HashSize)
		}
	}
	return nil
}

// VerifyInclusion checks that data is leaf number index of the tree of
// checkpoint cp, using the RFC 6962 inclusion proof (audit path).
func VerifyInclusion(cp Checkpoint, index uint64, data []byte, proofHashes [][]byte) error {
	if index >= cp.Size {
		return fmt.Errorf("index %d is past the tree size %d", index, cp.Size)
	}
	if len(cp.Root) != HashSize {
		return fmt.Errorf("checkpoint root is %d bytes, want %d", len(cp.Root), HashSize)
	}
	if err := checkHashes("inclusion proof", proofHashes); err != nil {
		return err
	}
	err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, cp.Size, LeafHash(data), proofHashes, cp.Root)
	var mismatch proof.RootMismatchError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &mismatch):
		return fmt.Errorf("leaf %d is not proved in the tree of size %d: %w", index, cp.Size, ErrRootMismatch)
	}
	return fmt.Errorf("inclusion proof of leaf %d in the tree of size %d: %w", index, cp.Size, err)
}

// VerifyConsistency checks that the tree of checkpoint newer extends the
// tree of checkpoint old, i.e. that old's leaves are a prefix of newer's,
// using the RFC 6962 consistency proof. Both must be of the same log.
func VerifyConsistency(old, newer Checkpoint, proofHashes [][]byte) error {
	if old.Origin != newer.Origin {
		return fmt.Errorf("checkpoints are of different logs, %q and %q", old.Origin, newer.Origin)
	}
	if newer.Size < old.Size {
		return fmt.Errorf("tree shrank from %d to %d", old.Size, newer.Size)
	}
	if len(old.Root) != HashSize || len(newer.Root) != HashSize {
		return fmt.Errorf("checkpoint roots must be %d bytes", HashSize)
	}
	if old.Size == 0 && !bytes.Equal(old.Root, rfc6962.DefaultHasher.EmptyRoot()) {
		return errors.New("checkpoint of size 0 must have the empty root")
	}
	if err := checkHashes("consistency proof", proofHashes); err != nil {
		return err
	}
	err := proof.VerifyConsistency(rfc6962.DefaultHasher, old.Size, newer.Size, proofHashes, old.Root, newer.Root)
	var mismatch proof.RootMismatchError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &mismatch) && old.Size == newer.Size:
		return fmt.Errorf("two checkpoints of size %d have different roots (the log was rewritten): %w", old.Size, ErrRootMismatch)
	case errors.As(err, &mismatch):
		return fmt.Errorf("the tree of size %d is not an extension of the tree of size %d: %w", newer.Size, old.Size, ErrRootMismatch)
	}
	return fmt.Errorf("consistency proof from size %d to %d: %w", old.Size, newer.Size, err)
}

// InclusionNodes says which stored perfect-subtree nodes the inclusion proof
// of leaf index in the tree of size needs: their ids are in the result's
// IDs field, in the order BuildProof wants their hashes. Level-0 ids are
// leaves (their hashes are leaf hashes).
func InclusionNodes(index, size uint64) (proof.Nodes, error) {
	if index >= size {
		return proof.Nodes{}, fmt.Errorf("index %d is past the tree size %d", index, size)
	}
	return proof.Inclusion(index, size)
}

// ConsistencyNodes is InclusionNodes for the consistency proof from the tree
// of size1 to the tree of size2.
func ConsistencyNodes(size1, size2 uint64) (proof.Nodes, error) {
	if size2 < size1 {
		return proof.Nodes{}, fmt.Errorf("tree shrank from %d to %d", size1, size2)
	}
	return proof.Consistency(size1, size2)
}

// BuildProof turns the hashes of nodes.IDs (same order) into the proof,
// hashing together the nodes that stand for the one subtree that is not yet
// perfect. hashes is not modified.
func BuildProof(nodes proof.Nodes, hashes [][]byte) ([][]byte, error) {
	if len(hashes) != len(nodes.IDs) {
		return nil, fmt.Errorf("got %d node hashes, the proof needs %d", len(hashes), len(nodes.IDs))
	}
	for i, h := range hashes {
		if len(h) != HashSize {
			id := nodes.IDs[i]
			return nil, fmt.Errorf("hash of node (level %d, index %d) is %d bytes, want %d", id.Level, id.Index, len(h), HashSize)
		}
	}
	return nodes.Rehash(append([][]byte(nil), hashes...), rfc6962.DefaultHasher.HashChildren)
}

// NodeReader returns the stored hashes of the given nodes, in order: leaf
// hashes for level 0, perfect-subtree hashes above.
type NodeReader func(ids []compact.NodeID) ([][]byte, error)

// InclusionProof builds the inclusion proof of leaf index in the tree of
// size from stored nodes.
func InclusionProof(index, size uint64, read NodeReader) ([][]byte, error) {
	nodes, err := InclusionNodes(index, size)
	if err != nil {
		return nil, err
	}
	return readAndBuild(nodes, read)
}

// ConsistencyProof builds the consistency proof from the tree of size1 to the
// tree of size2 from stored nodes.
func ConsistencyProof(size1, size2 uint64, read NodeReader) ([][]byte, error) {
	nodes, err := ConsistencyNodes(size1, size2)
	if err != nil {
		return nil, err
	}
	return readAndBuild(nodes, read)
}

func readAndBuild(nodes proof.Nodes, read NodeReader) ([][]byte, error) {
	if len(nodes.IDs) == 0 {
		return [][]byte{}, nil
	}
	hashes, err := read(nodes.IDs)
	if err != nil {
		return nil, err
	}
	return BuildProof(nodes, hashes)
}

// BorderNodes returns the ids of the perfect subtrees that make up the tree
// of size leaves (its compact range [0, size)), largest first: the nodes to
// read to make an Appender for a stored tree.
func BorderNodes(size uint64) []compact.NodeID {
	return compact.RangeNodes(0, size, nil)
}

// Appender extends a tree whose right border (the compact range of [0, size),
// see BorderNodes) is known, reporting each new perfect subtree so that the
// caller can store it. It is not safe for concurrent use.
type Appender struct {
	r *compact.Range
}

// NewAppender returns an Appender for a tree of size leaves whose border
// hashes are given in the order of BorderNodes(size). border is copied.
func NewAppender(size uint64, border [][]byte) (*Appender, error) {
	if err := checkHashes("border", border); err != nil {
		return nil, err
	}
	r, err := rangeFactory.NewRange(0, size, append([][]byte(nil), border...))
	if err != nil {
		return nil, fmt.Errorf("border of a tree of size %d: %w", size, err)
	}
	return &Appender{r: r}, nil
}

// Append adds the leaf hash as leaf number Size(). visit, if not nil, is
// called for every perfect subtree of level >= 1 that this leaf completes,
// lowest first, with its level, its index on that level and its hash.
func (a *Appender) Append(leafHash []byte, visit func(level uint, index uint64, hash []byte)) error {
	if len(leafHash) != HashSize {
		return fmt.Errorf("leaf hash is %d bytes, want %d", len(leafHash), HashSize)
	}
	var fn compact.VisitFn
	if visit != nil {
		fn = func(id compact.NodeID, hash []byte) {
			if id.Level > 0 {
				visit(id.Level, id.Index, hash)
			}
		}
	}
	return a.r.Append(leafHash, fn)
}

// Size returns the number of leaves in the tree.
func (a *Appender) Size() uint64 { return a.r.End() }

// Border returns the hashes of BorderNodes(Size()), to be stored or passed to
// NewAppender later. The slice is a copy; the hashes must not be modified.
func (a *Appender) Border() [][]byte { return append([][]byte(nil), a.r.Hashes()...) }

// Root returns the RFC 6962 root hash of the tree (for an empty tree,
// SHA-256 of the empty string).
func (a *Appender) Root() ([]byte, error) {
	if a.r.End() == 0 {
		return rfc6962.DefaultHasher.EmptyRoot(), nil
	}
	return a.r.GetRootHash(nil)
}
