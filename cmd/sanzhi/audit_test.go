package main

import (
	"context"
	"database/sql"
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
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/internal/cli"
	"github.com/sanzhi/sanzhi/scoring/household"
)

func TestAuditCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "a.db")
	db := "sqlite://" + path
	keyFile := filepath.Join(dir, "audit.key")
	out, err := run(t, "audit", "keygen", keyFile, "--origin", "sanzhi.test/tongxiang")
	require.NoError(t, err)
	vkey, err := run(t, "audit", "key", "--audit-key-file", keyFile)
	require.NoError(t, err)
	vkey = strings.TrimSpace(vkey)
	assert.Contains(t, out, vkey, "keygen prints the verifier key")
	assert.True(t, strings.HasPrefix(vkey, "sanzhi.test/tongxiang+"))
	_, err = run(t, "audit", "keygen", keyFile)
	require.Error(t, err, "keygen never overwrites a key")

	// A log of 30 entries with two checkpoints.
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	skey, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	l, err := merklelog.New(st.Store(), string(skey), time.Now)
	require.NoError(t, err)
	var kept string
	for round := range 2 {
		require.NoError(t, st.Store().Households().Write(ctx, func(tx household.Writer) error {
			for i := range 15 {
				if err := tx.Record(ctx, audit.Record{Time: time.Now().UTC(), Actor: "p1", Action: "household.update",
					Subject: fmt.Sprintf("villages/330483102215/households/%d", round*15+i)}); err != nil {
					return err
				}
			}
			return nil
		}))
		cp, err := l.Publish(ctx)
		require.NoError(t, err)
		if round == 0 {
			kept = cp.Note
		}
	}
	p, err := l.Entry(ctx, 7, 0)
	require.NoError(t, err)
	receipt, err := json.Marshal(audit.Receipt{Entry: p.Leaf.Data, LeafIndex: 7, Proof: p.Proof, Checkpoint: p.Checkpoint.Note})
	require.NoError(t, err)
	st.Close()

	keptFile := filepath.Join(dir, "kept.checkpoint")
	require.NoError(t, os.WriteFile(keptFile, []byte(kept), 0o644))
	out, err = run(t, "audit", "verify", "--database", db, "--verifier-key", vkey, "--since", keptFile)
	require.NoError(t, err, out)
	assert.Contains(t, out, "OK: 30 leaves")

	exportFile := filepath.Join(dir, "export.jsonl")
	_, err = run(t, "audit", "export", "--database", db, "--from", "10", "-o", exportFile)
	require.NoError(t, err)
	out, err = run(t, "audit", "verify-export", exportFile, "--verifier-key", vkey)
	require.NoError(t, err, out)
	assert.Contains(t, out, "OK: 30 leaves")
	export, err := os.ReadFile(exportFile)
	require.NoError(t, err)
	forged := filepath.Join(dir, "forged.jsonl")
	require.NoError(t, os.WriteFile(forged, []byte(strings.Replace(string(export), "households/20", "households/21", 1)), 0o644))
	_, err = run(t, "audit", "verify-export", forged, "--verifier-key", vkey)
	require.ErrorContains(t, err, "EXPORT FAILED VERIFICATION")
	assert.Equal(t, cli.ExitVerifyFailed, cli.Code(err))
	_, err = run(t, "audit", "verify-export", filepath.Join(dir, "missing.jsonl"), "--verifier-key", vkey)
	require.Error(t, err)
	assert.Equal(t, cli.ExitFailure, cli.Code(err), "no file to check is not a failed check")

	receiptFile := filepath.Join(dir, "receipt.json")
	require.NoError(t, os.WriteFile(receiptFile, receipt, 0o644))
	out, err = run(t, "audit", "verify-receipt", receiptFile, "--verifier-key", vkey)
	require.NoError(t, err, out)
	assert.Contains(t, out, "entry 7")
	out, err = run(t, "audit", "verify-receipt", receiptFile, "--key", vkey)
	require.NoError(t, err, out)
	assert.Contains(t, out, "entry 7")
	require.NoError(t, os.WriteFile(receiptFile, []byte(strings.Replace(string(receipt), "households/7", "households/8", 1)), 0o644))
	_, err = run(t, "audit", "verify-receipt", receiptFile, "--verifier-key", vkey)
	require.ErrorContains(t, err, "RECEIPT FAILED VERIFICATION")
	assert.Equal(t, cli.ExitVerifyFailed, cli.Code(err))
	require.NoError(t, os.WriteFile(receiptFile, []byte("{not json"), 0o644))
	_, err = run(t, "audit", "verify-receipt", receiptFile, "--verifier-key", vkey)
	assert.Equal(t, cli.ExitVerifyFailed, cli.Code(err), "%v", err)

	_, err = run(t, "audit", "verify", "--database", db)
	require.ErrorContains(t, err, "verifier-key", "verify needs the public key")
	assert.Equal(t, cli.ExitUsage, cli.Code(err))

	// Tamper with the database directly: verify names the leaf and fails.
	// The append-only trigger refuses the delete; an attacker who can write
	// the file drops it first, and verify still catches the rewrite.
	raw, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	_, err = raw.Exec(`DELETE FROM audit_leaves WHERE seq = 12`)
	require.ErrorContains(t, err, "append-only")
	_, err = raw.Exec(`DROP TRIGGER audit_leaves_no_delete`)
	require.NoError(t, err)
	_, err = raw.Exec(`DELETE FROM audit_leaves WHERE seq = 12`)
	require.NoError(t, err)
	raw.Close()
	_, err = run(t, "audit", "verify", "--database", db, "--verifier-key", vkey)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AUDIT LOG FAILED VERIFICATION")
	assert.Contains(t, err.Error(), "leaf 12")
	assert.Equal(t, cli.ExitVerifyFailed, cli.Code(err))
}
