package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/fault"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// TestDatabaseOutage takes PostgreSQL away from a running server twice:
// by terminating its backends and refusing new connections to its
// database (SQLSTATE 57P01, then a refused login), and by cutting the
// network between them (dial errors: nothing listens). Each time every
// call answers UNAVAILABLE with RetryInfo and ErrorInfo
// STORE_UNAVAILABLE, over gRPC and HTTP, health turns NOT_SERVING, and
// once the database is back health is SERVING and calls succeed. /readyz
// follows: 503 naming the database while it is away, 200 once it is back.
func TestDatabaseOutage(t *testing.T) {
	t.Run("backends terminated", func(t *testing.T) {
		dbURL := pgtest.NewURL(t)
		name := databaseName(t, dbURL)
		admin := adminConn(t)
		outage := func(down bool) {
			allow := "true"
			if down {
				allow = "false"
			}
			_, err := admin.Exec(context.Background(), `ALTER DATABASE "`+name+`" ALLOW_CONNECTIONS `+allow)
			require.NoError(t, err)
			if !down {
				return
			}
			// A connection that was logging in while the ALTER committed
			// may still get through: terminate until none is left.
			require.EventuallyWithT(t, func(c *assert.CollectT) {
				_, err := admin.Exec(context.Background(),
					`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, name)
				require.NoError(c, err)
				time.Sleep(20 * time.Millisecond)
				var n int
				require.NoError(c, admin.QueryRow(context.Background(),
					`SELECT count(*) FROM pg_stat_activity WHERE datname = $1`, name).Scan(&n))
				assert.Zero(c, n, "backends left")
			}, 10*time.Second, 50*time.Millisecond)
		}
		t.Cleanup(func() { outage(false) })
		outageScenario(t, dbURL, outage)
	})
	t.Run("connection refused", func(t *testing.T) {
		dbURL := pgtest.NewURL(t)
		proxy := newTCPProxy(t, hostPort(t, dbURL))
		outageScenario(t, withHost(t, dbURL, proxy.addr), func(down bool) {
			if down {
				proxy.stop(t)
			} else {
				proxy.start(t)
			}
		})
	})
}

func outageScenario(t *testing.T, dbURL string, outage func(down bool)) {
	srv := start(t, Config{Database: dbURL, HealthInterval: 100 * time.Millisecond, CheckpointInterval: time.Hour,
		ReassessInterval: time.Hour, WebhookPoll: time.Hour, AdminAddr: "127.0.0.1:0"})
	key := addPrincipal(t, dbURL, "clerk", access.VillageClerk, access.Scope{Villages: []string{matrixVillage}})
	conn := dial(t, srv.addrs.GRPC)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+key)
	households := sanzhiv1.NewHouseholdServiceClient(conn)
	hh, err := households.CreateHousehold(ctx, &sanzhiv1.CreateHouseholdRequest{
		Parent: "villages/" + matrixVillage, RequestId: "o1", Household: validHousehold(t)})
	require.NoError(t, err)
	requireHealth(t, conn, healthpb.HealthCheckResponse_SERVING)
	requireReady(t, srv.addrs.Admin, nil)

	outage(true)
	// The pool may still hold a connection that has not noticed yet; the
	// first statement on it fails too, so UNAVAILABLE comes at once.
	_, err = households.GetHousehold(ctx, &sanzhiv1.GetHouseholdRequest{Name: hh.Name})
	requireStoreUnavailable(t, status.Convert(err))
	_, err = households.CreateHousehold(ctx, &sanzhiv1.CreateHouseholdRequest{
		Parent: "villages/" + matrixVillage, RequestId: "o2", Household: validHousehold(t)})
	requireStoreUnavailable(t, status.Convert(err))

	code, st := httpCall{verb: "GET", path: "/v1/" + hh.Name, key: key}.do(t, "http://"+srv.addrs.HTTP)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	require.NotNil(t, st)
	requireStoreUnavailable(t, st)
	req, err := http.NewRequest(http.MethodGet, "http://"+srv.addrs.HTTP+"/v1/"+hh.Name, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "1", resp.Header.Get("Retry-After"), "HTTP says when to retry, too")

	requireHealth(t, conn, healthpb.HealthCheckResponse_NOT_SERVING)
	requireReady(t, srv.addrs.Admin, []string{"database", "migrations"})
	code, _, _ = get(t, "http://"+srv.addrs.Admin+"/healthz")
	assert.Equal(t, http.StatusOK, code, "the process is alive all the same")

	outage(false)
	requireHealth(t, conn, healthpb.HealthCheckResponse_SERVING)
	requireReady(t, srv.addrs.Admin, nil)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		_, err := households.GetHousehold(ctx, &sanzhiv1.GetHouseholdRequest{Name: hh.Name})
		assert.NoError(c, err)
	}, 10*time.Second, 50*time.Millisecond, "calls succeed once the database is back")
	list, err := households.ListHouseholds(ctx, &sanzhiv1.ListHouseholdsRequest{Parent: "villages/" + matrixVillage})
	require.NoError(t, err)
	assert.Len(t, list.Households, 1, "the refused write left nothing behind")

	require.NoError(t, srv.stop())
	logs := srv.logs.String()
	assert.Contains(t, logs, "database unreachable: health NOT_SERVING")
	assert.Contains(t, logs, "database reachable again: health SERVING")
}

func requireStoreUnavailable(t *testing.T, st *status.Status) {
	t.Helper()
	require.Equal(t, codes.Unavailable, st.Code(), "message %q", st.Message())
	contractOK(t, st, "")
	var reason string
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			reason = info.Reason
		}
	}
	assert.Equal(t, fault.StoreUnavailable, reason)
	for _, leak := range []string{"SQLSTATE", "dial", "127.0.0.1", "connect", "pgx", "postgres"} {
		assert.NotContains(t, st.Message(), leak, "the driver's text stays in the log")
	}
}

// requireReady waits for /readyz to fail exactly the checks named (503),
// or to pass (200) when none are.
func requireReady(t *testing.T, admin string, failing []string) {
	t.Helper()
	want := http.StatusOK
	if len(failing) > 0 {
		want = http.StatusServiceUnavailable
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		code, rep := readyz(t, admin)
		assert.Equal(c, want, code)
		assert.Equal(c, failing, rep.Failing)
	}, 15*time.Second, 50*time.Millisecond)
}

func requireHealth(t *testing.T, conn *grpc.ClientConn, want healthpb.HealthCheckResponse_ServingStatus) {
	t.Helper()
	h := healthpb.NewHealthClient(conn)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		for _, svc := range []string{"", "sanzhi.v1.HouseholdService"} {
			resp, err := h.Check(context.Background(), &healthpb.HealthCheckRequest{Service: svc})
			if assert.NoError(c, err) {
				assert.Equal(c, want, resp.Status, "service %q", svc)
			}
		}
	}, 10*time.Second, 50*time.Millisecond)
}

func adminConn(t *testing.T) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), pgtest.URL())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func databaseName(t *testing.T, dbURL string) string {
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	return strings.TrimPrefix(u.Path, "/")
}

func hostPort(t *testing.T, dbURL string) string {
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	return u.Host
}

func withHost(t *testing.T, dbURL, host string) string {
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	u.Host = host
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	return u.String()
}

// tcpProxy forwards a local port to PostgreSQL; stop closes the port and
// cuts every connection, so the server meets a refused dial; start
// listens on the same port again.
type tcpProxy struct {
	addr, target string
	mu           sync.Mutex
	lis          net.Listener
	conns        []net.Conn
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{target: target}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p.addr = lis.Addr().String()
	p.serve(lis)
	t.Cleanup(func() { p.stop(t) })
	return p
}

func (p *tcpProxy) start(t *testing.T) {
	var lis net.Listener
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var err error
		lis, err = net.Listen("tcp", p.addr)
		assert.NoError(c, err)
	}, 5*time.Second, 50*time.Millisecond, "the proxy's port is free again")
	p.serve(lis)
}

func (p *tcpProxy) serve(lis net.Listener) {
	p.mu.Lock()
	p.lis = lis
	p.mu.Unlock()
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

func (p *tcpProxy) stop(t *testing.T) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lis != nil {
		if err := p.lis.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Logf("closing proxy: %v", err)
		}
		p.lis = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
