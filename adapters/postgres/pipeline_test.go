package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
)

// TestPipeline holds the pipelined transaction (pipeline.go) to what a
// transaction promises: deferred writes are in order with the statements
// around them, a deferred write's failure fails the whole transaction
// with that write's own error and writes nothing, and the connection goes
// back to the pool usable.
func TestPipeline(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	_, err := db.Pool().Exec(ctx, `CREATE TABLE pipe_t (k text PRIMARY KEY, v int NOT NULL)`)
	require.NoError(t, err)
	count := func(t *testing.T) (n int) {
		require.NoError(t, db.Pool().QueryRow(ctx, `SELECT count(*) FROM pipe_t`).Scan(&n))
		return n
	}
	deferrer := func(t *testing.T, q sqlstore.Querier) sqlstore.Deferrer {
		d, ok := q.(sqlstore.Deferrer)
		require.True(t, ok, "a PostgreSQL write transaction's Querier defers writes")
		return d
	}
	errFailed := errors.New("the deferred write failed")
	failWith := func(err error) error { return errors.Join(errFailed, err) }

	t.Run("OnlyDeferred", func(t *testing.T) {
		// BEGIN, two inserts and COMMIT go out together.
		require.NoError(t, db.WriteTx(ctx, func(q sqlstore.Querier) error {
			d := deferrer(t, q)
			d.Defer(false, failWith, `INSERT INTO pipe_t VALUES ($1, $2)`, "a", 1)
			d.Defer(true, failWith, `INSERT INTO pipe_t VALUES ($1, $2)`, "b", 2)
			return nil
		}))
		assert.Equal(t, 2, count(t))
	})

	t.Run("ReadsSeeDeferredWrites", func(t *testing.T) {
		require.NoError(t, db.WriteTx(ctx, func(q sqlstore.Querier) error {
			deferrer(t, q).Defer(true, failWith, `UPDATE pipe_t SET v = v + 10 WHERE k = $1`, "a")
			var v int
			require.NoError(t, q.QueryRow(ctx, `SELECT v FROM pipe_t WHERE k = $1`, "a").Scan(&v))
			assert.Equal(t, 11, v, "the read went out after the update queued before it")
			deferrer(t, q).Defer(false, failWith, `INSERT INTO pipe_t VALUES ($1, $2)`, "c", 3)
			rows, err := q.Query(ctx, `SELECT k FROM pipe_t ORDER BY k`)
			require.NoError(t, err)
			var ks []string
			for rows.Next() {
				var k string
				require.NoError(t, rows.Scan(&k))
				ks = append(ks, k)
			}
			require.NoError(t, rows.Err())
			rows.Close() // and the batch it came in
			assert.Equal(t, []string{"a", "b", "c"}, ks)
			n, err := q.Exec(ctx, `UPDATE pipe_t SET v = 0 WHERE k = $1`, "zz")
			require.NoError(t, err)
			assert.Zero(t, n, "Exec still reports its own row count")
			return nil
		}))
		assert.Equal(t, 3, count(t))
	})

	t.Run("GuardRefusesAndNothingIsWritten", func(t *testing.T) {
		for range 8 { // more transactions than the pool has connections: none is left mid-transaction
			err := db.WriteTx(ctx, func(q sqlstore.Querier) error {
				_, err := q.Exec(ctx, `INSERT INTO pipe_t VALUES ($1, $2)`, "d", 4) // sent at once
				require.NoError(t, err)
				d := deferrer(t, q)
				d.Defer(false, failWith, `INSERT INTO pipe_t VALUES ($1, $2)`, "e", 5)
				d.Defer(true, failWith, `UPDATE pipe_t SET v = 0 WHERE k = $1`, "no such key")
				d.Defer(false, failWith, `INSERT INTO pipe_t VALUES ($1, $2)`, "f", 6)
				return nil // the commit meets the refusal
			})
			require.ErrorIs(t, err, errFailed)
			require.ErrorIs(t, err, sqlstore.ErrNotOne, "the guard's refusal is named, not a division by zero")
			assert.Equal(t, 3, count(t), "neither the immediate insert nor the deferred ones stayed")
		}
	})

	t.Run("ErrorReachesTheNextStatement", func(t *testing.T) {
		err := db.WriteTx(ctx, func(q sqlstore.Querier) error {
			deferrer(t, q).Defer(false, failWith, `INSERT INTO pipe_t VALUES ($1, $2)`, "a", 9) // a duplicate key
			var n int
			return q.QueryRow(ctx, `SELECT count(*) FROM pipe_t`).Scan(&n)
		})
		require.ErrorIs(t, err, errFailed, "the read reports the write that failed before it")
		assert.NotErrorIs(t, err, sqlstore.ErrNotOne)
		assert.Equal(t, 3, count(t))
	})

	t.Run("CallerErrorSendsNothing", func(t *testing.T) {
		stop := errors.New("the caller gave up")
		err := db.WriteTx(ctx, func(q sqlstore.Querier) error {
			deferrer(t, q).Defer(false, failWith, `INSERT INTO pipe_t VALUES ($1, $2)`, "g", 7)
			return stop
		})
		require.ErrorIs(t, err, stop)
		assert.Equal(t, 3, count(t))
	})

	t.Run("SerializationFailureIsRetried", func(t *testing.T) {
		// A deferred write that loses to a concurrent transaction fails
		// with the engine's 40001, which WriteTx retries like any other.
		attempts := 0
		require.NoError(t, db.WriteTx(ctx, func(q sqlstore.Querier) error {
			attempts++
			var v int
			require.NoError(t, q.QueryRow(ctx, `SELECT v FROM pipe_t WHERE k = $1`, "b").Scan(&v))
			if attempts == 1 {
				_, err := db.Pool().Exec(ctx, `UPDATE pipe_t SET v = v + 1 WHERE k = $1`, "b")
				require.NoError(t, err)
			}
			deferrer(t, q).Defer(true, func(err error) error { return err }, `UPDATE pipe_t SET v = $1 WHERE k = $2`, v*100, "b")
			return nil
		}))
		assert.Equal(t, 2, attempts, "the first attempt lost and the second won")
		var v int
		require.NoError(t, db.Pool().QueryRow(ctx, `SELECT v FROM pipe_t WHERE k = 'b'`).Scan(&v))
		assert.Equal(t, 300, v, "the retry read the concurrent change")
	})

	copier := func(t *testing.T, q sqlstore.Querier) sqlstore.Copier {
		c, ok := q.(sqlstore.Copier)
		require.True(t, ok, "a PostgreSQL transaction's Querier copies rows in")
		return c
	}
	t.Run("CopyAfterDeferred", func(t *testing.T) {
		// The copy is the transaction's first statement to go out: BEGIN
		// and the deferred update go first, so the copy's rows land after
		// the update and inside the transaction.
		require.NoError(t, db.WriteTx(ctx, func(q sqlstore.Querier) error {
			deferrer(t, q).Defer(true, failWith, `UPDATE pipe_t SET v = v + 1 WHERE k = $1`, "c")
			n, err := copier(t, q).CopyFrom(ctx, "pipe_t", []string{"k", "v"}, 2, func(i int) []any {
				return []any{[]string{"h", "i"}[i], int32(8 + i)}
			})
			require.NoError(t, err)
			assert.EqualValues(t, 2, n)
			var sum int
			require.NoError(t, q.QueryRow(ctx, `SELECT sum(v) FROM pipe_t WHERE k IN ('c', 'h', 'i')`).Scan(&sum))
			assert.Equal(t, 4+8+9, sum)
			return nil
		}))
		assert.Equal(t, 5, count(t))
	})

	t.Run("CopyFailsTheTransaction", func(t *testing.T) {
		// A deferred write's failure stops the copy, and a copy's own
		// failure (a duplicate key) rolls back what went before it.
		err := db.WriteTx(ctx, func(q sqlstore.Querier) error {
			deferrer(t, q).Defer(true, failWith, `UPDATE pipe_t SET v = 0 WHERE k = $1`, "no such key")
			_, err := copier(t, q).CopyFrom(ctx, "pipe_t", []string{"k", "v"}, 1, func(int) []any { return []any{"j", int32(1)} })
			return err
		})
		require.ErrorIs(t, err, sqlstore.ErrNotOne)
		err = db.WriteTx(ctx, func(q sqlstore.Querier) error {
			if _, err := q.Exec(ctx, `INSERT INTO pipe_t VALUES ('k', 1)`); err != nil {
				return err
			}
			_, err := copier(t, q).CopyFrom(ctx, "pipe_t", []string{"k", "v"}, 2, func(i int) []any {
				return []any{[]string{"l", "a"}[i], int32(1)}
			})
			return err
		})
		require.Error(t, err, "a is taken")
		assert.Equal(t, 5, count(t), "neither the insert nor the copy stayed")
	})

	t.Run("ReadTransactionsToo", func(t *testing.T) {
		var n int
		require.NoError(t, db.ReadTx(ctx, func(q sqlstore.Querier) error {
			_, ok := q.(sqlstore.Deferrer)
			assert.True(t, ok)
			return q.QueryRow(ctx, `SELECT count(*) FROM pipe_t`).Scan(&n)
		}))
		assert.Equal(t, 5, n)
		err := db.ReadTx(ctx, func(q sqlstore.Querier) error {
			_, err := q.Exec(ctx, `INSERT INTO pipe_t VALUES ('r', 1)`)
			return err
		})
		require.Error(t, err, "a read transaction is READ ONLY, BEGIN sent with the statement")
		assert.Equal(t, 5, count(t))
	})
}
