package rpc

import (
	"context"
	"crypto/subtle"
	"net"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/fault"
)

// Authenticator identifies the caller of every non-public RPC: by API key
// (gRPC metadata "authorization: Bearer KEY", which the HTTP gateway fills
// from the Authorization header) or by a verified client certificate whose
// common name is a bank principal's name: presented on the gRPC connection,
// or on the HTTPS connection and forwarded by this server's HTTP gateway
// (GatewayCertName, vouched for by the gateway's token).
type Authenticator struct {
	store access.Store
	// demo accepts demo principals, and only from loopback peers.
	demo  bool
	cache *keyCache
	// limits are the rate limits (ratelimit.go); nil limits nothing.
	limits *limiter
	// gatewayToken is the secret the in-process HTTP gateway sends beside
	// a certificate name it verified; empty accepts no forwarded name.
	gatewayToken string
}

// Metadata the HTTP gateway sends for an HTTPS caller whose client
// certificate the HTTP server verified: the certificate's common name
// (binary metadata: a name need not be printable ASCII) and the token that
// shows the gateway, not the caller, set it. The gateway drops the same
// keys from an HTTP request's Grpc-Metadata-* headers.
const (
	GatewayCertName  = "sanzhi-gateway-client-cn-bin"
	GatewayCertToken = "sanzhi-gateway-token"
)

// WithGatewayToken accepts client certificate names the HTTP gateway
// forwards with token (a per-process random secret the server hands to
// both). Without it a forwarded name is refused.
func (a *Authenticator) WithGatewayToken(token string) *Authenticator {
	a.gatewayToken = token
	return a
}

// KeyCacheTTL is how long a key's principal is trusted without a store
// read. It is the longest a revocation takes to bite: a trade of a few
// seconds against a database round trip on every RPC.
const KeyCacheTTL = 5 * time.Second

// NewAuthenticator returns an Authenticator over store.
func NewAuthenticator(store access.Store, demo bool) *Authenticator {
	return &Authenticator{store: store, demo: demo, cache: newKeyCache(KeyCacheTTL, 10_000)}
}

// keyCache remembers principals found by key hash for a short time.
type keyCache struct {
	mu   sync.Mutex
	ttl  time.Duration
	max  int
	byID map[string]cachedPrincipal
}

type cachedPrincipal struct {
	p       *access.Principal
	expires time.Time
}

func newKeyCache(ttl time.Duration, max int) *keyCache {
	return &keyCache{ttl: ttl, max: max, byID: map[string]cachedPrincipal{}}
}

func (c *keyCache) get(hash []byte, now time.Time) *access.Principal {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[string(hash)]
	if !ok || now.After(e.expires) {
		return nil
	}
	return e.p
}

func (c *keyCache) put(hash []byte, p *access.Principal, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byID) >= c.max {
		// Rare (more live keys than max within one TTL): start afresh
		// rather than track recency.
		clear(c.byID)
	}
	c.byID[string(hash)] = cachedPrincipal{p: p, expires: now.Add(c.ttl)}
}

func unauthenticated(format string, args ...any) error {
	return fault.New(fault.Unauthenticated, "UNAUTHENTICATED", format, args...)
}

// Authenticate returns the principal calling with ctx.
func (a *Authenticator) Authenticate(ctx context.Context) (*access.Principal, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	auth := md.Get("authorization")
	var p *access.Principal
	switch {
	case len(auth) > 1:
		return nil, unauthenticated("send one authorization header, not %d", len(auth))
	case len(auth) == 1:
		key, ok := strings.CutPrefix(auth[0], "Bearer ")
		if !ok || !strings.HasPrefix(key, access.KeyPrefix) {
			return nil, unauthenticated("authorization must be \"Bearer %s...\"", access.KeyPrefix)
		}
		hash := access.HashKey(key)
		now := time.Now()
		if p = a.cache.get(hash, now); p == nil {
			found, err := a.store.PrincipalByKey(ctx, hash)
			if fault.Is(err, fault.NotFound) {
				return nil, unauthenticated("unknown API key")
			}
			if err != nil {
				return nil, err
			}
			p = found
			a.cache.put(hash, p, now)
		}
	default:
		cn := clientCertName(ctx)
		if cn == "" {
			fwd, err := a.forwardedCertName(md)
			if err != nil {
				return nil, err
			}
			cn = fwd
		}
		if cn == "" {
			return nil, unauthenticated("missing credentials: send \"authorization: Bearer KEY\" or a client certificate")
		}
		found, err := a.store.PrincipalByName(ctx, cn)
		if fault.Is(err, fault.NotFound) {
			return nil, unauthenticated("client certificate %q names no principal", cn)
		}
		if err != nil {
			return nil, err
		}
		if found.Role != access.BankOfficer && found.Role != access.BankRisk {
			return nil, unauthenticated("client certificates identify bank principals only")
		}
		p = found
	}
	if !p.Active() {
		return nil, unauthenticated("credentials of %s were revoked", p.Name)
	}
	if p.Demo && (!a.demo || !fromLoopback(ctx)) {
		return nil, unauthenticated("demo credentials work only in demo mode from loopback")
	}
	return p, nil
}

// forwardedCertName returns the certificate name the HTTP gateway
// forwarded, "" when there is none. A name without the gateway's token is
// someone else's claim, and refused.
func (a *Authenticator) forwardedCertName(md metadata.MD) (string, error) {
	names, tokens := md.Get(GatewayCertName), md.Get(GatewayCertToken)
	if len(names) == 0 && len(tokens) == 0 {
		return "", nil
	}
	if a.gatewayToken == "" || len(names) != 1 || len(tokens) != 1 ||
		subtle.ConstantTimeCompare([]byte(tokens[0]), []byte(a.gatewayToken)) != 1 {
		return "", unauthenticated("a client certificate name is accepted only from the server's own HTTP gateway: " +
			"present the certificate on the TLS connection itself")
	}
	return names[0], nil
}

// clientCertName returns the common name of a verified client certificate.
func clientCertName(ctx context.Context) string {
	pr, ok := peer.FromContext(ctx)
	if !ok {
		return ""
	}
	info, ok := pr.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return ""
	}
	return info.State.VerifiedChains[0][0].Subject.CommonName
}

func fromLoopback(ctx context.Context) bool {
	pr, ok := peer.FromContext(ctx)
	if !ok {
		return false
	}
	switch addr := pr.Addr.(type) {
	case *net.TCPAddr:
		return addr.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	default:
		// bufconn and other in-process listeners.
		host, _, err := net.SplitHostPort(pr.Addr.String())
		if err != nil {
			return pr.Addr.Network() == "bufconn"
		}
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback()
	}
}

func (a *Authenticator) interceptor() Interceptor {
	authenticate := func(ctx context.Context, method string) (context.Context, error) {
		if isPublic(method) {
			return ctx, nil
		}
		if err := a.limits.beforeAuth(ctx); err != nil {
			return ctx, err
		}
		p, err := a.Authenticate(ctx)
		if err != nil {
			a.limits.failed(ctx)
			return ctx, err
		}
		fillSlot(ctx, p)
		return access.WithPrincipal(ctx, p), nil
	}
	return Interceptor{
		Name: "authentication",
		Unary: func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			ctx, err := authenticate(ctx, info.FullMethod)
			if err != nil {
				return nil, err
			}
			return h(ctx, req)
		},
		Stream: func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			ctx, err := authenticate(ss.Context(), info.FullMethod)
			if err != nil {
				return err
			}
			return h(srv, &wrappedStream{ServerStream: ss, ctx: ctx})
		},
	}
}
