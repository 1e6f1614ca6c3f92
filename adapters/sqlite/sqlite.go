// Package sqlite is the embedded default store: one SQLite file through
// modernc.org/sqlite (pure Go, no cgo), opened for the server's life.
//
// Writes go through a single connection with BEGIN IMMEDIATE, so two
// writers never deadlock upgrading a read lock; reads use a pool of
// query-only connections that WAL lets run beside the writer. SQLITE_BUSY
// (another process holding the lock past the busy timeout) is retried.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/fault"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open SQLite database.
type DB struct {
	path  string
	read  *sql.DB
	write *sql.DB
}

// PathFromURL returns the file path of a sqlite:// URL: sqlite://./x.db is
// relative, sqlite:///var/lib/x.db absolute.
func PathFromURL(u string) (string, error) {
	rest, ok := strings.CutPrefix(u, "sqlite://")
	if !ok || rest == "" {
		return "", fmt.Errorf("database URL %q is not of the form sqlite://PATH", u)
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		return "", fmt.Errorf("database URL %q: sqlite URLs take no options", u)
	}
	return rest, nil
}

// Open opens (creating if needed) the database file at path. It does not
// migrate; call Migrate.
//
// Commits are synchronous=FULL: in WAL mode NORMAL may lose the last
// commits on a power cut (the WAL is not synced at each commit), and a
// drawdown or a ledger entry the service has acknowledged must survive
// one. BENCHMARKS.md records what FULL costs against NORMAL.
func Open(ctx context.Context, path string) (*DB, error) {
	return open(ctx, path, "FULL")
}

var uriPath = strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23")

// open is Open with the synchronous mode named; only the benchmark that
// measures FULL against NORMAL passes anything but FULL.
func open(ctx context.Context, path, synchronous string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "." {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("cannot open SQLite database %s: directory %s does not exist", path, dir)
		}
	}
	dsn := func(extra string) string {
		q := url.Values{}
		for _, p := range []string{fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()), "journal_mode(WAL)", "foreign_keys(1)", "synchronous(" + synchronous + ")"} {
			q.Add("_pragma", p)
		}
		// A URI filename: '%', '?' and '#' in the path are escaped, or
		// "a#1/t.db" would open "a" (SQLite reads the rest as a fragment).
		return "file:" + uriPath.Replace(path) + "?" + q.Encode() + extra
	}
	write, err := sql.Open("sqlite", dsn("&_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("cannot open SQLite database %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("cannot open SQLite database %s: %w", path, err)
	}
	// Readers get a larger page cache and memory-mapped I/O: verifying or
	// exporting the audit log streams the whole file, and without them
	// nearly every page is a pread syscall.
	read, err := sql.Open("sqlite", dsn("&_pragma=query_only(1)&_pragma=cache_size(-16384)&_pragma=mmap_size(1073741824)"))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("cannot open SQLite database %s: %w", path, err)
	}
	read.SetMaxOpenConns(8)
	return &DB{path: path, read: read, write: write}, nil
}

// Close closes both pools.
func (db *DB) Close() error { return errors.Join(db.read.Close(), db.write.Close()) }

// PoolStats reports the reading and the writing pool (the service's
// sanzhi_db_* gauges). database/sql counts waits, not acquisitions.
func (db *DB) PoolStats() []sqlstore.PoolStats {
	out := make([]sqlstore.PoolStats, 0, 2)
	for _, p := range []struct {
		name string
		db   *sql.DB
	}{{"read", db.read}, {"write", db.write}} {
		st := p.db.Stats()
		out = append(out, sqlstore.PoolStats{Pool: p.name,
			Acquired: int64(st.InUse), Idle: int64(st.Idle), Total: int64(st.OpenConnections), Max: int64(st.MaxOpenConnections),
			Acquires: -1, AcquireTime: -1, Waits: st.WaitCount, WaitTime: st.WaitDuration})
	}
	return out
}

// Ping checks the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

// Migrate applies every pending embedded migration; it is idempotent.
func (db *DB) Migrate(ctx context.Context) error {
	return migrate(ctx, db.write)
}

func migrate(ctx context.Context, db *sql.DB) error {
	p, err := provider(db)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrating SQLite schema: %w", err)
	}
	return nil
}

