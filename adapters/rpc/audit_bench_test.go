package rpc_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/idnum"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// BenchmarkCreateAuditCost measures what the audit log adds to a write RPC:
// CreateHousehold through the real chain (authentication, authorisation,
// validation, handler, durable write transaction) over bufconn, one call at
// a time, on two servers over the same fresh database:
//
//   - without audit (the baseline): the same household.Service over a
//     household.Store whose writers' Record does nothing;
//   - with audit: the real store, so each create also queues its audit
//     record in its transaction.
//
// The two are called alternately (ABBA order) and timed call by call, so
// drift on a noisy machine hits both alike; one op is one create on each.
// After the loop one Publish sequences and signs everything the audited
// creates queued, timed separately and amortised over them. Metrics:
// noaudit-µs and audit-µs per create, publish-µs per audited create, and
// the ratios audit/noaudit and (audit+publish)/noaudit.
//
//	go test -run '^$' -bench BenchmarkCreateAuditCost -benchtime 2000x -count 5 ./adapters/rpc/
func BenchmarkCreateAuditCost(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) *sqlstore.Store
	}{
		{"sqlite", func(b *testing.B) *sqlstore.Store {
			db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			if err := db.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			return db.Store()
		}},
		{"postgres", func(b *testing.B) *sqlstore.Store { return pgtest.NewDB(b).Store() }},
	}
	for _, s := range stores {
		b.Run(s.name, func(b *testing.B) {
			st := s.open(b) // fresh for every run, so -count runs do not see each other's rows
			noAudit := newAuditBenchServer(b, st, auditBenchNoRecord{st.Households()})
			withAudit := newAuditBenchServer(b, st, st.Households())
			skey, _, err := audit.GenerateKey("bench/audit")
			if err != nil {
				b.Fatal(err)
			}
			alog, err := merklelog.New(st, skey, time.Now)
			if err != nil {
				b.Fatal(err)
			}
			var tNo, tAudit time.Duration
			timed := func(srv *auditBenchServer, into *time.Duration) {
				t0 := time.Now()
				srv.create(b)
				*into += time.Since(t0)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%2 == 0 {
					timed(noAudit, &tNo)
					timed(withAudit, &tAudit)
				} else {
					timed(withAudit, &tAudit)
					timed(noAudit, &tNo)
				}
			}
			t0 := time.Now()
			cp, err := alog.Publish(context.Background())
			tPublish := time.Since(t0)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if cp.Size != uint64(b.N) {
				b.Fatalf("published %d leaves, want %d", cp.Size, b.N)
			}
			n := float64(b.N)
			us := func(d time.Duration) float64 { return d.Seconds() * 1e6 / n }
			b.ReportMetric(us(tNo), "noaudit-µs")
			b.ReportMetric(us(tAudit), "audit-µs")
			b.ReportMetric(us(tPublish), "publish-µs")
			b.ReportMetric(float64(tAudit)/float64(tNo), "audit/noaudit")
			b.ReportMetric(float64(tAudit+tPublish)/float64(tNo), "audit+publish/noaudit")
		})
	}
}

type auditBenchServer struct {
	client sanzhiv1.HouseholdServiceClient
	ctx    context.Context
}

// newAuditBenchServer serves the real chain and household handlers over
// bufconn, with hs as the household store, and one village clerk.
func newAuditBenchServer(b *testing.B, st *sqlstore.Store, hs household.Store) *auditBenchServer {
	b.Helper()
	secret, key := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(key)
	kr, err := pii.NewKeyring(secret, "k1", key)
	if err != nil {
		b.Fatal(err)
	}
	v, err := rpc.NewValidator()
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gs := grpc.NewServer(rpc.ServerOptions(rpc.Chain(log, rpc.NewAuthenticator(st.Principals(), false), v))...)
	sanzhiv1.RegisterHouseholdServiceServer(gs, rpc.NewHouseholds(household.NewService(hs, pii.Sealer{Keyring: kr}, time.Now)))
	conn := serveBufconn(b, gs)
	apiKey, err := access.NewKey()
	if err != nil {
		b.Fatal(err)
	}
	p := &access.Principal{ID: uuid.NewString(), Name: "bench-clerk-" + uuid.NewString()[:8], Role: access.VillageClerk,
		Scope: access.Scope{Villages: []string{villageA}}, CreateTime: time.Now()}
	if err := st.Principals().CreatePrincipal(context.Background(), p, access.HashKey(apiKey)); err != nil {
		b.Fatal(err)
	}
	return &auditBenchServer{
		client: sanzhiv1.NewHouseholdServiceClient(conn),
		ctx:    metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+apiKey),
	}
}

// auditBenchSeq numbers heads across every run on the same database.
var auditBenchSeq int

func (s *auditBenchServer) create(b *testing.B) {
	n := auditBenchSeq
	auditBenchSeq++
	birth := time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n/1000)
	first17 := fmt.Sprintf("330483%s%03d", birth.Format("20060102"), n%1000)
	c, err := idnum.CheckDigit(first17)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.client.CreateHousehold(s.ctx, &sanzhiv1.CreateHouseholdRequest{
		Parent:    "villages/" + villageA,
		RequestId: fmt.Sprintf("audit-bench-%d", n),
		Household: &sanzhiv1.Household{HeadName: "沈建国", HeadIdNumber: first17 + string(c), Group: 3,
			Address: "南阳村3组99号", RegisteredDate: "2001-05-01",
			Facts: &sanzhiv1.HouseholdFacts{Members: 4, Labourers: 2, AnnualIncome: "86000.50", LandAreaMu: "3.20",
				CollectiveShares: "10", ExistingBankDebt: "0", Source: "村委会登记", AsOfDate: "2026-01-15"}},
	}); err != nil {
		b.Fatal(err)
	}
}

// auditBenchNoRecord is the real household store with auditing switched
// off: the Writer handed to fn is the real one with Record a no-op.
type auditBenchNoRecord struct{ household.Store }

func (s auditBenchNoRecord) Write(ctx context.Context, fn func(household.Writer) error) error {
	return s.Store.Write(ctx, func(w household.Writer) error { return fn(auditBenchNoRecordWriter{w}) })
}

type auditBenchNoRecordWriter struct{ household.Writer }

func (auditBenchNoRecordWriter) Record(context.Context, audit.Record) error { return nil }
