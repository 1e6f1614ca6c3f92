package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/telemetry"
)

// DefaultAdminAddr is where the admin listener (/metrics, /healthz,
// /readyz) listens unless told otherwise: loopback, since it has no
// authentication.
const DefaultAdminAddr = "127.0.0.1:7090"

// Readiness states before and after the service answers.
const (
	stateStarting = "starting"
	stateServing  = "serving"
	stateStopping = "shutting down"
)

// readyPingTimeout bounds /readyz's database ping; migrationsTTL is how
// long one reading of a current schema serves /readyz (it changes only
// when an operator migrates for a newer release, and on SQLite the
// reading takes the single writing connection).
const (
	readyPingTimeout = 2 * time.Second
	migrationsTTL    = 10 * time.Second
)

// readiness answers /readyz: ready while the service is serving, the
// database answers a ping, no migration is pending and the audit
// sequencer has succeeded within maxAge.
type readiness struct {
	maxAge time.Duration
	now    func() time.Time

	mu        sync.Mutex
	state     string
	db        Store
	published func() time.Time
	// pending caches the last migrations reading for migrationsTTL.
	pendingAt  time.Time
	pending    int
	pendingErr error
}

func newReadiness(sequencerMaxAge time.Duration, now func() time.Time) *readiness {
	return &readiness{maxAge: sequencerMaxAge, now: now, state: stateStarting}
}

// attach gives readiness the database and the sequencer's last success
// once they exist.
func (r *readiness) attach(db Store, published func() time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.db, r.published = db, published
}

func (r *readiness) set(state string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state = state
}

// readyCheck is one check of /readyz's answer.
type readyCheck struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// readyReport is /readyz's JSON body.
type readyReport struct {
	Ready   bool         `json:"ready"`
	Failing []string     `json:"failing,omitempty"`
	Checks  []readyCheck `json:"checks"`
}

// check runs every check. The database and migration checks are skipped
// (and fail) before the database is open, and migrations are not asked of
// a database that does not answer.
func (r *readiness) check(ctx context.Context) readyReport {
	r.mu.Lock()
	state, db, published := r.state, r.db, r.published
	r.mu.Unlock()
	var rep readyReport
	add := func(name string, err error) {
		c := readyCheck{Name: name, OK: err == nil}
		if err != nil {
			c.Error = err.Error()
			rep.Failing = append(rep.Failing, name)
		}
		rep.Checks = append(rep.Checks, c)
	}
	if state == stateServing {
		add("serving", nil)
	} else {
		add("serving", errors.New(state))
	}
	if db == nil {
		add("database", errors.New("not open"))
		add("migrations", errors.New("not checked: the database is not open"))
	} else {
		pctx, cancel := context.WithTimeout(ctx, readyPingTimeout)
		err := db.Ping(pctx)
		cancel()
		if err != nil {
			add("database", fmt.Errorf("does not answer a ping: %w", err))
			add("migrations", errors.New("not checked: the database does not answer"))
		} else {
			add("database", nil)
			add("migrations", r.migrations(ctx, db))
		}
	}
	add("sequencer", r.sequencer(published))
	rep.Ready = len(rep.Failing) == 0
	return rep
}

func (r *readiness) migrations(ctx context.Context, db Store) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Only a current schema's reading is kept: a failing check looks
	// again each time, so readiness follows `sanzhi migrate` at once.
	if r.pendingAt.IsZero() || r.now().Sub(r.pendingAt) >= migrationsTTL || r.pendingErr != nil || r.pending > 0 {
		mctx, cancel := context.WithTimeout(ctx, readyPingTimeout)
		r.pending, r.pendingErr = db.Pending(mctx)
		cancel()
		r.pendingAt = r.now()
	}
	switch {
	case r.pendingErr != nil:
		return fmt.Errorf("cannot read the schema's migrations: %w", r.pendingErr)
	case r.pending > 0:
		return fmt.Errorf("%d migration(s) pending: run `sanzhi migrate`", r.pending)
	}
	return nil
}

func (r *readiness) sequencer(published func() time.Time) error {
	if published == nil {
		return errors.New("not started yet")
	}
	last := published()
	if last.IsZero() {
		return errors.New("has not published a checkpoint yet")
	}
	if age := r.now().Sub(last); age > r.maxAge {
		return fmt.Errorf("last succeeded %s ago (more than %s: three checkpoint intervals)", age.Truncate(time.Second), r.maxAge)
	}
	return nil
}

// adminHandler serves /metrics, /healthz (the process is up: 200 while
// Run runs) and /readyz (200 or 503 with readyReport as JSON).
func adminHandler(metrics http.Handler, ready *readiness) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, req *http.Request) {
		rep := ready.check(req.Context())
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !rep.Ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(rep)
	})
	return mux
}

// adminServer is the running admin listener.
type adminServer struct {
	srv  *http.Server
	addr string
	done chan struct{}
}

