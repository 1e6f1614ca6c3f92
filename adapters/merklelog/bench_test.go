package merklelog_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/postgres"
	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// appendWriters is how many goroutines commit write transactions at once.
const appendWriters = 64

// appendDB is what both dialect packages offer: the storage ports and raw
// write transactions (with their retry), for the baseline's scratch table.
type appendDB interface {
	Store() *sqlstore.Store
	WriteTx(ctx context.Context, fn func(sqlstore.Querier) error) error
}

type appendBackend struct {
	name string
	open func(b *testing.B) appendDB
	// scratch creates bench_queue, a table shaped like audit_queue that no
	// sequencer reads; ts renders a time as the dialect stores it.
	scratch string
	ts      func(time.Time) any
}

var appendBackends = []appendBackend{
	{
		name: "sqlite",
		open: func(b *testing.B) appendDB {
			db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "a.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			if err := db.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			return db
		},
		scratch: `CREATE TABLE bench_queue (
			id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
			subject TEXT NOT NULL, request_hash TEXT NOT NULL, result_hash TEXT NOT NULL, payload TEXT NOT NULL) STRICT`,
		ts: func(t time.Time) any { return t.UTC().Format("2006-01-02T15:04:05.000000Z") },
	},
	{
		// The pool as sanzhid opens it from a plain URL: pgxpool's default
		// of max(4, CPUs) connections, i.e. 4 here.
		name:    "postgres",
		open:    func(b *testing.B) appendDB { return pgtest.NewDB(b) },
		scratch: `CREATE TABLE bench_queue (LIKE audit_queue INCLUDING ALL)`,
		ts:      func(t time.Time) any { return t },
	},
	{
		// One connection per writer (…&pool_max_conns=64 in the URL).
		name: "postgres-pool64",
		open: func(b *testing.B) appendDB {
			db, err := postgres.Open(context.Background(), pgtest.NewURL(b)+"&pool_max_conns=64")
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			return db
		},
		scratch: `CREATE TABLE bench_queue (LIKE audit_queue INCLUDING ALL)`,
		ts:      func(t time.Time) any { return t },
	},
}

