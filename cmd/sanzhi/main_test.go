package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/access/signin"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/adapters/sqlite/sqlitetest"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := newRoot(&out)
	root.SetArgs(args)
	root.SetErr(&out)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestPrincipalLifecycle(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "c.db")
	out, err := run(t, "migrate", "--database", db)
	require.NoError(t, err)
	assert.Contains(t, out, "up to date")

	out, err = run(t, "principal", "create", "--database", db, "--name", "clerk-nanyang",
		"--role", "village_clerk", "--villages", "330483102215")
	require.NoError(t, err)
	key := regexp.MustCompile(`sz_[a-z2-7]{52}`).FindString(out)
	require.NotEmpty(t, key, "the key is printed once: %s", out)

	store, err := server.OpenStore(context.Background(), db)
	require.NoError(t, err)
	p, err := store.Store().Principals().PrincipalByKey(context.Background(), access.HashKey(key))
	require.NoError(t, err)
	assert.Equal(t, "clerk-nanyang", p.Name)
	assert.Equal(t, []string{"330483102215"}, p.Scope.Villages)
	store.Close()

	out, err = run(t, "principal", "list", "--database", db)
	require.NoError(t, err)
	assert.Contains(t, out, "clerk-nanyang")
	assert.NotContains(t, out, key, "list never shows keys")

	_, err = run(t, "principal", "revoke", "--database", db, "clerk-nanyang")
	require.NoError(t, err)
	out, err = run(t, "principal", "list", "--database", db)
	require.NoError(t, err)
	assert.Contains(t, out, "revoked")

	for _, bad := range [][]string{
		{"principal", "create", "--database", db, "--name", "x", "--role", "king"},
		{"principal", "create", "--database", db, "--name", "x", "--role", "village_clerk"},
		{"principal", "create", "--database", db, "--name", "x", "--role", "village_clerk", "--villages", "123"},
		{"principal", "create", "--database", db, "--name", "x", "--role", "regulator", "--bank", "b"},
		{"principal", "create", "--database", db, "--name", "clerk-nanyang", "--role", "regulator"},
		{"principal", "revoke", "--database", db, "ghost"},
	} {
		_, err := run(t, bad...)
		assert.Error(t, err, "%v", bad)
	}
}

func TestKeygenRefusesOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	_, err := run(t, "keygen", path)
	require.NoError(t, err)
	_, err = run(t, "keygen", path)
	require.Error(t, err)
}

// demoCopy returns the URL of a private copy of a seeded demo county.
// Seeding under the race detector takes about a minute, so it is done once
// per test binary (by the command a user runs) and copied for each test.
func demoCopy(t *testing.T) string {
	t.Helper()
	path := sqlitetest.Copy(t, "demo", "demo.db", func(path string) error {
		var out bytes.Buffer
		root := newRoot(&out)
		root.SetArgs([]string{"demo", "seed", "--database", "sqlite://" + path})
		root.SetErr(&out)
		if err := root.ExecuteContext(context.Background()); err != nil {
			return fmt.Errorf("%w: %s", err, out.String())
		}
		return nil
	})
	return "sqlite://" + path
}

func TestMain(m *testing.M) {
	// Demo staff passwords are set on every seed; sign-in is not the
	// subject here (access/signin tests the production cost).
	signin.LowerCostForTests()
	code := m.Run()
	sqlitetest.RemoveAll()
	os.Exit(code)
}
