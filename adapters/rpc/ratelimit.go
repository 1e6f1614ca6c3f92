package rpc

import (
	"context"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/sanzhi/sanzhi/access"
)

// RateLimits are token buckets: Rate requests a second refill a bucket of
// Burst. A Rate of 0 turns that bucket off.
type RateLimits struct {
	// Off turns every bucket off (load tests).
	Off bool
	// PerPrincipal limits every authenticated RPC (a stream counts once,
	// at open), keyed by principal.
	PerPrincipal float64
	Burst        int
	// PerPeer limits failed authentications per client address (an IPv6
	// address by its /64). Checked before authentication is attempted, so
	// a peer out of tokens costs no key lookup. Requests that authenticate
	// do not spend it: offices behind one NAT are not throttled together.
	PerPeer   float64
	PeerBurst int
}

// DefaultRateLimits leave every interactive use far from a limit (the
// bank tour in the tests, a clerk's day, a bank's nightly loop of
// assessments run at 50 a second) while a runaway or hostile client is
// slowed to that.
var DefaultRateLimits = RateLimits{PerPrincipal: 50, Burst: 200, PerPeer: 1, PeerBurst: 30}

// WithDefaults returns l, or DefaultRateLimits when l is the zero value.
func (l RateLimits) WithDefaults() RateLimits {
	if l == (RateLimits{}) {
		return DefaultRateLimits
	}
	return l
}

// ReasonRateLimited is the ErrorInfo reason of a refused request.
const ReasonRateLimited = "RATE_LIMITED"

// maxBuckets bounds each table of buckets; past it, buckets that are
// full again (indistinguishable from new ones) are dropped.
const maxBuckets = 100_000

// buckets is one token bucket per key.
type buckets struct {
	rate  float64
	burst float64
	mu    sync.Mutex
	m     map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newBuckets(rate float64, burst int) *buckets {
	if rate <= 0 {
		return nil
	}
	if burst < 1 {
		burst = 1
	}
	return &buckets{rate: rate, burst: float64(burst), m: map[string]*bucket{}}
}

// refill brings b up to now and returns it; the caller holds mu.
func (bs *buckets) refill(key string, now time.Time) *bucket {
	b, ok := bs.m[key]
	if !ok {
		if len(bs.m) >= maxBuckets {
			bs.sweep(now)
		}
		b = &bucket{tokens: bs.burst, last: now}
		bs.m[key] = b
		return b
	}
	if now.After(b.last) {
		b.tokens = math.Min(bs.burst, b.tokens+now.Sub(b.last).Seconds()*bs.rate)
		b.last = now
	}
	return b
}

func (bs *buckets) sweep(now time.Time) {
	for k, b := range bs.m {
		if b.tokens+now.Sub(b.last).Seconds()*bs.rate >= bs.burst {
			delete(bs.m, k)
		}
	}
	if len(bs.m) >= maxBuckets {
		clear(bs.m) // everyone is busy: forget rather than grow without bound
	}
}

// wait is how long until key has a token; 0 when it has one now. A nil
// table never waits.
func (bs *buckets) wait(key string, now time.Time) time.Duration {
	if bs == nil {
		return 0
	}
	bs.mu.Lock()
	defer bs.mu.Unlock()
	return bs.waitLocked(bs.refill(key, now))
}

func (bs *buckets) waitLocked(b *bucket) time.Duration {
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - b.tokens) / bs.rate * float64(time.Second)))
}

// take spends a token of key, or returns how long until one is there.
func (bs *buckets) take(key string, now time.Time) time.Duration {
	if bs == nil {
		return 0
	}
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.refill(key, now)
	if d := bs.waitLocked(b); d > 0 {
		return d
	}
	b.tokens--
	return 0
}

// spend takes a token of key if there is one, without refusing: a failed
// authentication has already happened.
func (bs *buckets) spend(key string, now time.Time) {
	if bs == nil {
		return
	}
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if b := bs.refill(key, now); b.tokens > 0 {
		b.tokens = math.Max(0, b.tokens-1)
	}
}

// limiter holds the buckets of an Authenticator. A nil *limiter limits
// nothing.
type limiter struct {
	now       func() time.Time
	principal *buckets
	peer      *buckets
}

func newLimiter(l RateLimits, now func() time.Time) *limiter {
	if l.Off {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return &limiter{now: now, principal: newBuckets(l.PerPrincipal, l.Burst),
		peer: newBuckets(l.PerPeer, l.PeerBurst)}
}

// rateLimited is RESOURCE_EXHAUSTED with ErrorInfo (which limit, in
// metadata) and RetryInfo (when a token will be there).
func rateLimited(which, msg string, retry time.Duration) error {
	st := status.New(codes.ResourceExhausted, msg+"; retry after "+retry.Round(time.Millisecond).String())
	if d, err := st.WithDetails(
		&errdetails.ErrorInfo{Reason: ReasonRateLimited, Domain: ErrorDomain,
			Metadata: map[string]string{"limit": which, "retry_after_ms": strconv.FormatInt(retry.Milliseconds(), 10)}},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(retry)},
	); err == nil {
		st = d
	}
	return st.Err()
}

// beforeAuth refuses a peer that has used up its failed authentications,
// before any key is looked up.
func (l *limiter) beforeAuth(ctx context.Context) error {
	if l == nil || l.peer == nil {
		return nil
	}
	if d := l.peer.wait(peerKey(ctx), l.now()); d > 0 {
		return rateLimited("peer", "too many unauthenticated requests from your address", d)
	}
	return nil
}

// failed charges the peer for a failed authentication.
func (l *limiter) failed(ctx context.Context) {
	if l != nil {
		l.peer.spend(peerKey(ctx), l.now())
	}
}

// allow charges p for one RPC.
func (l *limiter) allow(p *access.Principal) error {
	if l == nil || p == nil {
		return nil
	}
	now := l.now()
	if d := l.principal.take(p.ID, now); d > 0 {
		return rateLimited("principal", "too many requests from "+p.Name, d)
	}
	return nil
}

// rateLimit is the chain link right after authentication.
func (a *Authenticator) rateLimit() Interceptor {
	return Interceptor{
		Name: "ratelimit",
		Unary: func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if err := a.limits.allow(access.FromContext(ctx)); err != nil {
				return nil, err
			}
			return h(ctx, req)
		},
		Stream: func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if err := a.limits.allow(access.FromContext(ss.Context())); err != nil {
				return err
			}
			return h(srv, ss)
		},
	}
}

// WithRateLimits makes a limit the chain enforces; now is the clock (nil:
// time.Now). Without it nothing is limited (tests of other things).
func (a *Authenticator) WithRateLimits(l RateLimits, now func() time.Time) *Authenticator {
	a.limits = newLimiter(l, now)
	return a
}

// peerKey is the client's address for per-peer limits: the peer's IP, or,
// when the peer is this host (the HTTP gateway dialling its own gRPC
// listener), the address the gateway saw, which it appends last to
// x-forwarded-for. An IPv6 address counts by its /64, the block one
// subscriber gets.
func peerKey(ctx context.Context) string {
	pr, ok := peer.FromContext(ctx)
	if !ok || pr.Addr == nil {
		return "unknown"
	}
	ip := addrIP(pr.Addr)
	if ip == nil {
		return pr.Addr.Network() // bufconn, unix: one local peer
	}
	if local := addrIP(pr.LocalAddr); ip.IsLoopback() || (local != nil && local.Equal(ip)) {
		if md, ok := metadata.FromIncomingContext(ctx); ok {
			if vs := md.Get("x-forwarded-for"); len(vs) > 0 {
				parts := strings.Split(vs[len(vs)-1], ",")
				if fwd := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); fwd != nil {
					ip = fwd
				}
			}
		}
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

func addrIP(a net.Addr) net.IP {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP
	case nil:
		return nil
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return nil
	}
	return net.ParseIP(host)
}
