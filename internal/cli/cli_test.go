package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
)

func TestBindEnvPrecedence(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	a := fs.String("grpc-addr", "default", "")
	b := fs.String("log-level", "info", "")
	c := fs.String("database", "db", "")
	t.Setenv("SANZHI_GRPC_ADDR", "from-env")
	t.Setenv("SANZHI_LOG_LEVEL", "debug")
	require.NoError(t, fs.Parse([]string{"--log-level=warn"}))
	require.NoError(t, BindEnv(fs))
	assert.Equal(t, "from-env", *a, "env beats the default")
	assert.Equal(t, "warn", *b, "the command line beats env")
	assert.Equal(t, "db", *c)
}

func TestBindEnvBadValue(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.Bool("demo", false, "")
	t.Setenv("SANZHI_DEMO", "maybe")
	require.ErrorContains(t, BindEnv(fs), "SANZHI_DEMO")
}

func TestLoggerMasksIDNumbers(t *testing.T) {
	var buf bytes.Buffer
	log, err := NewLogger(&buf, "info")
	require.NoError(t, err)
	log.Info("lookup 33048319600119123X failed", "detail", "id=33048319600119123X", "error", errors.New("bad 330483196001191239"))
	out := buf.String()
	assert.NotContains(t, out, "33048319600119123X")
	assert.NotContains(t, out, "330483196001191239")
	assert.Contains(t, out, "330483********123X")
	_, err = NewLogger(&buf, "loud")
	require.Error(t, err)
}

func TestLoggerCarriesTheTrace(t *testing.T) {
	var buf bytes.Buffer
	log, err := NewLogger(&buf, "info")
	require.NoError(t, err)
	tid, err := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	require.NoError(t, err)
	sid, err := trace.SpanIDFromHex("00f067aa0ba902b7")
	require.NoError(t, err)
	ctx := trace.ContextWithRemoteSpanContext(context.Background(),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	log.With("svc", "x").InfoContext(ctx, "with a span")
	log.InfoContext(context.Background(), "without")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	var with, without map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &with))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &without))
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", with["trace_id"])
	assert.Equal(t, "00f067aa0ba902b7", with["span_id"])
	assert.Equal(t, "x", with["svc"], "attributes given before still there")
	assert.NotContains(t, without, "trace_id")
	assert.NotContains(t, without, "span_id")
}

func TestExitCode(t *testing.T) {
	assert.Equal(t, ExitOK, Code(nil))
	assert.Equal(t, ExitFailure, Code(errors.New("database unreachable")))
	assert.Equal(t, ExitUsage, Code(Usagef("--x: bad")))
	wrapped := fmt.Errorf("importing: %w", WithCode(ExitPartial, errors.New("3 rows refused")))
	assert.Equal(t, ExitPartial, Code(wrapped), "the code survives wrapping")
	assert.Equal(t, "importing: 3 rows refused", wrapped.Error())
	assert.NoError(t, WithCode(ExitVerifyFailed, nil))
	assert.NoError(t, Usage(nil))
}
