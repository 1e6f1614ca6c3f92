package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/idnum"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// TestLeastPrivilegeRoles walks the production setup of docs/OPERATIONS.md
// on a new database: deploy/postgres/roles.sql, `sanzhi migrate` as the
// migrator (the app role cannot), the script again, principals made and
// sanzhid serving with --no-migrate as the app role (a household
// registered over gRPC, the log sequenced and signed), then `sanzhi audit
// verify` and export as the auditor. The app role cannot change the
// schema, the auditor cannot write.
func TestLeastPrivilegeRoles(t *testing.T) {
	ctx := context.Background()
	urls, names := pgtest.NewEmptyRoles(t)
	dir := t.TempDir()

	out, err := run(t, "migrate", "--database", urls.App)
	require.Error(t, err, "the app role has no DDL: %s", out)
	assert.Contains(t, err.Error(), "permission denied for schema sanzhi")
	out, err = run(t, "migrate", "--database", urls.Migrator)
	require.NoError(t, err, out)
	assert.Contains(t, out, "schema is up to date")
	require.NoError(t, pgtest.ApplyRoles(ctx, urls.Admin, names))

	principal := func(name, role string, extra ...string) string {
		out, err := run(t, append([]string{"principal", "create", "--database", urls.App, "--name", name, "--role", role}, extra...)...)
		require.NoError(t, err, out)
		key := regexp.MustCompile(`sz_[a-z2-7]{52}`).FindString(out)
		require.NotEmpty(t, key, out)
		return key
	}
	clerk := principal("clerk", "village_clerk", "--villages", "330483102201")
	principal("regulator", "regulator")

	cfg := server.Config{Database: urls.App, NoMigrate: true, GRPCAddr: "127.0.0.1:0",
		DataKeyFile: filepath.Join(dir, "data.key"), AuditKeyFile: filepath.Join(dir, "audit.key")}
	require.NoError(t, pii.GenerateKeyFile(cfg.DataKeyFile))
	require.NoError(t, server.GenerateAuditKey(cfg.AuditKeyFile, "sanzhi.test/roles"))
	sctx, stop := context.WithCancel(ctx)
	ready := make(chan server.Addrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- server.Run(sctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func(a server.Addrs) { ready <- a })
	}()
	var addrs server.Addrs
	select {
	case addrs = <-ready:
	case err := <-done:
		stop()
		t.Fatalf("sanzhid did not start as the app role: %v", err)
	case <-time.After(2 * time.Minute):
		stop()
		t.Fatal("sanzhid did not become ready")
	}
	conn, err := grpc.NewClient(addrs.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	first17 := "33048319800101" + strconv.Itoa(100+time.Now().Nanosecond()%900)
	check, err := idnum.CheckDigit(first17)
	require.NoError(t, err)
	as := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+clerk)
	hh, err := sanzhiv1.NewHouseholdServiceClient(conn).CreateHousehold(as, &sanzhiv1.CreateHouseholdRequest{
		Parent: "villages/330483102201", RequestId: "r1",
		Household: &sanzhiv1.Household{HeadName: "徐阿大", HeadIdNumber: first17 + string(check), Group: 2, RegisteredDate: "2010-01-01",
			Facts: &sanzhiv1.HouseholdFacts{Members: 3, Labourers: 2, AnnualIncome: "54000", LandAreaMu: "2.5",
				CollectiveShares: "0", ExistingBankDebt: "0", Source: "村委会登记", AsOfDate: "2026-01-01"}},
	})
	require.NoError(t, err, "the app role writes a household, its facts, members and audit record")
	_, err = sanzhiv1.NewHouseholdServiceClient(conn).UpdateHousehold(as, &sanzhiv1.UpdateHouseholdRequest{
		Household: &sanzhiv1.Household{Name: hh.Name, Address: "南阳村 3 组 12 号"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"address"}}})
	require.NoError(t, err)
	stop()
	require.NoError(t, <-done, "a clean shutdown, the last checkpoint signed as the app role")

	vkey, err := run(t, "audit", "key", "--audit-key-file", cfg.AuditKeyFile)
	require.NoError(t, err)
	out, err = run(t, "audit", "verify", "--database", urls.Auditor, "--verifier-key", strings.TrimSpace(vkey))
	require.NoError(t, err, out)
	m := regexp.MustCompile(`OK: (\d+) leaves`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	leaves, _ := strconv.Atoi(m[1])
	assert.GreaterOrEqual(t, leaves, 4, "two principals, a household and its update")
	out, err = run(t, "audit", "export", "--database", urls.Auditor, "-o", filepath.Join(dir, "log.jsonl"))
	require.NoError(t, err, out)
	assert.Contains(t, out, "exported "+m[1]+" leaves")

	denied := func(dsn string, qs ...string) {
		t.Helper()
		c, err := pgx.Connect(ctx, dsn)
		require.NoError(t, err)
		defer c.Close(ctx)
		for _, q := range qs {
			_, err := c.Exec(ctx, q)
			var pe *pgconn.PgError
			require.True(t, errors.As(err, &pe), "%s: want permission denied, got %v", q, err)
			assert.Equal(t, "42501", pe.Code, "%s: %s", q, pe.Message)
		}
	}
	denied(urls.App, `CREATE TABLE scratch (id int)`, `DROP TABLE households`, `TRUNCATE households`,
		`ALTER TABLE households ADD COLUMN extra text`, `DELETE FROM audit_leaves`)
	denied(urls.Auditor, `INSERT INTO audit_queue (time, actor, action, subject, request_hash, result_hash, payload)
		VALUES (now(), 'a', 'b', 'c', '', '', '')`, `SELECT head_name FROM households`)
}
