package storetest

import (
	"context"
	"database/sql"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/postgres"
	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
)

// Intruder is a real store plus a raw SQL connection to the same
// database, as an attacker with database access has: tamper tests rewrite
// rows behind the store's back and check that the service notices.
type Intruder struct {
	Store   *sqlstore.Store
	Dialect string // "sqlite" or "postgres"
	try     func(q string, args ...any) error
}

// Exec runs a raw statement and fails the test on error.
func (b Intruder) Exec(t *testing.T, q string, args ...any) {
	t.Helper()
	require.NoError(t, b.try(q, args...), q)
}

// Try runs a raw statement and returns its error.
func (b Intruder) Try(q string, args ...any) error { return b.try(q, args...) }

// AuditTables are the tables the append-only triggers guard.
var AuditTables = []string{"audit_leaves", "audit_nodes", "audit_checkpoints", "audit_head", "audit_queue"}

// DisableAuditGuards does what an attacker with DDL rights must do before
// rewriting the log: the append-only triggers refuse plain DML. On
// PostgreSQL ALTER TABLE … DISABLE TRIGGER USER, on SQLite DROP TRIGGER.
func (b Intruder) DisableAuditGuards(t *testing.T) {
	t.Helper()
	for _, tb := range AuditTables {
		if b.Dialect == "postgres" {
			b.Exec(t, `ALTER TABLE `+tb+` DISABLE TRIGGER USER`)
			continue
		}
		for _, tr := range []string{"_no_update", "_no_delete", "_dequeue_only", "_advance_only"} {
			b.Exec(t, `DROP TRIGGER IF EXISTS `+tb+tr)
		}
	}
}

// IntruderBackends is Backends with a raw connection beside each store.
func IntruderBackends(t *testing.T, fn func(t *testing.T, b Intruder)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLiteIntruder(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, PostgresIntruder(t)) })
}

// SQLiteIntruder opens a fresh, migrated SQLite store with a raw
// connection to the same file, both closed when t ends.
func SQLiteIntruder(t *testing.T) Intruder {
	t.Helper()
	return SQLiteIntruderAt(t, SQLitePath(t))
}

// SQLiteIntruderAt is SQLiteIntruder on the database at path (migrated
// here if it is not yet).
func SQLiteIntruderAt(t *testing.T, path string) Intruder {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Migrate(context.Background()))
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	t.Cleanup(func() { raw.Close() })
	return Intruder{Store: db.Store(), Dialect: "sqlite", try: func(q string, args ...any) error {
		_, err := raw.Exec(q, args...)
		return err
	}}
}

// PostgresIntruder clones a fresh PostgreSQL database (pgtest: failing,
// not skipping, when CI is set and the server is missing) and opens a
// store and a raw connection on it, both closed when t ends.
func PostgresIntruder(t *testing.T) Intruder {
	t.Helper()
	return PostgresIntruderAt(t, pgtest.NewURL(t))
}

// PostgresIntruderAt opens a store and a raw connection on the migrated
// database url names (pgtest.NewSchemaURL: a schema of its own on any
// PostgreSQL-compatible engine), both closed when t ends.
func PostgresIntruderAt(t *testing.T, url string) Intruder {
	t.Helper()
	db, err := postgres.Open(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	raw, err := pgx.Connect(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(func() { raw.Close(context.Background()) })
	return Intruder{Store: db.Store(), Dialect: "postgres", try: func(q string, args ...any) error {
		_, err := raw.Exec(context.Background(), q, args...)
		return err
	}}
}

// PostgresAppIntruder is PostgresIntruder on a database laid out as in
// production (pgtest.NewRoles): the store connects as the service's role
// of deploy/postgres/roles.sql, with no DDL and append-only tables, and
// the raw connection as the superuser an intruder would need to be.
func PostgresAppIntruder(t *testing.T) Intruder {
	t.Helper()
	urls := pgtest.NewRoles(t)
	db, err := postgres.Open(context.Background(), urls.App)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	// The superuser's search_path does not name the service's schema.
	raw, err := pgx.Connect(context.Background(), pgtest.InSchema(urls.Admin, pgtest.TestRoles.Schema))
	require.NoError(t, err)
	t.Cleanup(func() { raw.Close(context.Background()) })
	return Intruder{Store: db.Store(), Dialect: "postgres", try: func(q string, args ...any) error {
		_, err := raw.Exec(context.Background(), q, args...)
		return err
	}}
}
