// Package server assembles sanzhid: it opens the store, builds the domain
// services, puts them behind the interceptor chain on a gRPC listener and
// the HTTP/JSON gateway, and runs until its context ends.
package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/sanzhi/sanzhi/adapters/console"
	"github.com/sanzhi/sanzhi/adapters/delivery"
	"github.com/sanzhi/sanzhi/adapters/demo"
	"github.com/sanzhi/sanzhi/adapters/gateway"
	"github.com/sanzhi/sanzhi/adapters/keys"
	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/postgres"
	"github.com/sanzhi/sanzhi/adapters/rekey"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/telemetry"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/lending/credit"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// Config is everything sanzhid can be told. cmd/sanzhid fills it from
// flags and SANZHI_* variables.
type Config struct {
	GRPCAddr    string // e.g. 127.0.0.1:7070
	HTTPAddr    string // e.g. 127.0.0.1:7080; empty disables the gateway
	Database    string // sqlite://PATH or postgres://…
	DataKeyFile string // key file for 身份证号 encryption
	DataKey     string // key file contents (SANZHI_DATA_KEY), instead of a file
	// KeyProvider is where the data keys come from: "file" (the default:
	// DataKey or DataKeyFile) or "command" (KeyCommand, under the key
	// command protocol of adapters/keys, e.g. an HSM unwrapping them).
	KeyProvider       string
	KeyCommand        string        // absolute path of the key command
	KeyCommandArgs    []string      // its arguments
	KeyCommandTimeout time.Duration // 0: keys.DefaultCommandTimeout
	// RequireGM refuses any data key but SM4 and any blind index but
	// HMAC-SM3: a 国密-only deployment.
	RequireGM bool

	TLSCert     string
	TLSKey      string
	TLSClientCA string // CA for client certificates (mTLS); optional
	// AuditKeyFile holds the note signer key that signs checkpoints
	// (`sanzhi audit keygen`).
	AuditKeyFile string
	// CheckpointInterval is how often pending audit records are sequenced
	// and a checkpoint signed.
	CheckpointInterval time.Duration
	Demo               bool // seed the demo county and accept demo keys from loopback
	// NoMigrate leaves the schema to `sanzhi migrate`, run by a role with
	// DDL rights before an upgrade; the service's own role then needs
	// none. The server refuses to start while a migration is pending.
	NoMigrate bool
	Version   string
	// ShutdownGrace bounds how long in-flight RPCs may take to drain.
	ShutdownGrace time.Duration
	// BenchFloors registers FloorService, the baselines load tests divide
	// by (see BENCHMARKS.md). Off in production: it writes to a table of
	// its own on every call.
	BenchFloors bool
	// WebhookPoll is how often the line event outbox is checked for
	// webhook deliveries (default 1 s); WebhookTimeout bounds one delivery
	// (default 10 s).
	WebhookPoll    time.Duration
	WebhookTimeout time.Duration
	// ReassessInterval is how often households whose points or facts
	// changed are re-assessed (default 10 s).
	ReassessInterval time.Duration
	// Limits bound request sizes, timeouts, streams and rates (limits.go).
	Limits Limits
	// InsecureAllowPlaintext serves without TLS on a non-loopback address,
	// which is refused otherwise.
	InsecureAllowPlaintext bool
	// HealthInterval is how often the database is pinged; health turns
	// NOT_SERVING while it does not answer (default 2 s).
	HealthInterval time.Duration
	// AdminAddr is where /metrics, /healthz and /readyz are served
	// (admin.go); empty serves none. Off loopback it needs TLS or
	// InsecureAllowPlaintext, as the other listeners do.
	AdminAddr string
	// Telemetry is what the server records through (cmd/sanzhid's from
	// the OTEL_* variables); nil is telemetry of its own that exports
	// nothing, its metrics still served on AdminAddr.
	Telemetry *telemetry.Telemetry
}