// startAdmin listens on addr and serves h there (over TLS when serverTLS
// is set, as the other listeners do) until stop. An empty addr serves
// nothing and returns nil.
func startAdmin(addr string, serverTLS *tls.Config, h http.Handler, log *slog.Logger) (*adminServer, error) {
	if addr == "" {
		return nil, nil
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen for the admin endpoints on %s: %w", addr, unwrapOp(err))
	}
	// A clone: ServeTLS writes the HTTP/2 protocols into its config, while
	// the gRPC credentials are still reading the shared one (a data race).
	var adminTLS *tls.Config
	if serverTLS != nil {
		adminTLS = serverTLS.Clone()
	}
	a := &adminServer{addr: lis.Addr().String(), done: make(chan struct{}),
		srv: &http.Server{Handler: h, TLSConfig: adminTLS,
			ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
			IdleTimeout: time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}}
	go func() {
		defer close(a.done)
		var err error
		if serverTLS != nil {
			err = a.srv.ServeTLS(lis, "", "")
		} else {
			err = a.srv.Serve(lis)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin listener failed", "error", err)
		}
	}()
	return a, nil
}

// stop closes the listener and waits for requests in flight (a scrape)
// for a moment; it is safe on nil.
func (a *adminServer) stop() {
	if a == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = a.srv.Shutdown(ctx)
	<-a.done
}

// ops is what the server reports through: its telemetry, readiness, the
// admin listener and the service's gauges.
type ops struct {
	tel   *telemetry.Telemetry
	ready *readiness
	admin *adminServer
	log   *slog.Logger
	// undo runs when the server stops, last registered first; detached
	// undoes attach, before the database closes.
	undo, detached []func()
}

// startOps sets up cfg.Telemetry (or telemetry of the server's own that
// exports nothing) and starts the admin listener, not ready until the
// service serves.
func startOps(cfg Config, serverTLS *tls.Config, log *slog.Logger) (*ops, error) {
	o := &ops{tel: cfg.Telemetry, ready: newReadiness(3*cfg.CheckpointInterval, time.Now), log: log}
	if o.tel == nil {
		tel, err := telemetry.New(telemetry.Options{Version: cfg.Version})
		if err != nil {
			return nil, fmt.Errorf("cannot set up metrics: %w", err)
		}
		o.tel = tel
		o.undo = append(o.undo, func() { _ = tel.Shutdown(context.Background()) })
	}
	adm, err := startAdmin(cfg.AdminAddr, serverTLS, adminHandler(o.tel.Metrics, o.ready), log)
	if err != nil {
		o.stop()
		return nil, err
	}
	o.admin = adm
	o.undo = append(o.undo, adm.stop)
	return o, nil
}

// attach reads readiness and the service's gauges from the open store
// and the audit log; detach undoes it.
func (o *ops) attach(db Store, alog *merklelog.Log) error {
	o.ready.attach(db, alog.LastPublished)
	o.detached = append(o.detached, func() { o.ready.attach(nil, alog.LastPublished) })
	st := db.Store()
	reg, err := instrument(o.tel.Meter, db.PoolStats,
		&reading{read: st.Backlog, ttl: readingTTL, now: time.Now, log: o.log}, alog.LastPublished)
	if err != nil {
		return fmt.Errorf("cannot register the service's metrics: %w", err)
	}
	o.detached = append(o.detached, func() { _ = reg.Unregister() })
	// /readyz as a gauge, so that Prometheus alone can alert on it.
	m := o.tel.Meter.Meter("github.com/sanzhi/sanzhi/adapters/server")
	ready, err := m.Int64ObservableGauge("sanzhi.ready", metric.WithDescription(
		"1 while the /readyz check named by the check label passes, 0 while it fails (serving, database, migrations, sequencer)."))
	if err != nil {
		return fmt.Errorf("cannot register the readiness gauge: %w", err)
	}
	reg, err = m.RegisterCallback(func(ctx context.Context, ob metric.Observer) error {
		for _, c := range o.ready.check(ctx).Checks {
			v := int64(0)
			if c.OK {
				v = 1
			}
			ob.ObserveInt64(ready, v, metric.WithAttributes(attribute.String("check", c.Name)))
		}
		return nil
	}, ready)
	if err != nil {
		return fmt.Errorf("cannot register the readiness gauge: %w", err)
	}
	o.detached = append(o.detached, func() { _ = reg.Unregister() })
	return nil
}

// detach stops reading the store: the gauges are unregistered and
// readiness fails its database check, so that nothing asks a closed
// database.
func (o *ops) detach() {
	for i := len(o.detached) - 1; i >= 0; i-- {
		o.detached[i]()
	}
	o.detached = nil
}

// addr is where the admin listener listens ("" when it does not).
func (o *ops) addr() string {
	if o.admin == nil {
		return ""
	}
	return o.admin.addr
}

// stop undoes what startOps and attach did, in reverse: the gauges, the
// admin listener, the telemetry.
func (o *ops) stop() {
	o.detach()
	for i := len(o.undo) - 1; i >= 0; i-- {
		o.undo[i]()
	}
	o.undo = nil
}
