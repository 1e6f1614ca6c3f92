//go:build benchfloors

package server

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/grpc"

	"github.com/sanzhi/sanzhi/adapters/rpc"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// registerFloors serves sanzhi.v1.FloorService, the baselines the load
// tests divide by. It exists only in a bench build (-tags benchfloors):
// a production sanzhid has no table it may write freely.
func registerFloors(ctx context.Context, gs *grpc.Server, db any, log *slog.Logger) error {
	fdb, ok := db.(rpc.FloorDB)
	if !ok {
		return errors.New("--bench-floors: this database has no floor implementation")
	}
	if err := fdb.PrepareFloor(ctx); err != nil {
		return err
	}
	sanzhiv1.RegisterFloorServiceServer(gs, rpc.NewFloors(fdb))
	log.Warn("load-test floors registered (--bench-floors): sanzhi.v1.FloorService writes to bench_floor")
	return nil
}
