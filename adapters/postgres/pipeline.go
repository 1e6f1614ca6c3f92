package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
)

// pipe is the Querier of a transaction whose statements travel in as few
// round trips as the work allows (issue 19): BEGIN goes out with the
// transaction's first statement, and the writes sqlstore defers (those
// nobody reads a result of before COMMIT: the audit record, a ledger
// insert, a version-checked update) go out with its next statement or
// with COMMIT. An evidence review is then two round trips, not eight (sqlstore reads
// the household's sheet along with the evidence).
//
// Nothing changes for what a transaction sees: the statements run in the
// order they were issued, in one transaction on one connection, and a
// read always goes out after every write queued before it. What changes
// is when a deferred write's error arrives: with the next statement or
// the commit, which then fails with that write's own error, and the
// transaction rolls back as it would have.
type pipe struct {
	conn *pgxpool.Conn
	// begin is the BEGIN statement until it has gone out; then "".
	begin  string
	queued []deferred
}

type deferred struct {
	sql  string
	args []any
	// one: the statement must change a row (see guard).
	one  bool
	fail func(error) error
}

// The BEGIN statements of the transaction kinds sqlstore.Conn runs.
const (
	beginRead      = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	beginWrite     = "BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE"
	beginCommitted = "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE"
)

// Defer implements sqlstore.Deferrer.
func (p *pipe) Defer(one bool, fail func(error) error, sql string, args ...any) {
	if one {
		sql = guard(sql)
	}
	p.queued = append(p.queued, deferred{sql: sql, args: args, one: one, fail: fail})
}

// guard makes a write that must change a row fail on the
// server when it changes none: nobody reads its row count before COMMIT,
// which goes out in the same round trip, so the engine must refuse to go
// on. count(*) of the statement's own RETURNING rows is zero only then,
// and 1/0 is an error at run time (the divisor is not a constant, so the
// planner cannot fold it early). notOne tells that error from any other.
func guard(sql string) string {
	return "WITH changed AS (" + sql + " RETURNING 1) SELECT 1 / count(*) FROM changed"
}

// notOne reports whether err is a guarded write's refusal: division by
// zero (22012), which no statement sqlstore writes raises otherwise.
func notOne(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "22012"
}

// pending reports whether a statement must go out before the next one.
func (p *pipe) pending() bool { return p.begin != "" || len(p.queued) > 0 }

// send sends BEGIN (if it has not gone out) and the deferred writes,
// then sql (none if ""), in one batch, and reads every result but sql's.
// It returns the batch for the caller to read sql's result and close, or
// the first error a deferred write met (the batch then closed).
func (p *pipe) send(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	began := p.begin != ""
	if began {
		b.Queue(p.begin)
		p.begin = ""
	}
	queued := p.queued
	p.queued = nil
	for _, d := range queued {
		b.Queue(d.sql, d.args...)
	}
	if sql != "" {
		b.Queue(sql, args...)
	}
	br := p.conn.SendBatch(ctx, b)
	if began {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return nil, err
		}
	}
	for _, d := range queued {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			if d.one && notOne(err) {
				err = sqlstore.ErrNotOne
			}
			return nil, d.fail(err)
		}
	}
	return br, nil
}

// Exec implements sqlstore.Querier.
func (p *pipe) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	if !p.pending() {
		tag, err := p.conn.Exec(ctx, sql, args...)
		return tag.RowsAffected(), err
	}
	br, err := p.send(ctx, sql, args)
	if err != nil {
		return 0, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag.RowsAffected(), err
}

// Query implements sqlstore.Querier.
func (p *pipe) Query(ctx context.Context, sql string, args ...any) (sqlstore.Rows, error) {
	if !p.pending() {
		return p.conn.Query(ctx, sql, args...)
	}
	br, err := p.send(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// QueryRow implements sqlstore.Querier.
func (p *pipe) QueryRow(ctx context.Context, sql string, args ...any) sqlstore.Row {
	if !p.pending() {
		return rowAdapter{p.conn.QueryRow(ctx, sql, args...)}
	}
	br, err := p.send(ctx, sql, args)
	if err != nil {
		return errRow{err}
	}
	return batchRow{row: br.QueryRow(), br: br}
}

// CopyFrom implements sqlstore.Copier: pgx's binary COPY. What is pending
// goes out first, so the rows land after every statement issued before
// them.
func (p *pipe) CopyFrom(ctx context.Context, table string, columns []string, n int, row func(i int) []any) (int64, error) {
	if err := p.flush(ctx); err != nil {
		return 0, err
	}
	return p.conn.CopyFrom(ctx, pgx.Identifier{table}, columns,
		pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(i), nil }))
}

// CopyText implements sqlstore.Copier: COPY's text format, written by
// copyText, after what is pending, as CopyFrom.
func (p *pipe) CopyText(ctx context.Context, table string, columns []string, n int, row func(i int) []any) (int64, error) {
	if err := p.flush(ctx); err != nil {
		return 0, err
	}
	tag, err := p.conn.Conn().PgConn().CopyFrom(ctx, &copyText{n: n, row: row}, copyStatement(table, columns))
	return tag.RowsAffected(), err
}

// flush sends what is pending (BEGIN, deferred writes) and reads it.
func (p *pipe) flush(ctx context.Context) error {
	if !p.pending() {
		return nil
	}
	br, err := p.send(ctx, "", nil)
	if err != nil {
		return err
	}
	return br.Close()
}

// commit sends what is still queued and COMMIT in one batch. A
// transaction that never sent a statement has nothing to commit.
func (p *pipe) commit(ctx context.Context) error {
	if !p.pending() {
		return p.exec(ctx, "COMMIT")
	}
	if p.begin != "" && len(p.queued) == 0 {
		p.begin = "" // nothing was sent: there is no transaction
		return nil
	}
	br, err := p.send(ctx, "COMMIT", nil)
	if err != nil {
		return err
	}
	_, err = br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// end leaves the connection outside any transaction, as the pool needs
// it: after a failed statement or commit, or when fn failed, ROLLBACK
// (what was queued is dropped unsent). If that fails too the pool
// destroys the connection on release, as it does any not left idle.
func (p *pipe) end(ctx context.Context) {
	p.queued = nil
	if p.conn.Conn().PgConn().TxStatus() != 'I' {
		_ = p.exec(ctx, "ROLLBACK")
	}
}

func (p *pipe) exec(ctx context.Context, sql string) error {
	_, err := p.conn.Exec(ctx, sql)
	return err
}

// batchRows closes the batch when its rows are closed.
type batchRows struct {
	pgx.Rows
	br pgx.BatchResults
}

func (r *batchRows) Close() {
	r.Rows.Close()
	_ = r.br.Close()
}

// batchRow scans the last result of a batch and closes the batch.
type batchRow struct {
	row pgx.Row
	br  pgx.BatchResults
}

func (r batchRow) Scan(dest ...any) error {
	err := rowAdapter{r.row}.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
