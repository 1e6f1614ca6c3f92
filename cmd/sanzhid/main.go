// Command sanzhid is the sanzhi credit service: gRPC and HTTP/JSON on one
// store (SQLite by default, PostgreSQL in production).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/adapters/demo"
	"github.com/sanzhi/sanzhi/adapters/keys"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/adapters/telemetry"
	"github.com/sanzhi/sanzhi/internal/cli"
)

// version is a release's stamp, set with -ldflags "-X main.version=…";
// cli.Version adds the revision the binary was built from.
var version = "dev"

func main() {
	cmd, err := newCommand(os.Stdout, os.Stderr).ExecuteC()
	os.Exit(cli.Report(os.Stderr, cmd, err))
}

func newCommand(stdout, stderr io.Writer) *cobra.Command {
	v := cli.Version(version)
	cfg := server.Config{Version: v}
	var logLevel, cpuProfile string
	cmd := &cobra.Command{
		Use:     "sanzhid",
		Short:   "sanzhi 三治信农贷 credit service",
		Version: v,
		Long: `sanzhid serves the sanzhi API over gRPC and HTTP/JSON.

With no flags it stores everything in ./sanzhi.db (SQLite). Every flag can
also be set by the SANZHI_* variable named in its help; the data key itself
is read from SANZHI_DATA_KEY (never a flag, so it stays out of ps).

Exit status: 0 after a clean shutdown; 1 failed (e.g. the database is
unreachable); 2 bad command line or SANZHI_* value (nothing started).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cli.BindEnv(cmd.Flags()); err != nil {
				return cli.Usage(err)
			}
			cfg.DataKey = os.Getenv("SANZHI_DATA_KEY")
			cfg.Limits.Rate.Off = cfg.Limits.Rate.PerPrincipal == 0
			log, err := cli.NewLogger(stderr, logLevel)
			if err != nil {
				return cli.Usage(fmt.Errorf("--log-level: %w", err))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			stopProfile, err := cli.CPUProfile(cpuProfile)
			if err != nil {
				return err
			}
			defer stopProfile()
			tel, err := telemetry.Setup(ctx, v, log)
			if err != nil {
				return fmt.Errorf("cannot set up OpenTelemetry from OTEL_* variables: %w", err)
			}
			defer func() {
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = tel.Shutdown(sctx)
			}()
			cfg.Telemetry = tel
			return server.Run(ctx, cfg, log, func(a server.Addrs) {
				if cfg.Demo {
					printDemoBanner(stdout, a)
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.GRPCAddr, "grpc-addr", "127.0.0.1:7070", "address the gRPC API listens on")
	f.StringVar(&cfg.HTTPAddr, "http-addr", "127.0.0.1:7080", "address the HTTP/JSON gateway and /openapi.json listen on; empty disables it")
	f.StringVar(&cfg.AdminAddr, "admin-addr", server.DefaultAdminAddr, "address /metrics (Prometheus), /healthz and /readyz listen on, without authentication: keep it on loopback; empty disables it")
	f.StringVar(&cfg.Database, "database", "sqlite://./sanzhi.db", "database URL: sqlite://PATH (embedded) or postgres://USER@HOST:PORT/DB")
	f.StringVar(&cfg.DataKeyFile, "data-key-file", "", "the key `FILE` that encrypts 身份证号 at rest (make one with: sanzhi keygen); SANZHI_DATA_KEY may hold the contents instead")
	f.StringVar(&cfg.KeyProvider, "key-provider", keys.ProviderFile, "where the data keys come from: file (--data-key-file or SANZHI_DATA_KEY) or command (--key-command, e.g. an HSM unwrapping them; docs/OPERATIONS.md)")
	f.StringVar(&cfg.KeyCommand, "key-command", "", "absolute `PATH` of the command that prints the data keys, with --key-provider command")
	f.StringArrayVar(&cfg.KeyCommandArgs, "key-command-arg", nil, "an argument `ARG` for --key-command (repeatable; the variable gives one)")
	f.DurationVar(&cfg.KeyCommandTimeout, "key-command-timeout", keys.DefaultCommandTimeout, "how long --key-command may run before it is killed and the start refused")
	f.BoolVar(&cfg.RequireGM, "require-gm", false, "国密 only: refuse to start unless every data key is SM4 (sm4- ids) and the blind index HMAC-SM3 (index-sm3)")
	f.StringVar(&cfg.AuditKeyFile, "audit-key-file", "", "the note signer key `FILE` that signs audit checkpoints (make one with: sanzhi audit keygen)")
	f.DurationVar(&cfg.CheckpointInterval, "checkpoint-interval", 10*time.Second, "how often pending audit records are sequenced and a checkpoint signed")
	f.DurationVar(&cfg.ReassessInterval, "reassess-interval", 10*time.Second, "how often households whose points or facts changed are re-assessed for their credit lines")
	f.DurationVar(&cfg.HealthInterval, "health-interval", 2*time.Second, "how often the database is pinged; gRPC health is NOT_SERVING while it does not answer")
	f.DurationVar(&cfg.WebhookPoll, "webhook-poll", time.Second, "how often the line event outbox is checked for webhook deliveries (commits on this instance wake it at once)")
	f.DurationVar(&cfg.WebhookTimeout, "webhook-timeout", 10*time.Second, "how long one webhook delivery may take before it counts as failed")
	f.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate for TLS on both listeners")
	f.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key for --tls-cert")
	f.StringVar(&cfg.TLSClientCA, "tls-client-ca", "", "PEM CA bundle; client certificates it signs identify bank principals by common name (mTLS)")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error (logs are JSON on stderr)")
	f.BoolVar(&cfg.BenchFloors, "bench-floors", false, "register sanzhi.v1.FloorService, the load-test baselines (only in a -tags benchfloors build)")
	f.BoolVar(&cfg.NoMigrate, "no-migrate", false, "do not migrate the schema at start (run sanzhi migrate as a role with DDL rights first); refuse to start while a migration is pending")
	f.BoolVar(&cfg.Demo, "demo", false, "seed the demo county on an empty database, accept the printed demo keys from loopback, generate a data key beside the database")
	f.DurationVar(&cfg.ShutdownGrace, "shutdown-grace", 15*time.Second, "how long in-flight requests may take to finish after SIGTERM/SIGINT")
	f.BoolVar(&cfg.InsecureAllowPlaintext, "insecure-allow-plaintext", false, "serve without TLS on a non-loopback address (refused otherwise); only on a network you trust, e.g. behind a TLS-terminating proxy on the same host")
	// For load tests (bench/ghz): the whole run's profile, written at shutdown.
	f.StringVar(&cpuProfile, "cpu-profile", "", "write a CPU profile of the process to `FILE`, until it stops")
	_ = f.MarkHidden("cpu-profile")
	lim := &cfg.Limits
	f.Int64Var(&lim.MaxRequestBytes, "max-request-bytes", server.DefaultMaxRequestBytes, "largest HTTP request body (413 beyond it, before authentication) and gRPC request message")
	f.IntVar(&lim.WatchStreamsPerBank, "watch-streams-per-bank", rpc.DefaultWatchStreams, "how many WatchCreditLines streams one bank may hold open at once")
	rate := &lim.Rate
	*rate = rpc.DefaultRateLimits
	f.Float64Var(&rate.PerPrincipal, "rate-limit", rate.PerPrincipal, "requests per second each principal may make on average (token bucket); 0 turns every rate limit off, e.g. for load tests")
	f.IntVar(&rate.Burst, "rate-burst", rate.Burst, "size of each principal's token bucket: how many requests it may make at once before --rate-limit paces it")
	f.Float64Var(&rate.PerPeer, "rate-limit-unauthenticated", rate.PerPeer, "failed authentications per second allowed from one client address (burst 30) before its requests are refused unread")
	cli.DocumentEnv(f)
	cli.CheckUsage(cmd)
	return cmd
}

func printDemoBanner(w io.Writer, a server.Addrs) {
	fmt.Fprintf(w, "\nsanzhi demo is up: gRPC %s, HTTP http://%s (OpenAPI at /openapi.json)\n\nDemo API keys (accepted only in demo mode, from loopback):\n", a.GRPC, a.HTTP)
	var clerk, village string
	for _, p := range demo.Principals() {
		fmt.Fprintf(w, "  %-24s %-18s %s\n", p.Name, p.Role, p.Key)
		if clerk == "" && p.Role == "village_clerk" {
			clerk, village = p.Key, p.Scope.Villages[0]
		}
	}
	fmt.Fprintf(w, `
Try:
  grpcurl -plaintext %[1]s list
  grpcurl -plaintext -H 'authorization: Bearer %[2]s' -d '{"parent":"villages/%[3]s","page_size":3}' %[1]s sanzhi.v1.HouseholdService/ListHouseholds
  curl -s -H 'Authorization: Bearer %[2]s' 'http://%[4]s/v1/villages/%[3]s/households?page_size=3'
  # the village's 股份+积分 dividend rounds (docs/DIVIDENDS.md): one approved, one on notice
  curl -s -H 'Authorization: Bearer %[2]s' 'http://%[4]s/v1/villages/%[3]s/dividendRounds'

`, a.GRPC, clerk, village, a.HTTP)
	if a.Console != "" && a.Demo != nil {
		fmt.Fprintf(w, `Web console: %s
  staff (village, bank, regulator): %s
    first password %s (each is asked for a new one at first sign-in)
  the demo household (%s): sign-in code %s (a new code at every start)

`, a.Console, strings.Join(a.Demo.Staff, ", "), demo.FirstPassword, a.Demo.Household, a.Demo.Code)
	}
}
