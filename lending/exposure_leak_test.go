package lending

import (
	"errors"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
)

// The refusal goes to the bank asking for a drawdown: it must not tell
// that bank what the household has drawn at other banks, nor the cap the
// sum is held to (issue 11, finding 5). No figure at all.
func TestTotalExposureRefusalStatesNoFigures(t *testing.T) {
	digits := regexp.MustCompile(`[0-9０-９]`)
	for _, c := range []struct{ other, this, cap_ string }{
		{"150000", "50000.01", "200000"},
		{"300000", "0", "200000"},
		{"123456.78", "1", "123456.78"},
	} {
		err := CheckTotalExposure(dec(c.other), dec(c.this), dec(c.cap_))
		require.Error(t, err)
		var f *fault.Error
		require.True(t, errors.As(err, &f))
		assert.Equal(t, ReasonTotalExposureExceeded, f.Reason)
		assert.NotRegexp(t, digits, f.Message, "the refusal states a figure")
		assert.NotRegexp(t, digits, err.Error())
	}
}
