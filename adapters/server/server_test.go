package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/access/signin"
	"github.com/sanzhi/sanzhi/adapters/demo"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/sqlite/sqlitetest"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/idnum"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type running struct {
	addrs Addrs
	logs  *syncBuffer
	stop  func() error
	cfg   Config
}

// start runs a real server on loopback TCP ports chosen by the kernel.
func start(t testing.TB, cfg Config) *running {
	t.Helper()
	return startWith(t, cfg, nil)
}

// startWith is start with the logger newLog makes on the log buffer (a
// plain JSON logger when newLog is nil).
func startWith(t testing.TB, cfg Config, newLog func(io.Writer) *slog.Logger) *running {
	t.Helper()
	if cfg.GRPCAddr == "" {
		cfg.GRPCAddr = "127.0.0.1:0"
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = "127.0.0.1:0"
	}
	if cfg.DataKeyFile == "" && !cfg.Demo && cfg.KeyProvider == "" {
		cfg.DataKeyFile = filepath.Join(t.TempDir(), "data.key")
		require.NoError(t, pii.GenerateKeyFile(cfg.DataKeyFile))
	}
	if cfg.AuditKeyFile == "" && !cfg.Demo {
		cfg.AuditKeyFile = auditKeyFile(t)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	if newLog != nil {
		log = newLog(logs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan Addrs, 1)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, log, func(a Addrs) { ready <- a }) }()
	r := &running{logs: logs, cfg: cfg}
	select {
	case r.addrs = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	case <-time.After(5 * time.Minute):
		// Demo mode seeds half a year of evidence before serving: about
		// 6 s, but ten times that under the race detector.
		cancel()
		t.Fatal("server did not become ready")
	}
	var once sync.Once
	var stopErr error
	r.stop = func() error {
		once.Do(func() { cancel(); stopErr = <-done })
		return stopErr
	}
	t.Cleanup(func() { _ = r.stop() })
	return r
}

func auditKeyFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.key")
	require.NoError(t, GenerateAuditKey(path, "sanzhi.test/audit"))
	return path
}

func sqliteURL(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "s.db") }

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

func addPrincipal(t testing.TB, database, name string, role access.Role, scope access.Scope) string {
	t.Helper()
	ctx := context.Background()
	db, err := OpenStore(ctx, database)
	require.NoError(t, err)
	defer db.Close()
	key, err := access.NewKey()
	require.NoError(t, err)
	require.NoError(t, db.Store().Principals().CreatePrincipal(ctx, &access.Principal{
		ID: uuid.NewString(), Name: name, Role: role, Scope: scope, CreateTime: time.Now()}, access.HashKey(key)))
	return key
}

func validID(t *testing.T) string {
	first17 := "33048319750612" + fmt.Sprintf("%03d", time.Now().UnixNano()%1000)
	c, err := idnum.CheckDigit(first17)
	require.NoError(t, err)
	return first17 + string(c)
}

