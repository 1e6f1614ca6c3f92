package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// defaultGRPCAddr is sanzhid's own default --grpc-addr.
const defaultGRPCAddr = "127.0.0.1:7070"

// healthPoll is how often --wait asks again.
const healthPoll = 500 * time.Millisecond

type healthFlags struct {
	addr, service, caFile, serverName string
	plaintext                         bool
	timeout, wait                     time.Duration
}

// healthCmd is the probe the package check, the container's HEALTHCHECK
// (an image without a shell) and operators run: one grpc.health.v1 Check,
// exit 0 on SERVING and an error (exit 1, one line) on anything else.
func healthCmd() *cobra.Command {
	var f healthFlags
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Ask a running sanzhid whether it is SERVING (gRPC health); exit 0 if so, 1 with the reason if not",
		Long: `health asks sanzhid's gRPC health service (grpc.health.v1) whether it is
SERVING: the schema is current and the database answers. It exits 0 and prints
SERVING, or exits 1 with one line saying why not (unreachable, NOT_SERVING,
unknown service, TLS mismatch). With --wait it asks every half second until
SERVING or until the duration has passed, e.g. while a freshly started service
migrates.

The address defaults to SANZHI_GRPC_ADDR, the variable sanzhid itself listens
on, so with sanzhid's environment loaded no flag is needed; an unspecified
host (0.0.0.0, [::]) is asked on loopback. Like the other commands that talk
to a server it uses TLS unless --plaintext is given; health sends no API key,
so --plaintext is allowed to any address.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addr := f.addr
			if addr == "" {
				addr = os.Getenv("SANZHI_GRPC_ADDR")
			}
			if addr == "" {
				addr = defaultGRPCAddr
			}
			addr, err := probeAddr(addr)
			if err != nil {
				return err
			}
			creds, err := f.creds()
			if err != nil {
				return err
			}
			if f.timeout <= 0 {
				return errors.New("--timeout must be positive")
			}
			if f.wait < 0 {
				return errors.New("--wait must not be negative")
			}
			if err := waitServing(cmd.Context(), addr, f.service, creds, f.timeout, f.wait); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: SERVING\n", describeTarget(addr, f.service))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "", "gRPC address of sanzhid, host:port (default: $SANZHI_GRPC_ADDR, else "+defaultGRPCAddr+")")
	fl.StringVar(&f.service, "service", "", "service to ask about, e.g. sanzhi.v1.HouseholdService (default: the server as a whole)")
	fl.BoolVar(&f.plaintext, "plaintext", false, "no TLS (for a sanzhid started without --tls-cert)")
	fl.StringVar(&f.caFile, "ca-file", "", "PEM CA that signed the server's certificate (default: the system roots)")
	fl.StringVar(&f.serverName, "server-name", "", "name to verify in the server's certificate (default: the host of --addr)")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Second, "how long one check may take")
	fl.DurationVar(&f.wait, "wait", 0, "keep asking until SERVING or this long has passed (e.g. 60s); 0 asks once")
	return cmd
}

func (f *healthFlags) creds() (credentials.TransportCredentials, error) {
	if f.plaintext {
		if f.caFile != "" || f.serverName != "" {
			return nil, errors.New("--plaintext cannot be combined with --ca-file or --server-name")
		}
		return insecure.NewCredentials(), nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.serverName}
	if f.caFile != "" {
		pem, err := os.ReadFile(f.caFile)
		if err != nil {
			return nil, fmt.Errorf("cannot read --ca-file: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-file %s holds no PEM certificate", f.caFile)
		}
	}
	return credentials.NewTLS(cfg), nil
}

// probeAddr checks host:port and turns a listen-all host into loopback:
// sanzhid in a container listens on 0.0.0.0, and its HEALTHCHECK asks
// from inside.
func probeAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "", fmt.Errorf("address %q is not host:port", addr)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port), nil
}

func describeTarget(addr, service string) string {
	if service == "" {
		return addr
	}
	return addr + " " + service
}

// waitServing checks once, or until SERVING or wait has passed. Each check
// dials afresh: a kept connection would back off between attempts (up to
// two minutes in grpc-go) and --wait would sleep through the start.
func waitServing(ctx context.Context, addr, service string, creds credentials.TransportCredentials, timeout, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		err := checkOnce(ctx, addr, service, creds, timeout)
		if err == nil || wait == 0 {
			return err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("not SERVING after waiting %s: %w", wait, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped waiting: %w", err)
		case <-time.After(min(healthPoll, left)):
		}
	}
}

func checkOnce(ctx context.Context, addr, service string, creds credentials.TransportCredentials, timeout time.Duration) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return fmt.Errorf("cannot dial %s: %w", addr, err)
	}
	defer conn.Close()
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Fail-fast (the default): the call waits for the first connection
	// attempt, and a refused one comes back at once with the dial's reason
	// rather than at the deadline.
	resp, err := healthpb.NewHealthClient(conn).Check(cctx, &healthpb.HealthCheckRequest{Service: service})
	target := describeTarget(addr, service)
	if err != nil {
		return healthError(target, service, timeout, err)
	}
	if s := resp.GetStatus(); s != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%s is %s", target, s)
	}
	return nil
}

// healthError makes a gRPC failure one line that says what to do.
func healthError(target, service string, timeout time.Duration, err error) error {
	st := status.Convert(err)
	msg := strings.Join(strings.Fields(st.Message()), " ")
	switch st.Code() {
	case codes.NotFound:
		return fmt.Errorf("%s: the server knows no service %q", target, service)
	case codes.Unimplemented:
		return fmt.Errorf("%s does not serve grpc.health.v1: is it sanzhid?", target)
	case codes.DeadlineExceeded:
		return fmt.Errorf("%s did not answer within %s", target, timeout)
	case codes.Unavailable:
		switch {
		case strings.Contains(msg, "first record does not look like a TLS handshake"):
			return fmt.Errorf("%s speaks plaintext, not TLS: add --plaintext", target)
		case strings.Contains(msg, "certificate"):
			return fmt.Errorf("%s: its TLS certificate is not trusted (--ca-file, --server-name): %s", target, msg)
		case strings.Contains(msg, "server preface") || strings.Contains(msg, "EOF"):
			return fmt.Errorf("%s closed the connection: does it want TLS? (drop --plaintext): %s", target, msg)
		case strings.Contains(msg, "Error while dialing"):
			// "connection error: desc = \"transport: Error while dialing:
			// dial tcp 127.0.0.1:7070: connect: connection refused\"": the
			// last clause is the reason.
			msg = strings.TrimSuffix(msg[strings.LastIndex(msg, ": ")+2:], `"`)
		}
		return fmt.Errorf("cannot reach %s: %s", target, msg)
	}
	return fmt.Errorf("%s: health check failed: %s: %s", target, st.Code(), msg)
}
