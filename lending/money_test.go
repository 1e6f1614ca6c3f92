package lending

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckAmount(t *testing.T) {
	good := []struct{ in, want string }{
		{"0.01", "0.01"},
		{"1", "1"},
		{"1234.5", "1234.5"},
		{"1234.56", "1234.56"},
		{"1.000", "1"}, // trailing zeros are still whole fen
		{"100000000", "100000000"},
		{"100000000.00", "100000000"},
	}
	for _, tt := range good {
		t.Run("ok "+tt.in, func(t *testing.T) {
			d, err := CheckAmount("drawdown.amount", tt.in)
			require.NoError(t, err)
			assert.True(t, d.Equal(dec(tt.want)), "got %s", d)
		})
	}
	bad := []string{
		"0.001", "0", "0.00", "-5", "-0.01", "1e30", "1E2", "abc", "", " 5", "5 ", "+5",
		"1,000", "100000000.01", "1000000000", "NaN", "Inf", "0x10", ".5", "5.",
		strings.Repeat("9", 100),
	}
	for _, in := range bad {
		t.Run("bad "+in, func(t *testing.T) {
			_, err := CheckAmount("drawdown.amount", in)
			requireInvalidField(t, err, "drawdown.amount")
		})
	}
}
