package main

import (
	"context"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access/principals"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
)

var keyPattern = regexp.MustCompile(`sz_[a-z2-7]{52}`)

// newPrincipal creates a principal with the CLI (as the local operator)
// and returns its API key.
func newPrincipal(t *testing.T, db string, args ...string) string {
	t.Helper()
	out, err := run(t, append([]string{"principal", "create", "--database", db}, args...)...)
	require.NoError(t, err, out)
	key := keyPattern.FindString(out)
	require.NotEmpty(t, key, out)
	return key
}

// principalEntries lists the queued audit records of principal changes:
// action and actor, in order.
func principalEntries(t *testing.T, db string) [][2]string {
	t.Helper()
	ctx := context.Background()
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	defer st.Close()
	var out [][2]string
	require.NoError(t, st.Store().Conn().ReadOne(ctx, func(q sqlstore.Querier) error {
		rows, err := q.Query(ctx, `SELECT action, actor FROM audit_queue WHERE action LIKE 'principal.%' ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a, b string
			if err := rows.Scan(&a, &b); err != nil {
				return err
			}
			out = append(out, [2]string{a, b})
		}
		return rows.Err()
	}))
	return out
}

// The CLI acts for nobody without a credential: --as is gone; writes
// authenticate with a key, like any client, or run as the local operator,
// recorded as such. Principal changes are audited.
func TestCLIIdentity(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "i.db")
	_, err := run(t, "migrate", "--database", db)
	require.NoError(t, err)

	opKey := newPrincipal(t, db, "--name", "op-1", "--role", "operator")
	clerkKey := newPrincipal(t, db, "--name", "clerk", "--role", "village_clerk", "--villages", "330483102215")

	// --as no longer exists: naming a principal is not a credential.
	_, err = run(t, "catalogue", "upload", exampleFile("tongxiang-county.yaml"), "--database", db, "--as", "op-1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown flag: --as")

	// A clerk's key cannot manage principals; a bogus key is refused.
	_, err = run(t, "principal", "create", "--database", db, "--name", "x", "--role", "regulator", "--key", clerkKey)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "only operators")
	_, err = run(t, "principal", "revoke", "--database", db, "op-1", "--key", "sz_bogus")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no principal holds this key")

	// Re-key and revoke with an operator's key, from the environment.
	t.Setenv(keyEnv, opKey)
	out, err := run(t, "principal", "rekey", "--database", db, "clerk")
	require.NoError(t, err, out)
	newClerkKey := keyPattern.FindString(out)
	require.NotEmpty(t, newClerkKey)
	require.NotEqual(t, clerkKey, newClerkKey)
	_, err = run(t, "principal", "revoke", "--database", db, "clerk")
	require.NoError(t, err)
	t.Setenv(keyEnv, "")
	_, err = run(t, "principal", "rekey", "--database", db, "clerk")
	require.Error(t, err, "a revoked principal stays revoked")

	// The old and the revoked key are refused like any client's.
	_, err = run(t, "import", "evidence", exampleFile("tongxiang-county.yaml"), "--database", db, "--village", "330483102215", "--key", clerkKey)
	require.Error(t, err)
	_, err = run(t, "import", "evidence", exampleFile("tongxiang-county.yaml"), "--database", db, "--village", "330483102215")
	require.Error(t, err)

	st, err := server.OpenStore(context.Background(), db)
	require.NoError(t, err)
	op, err := st.Store().Principals().PrincipalByName(context.Background(), "op-1")
	require.NoError(t, err)
	st.Close()
	assert.Equal(t, [][2]string{
		{principals.ActionCreate, LocalOperatorID},
		{principals.ActionCreate, LocalOperatorID},
		{principals.ActionRekey, op.ID},
		{principals.ActionRevoke, op.ID},
	}, principalEntries(t, db), "one entry per change, with who did it")
}
