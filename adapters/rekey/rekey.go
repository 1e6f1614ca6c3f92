// Package rekey rotates data keys through the stored data: it re-encrypts
// every sealed value (Fields) that is not under the keyring's current key,
// online, in batches, and says which keys nothing uses any more so they
// can be retired from the key file (sanzhi rekey, docs/OPERATIONS.md).
//
// Progress is the data itself: a value still to do is one whose key id is
// not the current one. A run keeps no state of its own, so an interrupted
// run loses at most the batch in flight, and running again continues.
//
// The service keeps writing meanwhile. Each batch is read, opened and
// sealed again outside any transaction, then written in one transaction
// with every row's update conditional on the row still holding the
// ciphertext that was read. A row changed in between is skipped, never
// overwritten, and is found again by the next pass if it is still under
// an old key.
package rekey

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/audit"
)

// Store is what rekey needs of the database; adapters/sqlstore implements
// it for SQLite and PostgreSQL.
type Store interface {
	KeyLister
	// SealedCounts counts the sealed values of every field by key id.
	SealedCounts(ctx context.Context) ([]Count, error)
	// SealedBatch returns up to limit values of field f sealed under
	// keyID whose Ref sorts after after, in Ref order.
	SealedBatch(ctx context.Context, f Field, keyID string, after Ref, limit int) ([]Value, error)
	// Reseal applies the changes to field f in one transaction, each only
	// where the row still holds its Old value, and returns how many it
	// applied.
	Reseal(ctx context.Context, f Field, changes []Change) (int, error)
	// RecordRead appends an audit record on its own; it is durable when
	// RecordRead returns.
	RecordRead(ctx context.Context, rec audit.Record) error
}

// KeyLister lists the key ids that sealed values use: what a keyring must
// hold for the service to read everything.
type KeyLister interface {
	// SealedKeyIDs returns the distinct key ids of all sealed values,
	// sorted. It reads indexes, not rows, so the service can call it at
	// every start.
	SealedKeyIDs(ctx context.Context) ([]string, error)
}

// Count is how many values of a field are sealed under one key id.
type Count struct {
	Field  Field
	KeyID  string
	Values int64
}

// Audit actions of a run: one record when it starts, one when it ends.
const (
	ActionStart  = "data_key.rekey_start"
	ActionFinish = "data_key.rekey_finish"
)

// Batch sizes: each batch is one write transaction.
const (
	DefaultBatchSize = 500
	MaxBatchSize     = 10000
)

// maxPasses bounds the passes of one run. A second pass finds what the
// service wrote under an old key while the first ran (a member list
// copied forward from a version not yet re-encrypted, a service not yet
// restarted with the new key) and rows skipped because they changed; a
// third mops up after that. Whatever is left then is reported, and the
// command can be run again.
const maxPasses = 3

// MissingKeysError says that sealed values use key ids the keyring lacks:
// those values cannot be opened, so neither the service nor rekey may
// go on as if the key file were complete.
type MissingKeysError struct {
	Missing []string // sorted
}

func (e *MissingKeysError) Error() string {
	if len(e.Missing) == 0 {
		return "the data key file lacks a key that sealed values in the database still use (`sanzhi rekey --status` lists the keys in use)"
	}
	ids := make([]string, len(e.Missing))
	for i, id := range e.Missing {
		ids[i] = strconv.Quote(id)
	}
	what := "key id " + ids[0]
	if len(ids) > 1 {
		what = "key ids " + strings.Join(ids, ", ")
	}
	return fmt.Sprintf("the data key file lacks %s, which sealed values in the database still use: "+
		"put the line back in the key file (`sanzhi rekey --status` lists the keys in use)", what)
}

// CheckKeys fails with a *MissingKeysError when values in the database are
// sealed under a key kr lacks. The service calls it at start: it would
// otherwise start and then fail every read of such a value.
func CheckKeys(ctx context.Context, st KeyLister, kr *pii.Keyring) error {
	used, err := st.SealedKeyIDs(ctx)
	if err != nil {
		return fmt.Errorf("cannot list the data keys in use: %w", err)
	}
	if missing := missingKeys(used, kr); len(missing) > 0 {
		return &MissingKeysError{Missing: missing}
	}
	return nil
}

func missingKeys(used []string, kr *pii.Keyring) []string {
	have := kr.KeyIDs()
	var missing []string
	for _, id := range used {
		if !slices.Contains(have, id) {
			missing = append(missing, id)
		}
	}
	slices.Sort(missing)
	return slices.Compact(missing)
}

