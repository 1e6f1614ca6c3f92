package gateway

import (
	"context"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/metadata"

	"github.com/sanzhi/sanzhi/adapters/rpc"
)

// WithClientCertForwarding makes an HTTPS caller's verified client
// certificate identify it as it would over gRPC: the gateway passes the
// certificate's common name to the gRPC chain with token, the secret the
// server's Authenticator was given (rpc.Authenticator.WithGatewayToken).
// The gateway's own connection to the gRPC listener carries no client
// certificate, so without this an mTLS-only bank would be UNAUTHENTICATED
// over HTTP.
func WithClientCertForwarding(token string) Option {
	return func(o *options) { o.certToken = token }
}

// forwardCert is the runtime.WithMetadata hook: the name of the client
// certificate the HTTP server verified (tls.Config.ClientCAs), if any.
func forwardCert(token string) func(context.Context, *http.Request) metadata.MD {
	return func(_ context.Context, r *http.Request) metadata.MD {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
			return nil
		}
		cn := r.TLS.VerifiedChains[0][0].Subject.CommonName
		if cn == "" {
			return nil
		}
		return metadata.Pairs(rpc.GatewayCertName, cn, rpc.GatewayCertToken, token)
	}
}

// headerMatcher is grpc-gateway's default (Grpc-Metadata-X becomes
// metadata X), less the keys only the gateway itself may set.
func headerMatcher(key string) (string, bool) {
	md, ok := runtime.DefaultHeaderMatcher(key)
	if ok && (strings.EqualFold(md, rpc.GatewayCertName) || strings.EqualFold(md, rpc.GatewayCertToken)) {
		return "", false
	}
	return md, ok
}
