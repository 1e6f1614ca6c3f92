package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
)

// BenchmarkCommit measures one small durable write transaction under the
// synchronous mode Open uses (FULL) against NORMAL, in the same run, so
// BENCHMARKS.md can state what the durability costs.
func BenchmarkCommit(b *testing.B) {
	for _, mode := range []string{"NORMAL", "FULL"} {
		b.Run("synchronous="+mode, func(b *testing.B) {
			ctx := context.Background()
			db, err := open(ctx, filepath.Join(b.TempDir(), "bench.db"), mode)
			require.NoError(b, err)
			defer db.Close()
			require.NoError(b, db.WriteTx(ctx, func(q sqlstore.Querier) error {
				_, err := q.Exec(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL) STRICT`)
				return err
			}))
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if err := db.WriteTx(ctx, func(q sqlstore.Querier) error {
					_, err := q.Exec(ctx, `INSERT INTO t (v) VALUES ($1)`, "row")
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestOpenIsSynchronousFull(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	defer db.Close()
	var mode int
	require.NoError(t, db.WriteTx(ctx, func(q sqlstore.Querier) error {
		return q.QueryRow(ctx, `PRAGMA synchronous`).Scan(&mode)
	}))
	require.Equal(t, 2, mode, "PRAGMA synchronous: 2 is FULL")
}
