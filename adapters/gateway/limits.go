package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sanzhi/sanzhi/adapters/rpc"
)

// Option configures New.
type Option func(*options)

type options struct {
	maxBody   int64
	certToken string // mtls.go; empty forwards no certificate
	dial      []grpc.DialOption
}

// WithDialOptions adds options to the gateway's connection to the gRPC
// listener (the server adds otelgrpc's client handler, which carries the
// HTTP request's trace context on to the gRPC server).
func WithDialOptions(d ...grpc.DialOption) Option {
	return func(o *options) { o.dial = append(o.dial, d...) }
}

// DefaultMaxBodyBytes caps a request body when no option says otherwise.
const DefaultMaxBodyBytes = 4 << 20

// WithMaxBodyBytes caps request bodies at n bytes (DefaultMaxBodyBytes
// when n <= 0).
func WithMaxBodyBytes(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.maxBody = n
		}
	}
}

// ReasonRequestTooLarge is the ErrorInfo reason of a 413.
const ReasonRequestTooLarge = "REQUEST_TOO_LARGE"

// isStream tells the streaming endpoints (WatchCreditLines as NDJSON),
// which run as long as the client listens.
func isStream(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, ":watch")
}

// limit runs before the gateway decodes anything, so before the request is
// authenticated (that happens in the gRPC chain the gateway calls): a body
// declared larger than max is refused without reading a byte of it; a
// body of unknown length (chunked) is read up to max and refused past it.
// Streams get their server deadlines cleared instead: the http.Server
// read and write timeouts bound ordinary requests, not a watch.
func limit(mux *runtime.ServeMux, max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.ContentLength > max:
			tooLarge(mux, w, r, max)
			return
		case r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody:
			// The gateway reads whole bodies anyway; reading it here,
			// bounded, lets an overflow be told apart from bad JSON.
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
			var tooBig *http.MaxBytesError
			switch {
			case errors.As(err, &tooBig):
				tooLarge(mux, w, r, max)
				return
			case err != nil:
				// The client went away or was too slow (ReadTimeout).
				w.Header().Set("Connection", "close")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		default:
			r.Body = http.MaxBytesReader(w, r.Body, max)
		}
		if isStream(r) {
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Time{})
			_ = rc.SetWriteDeadline(time.Time{})
		}
		next.ServeHTTP(w, r)
	})
}

// tooLarge answers 413 with the body every gateway error has (a
// google.rpc.Status with ErrorInfo), through the mux's own error handler,
// and closes the connection so the rest of the body is never read.
func tooLarge(mux *runtime.ServeMux, w http.ResponseWriter, r *http.Request, max int64) {
	st := status.New(codes.ResourceExhausted, fmt.Sprintf("the request body is larger than the %d bytes this server accepts", max))
	if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: ReasonRequestTooLarge, Domain: rpc.ErrorDomain,
		Metadata: map[string]string{"max_bytes": strconv.FormatInt(max, 10)}}); err == nil {
		st = d
	}
	w.Header().Set("Connection", "close")
	_, out := runtime.MarshalerForRequest(mux, r)
	runtime.HTTPError(r.Context(), mux, out, w, r, &runtime.HTTPStatusError{HTTPStatus: http.StatusRequestEntityTooLarge, Err: st.Err()})
}
