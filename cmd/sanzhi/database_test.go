package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A command given no database does not create ./sanzhi.db: it says to
// name one. With ./sanzhi.db present it uses it, and a database named by
// the flag or SANZHI_DATABASE is used as before.
func TestNoDatabaseGivenCreatesNone(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("SANZHI_DATABASE", "")
	os.Unsetenv("SANZHI_DATABASE")

	for _, args := range [][]string{{"migrate"}, {"principal", "list"}, {"bank", "list"}} {
		_, err := run(t, args...)
		require.Error(t, err, "%v", args)
		assert.Contains(t, err.Error(), "no --database", "%v", args)
	}
	_, err := os.Stat(filepath.Join(dir, "sanzhi.db"))
	assert.True(t, os.IsNotExist(err), "no database was created")

	// Named: created and migrated.
	out, err := run(t, "migrate", "--database", "sqlite://./sanzhi.db")
	require.NoError(t, err, out)
	// Present: the default is used.
	out, err = run(t, "principal", "list")
	require.NoError(t, err, out)
	assert.Contains(t, out, "NAME")
}
