// Package gateway serves the gRPC API as HTTP/JSON through grpc-gateway,
// plus the OpenAPI documents at /openapi.json (2.0) and /openapi3.json (3.0). It dials the server's own gRPC
// listener, so HTTP calls pass the same interceptor chain (authentication,
// authorisation, validation, audit) as gRPC calls.
package gateway

import (
	"context"
	"embed"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/encoding/protojson"

	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

//go:embed openapi/sanzhi.swagger.json openapi/sanzhi.openapi3.json
var openapi embed.FS

// OpenAPI returns the OpenAPI (Swagger 2.0) document of the HTTP API.
func OpenAPI() []byte {
	b, _ := openapi.ReadFile("openapi/sanzhi.swagger.json")
	return b
}

// OpenAPI3 returns the same document as OpenAPI 3.0, converted from the
// 2.0 one by tools/openapi.
func OpenAPI3() []byte {
	b, _ := openapi.ReadFile("openapi/sanzhi.openapi3.json")
	return b
}

// New returns the HTTP handler: the API under /v1/, /openapi.json and
// /openapi3.json.
// Request bodies are capped (limits.go) before anything reads them.
func New(ctx context.Context, grpcAddr string, creds credentials.TransportCredentials, opt ...Option) (http.Handler, error) {
	o := options{maxBody: DefaultMaxBodyBytes}
	for _, f := range opt {
		f(&o)
	}
	muxOpts := []runtime.ServeMuxOption{
		runtime.WithMarshalerOption(runtime.MIMEWildcard, marshaler{&runtime.JSONPb{
			// lowerCamelCase names, as the OpenAPI document and Google's
			// JSON mapping say; zero values shown so "dishonestDebtor":
			// false is explicit rather than absent.
			MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}}),
		// One error contract on both transports (errors.go).
		runtime.WithErrorHandler(errorHandler),
		runtime.WithRoutingErrorHandler(routingErrorHandler),
		runtime.WithStreamErrorHandler(streamErrorHandler),
		runtime.WithIncomingHeaderMatcher(headerMatcher),
	}
	if o.certToken != "" {
		muxOpts = append(muxOpts, runtime.WithMetadata(forwardCert(o.certToken)))
	}
	mux := runtime.NewServeMux(muxOpts...)
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds),
		grpc.WithChainUnaryInterceptor(utf8Unary), grpc.WithChainStreamInterceptor(utf8Stream)}
	opts = append(opts, o.dial...)
	for _, register := range []func(context.Context, *runtime.ServeMux, string, []grpc.DialOption) error{
		sanzhiv1.RegisterHouseholdServiceHandlerFromEndpoint,
		sanzhiv1.RegisterAuditServiceHandlerFromEndpoint,
		sanzhiv1.RegisterCatalogueServiceHandlerFromEndpoint,
		sanzhiv1.RegisterPolicyServiceHandlerFromEndpoint,
		sanzhiv1.RegisterModelRiskServiceHandlerFromEndpoint,
		sanzhiv1.RegisterDividendServiceHandlerFromEndpoint,
		sanzhiv1.RegisterEvidenceServiceHandlerFromEndpoint,
		sanzhiv1.RegisterPointsServiceHandlerFromEndpoint,
		sanzhiv1.RegisterShopServiceHandlerFromEndpoint,
		sanzhiv1.RegisterConsentServiceHandlerFromEndpoint,
		sanzhiv1.RegisterCreditServiceHandlerFromEndpoint,
		sanzhiv1.RegisterWebhookServiceHandlerFromEndpoint,
	} {
		if err := register(ctx, mux, grpcAddr, opts); err != nil {
			return nil, err
		}
	}
	root := http.NewServeMux()
	root.Handle("/v1/", mux)
	root.HandleFunc("/", notFound)
	for path, doc := range map[string][]byte{"/openapi.json": OpenAPI(), "/openapi3.json": OpenAPI3()} {
		root.HandleFunc("GET "+path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(doc)
		})
	}
	return limit(mux, o.maxBody, root), nil
}