// BenchmarkAppendConcurrent measures how many leaves the log sequences per
// second while 64 goroutines commit durable write transactions that each
// queue one audit record and one sequencer goroutine loops Publish, as the
// server's publisher does (without its ticker pause). One op is one write
// transaction; each sub-benchmark gets a fresh database. Pairs, each with
// its baseline in the same run:
//
//   - QueueInsert (baseline) vs Record: a transaction inserting the same
//     row into bench_queue, a copy of audit_queue that nothing sequences,
//     vs a transaction queueing the record with tx.Record while the
//     sequencer runs. The ratio is what sequencing costs the writers.
//   - CreateNoAudit (baseline) vs Create: household.Service.Create, the
//     real household write (two look-ups, two inserts, sealing), over a
//     store whose Record is a no-op, vs the real store plus the sequencer.
//
// Drain sequences b.N records queued beforehand (untimed) with Publish
// alone: the sequencer's own ceiling.
//
// leaves/s counts leaves sequenced, up to the Publish that covers the last
// commit; commits/s is the writers' commit rate; gaveup/op counts
// transactions that still failed with a serialisation conflict after the
// store's retries and were retried by the writer, as a client would.
//
//	go test -run '^$' -bench BenchmarkAppendConcurrent -benchtime 20000x -count 5 ./adapters/merklelog/
func BenchmarkAppendConcurrent(b *testing.B) {
	for _, be := range appendBackends {
		b.Run(be.name, func(b *testing.B) {
			b.Run("QueueInsert", func(b *testing.B) {
				db := be.open(b)
				ctx := context.Background()
				if err := db.WriteTx(ctx, func(q sqlstore.Querier) error {
					_, err := q.Exec(ctx, be.scratch)
					return err
				}); err != nil {
					b.Fatal(err)
				}
				commits := runWriters(b, nil, 0, func(i int) error {
					r := appendRecord(i)
					return db.WriteTx(ctx, func(q sqlstore.Querier) error {
						_, err := q.Exec(ctx, `INSERT INTO bench_queue (time, actor, action, subject, request_hash, result_hash, payload)
							VALUES ($1, $2, $3, $4, $5, $6, $7)`,
							be.ts(r.Time), r.Actor, r.Action, r.Subject, r.RequestHash, r.ResultHash, `{"facts_version":"1","village":"330483102201"}`)
						return err
					})
				})
				b.ReportMetric(commits, "commits/s")
			})
			b.Run("Record", func(b *testing.B) {
				db := be.open(b)
				st, ctx := db.Store(), context.Background()
				l := appendLog(b, st)
				commits := runWriters(b, l, 0, func(i int) error {
					return st.Households().Write(ctx, func(tx household.Writer) error {
						return tx.Record(ctx, appendRecord(i))
					})
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "leaves/s")
				b.ReportMetric(commits, "commits/s")
			})
			b.Run("CreateNoAudit", func(b *testing.B) {
				db := be.open(b)
				svc, p := appendService(b, noAuditStore{db.Store().Households()})
				commits := runWriters(b, nil, 0, func(i int) error {
					_, err := svc.Create(context.Background(), p, appendCreate(i))
					return err
				})
				b.ReportMetric(commits, "commits/s")
			})
			b.Run("Create", func(b *testing.B) {
				db := be.open(b)
				st := db.Store()
				l := appendLog(b, st)
				svc, p := appendService(b, st.Households())
				commits := runWriters(b, l, 0, func(i int) error {
					_, err := svc.Create(context.Background(), p, appendCreate(i))
					return err
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "leaves/s")
				b.ReportMetric(commits, "commits/s")
			})
			// CreatePaced is Create with the sequencer on a timer, as
			// sanzhid runs it (--checkpoint-interval, 10 s by default; 1 s
			// here), rather than in a loop: what the log costs the writers
			// of a running service. The timer still runs until a Publish
			// covers every record.
			b.Run("CreatePaced", func(b *testing.B) {
				db := be.open(b)
				st := db.Store()
				l := appendLog(b, st)
				svc, p := appendService(b, st.Households())
				commits := runWriters(b, l, time.Second, func(i int) error {
					_, err := svc.Create(context.Background(), p, appendCreate(i))
					return err
				})
				b.ReportMetric(commits, "commits/s")
			})
			b.Run("Drain", func(b *testing.B) {
				db := be.open(b)
				st, ctx := db.Store(), context.Background()
				l := appendLog(b, st)
				for from := 0; from < b.N; from += 1000 {
					if err := st.Households().Write(ctx, func(tx household.Writer) error {
						for i := from; i < min(from+1000, b.N); i++ {
							if err := tx.Record(ctx, appendRecord(i)); err != nil {
								return err
							}
						}
						return nil
					}); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				cp, err := l.Publish(ctx)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				if cp.Size != uint64(b.N) {
					b.Fatalf("published %d leaves, want %d", cp.Size, b.N)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "leaves/s")
			})
		})
	}
}

// runWriters commits b.N transactions, fn(0) … fn(b.N-1), from
// appendWriters goroutines, timed. With a log, a sequencer goroutine calls
// Publish meanwhile, in a loop (every 0) or on a ticker, and the timer
// runs until a Publish covers every record. It returns the writers'
// commit rate.
func runWriters(b *testing.B, l *merklelog.Log, every time.Duration, fn func(i int) error) (commitsPerSecond float64) {
	b.Helper()
	ctx := context.Background()
	var next, gaveUp atomic.Int64
	var firstErr error
	var errOnce sync.Once
	fail := func(err error) { errOnce.Do(func() { firstErr = err }) }
	stop := make(chan struct{})
	seqDone := make(chan struct{})
	b.ResetTimer()
	start := time.Now()
	goBefore, pgBefore, cpuOK := cpuCounters()
	if l != nil {
		go func() {
			defer close(seqDone)
			var tick <-chan time.Time
			if every > 0 {
				t := time.NewTicker(every)
				defer t.Stop()
				tick = t.C
			}
			for {
				if tick != nil {
					select {
					case <-stop:
						return
					case <-tick:
					}
				}
				select {
				case <-stop:
					return
				default:
				}
				if _, err := l.Publish(ctx); err != nil {
					fail(fmt.Errorf("publish: %w", err))
					return
				}
			}
		}()
	}
	var wg sync.WaitGroup
	for range appendWriters {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				for {
					err := fn(i)
					if err == nil {
						break
					}
					// A SERIALIZABLE transaction that still conflicts after
					// the store's own retries: a client would retry the
					// request (creates are idempotent on request id), so do
					// that and count it.
					if !postgres.Retryable(err) {
						fail(fmt.Errorf("write %d: %w", i, err))
						return
					}
					gaveUp.Add(1)
				}
			}
		})
	}
	wg.Wait()
	writersDone := time.Since(start)
	if l != nil {
		close(stop)
		<-seqDone
		cp, err := l.Publish(ctx)
		if err != nil {
			fail(fmt.Errorf("final publish: %w", err))
		} else if cp.Size != uint64(b.N) {
			fail(fmt.Errorf("published %d leaves, want %d", cp.Size, b.N))
		}
	}
	b.StopTimer()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	if goAfter, pgAfter, ok := cpuCounters(); ok && cpuOK {
		// Sequencing included: the timer ran until the last Publish.
		b.ReportMetric(float64((goAfter-goBefore).Microseconds())/float64(b.N), "go-cpu-µs/op")
		b.ReportMetric(float64((pgAfter-pgBefore).Microseconds())/float64(b.N), "pg-cpu-µs/op")
	}
	b.ReportMetric(float64(gaveUp.Load())/float64(b.N), "gaveup/op")
	return float64(b.N) / writersDone.Seconds()
}

