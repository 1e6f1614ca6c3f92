package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
)

// Backends runs fn once on a fresh, migrated SQLite store and once on a
// fresh PostgreSQL one (cloned from the migrated template), as subtests
// named "sqlite" and "postgres". Tests above the store (services, the
// API, delivery) use it so that both engines run every scenario.
func Backends(t *testing.T, fn func(t *testing.T, st *sqlstore.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		require.NoError(t, db.Migrate(context.Background()))
		fn(t, db.Store())
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, pgtest.NewDB(t).Store())
	})
}
