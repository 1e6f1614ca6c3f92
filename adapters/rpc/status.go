package rpc

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/sanzhi/sanzhi/fault"
)

// ErrorDomain is google.rpc.ErrorInfo.domain for every error we return.
const ErrorDomain = "sanzhi.dev"

// apiError is a fault on its way to the client. It implements GRPCStatus,
// so grpc-go (and the gateway) render it with its details.
type apiError struct {
	f *fault.Error
}

func (e *apiError) Error() string { return e.f.Message }

// GRPCStatus renders the fault with Status.
func (e *apiError) GRPCStatus() *status.Status { return Status(e.f) }

// RetryDelay is the google.rpc.RetryInfo delay sent with every
// UNAVAILABLE: long enough for a dropped database connection to be
// re-established, short enough for a counter clerk to wait.
const RetryDelay = time.Second

// Status renders a fault as a status with google.rpc.ErrorInfo; for
// invalid input also google.rpc.BadRequest (each violation with its rule
// code and, where known, its zh-CN text as localized message); for
// UNAVAILABLE also google.rpc.RetryInfo. It is the one renderer of the
// error contract: the gRPC chain and the HTTP gateway both use it.
// Internal causes never appear.
func Status(f *fault.Error) *status.Status {
	st := status.New(codeOf(f.Kind), f.Message)
	details := []protoadapt.MessageV1{
		protoadapt.MessageV1Of(&errdetails.ErrorInfo{Reason: f.Reason, Domain: ErrorDomain}),
	}
	if len(f.Violations) > 0 {
		br := &errdetails.BadRequest{}
		for _, v := range f.Violations {
			fv := &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description, Reason: v.Reason}
			if v.ZH != "" {
				fv.LocalizedMessage = &errdetails.LocalizedMessage{Locale: "zh-CN", Message: v.ZH}
			}
			br.FieldViolations = append(br.FieldViolations, fv)
		}
		details = append(details, protoadapt.MessageV1Of(br))
	}
	if f.Kind == fault.Unavailable {
		details = append(details, protoadapt.MessageV1Of(&errdetails.RetryInfo{RetryDelay: durationpb.New(RetryDelay)}))
	}
	if withDetails, err := st.WithDetails(details...); err == nil {
		return withDetails
	}
	return st
}

func codeOf(k fault.Kind) codes.Code {
	switch k {
	case fault.Invalid:
		return codes.InvalidArgument
	case fault.NotFound:
		return codes.NotFound
	case fault.AlreadyExists:
		return codes.AlreadyExists
	case fault.PermissionDenied:
		return codes.PermissionDenied
	case fault.Unauthenticated:
		return codes.Unauthenticated
	case fault.FailedPrecondition:
		return codes.FailedPrecondition
	case fault.Unavailable:
		return codes.Unavailable
	case fault.ResourceExhausted:
		return codes.ResourceExhausted
	default:
		return codes.Internal
	}
}

// toAPIError is the one place a handler's error becomes what the client
// sees. Faults keep their message; anything else is logged and replaced by
// a generic INTERNAL so that SQL, file paths or keys never leak.
func toAPIError(ctx context.Context, log *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	// A store that lost its database says so however deep the domain
	// wrapped it, and before the context checks: a connect timeout is not
	// the caller's deadline.
	if f := unavailable(err); f != nil {
		log.WarnContext(ctx, "dependency unavailable", "method", method, "reason", f.Reason, "error", err)
		return &apiError{f: f}
	}
	if _, ok := status.FromError(err); ok && !isFault(err) {
		return err // already a status (e.g. from grpc itself)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return withInfo(codes.Canceled, "CANCELLED", "request cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return withInfo(codes.DeadlineExceeded, "DEADLINE_EXCEEDED", "deadline exceeded")
	}
	var f *fault.Error
	if !errors.As(err, &f) || f.Kind == fault.Internal {
		log.ErrorContext(ctx, "internal error", "method", method, "error", err)
		return internalError()
	}
	return &apiError{f: f}
}

// withInfo is a status of a code no fault kind has, with its ErrorInfo.
func withInfo(code codes.Code, reason, msg string) error {
	st := status.New(code, msg)
	if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: ErrorDomain}); err == nil {
		st = d
	}
	return st.Err()
}

// internalError is what a caller sees of any bug.
func internalError() error {
	return &apiError{f: &fault.Error{Kind: fault.Internal, Reason: "INTERNAL", Message: "internal error; it has been logged"}}
}

// unavailable finds an Unavailable fault anywhere in err's tree, even
// below an Internal one (a domain service wrapping a store error).
func unavailable(err error) *fault.Error {
	for err != nil {
		if f, ok := err.(*fault.Error); ok && f.Kind == fault.Unavailable {
			return f
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if f := unavailable(e); f != nil {
					return f
				}
			}
			return nil
		default:
			return nil
		}
	}
	return nil
}

func isFault(err error) bool {
	var f *fault.Error
	return errors.As(err, &f)
}
