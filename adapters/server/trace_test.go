package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/telemetry"
	"github.com/sanzhi/sanzhi/internal/cli"
)

const (
	callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpan  = "00f067aa0ba902b7"
)

// cliLogger is sanzhid's own logger (JSON, trace ids added).
func cliLogger(w io.Writer) *slog.Logger {
	log, err := cli.NewLogger(w, "info")
	if err != nil {
		panic(err)
	}
	return log
}

// listWithTraceparent lists the test village's households over HTTP with
// the caller's traceparent.
func listWithTraceparent(t *testing.T, srv *running, key string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+srv.addrs.HTTP+"/v1/villages/"+matrixVillage+"/households", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("traceparent", "00-"+callerTrace+"-"+callerSpan+"-01")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// rpcLogLine returns the log line of the RPC method, parsed.
func rpcLogLine(t *testing.T, logs, method string) map[string]any {
	t.Helper()
	for _, line := range strings.Split(logs, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "rpc" && m["method"] == method {
			return m
		}
	}
	t.Fatalf("no rpc log line for %s in:\n%s", method, logs)
	return nil
}

// TestTraceparentCrossesTheGateway: a traceparent sent over HTTP is
// continued by the HTTP server span, the gateway's client span and the
// gRPC server span, one trace, each the parent of the next; the RPC's log
// line names the trace and the gRPC server span.
func TestTraceparentCrossesTheGateway(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tel, err := telemetry.New(telemetry.Options{Tracer: tp})
	require.NoError(t, err)
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	db := sqliteURL(t)
	srv := startWith(t, Config{Database: db, Telemetry: tel}, cliLogger)
	key := addPrincipal(t, db, "clerk", access.VillageClerk, access.Scope{Villages: []string{matrixVillage}})
	listWithTraceparent(t, srv, key)

	const method = "sanzhi.v1.HouseholdService/ListHouseholds"
	var httpServer, client, grpcServer sdktrace.ReadOnlySpan
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		for _, s := range rec.Ended() {
			if s.SpanContext().TraceID().String() != callerTrace {
				continue
			}
			switch {
			case s.SpanKind() == trace.SpanKindServer && s.Name() == method:
				grpcServer = s
			case s.SpanKind() == trace.SpanKindServer:
				httpServer = s
			case s.SpanKind() == trace.SpanKindClient:
				client = s
			}
		}
		assert.NotNil(c, httpServer, "the HTTP server span is in the caller's trace")
		assert.NotNil(c, client, "the gateway's client span is in the caller's trace")
		assert.NotNil(c, grpcServer, "the gRPC server span is in the caller's trace")
	}, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, callerSpan, httpServer.Parent().SpanID().String(), "the HTTP span's parent is the caller's")
	assert.True(t, httpServer.Parent().IsRemote())
	assert.Equal(t, httpServer.SpanContext().SpanID(), client.Parent().SpanID(), "the gateway's call is a child of the HTTP span")
	assert.Equal(t, method, client.Name())
	assert.Equal(t, client.SpanContext().SpanID(), grpcServer.Parent().SpanID(), "the gRPC server span is a child of the gateway's call")

	require.NoError(t, srv.stop())
	line := rpcLogLine(t, srv.logs.String(), "/"+method)
	assert.Equal(t, callerTrace, line["trace_id"])
	assert.Equal(t, grpcServer.SpanContext().SpanID().String(), line["span_id"])
}

// TestTraceparentReachesTheLogsWithoutExport: with no tracer installed
// (nothing exported), the caller's trace context still crosses the
// gateway, so the RPC's log line carries the caller's trace and span.
func TestTraceparentReachesTheLogsWithoutExport(t *testing.T) {
	db := sqliteURL(t)
	srv := startWith(t, Config{Database: db}, cliLogger)
	key := addPrincipal(t, db, "clerk", access.VillageClerk, access.Scope{Villages: []string{matrixVillage}})
	listWithTraceparent(t, srv, key)
	require.NoError(t, srv.stop())
	line := rpcLogLine(t, srv.logs.String(), "/sanzhi.v1.HouseholdService/ListHouseholds")
	assert.Equal(t, callerTrace, line["trace_id"])
	assert.Equal(t, callerSpan, line["span_id"], "no span of ours: the caller's")
}