// Addrs are the addresses actually bound (useful with port 0).
type Addrs struct {
	GRPC, HTTP string
	// Console is the web console's address ("" without HTTP).
	Console string
	// Admin is the admin listener's address ("" without one).
	Admin string
	// Demo holds the demo console's logins in demo mode (for the banner
	// on the terminal; they are never logged).
	Demo *demo.Logins
}

// Store is what the server needs of a database.
type Store interface {
	Ping(ctx context.Context) error
	Migrate(ctx context.Context) error
	// Pending counts the migrations not yet applied.
	Pending(ctx context.Context) (int, error)
	// PoolStats reports the connection pools, for /metrics.
	PoolStats() []sqlstore.PoolStats
	Store() *sqlstore.Store
	Close() error
}

// OpenStore opens the database named by url without migrating.
func OpenStore(ctx context.Context, url string) (Store, error) {
	switch {
	case strings.HasPrefix(url, "sqlite://"):
		path, err := sqlite.PathFromURL(url)
		if err != nil {
			return nil, err
		}
		return sqlite.Open(ctx, path)
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return postgres.Open(ctx, url)
	default:
		return nil, fmt.Errorf("database URL must start with sqlite:// or postgres://, got %q", redactURL(url))
	}
}

// redactURL hides a password in a URL for messages.
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	creds, host, ok := strings.Cut(rest, "@")
	if !ok {
		return u
	}
	user, _, _ := strings.Cut(creds, ":")
	return scheme + "://" + user + ":***@" + host
}