// TestServeTCP runs the whole service over real TCP on both stores:
// health and reflection without credentials, a household created over
// gRPC and read back over HTTP, OpenAPI, logs free of the raw 身份证号,
// and a clean shutdown.
func TestServeTCP(t *testing.T) {
	t.Parallel()
	for _, backend := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{storetest.SQLite, sqliteURL},
		{storetest.Postgres, func(t *testing.T) string { return pgtest.NewURL(t) }},
	} {
		storetest.Run(t, backend.name, func(t *testing.T) {
			db := backend.url(t)
			srv := start(t, Config{Database: db})
			key := addPrincipal(t, db, "clerk", access.VillageClerk, access.Scope{Villages: []string{"330483102201"}})
			conn := dial(t, srv.addrs.GRPC)

			hc, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
			require.NoError(t, err, "health needs no credentials")
			assert.Equal(t, healthpb.HealthCheckResponse_SERVING, hc.Status)
			hc, err = healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: "sanzhi.v1.HouseholdService"})
			require.NoError(t, err)
			assert.Equal(t, healthpb.HealthCheckResponse_SERVING, hc.Status)

			assert.Contains(t, listServices(t, conn), "sanzhi.v1.HouseholdService", "reflection lists the API without credentials")

			raw := validID(t)
			ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+key)
			h, err := sanzhiv1.NewHouseholdServiceClient(conn).CreateHousehold(ctx, &sanzhiv1.CreateHouseholdRequest{
				Parent: "villages/330483102201", RequestId: "r1",
				Household: &sanzhiv1.Household{HeadName: "徐阿大", HeadIdNumber: raw, Group: 2, RegisteredDate: "2010-01-01",
					Facts: &sanzhiv1.HouseholdFacts{Members: 3, Labourers: 2, AnnualIncome: "54000", LandAreaMu: "2.5",
						CollectiveShares: "0", ExistingBankDebt: "0", Source: "村委会登记", AsOfDate: "2026-01-01"}},
			})
			require.NoError(t, err)

			// The same household over HTTP/JSON, through the same chain.
			req, _ := http.NewRequest(http.MethodGet, "http://"+srv.addrs.HTTP+"/v1/"+h.Name, nil)
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			var got map[string]any
			require.NoError(t, json.Unmarshal(body, &got))
			assert.Equal(t, h.Name, got["name"])
			assert.Equal(t, "54000.00", got["facts"].(map[string]any)["annualIncome"], "amounts are strings")
			assert.NotContains(t, string(body), raw)

			resp, err = http.Get("http://" + srv.addrs.HTTP + "/v1/" + h.Name)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "HTTP without credentials")

			// Bad input over HTTP is a 400 naming the field.
			bad, _ := http.NewRequest(http.MethodPost, "http://"+srv.addrs.HTTP+"/v1/villages/330483102201/households?requestId=x",
				strings.NewReader(`{"headName":"x","headIdNumber":"330483197506120000","group":1}`))
			bad.Header.Set("Authorization", "Bearer "+key)
			resp, err = http.DefaultClient.Do(bad)
			require.NoError(t, err)
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Contains(t, string(body), "household.head_id_number")

			resp, err = http.Get("http://" + srv.addrs.HTTP + "/openapi.json")
			require.NoError(t, err)
			var doc struct {
				Paths map[string]any `json:"paths"`
			}
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
			resp.Body.Close()
			assert.Contains(t, doc.Paths, "/v1/villages/{village}/households")

			resp, err = http.Get("http://" + srv.addrs.HTTP + "/openapi3.json")
			require.NoError(t, err)
			var doc3 struct {
				OpenAPI string         `json:"openapi"`
				Paths   map[string]any `json:"paths"`
			}
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc3))
			resp.Body.Close()
			assert.Equal(t, "3.0.3", doc3.OpenAPI)
			assert.Contains(t, doc3.Paths, "/v1/villages/{village}/households")

			require.NoError(t, srv.stop(), "SIGTERM-style shutdown drains and returns cleanly")
			logs := srv.logs.String()
			assert.Contains(t, logs, `"method":"/sanzhi.v1.HouseholdService/CreateHousehold"`)
			assert.NotContains(t, logs, raw, "logs never hold a raw 身份证号")
			assert.NotContains(t, logs, key, "logs never hold an API key")
		})
	}
}

