package server

import (
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/sanzhi/sanzhi/adapters/rpc"
)

// Limits bound what one caller can make the server spend, most of them
// before the caller is authenticated. Zero fields take the defaults below;
// cmd/sanzhid sets them from flags.
type Limits struct {
	// MaxRequestBytes caps an HTTP request body (413 beyond it, checked
	// before anything is read or authenticated) and a gRPC request message
	// (RESOURCE_EXHAUSTED). Default 4 MiB.
	MaxRequestBytes int64
	// HTTP server timeouts. ReadHeader cuts slow-loris clients; Read and
	// Write bound one request and its answer, except that the streaming
	// endpoints (WatchCreditLines as NDJSON) clear both deadlines; Idle
	// closes kept-alive connections nobody uses.
	HTTPReadHeaderTimeout time.Duration // default 10 s
	HTTPReadTimeout       time.Duration // default 60 s: 4 MiB at about 0.5 Mbit/s
	HTTPWriteTimeout      time.Duration // default 120 s: a county-wide simulation answers within it
	HTTPIdleTimeout       time.Duration // default 120 s
	// MaxConcurrentStreams bounds the RPCs one gRPC connection may have
	// open at once (default 256).
	MaxConcurrentStreams uint32
	// WatchStreamsPerBank bounds the open WatchCreditLines streams of one
	// bank, over gRPC and HTTP together (default rpc.DefaultWatchStreams).
	WatchStreamsPerBank int
	// Rate limits; see rpc.RateLimits. A zero value takes
	// rpc.DefaultRateLimits; Off turns them off (load tests).
	Rate rpc.RateLimits
}

// DefaultMaxRequestBytes is the default of Limits.MaxRequestBytes.
const DefaultMaxRequestBytes = 4 << 20

func (l Limits) withDefaults() Limits {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if l.MaxRequestBytes <= 0 {
		l.MaxRequestBytes = DefaultMaxRequestBytes
	}
	def(&l.HTTPReadHeaderTimeout, 10*time.Second)
	def(&l.HTTPReadTimeout, 60*time.Second)
	def(&l.HTTPWriteTimeout, 120*time.Second)
	def(&l.HTTPIdleTimeout, 120*time.Second)
	if l.MaxConcurrentStreams == 0 {
		l.MaxConcurrentStreams = 256
	}
	if l.WatchStreamsPerBank <= 0 {
		l.WatchStreamsPerBank = rpc.DefaultWatchStreams
	}
	l.Rate = l.Rate.WithDefaults()
	return l
}

// requireTLSOffLoopback refuses to serve plaintext on an address other
// machines can reach: API keys and household data would cross the network
// in clear. A TLS-terminating proxy in front is the usual way out, which
// is what the flag is for.
func requireTLSOffLoopback(addrs ...string) error {
	for _, a := range addrs {
		ok, err := loopbackAddr(a)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("refusing to serve without TLS on %s, which other machines can reach: "+
				"give --tls-cert and --tls-key, or listen on 127.0.0.1 behind a TLS-terminating proxy, "+
				"or pass --insecure-allow-plaintext if the network itself is trusted", a)
		}
	}
	return nil
}

// grpcOptions are the gRPC server's transport limits. The receive cap is
// grpc-go's default written out, so it moves with --max-request-bytes. The
// keepalive policy answers a client pinging more often than every 20 s
// with GOAWAY (a ping flood costs the server a write each), and the server
// pings an idle connection after 2 min and drops it when the client does
// not answer within 20 s (a dead peer's streams and their watch slots are
// freed); connections without RPCs for 15 min are closed.
func (l Limits) grpcOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(int(l.MaxRequestBytes)),
		grpc.MaxConcurrentStreams(l.MaxConcurrentStreams),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 20 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: 15 * time.Minute,
			Time: 2 * time.Minute, Timeout: 20 * time.Second}),
	}
}