// Status is where a rotation stands.
type Status struct {
	// Counts is every field's values by key id, in Fields order and key
	// id order.
	Counts []Count
	// Current is the keyring's current key id.
	Current string
	// ByKey is the number of values under each key id in use.
	ByKey map[string]int64
	// Pending counts the values not under the current key: what Run
	// has to do.
	Pending int64
	// Unused lists the keyring's key ids, other than the current one,
	// that no value uses: their lines can be removed from the key file.
	Unused []string
	// Missing lists key ids in use that the keyring lacks.
	Missing []string
}

// ReadStatus counts the sealed values by key and compares them with kr.
func ReadStatus(ctx context.Context, st Store, kr *pii.Keyring) (Status, error) {
	counts, err := st.SealedCounts(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("cannot count the sealed values: %w", err)
	}
	s := Status{Counts: counts, Current: kr.CurrentKeyID(), ByKey: map[string]int64{}}
	for _, c := range counts {
		s.ByKey[c.KeyID] += c.Values
		if c.KeyID != s.Current {
			s.Pending += c.Values
		}
	}
	for _, id := range kr.KeyIDs() {
		if id != s.Current && s.ByKey[id] == 0 {
			s.Unused = append(s.Unused, id)
		}
	}
	s.Missing = missingKeys(slices.Collect(maps.Keys(s.ByKey)), kr)
	return s, nil
}

// Options tune a run.
type Options struct {
	// BatchSize is the number of values re-encrypted per transaction,
	// 1 to MaxBatchSize.
	BatchSize int
	// Actor is the principal id the audit records name; ActorName its
	// name.
	Actor, ActorName string
	// Progress, if set, is called after every batch.
	Progress func(Progress)
	// Now is the clock of the audit records (time.Now when nil).
	Now func() time.Time
}

// Progress is how far a run is. Total grows when a later pass finds
// values written under an old key meanwhile.
type Progress struct {
	Done, Total int64
}

// Result is what a run did.
type Result struct {
	// To is the current key the values were sealed under; From the old
	// key ids they were under.
	To   string
	From []string
	// Resealed counts the values re-encrypted.
	Resealed int64
	// Skipped counts the values that changed between read and write and
	// were left to the next pass.
	Skipped int64
	// Remaining counts the values still not under To when the run
	// ended: zero when it finished.
	Remaining int64
	Passes    int
}

