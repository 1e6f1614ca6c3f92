package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/adapters/sqlite/sqlitetest"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
)

// MigratedKey and MigratedName name the empty, migrated SQLite database
// `make test` makes once per run under SANZHI_TEST_TEMPLATES.
const (
	MigratedKey  = "migrated"
	MigratedName = "migrated.db"
)

// SQLitePath returns the path of a new SQLite database for t: a copy of
// the run's migrated one when `make test` made it (migrating costs half a
// second under the race detector), else a path in t.TempDir that Migrate
// will create.
func SQLitePath(t *testing.T) string {
	t.Helper()
	if path, ok := sqlitetest.Shared(t, MigratedKey, MigratedName); ok {
		return path
	}
	return filepath.Join(t.TempDir(), "t.db")
}

// The engines Engine runs a store on, and the names of their subtests.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Backends runs fn once on a fresh, migrated SQLite store and once on a
// fresh PostgreSQL one (cloned from the migrated template), as subtests
// named "sqlite" and "postgres". Tests above the store (services, the
// API, delivery) use it so that both engines run every scenario.
func Backends(t *testing.T, fn func(t *testing.T, st *sqlstore.Store)) {
	Engine(t, SQLite, fn)
	Engine(t, Postgres, fn)
}

// Engine runs fn on a fresh, migrated store of one engine (SQLite or
// Postgres), as a subtest named after it. It is for tests whose subject
// is above the store and too costly to run twice (the console's browser
// journeys); Backends is the default.
func Engine(t *testing.T, engine string, fn func(t *testing.T, st *sqlstore.Store)) {
	t.Helper()
	switch engine {
	case SQLite:
		t.Run(SQLite, func(t *testing.T) {
			db, err := sqlite.Open(context.Background(), SQLitePath(t))
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			require.NoError(t, db.Migrate(context.Background()), "migrating (a no-op on the run's migrated copy)")
			fn(t, db.Store())
		})
	case Postgres:
		t.Run(Postgres, func(t *testing.T) {
			fn(t, pgtest.NewDB(t).Store())
		})
	default:
		t.Fatalf("storetest.Engine: no engine %q (%q or %q)", engine, SQLite, Postgres)
	}
}
