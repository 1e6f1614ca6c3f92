package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/fault"
)

// TestLockedOutIsUnavailable: when another process holds the write lock
// past every retry, a write is refused as Unavailable (STORE_BUSY), which
// the API renders as UNAVAILABLE with a retry delay, not INTERNAL; a
// closed database is Unavailable (STORE_UNAVAILABLE).
func TestLockedOutIsUnavailable(t *testing.T) {
	oldTimeout, oldAttempts := busyTimeout, busyAttempts
	busyTimeout, busyAttempts = 20*time.Millisecond, 2
	t.Cleanup(func() { busyTimeout, busyAttempts = oldTimeout, oldAttempts })

	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "busy.db")
	db, err := Open(ctx, path)
	require.NoError(t, err)
	require.NoError(t, db.Migrate(ctx))

	// Another process: its own handle on the file, holding the write lock.
	other, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer other.Close()
	holder, err := other.Conn(ctx)
	require.NoError(t, err)
	_, err = holder.ExecContext(ctx, "BEGIN IMMEDIATE")
	require.NoError(t, err)

	write := func() error {
		return db.WriteTx(ctx, func(q sqlstore.Querier) error {
			_, err := q.Exec(ctx, "CREATE TABLE IF NOT EXISTS busy_probe (a INTEGER)")
			return err
		})
	}
	err = write()
	var f *fault.Error
	require.True(t, errors.As(err, &f), "a fault, got %v", err)
	assert.Equal(t, fault.Unavailable, f.Kind)
	assert.Equal(t, "STORE_BUSY", f.Reason)
	assert.NotContains(t, f.Message, "SQLITE", "the driver's text is the hidden cause")

	_, err = holder.ExecContext(ctx, "ROLLBACK")
	require.NoError(t, err)
	require.NoError(t, holder.Close())
	require.NoError(t, write(), "the lock released, the write goes through")

	require.NoError(t, db.Close())
	err = db.ReadTx(ctx, func(q sqlstore.Querier) error {
		var n int
		return q.QueryRow(ctx, "SELECT 1").Scan(&n)
	})
	require.True(t, errors.As(err, &f), "a fault, got %v", err)
	assert.Equal(t, fault.Unavailable, f.Kind)
	assert.Equal(t, fault.StoreUnavailable, f.Reason)
}
