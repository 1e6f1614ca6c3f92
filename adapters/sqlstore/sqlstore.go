// Package sqlstore implements the storage ports once for both SQL dialects.
// Queries, row mapping and transaction shape live here; adapters/postgres
// and adapters/sqlite only open connections, run migrations, retry and
// classify their driver's errors.
//
// Queries are written in the subset both engines (and PostgreSQL-wire
// distributed engines) accept, with $N placeholders, which modernc.org/sqlite
// binds by ordinal just like pgx.
package sqlstore

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/policies"
)

// Querier runs statements inside one transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (rowsAffected int64, err error)
	Query(ctx context.Context, sql string, args ...any) (Rows, error)
	// QueryRow's Scan returns ErrNoRows when there is no row.
	QueryRow(ctx context.Context, sql string, args ...any) Row
}

// Rows iterates a result set.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is a single-row result.
type Row interface{ Scan(dest ...any) error }

// ErrNoRows is what Row.Scan returns for an empty result, whatever the driver.
var ErrNoRows = errors.New("sqlstore: no rows")

// Deferrer is a Querier that can hold a write back and send it with the
// transaction's next statement or with its COMMIT, saving the write's own
// round trip (PostgreSQL's pipe). SQLite's Querier is not one: its
// statements cost no round trip.
type Deferrer interface {
	// Defer queues a write whose result nobody reads. With one, the
	// write (keyed, so it changes at most one row) must change a row, and
	// the engine itself refuses to go on when it changes none, since
	// COMMIT may follow in the same round trip; fail then receives
	// ErrNotOne. fail maps the write's error to
	// the one the transaction's next statement, or its commit, returns.
	Defer(one bool, fail func(error) error, sql string, args ...any)
}

// Copier is a Querier that loads rows in bulk (PostgreSQL's COPY): no
// statement text or parameter list grows with the rows, where a multi-row
// INSERT of large values is built into ever-larger buffers (issue 19).
// SQLite's Querier is not one.
type Copier interface {
	// CopyFrom writes n rows into table's columns, row i as row(i)
	// returns it, in the transaction, after every statement issued before.
	// Each value has its column's own Go type (int64, time.Time, []byte,
	// string for text): PostgreSQL's binary format, which the engine
	// reads without parsing (the audit sequencer's leaves and nodes).
	CopyFrom(ctx context.Context, table string, columns []string, n int, row func(i int) []any) (int64, error)
	// CopyText writes rows as CopyFrom does, in COPY's text format: the
	// values are what a statement would take (dates, instants and amounts
	// as strings), which binary COPY cannot encode without first failing
	// to (issue 19).
	CopyText(ctx context.Context, table string, columns []string, n int, row func(i int) []any) (int64, error)
}

// ErrNotOne is what a write that had to change a row meets when it
// changed none (Tx.send).
var ErrNotOne = errors.New("sqlstore: the write changed no row")

// Conn is a database handle that runs transactions. Implementations retry
// fn on transient conflicts (serialisation failure, deadlock, busy), so fn
// must only touch the database through the Querier it is given.
type Conn interface {
	ReadTx(ctx context.Context, fn func(Querier) error) error
	// ReadOne runs fn, which must issue exactly one read statement,
	// without an explicit transaction: the statement is consistent on
	// its own, and the hottest reads save BEGIN and COMMIT.
	ReadOne(ctx context.Context, fn func(Querier) error) error
	WriteTx(ctx context.Context, fn func(Querier) error) error
	// SequenceTx runs the audit sequencer's transaction. It reads the queue
	// that every writer appends to, so on PostgreSQL it runs at READ
	// COMMITTED (serialising on the head row with FOR UPDATE) rather than
	// SERIALIZABLE, which would make writers and sequencer abort each other.
	SequenceTx(ctx context.Context, fn func(Querier) error) error
	// LockTx runs a read-write transaction for money, whose fn takes row
	// locks (FOR UPDATE) before reading what it changes. On PostgreSQL it
	// runs at READ COMMITTED: concurrent transactions on the same rows
	// queue on the locks, and a locking read sees the latest commit,
	// where SERIALIZABLE would abort all but one of them. SQLite has one
	// writer, so it is an ordinary write transaction.
	LockTx(ctx context.Context, fn func(Querier) error) error
	// GuardedTx runs a read-write transaction whose fn guards every read
	// with a versioned write (evidence.Store.WriteGuarded). On PostgreSQL
	// it runs at READ COMMITTED, and a guard failing (CONCURRENT_CHANGE)
	// runs fn again, as a serialisation failure does; SERIALIZABLE's page
	// locks made concurrent reviews of neighbouring evidence abort each
	// other although they shared no row (BENCHMARKS.md, issue 19). SQLite
	// has one writer, so it is an ordinary write transaction.
	GuardedTx(ctx context.Context, fn func(Querier) error) error
	// WriteOne runs a hot write with the fewest round trips the engine
	// allows. On PostgreSQL fn must issue exactly one statement, which
	// runs without BEGIN and COMMIT and commits on its own. On SQLite fn
	// may issue several and runs in a write transaction.
	WriteOne(ctx context.Context, fn func(Querier) error) error
}