func appendLog(b *testing.B, st *sqlstore.Store) *merklelog.Log {
	b.Helper()
	skey, _, err := audit.GenerateKey("bench/audit")
	if err != nil {
		b.Fatal(err)
	}
	l, err := merklelog.New(st, skey, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// appendRecord is a record shaped like the one a household create queues.
func appendRecord(i int) audit.Record {
	return audit.Record{
		Time:        time.Now(),
		Actor:       "0193b2c4-7e1a-7c3d-9f00-00000000002a",
		Action:      "household.create",
		Subject:     fmt.Sprintf("villages/330483102201/households/0193b2c4-7e1a-7c3d-9f00-%012x", i),
		RequestHash: audit.HashBytes(fmt.Appendf(nil, "request %d", i)),
		ResultHash:  audit.HashBytes(fmt.Appendf(nil, "result %d", i)),
		Payload:     map[string]string{"village": "330483102201", "facts_version": "1"},
	}
}

func appendService(b *testing.B, hs household.Store) (*household.Service, *access.Principal) {
	b.Helper()
	secret, key := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(key)
	kr, err := pii.NewKeyring(secret, "k1", key)
	if err != nil {
		b.Fatal(err)
	}
	p := &access.Principal{ID: uuid.NewString(), Name: "clerk", Role: access.VillageClerk,
		Scope: access.Scope{Villages: []string{"330483102201"}}, CreateTime: time.Now()}
	return household.NewService(hs, pii.Sealer{Keyring: kr}, time.Now), p
}

// appendCreate registers household i: a distinct head (birth date and
// sequence number vary with i) and request id.
func appendCreate(i int) household.CreateInput {
	birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/1000)
	first17 := fmt.Sprintf("330483%s%03d", birth.Format("20060102"), i%1000)
	c, err := idnum.CheckDigit(first17)
	if err != nil {
		panic(err)
	}
	return household.CreateInput{
		Parent: "villages/330483102201", HeadName: "沈建国", HeadIDNumber: first17 + string(c), Group: 3,
		Address: "南阳村3组99号", Registered: "2001-05-01", RequestID: fmt.Sprintf("bench-%d", i),
		Facts: &household.FactsInput{Members: 4, Labourers: 2, AnnualIncome: "86000.50", LandAreaMu: "3.2",
			CollectiveShares: "10", ExistingDebt: "0", Source: "村委会登记", AsOf: "2026-01-15"},
	}
}

// noAuditStore is the household store with auditing switched off: its
// writers' Record does nothing. Everything else is the real store.
type noAuditStore struct{ household.Store }

func (s noAuditStore) Write(ctx context.Context, fn func(household.Writer) error) error {
	return s.Store.Write(ctx, func(w household.Writer) error { return fn(noAuditWriter{w}) })
}

type noAuditWriter struct{ household.Writer }

func (noAuditWriter) Record(context.Context, audit.Record) error { return nil }
