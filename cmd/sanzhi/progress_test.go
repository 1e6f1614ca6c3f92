package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Progress bars are for a person at a terminal: never into a buffer, a
// file or a pipe (a CI log), and not with --no-progress.
func TestProgressOnlyOnATerminal(t *testing.T) {
	assert.False(t, showsProgress(&bytes.Buffer{}))
	f, err := os.CreateTemp(t.TempDir(), "log")
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, showsProgress(f), "a file")
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	assert.False(t, showsProgress(w), "a pipe")

	var buf bytes.Buffer
	bar := newBar(&buf, "verifying")
	require.NoError(t, bar.Add(10))
	require.NoError(t, bar.Finish())
	assert.Empty(t, buf.String(), "nothing drawn where no one watches")
}
