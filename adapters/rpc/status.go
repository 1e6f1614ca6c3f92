package rpc

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

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

// GRPCStatus renders the fault as a status with google.rpc.ErrorInfo and,
// for invalid input, google.rpc.BadRequest. Internal causes never appear.
func (e *apiError) GRPCStatus() *status.Status {
	st := status.New(codeOf(e.f.Kind), e.f.Message)
	details := []protoadapt.MessageV1{
		protoadapt.MessageV1Of(&errdetails.ErrorInfo{Reason: e.f.Reason, Domain: ErrorDomain}),
	}
	if len(e.f.Violations) > 0 {
		br := &errdetails.BadRequest{}
		for _, v := range e.f.Violations {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
				Field: v.Field, Description: v.Description,
			})
		}
		details = append(details, protoadapt.MessageV1Of(br))
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
	if _, ok := status.FromError(err); ok && !isFault(err) {
		return err // already a status (e.g. from grpc itself)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	var f *fault.Error
	if !errors.As(err, &f) || f.Kind == fault.Internal {
		log.ErrorContext(ctx, "internal error", "method", method, "error", err)
		return &apiError{f: &fault.Error{Kind: fault.Internal, Reason: "INTERNAL", Message: "internal error; it has been logged"}}
	}
	if f.Kind == fault.Unavailable {
		log.WarnContext(ctx, "dependency unavailable", "method", method, "error", err)
	}
	return &apiError{f: f}
}

func isFault(err error) bool {
	var f *fault.Error
	return errors.As(err, &f)
}
