// Package fault defines the kinds of failure the domain reports, without
// knowing about any transport. Adapters map a Kind to a protocol status in
// one place (adapters/rpc/status.go); everything else only creates and
// inspects faults.
package fault

import (
	"errors"
	"fmt"
)

// Kind classifies a failure by what the caller can do about it.
type Kind int

const (
	// Internal means a bug or an infrastructure failure; its cause is never
	// shown to callers.
	Internal Kind = iota
	// Invalid means the request is malformed; Violations say which fields.
	Invalid
	// NotFound means the named resource does not exist (or is not visible).
	NotFound
	// AlreadyExists means a resource with the same identity exists.
	AlreadyExists
	// PermissionDenied means the caller is known but may not do this.
	PermissionDenied
	// Unauthenticated means the caller could not be identified.
	Unauthenticated
	// FailedPrecondition means the system is not in a state that allows it.
	FailedPrecondition
	// Unavailable means a dependency is down or overloaded; retrying later
	// may succeed. Transports add a retry delay (google.rpc.RetryInfo). The
	// stores report a lost or refused database connection as Unavailable
	// with reason StoreUnavailable, and lock contention that outlasted
	// their retries as Unavailable too (CONTENTION, STORE_BUSY).
	//
	// There is deliberately no Aborted kind: a lost optimistic check is
	// FailedPrecondition with reason CONCURRENT_CHANGE.
	Unavailable
	// ResourceExhausted means the caller has used up an allowance (too many
	// failed sign-ins, say); waiting, not retrying at once, may succeed.
	// It is last so the values above keep their numbers.
	ResourceExhausted
)

// StoreUnavailable is the reason of the Unavailable fault a store returns
// when its database cannot be reached (connection refused, dropped or
// administratively terminated, pool closed).
const StoreUnavailable = "STORE_UNAVAILABLE"

func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case NotFound:
		return "not found"
	case AlreadyExists:
		return "already exists"
	case PermissionDenied:
		return "permission denied"
	case Unauthenticated:
		return "unauthenticated"
	case FailedPrecondition:
		return "failed precondition"
	case Unavailable:
		return "unavailable"
	case ResourceExhausted:
		return "resource exhausted"
	default:
		return "internal"
	}
}

// Violation names one bad field of a request.
type Violation struct {
	// Field is the request field path, e.g. "household.head_id_number".
	Field string
	// Description says what is wrong, e.g. "check digit is 7, got X".
	Description string
	// ZH, when set, is Description in zh-CN for people at a village
	// counter; transports send it as the violation's localized message.
	ZH string
	// Reason, when set, is a stable code of the broken rule, e.g.
	// "string.pattern" or "UNKNOWN_FIELD".
	Reason string
}

// Error is a classified failure. Message is safe to show to the caller;
// Err (the cause) is for logs only.
type Error struct {
	Kind Kind
	// Reason is a stable UPPER_SNAKE_CASE code for machines
	// (google.rpc.ErrorInfo.reason), e.g. "HOUSEHOLD_NOT_FOUND".
	Reason     string
	Message    string
	Violations []Violation
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New returns a fault of the given kind and reason.
func New(k Kind, reason, format string, args ...any) *Error {
	return &Error{Kind: k, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns a fault that keeps err as its (hidden) cause.
func Wrap(err error, k Kind, reason, format string, args ...any) *Error {
	return &Error{Kind: k, Reason: reason, Message: fmt.Sprintf(format, args...), Err: err}
}

// KindOf reports the kind of the first fault in err's chain, Internal when
// there is none.
func KindOf(err error) Kind {
	var f *Error
	if errors.As(err, &f) {
		return f.Kind
	}
	return Internal
}

// Is reports whether err carries a fault of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// Violations collects field violations; Err returns nil when there are none,
// so validation code reads top to bottom without early returns.
type Violations []Violation

// Add records a violation of field.
func (v *Violations) Add(field, format string, args ...any) {
	*v = append(*v, Violation{Field: field, Description: fmt.Sprintf(format, args...)})
}

// Err returns an Invalid fault listing the violations, or nil.
func (v Violations) Err() error {
	if len(v) == 0 {
		return nil
	}
	msg := "invalid request: " + v[0].Field + ": " + v[0].Description
	if len(v) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(v)-1)
	}
	return &Error{Kind: Invalid, Reason: "INVALID_ARGUMENT", Message: msg, Violations: v}
}

// InvalidField returns an Invalid fault for a single field.
func InvalidField(field, format string, args ...any) error {
	var v Violations
	v.Add(field, format, args...)
	return v.Err()
}
