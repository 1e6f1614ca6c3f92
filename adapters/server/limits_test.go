package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

const body200MiB = 200 << 20

// readResponse reads one HTTP response from conn within d.
func readResponse(t *testing.T, conn net.Conn, d time.Duration) (*http.Response, string) {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(d)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "the server answers before the body is sent")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// requireTooLarge checks a 413 carries the gateway's error body with
// ErrorInfo.
func requireTooLarge(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, body)
	var st struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Type   string `json:"@type"`
			Reason string `json:"reason"`
			Domain string `json:"domain"`
		} `json:"details"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &st), body)
	assert.Equal(t, int(codes.ResourceExhausted), st.Code)
	assert.Contains(t, st.Message, "4194304 bytes")
	require.Len(t, st.Details, 1)
	assert.Equal(t, "type.googleapis.com/google.rpc.ErrorInfo", st.Details[0].Type)
	assert.Equal(t, "REQUEST_TOO_LARGE", st.Details[0].Reason)
	assert.Equal(t, rpc.ErrorDomain, st.Details[0].Domain)
}

// TestBodyCapBeforeAuthentication: a 200 MiB body without credentials is
// refused with 413 without being read. Declared by Content-Length, not a
// byte of it is needed; sent chunked, the server stops reading at the cap
// and the process allocates a few MiB, not hundreds.
func TestBodyCapBeforeAuthentication(t *testing.T) {
	// Not parallel: it measures the whole process's allocations.
	srv := start(t, Config{Database: sqliteURL(t)})
	const path = "/v1/villages/330483102201/households?requestId=r1"

	t.Run("content-length", func(t *testing.T) {
		conn, err := net.Dial("tcp", srv.addrs.HTTP)
		require.NoError(t, err)
		defer conn.Close()
		_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, body200MiB)
		require.NoError(t, err)
		resp, body := readResponse(t, conn, 5*time.Second)
		requireTooLarge(t, resp, body)
		assert.True(t, resp.Close, "the connection is closed rather than the body drained")
	})

	t.Run("chunked", func(t *testing.T) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		conn, err := net.Dial("tcp", srv.addrs.HTTP)
		require.NoError(t, err)
		defer conn.Close()
		_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", path)
		require.NoError(t, err)
		var sent atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			chunk := []byte(fmt.Sprintf("%x\r\n%s\r\n", 1<<20, strings.Repeat("{", 1<<20)))
			for sent.Load() < body200MiB {
				_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
				if _, err := conn.Write(chunk); err != nil {
					return // the server closed the connection: it stopped reading
				}
				sent.Add(1 << 20)
			}
		}()
		resp, body := readResponse(t, conn, 10*time.Second)
		requireTooLarge(t, resp, body)
		conn.Close()
		<-done
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("client wrote %d MiB before the server answered and closed; server process allocated %d MiB meanwhile",
			sent.Load()>>20, alloc>>20)
		assert.Less(t, sent.Load(), int64(64<<20), "the server stopped reading near the 4 MiB cap")
		assert.Less(t, alloc, uint64(64<<20), "the body was not buffered")
	})

	t.Run("within the cap, no key", func(t *testing.T) {
		resp, err := http.Post("http://"+srv.addrs.HTTP+path, "application/json", strings.NewReader(`{"headName":"x"}`))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a small body reaches authentication")
	})
}

// TestSlowLorisHeaderCut: a client trickling its request headers is cut
// off at ReadHeaderTimeout, however steadily it trickles.
func TestSlowLorisHeaderCut(t *testing.T) {
	srv := start(t, Config{Database: sqliteURL(t), Limits: Limits{HTTPReadHeaderTimeout: 300 * time.Millisecond}})
	conn, err := net.Dial("tcp", srv.addrs.HTTP)
	require.NoError(t, err)
	defer conn.Close()
	start := time.Now()
	_, err = io.WriteString(conn, "GET /openapi.json HTTP/1.1\r\nHost: x\r\n")
	require.NoError(t, err)
	go func() {
		for i := 0; i < 100; i++ {
			time.Sleep(50 * time.Millisecond)
			if _, err := fmt.Fprintf(conn, "X-Slow-%d: y\r\n", i); err != nil {
				return
			}
		}
	}()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(4*time.Second)))
	_, err = io.ReadAll(conn)
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the server closed the connection; the client did not time out")
	assert.Less(t, time.Since(start), 2*time.Second)
}

// TestPlaintextOffLoopbackRefused: without TLS, a listener other machines
// can reach needs --insecure-allow-plaintext, and the message says what
// to do.
func TestPlaintextOffLoopbackRefused(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	for _, cfg := range []Config{
		{GRPCAddr: "0.0.0.0:0", Database: sqliteURL(t)},
		{GRPCAddr: "127.0.0.1:0", HTTPAddr: ":0", Database: sqliteURL(t)},
		{GRPCAddr: "[::]:0", Database: sqliteURL(t)},
		{GRPCAddr: "127.0.0.1:0", AdminAddr: "0.0.0.0:0", Database: sqliteURL(t)},
	} {
		err := Run(context.Background(), cfg, log, func(Addrs) { t.Error("must not become ready") })
		require.Error(t, err)
		assert.Contains(t, err.Error(), "refusing to serve without TLS")
		assert.Contains(t, err.Error(), "--tls-cert")
		assert.Contains(t, err.Error(), "--insecure-allow-plaintext")
	}
	// Allowed explicitly, it starts (and loopback needs no flag: every
	// other test here).
	srv := start(t, Config{GRPCAddr: "0.0.0.0:0", HTTPAddr: "", AdminAddr: "0.0.0.0:0", Database: sqliteURL(t), InsecureAllowPlaintext: true})
	assert.NotEmpty(t, srv.addrs.GRPC)
	assert.NotEmpty(t, srv.addrs.Admin)
}

// TestWatchEndsAtShutdown: open WatchCreditLines streams, over gRPC and
// as NDJSON over HTTP, outlive the HTTP read and write timeouts, and end
// with UNAVAILABLE SERVER_SHUTTING_DOWN as soon as shutdown starts, so
// shutdown takes well under its grace period.
func TestWatchEndsAtShutdown(t *testing.T) {
	db := sqliteURL(t)
	const grace = 10 * time.Second
	srv := start(t, Config{Database: db, ShutdownGrace: grace,
		Limits: Limits{HTTPReadTimeout: 300 * time.Millisecond, HTTPWriteTimeout: 300 * time.Millisecond}})
	key := addPrincipal(t, db, "risk", access.BankRisk, access.Scope{Bank: "tongxiang-rcb"})

	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+key)
	stream, err := sanzhiv1.NewCreditServiceClient(dial(t, srv.addrs.GRPC)).WatchCreditLines(ctx,
		&sanzhiv1.WatchCreditLinesRequest{Bank: "banks/tongxiang-rcb"})
	require.NoError(t, err)
	grpcDone := make(chan error, 1)
	go func() {
		for {
			if _, err := stream.Recv(); err != nil {
				grpcDone <- err
				return
			}
		}
	}()

	type answer struct {
		body string
		err  error
	}
	httpDone := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, "http://"+srv.addrs.HTTP+"/v1/banks/tongxiang-rcb/creditLineEvents:watch", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			httpDone <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		httpDone <- answer{body: string(b), err: err}
	}()

	// Past both HTTP timeouts, both streams are still open.
	time.Sleep(time.Second)
	select {
	case err := <-grpcDone:
		t.Fatalf("gRPC watch ended early: %v", err)
	case a := <-httpDone:
		t.Fatalf("HTTP watch ended early: %q %v", a.body, a.err)
	default:
	}

	began := time.Now()
	require.NoError(t, srv.stop())
	took := time.Since(began)
	t.Logf("shutdown with two open watches took %s (grace %s)", took, grace)
	assert.Less(t, took, 3*time.Second, "open watches do not hold shutdown for the grace period")

	err = <-grpcDone
	st := status.Convert(err)
	require.Equal(t, codes.Unavailable, st.Code(), st.Message())
	assert.Contains(t, st.Message(), "shutting down")
	var info *errdetails.ErrorInfo
	for _, d := range st.Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			info = i
		}
	}
	require.NotNil(t, info)
	assert.Equal(t, rpc.ReasonShuttingDown, info.Reason)

	a := <-httpDone
	require.NoError(t, a.err)
	assert.Contains(t, a.body, rpc.ReasonShuttingDown)
}

// TestServerLimits: what sanzhid applies by itself. A gRPC message over
// the cap is RESOURCE_EXHAUSTED unread; the rate limits reach HTTP
// callers as 429 with RetryInfo and ErrorInfo RATE_LIMITED.
func TestServerLimits(t *testing.T) {
	t.Parallel()
	db := sqliteURL(t)
	srv := start(t, Config{Database: db, Limits: Limits{MaxRequestBytes: 64 << 10,
		// One token per 1,000 s: the three calls below spend the burst of
		// two however slowly a loaded machine makes them (at one a second,
		// a refill once let the third through).
		Rate: rpc.RateLimits{PerPrincipal: 0.001, Burst: 2}}})
	key := addPrincipal(t, db, "clerk", access.VillageClerk, access.Scope{Villages: []string{"330483102201"}})
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+key)

	_, err := sanzhiv1.NewHouseholdServiceClient(dial(t, srv.addrs.GRPC)).CreateHousehold(ctx, &sanzhiv1.CreateHouseholdRequest{
		Parent: "villages/330483102201", RequestId: "big", Household: &sanzhiv1.Household{HeadName: strings.Repeat("徐", 64<<10)}})
	assert.Equal(t, codes.ResourceExhausted, status.Code(err), "%v", err)

	get := func() (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+srv.addrs.HTTP+"/v1/villages/330483102201/households?pageSize=1", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The oversized message was refused by the transport, before the
	// chain: it spent no token.
	for range 2 {
		code, body := get()
		require.Equal(t, http.StatusOK, code, body)
	}
	code, body := get()
	require.Equal(t, http.StatusTooManyRequests, code, body)
	assert.Contains(t, body, `"reason":"RATE_LIMITED"`)
	assert.Contains(t, body, "google.rpc.RetryInfo")
}
