// Package postgres is the production store: PostgreSQL through a pgx v5
// pool. The SQL itself lives in adapters/sqlstore and is shared with SQLite;
// this package opens the pool, migrates, runs transactions and retries the
// serialisation failures and deadlocks that SERIALIZABLE transactions (and
// PostgreSQL-wire distributed engines) report.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/fault"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open PostgreSQL pool.
type DB struct {
	pool *pgxpool.Pool
}

// Open parses dsn and connects. It fails with one clear sentence on a bad
// DSN or an unreachable server.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may echo the DSN, password included: keep it out.
		return nil, errors.New("the PostgreSQL database URL is malformed (expected postgres://user@host:port/db?options)")
	}
	cfg.ConnConfig.Tracer = otelpgx.NewTracer()
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		c.TypeMap().RegisterType(&pgtype.Type{Name: "numeric", OID: pgtype.NumericOID, Codec: textNumeric{}})
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot create PostgreSQL pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach PostgreSQL at %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, pingErr(err))
	}
	return &DB{pool: pool}, nil
}

// textNumeric is pgx's NUMERIC codec, asking PostgreSQL for its results
// in text. Every amount is scanned into a decimal through its text
// (sqlstore's money), and pgx turns a binary NUMERIC into text by way of
// math/big: 6 % of a batch re-assessment's CPU and 3 % of GetCreditLine's
// went there. PostgreSQL's text is the exact value at its stored scale,
// as the binary form was. Parameters are unchanged: amounts go in as
// strings, which pgx always sends as text.
type textNumeric struct{ pgtype.NumericCodec }

func (textNumeric) PreferredFormat() int16 { return pgtype.TextFormatCode }

// pingErr drops connection details that may include credentials.
func pingErr(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return errors.Unwrap(ce)
	}
	return err
}

// Close closes the pool.
func (db *DB) Close() error { db.pool.Close(); return nil }

// Ping checks the server answers; a lost connection is an Unavailable
// fault (health reports NOT_SERVING on it).
func (db *DB) Ping(ctx context.Context) error { return unavailable(ctx, db.pool.Ping(ctx)) }

// PoolStats reports the pool's connections and acquisitions (the
// service's sanzhi_db_* gauges).
func (db *DB) PoolStats() []sqlstore.PoolStats {
	st := db.pool.Stat()
	return []sqlstore.PoolStats{{Pool: "postgres",
		Acquired: int64(st.AcquiredConns()), Idle: int64(st.IdleConns()), Total: int64(st.TotalConns()), Max: int64(st.MaxConns()),
		Acquires: st.AcquireCount(), AcquireTime: st.AcquireDuration(),
		Waits: st.EmptyAcquireCount(), WaitTime: st.EmptyAcquireWaitTime()}}
}

// Pool exposes the pool for tools that need raw access (tests, benchmarks).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Migrate applies every pending embedded migration; it is idempotent and
// safe to run from several processes at once: they take turns on a
// session advisory lock (provider), so two sanzhid starting together, or
// `sanzhi migrate` beside a starting sanzhid, do not both create a table.
func (db *DB) Migrate(ctx context.Context) error {
	p, closeFn, err := db.provider(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrating PostgreSQL schema: %w", err)
	}
	return nil
}

// Pending reports how many migrations are not yet applied.
func (db *DB) Pending(ctx context.Context) (int, error) {
	p, closeFn, err := db.provider(ctx)
	if err != nil {
		return 0, err
	}
	defer closeFn()
	st, err := p.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading migration status: %w", err)
	}
	n := 0
	for _, s := range st {
		if s.State == goose.StatePending {
			n++
		}
	}
	return n, nil
}

func (db *DB) provider(ctx context.Context) (*goose.Provider, func(), error) {
	if err := db.checkSchema(ctx); err != nil {
		return nil, nil, err
	}
	sqlDB := stdlib.OpenDBFromPool(db.pool)
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, nil, err
	}
	// Without a locker goose takes no lock at all: two processes
	// migrating one database at once both ran 00001 and one failed on a
	// duplicate table. Advisory locks belong to one database, so other
	// databases on the server do not wait. A waiter polls once a second,
	// for at most 5 minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, sub, goose.WithSessionLocker(locker))
	if err != nil {
		sqlDB.Close()
		return nil, nil, fmt.Errorf("loading migrations: %w", err)
	}
	return p, func() { sqlDB.Close() }, nil
}

// checkSchema refuses to migrate, or to count pending migrations, on a
// connection whose search_path does not reach the schema the tables are
// in. goose works in current_schema(): a superuser's URL without the
// search_path of deploy/postgres/roles.sql would otherwise create a
// second, empty copy of every table in public, and a service on it would
// start on an empty database.
func (db *DB) checkSchema(ctx context.Context) error {
	var current *string
	var here bool
	var elsewhere []string
	err := db.pool.QueryRow(ctx, `SELECT current_schema(),
		coalesce(bool_or(schemaname = current_schema()), false),
		coalesce(array_agg(schemaname::text ORDER BY schemaname) FILTER (WHERE schemaname <> current_schema()), '{}')
		FROM pg_tables WHERE tablename = 'goose_db_version'`).Scan(&current, &here, &elsewhere)
	if err != nil {
		return fmt.Errorf("reading the search_path: %w", unavailable(ctx, err))
	}
	switch {
	case current == nil:
		return errors.New("no schema on this connection's search_path exists or may be used: set the role's search_path to sanzhi's schema (deploy/postgres/roles.sql does), or name it in the database URL (options=-csearch_path%3Dsanzhi)")
	case !here && len(elsewhere) > 0:
		return fmt.Errorf("sanzhi's tables are in schema %s, but this connection works in schema %s: name the schema in the database URL (options=-csearch_path%%3D%s), or connect as a role whose search_path is set (deploy/postgres/roles.sql)",
			strings.Join(elsewhere, ", "), *current, elsewhere[0])
	}
	return nil
}

