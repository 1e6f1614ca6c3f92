package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/server"
)

// TestAuditExportFromServer: a regulator with only an API key exports the
// log through a running sanzhid over TCP, and the file verifies offline;
// a village clerk's key gets nothing, and the key is never sent in the
// clear to a non-loopback address.
func TestAuditExportFromServer(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite://" + filepath.Join(dir, "s.db")
	cfg := server.Config{Database: db, GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		DataKeyFile: filepath.Join(dir, "data.key"), AuditKeyFile: filepath.Join(dir, "audit.key")}
	require.NoError(t, pii.GenerateKeyFile(cfg.DataKeyFile))
	require.NoError(t, server.GenerateAuditKey(cfg.AuditKeyFile, "sanzhi.test/audit"))
	_, err := run(t, "migrate", "--database", db)
	require.NoError(t, err)

	// Principals made before the server starts: each creation is an
	// audited entry, so the log has something to export.
	keyFile := func(role string, extra ...string) string {
		args := append([]string{"principal", "create", "--database", db, "--name", role, "--role", role}, extra...)
		out, err := run(t, args...)
		require.NoError(t, err, out)
		key := regexp.MustCompile(`sz_[a-z2-7]{52}`).FindString(out)
		require.NotEmpty(t, key, out)
		path := filepath.Join(dir, role+".apikey")
		require.NoError(t, os.WriteFile(path, []byte(key+"\n"), 0o600))
		return path
	}
	regKey := keyFile("regulator")
	clerkKey := keyFile("village_clerk", "--villages", "330483102215")

	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan server.Addrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- server.Run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func(a server.Addrs) { ready <- a })
	}()
	var addrs server.Addrs
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("server did not become ready")
	}
	t.Cleanup(func() { cancel(); <-done })

	vkey, err := run(t, "audit", "key", "--audit-key-file", cfg.AuditKeyFile)
	require.NoError(t, err, vkey)
	vkey = strings.TrimSpace(vkey)

	export := filepath.Join(dir, "log.jsonl")
	out, err := run(t, "audit", "export", "--server", addrs.GRPC, "--plaintext", "--api-key-file", regKey, "-o", export)
	require.NoError(t, err, out)
	assert.Contains(t, out, "exported")
	body, err := os.ReadFile(export)
	require.NoError(t, err)
	assert.Contains(t, string(body), "principal", "the two principal creations are in the export")
	out, err = run(t, "audit", "verify-export", export, "--verifier-key", vkey)
	require.NoError(t, err, out)
	assert.Contains(t, out, "OK")

	denied := filepath.Join(dir, "clerk.jsonl")
	out, err = run(t, "audit", "export", "--server", addrs.GRPC, "--plaintext", "--api-key-file", clerkKey, "-o", denied)
	require.Error(t, err, out)
	assert.Contains(t, err.Error(), "PermissionDenied")
	b, _ := os.ReadFile(denied)
	assert.Empty(t, b, "a refused export writes nothing")

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--server", "203.0.113.7:9090", "--plaintext", "--api-key-file", regKey}, "in the clear"},
		{[]string{"--server", addrs.GRPC, "--plaintext"}, "API key"},
		{[]string{"--server", addrs.GRPC, "--plaintext", "--api-key-file", filepath.Join(dir, "nope")}, "--api-key-file"},
		{[]string{"--server", addrs.GRPC, "--ca-file", filepath.Join(dir, "s.db"), "--api-key-file", regKey}, "no PEM"},
	} {
		t.Setenv(apiKeyEnv, "")
		out, err := run(t, append([]string{"audit", "export"}, bad.args...)...)
		require.Error(t, err, "%v: %s", bad.args, out)
		assert.Contains(t, err.Error(), bad.want, bad.args)
	}
}
