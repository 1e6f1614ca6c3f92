package rpc_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/lending/credit"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
)

const (
	villageA = "330483102201"
	villageB = "330483103205"
)

// backends runs fn once per real store.
// backends runs fn on both engines (storetest.Backends).
func backends(t *testing.T, fn func(t *testing.T, st *sqlstore.Store)) {
	storetest.Backends(t, fn)
}

type env struct {
	st       *sqlstore.Store
	log      *merklelog.Log
	audit    sanzhiv1.AuditServiceClient
	client   sanzhiv1.HouseholdServiceClient
	cats     sanzhiv1.CatalogueServiceClient
	evidence sanzhiv1.EvidenceServiceClient
	points   sanzhiv1.PointsServiceClient
	shop     sanzhiv1.ShopServiceClient
	policies sanzhiv1.PolicyServiceClient
	consents sanzhiv1.ConsentServiceClient
	credit   sanzhiv1.CreditServiceClient
	lending  *credit.Service
	app      *app.App
	keyring  *pii.Keyring
	cats2    *catalogue.Service
	conn     *grpc.ClientConn
	clock    *clock
	keys     map[string]string // principal name -> API key
	ids      map[string]string // principal name -> id
	// second builds another lending service over the same store, as a
	// second sanzhid instance has.
	second func() *credit.Service
}

// clock is the services' clock: the real time plus an offset a test may
// advance (never move back), e.g. past the end of a public notice.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// serveBufconn serves gs over an in-process listener until the test ends
// and returns a client connection to it.
func serveBufconn(t testing.TB, gs *grpc.Server) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// newEnv serves the real chain and handlers over bufconn on st, with one
// principal per role.
func newEnv(t testing.TB, st *sqlstore.Store) *env {
	t.Helper()
	secret, key := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(key)
	kr, err := pii.NewKeyring(secret, "k1", key)
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("SANZHI_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	v, err := rpc.NewValidator()
	require.NoError(t, err)
	gs := grpc.NewServer(rpc.ServerOptions(rpc.Chain(log, rpc.NewAuthenticator(st.Principals(), false), v))...)
	clk := &clock{}
	healthpb.RegisterHealthServer(gs, health.NewServer())
	skey, _, err := audit.GenerateKey("sanzhi.test/audit")
	require.NoError(t, err)
	a, err := app.New(app.Deps{Store: st, Keyring: kr, AuditKey: skey, Now: clk.Now, Log: log})
	require.NoError(t, err)
	rpc.Register(gs, a, rpc.Serving{})
	alog, lendingSvc, cats := a.Audit, a.Lending, a.Catalogues
	// A second lending service over the same store, as a second server
	// process would have (concurrent writers).
	second := func() *credit.Service { return app.NewLending(st, kr, cats, clk.Now) }
	conn := serveBufconn(t, gs)
	e := &env{st: st, log: alog, audit: sanzhiv1.NewAuditServiceClient(conn), client: sanzhiv1.NewHouseholdServiceClient(conn),
		cats: sanzhiv1.NewCatalogueServiceClient(conn), evidence: sanzhiv1.NewEvidenceServiceClient(conn),
		points: sanzhiv1.NewPointsServiceClient(conn), shop: sanzhiv1.NewShopServiceClient(conn), policies: sanzhiv1.NewPolicyServiceClient(conn),
		consents: sanzhiv1.NewConsentServiceClient(conn), credit: sanzhiv1.NewCreditServiceClient(conn), lending: lendingSvc, app: a, keyring: kr, cats2: cats, conn: conn, clock: clk, keys: map[string]string{}, ids: map[string]string{}, second: second}
	e.addPrincipal(t, "clerk-a", access.VillageClerk, access.Scope{Villages: []string{villageA}}, false)
	e.addPrincipal(t, "clerk-b", access.VillageClerk, access.Scope{Villages: []string{villageB}}, false)
	e.addPrincipal(t, "reviewer-a", access.VillageReviewer, access.Scope{Villages: []string{villageA}}, false)
	e.addPrincipal(t, "regulator", access.Regulator, access.Scope{}, false)
	e.addPrincipal(t, "bank", access.BankOfficer, access.Scope{Bank: "tx-rcb"}, false)
	e.addPrincipal(t, "risk-1", access.BankRisk, access.Scope{Bank: "tongxiang-rcb"}, false)
	e.addPrincipal(t, "risk-2", access.BankRisk, access.Scope{Bank: "tongxiang-rcb"}, false)
	e.addPrincipal(t, "risk-other", access.BankRisk, access.Scope{Bank: "other-bank"}, false)
	e.addPrincipal(t, "officer", access.BankOfficer, access.Scope{Bank: "tongxiang-rcb"}, false)
	e.addPrincipal(t, "officer-other", access.BankOfficer, access.Scope{Bank: "other-bank"}, false)
	e.addPrincipal(t, "operator", access.Operator, access.Scope{}, false)
	e.addPrincipal(t, "operator-2", access.Operator, access.Scope{}, false)
	e.addPrincipal(t, "reviewer-b", access.VillageReviewer, access.Scope{Villages: []string{villageB}}, false)
	e.addPrincipal(t, "demo-clerk", access.VillageClerk, access.Scope{Villages: []string{villageA}}, true)
	e.addPrincipal(t, "revoked", access.VillageClerk, access.Scope{Villages: []string{villageA}}, false)
	require.NoError(t, st.Principals().RevokePrincipal(context.Background(), "revoked", time.Now()))
	return e
}

func (e *env) addPrincipal(t testing.TB, name string, role access.Role, scope access.Scope, demo bool) {
	t.Helper()
	key, err := access.NewKey()
	require.NoError(t, err)
	p := &access.Principal{ID: uuid.NewString(), Name: name, Role: role, Scope: scope, Demo: demo, CreateTime: time.Now()}
	require.NoError(t, e.st.Principals().CreatePrincipal(context.Background(), p, access.HashKey(key)))
	e.keys[name], e.ids[name] = key, p.ID
}

// as returns a context calling as the named principal.
func (e *env) as(name string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+e.keys[name])
}

// requireCode asserts err's code and, when field is set, that a
// BadRequest violation names it (with desc in its description, if set)
// and that ErrorInfo is present.
func requireCode(t *testing.T, err error, code codes.Code, field, desc string) {
	t.Helper()
	require.Error(t, err)
	st := status.Convert(err)
	require.Equal(t, code, st.Code(), "message: %s", st.Message())
	var info *errdetails.ErrorInfo
	var br *errdetails.BadRequest
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.BadRequest:
			br = d
		}
	}
	if code != codes.Internal {
		require.NotNil(t, info, "every error carries google.rpc.ErrorInfo")
		require.Equal(t, rpc.ErrorDomain, info.Domain)
		require.NotEmpty(t, info.Reason)
	}
	if field == "" {
		return
	}
	require.NotNil(t, br, "INVALID_ARGUMENT carries google.rpc.BadRequest")
	for _, v := range br.FieldViolations {
		if v.Field == field {
			require.Contains(t, v.Description, desc)
			return
		}
	}
	require.Failf(t, "no violation for field", "want %q in %v", field, br.FieldViolations)
}