// Pending reports how many migrations are not yet applied.
func (db *DB) Pending(ctx context.Context) (int, error) {
	p, err := provider(db.write)
	if err != nil {
		return 0, err
	}
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

func provider(db *sql.DB) (*goose.Provider, error) {
	p, err := goose.NewProvider(goose.DialectSQLite3, db, mustSub(migrations, "migrations"))
	if err != nil {
		return nil, fmt.Errorf("loading migrations: %w", err)
	}
	return p, nil
}

// Store returns the storage ports over this database.
func (db *DB) Store() *sqlstore.Store {
	return sqlstore.New(db, sqlstore.Dialect{Name: "sqlite", IsUniqueViolation: isUnique, Param: "?"})
}

// ReadTx implements sqlstore.Conn.
func (db *DB) ReadTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return withRetry(ctx, func() error {
		return runTx(ctx, db.read, &sql.TxOptions{ReadOnly: true}, fn)
	})
}

// ReadOne implements sqlstore.Conn: fn's single statement runs on a
// reader connection, which sees one snapshot for the statement.
func (db *DB) ReadOne(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return withRetry(ctx, func() error { return fn(querier{db.read}) })
}

// SequenceTx implements sqlstore.Conn; SQLite has one writer, so it is an
// ordinary write transaction.
func (db *DB) SequenceTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return db.WriteTx(ctx, fn)
}

// LockTx implements sqlstore.Conn; the single writer already serialises
// every write transaction, so it is an ordinary one.
func (db *DB) LockTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return db.WriteTx(ctx, fn)
}

// WriteOne implements sqlstore.Conn: a write transaction, because
// without writes inside WITH the caller needs more than one statement.
func (db *DB) WriteOne(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return db.WriteTx(ctx, fn)
}

// GuardedTx implements sqlstore.Conn; the single writer already
// serialises every write transaction, so it is an ordinary one.
func (db *DB) GuardedTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return db.WriteTx(ctx, fn)
}

// WriteTx implements sqlstore.Conn.
func (db *DB) WriteTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return withRetry(ctx, func() error { return runTx(ctx, db.write, nil, fn) })
}

func runTx(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(sqlstore.Querier) error) error {
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	if err := fn(querier{tx}); err != nil {
		_ = tx.Rollback()
		return ctxErr(ctx, err)
	}
	return ctxErr(ctx, tx.Commit())
}

// ctxErr reports a cancelled context as itself: database/sql rolls the
// transaction back when ctx ends and then answers ErrTxDone, which says
// less than why.
func ctxErr(ctx context.Context, err error) error {
	if err != nil && errors.Is(err, sql.ErrTxDone) && ctx.Err() != nil {
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return err
}

// busyTimeout is how long SQLite itself waits for a lock, and busyAttempts
// how often withRetry tries again after that; tests shorten them.
var (
	busyTimeout  = 5 * time.Second
	busyAttempts = 8
)

// withRetry retries fn while SQLite reports the database busy or locked,
// which happens only when another process holds the file past the busy
// timeout. When every attempt found it busy, or the database is closed,
// the caller gets an Unavailable fault (UNAVAILABLE with a retry delay),
// not an internal error: nothing is wrong with the request.
func withRetry(ctx context.Context, fn func() error) error {
	backoff := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn()
		if err != nil && ctx.Err() == nil && closed(err) {
			return fault.Wrap(err, fault.Unavailable, fault.StoreUnavailable,
				"the database cannot be reached at the moment; retry shortly")
		}
		if err == nil || !isBusy(err) {
			return err
		}
		if attempt == busyAttempts {
			return fault.Wrap(err, fault.Unavailable, "STORE_BUSY",
				"the database is busy with another writer; retry shortly")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

// closed reports a database handle that was closed under the caller
// (database/sql's "database is closed" error is not exported).
func closed(err error) bool {
	return errors.Is(err, sql.ErrConnDone) || strings.Contains(err.Error(), "sql: database is closed")
}

func code(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

func isBusy(err error) bool {
	c := code(err) & 0xff
	return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
}

func isUnique(err error) bool {
	c := code(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// querier runs statements in a transaction or, for ReadOne, on the pool.
type querier struct {
	tx interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	}
}

func (q querier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := q.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q querier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := q.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rowsAdapter{rows}, nil
}

func (q querier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return rowAdapter{q.tx.QueryRowContext(ctx, query, args...)}
}

type rowsAdapter struct{ *sql.Rows }

func (r rowsAdapter) Close() { _ = r.Rows.Close() }

type rowAdapter struct{ row *sql.Row }

func (r rowAdapter) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return sqlstore.ErrNoRows
	}
	return err
}