// TestServesWithKeyCommandGM starts a 国密-only service whose keys come
// from a key command, registers a household, and finds its 身份证号 sealed
// under the SM4 key, readable with the same keys from the file.
func TestServesWithKeyCommandGM(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "gm.keys")
	require.NoError(t, pii.GenerateGMKeyFile(keyFile))
	keyCommand := filepath.Join(dir, "print-keys")
	require.NoError(t, os.WriteFile(keyCommand, []byte("#!/bin/sh\nexec cat \"$1\"\n"), 0o700))

	db := sqliteURL(t)
	srv := start(t, Config{Database: db, KeyProvider: "command", KeyCommand: keyCommand, KeyCommandArgs: []string{keyFile}, RequireGM: true})
	key := addPrincipal(t, db, "clerk", access.VillageClerk, access.Scope{Villages: []string{"330483102201"}})
	raw := validID(t)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+key)
	h, err := sanzhiv1.NewHouseholdServiceClient(dial(t, srv.addrs.GRPC)).CreateHousehold(ctx, &sanzhiv1.CreateHouseholdRequest{
		Parent: "villages/330483102201", RequestId: "r1",
		Household: &sanzhiv1.Household{HeadName: "徐阿大", HeadIdNumber: raw, Group: 2, RegisteredDate: "2010-01-01",
			Facts: &sanzhiv1.HouseholdFacts{Members: 3, Labourers: 2, AnnualIncome: "54000", LandAreaMu: "2.5",
				CollectiveShares: "0", ExistingBankDebt: "0", Source: "村委会登记", AsOfDate: "2026-01-01"}},
	})
	require.NoError(t, err)
	require.NoError(t, srv.stop())

	kr, err := LoadKeyring(Config{DataKeyFile: keyFile, RequireGM: true})
	require.NoError(t, err)
	st, err := OpenStore(context.Background(), db)
	require.NoError(t, err)
	defer st.Close()
	a, err := app.New(app.Deps{Store: st.Store(), Keyring: kr})
	require.NoError(t, err)
	stored, err := a.Households.Get(context.Background(), h.Name)
	require.NoError(t, err)
	assert.Equal(t, "sm4-k1", stored.HeadID.KeyID)
	got, err := kr.Open(pii.Sealed{KeyID: stored.HeadID.KeyID, Ciphertext: stored.HeadID.Ciphertext}, []byte(stored.ID))
	require.NoError(t, err)
	assert.Equal(t, raw, string(got))
}

func listServices(t *testing.T, conn *grpc.ClientConn) []string {
	t.Helper()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(context.Background())
	require.NoError(t, err)
	require.NoError(t, stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{ListServices: "*"}}))
	resp, err := stream.Recv()
	require.NoError(t, err)
	var out []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		out = append(out, s.Name)
	}
	require.NoError(t, stream.CloseSend())
	return out
}

// TestEveryMethodIsInTheAuthorisationTable walks what a real server
// registers: a method the table does not know would be denied to everyone,
// so forgetting one is a test failure, not a silent outage.
func TestEveryMethodIsInTheAuthorisationTable(t *testing.T) {
	t.Parallel()
	gs := grpc.NewServer()
	registerServices(gs, &app.App{}, rpc.Serving{})
	// The floors are in the API but served only by a bench build with
	// --bench-floors; the table must still know them.
	sanzhiv1.RegisterFloorServiceServer(gs, sanzhiv1.UnimplementedFloorServiceServer{})
	table := map[string]bool{}
	for _, m := range rpc.Methods() {
		table[m] = true
	}
	n := 0
	for svc, info := range gs.GetServiceInfo() {
		for _, m := range info.Methods {
			full := "/" + svc + "/" + m.Name
			n++
			assert.True(t, rpc.IsPublic(full) || table[full], "%s is not in the authorisation table", full)
			delete(table, full)
		}
	}
	assert.Empty(t, table, "the table names methods no server registers")
	assert.Greater(t, n, 6)
}

func TestRefusesToStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	keyFile := filepath.Join(t.TempDir(), "k")
	require.NoError(t, pii.GenerateKeyFile(keyFile))
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	unreadable := filepath.Join(t.TempDir(), "nokey")
	ak := auditKeyFile(t)

	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"port in use", Config{GRPCAddr: busy.Addr().String(), Database: sqliteURL(t), DataKeyFile: keyFile, AuditKeyFile: ak}, "address already in use"},
		{"bad DSN", Config{GRPCAddr: "127.0.0.1:0", Database: "postgres://u:pw@[::1", DataKeyFile: keyFile, AuditKeyFile: ak}, "malformed"},
		{"unknown scheme", Config{GRPCAddr: "127.0.0.1:0", Database: "mysql://x", DataKeyFile: keyFile, AuditKeyFile: ak}, "sqlite:// or postgres://"},
		{"unreachable database", Config{GRPCAddr: "127.0.0.1:0", Database: "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", DataKeyFile: keyFile, AuditKeyFile: ak}, "cannot reach PostgreSQL"},
		{"unreadable key file", Config{GRPCAddr: "127.0.0.1:0", Database: sqliteURL(t), DataKeyFile: unreadable}, "cannot read key file"},
		{"no data key", Config{GRPCAddr: "127.0.0.1:0", Database: sqliteURL(t), AuditKeyFile: ak}, "no data key"},
		{"no audit key", Config{GRPCAddr: "127.0.0.1:0", Database: sqliteURL(t), DataKeyFile: keyFile}, "no audit signing key"},
		{"unreadable audit key", Config{GRPCAddr: "127.0.0.1:0", Database: sqliteURL(t), DataKeyFile: keyFile, AuditKeyFile: unreadable}, "cannot read audit key file"},
		{"audit key not a key", Config{GRPCAddr: "127.0.0.1:0", Database: sqliteURL(t), DataKeyFile: keyFile, AuditKeyFile: keyFile}, "not a note signer key"},
		{"unreadable TLS cert", Config{GRPCAddr: "127.0.0.1:0", Database: sqliteURL(t), DataKeyFile: keyFile, AuditKeyFile: ak, TLSCert: unreadable, TLSKey: unreadable}, "cannot read TLS file"},
		{"demo on a public address", Config{GRPCAddr: "0.0.0.0:0", Database: sqliteURL(t), Demo: true}, "loopback only"},
		{"demo with a public admin address", Config{GRPCAddr: "127.0.0.1:0", AdminAddr: "0.0.0.0:0", Database: sqliteURL(t), Demo: true}, "loopback only"},
		{"admin port in use", Config{GRPCAddr: "127.0.0.1:0", AdminAddr: busy.Addr().String(), Database: sqliteURL(t), DataKeyFile: keyFile, AuditKeyFile: ak}, "cannot listen for the admin endpoints"},
		{"bench floors in a production build", Config{GRPCAddr: "127.0.0.1:0", Database: sqliteURL(t), DataKeyFile: keyFile, AuditKeyFile: ak, BenchFloors: true}, "built without the load-test floors"},
		{"sqlite directory missing", Config{GRPCAddr: "127.0.0.1:0", Database: "sqlite:///no/such/dir/x.db", DataKeyFile: keyFile, AuditKeyFile: ak}, "does not exist"},
		{"a pending migration with --no-migrate", Config{GRPCAddr: "127.0.0.1:0", Database: sqliteURL(t), DataKeyFile: keyFile, AuditKeyFile: ak, NoMigrate: true}, "migration(s) behind"},
		{"a key command that is not there", Config{GRPCAddr: "127.0.0.1:0", Database: sqliteURL(t), AuditKeyFile: ak, KeyProvider: "command", KeyCommand: "/no/such/keys"}, "key provider command: cannot run /no/such/keys"},
		{"a key command and a key file", Config{GRPCAddr: "127.0.0.1:0", Database: sqliteURL(t), AuditKeyFile: ak, KeyProvider: "command", KeyCommand: "/bin/true", DataKeyFile: keyFile}, "takes the data keys from --key-command alone"},
		{"a key command without its provider", Config{GRPCAddr: "127.0.0.1:0", Database: sqliteURL(t), AuditKeyFile: ak, KeyCommand: "/bin/true", DataKeyFile: keyFile}, "--key-command is set but the key provider is file"},
		{"an unknown key provider", Config{GRPCAddr: "127.0.0.1:0", Database: sqliteURL(t), AuditKeyFile: ak, KeyProvider: "pkcs11"}, `--key-provider "pkcs11" is neither file nor command`},
		{"an AES key with --require-gm", Config{GRPCAddr: "127.0.0.1:0", Database: sqliteURL(t), DataKeyFile: keyFile, AuditKeyFile: ak, RequireGM: true}, "--require-gm: the keyring is not 国密-only"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Run(ctx, tc.cfg, log, func(Addrs) { t.Error("must not become ready") })
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "pw@", "no password in the message")
			assert.NotContains(t, err.Error(), "\n", "one sentence")
		})
	}
}

