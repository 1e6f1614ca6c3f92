package sqlitetest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCopyBuildsOncePerKey(t *testing.T) {
	t.Setenv("SANZHI_TEST_TEMPLATES", "")
	builds := 0
	build := func(path string) error {
		builds++
		if err := os.WriteFile(path, []byte("db"), 0o600); err != nil {
			return err
		}
		return os.WriteFile(path+".key", []byte("key"), 0o600)
	}
	a := Copy(t, "once", "x.db", build)
	b := Copy(t, "once", "x.db", build)
	assert.Equal(t, 1, builds)
	assert.NotEqual(t, a, b, "each test gets its own copy")
	for _, p := range []string{a, b, a + ".key"} {
		_, err := os.Stat(p)
		require.NoError(t, err)
	}
	// A copy is private: writing one leaves the other alone.
	require.NoError(t, os.WriteFile(a, []byte("changed"), 0o600))
	got, err := os.ReadFile(b)
	require.NoError(t, err)
	assert.Equal(t, "db", string(got))
}

func TestCopyUsesTheRunsTemplate(t *testing.T) {
	shared := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(shared, "runwide"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(shared, "runwide", "d.db"), []byte("seeded by make"), 0o600))
	t.Setenv("SANZHI_TEST_TEMPLATES", shared)
	p := Copy(t, "runwide", "d.db", func(string) error { return errors.New("must not build") })
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "seeded by make", string(got))
	RemoveAll()
	_, err = os.Stat(filepath.Join(shared, "runwide", "d.db"))
	assert.NoError(t, err, "the run's template is not this process's to remove")
	// A key the run did not build is built here as before.
	p = Copy(t, "local", "d.db", func(path string) error { return os.WriteFile(path, []byte("local"), 0o600) })
	got, err = os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "local", string(got))
}