// Run serves until ctx is cancelled, then drains in-flight RPCs. It returns
// an error, one clear sentence, when it cannot start. ready, if set, is
// called once the store is migrated and the service SERVING.
func Run(ctx context.Context, cfg Config, log *slog.Logger, ready func(Addrs)) error {
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = 15 * time.Second
	}
	if cfg.CheckpointInterval == 0 {
		cfg.CheckpointInterval = 10 * time.Second
	}
	if cfg.Demo {
		if err := requireLoopback(cfg.GRPCAddr, cfg.HTTPAddr, cfg.AdminAddr); err != nil {
			return err
		}
	}
	serverTLS, err := loadTLS(cfg)
	if err != nil {
		return err
	}
	if serverTLS == nil && !cfg.InsecureAllowPlaintext {
		if err := requireTLSOffLoopback(cfg.GRPCAddr, cfg.HTTPAddr, cfg.AdminAddr); err != nil {
			return err
		}
	}
	lim := cfg.Limits.withDefaults()
	keyring, err := LoadKeyringContext(ctx, cfg)
	if err != nil {
		return err
	}
	auditKey, err := LoadAuditKey(cfg)
	if err != nil {
		return err
	}
	grpcLis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("cannot listen for gRPC on %s: %w", cfg.GRPCAddr, unwrapOp(err))
	}
	defer grpcLis.Close()
	var httpLis net.Listener
	if cfg.HTTPAddr != "" {
		if httpLis, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return fmt.Errorf("cannot listen for HTTP on %s: %w", cfg.HTTPAddr, unwrapOp(err))
		}
		defer httpLis.Close()
	}
	// /healthz answers from here on; /readyz once the service serves.
	obs, err := startOps(cfg, serverTLS, log)
	if err != nil {
		return err
	}
	defer obs.stop()
	db, err := OpenStore(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer db.Close()

	st := db.Store()
	st.SetLogger(log) // tamper warnings from audit reads
	now := time.Now
	// Demo mode delivers to receivers on this machine (the README tour);
	// otherwise private and loopback targets are refused at dial time.
	a, err := app.New(app.Deps{Store: st, Keyring: keyring, AuditKey: auditKey, Now: now, Log: log,
		Webhooks: delivery.Config{Poll: cfg.WebhookPoll, Timeout: cfg.WebhookTimeout, AllowPrivateTargets: cfg.Demo},
		Meter:    obs.tel.Meter})
	if err != nil {
		return err
	}
	alog, hooks, reassessor := a.Audit, a.Webhooks, a.Reassessor
	if err := obs.attach(db, alog); err != nil {
		return err
	}
	defer obs.detach() // before the database closes
	validator, err := rpc.NewValidator()
	if err != nil {
		return fmt.Errorf("cannot build request validator: %w", err)
	}
	authn := rpc.NewAuthenticator(st.Principals(), cfg.Demo).WithRateLimits(lim.Rate, nil)
	// With mTLS on, the HTTP gateway forwards the name of an HTTPS
	// caller's verified client certificate, vouched for by a secret that
	// lives only in this process (gateway/mtls.go).
	var gwOpts []gateway.Option
	if serverTLS != nil && serverTLS.ClientCAs != nil {
		token, err := gatewayToken()
		if err != nil {
			return err
		}
		authn.WithGatewayToken(token)
		gwOpts = append(gwOpts, gateway.WithClientCertForwarding(token))
	}
	chain := rpc.Chain(log, authn, validator)
	opts := append(rpc.ServerOptions(chain), grpc.StatsHandler(obs.tel.GRPCServer()))
	opts = append(opts, lim.grpcOptions()...)
	if serverTLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(serverTLS)))
	}
	gs := grpc.NewServer(opts...)
	// draining closes when shutdown starts: open watch streams end at once
	// rather than hold the shutdown for its grace period.
	draining := make(chan struct{})
	healthSrv := registerServices(gs, a, rpc.Serving{WatchStreams: lim.WatchStreamsPerBank, Draining: draining})
	if cfg.BenchFloors {
		if err := registerFloors(ctx, gs, db, log); err != nil {
			return err
		}
	}

	var wg sync.WaitGroup
	serveErr := make(chan error, 2)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := gs.Serve(grpcLis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			serveErr <- fmt.Errorf("gRPC server: %w", err)
		}
	}()
	stopGRPC := func() {
		healthSrv.Shutdown()
		done := make(chan struct{})
		go func() { gs.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-time.After(cfg.ShutdownGrace):
			gs.Stop()
		}
		wg.Wait()
	}

	// Health says NOT_SERVING until the schema is current.
	if err := schemaReady(ctx, db, cfg.NoMigrate); err != nil {
		stopGRPC()
		return err
	}
	// A key file without a key the data still uses would serve, and fail
	// every read of what that key sealed.
	if err := rekey.CheckKeys(ctx, st, keyring); err != nil {
		stopGRPC()
		return err
	}
	var demoLogins *demo.Logins
	if cfg.Demo {
		res, err := demo.Seed(ctx, a.Households, demo.Gated{DB: st, Gate: a.Simulator.EvaluateGate}, now)
		if err != nil {
			stopGRPC()
			return fmt.Errorf("cannot seed the demo county: %w", err)
		}
		log.Info("demo county ready", "households", res.Households, "created", res.Created,
			"catalogues", res.Catalogues)
		book, err := demo.SeedLending(ctx, a.Households, func(clock func() time.Time) *credit.Service {
			return app.NewLending(st, keyring, a.Catalogues, clock)
		}, app.NewActivePolicies(st.Policies()), res, now)
		if err != nil {
			stopGRPC()
			return fmt.Errorf("cannot seed the demo bank's book: %w", err)
		}
		if book.Lines > 0 {
			log.Info("demo bank book seeded", "lines", book.Lines, "statuses", book.Statuses, "bad", book.Bad,
				"in_arrears", book.InArrears, "knocked_out", book.KnockedOut, "through_member", book.ThroughMember)
		}
		logins, err := demo.SignIns(ctx, a.SignIn, res)
		if err != nil {
			stopGRPC()
			return fmt.Errorf("cannot prepare the demo console logins: %w", err)
		}
		demoLogins = &logins
	}

	// A checkpoint exists from the first moment of service, then one is
	// published every interval (and on demand through the API).
	if _, err := alog.Publish(ctx); err != nil {
		stopGRPC()
		return fmt.Errorf("cannot publish the first audit checkpoint: %w", err)
	}

	var httpSrv *http.Server
	// The gateway's connections to the gRPC listener close when gwCtx
	// ends: after the HTTP server has drained, not when shutdown begins,
	// so requests in flight (and a watch ending with SERVER_SHUTTING_DOWN)
	// get their answer rather than CANCELLED.
	gwCtx, stopGateway := context.WithCancel(context.WithoutCancel(ctx))
	defer stopGateway()
	if httpLis != nil {
		handler, err := gateway.New(gwCtx, grpcLis.Addr().String(), clientCreds(serverTLS),
			append(gwOpts, gateway.WithMaxBodyBytes(lim.MaxRequestBytes),
				gateway.WithDialOptions(grpc.WithStatsHandler(obs.tel.GRPCClient())))...)
		if err != nil {
			stopGRPC()
			return fmt.Errorf("cannot start the HTTP gateway: %w", err)
		}
		con, err := console.New(a, console.Options{Secure: serverTLS != nil, Log: log})
		if err != nil {
			stopGRPC()
			return fmt.Errorf("cannot start the console: %w", err)
		}
		// The console (people, HTML) and the gateway (programs, JSON)
		// share the listener; each caps request bodies itself.
		mux := http.NewServeMux()
		mux.Handle(console.Prefix, http.MaxBytesHandler(con, lim.MaxRequestBytes))
		mux.Handle("/", handler)
		httpSrv = &http.Server{Handler: obs.tel.HTTP(mux), TLSConfig: serverTLS,
			ReadHeaderTimeout: lim.HTTPReadHeaderTimeout, ReadTimeout: lim.HTTPReadTimeout,
			WriteTimeout: lim.HTTPWriteTimeout, IdleTimeout: lim.HTTPIdleTimeout,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if serverTLS != nil {
				err = httpSrv.ServeTLS(httpLis, "", "")
			} else {
				err = httpSrv.Serve(httpLis)
			}
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				serveErr <- fmt.Errorf("HTTP server: %w", err)
			}
		}()
	}

	publishCtx, stopPublishing := context.WithCancel(context.Background())
	publishDone := make(chan struct{})
	go func() { defer close(publishDone); alog.Run(publishCtx, cfg.CheckpointInterval, log) }()
	// Webhook delivery stops with the service; an event in flight is resent
	// by the next start (delivery is at least once).
	hooksCtx, stopHooks := context.WithCancel(context.Background())
	hooksDone := make(chan struct{})
	go func() { defer close(hooksDone); hooks.Run(hooksCtx) }()
	// Re-assessment of households whose points or facts changed, and the
	// batch runs banks start, stop with the service and resume at the
	// next start (their progress is stored).
	lendingCtx, stopLending := context.WithCancel(context.Background())
	lendingDone := make(chan struct{})
	go func() { defer close(lendingDone); reassessor.Run(lendingCtx, cfg.ReassessInterval) }()
	setServing(healthSrv, healthpb.HealthCheckResponse_SERVING)
	obs.ready.set(stateServing)
	healthCtx, stopHealth := context.WithCancel(context.Background())
	healthDone := make(chan struct{})
	go func() { defer close(healthDone); watchStore(healthCtx, db, healthSrv, cfg.HealthInterval, log) }()
	addrs := Addrs{GRPC: grpcLis.Addr().String(), Admin: obs.addr()}
	if httpLis != nil {
		addrs.HTTP = httpLis.Addr().String()
	}
	log.Info("sanzhid serving", "grpc", addrs.GRPC, "http", addrs.HTTP, "admin", addrs.Admin, "database", redactURL(cfg.Database),
		"tls", serverTLS != nil, "demo", cfg.Demo)
	if addrs.HTTP != "" {
		scheme := "http"
		if serverTLS != nil {
			scheme = "https"
		}
		addrs.Console = scheme + "://" + addrs.HTTP + console.Prefix
		addrs.Demo = demoLogins
		log.Info("console", "url", addrs.Console)
	}
	if ready != nil {
		ready(addrs)
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down: draining in-flight requests", "grace", cfg.ShutdownGrace.String())
	case runErr = <-serveErr:
		log.Error("server failed", "error", runErr)
	}
	// The store watcher stops first so it cannot turn health back on.
	stopHealth()
	<-healthDone
	setServing(healthSrv, healthpb.HealthCheckResponse_NOT_SERVING)
	obs.ready.set(stateStopping)
	close(draining)
	if httpSrv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
		_ = httpSrv.Shutdown(sctx)
		cancel()
		stopGateway()
	}
	stopGRPC()
	stopHooks()
	stopLending()
	stopPublishing()
	<-publishDone
	<-hooksDone
	<-lendingDone
	// Sequence what the drained requests queued, so nothing waits for the
	// next start to be provable.
	fctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	if _, err := alog.Publish(fctx); err != nil {
		log.Error("final audit checkpoint", "error", err)
	}
	cancel()
	log.Info("stopped")
	return runErr
}

