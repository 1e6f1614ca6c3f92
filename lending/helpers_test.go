package lending

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
)

// requireFault checks err is a fault of kind with reason, returning it.
func requireFault(t *testing.T, err error, kind fault.Kind, reason string) *fault.Error {
	t.Helper()
	var f *fault.Error
	require.True(t, errors.As(err, &f), "want a fault, got %v", err)
	require.Equal(t, kind, f.Kind, "kind of %v", err)
	require.Equal(t, reason, f.Reason, "reason of %v", err)
	return f
}

// requireInvalidField checks err is an Invalid fault naming field.
func requireInvalidField(t *testing.T, err error, field string) {
	t.Helper()
	f := requireFault(t, err, fault.Invalid, "INVALID_ARGUMENT")
	var fields []string
	for _, v := range f.Violations {
		fields = append(fields, v.Field)
	}
	require.Contains(t, fields, field)
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }
