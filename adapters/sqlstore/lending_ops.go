package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// The lending port's bookkeeping: the banks' transactions, review
// requests, the line event outbox, re-assessment marks and runs.

// --- transactions -----------------------------------------------------

var transactionCols = []string{"bank", "transaction_id", "line_id", "kind", "amount", "declared_use",
	"request_hash", "drawn_after", "recorded_by", "time"}

var transactionColumns = columns("", transactionCols)

// Transaction implements credit.Reader.
func (tx *Tx) Transaction(ctx context.Context, bank, id string) (*credit.Transaction, error) {
	t := &credit.Transaction{}
	err := tx.q.QueryRow(ctx, `SELECT `+transactionColumns+` FROM line_transactions
		WHERE bank = $1 AND transaction_id = $2`, bank, id).
		Scan(&t.Bank, &t.ID, &t.LineID, text[credit.TxKind]{&t.Kind}, money{&t.Amount}, text[lending.Use]{&t.Use},
			&t.RequestHash, money{&t.DrawnAfter}, &t.RecordedBy, ts{&t.Time})
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "TRANSACTION_NOT_FOUND", "transaction %s of bank %s not found", id, bank)
	}
	if err != nil {
		return nil, internal(err, "reading a transaction")
	}
	return t, nil
}

// InsertTransaction implements credit.Writer.
func (tx *Tx) InsertTransaction(ctx context.Context, t *credit.Transaction) error {
	if err := scale("transaction.amount", t.Amount, moneyPlaces); err != nil {
		return err
	}
	if err := scale("transaction.drawn_after", t.DrawnAfter, moneyPlaces); err != nil {
		return err
	}
	return tx.insertOnce(ctx, "inserting a transaction",
		func() error {
			return fault.New(fault.AlreadyExists, "TRANSACTION_EXISTS", "transaction %s of bank %s already exists", t.ID, t.Bank)
		},
		`INSERT INTO line_transactions (`+transactionColumns+`) VALUES (`+placeholders(1, len(transactionCols))+`)`,
		t.Bank, t.ID, t.LineID, string(t.Kind), moneyArg(t.Amount), string(t.Use), t.RequestHash,
		moneyArg(t.DrawnAfter), t.RecordedBy, tsArg(t.Time))
}

// --- review requests --------------------------------------------------

var reviewCols = []string{"id", "decision_id", "bank", "village_code", "household_id", "reason", "state",
	"requested_by", "request_time", "resolved_by", "resolve_time", "resolution", "outcome_decision_id",
	"proposed_limit", "proposed_by", "propose_time", "proposal_justification", "requester"}

var reviewColumns = columns("", reviewCols)

func scanReview(r interface{ Scan(...any) error }) (*credit.Review, error) {
	v := &credit.Review{}
	var requester string
	err := r.Scan(&v.ID, &v.DecisionID, &v.Bank, &v.Village, &v.HouseholdID, &v.Reason,
		text[credit.ReviewState]{&v.State}, &v.RequestedBy, ts{&v.RequestTime}, &v.ResolvedBy,
		nullTS{&v.ResolveTime}, &v.Resolution, &v.OutcomeDecision,
		money{&v.ProposedLimit}, &v.ProposedBy, nullTS{&v.ProposeTime}, &v.ProposalJustification, &requester)
	v.ByBank = requester == requesterBank
	return v, err
}

// Review implements credit.Reader.
func (tx *Tx) Review(ctx context.Context, id string) (*credit.Review, error) {
	v, err := scanReview(tx.q.QueryRow(ctx, `SELECT `+reviewColumns+` FROM review_requests WHERE id = $1`, id))
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "REVIEW_NOT_FOUND", "review request %s not found", id)
	}
	if err != nil {
		return nil, internal(err, "reading a review request")
	}
	return v, nil
}

