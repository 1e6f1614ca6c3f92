package server

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
)

// readingTTL is how long one reading of the store's backlog serves
// scrapes: a scrape every second costs five small statements every 5 s.
const readingTTL = 5 * time.Second

// readingTimeout bounds one reading, so a slow database delays a scrape
// by at most this (the store's gauges are then left out of it).
const readingTimeout = 2 * time.Second

// reading caches the store's backlog for ttl.
type reading struct {
	read func(context.Context) (sqlstore.Backlog, error)
	ttl  time.Duration
	now  func() time.Time
	log  *slog.Logger

	mu  sync.Mutex
	at  time.Time // when b and err were read
	b   sqlstore.Backlog
	err error
}

// get returns the backlog and when it was read: the cached reading while
// younger than ttl, else a new one. A failure is cached too (a database
// that is down is not asked at every scrape) and logged when it starts
// and when it ends, not at every reading.
func (r *reading) get(ctx context.Context) (sqlstore.Backlog, time.Time, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.at.IsZero() && r.now().Sub(r.at) < r.ttl {
		return r.b, r.at, r.err
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readingTimeout)
	b, err := r.read(rctx)
	cancel()
	switch {
	case err != nil && r.err == nil:
		r.log.Warn("metrics: cannot read the store's backlog; its gauges are left out until it answers", "error", err)
	case err == nil && r.err != nil:
		r.log.Info("metrics: the store's backlog is readable again")
	}
	r.b, r.err, r.at = b, err, r.now()
	return b, r.at, err
}

// gauges are the service's own instruments, observed at each collection.
type gauges struct {
	connAcquired, connIdle, connTotal, connMax metric.Int64ObservableGauge
	acquires, waits                            metric.Int64ObservableCounter
	acquireTime, waitTime                      metric.Float64ObservableCounter

	auditQueued                             metric.Int64ObservableGauge
	auditLag, checkpointAge, lastPublished  metric.Float64ObservableGauge
	webhookPending, deadLetters, unreplayed metric.Int64ObservableGauge
	reassessDue, reassessRunLeft            metric.Int64ObservableGauge
	reassessAge                             metric.Float64ObservableGauge
}

