package sqlstore

import (
	"context"
	"sync"

	"github.com/sanzhi/sanzhi/audit"
)

// recorder appends the audit records of reads, which have no transaction
// of their own to ride in, by group commit: a record is durable when
// Append returns, but one commit carries every record that arrived while
// the previous one was being written. Under load that turns a durable
// write per read into a share of one multi-row INSERT; alone, a record
// is written at once (no waiting for company).
type recorder struct {
	s        *Store
	mu       sync.Mutex
	pending  []pendingRecord
	flushing bool
}

type pendingRecord struct {
	rec  audit.Record
	done chan error
}

// maxGroup bounds one group, as queueRecords bounds a multi-row INSERT
// (7 parameters a record).
const maxGroup = 500

// Append queues rec and waits until it is committed, or ctx ends (the
// record may then still be written: an abandoned read is still a read).
func (r *recorder) Append(ctx context.Context, rec audit.Record) error {
	if err := checkRecord(rec); err != nil {
		return err
	}
	done := make(chan error, 1)
	r.mu.Lock()
	r.pending = append(r.pending, pendingRecord{rec: rec, done: done})
	if !r.flushing {
		r.flushing = true
		// The flush outlives any one caller's context: it writes for all.
		go r.flush()
	}
	r.mu.Unlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush writes what is pending, group by group, until nothing is.
func (r *recorder) flush() {
	for {
		r.mu.Lock()
		n := min(len(r.pending), maxGroup)
		if n == 0 {
			r.flushing = false
			r.mu.Unlock()
			return
		}
		group := r.pending[:n:n]
		r.pending = r.pending[n:]
		r.mu.Unlock()
		recs := make([]audit.Record, len(group))
		for i, p := range group {
			recs[i] = p.rec
		}
		err := r.s.conn.WriteOne(context.Background(), func(q Querier) error {
			return (&Tx{q: q, d: &r.s.dialect}).queueRecords(context.Background(), recs)
		})
		for _, p := range group {
			p.done <- err
		}
	}
}
