package audit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// HasColumns must agree with parsing the entry and comparing its four
// values, including when a payload value or the strings themselves carry
// text shaped like the members HasColumns looks for.
func TestHasColumns(t *testing.T) {
	tricky := sampleEntry()
	tricky.Subject = `a","subject":"b`
	tricky.Actor = `x\",\"actor\":\"y\\`
	tricky.Payload = map[string]string{"subject": "b", "z": `","subject":"b","time":"2025-03-01T00:09:10.123456Z"}`}
	for name, e := range map[string]Entry{"sample": sampleEntry(), "tricky": tricky} {
		t.Run(name, func(t *testing.T) {
			data := e.Canonical()
			p, err := ParseEntry(data)
			require.NoError(t, err)
			tm := p.Time
			assert.True(t, HasColumns(data, p.Action, p.Actor, p.Subject, tm))
			assert.True(t, HasColumns(data, p.Action, p.Actor, p.Subject, tm.In(time.FixedZone("CST", 8*3600))), "same instant, another zone")
			for what, ok := range map[string]bool{
				"action":           HasColumns(data, p.Action+"x", p.Actor, p.Subject, tm),
				"actor":            HasColumns(data, p.Action, p.Actor[1:], p.Subject, tm),
				"subject":          HasColumns(data, p.Action, p.Actor, "b", tm),
				"subject suffix":   HasColumns(data, p.Action, p.Actor, p.Subject[1:], tm),
				"time":             HasColumns(data, p.Action, p.Actor, p.Subject, tm.Add(time.Microsecond)),
				"time nanoseconds": HasColumns(data, p.Action, p.Actor, p.Subject, tm.Add(time.Nanosecond)),
				"invalid UTF-8":    HasColumns(data, p.Action, p.Actor, p.Subject+"\xff", tm),
				"truncated data":   HasColumns(data[:len(data)-1], p.Action, p.Actor, p.Subject, tm),
			} {
				assert.False(t, ok, what)
			}
		})
	}
}

// Every single-byte change of a canonical entry that still parses
// changes what HasColumns says only if it changes one of the four values.
func TestHasColumnsMutations(t *testing.T) {
	e := sampleEntry()
	data := e.Canonical()
	orig, err := ParseEntry(data)
	require.NoError(t, err)
	for i := range data {
		for _, c := range []byte{'a', '0', '"', '\\', ','} {
			m := append([]byte(nil), data...)
			m[i] = c
			p, err := ParseEntry(m)
			if err != nil {
				continue // not canonical: the tree check names it, HasColumns is not asked
			}
			want := p.Action == orig.Action && p.Actor == orig.Actor && p.Subject == orig.Subject && p.Time.Equal(orig.Time)
			assert.Equal(t, want, HasColumns(m, orig.Action, orig.Actor, orig.Subject, orig.Time), "byte %d set to %q", i, c)
		}
	}
}
