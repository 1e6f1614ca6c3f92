package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// appendKey adds a data key line to the key file: the rotation's first step.
func appendKey(t *testing.T, path, id string) {
	t.Helper()
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(id + ":" + base64.StdEncoding.EncodeToString(b) + "\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// dropKey removes a data key's line from the key file: retiring it.
func dropKey(t *testing.T, path, id string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var keep []string
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if !strings.HasPrefix(line, id+":") {
			keep = append(keep, line)
		}
	}
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(keep, "")), 0o600))
}

// rekeyRecords counts the rekey audit records queued.
func rekeyRecords(t *testing.T, db string) int {
	t.Helper()
	ctx := context.Background()
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	defer st.Close()
	var n int
	require.NoError(t, st.Store().Conn().ReadOne(ctx, func(q sqlstore.Querier) error {
		return q.QueryRow(ctx, `SELECT count(*) FROM audit_queue WHERE action LIKE 'data_key.rekey%'`).Scan(&n)
	}))
	return n
}

// The rotation as the runbook (docs/OPERATIONS.md) has it, on the demo
// county: --status, append a key, rekey, --status says the old key can
// go, remove it; and the refusals on the way.
func TestRekeyRotation(t *testing.T) {
	db := demoCopy(t)
	keyFile, err := server.DemoKeyPath(db)
	require.NoError(t, err)
	values := func(out, key string) string {
		m := regexp.MustCompile(`(?m)^` + key + `\s+(\d+)\s`).FindStringSubmatch(out)
		require.NotNil(t, m, "no line for %s in\n%s", key, out)
		return m[1]
	}

	out, err := run(t, "rekey", "--status", "--database", db)
	require.NoError(t, err, out)
	assert.Regexp(t, `households\.head_id\s+k1\s+\d+`, out)
	assert.Regexp(t, `household_members\.id\s+k1\s+\d+`, out)
	assert.Regexp(t, `k1\s+\d+\s+current`, out)
	assert.Contains(t, out, "every sealed value is under k1; no key to retire")
	all := values(out, "k1")

	_, err = run(t, "rekey", "--database", db)
	require.Error(t, err, "one key: nothing to rotate to")
	assert.Contains(t, err.Error(), `has one key, "k1"`)

	appendKey(t, keyFile, "k2")
	out, err = run(t, "rekey", "--status", "--database", db)
	require.NoError(t, err)
	assert.Regexp(t, `k1\s+`+all+`\s+old, in use`, out)
	assert.Contains(t, out, all+" values are not under the current key k2: run `sanzhi rekey`")

	for _, bad := range [][]string{
		{"--batch-size", "0"}, {"--batch-size", "-3"}, {"--batch-size", "10001"}, {"--batch-size", "many"},
		{"--key", "sz_not_a_key"},
	} {
		out, err := run(t, append([]string{"rekey", "--database", db}, bad...)...)
		assert.Error(t, err, "%v: %s", bad, out)
	}
	_, err = run(t, "rekey", "--database", db, "--batch-size", "0")
	assert.EqualError(t, err, "--batch-size must be between 1 and 10000, got 0")
	out, err = run(t, "rekey", "--status", "--database", db)
	require.NoError(t, err)
	assert.Equal(t, all, values(out, "k1"), "nothing re-encrypted by a refused run")
	assert.Zero(t, rekeyRecords(t, db), "nor recorded")

	out, err = run(t, "rekey", "--database", db, "--batch-size", "700", "--no-progress")
	require.NoError(t, err, out)
	assert.Contains(t, out, "re-encrypting "+all+" values under k2 in batches of 700")
	assert.Regexp(t, `re-encrypted `+all+` values from k1 to k2 in .*, 1 pass\(es\), 0 skipped`, out)
	assert.Contains(t, out, "unused, can be retired: k1")
	assert.Equal(t, 2, rekeyRecords(t, db))

	out, err = run(t, "rekey", "--database", db)
	require.NoError(t, err)
	assert.Contains(t, out, "nothing to re-encrypt: every sealed value is under the current key k2")
	assert.Equal(t, 2, rekeyRecords(t, db), "nothing done, nothing recorded")

	dropKey(t, keyFile, "k1")
	out, err = run(t, "rekey", "--status", "--database", db)
	require.NoError(t, err)
	assert.Regexp(t, `k2\s+`+all+`\s+current`, out)
	assert.NotContains(t, out, "k1")
	// The county reads with k2 alone.
	readsWith(t, db, keyFile)

	// Retiring a key still in use is caught.
	dropKey(t, keyFile, "k2")
	appendKey(t, keyFile, "k3")
	out, err = run(t, "rekey", "--status", "--database", db)
	require.Error(t, err)
	assert.Regexp(t, `k2\s+`+all+`\s+MISSING from the key file`, out)
	assert.NotContains(t, out, "run `sanzhi rekey`", "rekey cannot help without the key")
	assert.Contains(t, err.Error(), `the data key file lacks key id "k2"`)
	_, err = run(t, "rekey", "--database", db)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "`sanzhi rekey --status`")
}

// readsWith opens a page of the demo village's households, heads and
// members, with the keys in keyFile only.
func readsWith(t *testing.T, db, keyFile string) {
	t.Helper()
	ctx := context.Background()
	kr, err := pii.LoadKeyringFile(keyFile)
	require.NoError(t, err)
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	defer st.Close()
	svc := household.NewService(st.Store().Households(), pii.Sealer{Keyring: kr}, time.Now)
	page, err := svc.List(ctx, "villages/330483102215", 0, 50, "")
	require.NoError(t, err, "List opens every member's 身份证号 for the birth date")
	require.Len(t, page.Items, 50)
	for _, h := range page.Items {
		head, err := pii.Sealer{Keyring: kr}.Open(h.ID, h.HeadID)
		require.NoError(t, err)
		assert.Equal(t, h.HeadIDMasked, head.Masked())
		found, err := svc.Lookup(ctx, "villages/330483102215", head.Raw())
		require.NoError(t, err, "the blind index finds the household")
		assert.Equal(t, h.ID, found.ID)
	}
}

// Only an operator re-keys.
func TestRekeyOperatorsOnly(t *testing.T) {
	db := demoCopy(t)
	keyFile, err := server.DemoKeyPath(db)
	require.NoError(t, err)
	appendKey(t, keyFile, "k2")
	clerkKey := newPrincipal(t, db, "--name", "a-clerk", "--role", "village_clerk", "--villages", "330483102215")
	_, err = run(t, "rekey", "--database", db, "--key", clerkKey)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rekey is an operator's command; a-clerk is a village_clerk")
	assert.Zero(t, rekeyRecords(t, db))
}
