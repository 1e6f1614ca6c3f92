//go:build benchfloors

package main

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/server"
)

// TestServeForProfile runs sanzhid's server in this test process for
// SANZHI_PROFILE_FOR (e.g. 30s), so that `go test -cpuprofile` profiles
// the server while ghz loads it from outside; sanzhid itself has no pprof
// endpoint. It skips unless SANZHI_PROFILE_FOR is set.
//
//	SANZHI_PROFILE_FOR=30s SANZHI_DATABASE=postgres://… \
//	  SANZHI_DATA_KEY_FILE=data.key SANZHI_AUDIT_KEY_FILE=audit.key SANZHI_GRPC_ADDR=127.0.0.1:7173 \
//	  go test -tags benchfloors -run TestServeForProfile -cpuprofile cpu.out ./bench/ghz/seedcredit/
//
// then run ghz against SANZHI_GRPC_ADDR and `go tool pprof cpu.out`.
func TestServeForProfile(t *testing.T) {
	d := os.Getenv("SANZHI_PROFILE_FOR")
	if d == "" {
		t.Skip("SANZHI_PROFILE_FOR is not set")
	}
	dur, err := time.ParseDuration(d)
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{
		GRPCAddr: os.Getenv("SANZHI_GRPC_ADDR"), Database: os.Getenv("SANZHI_DATABASE"),
		DataKeyFile: os.Getenv("SANZHI_DATA_KEY_FILE"), AuditKeyFile: os.Getenv("SANZHI_AUDIT_KEY_FILE"),
		CheckpointInterval: time.Second, BenchFloors: true, ShutdownGrace: 5 * time.Second, Version: "profile",
		Limits: server.Limits{Rate: rpc.RateLimits{Off: true}}, // a load test, like --rate-limit 0
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	if err := server.Run(ctx, cfg, log, func(a server.Addrs) { t.Logf("serving gRPC on %s", a.GRPC) }); err != nil {
		t.Fatal(err)
	}
}