// Reviews implements credit.Reader.
func (tx *Tx) Reviews(ctx context.Context, q credit.ReviewQuery) ([]*credit.Review, error) {
	if q.Bank == "" && q.HouseholdID == "" {
		// Listing every bank's reviews is never meant: a caller's bug.
		return nil, fault.New(fault.Internal, "REVIEW_QUERY", "a review query needs a bank or a household")
	}
	var args []any
	var where []string
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if q.Bank != "" {
		add("bank = $%d", q.Bank)
	}
	if q.HouseholdID != "" {
		add("household_id = $%d", q.HouseholdID)
	}
	if q.State != "" {
		add("state = $%d", string(q.State))
	}
	if q.Before != "" {
		add("id < $%d", q.Before)
	}
	args = append(args, q.Limit)
	rows, err := tx.q.Query(ctx, `SELECT `+reviewColumns+` FROM review_requests WHERE `+
		strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, internal(err, "listing review requests")
	}
	defer rows.Close()
	var out []*credit.Review
	for rows.Next() {
		v, err := scanReview(rows)
		if err != nil {
			return nil, internal(err, "listing review requests")
		}
		out = append(out, v)
	}
	return out, internal(rows.Err(), "listing review requests")
}

// InsertReview implements credit.Writer.
func (tx *Tx) InsertReview(ctx context.Context, r *credit.Review) error {
	return tx.insertOnce(ctx, "inserting a review request",
		func() error {
			return fault.New(fault.AlreadyExists, "REVIEW_EXISTS", "review request %s already exists", r.ID)
		},
		`INSERT INTO review_requests (`+reviewColumns+`) VALUES (`+placeholders(1, len(reviewCols))+`)`,
		r.ID, r.DecisionID, r.Bank, r.Village, r.HouseholdID, r.Reason, string(r.State), r.RequestedBy,
		tsArg(r.RequestTime), r.ResolvedBy, optTSArg(r.ResolveTime), r.Resolution, r.OutcomeDecision,
		moneyArg(r.ProposedLimit), r.ProposedBy, optTSArg(r.ProposeTime), r.ProposalJustification, requesterOf(r))
}

// The requester column: who opened a review.
const (
	requesterHousehold = "household"
	requesterBank      = "bank"
)

func requesterOf(r *credit.Review) string {
	if r.ByBank {
		return requesterBank
	}
	return requesterHousehold
}

// UpdateReview implements credit.Writer.
func (tx *Tx) UpdateReview(ctx context.Context, r *credit.Review) error {
	if err := scale("review.proposed_limit", r.ProposedLimit, moneyPlaces); err != nil {
		return err
	}
	n, err := tx.q.Exec(ctx, `UPDATE review_requests SET state = $1, resolved_by = $2, resolve_time = $3,
		resolution = $4, outcome_decision_id = $5, proposed_limit = $6, proposed_by = $7, propose_time = $8,
		proposal_justification = $9 WHERE id = $10`,
		string(r.State), r.ResolvedBy, optTSArg(r.ResolveTime), r.Resolution, r.OutcomeDecision,
		moneyArg(r.ProposedLimit), r.ProposedBy, optTSArg(r.ProposeTime), r.ProposalJustification, r.ID)
	if err != nil {
		return internal(err, "updating a review request")
	}
	if n == 0 {
		return fault.New(fault.NotFound, "REVIEW_NOT_FOUND", "review request %s not found", r.ID)
	}
	return nil
}

// --- line events ------------------------------------------------------