// apiServices are the sanzhi services whose health is reported by name.
var apiServices = []string{
	sanzhiv1.HouseholdService_ServiceDesc.ServiceName,
	sanzhiv1.AuditService_ServiceDesc.ServiceName,
	sanzhiv1.CatalogueService_ServiceDesc.ServiceName,
	sanzhiv1.EvidenceService_ServiceDesc.ServiceName,
	sanzhiv1.PointsService_ServiceDesc.ServiceName,
	sanzhiv1.PolicyService_ServiceDesc.ServiceName,
	sanzhiv1.WebhookService_ServiceDesc.ServiceName,
	sanzhiv1.ConsentService_ServiceDesc.ServiceName,
	sanzhiv1.CreditService_ServiceDesc.ServiceName,
}

// registerServices puts every service on gs (rpc.Register), health
// NOT_SERVING until the caller says otherwise. Tests use it to walk what a
// real server registers.
func registerServices(gs *grpc.Server, a *app.App, o rpc.Serving) *health.Server {
	healthSrv := health.NewServer()
	setServing(healthSrv, healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(gs, healthSrv)
	reflection.Register(gs)
	rpc.Register(gs, a, o)
	return healthSrv
}

func setServing(h *health.Server, s healthpb.HealthCheckResponse_ServingStatus) {
	h.SetServingStatus("", s)
	for _, name := range apiServices {
		h.SetServingStatus(name, s)
	}
}

// unwrapOp turns "listen tcp 127.0.0.1:7070: bind: address already in use"
// into "address already in use".
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		var sys *os.SyscallError
		if errors.As(op.Err, &sys) {
			return sys.Err
		}
		return op.Err
	}
	return err
}

