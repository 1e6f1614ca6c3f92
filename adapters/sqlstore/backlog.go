package sqlstore

import (
	"context"
	"errors"
	"sort"
	"time"
)

// Backlog is the work waiting in the store, read for the service's
// gauges (adapters/server). Each figure is one small statement over a
// table that stays short in normal running, or a primary-key probe.
type Backlog struct {
	// AuditQueued counts audit records written but not yet sequenced
	// into the log; AuditOldest is the time of the oldest of them (nil
	// when none waits).
	AuditQueued int64
	AuditOldest *time.Time
	// LastCheckpoint is the time of the latest signed checkpoint (nil
	// before the first). One is signed only when the log grew.
	LastCheckpoint *time.Time
	// ReassessDue counts households marked for re-assessment (their
	// points or facts changed); ReassessOldest is the oldest mark.
	ReassessDue    int64
	ReassessOldest *time.Time
	// ReassessRunLeft counts households still to do in the batch
	// re-assessments banks started and that are still running.
	ReassessRunLeft int64
	// Webhooks is each bank with an endpoint or a dead letter, by bank.
	Webhooks []WebhookBacklog
}

// WebhookBacklog is one bank's webhook delivery state.
type WebhookBacklog struct {
	Bank string
	// Pending counts the bank's line events after its endpoint's cursor:
	// not yet delivered or given up on.
	Pending int64
	// DeadLetters counts every event given up on (they are kept, so this
	// only grows); Unreplayed those never replayed successfully.
	DeadLetters, Unreplayed int64
}

// Backlog reads the waiting work in one read transaction.
func (s *Store) Backlog(ctx context.Context) (Backlog, error) {
	var b Backlog
	err := s.read(ctx, func(tx *Tx) error {
		b = Backlog{}
		if err := tx.q.QueryRow(ctx, `SELECT COUNT(*), MIN(time) FROM audit_queue`).
			Scan(&b.AuditQueued, nullTS{&b.AuditOldest}); err != nil {
			return internal(err, "reading the audit queue's backlog")
		}
		// The latest checkpoint by its primary key, not a scan.
		err := tx.q.QueryRow(ctx, `SELECT time FROM audit_checkpoints ORDER BY size DESC LIMIT 1`).Scan(nullTS{&b.LastCheckpoint})
		if err != nil && !errors.Is(err, ErrNoRows) {
			return internal(err, "reading the latest checkpoint's time")
		}
		if err := tx.q.QueryRow(ctx, `SELECT COUNT(*), MIN(since) FROM reassess_due`).
			Scan(&b.ReassessDue, nullTS{&b.ReassessOldest}); err != nil {
			return internal(err, "reading the re-assessment backlog")
		}
		if err := tx.q.QueryRow(ctx, `SELECT CAST(COALESCE(SUM(total - done), 0) AS BIGINT) FROM reassessment_runs WHERE state = 'running'`).
			Scan(&b.ReassessRunLeft); err != nil {
			return internal(err, "reading the running re-assessments")
		}
		b.Webhooks, err = tx.webhookBacklog(ctx)
		return err
	})
	return b, err
}

func (tx *Tx) webhookBacklog(ctx context.Context) ([]WebhookBacklog, error) {
	byBank := map[string]*WebhookBacklog{}
	at := func(bank string) *WebhookBacklog {
		w, ok := byBank[bank]
		if !ok {
			w = &WebhookBacklog{Bank: bank}
			byBank[bank] = w
		}
		return w
	}
	// A bank's events have dense seqs from 1, so the head's seq less the
	// cursor is the count after it, read without touching the events.
	rows, err := tx.q.Query(ctx, `SELECT e.bank, COALESCE(h.seq, 0) - e.cursor FROM webhook_endpoints e
		LEFT JOIN line_event_heads h ON h.bank = e.bank`)
	if err != nil {
		return nil, internal(err, "reading the webhook backlog")
	}
	for rows.Next() {
		var bank string
		var n int64
		if err := rows.Scan(&bank, &n); err != nil {
			rows.Close()
			return nil, internal(err, "reading the webhook backlog")
		}
		at(bank).Pending = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, internal(err, "reading the webhook backlog")
	}
	rows, err = tx.q.Query(ctx, `SELECT bank, COUNT(*), COUNT(*) - COUNT(replay_time) FROM webhook_dead_letters GROUP BY bank`)
	if err != nil {
		return nil, internal(err, "counting webhook dead letters")
	}
	defer rows.Close()
	for rows.Next() {
		var bank string
		var all, unreplayed int64
		if err := rows.Scan(&bank, &all, &unreplayed); err != nil {
			return nil, internal(err, "counting webhook dead letters")
		}
		w := at(bank)
		w.DeadLetters, w.Unreplayed = all, unreplayed
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, "counting webhook dead letters")
	}
	out := make([]WebhookBacklog, 0, len(byBank))
	for _, w := range byBank {
		out = append(out, *w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Bank < out[j].Bank })
	return out, nil
}

// PoolStats is one connection pool's state, for the service's gauges.
// Counters that an engine does not keep are -1.
type PoolStats struct {
	// Pool names the pool: "postgres", or SQLite's "read" and "write".
	Pool string
	// Acquired connections are in use, Idle ones wait in the pool; Total
	// is both, Max the pool's bound.
	Acquired, Idle, Total, Max int64
	// Acquires counts connections taken from the pool since it opened,
	// AcquireTime the time spent taking them; -1 where the engine does
	// not count them (database/sql, SQLite's pools).
	Acquires    int64
	AcquireTime time.Duration
	// Waits counts acquisitions that found no idle connection and had to
	// wait for one to be made or returned; WaitTime is how long they
	// waited in all.
	Waits    int64
	WaitTime time.Duration
}