// AppendLineEvent implements credit.Writer.
func (tx *Tx) AppendLineEvent(ctx context.Context, ev *credit.LineEvent) error {
	// Bumping the bank's head row locks it to commit: a bank's events
	// commit in seq order, so a consumer at seq n never later sees a
	// smaller seq appear. Banks do not wait for each other.
	var seq int64
	err := tx.q.QueryRow(ctx, `INSERT INTO line_event_heads (bank, seq) VALUES ($1, 1)
		ON CONFLICT (bank) DO UPDATE SET seq = line_event_heads.seq + 1 RETURNING seq`, ev.Bank).Scan(&seq)
	if err != nil {
		return internal(err, "taking a line event seq")
	}
	_, err = tx.q.Exec(ctx, `INSERT INTO line_events (bank, seq, id, type, line_id, village_code, household_id, payload, time)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		ev.Bank, seq, ev.ID, ev.Type, ev.LineID, ev.Village, ev.HouseholdID, string(ev.Payload), tsArg(ev.Time))
	if err != nil {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, "LINE_EVENT_EXISTS", "line event %s already exists", ev.ID)
		}
		return internal(err, "appending a line event")
	}
	ev.Seq = seq
	return nil
}

// LineEvents implements credit.Reader.
func (tx *Tx) LineEvents(ctx context.Context, bank string, after int64, limit int) ([]*credit.LineEvent, error) {
	rows, err := tx.q.Query(ctx, `SELECT bank, seq, id, type, line_id, village_code, household_id, payload, time
		FROM line_events WHERE bank = $1 AND seq > $2 ORDER BY seq LIMIT $3`, bank, after, limit)
	if err != nil {
		return nil, internal(err, "reading line events")
	}
	return scanLineEvents(rows)
}

func scanLineEvents(rows Rows) ([]*credit.LineEvent, error) {
	defer rows.Close()
	var out []*credit.LineEvent
	for rows.Next() {
		ev := &credit.LineEvent{}
		var payload string
		if err := rows.Scan(&ev.Bank, &ev.Seq, &ev.ID, &ev.Type, &ev.LineID, &ev.Village, &ev.HouseholdID,
			&payload, ts{&ev.Time}); err != nil {
			return nil, internal(err, "reading line events")
		}
		if payload != "" {
			ev.Payload = []byte(payload)
		}
		out = append(out, ev)
	}
	return out, internal(rows.Err(), "reading line events")
}

// LineEventsBefore implements credit.Reader.
func (tx *Tx) LineEventsBefore(ctx context.Context, q credit.EventQuery) ([]*credit.LineEvent, error) {
	args := []any{q.Bank}
	where := "bank = $1"
	if q.LineID != "" {
		args = append(args, q.LineID)
		where += fmt.Sprintf(" AND line_id = $%d", len(args))
	}
	if q.Before > 0 {
		args = append(args, q.Before)
		where += fmt.Sprintf(" AND seq < $%d", len(args))
	}
	args = append(args, q.Limit)
	rows, err := tx.q.Query(ctx, `SELECT bank, seq, id, type, line_id, village_code, household_id, payload, time
		FROM line_events WHERE `+where+fmt.Sprintf(` ORDER BY seq DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, internal(err, "reading line events")
	}
	return scanLineEvents(rows)
}

// --- re-assessment marks ----------------------------------------------

// MarkDue implements credit.Writer. The triggers of the lending migration
// mark households the same way when their points or facts change.
func (tx *Tx) MarkDue(ctx context.Context, householdID string, at time.Time) error {
	_, err := tx.q.Exec(ctx, `INSERT INTO reassess_due (household_id, since) VALUES ($1, $2)
		ON CONFLICT (household_id) DO NOTHING`, householdID, tsArg(at))
	return internal(err, "marking a household for re-assessment")
}

// ReviewsDue implements credit.Reader.
func (tx *Tx) ReviewsDue(ctx context.Context, today household.Date, at time.Time, limit int) ([]string, error) {
	const what = "finding lines due for review"
	rows, err := tx.q.Query(ctx, `SELECT DISTINCT l.household_id FROM credit_lines l
		WHERE l.review_on <= $1 AND l.status <> 'closed' AND EXISTS (SELECT 1 FROM consents
			WHERE consents.household_id = l.household_id AND consents.bank = l.bank AND `+liveConsent(2)+`)
		ORDER BY l.household_id LIMIT $3`, string(today), tsArg(at), limit)
	if err != nil {
		return nil, internal(err, what)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, internal(err, what)
		}
		out = append(out, id)
	}
	return out, internal(rows.Err(), what)
}

// ClearDue implements credit.Writer.
func (tx *Tx) ClearDue(ctx context.Context, householdIDs []string) error {
	for start := 0; start < len(householdIDs); start += batchRows {
		chunk := householdIDs[start:min(start+batchRows, len(householdIDs))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if _, err := tx.q.Exec(ctx, `DELETE FROM reassess_due WHERE household_id IN (`+placeholders(1, len(chunk))+`)`,
			args...); err != nil {
			return internal(err, "clearing re-assessment marks")
		}
	}
	return nil
}

// DueHouseholds implements credit.Reader.
func (tx *Tx) DueHouseholds(ctx context.Context, limit int) ([]string, error) {
	rows, err := tx.q.Query(ctx, `SELECT household_id FROM reassess_due ORDER BY since, household_id LIMIT $1`, limit)
	if err != nil {
		return nil, internal(err, "reading re-assessment marks")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, internal(err, "reading re-assessment marks")
		}
		out = append(out, id)
	}
	return out, internal(rows.Err(), "reading re-assessment marks")
}

// --- runs -------------------------------------------------------------

