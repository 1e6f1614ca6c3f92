package merklelog

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
)

// ActionRotateKey is the audit action of a signing-key rotation.
const ActionRotateKey = "audit.rotate_key"

// Rotation is a completed key rotation.
type Rotation struct {
	// Handover is the first checkpoint of the new key, signed by both.
	Handover sqlstore.StoredCheckpoint
	// History is the key history with the new key appended.
	History *audit.KeyHistory
	// VerifierKey is the new key's public verifier key.
	VerifierKey string
}

// Rotate hands the log's checkpoints over from the signing key oldSkey to
// newSkey. history is the log's key history so far (nil: oldSkey has signed
// every checkpoint since the log began). It checks everything first and
// writes nothing when a check fails: the keys differ and share the log's
// name, oldSkey is the history's current key, and every stored checkpoint
// verifies against the history. Then it logs an entry ActionRotateKey by
// actor, naming both verifier keys, sequences it with anything queued, and
// stores a checkpoint of the grown tree signed by both keys: the handover.
// The new key signs from that size on.
//
// Rotate is an offline step: no server may publish with the old key
// meanwhile. If one does, the handover cannot be stored (a checkpoint of
// that size exists) and Rotate fails; the entry stays in the log,
// harmless, and the rotation can be run again once the server is stopped.
func Rotate(ctx context.Context, st Store, history *audit.KeyHistory, oldSkey, newSkey, actor string, now time.Time) (Rotation, error) {
	oldS, err := audit.NewSigner(oldSkey)
	if err != nil {
		return Rotation{}, fmt.Errorf("old audit key: %w", err)
	}
	newS, err := audit.NewSigner(newSkey)
	if err != nil {
		return Rotation{}, fmt.Errorf("new audit key: %w", err)
	}
	oldV, err := VerifierKey(oldSkey)
	if err != nil {
		return Rotation{}, fmt.Errorf("old audit key: %w", err)
	}
	newV, err := VerifierKey(newSkey)
	if err != nil {
		return Rotation{}, fmt.Errorf("new audit key: %w", err)
	}
	if oldS.KeyHash() == newS.KeyHash() && oldS.Name() == newS.Name() {
		return Rotation{}, fmt.Errorf("the new key is the old key (%s+%08x): generate a new one", oldS.Name(), oldS.KeyHash())
	}
	if oldS.Name() != newS.Name() {
		return Rotation{}, fmt.Errorf("the new key is named %q but the log is %q: make it with `sanzhi audit keygen FILE --origin %s`", newS.Name(), oldS.Name(), oldS.Name())
	}
	if history == nil {
		if history, err = audit.NewKeyHistory(oldV); err != nil {
			return Rotation{}, err
		}
	}
	if cur := history.Current(); cur.Name() != oldS.Name() || cur.KeyHash() != oldS.KeyHash() {
		return Rotation{}, fmt.Errorf("the key history's current key is %s+%08x, not the old key %s+%08x: pass the key the server signs with now, and the history that ends with it",
			cur.Name(), cur.KeyHash(), oldS.Name(), oldS.KeyHash())
	}
	latest, err := st.Checkpoint(ctx, 0)
	if err != nil {
		if fault.Is(err, fault.NotFound) {
			return Rotation{}, fmt.Errorf("the log has no checkpoint yet: start the server with the new key instead of rotating")
		}
		return Rotation{}, err
	}
	if err := st.ScanCheckpoints(ctx, func(c sqlstore.StoredCheckpoint) error {
		if _, err := history.OpenCheckpoint([]byte(c.Note)); err != nil {
			return fmt.Errorf("stored checkpoint at size %d does not verify against the key history, so the rotated history would not either: %w", c.Size, err)
		}
		return nil
	}); err != nil {
		return Rotation{}, err
	}
	// The handover lands past every stored checkpoint; With checks the new
	// key fits the history (not a retired key, sizes increasing).
	if _, err := history.With(newV, latest.Size+1); err != nil {
		return Rotation{}, fmt.Errorf("new audit key: %w", err)
	}

	// Checked; now write. The entry makes the tree grow, so the handover
	// is a new size, and puts the new key on record in the log itself.
	now = now.UTC().Truncate(time.Second)
	rec := audit.Record{Time: now, Actor: actor, Action: ActionRotateKey,
		Subject: fmt.Sprintf("keys/%s+%08x", newS.Name(), newS.KeyHash()),
		Payload: map[string]string{"old_key": oldV, "new_key": newV}}
	if err := st.RecordRead(ctx, rec); err != nil {
		return Rotation{}, err
	}
	var head sqlstore.TreeHead
	for {
		h, n, err := st.Integrate(ctx, BatchSize)
		if err != nil {
			return Rotation{}, err
		}
		head = h
		if n < BatchSize {
			break
		}
	}
	signed, err := audit.Sign(audit.Checkpoint{Origin: oldS.Name(), Size: head.Size, Root: head.Root, Time: now}, oldS, newS)
	if err != nil {
		return Rotation{}, err
	}
	if err := st.SaveCheckpoint(ctx, sqlstore.StoredCheckpoint{Size: head.Size, Root: head.Root, Note: string(signed), Time: now}); err != nil {
		return Rotation{}, err
	}
	stored, err := st.Checkpoint(ctx, head.Size)
	if err != nil {
		return Rotation{}, err
	}
	if !bytes.Equal([]byte(stored.Note), signed) {
		return Rotation{}, fmt.Errorf("a checkpoint of size %d was published meanwhile by another process, signed by the old key: stop the server and run the rotation again", head.Size)
	}
	h, err := history.With(newV, head.Size)
	if err != nil {
		return Rotation{}, err
	}
	return Rotation{Handover: stored, History: h, VerifierKey: newV}, nil
}
