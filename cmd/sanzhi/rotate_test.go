package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// grow appends n entries to the log at db and publishes a checkpoint
// signed with the key in keyFile, as a running server would.
func grow(t *testing.T, db, keyFile string, from, n int) {
	t.Helper()
	ctx := context.Background()
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.Migrate(ctx))
	skey, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	l, err := merklelog.New(st.Store(), string(skey), time.Now)
	require.NoError(t, err)
	require.NoError(t, st.Store().Households().Write(ctx, func(tx household.Writer) error {
		for i := from; i < from+n; i++ {
			if err := tx.Record(ctx, audit.Record{Time: time.Now().UTC(), Actor: "p1", Action: "household.update",
				Subject: fmt.Sprintf("villages/330483102215/households/%d", i)}); err != nil {
				return err
			}
		}
		return nil
	}))
	_, err = l.Publish(ctx)
	require.NoError(t, err)
}

// state is what a refused rotation must leave as it was: the log's head,
// its checkpoints and the files.
func state(t *testing.T, db string, files ...string) string {
	t.Helper()
	ctx := context.Background()
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	defer st.Close()
	h, err := st.Store().Head(ctx)
	require.NoError(t, err)
	var b strings.Builder
	fmt.Fprintf(&b, "head %d %x\n", h.Size, h.Root)
	require.NoError(t, st.Store().ScanCheckpoints(ctx, func(c sqlstore.StoredCheckpoint) error {
		fmt.Fprintf(&b, "checkpoint %d\n", c.Size)
		return nil
	}))
	for _, f := range files {
		data, err := os.ReadFile(f)
		fmt.Fprintf(&b, "%s: %q %v\n", f, data, err != nil)
	}
	return b.String()
}

func TestAuditRotateKeyCommand(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testRotateKeyCommand(t, "sqlite://"+filepath.Join(t.TempDir(), "a.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		testRotateKeyCommand(t, pgtest.NewURL(t))
	})
}

