package yamldoc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
)

func TestReaderCollectsEveryProblemInPlace(t *testing.T) {
	r := &Reader{Positions: map[string]Position{}}
	root := r.Load([]byte("a: 1\nb: yes\nc: [x]\nd: \"  \"\na: 2\ne: 1\n"), 1<<10, "a: ...")
	require.NotNil(t, root)
	m := r.Fields(root, "", []string{"a", "b", "c", "d", "f"})
	_, ok := r.Str(m.Require("a"), "a")
	assert.False(t, ok)
	_, ok = r.Boolean(m.Get("b"), "b")
	assert.False(t, ok, "yes is text in YAML 1.2")
	assert.False(t, r.Scalar(m.Get("c"), "c"))
	_, ok = r.Text(m.Get("d"), "d", 10)
	assert.False(t, ok)
	_, ok = r.Integer(m.Require("f"), "f", 0, 1)
	assert.False(t, ok)

	assert.Equal(t, Position{1, 4}, r.Positions["a"])
	got := r.Sorted()
	assert.Equal(t, "line 1:1: f: required\n"+
		"line 1:4: a: must be text; put 1 in quotes\n"+
		"line 2:4: b: must be true or false, got \"yes\"\n"+
		"line 3:4: c: must be a single value, not a list or mapping\n"+
		"line 4:4: d: must not be blank\n"+
		"line 5:1: a: duplicate key; first at line 1\n"+
		"line 6:1: e: unknown field; expected one of: a, b, c, d, f", got.Error())
}

func TestProblemsFault(t *testing.T) {
	var ps Problems
	ps.AddAt(&Position{3, 7}, "x", "bad %d", 1)
	ps.AddAt(&Position{2, 0}, "", "YAML syntax: oops")
	ps.AddAt(nil, "", "document is empty")
	ps = ps.Sorted()
	assert.Equal(t, "document is empty\nline 2: YAML syntax: oops\nline 3:7: x: bad 1", ps.Error())
	f := ps.Fault("THING_INVALID", "thing")
	assert.Equal(t, fault.Invalid, f.Kind)
	assert.Equal(t, "THING_INVALID", f.Reason)
	assert.Equal(t, "thing is invalid: document is empty (and 2 more)", f.Message)
	assert.Equal(t, fault.Violation{Field: "x", Description: "line 3:7: bad 1"}, f.Violations[2])

	var fe *fault.Error
	assert.True(t, SetFault(&fe, func() *fault.Error { return f }))
	assert.Same(t, f, fe)
}
