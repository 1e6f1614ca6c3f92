package storetest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
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

// EnginesEnv names the environment variable that narrows the engines the
// tests above the store run on: "sqlite", "postgres", or both separated
// by a comma; unset or empty means both. `make test` runs its race pass
// with "postgres" and those packages again without -race with "sqlite",
// so every scenario still runs on both engines, once under the race
// detector. Why that loses nothing: the code above the store is the same
// Go code whichever engine is below it, and each engine's own Go code
// (its adapter, pgx, the translated SQLite) runs under -race in the
// conformance suite (adapters/sqlite, adapters/postgres) and the log's
// tests, which ignore this variable. PostgreSQL is the engine the race
// pass keeps: its connections really run at once, and its work happens
// in the server, outside the instrumented binary, where SQLite's
// translated C runs inside it (docs/BUILD.md has the figures).
const EnginesEnv = "SANZHI_TEST_ENGINES"

// enabled reports whether this run includes engine (EnginesEnv). A value
// that names no engine fails the test rather than silently running none.
func enabled(t testing.TB, engine string) bool {
	t.Helper()
	v := strings.TrimSpace(os.Getenv(EnginesEnv))
	if v == "" {
		return true
	}
	on := false
	for _, e := range strings.Split(v, ",") {
		switch e = strings.TrimSpace(e); e {
		case SQLite, Postgres:
			on = on || e == engine
		default:
			t.Fatalf("%s=%q: %q is not an engine (%q, %q, or both separated by a comma)", EnginesEnv, v, e, SQLite, Postgres)
		}
	}
	return on
}

// Run runs fn as a subtest named engine, or skips that subtest (saying
// why) when EnginesEnv leaves the engine out of this run. Tests that make
// their own database of each engine (a server from a URL) use it; the
// rest use Backends or Engine.
func Run(t *testing.T, engine string, fn func(t *testing.T)) {
	t.Helper()
	if engine != SQLite && engine != Postgres {
		t.Fatalf("storetest.Run: no engine %q (%q or %q)", engine, SQLite, Postgres)
	}
	t.Run(engine, func(t *testing.T) {
		if !enabled(t, engine) {
			t.Skipf("%s=%s leaves %s out of this run (make test runs it in its other pass)", EnginesEnv, os.Getenv(EnginesEnv), engine)
		}
		fn(t)
	})
}

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
	Run(t, engine, func(t *testing.T) {
		if engine == SQLite {
			db, err := sqlite.Open(context.Background(), SQLitePath(t))
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			require.NoError(t, db.Migrate(context.Background()), "migrating (a no-op on the run's migrated copy)")
			fn(t, db.Store())
			return
		}
		fn(t, pgtest.NewDB(t).Store())
	})
}
