package auditlog_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/auditlog"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/audit"
)

// TestAuditTablesAreAppendOnly plays an insider with plain DML rights: every
// UPDATE, DELETE and (PostgreSQL) TRUNCATE of the audit tables is refused,
// including the sequencer's own statements when they are not the precise
// transition it makes; the sequencer still works and the log still verifies.
func TestAuditTablesAreAppendOnly(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		l, vkey := fill(t, b.Store)
		record(t, b.Store, 100, 3) // three records waiting in the queue

		refused := []string{
			`UPDATE audit_leaves SET subject = 'x' WHERE seq = 5`,
			`UPDATE audit_leaves SET data = data WHERE seq = 99`,
			`DELETE FROM audit_leaves WHERE seq = 99`,
			`DELETE FROM audit_leaves`,
			`UPDATE audit_nodes SET hash = hash WHERE level = 1 AND idx = 0`,
			`DELETE FROM audit_nodes WHERE level = 1`,
			`DELETE FROM audit_nodes`,
			`UPDATE audit_checkpoints SET note = 'x' WHERE size = 100`,
			`DELETE FROM audit_checkpoints WHERE size = 100`,
			`DELETE FROM audit_checkpoints`,
			`DELETE FROM audit_head`,
			`UPDATE audit_head SET size = 37`,               // rollback
			`UPDATE audit_head SET size = 100, root = root`, // rewrite in place
			`UPDATE audit_head SET size = 103`,              // forward past the leaves
			`UPDATE audit_queue SET subject = 'x'`,
			`DELETE FROM audit_queue`, // dropping records before they are logged
		}
		if b.Dialect == "postgres" {
			for _, tb := range storetest.AuditTables {
				refused = append(refused, `TRUNCATE `+tb)
			}
			refused = append(refused, `TRUNCATE audit_leaves, audit_nodes, audit_checkpoints, audit_head, audit_queue`)
		}
		for _, q := range refused {
			err := b.Try(q)
			require.Error(t, err, "%s must be refused", q)
			assert.Regexp(t, `append-only|refused`, err.Error(), q)
		}

		// A queue row already in the log (its leaf below the head) stays
		// undeletable too: the sequencer's window is its own transaction.
		n, err := b.Store.QueueLength(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(3), n, "refused statements changed nothing")

		// The sequencer's own path still works.
		cp, err := l.Publish(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(103), cp.Size)
		n, err = b.Store.QueueLength(ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
		v, err := audit.NewVerifier(vkey)
		require.NoError(t, err)
		rep, err := auditlog.Verify(ctx, b.Store, v, nil, nil)
		require.NoError(t, err)
		assert.Equal(t, uint64(103), rep.Leaves)
		require.Error(t, b.Try(`UPDATE audit_head SET size = 103`), "re-setting the head to its size")
	})
}
