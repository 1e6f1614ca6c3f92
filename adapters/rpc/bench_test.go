package rpc_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/idnum"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// BenchmarkRPC measures household create and get through the real chain
// (authentication reads the store, validation, handler, transaction)
// against an empty RPC on the same server, so BENCHMARKS.md can report the
// cost as a ratio that survives a noisy machine.
func BenchmarkRPC(b *testing.B) {
	stores := map[string]func(b *testing.B) *sqlstore.Store{
		"sqlite": func(b *testing.B) *sqlstore.Store {
			db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"))
			require.NoError(b, err)
			b.Cleanup(func() { db.Close() })
			require.NoError(b, db.Migrate(context.Background()))
			return db.Store()
		},
		"postgres": func(b *testing.B) *sqlstore.Store { return pgtest.NewDB(b).Store() },
	}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			e := newEnv(b, stores[name](b))
			ctx := e.as("clerk-a")
			health := healthpb.NewHealthClient(e.conn)
			b.Run("EmptyRPC", func(b *testing.B) {
				for b.Loop() {
					if _, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
						b.Fatal(err)
					}
				}
			})
			var last string
			b.Run("CreateHousehold", func(b *testing.B) {
				for b.Loop() {
					req := benchCreate(b)
					h, err := e.client.CreateHousehold(ctx, req)
					if err != nil {
						b.Fatal(err)
					}
					last = h.Name
				}
			})
			b.Run("GetHousehold", func(b *testing.B) {
				req := &sanzhiv1.GetHouseholdRequest{Name: last}
				for b.Loop() {
					if _, err := e.client.GetHousehold(ctx, req); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// benchSeq numbers heads across every run of the benchmark function (the
// harness calls it more than once on the same store).
var benchSeq int

func benchCreate(b *testing.B) *sanzhiv1.CreateHouseholdRequest {
	benchSeq++
	n := benchSeq
	// Distinct heads: birth date and sequence vary with n.
	day := n%28 + 1
	first17 := fmt.Sprintf("3304831970%02d%02d%03d", n/28%12+1, day, n/336%1000)
	c, err := idnum.CheckDigit(first17)
	if err != nil {
		b.Fatal(err)
	}
	return &sanzhiv1.CreateHouseholdRequest{
		Parent:    "villages/" + villageA,
		RequestId: fmt.Sprintf("bench-%d", n),
		Household: &sanzhiv1.Household{HeadName: "沈建国", HeadIdNumber: first17 + string(c), Group: 3,
			RegisteredDate: "2001-05-01", Facts: validFacts()},
	}
}
