package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// remote holds the flags of commands that talk to a running sanzhid over
// gRPC instead of opening the database: the way a regulator, who has an
// API key and no database access, runs them.
type remote struct {
	addr      string
	keyFile   string
	caFile    string
	plaintext bool
}

// apiKeyEnv names the environment variable that may hold the API key. The
// key is never a flag of its own: flags show in `ps` and shell history.
const apiKeyEnv = "SANZHI_API_KEY"

func (r *remote) addFlags(c *cobra.Command) {
	c.Flags().StringVar(&r.addr, "server", "", "gRPC address of a running sanzhid (host:port); without it the command opens --database")
	c.Flags().StringVar(&r.keyFile, "api-key-file", "", "file holding your API key (or set "+apiKeyEnv+")")
	c.Flags().StringVar(&r.caFile, "ca-file", "", "PEM CA that signed the server's certificate (default: the system roots)")
	c.Flags().BoolVar(&r.plaintext, "plaintext", false, "no TLS; allowed only to a loopback address")
}

func (r *remote) set() bool { return r.addr != "" }

// dial connects with TLS unless --plaintext names a loopback address, and
// sends the API key as "authorization: Bearer KEY" on every call.
func (r *remote) dial() (*grpc.ClientConn, error) {
	key, err := r.apiKey()
	if err != nil {
		return nil, err
	}
	var creds credentials.TransportCredentials
	if r.plaintext {
		if !loopback(r.addr) {
			return nil, fmt.Errorf("--plaintext would send your API key in the clear to %s; it is allowed only to a loopback address", r.addr)
		}
		creds = insecure.NewCredentials()
	} else {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if r.caFile != "" {
			pem, err := os.ReadFile(r.caFile)
			if err != nil {
				return nil, fmt.Errorf("cannot read --ca-file: %w", err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("--ca-file %s holds no PEM certificate", r.caFile)
			}
		}
		creds = credentials.NewTLS(cfg)
	}
	return grpc.NewClient(r.addr, grpc.WithTransportCredentials(creds),
		grpc.WithPerRPCCredentials(bearer{key: key, secure: !r.plaintext}))
}

func (r *remote) apiKey() (string, error) {
	key := os.Getenv(apiKeyEnv)
	if r.keyFile != "" {
		b, err := os.ReadFile(r.keyFile)
		if err != nil {
			return "", fmt.Errorf("cannot read --api-key-file: %w", err)
		}
		key = string(b)
	}
	key = strings.TrimSpace(key)
	if key == "" {
		return "", errors.New("--server needs your API key: pass --api-key-file or set " + apiKeyEnv)
	}
	return key, nil
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// bearer is the API key as per-call gRPC credentials.
type bearer struct {
	key    string
	secure bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.key}, nil
}

func (b bearer) RequireTransportSecurity() bool { return b.secure }

// exportFromServer streams ExportEntries into w. A partial export is
// useless to a verifier, so an error mid-stream is reported as such and
// the caller's file is left for them to delete, not silently truncated.
func exportFromServer(cmd *cobra.Command, r *remote, from, to uint64, format string, w io.Writer) error {
	conn, err := r.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	stream, err := sanzhiv1.NewAuditServiceClient(conn).ExportEntries(cmd.Context(),
		&sanzhiv1.ExportEntriesRequest{FromSeq: from, TreeSize: to, Format: format})
	if err != nil {
		return fmt.Errorf("export from %s: %w", r.addr, err)
	}
	var n int64
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("export from %s stopped after %d bytes (the output is incomplete): %w", r.addr, n, err)
		}
		m, err := w.Write(chunk.GetData())
		n += int64(m)
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "exported %d bytes from %s\n", n, r.addr)
	return nil
}