func TestDemoModeGeneratesKeyAndSeeds(t *testing.T) {
	t.Parallel()
	// The database and its key were made by a demo-mode server on an empty
	// path (demoURL's template; the copy keeps the files' modes); this one
	// starts on them again and finds the county present.
	db := demoURL(t)
	srv := start(t, Config{Database: db, Demo: true})
	path, err := DemoKeyPath(db)
	require.NoError(t, err)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	conn := dial(t, srv.addrs.GRPC)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer sz_demo_regulator")
	resp, err := sanzhiv1.NewHouseholdServiceClient(conn).ListHouseholds(ctx, &sanzhiv1.ListHouseholdsRequest{Parent: "villages/" + demoVillage(t), PageSize: 5})
	require.NoError(t, err, "demo keys work from loopback in demo mode")
	assert.Len(t, resp.Households, 5)
	// The console is served beside the gateway, with the demo's logins
	// for the terminal's banner: a code that signs the household in.
	require.NotNil(t, srv.addrs.Demo)
	assert.Equal(t, "http://"+srv.addrs.HTTP+"/console/", srv.addrs.Console)
	assert.NotEmpty(t, srv.addrs.Demo.Staff)
	assert.Regexp(t, `^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$`, srv.addrs.Demo.Code)
	cresp, err := http.Get(srv.addrs.Console + "signin")
	require.NoError(t, err)
	cresp.Body.Close()
	assert.Equal(t, http.StatusOK, cresp.StatusCode)
	assert.Contains(t, cresp.Header.Get("Content-Security-Policy"), "default-src 'self'")
	require.NoError(t, srv.stop())

	// The same database without demo mode refuses demo keys.
	keyFile := path
	srv = start(t, Config{Database: db, DataKeyFile: keyFile, AuditKeyFile: strings.TrimSuffix(path, ".key") + ".audit-key"})
	conn = dial(t, srv.addrs.GRPC)
	_, err = sanzhiv1.NewHouseholdServiceClient(conn).ListHouseholds(ctx, &sanzhiv1.ListHouseholdsRequest{Parent: "villages/" + demoVillage(t)})
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
}

func demoVillage(t *testing.T) string {
	t.Helper()
	require.NotEmpty(t, demo.Villages)
	return demo.Villages[0].Code
}

// demoURL returns a private copy of a database that a demo-mode server has
// seeded (with its generated keys beside it). Seeding takes about a
// minute under the race detector, so one server per test binary does it;
// a demo server started on the copy finds the county present and serves.
func demoURL(t *testing.T) string {
	t.Helper()
	path := sqlitetest.Copy(t, "demo", "demo.db", func(path string) error {
		srv := start(t, Config{Database: "sqlite://" + path, Demo: true})
		return srv.stop()
	})
	return "sqlite://" + path
}

func TestMain(m *testing.M) {
	// Demo staff passwords are set on every seed; sign-in is not the
	// subject here (access/signin tests the production cost).
	signin.LowerCostForTests()
	code := m.Run()
	sqlitetest.RemoveAll()
	os.Exit(code)
}

// With --no-migrate the server starts on a schema that `sanzhi migrate`
// (here OpenStore and Migrate, what that command runs) brought up to date,
// and migrates nothing itself.
func TestNoMigrateStartsOnACurrentSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqliteURL(t)
	st, err := OpenStore(ctx, db)
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	n, err := st.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	require.NoError(t, st.Close())
	srv := start(t, Config{Database: db, NoMigrate: true})
	assert.NotEmpty(t, srv.addrs.GRPC)
}
