package main

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
)

const demoPolicyName = "banks/tongxiang-rcb/products/sanzhi-xindai/policies/1"

func auditQueued(t *testing.T, db string) int64 {
	t.Helper()
	ctx := context.Background()
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	defer st.Close()
	var n int64
	require.NoError(t, st.Store().Conn().ReadOne(ctx, func(q sqlstore.Querier) error {
		return q.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM audit_queue) + (SELECT COUNT(*) FROM audit_leaves)`).Scan(&n)
	}))
	return n
}

func TestModelBacktest(t *testing.T) {
	db := demoCopy(t)
	bt := func(extra ...string) (string, error) {
		return run(t, append([]string{"model", "backtest", "--database", db, "--policy", demoPolicyName, "--as-of", "2026-06-30"}, extra...)...)
	}
	before := auditQueued(t, db)

	// The table, in both languages.
	zh, err := bt()
	require.NoError(t, err, zh)
	assert.Contains(t, zh, "回测 tongxiang-rcb/sanzhi-xindai v1")
	assert.Contains(t, zh, "截至 2026-06-30")
	assert.Contains(t, zh, "坏账率")
	en, err := bt("--lang", "en", "--key", "sz_demo_regulator")
	require.NoError(t, err, en)
	assert.Contains(t, en, "Back-test tongxiang-rcb/sanzhi-xindai v1")
	assert.Contains(t, en, "bad rate")
	assert.Contains(t, en, "village")
	assert.Equal(t, before+2, auditQueued(t, db), "one audit entry per back-test")

	// CSV to standard output reads back; HTML to a file has its charts.
	out, err := bt("--format", "csv", "--key", "sz_demo_bank_risk", "--lang", "en")
	require.NoError(t, err, out)
	r := csv.NewReader(strings.NewReader(out))
	r.FieldsPerRecord = -1 // sections of different widths
	recs, err := r.ReadAll()
	require.NoError(t, err)
	assert.Equal(t, []string{"section", "summary"}, recs[0][:2])
	file := filepath.Join(t.TempDir(), "bt.html")
	_, err = bt("--format", "html", "--out", file)
	require.NoError(t, err)
	page, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Contains(t, string(page), "<!DOCTYPE html>")
	assert.Contains(t, string(page), "<svg")

	// Refusals: nothing recorded.
	mid := auditQueued(t, db)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--as-of", "2026-02-30"}, "as_of"},
		{[]string{"--as-of", "2999-01-01"}, "future"},
		{[]string{"--format", "pdf"}, "--format"},
		{[]string{"--key", "sz_demo_bank_officer"}, "may not"},
		{[]string{"--key", "sz_demo_clerk_nanyang"}, "may not"},
	} {
		out, err := bt(c.args...)
		require.Error(t, err, c.args)
		assert.Contains(t, strings.ToLower(err.Error()+out), c.want, c.args)
	}
	out, err = run(t, "model", "backtest", "--database", db, "--policy", "banks/tongxiang-rcb/policies/1")
	require.Error(t, err, out)
	assert.Contains(t, err.Error(), "name")
	assert.Equal(t, mid, auditQueued(t, db))
}
