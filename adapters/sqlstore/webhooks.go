package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/sanzhi/sanzhi/adapters/delivery"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/fault"
)

// Webhooks returns the webhook port.
func (s *Store) Webhooks() delivery.Store { return webhookStore{s} }

type webhookStore struct{ s *Store }

func (w webhookStore) Read(ctx context.Context, fn func(delivery.Reader) error) error {
	return w.s.read(ctx, func(tx *Tx) error { return fn(tx) })
}

func (w webhookStore) Write(ctx context.Context, fn func(delivery.Writer) error) error {
	return w.s.write(ctx, func(tx *Tx) error { return fn(tx) })
}

// endpointColumns is every webhook_endpoints column; scanEndpoint reads
// them in this order.
const endpointColumns = `bank, url, secret_key_id, secret_cipher, previous_key_id, previous_cipher, previous_until,
	cursor, attempts, next_attempt_time, last_error, lease_owner, lease_until, created_by, create_time,
	updated_by, update_time`

func scanEndpoint(r interface{ Scan(...any) error }) (*delivery.Endpoint, error) {
	e := &delivery.Endpoint{}
	var prev pii.Sealed
	err := r.Scan(&e.Bank, &e.URL, &e.Secret.KeyID, &e.Secret.Ciphertext, &prev.KeyID, &prev.Ciphertext,
		nullTS{&e.PreviousUntil}, &e.Cursor, &e.Attempts, ts{&e.NextAttemptTime}, &e.LastError, &e.LeaseOwner,
		ts{&e.LeaseUntil}, &e.CreatedBy, ts{&e.CreateTime}, &e.UpdatedBy, ts{&e.UpdateTime})
	if prev.KeyID != "" {
		e.Previous = &prev
	}
	return e, err
}

// previousArgs are the previous secret's key id and ciphertext (NULL when
// there is none).
func previousArgs(e *delivery.Endpoint) (string, any) {
	if e.Previous == nil {
		return "", nil
	}
	return e.Previous.KeyID, e.Previous.Ciphertext
}

