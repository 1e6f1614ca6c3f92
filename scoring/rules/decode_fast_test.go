package rules

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fast path decodes every canonical input exactly as the general
// path does, and declines everything that is not canonical.
func TestDecodeCanonicalMatchesJSON(t *testing.T) {
	g := newGen(17)
	for i := range 3000 {
		b := g.input().Canonical()
		fast, ok := decodeCanonical(b)
		require.True(t, ok, "case %d: %s", i, b)
		slow, err := decodeJSON(b)
		require.NoError(t, err)
		require.Equal(t, slow, fast, "case %d", i)
	}
	b := typical().Canonical()
	for _, odd := range [][]byte{
		bytes.Replace(b, []byte(`"applicant.age":`), []byte(`"applicant.age": `), 1), // whitespace
		bytes.Replace(b, []byte(`"points.credit":"115"`), []byte(`"points.credit":115`), 1),
		bytes.Replace(b, []byte(`"points.credit":"115"`), []byte(`"points.credit":"115.0"`), 1), // not canonical
		bytes.Replace(b, []byte(`"applicant.age":45`), []byte(`"applicant.age":"45"`), 1),
		bytes.Replace(b, []byte(`"applicant.age":45,`), nil, 1),                // missing
		append(bytes.Clone(b[:len(b)-2]), []byte(`,"item.FZ-PA-08":"0"}}`)...), // a zero item
		bytes.Replace(b, []byte(`}}`), []byte(`}} `), 1),
		[]byte(`not json`),
	} {
		_, ok := decodeCanonical(odd)
		assert.False(t, ok, "%s", odd)
		fromJSON, errJSON := decodeJSON(odd)
		got, err := DecodeInput(odd)
		assert.Equal(t, errJSON == nil, err == nil, "%s", odd)
		assert.Equal(t, fromJSON, got)
	}
}