// Store returns the storage ports over this database.
func (db *DB) Store() *sqlstore.Store {
	return sqlstore.New(db, sqlstore.Dialect{Name: "postgres", IsUniqueViolation: isUnique, ForUpdate: " FOR UPDATE", Arrays: true})
}

// LockTx implements sqlstore.Conn: READ COMMITTED, so that drawdowns of
// one household queue on its row locks instead of aborting each other;
// deadlocks are still retried.
func (db *DB) LockTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return withRetry(ctx, func() error { return db.runTx(ctx, beginCommitted, fn) })
}

// WriteOne implements sqlstore.Conn: fn's single statement runs on the
// pool in autocommit, two round trips fewer; PostgreSQL runs one statement,
// data-modifying WITH clauses included, atomically.
func (db *DB) WriteOne(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return withRetry(ctx, func() error { return fn(querier{db.pool}) })
}

// GuardedTx implements sqlstore.Conn: READ COMMITTED, and a failed
// version guard is retried like a serialisation failure. In such a
// transaction every guard checks a version the transaction itself read,
// so its failing means only that another transaction changed the row
// since, which is what SERIALIZABLE reports as 40001.
func (db *DB) GuardedTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return retrying(ctx, guardFailed, func() error { return db.runTx(ctx, beginCommitted, fn) })
}

// guardFailed reports whether err is a version guard's failure or a
// conflict Retryable retries.
func guardFailed(err error) bool {
	var f *fault.Error
	return Retryable(err) || (errors.As(err, &f) && f.Reason == sqlstore.ReasonConcurrentChange)
}

// SequenceTx implements sqlstore.Conn.
func (db *DB) SequenceTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return withRetry(ctx, func() error { return db.runTx(ctx, beginCommitted, fn) })
}

// ReadTx implements sqlstore.Conn.
func (db *DB) ReadTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return withRetry(ctx, func() error { return db.runTx(ctx, beginRead, fn) })
}

// WriteTx implements sqlstore.Conn. Transactions are SERIALIZABLE: the
// simplest isolation to reason about for money, and what CockroachDB runs
// anyway; the price is retries, which withRetry pays.
func (db *DB) WriteTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return withRetry(ctx, func() error { return db.runTx(ctx, beginWrite, fn) })
}

// ReadOne implements sqlstore.Conn: fn's single statement runs on the
// pool without BEGIN and COMMIT, two round trips fewer; one statement
// sees one snapshot on its own.
func (db *DB) ReadOne(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return withRetry(ctx, func() error { return fn(querier{db.pool}) })
}

// runTx runs fn in a transaction that begin starts, on one connection,
// through a pipe (pipeline.go): BEGIN travels with the first statement,
// deferred writes with the next one or with COMMIT.
func (db *DB) runTx(ctx context.Context, begin string, fn func(sqlstore.Querier) error) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	p := &pipe{conn: conn, begin: begin}
	if err := fn(p); err != nil {
		p.end(ctx)
		return err
	}
	if err := p.commit(ctx); err != nil {
		p.end(ctx)
		return err
	}
	return nil
}

// maxAttempts bounds retries so a pathological hot spot fails loudly
// rather than spinning.
const maxAttempts = 10

// withRetry retries fn on serialisation failure (40001) and deadlock
// (40P01) with jittered exponential backoff.
func withRetry(ctx context.Context, fn func() error) error {
	return retrying(ctx, Retryable, fn)
}

// retrying is withRetry for the errors retryable reports.
func retrying(ctx context.Context, retryable func(error) bool, fn func() error) error {
	backoff := 2 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !retryable(err) {
			return unavailable(ctx, err)
		}
		if attempt == maxAttempts {
			// Still conflicting after every retry: a hot spot, not a bug.
			// The caller may retry later (UNAVAILABLE), and the driver's
			// text stays in the log.
			return fault.Wrap(err, fault.Unavailable, "CONTENTION",
				"the records are being changed concurrently; retry shortly")
		}
		sleep := backoff/2 + time.Duration(rand.Int64N(int64(backoff)))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(sleep):
		}
		backoff = min(backoff*2, 500*time.Millisecond)
	}
}

// Retryable reports whether err is a transient conflict worth retrying.
func Retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// querier runs statements in a transaction or, for ReadOne, on the pool.
type querier struct {
	tx interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	}
}

func (q querier) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := q.tx.Exec(ctx, sql, args...)
	return tag.RowsAffected(), err
}

func (q querier) Query(ctx context.Context, sql string, args ...any) (sqlstore.Rows, error) {
	rows, err := q.tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (q querier) QueryRow(ctx context.Context, sql string, args ...any) sqlstore.Row {
	return rowAdapter{q.tx.QueryRow(ctx, sql, args...)}
}

type rowAdapter struct{ row pgx.Row }

func (r rowAdapter) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sqlstore.ErrNoRows
	}
	return err
}

// MigrationFiles returns the contents of the embedded migrations in order,
// for tools that fingerprint the schema.
func MigrationFiles() ([][]byte, error) {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, e := range entries {
		b, err := fs.ReadFile(migrations, "migrations/"+e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