// Run re-encrypts every sealed value not under kr's current key. It checks
// its inputs and the keys in use first and writes nothing when one is
// wrong: a batch size out of range, a keyring with no key to rotate from,
// or values under a key kr lacks (*MissingKeysError). With nothing to do
// it writes nothing and returns a zero Result.
//
// Otherwise it records the start (ActionStart), re-encrypts in batches in
// up to maxPasses passes, and records the end (ActionFinish) with the
// counts and the outcome, also when it fails or ctx is cancelled (then the
// error wraps ctx.Err()). Result.Remaining > 0 with a nil error means the
// service kept writing under an old key: run again.
func Run(ctx context.Context, st Store, kr *pii.Keyring, o Options) (Result, error) {
	if o.BatchSize < 1 || o.BatchSize > MaxBatchSize {
		return Result{}, fmt.Errorf("the batch size must be between 1 and %d, got %d", MaxBatchSize, o.BatchSize)
	}
	if kr == nil || kr.CurrentKeyID() == "" {
		return Result{}, errors.New("no data key is loaded: give the key file with --data-key-file or SANZHI_DATA_KEY")
	}
	if o.Actor == "" {
		return Result{}, errors.New("rekey: no actor for the audit records")
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	s, err := ReadStatus(ctx, st, kr)
	if err != nil {
		return Result{}, err
	}
	if len(s.Missing) > 0 {
		return Result{}, &MissingKeysError{Missing: s.Missing}
	}
	if len(kr.KeyIDs()) < 2 {
		return Result{}, fmt.Errorf("the data key file has one key, %q, and everything is sealed under it: "+
			"append a new key line to rotate to, restart sanzhid with it, then run rekey", s.Current)
	}
	res := Result{To: s.Current, From: oldKeys(s)}
	if s.Pending == 0 {
		return res, nil
	}

	subject := "data-keys/" + s.Current
	start := audit.Record{Time: now(), Actor: o.Actor, Action: ActionStart, Subject: subject,
		Payload: map[string]string{"to": s.Current, "from": strings.Join(res.From, ","),
			"pending": strconv.FormatInt(s.Pending, 10), "batch_size": strconv.Itoa(o.BatchSize),
			"actor_name": o.ActorName}}
	if err := st.RecordRead(ctx, start); err != nil {
		return Result{}, fmt.Errorf("cannot record the start of the run: %w", err)
	}

	runErr := run(ctx, st, kr, o, s, &res)
	outcome := "done"
	switch {
	case runErr != nil && ctx.Err() != nil:
		outcome = "interrupted"
	case runErr != nil:
		outcome = "failed"
	case res.Remaining > 0:
		outcome = "incomplete"
	}
	finish := audit.Record{Time: now(), Actor: o.Actor, Action: ActionFinish, Subject: subject,
		Payload: map[string]string{"to": s.Current, "outcome": outcome,
			"resealed": strconv.FormatInt(res.Resealed, 10), "skipped": strconv.FormatInt(res.Skipped, 10),
			"remaining": strconv.FormatInt(res.Remaining, 10), "passes": strconv.Itoa(res.Passes),
			"actor_name": o.ActorName}}
	// An interrupted run is recorded too: the record must outlive ctx.
	if err := st.RecordRead(context.WithoutCancel(ctx), finish); err != nil {
		return res, errors.Join(runErr, fmt.Errorf("cannot record the end of the run: %w", err))
	}
	return res, runErr
}

// oldKeys are the key ids in use other than the current one.
func oldKeys(s Status) []string {
	var out []string
	for id, n := range s.ByKey {
		if id != s.Current && n > 0 {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// run makes the passes; res accumulates across them.
func run(ctx context.Context, st Store, kr *pii.Keyring, o Options, s Status, res *Result) error {
	var done int64
	for {
		res.Passes++
		total := done + s.Pending
		var passed int64
		for _, c := range s.Counts {
			if c.KeyID == s.Current || c.Values == 0 {
				continue
			}
			n, err := pass(ctx, st, kr, o, c.Field, c.KeyID, res, func(batch int) {
				done += int64(batch)
				if o.Progress != nil {
					o.Progress(Progress{Done: done, Total: max(total, done)})
				}
			})
			passed += n
			if err != nil {
				res.Remaining = total - done
				// Count again for the record, even when ctx has ended.
				if s, cerr := ReadStatus(context.WithoutCancel(ctx), st, kr); cerr == nil {
					res.Remaining = s.Pending
				}
				return err
			}
		}
		var err error
		if s, err = ReadStatus(ctx, st, kr); err != nil {
			return err
		}
		if len(s.Missing) > 0 {
			// Someone sealed under a key this keyring lacks meanwhile: a
			// sanzhid with another key file.
			return &MissingKeysError{Missing: s.Missing}
		}
		res.Remaining = s.Pending
		if s.Pending == 0 || res.Passes == maxPasses || passed == 0 {
			return nil
		}
	}
}

// pass re-encrypts field f's values under keyID in Ref order, a batch at a
// time, and returns how many values it visited.
func pass(ctx context.Context, st Store, kr *pii.Keyring, o Options, f Field, keyID string, res *Result, progress func(int)) (int64, error) {
	var visited int64
	var after Ref
	for {
		if err := ctx.Err(); err != nil {
			return visited, err
		}
		batch, err := st.SealedBatch(ctx, f, keyID, after, o.BatchSize)
		if err != nil {
			return visited, fmt.Errorf("cannot read %s values under key %q: %w", string(f), keyID, err)
		}
		if len(batch) == 0 {
			return visited, nil
		}
		changes := make([]Change, len(batch))
		for i, v := range batch {
			if changes[i], err = reseal(kr, f, v); err != nil {
				return visited, err
			}
		}
		n, err := st.Reseal(ctx, f, changes)
		if err != nil {
			return visited, fmt.Errorf("cannot write re-encrypted %s values: %w", string(f), err)
		}
		res.Resealed += int64(n)
		res.Skipped += int64(len(batch) - n)
		visited += int64(len(batch))
		after = batch[len(batch)-1].Ref
		progress(len(batch))
	}
}

// reseal opens v and seals it again under kr's current key with the same
// context. The plaintext is cleared once sealed.
func reseal(kr *pii.Keyring, f Field, v Value) (Change, error) {
	c, err := f.context(v.Ref)
	if err != nil {
		return Change{}, err
	}
	pt, err := kr.Open(v.Sealed, c)
	if err != nil {
		return Change{}, fmt.Errorf("cannot open %s: %w", f.describe(v.Ref), err)
	}
	sealed, err := kr.Seal(pt, c)
	clear(pt)
	if err != nil {
		return Change{}, fmt.Errorf("cannot seal %s again: %w", f.describe(v.Ref), err)
	}
	return Change{Ref: v.Ref, Old: v.Sealed, New: sealed}, nil
}
