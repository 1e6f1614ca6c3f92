package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns PEM certificate and key for cn, for a server (with a
// loopback IP) or a client.
func (ca *testCA) issue(t *testing.T, cn string, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

// TestMutualTLS: with TLS on, API keys still work; a verified client
// certificate identifies a bank principal by common name; a certificate
// naming a non-bank principal, or from another CA, identifies no one.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newCA(t)
	srvCert, srvKey := ca.issue(t, "sanzhid", true)
	db := sqliteURL(t)
	cfg := Config{Database: db, TLSCert: writeFile(t, dir, "srv.pem", srvCert), TLSKey: writeFile(t, dir, "srv.key", srvKey),
		TLSClientCA: writeFile(t, dir, "ca.pem", ca.pem), AdminAddr: "127.0.0.1:0"}
	srv := start(t, cfg)
	clerkKey := addPrincipal(t, db, "clerk", access.VillageClerk, access.Scope{Villages: []string{"330483102201"}})
	addPrincipal(t, db, "bank-mtls", access.BankOfficer, access.Scope{Bank: "tongxiang-rcb"})

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	dialTLS := func(client *tls.Certificate) *grpc.ClientConn {
		tc := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		if client != nil {
			tc.Certificates = []tls.Certificate{*client}
		}
		conn, err := grpc.NewClient(srv.addrs.GRPC, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
		require.NoError(t, err)
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	clientCert := func(ca *testCA, cn string) *tls.Certificate {
		c, k := ca.issue(t, cn, false)
		pair, err := tls.X509KeyPair(c, k)
		require.NoError(t, err)
		return &pair
	}
	ctx := context.Background()
	list := &sanzhiv1.ListHouseholdsRequest{Parent: "villages/330483102201"}

	// Health over TLS needs no credentials.
	hc, err := healthpb.NewHealthClient(dialTLS(nil)).Check(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, hc.Status)

	// API keys work over TLS.
	withKey := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+clerkKey)
	_, err = sanzhiv1.NewHouseholdServiceClient(dialTLS(nil)).ListHouseholds(withKey, list)
	require.NoError(t, err)

	// The bank's certificate identifies it: it is authenticated, and then
	// refused by role (no bank may list a village's households).
	_, err = sanzhiv1.NewHouseholdServiceClient(dialTLS(clientCert(ca, "bank-mtls"))).ListHouseholds(ctx, list)
	assert.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)

	// A certificate naming a non-bank principal identifies no one.
	_, err = sanzhiv1.NewHouseholdServiceClient(dialTLS(clientCert(ca, "clerk"))).ListHouseholds(ctx, list)
	assert.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
	// Nor does a certificate naming nobody.
	_, err = sanzhiv1.NewHouseholdServiceClient(dialTLS(clientCert(ca, "ghost"))).ListHouseholds(ctx, list)
	assert.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
	// A certificate from another CA does not complete the handshake.
	_, err = sanzhiv1.NewHouseholdServiceClient(dialTLS(clientCert(newCA(t), "bank-mtls"))).ListHouseholds(ctx, list)
	assert.Error(t, err)
	assert.NotEqual(t, codes.PermissionDenied, status.Code(err))

	// The HTTP gateway is served over TLS too, and passes the same chain.
	hcl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	req, _ := http.NewRequest(http.MethodGet, "https://"+srv.addrs.HTTP+"/v1/villages/330483102201/households", nil)
	req.Header.Set("Authorization", "Bearer "+clerkKey)
	resp, err := hcl.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// Over HTTPS a client certificate identifies its bank as over gRPC:
	// the gateway forwards the name the HTTP server verified.
	httpsAs := func(client *tls.Certificate, path string, header map[string]string) (int, string) {
		t.Helper()
		tc := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		if client != nil {
			tc.Certificates = []tls.Certificate{*client}
		}
		cl := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
		req, err := http.NewRequest(http.MethodGet, "https://"+srv.addrs.HTTP+path, nil)
		require.NoError(t, err)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := cl.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}
	lines := "/v1/banks/tongxiang-rcb/products/sanzhi-xindai/creditLines"
	households := "/v1/villages/330483102201/households"
	code, body := httpsAs(clientCert(ca, "bank-mtls"), lines, nil)
	assert.Equal(t, http.StatusOK, code, "the bank's certificate over HTTPS: %s", body)
	code, body = httpsAs(clientCert(ca, "bank-mtls"), "/v1/banks/other-rcb/products/x/creditLines", nil)
	assert.Equal(t, http.StatusForbidden, code, "and only its own bank: %s", body)
	assert.Contains(t, body, "OUT_OF_SCOPE")
	code, body = httpsAs(clientCert(ca, "bank-mtls"), households, nil)
	assert.Equal(t, http.StatusForbidden, code, "authenticated, then refused by role: %s", body)
	code, body = httpsAs(nil, lines, nil)
	assert.Equal(t, http.StatusUnauthorized, code, "no certificate, no key: %s", body)
	code, body = httpsAs(clientCert(ca, "clerk"), households, nil)
	assert.Equal(t, http.StatusUnauthorized, code, "a certificate identifies bank principals only: %s", body)
	// A key beside a certificate decides, as over gRPC.
	code, body = httpsAs(clientCert(ca, "bank-mtls"), households, map[string]string{"Authorization": "Bearer " + clerkKey})
	assert.Equal(t, http.StatusOK, code, "%s", body)
	// A caller cannot claim a certificate through gateway metadata headers.
	spoof := map[string]string{
		"Grpc-Metadata-" + rpc.GatewayCertName:  base64.StdEncoding.EncodeToString([]byte("bank-mtls")),
		"Grpc-Metadata-" + rpc.GatewayCertToken: strings.Repeat("0", 64)}
	code, body = httpsAs(nil, lines, spoof)
	assert.Equal(t, http.StatusUnauthorized, code, "%s", body)
	// Nor over gRPC, where the name without the gateway's token is refused.
	claim := metadata.AppendToOutgoingContext(ctx, rpc.GatewayCertName, "bank-mtls", rpc.GatewayCertToken, strings.Repeat("0", 64))
	_, err = sanzhiv1.NewCreditServiceClient(dialTLS(nil)).ListCreditLines(claim,
		&sanzhiv1.ListCreditLinesRequest{Product: "banks/tongxiang-rcb/products/sanzhi-xindai"})
	assert.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
	assert.Contains(t, status.Convert(err).Message(), "only from the server's own HTTP gateway")
	// So is the admin listener, with no credentials asked.
	resp, err = hcl.Get("https://" + srv.addrs.Admin + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	// Go's TLS server answers plaintext HTTP with 400, never the page.
	resp, err = http.Get("http://" + srv.addrs.Admin + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "no plaintext beside TLS")
}
