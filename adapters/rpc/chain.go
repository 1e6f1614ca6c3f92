// Package rpc is the gRPC edge: the interceptor chain every RPC passes, the
// authorisation table, error rendering and the thin service handlers that
// turn protos into domain calls and back.
package rpc

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Interceptor is one named link of the chain.
type Interceptor struct {
	Name   string
	Unary  grpc.UnaryServerInterceptor
	Stream grpc.StreamServerInterceptor
}

// ChainOrder is the order every RPC passes through, outermost first.
// Recovery is first so a panic anywhere (even in another interceptor)
// becomes INTERNAL rather than a dead server; errors is outside the auth
// steps so their faults are rendered like any other. Rate limits come
// right after authentication, since they are per principal, and before
// anything that reads the store for the request. Telemetry is not in
// this list: otelgrpc runs as the server's stats handler, which wraps the
// whole chain.
var ChainOrder = []string{"recovery", "logging", "errors", "authentication", "ratelimit", "authorisation", "validation"}

// Chain returns the interceptors in ChainOrder.
func Chain(log *slog.Logger, authn *Authenticator, v *Validator) []Interceptor {
	chain := []Interceptor{
		recovery(log),
		logging(log),
		errorsInterceptor(log),
		authn.interceptor(),
		authn.rateLimit(),
		authorisation(),
		v.interceptor(),
	}
	for i, ic := range chain {
		if ic.Name != ChainOrder[i] {
			panic("rpc: interceptor chain out of order: " + ic.Name + " at " + ChainOrder[i])
		}
	}
	return chain
}

// streamWorkers is how many long-lived goroutines serve RPCs. Without
// them grpc starts a goroutine per RPC, and every one grows its stack
// again through the chain, pgx and the store: a CPU profile of
// BenchmarkGetCreditLine put 13 % of the process in runtime.copystack,
// 3.6 % with workers (BENCHMARKS.md, issue 19). An RPC that finds every
// worker busy still gets a goroutine of its own, so this bounds nothing;
// it only needs to exceed the usual number of RPCs in flight. Idle
// workers cost a parked goroutine each.
const streamWorkers = 128

// ServerOptions turns a chain into grpc server options.
func ServerOptions(chain []Interceptor) []grpc.ServerOption {
	var unary []grpc.UnaryServerInterceptor
	var stream []grpc.StreamServerInterceptor
	for _, ic := range chain {
		unary = append(unary, ic.Unary)
		stream = append(stream, ic.Stream)
	}
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(unary...), grpc.ChainStreamInterceptor(stream...), CodecOption(),
		grpc.NumStreamWorkers(streamWorkers)}
}

func recovery(log *slog.Logger) Interceptor {
	recovered := func(ctx context.Context, method string, err *error) {
		if r := recover(); r != nil {
			log.ErrorContext(ctx, "panic in RPC", "method", method, "panic", r, "stack", string(debug.Stack()))
			*err = internalError()
		}
	}
	return Interceptor{
		Name: "recovery",
		Unary: func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
			defer recovered(ctx, info.FullMethod, &err)
			return h(ctx, req)
		},
		Stream: func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
			defer recovered(ss.Context(), info.FullMethod, &err)
			return h(srv, ss)
		},
	}
}

// logging writes one structured line per RPC. It logs the method, the
// principal, the code and the duration; never the request body, so no
// 身份证号 or key can reach a log through it.
func logging(log *slog.Logger) Interceptor {
	done := func(ctx context.Context, method string, start time.Time, err error) {
		code := status.Code(err)
		lvl := slog.LevelInfo
		if code == codes.Internal || code == codes.Unknown {
			lvl = slog.LevelError
		}
		if !log.Enabled(ctx, lvl) {
			return // at --log-level error, most calls: build nothing
		}
		attrs := []any{"method", method, "code", code.String(), "duration_ms", float64(time.Since(start).Microseconds()) / 1000}
		if p := principalOf(ctx); p != "" {
			attrs = append(attrs, "principal", p)
		}
		log.Log(ctx, lvl, "rpc", attrs...)
	}
	return Interceptor{
		Name: "logging",
		Unary: func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			start := time.Now()
			ctx = withPrincipalSlot(ctx)
			resp, err := h(ctx, req)
			done(ctx, info.FullMethod, start, err)
			return resp, err
		},
		Stream: func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			start := time.Now()
			ctx := withPrincipalSlot(ss.Context())
			err := h(srv, &wrappedStream{ServerStream: ss, ctx: ctx})
			done(ctx, info.FullMethod, start, err)
			return err
		},
	}
}

func errorsInterceptor(log *slog.Logger) Interceptor {
	return Interceptor{
		Name: "errors",
		Unary: func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if f := takeUndecodable(req); f != nil {
				return nil, &apiError{f: f} // see codec.go
			}
			resp, err := h(ctx, req)
			if err != nil {
				return nil, toAPIError(ctx, log, info.FullMethod, err)
			}
			return resp, nil
		},
		Stream: func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			return toAPIError(ss.Context(), log, info.FullMethod, h(srv, decodingStream{ss}))
		},
	}
}

// decodingStream answers a message the codec could not decode with its
// fault (see codec.go).
type decodingStream struct{ grpc.ServerStream }

func (s decodingStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if f := takeUndecodable(m); f != nil {
		return &apiError{f: f}
	}
	return nil
}

// wrappedStream lets an interceptor replace a stream's context.
type wrappedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (w *wrappedStream) Context() context.Context { return w.ctx }