var runCols = []string{"id", "bank", "product", "policy_version", "state", "cursor", "done", "total",
	"started_by", "start_time", "update_time", "error"}

var runColumns = columns("", runCols)

// Run implements credit.Reader.
func (tx *Tx) Run(ctx context.Context, id string) (*credit.Run, error) {
	r := &credit.Run{}
	err := tx.q.QueryRow(ctx, `SELECT `+runColumns+` FROM reassessment_runs WHERE id = $1`, id).
		Scan(&r.ID, &r.Bank, &r.Product, &r.PolicyVersion, text[credit.RunState]{&r.State}, &r.Cursor,
			&r.Done, &r.Total, &r.StartedBy, ts{&r.StartTime}, ts{&r.UpdateTime}, &r.Error)
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "RUN_NOT_FOUND", "re-assessment run %s not found", id)
	}
	if err != nil {
		return nil, internal(err, "reading a re-assessment run")
	}
	return r, nil
}

// Runs implements credit.Reader.
func (tx *Tx) Runs(ctx context.Context, state credit.RunState) ([]*credit.Run, error) {
	rows, err := tx.q.Query(ctx, `SELECT `+runColumns+` FROM reassessment_runs WHERE state = $1 ORDER BY start_time, id`, string(state))
	if err != nil {
		return nil, internal(err, "listing re-assessment runs")
	}
	defer rows.Close()
	var out []*credit.Run
	for rows.Next() {
		r := &credit.Run{}
		if err := rows.Scan(&r.ID, &r.Bank, &r.Product, &r.PolicyVersion, text[credit.RunState]{&r.State}, &r.Cursor,
			&r.Done, &r.Total, &r.StartedBy, ts{&r.StartTime}, ts{&r.UpdateTime}, &r.Error); err != nil {
			return nil, internal(err, "listing re-assessment runs")
		}
		out = append(out, r)
	}
	return out, internal(rows.Err(), "listing re-assessment runs")
}

// InsertRun implements credit.Writer. The partial unique index on running
// runs turns a second running run of the bank product into a conflict.
func (tx *Tx) InsertRun(ctx context.Context, r *credit.Run) error {
	return tx.insertOnce(ctx, "inserting a re-assessment run",
		func() error {
			return fault.New(fault.AlreadyExists, "RUN_EXISTS",
				"run %s exists or a run of %s/%s is already running", r.ID, r.Bank, r.Product)
		},
		`INSERT INTO reassessment_runs (`+runColumns+`) VALUES (`+placeholders(1, len(runCols))+`)`,
		r.ID, r.Bank, r.Product, r.PolicyVersion, string(r.State), r.Cursor, r.Done, r.Total, r.StartedBy,
		tsArg(r.StartTime), tsArg(r.UpdateTime), r.Error)
}

// UpdateRun implements credit.Writer.
func (tx *Tx) UpdateRun(ctx context.Context, r *credit.Run) error {
	n, err := tx.q.Exec(ctx, `UPDATE reassessment_runs SET state = $1, cursor = $2, done = $3, total = $4,
		update_time = $5, error = $6 WHERE id = $7`,
		string(r.State), r.Cursor, r.Done, r.Total, tsArg(r.UpdateTime), r.Error, r.ID)
	if err != nil {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, "RUN_EXISTS", "a run of %s/%s is already running", r.Bank, r.Product)
		}
		return internal(err, "updating a re-assessment run")
	}
	if n == 0 {
		return fault.New(fault.NotFound, "RUN_NOT_FOUND", "re-assessment run %s not found", r.ID)
	}
	return nil
}

// ClaimDue implements credit.Writer. Where the engine takes row locks
// (PostgreSQL) the mark is claimed FOR UPDATE SKIP LOCKED: a second
// re-assessor skips a household the first holds instead of waiting for it
// and assessing it again. SQLite has one writer: its transactions never
// interleave, so a plain read claims.
func (tx *Tx) ClaimDue(ctx context.Context, householdID string) (bool, error) {
	lock := ""
	if tx.d.ForUpdate != "" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var id string
	err := tx.q.QueryRow(ctx, `SELECT household_id FROM reassess_due WHERE household_id = $1`+lock, householdID).Scan(&id)
	if errors.Is(err, ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, internal(err, "claiming a re-assessment mark")
	}
	return true, nil
}