// instrument registers the service's gauges on mp: the database pools
// (pools), the waiting work read from the store through r, and when the
// audit sequencer last succeeded here (published). The registration is
// undone when the server stops.
func instrument(mp metric.MeterProvider, pools func() []sqlstore.PoolStats, r *reading, published func() time.Time) (metric.Registration, error) {
	m := mp.Meter("github.com/sanzhi/sanzhi/adapters/server")
	var g gauges
	var errs []error
	i64 := func(name, unit, desc string) metric.Int64ObservableGauge {
		x, err := m.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return x
	}
	f64 := func(name, unit, desc string) metric.Float64ObservableGauge {
		x, err := m.Float64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return x
	}
	g.connAcquired = i64("sanzhi.db.connections.acquired", "{connection}", "Connections in use, by pool.")
	g.connIdle = i64("sanzhi.db.connections.idle", "{connection}", "Idle connections in the pool, by pool.")
	g.connTotal = i64("sanzhi.db.connections.total", "{connection}", "Open connections (in use and idle), by pool.")
	g.connMax = i64("sanzhi.db.connections.max", "{connection}", "The pool's bound on open connections, by pool.")
	var err error
	g.acquires, err = m.Int64ObservableCounter("sanzhi.db.acquires", metric.WithUnit("{acquire}"),
		metric.WithDescription("Connections taken from the pool (PostgreSQL only: database/sql does not count them)."))
	errs = append(errs, err)
	g.acquireTime, err = m.Float64ObservableCounter("sanzhi.db.acquire.duration", metric.WithUnit("s"),
		metric.WithDescription("Total time spent taking connections from the pool (PostgreSQL only)."))
	errs = append(errs, err)
	g.waits, err = m.Int64ObservableCounter("sanzhi.db.acquire.waits", metric.WithUnit("{acquire}"),
		metric.WithDescription("Acquisitions that found no idle connection and waited for one: the pool's saturation."))
	errs = append(errs, err)
	g.waitTime, err = m.Float64ObservableCounter("sanzhi.db.acquire.wait.duration", metric.WithUnit("s"),
		metric.WithDescription("Total time acquisitions waited for a connection."))
	errs = append(errs, err)
	g.auditQueued = i64("sanzhi.audit.queue.records", "{record}", "Audit records written but not yet sequenced into the log.")
	g.auditLag = f64("sanzhi.audit.sequencing.lag", "s", "Age of the oldest audit record not yet sequenced; 0 when none waits.")
	g.checkpointAge = f64("sanzhi.audit.checkpoint.age", "s", "Time since the latest signed checkpoint. One is signed only when the log grew, so an idle log's checkpoint ages.")
	g.lastPublished = f64("sanzhi.audit.sequencer.last_success.timestamp", "s", "When this instance's sequencer last succeeded (Unix time), whether or not it had records to sequence.")
	g.webhookPending = i64("sanzhi.webhook.backlog.events", "{event}", "Line events of the bank not yet delivered to its webhook or given up on.")
	g.deadLetters = i64("sanzhi.webhook.dead_letters", "{event}", "Events given up on for the bank's webhook, ever (they are kept: this only grows).")
	g.unreplayed = i64("sanzhi.webhook.dead_letters.unreplayed", "{event}", "The bank's dead letters never replayed successfully.")
	g.reassessDue = i64("sanzhi.reassess.due.households", "{household}", "Households waiting for re-assessment because their points or facts changed.")
	g.reassessAge = f64("sanzhi.reassess.due.age", "s", "How long the longest-waiting household has waited for re-assessment; 0 when none waits.")
	g.reassessRunLeft = i64("sanzhi.reassess.runs.remaining.households", "{household}", "Households still to do in the batch re-assessments banks started.")
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		for _, p := range pools() {
			pool := metric.WithAttributes(attribute.String("pool", p.Pool))
			o.ObserveInt64(g.connAcquired, p.Acquired, pool)
			o.ObserveInt64(g.connIdle, p.Idle, pool)
			o.ObserveInt64(g.connTotal, p.Total, pool)
			o.ObserveInt64(g.connMax, p.Max, pool)
			if p.Acquires >= 0 {
				o.ObserveInt64(g.acquires, p.Acquires, pool)
				o.ObserveFloat64(g.acquireTime, p.AcquireTime.Seconds(), pool)
			}
			o.ObserveInt64(g.waits, p.Waits, pool)
			o.ObserveFloat64(g.waitTime, p.WaitTime.Seconds(), pool)
		}
		if t := published(); !t.IsZero() {
			o.ObserveFloat64(g.lastPublished, float64(t.UnixNano())/1e9)
		}
		b, at, err := r.get(ctx)
		if err != nil {
			return nil // logged by the reading; the store's gauges sit this one out
		}
		age := func(t *time.Time) float64 {
			if t == nil {
				return 0
			}
			return max(0, at.Sub(*t).Seconds())
		}
		o.ObserveInt64(g.auditQueued, b.AuditQueued)
		o.ObserveFloat64(g.auditLag, age(b.AuditOldest))
		if b.LastCheckpoint != nil {
			o.ObserveFloat64(g.checkpointAge, age(b.LastCheckpoint))
		}
		o.ObserveInt64(g.reassessDue, b.ReassessDue)
		o.ObserveFloat64(g.reassessAge, age(b.ReassessOldest))
		o.ObserveInt64(g.reassessRunLeft, b.ReassessRunLeft)
		for _, w := range b.Webhooks {
			bank := metric.WithAttributes(attribute.String("bank", w.Bank))
			o.ObserveInt64(g.webhookPending, w.Pending, bank)
			o.ObserveInt64(g.deadLetters, w.DeadLetters, bank)
			o.ObserveInt64(g.unreplayed, w.Unreplayed, bank)
		}
		return nil
	}, g.connAcquired, g.connIdle, g.connTotal, g.connMax, g.acquires, g.acquireTime, g.waits, g.waitTime,
		g.auditQueued, g.auditLag, g.checkpointAge, g.lastPublished, g.webhookPending, g.deadLetters, g.unreplayed,
		g.reassessDue, g.reassessAge, g.reassessRunLeft)
}
