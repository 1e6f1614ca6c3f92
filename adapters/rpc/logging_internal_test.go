package rpc

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The RPC log line is skipped only when its level is off: at
// --log-level error a successful call writes nothing and a failed one
// (INTERNAL) still writes its line; at info both do.
func TestLoggingLevels(t *testing.T) {
	t.Parallel()
	call := func(level slog.Level, err error) string {
		var out bytes.Buffer
		in := logging(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: level})))
		_, _ = in.Unary(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/sanzhi.v1.T/M"},
			func(context.Context, any) (any, error) { return nil, err })
		return out.String()
	}
	failed := status.Error(codes.Internal, "boom")
	assert.Empty(t, call(slog.LevelError, nil))
	assert.Equal(t, 1, strings.Count(call(slog.LevelError, failed), "method=/sanzhi.v1.T/M"))
	assert.Contains(t, call(slog.LevelError, failed), "code=Internal")
	assert.Equal(t, 1, strings.Count(call(slog.LevelInfo, nil), "method=/sanzhi.v1.T/M code=OK"))
}
