package merklelog

import (
	"context"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
)

// Store is the audit tree store the log is built on: the queue of records
// written with their changes, the sequencer that turns them into leaves of
// the Merkle tree, the stored subtree hashes and the signed checkpoints.
// adapters/sqlstore implements it for SQLite and PostgreSQL; the
// conformance suite (adapters/storetest) holds each engine to it.
//
// Errors, for every method: a fault of kind NotFound where stated,
// otherwise Internal or Unavailable; context errors are returned as they
// are.
type Store interface {
	// Integrate moves up to max queued records into the log in queue
	// order, in one transaction (no gaps), and returns the new head and
	// how many it moved. Concurrent integrators serialise.
	Integrate(ctx context.Context, max int) (sqlstore.TreeHead, int, error)
	// Head returns the current tree size and root.
	Head(ctx context.Context) (sqlstore.TreeHead, error)
	// HeadState returns the head with its border hashes (the compact
	// range of [0, size)).
	HeadState(ctx context.Context) (sqlstore.TreeHead, [][]byte, error)
	// SaveCheckpoint stores a signed checkpoint; saving a size again is a
	// no-op (the first signature stands).
	SaveCheckpoint(ctx context.Context, c sqlstore.StoredCheckpoint) error
	// Checkpoint returns the checkpoint of a tree size, or the latest when
	// size is 0; NotFound when there is none.
	Checkpoint(ctx context.Context, size uint64) (sqlstore.StoredCheckpoint, error)
	// ScanCheckpoints calls fn for every checkpoint in size order.
	ScanCheckpoints(ctx context.Context, fn func(sqlstore.StoredCheckpoint) error) error
	// Leaf returns leaf seq; NotFound past the end.
	Leaf(ctx context.Context, seq uint64) (sqlstore.Leaf, error)
	// ScanLeaves calls fn for every stored leaf with from <= seq < to, in
	// stored order, gaps and all.
	ScanLeaves(ctx context.Context, from, to uint64, fn func(sqlstore.Leaf) error) error
	// Nodes returns the hashes of ids in order; a missing node is
	// Internal (the tree is damaged).
	Nodes(ctx context.Context, ids []sqlstore.NodeID) ([][]byte, error)
	// ScanNodes calls fn for the stored subtree hashes of level with
	// lo <= index <= hi, in index order.
	ScanNodes(ctx context.Context, level uint, lo, hi uint64, fn func(index uint64, hash []byte) error) error
	// RecordRead puts a read that changes nothing on record.
	RecordRead(ctx context.Context, rec audit.Record) error
}
