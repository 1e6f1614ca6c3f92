package paging

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
)

func TestTokenRoundTripAndScope(t *testing.T) {
	scope := "entries|actor\x00action\x00" // scopes may hold NULs
	var v fault.Violations
	assert.Equal(t, "01a2-7", Cursor(Token(scope, "01a2-7"), scope, &v))
	n, ok := IntCursor(Token(scope, "42"), scope, &v)
	assert.True(t, ok)
	assert.Equal(t, int64(42), n)
	require.NoError(t, v.Err())

	assert.Equal(t, "", Cursor("", scope, &v), "no token, no cursor")
	require.NoError(t, v.Err())

	for _, bad := range []string{"!!", Token("other", "1"), Token(scope, ""), "AAAA"} {
		var v fault.Violations
		Cursor(bad, scope, &v)
		require.Error(t, v.Err(), "%q", bad)
		assert.Equal(t, "page_token", v[0].Field)
	}
	var v2 fault.Violations
	_, ok = IntCursor(Token(scope, "-3"), scope, &v2)
	assert.False(t, ok)
	require.Error(t, v2.Err())
}

func TestLimit(t *testing.T) {
	for _, tc := range []struct {
		in   int32
		want int
		bad  bool
	}{{0, DefaultSize, false}, {1, 1, false}, {MaxSize, MaxSize, false}, {-1, 0, true}, {MaxSize + 1, 0, true}} {
		var v fault.Violations
		assert.Equal(t, tc.want, Limit(tc.in, &v), "%d", tc.in)
		assert.Equal(t, tc.bad, v.Err() != nil, "%d", tc.in)
	}
}