func testRotateKeyCommand(t *testing.T, db string) {
	dir := t.TempDir()
	oldKey, newKey, history := filepath.Join(dir, "old.key"), filepath.Join(dir, "new.key"), filepath.Join(dir, "keys.history")
	_, err := run(t, "audit", "keygen", oldKey, "--origin", "sanzhi.test/tongxiang")
	require.NoError(t, err)
	oldV, err := run(t, "audit", "key", "--audit-key-file", oldKey)
	require.NoError(t, err)
	oldV = strings.TrimSpace(oldV)
	grow(t, db, oldKey, 0, 15)
	grow(t, db, oldKey, 15, 15)

	// A receipt a bank kept before the rotation.
	ctx := context.Background()
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	skey, err := os.ReadFile(oldKey)
	require.NoError(t, err)
	l, err := merklelog.New(st.Store(), string(skey), time.Now)
	require.NoError(t, err)
	p, err := l.Entry(ctx, 7, 15)
	require.NoError(t, err)
	receipt, err := json.Marshal(audit.Receipt{Entry: p.Leaf.Data, LeafIndex: 7, Proof: p.Proof, Checkpoint: p.Checkpoint.Note})
	require.NoError(t, err)
	st.Close()
	receiptFile := filepath.Join(dir, "receipt.json")
	require.NoError(t, os.WriteFile(receiptFile, receipt, 0o644))

	// Refused rotations change nothing: not the log, not the files.
	before := state(t, db, newKey, history)
	for name, args := range map[string][]string{
		"old key file missing":   {"--audit-key-file", filepath.Join(dir, "nope.key"), "--new-key-file", newKey, "--key-history", history},
		"same key":               {"--audit-key-file", oldKey, "--new-key-file", oldKey, "--key-history", history},
		"history dir missing":    {"--audit-key-file", oldKey, "--new-key-file", newKey, "--key-history", filepath.Join(dir, "no", "keys.history")},
		"new key not a key":      {"--audit-key-file", oldKey, "--new-key-file", receiptFile, "--key-history", history},
		"history is not history": {"--audit-key-file", oldKey, "--new-key-file", newKey, "--key-history", receiptFile},
	} {
		_, err := run(t, append([]string{"audit", "rotate-key", "--database", db}, args...)...)
		require.Error(t, err, name)
		assert.Equal(t, before, state(t, db, newKey, history), name)
	}
	_, err = run(t, "audit", "rotate-key", "--database", db, "--audit-key-file", oldKey, "--key-history", history)
	require.ErrorContains(t, err, "new-key-file")
	if strings.HasPrefix(db, "sqlite://") {
		missing := "sqlite://" + filepath.Join(dir, "missing.db")
		_, err := run(t, "audit", "rotate-key", "--database", missing, "--audit-key-file", oldKey, "--new-key-file", newKey, "--key-history", history)
		require.ErrorContains(t, err, "cannot open the database")
		assert.NoFileExists(t, filepath.Join(dir, "missing.db"), "no empty database is created")
		assert.NoFileExists(t, newKey)
	}

	// The rotation: a new key is generated, the handover is at 31.
	out, err := run(t, "audit", "rotate-key", "--database", db, "--audit-key-file", oldKey, "--new-key-file", newKey, "--key-history", history)
	require.NoError(t, err, out)
	assert.Contains(t, out, "size 31 is signed by both keys")
	fi, err := os.Stat(newKey)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the new signing key is private")
	newV, err := run(t, "audit", "key", "--audit-key-file", newKey)
	require.NoError(t, err)
	newV = strings.TrimSpace(newV)
	assert.NotEqual(t, oldV, newV)
	assert.True(t, strings.HasPrefix(newV, "sanzhi.test/tongxiang+"), "the new key keeps the log's name")
	text, err := os.ReadFile(history)
	require.NoError(t, err)
	assert.Contains(t, string(text), oldV+" 0\n"+newV+" 31\n")
	assert.Contains(t, out, newV)

	// The server restarted with the new key.
	grow(t, db, newKey, 30, 5)

	out, err = run(t, "audit", "verify", "--database", db, "--key-history", history)
	require.NoError(t, err, out)
	assert.Contains(t, out, "OK: 36 leaves, 4 signed checkpoints")
	_, err = run(t, "audit", "verify", "--database", db, "--verifier-key", oldV)
	require.ErrorContains(t, err, "AUDIT LOG FAILED VERIFICATION")
	assert.Contains(t, err.Error(), "checkpoint at size 36")
	assert.Contains(t, err.Error(), "--key-history", "the failure points at the history")
	_, err = run(t, "audit", "verify", "--database", db, "--verifier-key", newV)
	require.ErrorContains(t, err, "checkpoint at size 15")
	_, err = run(t, "audit", "verify", "--database", db, "--verifier-key", newV, "--key-history", history)
	require.ErrorContains(t, err, "not both")

	out, err = run(t, "audit", "verify-receipt", receiptFile, "--key-history", history)
	require.NoError(t, err, out)
	assert.Contains(t, out, "entry 7")
	_, err = run(t, "audit", "verify-receipt", receiptFile, "--key", newV)
	require.ErrorContains(t, err, "RECEIPT FAILED VERIFICATION")

	exportFile := filepath.Join(dir, "export.jsonl")
	_, err = run(t, "audit", "export", "--database", db, "-o", exportFile)
	require.NoError(t, err)
	out, err = run(t, "audit", "verify-export", exportFile, "--key-history", history)
	require.NoError(t, err, out)
	assert.Contains(t, out, "OK: 36 leaves")

	// A history with the boundary moved, or a stranger's key, fails.
	_, strangerV, err := audit.GenerateKey("sanzhi.test/tongxiang")
	require.NoError(t, err)
	for name, bad := range map[string]string{
		"boundary moved": strings.Replace(string(text), newV+" 31", newV+" 32", 1),
		"unknown key":    strings.Replace(string(text), newV, strangerV, 1),
	} {
		badFile := filepath.Join(dir, "bad.history")
		require.NoError(t, os.WriteFile(badFile, []byte(bad), 0o644))
		_, err = run(t, "audit", "verify", "--database", db, "--key-history", badFile)
		require.ErrorContains(t, err, "AUDIT LOG FAILED VERIFICATION", name)
	}

	// Rotating again without the history is refused; with it, it works.
	third := filepath.Join(dir, "third.key")
	before = state(t, db, third, history)
	_, err = run(t, "audit", "rotate-key", "--database", db, "--audit-key-file", newKey, "--new-key-file", third, "--key-history", filepath.Join(dir, "fresh.history"))
	require.ErrorContains(t, err, "does not verify against the key history")
	assert.Equal(t, before, state(t, db, third, history))
	assert.NoFileExists(t, filepath.Join(dir, "fresh.history"))
	out, err = run(t, "audit", "rotate-key", "--database", db, "--audit-key-file", newKey, "--new-key-file", third, "--key-history", history)
	require.NoError(t, err, out)
	assert.Contains(t, out, "size 37 is signed by both keys")
	out, err = run(t, "audit", "verify", "--database", db, "--key-history", history)
	require.NoError(t, err, out)
}
