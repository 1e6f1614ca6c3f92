package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/server"
)

// startSanzhid runs a real sanzhid on loopback (SQLite, fresh keys) and
// returns its gRPC address; tune adjusts the config first.
func startSanzhid(t *testing.T, tune func(*server.Config)) string {
	t.Helper()
	dir := t.TempDir()
	cfg := server.Config{Database: "sqlite://" + filepath.Join(dir, "s.db"), GRPCAddr: "127.0.0.1:0",
		DataKeyFile: filepath.Join(dir, "data.key"), AuditKeyFile: filepath.Join(dir, "audit.key")}
	require.NoError(t, pii.GenerateKeyFile(cfg.DataKeyFile))
	require.NoError(t, server.GenerateAuditKey(cfg.AuditKeyFile, "sanzhi.test/audit"))
	if tune != nil {
		tune(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan server.Addrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- server.Run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func(a server.Addrs) { ready <- a })
	}()
	select {
	case a := <-ready:
		t.Cleanup(func() { cancel(); <-done })
		return a.GRPC
	case err := <-done:
		cancel()
		t.Fatalf("sanzhid did not start: %v", err)
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatal("sanzhid did not become ready")
	}
	return ""
}

// TestHealthAgainstSanzhid: the probe says SERVING for a running sanzhid,
// as a whole and per service, and fails with one clear line for an
// unknown service, a closed port, a TLS mismatch and bad flags.
func TestHealthAgainstSanzhid(t *testing.T) {
	addr := startSanzhid(t, nil)

	out, err := run(t, "health", "--addr", addr, "--plaintext")
	require.NoError(t, err, out)
	assert.Equal(t, addr+": SERVING\n", out)

	out, err = run(t, "health", "--addr", addr, "--plaintext", "--service", "sanzhi.v1.HouseholdService")
	require.NoError(t, err, out)
	assert.Contains(t, out, "sanzhi.v1.HouseholdService: SERVING")

	// The address sanzhid is told to listen on is the probe's default, and
	// a listen-all host is asked on loopback.
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	t.Setenv("SANZHI_GRPC_ADDR", "0.0.0.0:"+port)
	out, err = run(t, "health", "--plaintext")
	require.NoError(t, err, out)
	assert.Contains(t, out, "127.0.0.1:"+port+": SERVING")

	closed := closedPort(t)
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--addr", addr, "--plaintext", "--service", "sanzhi.v1.NoSuchService"}, `knows no service "sanzhi.v1.NoSuchService"`},
		{[]string{"--addr", closed, "--plaintext"}, "cannot reach " + closed + ": connection refused"},
		{[]string{"--addr", addr}, "speaks plaintext, not TLS: add --plaintext"},
		{[]string{"--addr", "no-port"}, `"no-port" is not host:port`},
		{[]string{"--addr", addr, "--plaintext", "--ca-file", "x.pem"}, "cannot be combined"},
		{[]string{"--addr", addr, "--ca-file", filepath.Join(t.TempDir(), "missing.pem")}, "--ca-file"},
		{[]string{"--addr", addr, "--plaintext", "--timeout", "0s"}, "--timeout must be positive"},
	} {
		out, err := run(t, append([]string{"health"}, bad.args...)...)
		require.Error(t, err, "%v: %s", bad.args, out)
		assert.Contains(t, err.Error(), bad.want, bad.args)
		assert.NotContains(t, err.Error(), "\n", "one line: %v", bad.args)
		assert.NotContains(t, out, "SERVING\n", bad.args)
	}

	// --wait gives up at its deadline and says why.
	start := time.Now()
	_, err = run(t, "health", "--addr", closed, "--plaintext", "--wait", "1500ms")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not SERVING after waiting 1.5s: cannot reach")
	assert.GreaterOrEqual(t, time.Since(start), 1500*time.Millisecond)
	assert.Less(t, time.Since(start), 10*time.Second)
}

// TestHealthTLS: against a sanzhid serving TLS the probe verifies the
// certificate with --ca-file; an untrusted certificate and --plaintext
// are refused with the reason.
func TestHealthTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	addr := startSanzhid(t, func(c *server.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })

	out, err := run(t, "health", "--addr", addr, "--ca-file", certFile)
	require.NoError(t, err, out)
	assert.Contains(t, out, "SERVING")

	_, err = run(t, "health", "--addr", addr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate is not trusted")

	_, err = run(t, "health", "--addr", addr, "--ca-file", certFile, "--server-name", "elsewhere.example")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate is not trusted")

	_, err = run(t, "health", "--addr", addr, "--plaintext", "--timeout", "3s")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does it want TLS?")
}

// TestHealthNotServingThenServing: a server that says NOT_SERVING fails
// the probe; with --wait, the probe waits until it turns SERVING. The
// server is grpc-go's own health service on loopback, set by hand, since
// sanzhid says NOT_SERVING only in moments a test cannot hold (starting,
// stopping, database down).
func TestHealthNotServingThenServing(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	gs := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	addr := lis.Addr().String()

	_, err = run(t, "health", "--addr", addr, "--plaintext")
	require.Error(t, err)
	assert.Equal(t, addr+" is NOT_SERVING", err.Error())

	time.AfterFunc(time.Second, func() { hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING) })
	start := time.Now()
	out, err := run(t, "health", "--addr", addr, "--plaintext", "--wait", "30s")
	require.NoError(t, err, out)
	assert.Contains(t, out, "SERVING")
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "it waited for the change")
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()
	require.NoError(t, lis.Close())
	return addr
}

// selfSigned writes a certificate for 127.0.0.1 that is its own CA.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sanzhid test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	return certFile, keyFile
}