func requireLoopback(addrs ...string) error {
	for _, a := range addrs {
		ok, err := loopbackAddr(a)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("demo mode listens on loopback only, and %s is not a loopback address", a)
		}
	}
	return nil
}

// loopbackAddr reports whether the listen address a (host:port) is on
// loopback only; an empty address is not listened on, so it passes.
func loopbackAddr(a string) (bool, error) {
	if a == "" {
		return true, nil
	}
	host, _, err := net.SplitHostPort(a)
	if err != nil {
		return false, fmt.Errorf("bad listen address %q: %w", a, err)
	}
	ip := net.ParseIP(host)
	return strings.EqualFold(host, "localhost") || (ip != nil && ip.IsLoopback()), nil
}

func loadTLS(cfg Config) (*tls.Config, error) {
	if cfg.TLSCert == "" && cfg.TLSKey == "" {
		if cfg.TLSClientCA != "" {
			return nil, errors.New("--tls-client-ca needs --tls-cert and --tls-key")
		}
		return nil, nil
	}
	if cfg.TLSCert == "" || cfg.TLSKey == "" {
		return nil, errors.New("TLS needs both --tls-cert and --tls-key")
	}
	for _, f := range []string{cfg.TLSCert, cfg.TLSKey} {
		if _, err := os.ReadFile(f); err != nil {
			return nil, fmt.Errorf("cannot read TLS file %s: %w", f, pathErr(err))
		}
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("cannot load TLS certificate %s and key %s: %w", cfg.TLSCert, cfg.TLSKey, err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if cfg.TLSClientCA != "" {
		pem, err := os.ReadFile(cfg.TLSClientCA)
		if err != nil {
			return nil, fmt.Errorf("cannot read client CA file %s: %w", cfg.TLSClientCA, pathErr(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client CA file %s holds no PEM certificate", cfg.TLSClientCA)
		}
		tc.ClientCAs = pool
		// API keys remain valid; a certificate is one more way in.
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return tc, nil
}

// gatewayToken is a fresh secret for one run of the server: the HTTP
// gateway shows it with each client certificate name it forwards.
func gatewayToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("cannot make the gateway's token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// clientCreds is how the gateway dials the gRPC listener in-process.
func clientCreds(serverTLS *tls.Config) credentials.TransportCredentials {
	if serverTLS == nil {
		return insecure.NewCredentials()
	}
	// The gateway dials its own listener on the same host; it trusts the
	// server's own leaf certificate rather than a name in it.
	leaf := serverTLS.Certificates[0]
	pool := x509.NewCertPool()
	if c, err := x509.ParseCertificate(leaf.Certificate[0]); err == nil {
		pool.AddCert(c)
	}
	return credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12,
		InsecureSkipVerify: true, //nolint:gosec // verified below against the server's own certificate
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || string(raw[0]) != string(leaf.Certificate[0]) {
				return errors.New("gateway: gRPC listener presented an unexpected certificate")
			}
			return nil
		}})
}

func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// KeyProvider is the port the data keyring comes through: the key file
// (today's default) or an operator's command (adapters/keys).
type KeyProvider interface {
	Keyring(ctx context.Context) (*pii.Keyring, error)
}

// keyringFunc adapts the file provider's several sources to KeyProvider.
type keyringFunc func(ctx context.Context) (*pii.Keyring, error)

func (f keyringFunc) Keyring(ctx context.Context) (*pii.Keyring, error) { return f(ctx) }

// LoadKeyring is LoadKeyringContext without a caller to stop it; a key
// command is still bounded by its timeout.
func LoadKeyring(cfg Config) (*pii.Keyring, error) {
	return LoadKeyringContext(context.Background(), cfg)
}

// LoadKeyringContext gets the data keyring from cfg's key provider and,
// with RequireGM, refuses one that is not 国密-only.
func LoadKeyringContext(ctx context.Context, cfg Config) (*pii.Keyring, error) {
	p, err := NewKeyProvider(cfg)
	if err != nil {
		return nil, err
	}
	kr, err := p.Keyring(ctx)
	if err != nil {
		return nil, err
	}
	if cfg.RequireGM {
		if err := kr.RequireGM(); err != nil {
			return nil, fmt.Errorf("--require-gm: %w", err)
		}
	}
	return kr, nil
}

// NewKeyProvider chooses the key provider cfg names. It refuses settings
// that belong to the other provider rather than ignore them: an operator
// who set --key-command and forgot --key-provider command would otherwise
// run on a key file they meant to retire.
func NewKeyProvider(cfg Config) (KeyProvider, error) {
	switch cfg.KeyProvider {
	case "", keys.ProviderFile:
		if cfg.KeyCommand != "" || len(cfg.KeyCommandArgs) > 0 {
			return nil, errors.New("--key-command is set but the key provider is file: add --key-provider command, or drop --key-command")
		}
		return keyringFunc(func(context.Context) (*pii.Keyring, error) { return loadKeyFile(cfg) }), nil
	case keys.ProviderCommand:
		if cfg.DataKeyFile != "" || cfg.DataKey != "" {
			return nil, errors.New("--key-provider command takes the data keys from --key-command alone: unset --data-key-file and SANZHI_DATA_KEY")
		}
		return keys.Command{Path: cfg.KeyCommand, Args: cfg.KeyCommandArgs, Timeout: cfg.KeyCommandTimeout}, nil
	default:
		return nil, fmt.Errorf("--key-provider %q is neither %s nor %s", cfg.KeyProvider, keys.ProviderFile, keys.ProviderCommand)
	}
}

// loadKeyFile is the file provider: SANZHI_DATA_KEY, else the key file,
// else (demo mode only) a key generated beside the SQLite database, 国密
// when RequireGM is set.
func loadKeyFile(cfg Config) (*pii.Keyring, error) {
	switch {
	case cfg.DataKey != "":
		kr, err := pii.ParseKeyring(cfg.DataKey)
		if err != nil {
			return nil, fmt.Errorf("SANZHI_DATA_KEY is not a valid key: %w", err)
		}
		return kr, nil
	case cfg.DataKeyFile != "":
		return keys.File{Path: cfg.DataKeyFile}.Keyring(context.Background())
	case cfg.Demo:
		path, err := DemoKeyPath(cfg.Database)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			generate := pii.GenerateKeyFile
			if cfg.RequireGM {
				generate = pii.GenerateGMKeyFile
			}
			if err := generate(path); err != nil {
				return nil, fmt.Errorf("cannot create demo data key %s: %w", path, err)
			}
		}
		return pii.LoadKeyringFile(path)
	default:
		return nil, errors.New("no data key: set --data-key-file or SANZHI_DATA_KEY (see `sanzhi keygen`), or --key-provider command, or use --demo")
	}
}

// LoadAuditKey reads the checkpoint signing key; demo mode generates one
// beside the SQLite database.
func LoadAuditKey(cfg Config) (string, error) {
	path := cfg.AuditKeyFile
	if path == "" {
		if !cfg.Demo {
			return "", errors.New("no audit signing key: set --audit-key-file (make one with `sanzhi audit keygen`), or use --demo")
		}
		dbPath, err := DemoKeyPath(cfg.Database)
		if err != nil {
			return "", err
		}
		path = strings.TrimSuffix(dbPath, ".key") + ".audit-key"
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			if err := GenerateAuditKey(path, "sanzhi.demo/tongxiang"); err != nil {
				return "", fmt.Errorf("cannot create demo audit key %s: %w", path, err)
			}
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cannot read audit key file %s: %w", path, pathErr(err))
	}
	skey := strings.TrimSpace(string(b))
	if _, err := merklelog.VerifierKey(skey); err != nil {
		return "", fmt.Errorf("audit key file %s: %w", path, err)
	}
	return skey, nil
}

// GenerateAuditKey writes a new ed25519 note signer key named origin to
// path (mode 0600), refusing to overwrite, and returns nothing secret.
func GenerateAuditKey(path, origin string) error {
	skey, _, err := audit.GenerateKey(origin)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// DemoKeyPath is where demo mode keeps its generated data key: beside the
// SQLite file, so demo data stays readable across restarts.
func DemoKeyPath(database string) (string, error) {
	path, err := sqlite.PathFromURL(database)
	if err != nil {
		return "", errors.New("demo mode without a data key needs a sqlite:// database to keep its key beside")
	}
	return filepath.Clean(path) + ".key", nil
}

// schemaReady migrates the schema, or with noMigrate checks that nothing
// is pending: a service started on an old schema would fail its first
// writes instead of refusing to start.
func schemaReady(ctx context.Context, db Store, noMigrate bool) error {
	if !noMigrate {
		if err := db.Migrate(ctx); err != nil {
			return fmt.Errorf("cannot migrate the database: %w", err)
		}
		return nil
	}
	n, err := db.Pending(ctx)
	if err != nil {
		return fmt.Errorf("cannot read the schema's migrations: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("the database schema is %d migration(s) behind this sanzhid, and --no-migrate is set: run `sanzhi migrate --database …` as the migrating role first", n)
	}
	return nil
}
