package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
)

func open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Migrate(context.Background()))
	return db
}

func TestConformance(t *testing.T) {
	storetest.RunAll(t, func(t *testing.T) *sqlstore.Store { return open(t).Store() })
}

func TestMigrateIsIdempotent(t *testing.T) {
	db := open(t)
	require.NoError(t, db.Migrate(context.Background()))
	n, err := db.Pending(context.Background())
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestPathFromURL(t *testing.T) {
	p, err := sqlite.PathFromURL("sqlite://./sanzhi.db")
	require.NoError(t, err)
	require.Equal(t, "./sanzhi.db", p)
	p, err = sqlite.PathFromURL("sqlite:///var/lib/sanzhi.db")
	require.NoError(t, err)
	require.Equal(t, "/var/lib/sanzhi.db", p)
	for _, bad := range []string{"sqlite://", "postgres://x", "sqlite://x.db?mode=ro"} {
		_, err := sqlite.PathFromURL(bad)
		require.Error(t, err, bad)
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	_, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "no", "such", "x.db"))
	require.ErrorContains(t, err, "does not exist")
}