// Endpoint implements delivery.Reader.
func (tx *Tx) Endpoint(ctx context.Context, bank string) (*delivery.Endpoint, error) {
	e, err := scanEndpoint(tx.q.QueryRow(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE bank = $1`, bank))
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "WEBHOOK_NOT_FOUND", "%s not found", delivery.EndpointName(bank))
	}
	return e, internal(err, "reading a webhook")
}

// DueEndpoints implements delivery.Reader. The head row says whether the
// bank has events past the cursor without touching the events.
func (tx *Tx) DueEndpoints(ctx context.Context, now time.Time, limit int) ([]string, error) {
	at := tsArg(now)
	rows, err := tx.q.Query(ctx, `SELECT e.bank FROM webhook_endpoints e
		JOIN line_event_heads h ON h.bank = e.bank
		WHERE h.seq > e.cursor AND e.next_attempt_time <= $1 AND e.lease_until < $1
		ORDER BY e.next_attempt_time, e.bank LIMIT $2`, at, limit)
	if err != nil {
		return nil, internal(err, "finding due webhooks")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var bank string
		if err := rows.Scan(&bank); err != nil {
			return nil, internal(err, "finding due webhooks")
		}
		out = append(out, bank)
	}
	return out, internal(rows.Err(), "finding due webhooks")
}

// LineEventHead implements delivery.Reader.
func (tx *Tx) LineEventHead(ctx context.Context, bank string) (int64, error) {
	var seq int64
	err := tx.q.QueryRow(ctx, `SELECT seq FROM line_event_heads WHERE bank = $1`, bank).Scan(&seq)
	if errors.Is(err, ErrNoRows) {
		return 0, nil
	}
	return seq, internal(err, "reading a line event head")
}

const deadLetterColumns = `bank, seq, event_id, event_type, attempts, last_error, dead_time, replay_time, replayed_by`

func scanDeadLetter(r interface{ Scan(...any) error }) (*delivery.DeadLetter, error) {
	d := &delivery.DeadLetter{}
	err := r.Scan(&d.Bank, &d.Seq, &d.EventID, &d.EventType, &d.Attempts, &d.LastError, ts{&d.DeadTime},
		nullTS{&d.ReplayTime}, &d.ReplayedBy)
	return d, err
}

// DeadLetter implements delivery.Reader.
func (tx *Tx) DeadLetter(ctx context.Context, bank string, seq int64) (*delivery.DeadLetter, error) {
	d, err := scanDeadLetter(tx.q.QueryRow(ctx, `SELECT `+deadLetterColumns+` FROM webhook_dead_letters
		WHERE bank = $1 AND seq = $2`, bank, seq))
	if errors.Is(err, ErrNoRows) {
		name := (&delivery.DeadLetter{Bank: bank, Seq: seq}).Name()
		return nil, fault.New(fault.NotFound, "DEAD_LETTER_NOT_FOUND", "%s not found", name)
	}
	return d, internal(err, "reading a dead letter")
}

// DeadLetters implements delivery.Reader.
func (tx *Tx) DeadLetters(ctx context.Context, bank string, before int64, limit int) ([]*delivery.DeadLetter, error) {
	rows, err := tx.q.Query(ctx, `SELECT `+deadLetterColumns+` FROM webhook_dead_letters
		WHERE bank = $1 AND (seq < $2 OR $2 = 0) ORDER BY seq DESC LIMIT $3`, bank, before, limit)
	if err != nil {
		return nil, internal(err, "listing dead letters")
	}
	defer rows.Close()
	var out []*delivery.DeadLetter
	for rows.Next() {
		d, err := scanDeadLetter(rows)
		if err != nil {
			return nil, internal(err, "listing dead letters")
		}
		out = append(out, d)
	}
	return out, internal(rows.Err(), "listing dead letters")
}

// InsertEndpoint implements delivery.Writer.
func (tx *Tx) InsertEndpoint(ctx context.Context, e *delivery.Endpoint) error {
	prevID, prevCipher := previousArgs(e)
	_, err := tx.q.Exec(ctx, `INSERT INTO webhook_endpoints (`+endpointColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		e.Bank, e.URL, e.Secret.KeyID, e.Secret.Ciphertext, prevID, prevCipher, optTSArg(e.PreviousUntil),
		e.Cursor, e.Attempts, tsArg(e.NextAttemptTime), e.LastError, e.LeaseOwner, tsArg(e.LeaseUntil),
		e.CreatedBy, tsArg(e.CreateTime), e.UpdatedBy, tsArg(e.UpdateTime))
	if err != nil {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, "WEBHOOK_EXISTS", "%s already exists", e.Name())
		}
		return internal(err, "inserting a webhook")
	}
	return nil
}

// UpdateEndpoint implements delivery.Writer.
func (tx *Tx) UpdateEndpoint(ctx context.Context, e *delivery.Endpoint) error {
	prevID, prevCipher := previousArgs(e)
	n, err := tx.q.Exec(ctx, `UPDATE webhook_endpoints SET url = $1, secret_key_id = $2, secret_cipher = $3,
		previous_key_id = $4, previous_cipher = $5, previous_until = $6, attempts = $7, next_attempt_time = $8,
		last_error = $9, updated_by = $10, update_time = $11 WHERE bank = $12`,
		e.URL, e.Secret.KeyID, e.Secret.Ciphertext, prevID, prevCipher, optTSArg(e.PreviousUntil),
		e.Attempts, tsArg(e.NextAttemptTime), e.LastError, e.UpdatedBy, tsArg(e.UpdateTime), e.Bank)
	if err != nil {
		return internal(err, "updating a webhook")
	}
	if n == 0 {
		return fault.New(fault.NotFound, "WEBHOOK_NOT_FOUND", "%s not found", e.Name())
	}
	return nil
}

// ClaimEndpoint implements delivery.Writer. The condition is in the UPDATE
// itself, so of two instances claiming at once only one changes the row
// (on PostgreSQL the other's transaction fails serialisation and, retried,
// finds the lease taken).
func (tx *Tx) ClaimEndpoint(ctx context.Context, bank, owner string, now, until time.Time) (bool, error) {
	n, err := tx.q.Exec(ctx, `UPDATE webhook_endpoints SET lease_owner = $1, lease_until = $2
		WHERE bank = $3 AND lease_until < $4 AND next_attempt_time <= $4`,
		owner, tsArg(until), bank, tsArg(now))
	if err != nil {
		return false, internal(err, "claiming a webhook")
	}
	return n == 1, nil
}

// UpdateDelivery implements delivery.Writer.
func (tx *Tx) UpdateDelivery(ctx context.Context, e *delivery.Endpoint, owner string, prevCursor int64) (bool, error) {
	n, err := tx.q.Exec(ctx, `UPDATE webhook_endpoints SET cursor = $1, attempts = $2, next_attempt_time = $3,
		last_error = $4, lease_owner = $5, lease_until = $6
		WHERE bank = $7 AND lease_owner = $8 AND cursor = $9`,
		e.Cursor, e.Attempts, tsArg(e.NextAttemptTime), e.LastError, e.LeaseOwner, tsArg(e.LeaseUntil),
		e.Bank, owner, prevCursor)
	if err != nil {
		return false, internal(err, "recording a webhook delivery")
	}
	return n == 1, nil
}

// InsertDeadLetter implements delivery.Writer.
func (tx *Tx) InsertDeadLetter(ctx context.Context, d *delivery.DeadLetter) error {
	_, err := tx.q.Exec(ctx, `INSERT INTO webhook_dead_letters (`+deadLetterColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		d.Bank, d.Seq, d.EventID, d.EventType, d.Attempts, d.LastError, tsArg(d.DeadTime),
		optTSArg(d.ReplayTime), d.ReplayedBy)
	if err != nil {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, "DEAD_LETTER_EXISTS", "%s already exists", d.Name())
		}
		return internal(err, "inserting a dead letter")
	}
	return nil
}

// MarkReplayed implements delivery.Writer.
func (tx *Tx) MarkReplayed(ctx context.Context, bank string, seq int64, at time.Time, by string) error {
	n, err := tx.q.Exec(ctx, `UPDATE webhook_dead_letters SET replay_time = $1, replayed_by = $2
		WHERE bank = $3 AND seq = $4`, tsArg(at), by, bank, seq)
	if err != nil {
		return internal(err, "recording a replay")
	}
	if n == 0 {
		return fault.New(fault.NotFound, "DEAD_LETTER_NOT_FOUND", "%s not found",
			(&delivery.DeadLetter{Bank: bank, Seq: seq}).Name())
	}
	return nil
}