// Dialect is what differs between engines beyond the connection.
type Dialect struct {
	Name string
	// IsUniqueViolation reports whether err is a unique-constraint failure.
	IsUniqueViolation func(error) bool
	// ForUpdate is appended to a SELECT that must lock its row ("" where
	// the engine has a single writer).
	ForUpdate string
	// Param is how Dialect.params writes the parameters of the wide
	// statements it builds: "" numbers them "$3, $4"; "?" writes bare
	// "?, ?", which SQLite numbers by position. SQLite
	// keeps both "$7" and "?7" in a list it searches linearly for every
	// parameter bound, so a 1,400-parameter INSERT spent most of its time
	// binding; a bare "?" is in no list.
	Param string
	// Arrays is whether the engine takes array parameters and unnest
	// (PostgreSQL): a bulk statement then sends one array per column, and
	// its text, prepared statement and plan stay the same for every batch.
	Arrays bool
}

// params returns n parameters from number `from` on. Only for statements
// whose every parameter it writes, in order from 1: SQLite numbers a bare
// "?" by its position, so a statement mixing forms, or written out of
// order, would misnumber.
func (d *Dialect) params(from, n int) string {
	if d == nil || d.Param == "" {
		return placeholders(from, n)
	}
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// Store implements every storage port over a Conn.
type Store struct {
	conn    Conn
	dialect Dialect
	// records group-commits audit records of reads (query records).
	records *recorder
	// decisions caches the decisions GetCreditLine returns.
	decisions *decisionCache
	// sheets caches the points sheets GetPoints reads.
	sheets *sheetCache
	// log receives tamper warnings from audit reads (audit_columns.go).
	log *slog.Logger
	// react is what other contexts write with a village-side event (React).
	react Reactions
}

// New returns a Store over conn.
func New(conn Conn, d Dialect) *Store {
	s := &Store{conn: conn, dialect: d, decisions: &decisionCache{}, sheets: &sheetCache{}}
	s.records = &recorder{s: s}
	return s
}

// Tx is one transaction; it implements the domain packages' reader and
// writer interfaces.
type Tx struct {
	q Querier
	d *Dialect
	// records holds audit records written in a write transaction; they
	// are inserted together when fn returns, in as few statements as
	// possible (a batch of evidence writes hundreds). Nil outside write.
	records *[]audit.Record
	// react is the store's Reactions, nil outside write transactions.
	react *Reactions
	// read holds the evidence this transaction has read (Evidence), so
	// that UpdateEvidence knows a row that changes nothing was changed
	// concurrently, not never there, without a statement to ask.
	read map[evidenceKey]bool
	// sheets holds the sheets Evidence read along with evidence, for
	// Sheet to serve once (evidence.go, prefetchMax).
	sheets map[string]prefetchedSheet
}

type evidenceKey struct{ village, household, id string }

// send runs a write whose result nothing reads but its error: deferred
// where the Querier is a Deferrer and this is a write transaction (the
// audit records it queues are the last statement before COMMIT), else at
// once. With one the write must change a row, or fail gets ErrNotOne;
// fail maps every error of the write.
func (tx *Tx) send(ctx context.Context, one bool, fail func(error) error, sql string, args ...any) error {
	if d, ok := tx.q.(Deferrer); ok && tx.records != nil {
		d.Defer(one, fail, sql, args...)
		return nil
	}
	n, err := tx.q.Exec(ctx, sql, args...)
	if err == nil && one && n == 0 {
		err = ErrNotOne
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

func (s *Store) read(ctx context.Context, fn func(*Tx) error) error {
	return s.conn.ReadTx(ctx, func(q Querier) error { return fn(&Tx{q: q, d: &s.dialect}) })
}

func (s *Store) write(ctx context.Context, fn func(*Tx) error) error {
	return s.writeWith(ctx, s.conn.WriteTx, fn)
}

// writeWith runs fn in a write transaction of the kind run starts and
// inserts the audit records fn queued before it commits.
func (s *Store) writeWith(ctx context.Context, run func(context.Context, func(Querier) error) error, fn func(*Tx) error) error {
	return run(ctx, func(q Querier) error {
		tx := &Tx{q: q, d: &s.dialect, records: new([]audit.Record), react: &s.react}
		if err := fn(tx); err != nil {
			return err
		}
		return tx.flushRecords(ctx)
	})
}

// Households returns the household port.
func (s *Store) Households() household.Store { return householdStore{s} }

type householdStore struct{ s *Store }

func (h householdStore) Read(ctx context.Context, fn func(household.Reader) error) error {
	return h.s.read(ctx, func(tx *Tx) error { return fn(householdTx{tx}) })
}

func (h householdStore) Write(ctx context.Context, fn func(household.Writer) error) error {
	return h.s.write(ctx, func(tx *Tx) error { return fn(householdTx{tx}) })
}

// Catalogues returns the points catalogue port.
func (s *Store) Catalogues() catalogue.Store { return catalogueStore{s} }

type catalogueStore struct{ s *Store }

func (c catalogueStore) Read(ctx context.Context, fn func(catalogue.Reader) error) error {
	return c.s.read(ctx, func(tx *Tx) error { return fn(tx) })
}

func (c catalogueStore) Write(ctx context.Context, fn func(catalogue.Writer) error) error {
	return c.s.write(ctx, func(tx *Tx) error { return fn(tx) })
}

// Policies returns the credit policy port.
func (s *Store) Policies() policies.Store { return policyStore{s} }

type policyStore struct{ s *Store }

func (p policyStore) Read(ctx context.Context, fn func(policies.Reader) error) error {
	return p.s.read(ctx, func(tx *Tx) error { return fn(tx) })
}

func (p policyStore) Write(ctx context.Context, fn func(policies.Writer) error) error {
	return p.s.write(ctx, func(tx *Tx) error { return fn(tx) })
}

// Evidence returns the evidence, ledger and outbox port.
func (s *Store) Evidence() evidence.Store { return evidenceStore{s} }

type evidenceStore struct{ s *Store }

func (e evidenceStore) Read(ctx context.Context, fn func(evidence.Reader) error) error {
	return e.s.read(ctx, func(tx *Tx) error { return fn(tx) })
}

func (e evidenceStore) Write(ctx context.Context, fn func(evidence.Writer) error) error {
	return e.s.write(ctx, func(tx *Tx) error { return fn(tx) })
}

func (e evidenceStore) WriteGuarded(ctx context.Context, fn func(evidence.Writer) error) error {
	return e.s.writeWith(ctx, e.s.conn.GuardedTx, func(tx *Tx) error { return fn(tx) })
}

func (e evidenceStore) HouseholdSheet(ctx context.Context, village, id string) (*evidence.Sheet, error) {
	var out *evidence.Sheet
	err := e.s.conn.ReadOne(ctx, func(q Querier) error {
		var err error
		out, err = (&Tx{q: q, d: &e.s.dialect}).householdSheet(ctx, e.s.sheets, village, id)
		return err
	})
	return out, err
}

// Conn exposes the connection for tools that need raw access (the
// conformance suite checks that the ledger refuses UPDATE and DELETE).
func (s *Store) Conn() Conn { return s.conn }

// Principals returns the principal port.
func (s *Store) Principals() access.Store { return principalStore{s} }

// internal wraps a driver error so its text stays in logs, not responses.
func internal(err error, what string) error {
	if err == nil {
		return nil
	}
	var f *fault.Error
	if errors.As(err, &f) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fault.Wrap(err, fault.Internal, "STORAGE", "storage failure while %s", what)
}
