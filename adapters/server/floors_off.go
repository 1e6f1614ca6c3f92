//go:build !benchfloors

package server

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/grpc"
)

// registerFloors refuses: the load-test floors build only into a bench
// binary (go build -tags benchfloors ./cmd/sanzhid), never into production.
func registerFloors(context.Context, *grpc.Server, any, *slog.Logger) error {
	return errors.New("--bench-floors: this sanzhid was built without the load-test floors; build it with -tags benchfloors")
}
