package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
)

// Naming a bank is an operator's act, audited; a bad name or a clerk's key
// is refused and names nothing.
func TestBankName(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "b.db")
	_, err := run(t, "migrate", "--database", db)
	require.NoError(t, err)
	clerkKey := newPrincipal(t, db, "--name", "clerk", "--role", "village_clerk", "--villages", "330483102215")

	for _, bad := range [][]string{
		{"bank", "name", "Tongxiang RCB", "--zh", "桐乡农商银行"},    // not an id
		{"bank", "name", "tongxiang-rcb", "--zh", " "},         // no name
		{"bank", "name", "tongxiang-rcb", "--en", "Tongxiang"}, // no Chinese name
		{"bank", "name", "tongxiang-rcb", "--zh", "桐乡农商银行", "--key", clerkKey},
	} {
		_, err := run(t, append(bad, "--database", db)...)
		assert.Error(t, err, "%v", bad)
	}
	out, err := run(t, "bank", "list", "--database", db)
	require.NoError(t, err)
	assert.NotContains(t, out, "tongxiang-rcb", "nothing named")

	out, err = run(t, "bank", "name", "tongxiang-rcb", "--zh", "桐乡农商银行", "--en", "Tongxiang RCB", "--database", db)
	require.NoError(t, err, out)
	_, err = run(t, "bank", "name", "tongxiang-rcb", "--zh", "浙江桐乡农村商业银行", "--database", db)
	require.NoError(t, err)
	out, err = run(t, "bank", "list", "--database", db)
	require.NoError(t, err)
	assert.Contains(t, out, "浙江桐乡农村商业银行")
	assert.NotContains(t, out, "Tongxiang RCB", "a new naming replaces the old one")

	// Both namings are in the log, with who did them.
	ctx := context.Background()
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	defer st.Close()
	var n int
	require.NoError(t, st.Store().Conn().ReadOne(ctx, func(q sqlstore.Querier) error {
		return q.QueryRow(ctx, `SELECT count(*) FROM audit_queue WHERE action = 'bank.name' AND subject = 'banks/tongxiang-rcb' AND actor = $1`,
			LocalOperatorID).Scan(&n)
	}))
	assert.Equal(t, 2, n)
}
