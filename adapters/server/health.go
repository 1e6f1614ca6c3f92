package server

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// defaultHealthInterval is how often the database is pinged for health.
const defaultHealthInterval = 2 * time.Second

// watchStore pings the database every interval until ctx ends and keeps
// the health service in step: NOT_SERVING while the database does not
// answer (a load balancer then sends callers elsewhere, and requests that
// do arrive get UNAVAILABLE with a retry delay), SERVING again once it
// answers. Each change is logged once, not every tick.
func watchStore(ctx context.Context, db Store, h *health.Server, interval time.Duration, log *slog.Logger) {
	if interval <= 0 {
		interval = defaultHealthInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	serving := true
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// A ping that takes longer than the interval counts as down.
		pctx, cancel := context.WithTimeout(ctx, interval)
		err := db.Ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && serving:
			serving = false
			log.Error("database unreachable: health NOT_SERVING", "error", err)
			setServing(h, healthpb.HealthCheckResponse_NOT_SERVING)
		case err == nil && !serving:
			serving = true
			log.Info("database reachable again: health SERVING")
			setServing(h, healthpb.HealthCheckResponse_SERVING)
		}
	}
}
