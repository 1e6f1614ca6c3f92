// Package merklelog runs the verifiable log on a store: it sequences queued
// records into the Merkle tree, signs and publishes checkpoints, and serves
// entries with inclusion proofs and consistency proofs read from stored
// subtree hashes. The pure parts (canonical entries, hashing, checkpoint
// notes, verification) live in package audit.
package merklelog

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
)

// BatchSize bounds the records sequenced per transaction.
const BatchSize = 2000

// Log is the audit log of one store, signed by one key.
type Log struct {
	store    Store
	signer   note.Signer
	verifier note.Verifier
	vkey     string
	now      func() time.Time
	// mu keeps one publisher per process; across processes the store's
	// head row serialises sequencers.
	mu sync.Mutex
	// published is when Publish last succeeded (Unix ns; 0 never), for
	// readiness: a sequencer that fails or stalls makes the service unready.
	published atomic.Int64
}

// New returns the log of store, signing with the note signer key skey.
func New(store Store, skey string, now func() time.Time) (*Log, error) {
	s, err := audit.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("audit signing key: %w", err)
	}
	vkey, err := VerifierKey(skey)
	if err != nil {
		return nil, err
	}
	v, err := audit.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	return &Log{store: store, signer: s, verifier: v, vkey: vkey, now: now}, nil
}

// Origin is the checkpoint origin line: the signing key's name.
func (l *Log) Origin() string { return l.signer.Name() }

// VerifierKey returns the public verifier key, to publish.
func (l *Log) VerifierKey() string { return l.vkey }

// Verifier returns the note verifier of the log's key.
func (l *Log) Verifier() note.Verifier { return l.verifier }

// Publish sequences every queued record and, when the tree grew (or no
// checkpoint exists yet), signs and stores a checkpoint. It returns the
// latest checkpoint.
func (l *Log) Publish(ctx context.Context) (sqlstore.StoredCheckpoint, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cp, err := l.publish(ctx)
	if err == nil {
		l.published.Store(l.now().UnixNano())
	}
	return cp, err
}

// LastPublished returns when Publish last succeeded in this process: the
// queue sequenced and the latest checkpoint current, whether or not a new
// one had to be signed. Zero before the first.
func (l *Log) LastPublished() time.Time {
	ns := l.published.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

func (l *Log) publish(ctx context.Context) (sqlstore.StoredCheckpoint, error) {
	var head sqlstore.TreeHead
	for {
		h, n, err := l.store.Integrate(ctx, BatchSize)
		if err != nil {
			return sqlstore.StoredCheckpoint{}, err
		}
		head = h
		if n < BatchSize {
			break
		}
	}
	latest, err := l.store.Checkpoint(ctx, 0)
	if err == nil && latest.Size == head.Size {
		return latest, nil
	}
	if err != nil && !fault.Is(err, fault.NotFound) {
		return sqlstore.StoredCheckpoint{}, err
	}
	now := l.now().UTC().Truncate(time.Second)
	signed, err := audit.Sign(audit.Checkpoint{Origin: l.Origin(), Size: head.Size, Root: head.Root, Time: now}, l.signer)
	if err != nil {
		return sqlstore.StoredCheckpoint{}, fault.Wrap(err, fault.Internal, "CHECKPOINT_SIGN", "cannot sign a checkpoint")
	}
	cp := sqlstore.StoredCheckpoint{Size: head.Size, Root: head.Root, Note: string(signed), Time: now}
	if err := l.store.SaveCheckpoint(ctx, cp); err != nil {
		return sqlstore.StoredCheckpoint{}, err
	}
	return l.store.Checkpoint(ctx, head.Size)
}

// Run publishes every interval until ctx ends; failures are logged and
// retried at the next tick.
func (l *Log) Run(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := l.Publish(ctx); err != nil && ctx.Err() == nil {
				log.Error("publishing audit checkpoint", "error", err)
			}
		}
	}
}

// Checkpoint returns the checkpoint at size (0 = latest).
func (l *Log) Checkpoint(ctx context.Context, size uint64) (sqlstore.StoredCheckpoint, error) {
	return l.store.Checkpoint(ctx, size)
}

// Proved is an entry with its inclusion proof to a signed checkpoint.
type Proved struct {
	Leaf       sqlstore.Leaf
	Entry      audit.Entry
	Proof      [][]byte
	Checkpoint sqlstore.StoredCheckpoint
}

// Entry returns entry seq proved against the checkpoint at treeSize (0 =
// the latest checkpoint).
func (l *Log) Entry(ctx context.Context, seq, treeSize uint64) (Proved, error) {
	cp, err := l.store.Checkpoint(ctx, treeSize)
	if err != nil {
		return Proved{}, err
	}
	if seq >= cp.Size {
		return Proved{}, fault.New(fault.FailedPrecondition, "ENTRY_NOT_IN_CHECKPOINT",
			"entry %d is past the checkpoint's tree size %d; ask for a later checkpoint", seq, cp.Size)
	}
	leaf, err := l.store.Leaf(ctx, seq)
	if err != nil {
		return Proved{}, err
	}
	e, err := audit.ParseEntry(leaf.Data)
	if err != nil {
		return Proved{}, fault.Wrap(err, fault.Internal, "AUDIT_ENTRY_CORRUPT", "stored entry %d is not canonical", seq)
	}
	p, err := l.inclusion(ctx, seq, cp.Size)
	if err != nil {
		return Proved{}, err
	}
	return Proved{Leaf: leaf, Entry: e, Proof: p, Checkpoint: cp}, nil
}

// InclusionProof returns the proof that leaf index is in the tree of size,
// read from stored subtree hashes.
func (l *Log) InclusionProof(ctx context.Context, index, size uint64) ([][]byte, error) {
	return l.inclusion(ctx, index, size)
}

func (l *Log) inclusion(ctx context.Context, index, size uint64) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fault.Wrap(err, fault.Invalid, "BAD_PROOF_REQUEST", "no inclusion proof for index %d in size %d", index, size)
	}
	return l.rehash(ctx, nodes)
}

// Consistency returns the proof that the tree of size newSize extends the
// tree of size oldSize. Both must be published checkpoint sizes or at most
// the current size.
func (l *Log) Consistency(ctx context.Context, oldSize, newSize uint64) ([][]byte, error) {
	if oldSize > newSize {
		return nil, fault.InvalidField("old_size", "tree shrank: old size %d is larger than new size %d", oldSize, newSize)
	}
	head, err := l.store.Head(ctx)
	if err != nil {
		return nil, err
	}
	if newSize > head.Size {
		return nil, fault.InvalidField("new_size", "new size %d is past the tree size %d", newSize, head.Size)
	}
	nodes, err := proof.Consistency(oldSize, newSize)
	if err != nil {
		return nil, fault.Wrap(err, fault.Invalid, "BAD_PROOF_REQUEST", "no consistency proof from %d to %d", oldSize, newSize)
	}
	return l.rehash(ctx, nodes)
}

func (l *Log) rehash(ctx context.Context, nodes proof.Nodes) ([][]byte, error) {
	ids := make([]sqlstore.NodeID, len(nodes.IDs))
	for i, id := range nodes.IDs {
		ids[i] = sqlstore.NodeID{Level: id.Level, Index: id.Index}
	}
	hashes, err := l.store.Nodes(ctx, ids)
	if err != nil {
		return nil, err
	}
	p, err := nodes.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "AUDIT_PROOF", "cannot build proof")
	}
	return p, nil
}

// VerifierKey derives the public verifier key of a note signer key
// ("PRIVATE+KEY+<name>+<hash>+<base64(alg || seed)>"), so operators keep one
// file and the public half can always be printed from it.
func VerifierKey(skey string) (string, error) {
	parts := strings.SplitN(strings.TrimSpace(skey), "+", 5) // base64 may contain "+"
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", errors.New("audit signing key is not a note signer key (PRIVATE+KEY+name+hash+key)")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return "", errors.New("audit signing key is not an ed25519 note key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(parts[2], pub)
}
