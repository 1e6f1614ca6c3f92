package merklelog_test

// Benchmarks over a large log on SQLite and on PostgreSQL (issues 3 and
// 12): inclusion and consistency proofs at 10 million leaves, and `sanzhi
// audit verify` over the whole log against the raw SHA-256 rate of the
// same bytes.
//
// Each store's log is built once (seedBig: the rows the sequencer writes,
// inserted in bulk) into a cached file under os.TempDir() or a database
// sanzhi_bench_<leaves>, which later runs reuse. Building takes long, so
// these benchmarks run only when SANZHI_BENCH_10M=1 is set:
//
//	SANZHI_BENCH_10M=1 go test -run '^$' -bench '10M' -benchtime 1x -timeout 0 ./adapters/merklelog/
//
// SANZHI_BENCH_LEAVES overrides the size (default 10000000), e.g. to report
// scaling at 1M and 4M; each size has its own cached store.
// SANZHI_BENCH_STORES=sqlite or =postgres runs on one store only.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/postgres"
	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
)

const (
	bigEnv       = "SANZHI_BENCH_10M"
	bigLeavesEnv = "SANZHI_BENCH_LEAVES"
	// bigQueuePerTx is how many leaves one seeding transaction appends,
	// with one signed checkpoint at its end (so Verify has many checkpoints
	// to check, as after that many records per Publish).
	bigQueuePerTx = 20000
)

// bigLog is a cached large log on one store, opened once per test binary.
type bigLog struct {
	name string // the store: "sqlite" or "postgres"
	st   *sqlstore.Store
	log  *merklelog.Log
	v    note.Verifier
	cp   audit.Checkpoint // the latest signed checkpoint, verified
}

// bigStores are the stores the large benchmarks run on, each a sub-benchmark.
// SANZHI_BENCH_STORES=sqlite (or postgres) restricts them.
var bigStores = []string{"sqlite", "postgres"}

var (
	bigMu   sync.Mutex
	bigLogs = map[string]*bigLog{}
)

func bigSize(b *testing.B) uint64 {
	s := os.Getenv(bigLeavesEnv)
	if s == "" {
		return 10_000_000
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		b.Fatalf("%s=%q is not a positive number of leaves", bigLeavesEnv, s)
	}
	return n
}

// forBigStores runs fn as one sub-benchmark per store over that store's
// large log, building or completing it first. It skips unless
// SANZHI_BENCH_10M=1, so plain `go test` and CI never build one.
func forBigStores(b *testing.B, fn func(b *testing.B, bl *bigLog)) {
	if os.Getenv(bigEnv) != "1" {
		b.Skipf("builds a %s-leaf log per store once (several GB, long); run with %s=1, e.g.\n"+
			"  %s=1 go test -run '^$' -bench 10M -benchtime 1x -timeout 0 ./adapters/merklelog/",
			"10M", bigEnv, bigEnv)
	}
	only := os.Getenv("SANZHI_BENCH_STORES")
	for _, name := range bigStores {
		if only != "" && !strings.Contains(only, name) {
			continue
		}
		b.Run(name, func(b *testing.B) {
			bigMu.Lock()
			bl, ok := bigLogs[name]
			if !ok {
				var err error
				if bl, err = openBig(name, bigSize(b)); err != nil {
					bigMu.Unlock()
					b.Fatal(err)
				}
				bigLogs[name] = bl
			}
			bigMu.Unlock()
			fn(b, bl)
		})
	}
}

// bigRecord is record i of the large log: a realistic household write
// (ids and hashes only), spread over 20 villages and 200 clerks, three
// seconds apart.
func bigRecord(i uint64) audit.Record {
	village := fmt.Sprintf("3304831022%02d", i%20)
	// Time-ordered household ids, as uuid v7 gives; every fourth record
	// updates the household created three records earlier.
	hid := i
	action := "household.create"
	if i%4 == 3 {
		hid, action = i-3, "household.update"
	}
	return audit.Record{
		Time:        time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 3 * time.Second),
		Actor:       fmt.Sprintf("0193b2c4-7e1a-7c3d-9f00-%012x", i%200),
		Action:      action,
		Subject:     fmt.Sprintf("villages/%s/households/0193b2c4-%04x-7%03x-8000-%012x", village, hid>>28&0xffff, hid>>16&0xfff, hid&0xffff),
		RequestHash: audit.HashBytes(strconv.AppendUint([]byte("request "), i, 10)),
		ResultHash:  audit.HashBytes(strconv.AppendUint([]byte("result "), i, 10)),
		Payload:     map[string]string{"village": village, "facts_version": strconv.FormatUint(i%4/3+1, 10)},
	}
}

// bigDB is what the seeder needs of a store beyond its ports: a raw write
// transaction (SQLite), or the pgx pool for COPY (PostgreSQL).
type bigDB interface {
	Store() *sqlstore.Store
	Migrate(ctx context.Context) error
	Close() error
}

// openBig opens (creating if needed) the cached log of n leaves on the
// named store: a file under os.TempDir() for SQLite, a database
// sanzhi_bench_<n> for PostgreSQL, each with its audit signing key in a
// file beside it, and completes it to n leaves.
func openBig(name string, n uint64) (*bigLog, error) {
	ctx := context.Background()
	keyPath := filepath.Join(os.TempDir(), fmt.Sprintf("sanzhi-bench-%s-%d.audit-key", name, n))
	dbPath := filepath.Join(os.TempDir(), fmt.Sprintf("sanzhi-bench-%d.db", n))
	pgName := fmt.Sprintf("sanzhi_bench_%d", n)
	skeyBytes, err := os.ReadFile(keyPath)
	fresh := errors.Is(err, os.ErrNotExist)
	if err != nil && !fresh {
		return nil, err
	}
	if fresh {
		// A new log: start from an empty store (an old one without its key
		// cannot be verified).
		if name == "sqlite" {
			for _, p := range []string{dbPath, dbPath + "-wal", dbPath + "-shm"} {
				_ = os.Remove(p)
			}
		} else if err := pgAdmin(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, pgName), `CREATE DATABASE `+pgName); err != nil {
			return nil, err
		}
		skey, _, err := audit.GenerateKey("sanzhi.bench/audit")
		if err != nil {
			return nil, err
		}
		skeyBytes = []byte(skey)
	}
	var db bigDB
	if name == "sqlite" {
		db, err = sqlite.Open(ctx, dbPath)
	} else {
		u, perr := url.Parse(pgtest.URL())
		if perr != nil {
			return nil, perr
		}
		u.Path = "/" + pgName
		db, err = postgres.Open(ctx, u.String())
	}
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if fresh {
		// Written only once the store exists, so a key always has its store.
		if err := os.WriteFile(keyPath, skeyBytes, 0o600); err != nil {
			db.Close()
			return nil, err
		}
	}
	st := db.Store()
	l, err := merklelog.New(st, string(skeyBytes), time.Now)
	if err != nil {
		db.Close()
		return nil, err
	}
	signer, err := audit.NewSigner(string(skeyBytes))
	if err != nil {
		db.Close()
		return nil, err
	}
	bl := &bigLog{name: name, st: st, log: l, v: l.Verifier()}
	if err := seedBig(ctx, db, signer, n); err != nil {
		db.Close()
		return nil, fmt.Errorf("building the %s log: %w", name, err)
	}
	stored, err := st.Checkpoint(ctx, 0)
	if err != nil {
		db.Close()
		return nil, err
	}
	if bl.cp, err = audit.OpenCheckpoint([]byte(stored.Note), l.Origin(), bl.v); err != nil {
		db.Close()
		return nil, err
	}
	if bl.cp.Size != n {
		db.Close()
		return nil, fmt.Errorf("%s log: latest checkpoint has %d leaves, want %d (delete %s to rebuild)", name, bl.cp.Size, n, keyPath)
	}
	return bl, nil
}

func pgAdmin(ctx context.Context, stmts ...string) error {
	c, err := pgx.Connect(ctx, pgtest.URL())
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	for _, s := range stmts {
		if _, err := c.Exec(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// seedBig appends bigRecord(size) … bigRecord(n-1) to the log, writing what
// the sequencer (sqlstore.Integrate) writes, but directly and in bulk: per
// transaction, seedPerTx leaves with the same canonical data and leaf
// hashes, the subtree hashes they complete, the tree head moved forward
// to them (as the append-only triggers require), and a checkpoint signed at
// that size, as Publish would. Verify then checks all of it; a seeding bug
// fails the benchmark. An interrupted build resumes from the stored head.
func seedBig(ctx context.Context, db bigDB, signer note.Signer, n uint64) error {
	st := db.Store()
	head, border, err := st.HeadState(ctx)
	if err != nil {
		return err
	}
	if head.Size > n {
		return fmt.Errorf("the store has %d leaves, more than %d", head.Size, n)
	}
	if head.Size == n {
		if _, err := st.Checkpoint(ctx, n); err == nil {
			return nil
		} else if !fault.Is(err, fault.NotFound) {
			return err
		}
	}
	app, err := audit.NewAppender(head.Size, border)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "building the log: %d of %d leaves present, adding %d\n", head.Size, n, n-head.Size)
	start, from := time.Now(), head.Size
	lastReport := start
	for next := head.Size; next < n; {
		k := min(bigQueuePerTx, n-next)
		var leaves [][]any
		var nodes [][]any
		for i := next; i < next+k; i++ {
			e := audit.Entry{Seq: i, Record: bigRecord(i)}
			data := e.Canonical()
			lh := audit.LeafHash(data)
			if err := app.Append(lh, func(level uint, index uint64, hash []byte) {
				nodes = append(nodes, []any{int(level), int64(index), hash})
			}); err != nil {
				return err
			}
			leaves = append(leaves, []any{int64(i), e.Time.UTC().Truncate(time.Microsecond), e.Actor, e.Action, e.Subject, data, lh})
		}
		root, err := app.Root()
		if err != nil {
			return err
		}
		note, err := audit.Sign(audit.Checkpoint{Origin: signer.Name(), Size: app.Size(), Root: root, Time: time.Now()}, signer)
		if err != nil {
			return err
		}
		headArgs := []any{int64(app.Size()), root, bytes.Join(app.Border(), nil)}
		cpArgs := []any{int64(app.Size()), root, string(note), time.Now().UTC().Truncate(time.Microsecond)}
		switch d := db.(type) {
		case *postgres.DB:
			err = seedPostgres(ctx, d, leaves, nodes, headArgs, cpArgs)
		case *sqlite.DB:
			err = seedSQLite(ctx, d, leaves, nodes, headArgs, cpArgs)
		}
		if err != nil {
			return err
		}
		next += k
		if time.Since(lastReport) > 30*time.Second || next == n {
			lastReport = time.Now()
			el := time.Since(start)
			fmt.Fprintf(os.Stderr, "  %d leaves, %.0f leaves/s, %s elapsed\n", next,
				float64(next-from)/el.Seconds(), el.Round(time.Second))
		}
	}
	if d, ok := db.(*postgres.DB); ok {
		// What autovacuum would do after such a load (it is off on the
		// benchmark machine): without statistics the planner sorts the
		// whole table on disk to scan it in seq order.
		if _, err := d.Pool().Exec(ctx, `VACUUM ANALYZE audit_leaves, audit_nodes`); err != nil {
			return err
		}
	}
	return nil
}

func seedPostgres(ctx context.Context, db *postgres.DB, leaves, nodes [][]any, head, cp []any) error {
	return pgx.BeginFunc(ctx, db.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"audit_leaves"},
			[]string{"seq", "time", "actor", "action", "subject", "data", "leaf_hash"}, pgx.CopyFromRows(leaves)); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"audit_nodes"}, []string{"level", "idx", "hash"}, pgx.CopyFromRows(nodes)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE audit_head SET size = $1, root = $2, border = $3 WHERE id = 1`, head...); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO audit_checkpoints (size, root, note, time) VALUES ($1, $2, $3, $4)`, cp...)
		return err
	})
}

// seedSQLite inserts with multi-row INSERTs of 100 rows (SQLite looks $N
// names up linearly, so longer statements cost more per row).
func seedSQLite(ctx context.Context, db *sqlite.DB, leaves, nodes [][]any, head, cp []any) error {
	ts := func(v any) any { return v.(time.Time).Format(audit.TimeLayout) }
	return db.WriteTx(ctx, func(q sqlstore.Querier) error {
		insert := func(table, cols string, rows [][]any) error {
			for len(rows) > 0 {
				chunk := rows[:min(100, len(rows))]
				rows = rows[len(chunk):]
				var sb strings.Builder
				var args []any
				for i, r := range chunk {
					if i > 0 {
						sb.WriteString(", ")
					}
					sb.WriteString("(")
					for j, v := range r {
						if j > 0 {
							sb.WriteString(", ")
						}
						if t, ok := v.(time.Time); ok {
							v = ts(t)
						}
						args = append(args, v)
						fmt.Fprintf(&sb, "$%d", len(args))
					}
					sb.WriteString(")")
				}
				if _, err := q.Exec(ctx, `INSERT INTO `+table+` (`+cols+`) VALUES `+sb.String(), args...); err != nil {
					return err
				}
			}
			return nil
		}
		if err := insert("audit_leaves", "seq, time, actor, action, subject, data, leaf_hash", leaves); err != nil {
			return err
		}
		if err := insert("audit_nodes", "level, idx, hash", nodes); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `UPDATE audit_head SET size = $1, root = $2, border = $3 WHERE id = 1`, head...); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `INSERT INTO audit_checkpoints (size, root, note, time) VALUES ($1, $2, $3, $4)`, cp[0], cp[1], cp[2], ts(cp[3]))
		return err
	})
}

// BenchmarkInclusionProof10M proves random leaves against the latest
// checkpoint of the large log. Baseline (same run): reading one leaf by seq.
func BenchmarkInclusionProof10M(b *testing.B) {
	forBigStores(b, func(b *testing.B, bl *bigLog) {
		ctx := context.Background()
		size := bl.cp.Size
		// The proofs are right before they are timed.
		rng := rand.New(rand.NewPCG(1, 2))
		for range 20 {
			i := rng.Uint64N(size)
			p, err := bl.log.InclusionProof(ctx, i, size)
			if err != nil {
				b.Fatal(err)
			}
			leaf, err := bl.st.Leaf(ctx, i)
			if err != nil {
				b.Fatal(err)
			}
			if err := audit.VerifyInclusion(bl.cp, i, leaf.Data, p); err != nil {
				b.Fatalf("leaf %d: %v", i, err)
			}
		}
		b.Run("LeafRead", func(b *testing.B) { benchLeafRead(b, bl) })
		b.Run("InclusionProof", func(b *testing.B) {
			rng := rand.New(rand.NewPCG(5, 6))
			for b.Loop() {
				if _, err := bl.log.InclusionProof(ctx, rng.Uint64N(size), size); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkConsistencyProof10M proves random older sizes against the latest
// checkpoint. Baseline (same run): reading one leaf by seq.
func BenchmarkConsistencyProof10M(b *testing.B) {
	forBigStores(b, func(b *testing.B, bl *bigLog) {
		ctx := context.Background()
		size := bl.cp.Size
		rng := rand.New(rand.NewPCG(7, 8))
		for range 20 {
			old := 1 + rng.Uint64N(size-1)
			p, err := bl.log.Consistency(ctx, old, size)
			if err != nil {
				b.Fatal(err)
			}
			oldHead, err := treeRoot(ctx, bl.st, old)
			if err != nil {
				b.Fatal(err)
			}
			if err := audit.VerifyConsistency(audit.Checkpoint{Origin: bl.cp.Origin, Size: old, Root: oldHead}, bl.cp, p); err != nil {
				b.Fatalf("%d -> %d: %v", old, size, err)
			}
		}
		b.Run("LeafRead", func(b *testing.B) { benchLeafRead(b, bl) })
		b.Run("ConsistencyProof", func(b *testing.B) {
			rng := rand.New(rand.NewPCG(9, 10))
			for b.Loop() {
				if _, err := bl.log.Consistency(ctx, 1+rng.Uint64N(size-1), size); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// treeRoot computes the root of the first size leaves from the stored
// subtree hashes of its border (independently of the proof code), to check
// consistency proofs before timing them.
func treeRoot(ctx context.Context, st *sqlstore.Store, size uint64) ([]byte, error) {
	var ids []sqlstore.NodeID
	for _, id := range audit.BorderNodes(size) {
		ids = append(ids, sqlstore.NodeID{Level: id.Level, Index: id.Index})
	}
	border, err := st.Nodes(ctx, ids)
	if err != nil {
		return nil, err
	}
	a, err := audit.NewAppender(size, border)
	if err != nil {
		return nil, err
	}
	return a.Root()
}

// BenchmarkVerify10M runs what `sanzhi audit verify` runs, merklelog.Verify,
// over the whole large log (ns/op is one verification), and in the same op,
// untimed by the benchmark but timed by hand, two baselines over the same
// leaves:
//
//   - sha256: crypto/sha256 over the same leaf bytes (0x00 || entry, the
//     leaf-hash input), read into memory a million leaves at a time, only
//     the hashing timed: the raw hashing rate of the data;
//   - scan: streaming every leaf from the store (ScanLeaves) and doing
//     nothing with it: the floor that reading sets.
//
// Doing all three in every op keeps them seconds apart on a noisy machine,
// so the ratios verify/sha256 and scan/sha256 are per op. Run with
// -benchtime 1x.
func BenchmarkVerify10M(b *testing.B) {
	forBigStores(b, func(b *testing.B, bl *bigLog) {
		ctx := context.Background()
		size := bl.cp.Size
		const part = 1 << 20
		var buf []byte
		var offs []int
		var tSHA, tScan, tVerify time.Duration
		var cSHA, cScan, cVerify time.Duration // this process's CPU time (not the PostgreSQL server's)
		var hashed int64
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			for from := uint64(0); from < size; from += part {
				buf, offs = buf[:0], offs[:0]
				if err := bl.st.ScanLeaves(ctx, from, min(from+part, size), func(l sqlstore.Leaf) error {
					buf = append(buf, 0x00) // RFC 6962 leaf prefix
					buf = append(buf, l.Data...)
					offs = append(offs, len(buf))
					return nil
				}); err != nil {
					b.Fatal(err)
				}
				t0, c0 := time.Now(), cpuTime()
				start := 0
				for _, end := range offs {
					sum := sha256.Sum256(buf[start:end])
					sink ^= sum[0]
					start = end
				}
				tSHA += time.Since(t0)
				cSHA += cpuTime() - c0
				hashed += int64(len(buf))
			}
			t0 := time.Now()
			var n uint64
			c0 := cpuTime()
			if err := bl.st.ScanLeaves(ctx, 0, size, func(sqlstore.Leaf) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
			tScan += time.Since(t0)
			cScan += cpuTime() - c0
			if n != size {
				b.Fatalf("scanned %d leaves, want %d", n, size)
			}
			b.StartTimer()
			t0, c0 = time.Now(), cpuTime()
			rep, err := merklelog.Verify(ctx, bl.st, bl.v, nil, nil)
			tVerify += time.Since(t0)
			cVerify += cpuTime() - c0
			if err != nil {
				b.Fatal(err)
			}
			if rep.Leaves != size {
				b.Fatalf("verified %d leaves, want %d", rep.Leaves, size)
			}
		}
		leaves := float64(size) * float64(b.N)
		b.ReportMetric(leaves/tSHA.Seconds(), "sha256-leaves/s")
		b.ReportMetric(float64(hashed)/tSHA.Seconds()/1e6, "sha256-MB/s")
		b.ReportMetric(leaves/tScan.Seconds(), "scan-leaves/s")
		b.ReportMetric(leaves/tVerify.Seconds(), "verify-leaves/s")
		b.ReportMetric(tSHA.Seconds()/tVerify.Seconds(), "verify/sha256")
		b.ReportMetric(tSHA.Seconds()/tScan.Seconds(), "scan/sha256")
		// CPU per leaf, less sensitive than wall time to other jobs on the
		// machine.
		b.ReportMetric(float64(cSHA.Nanoseconds())/leaves, "sha256-cpu-ns/leaf")
		b.ReportMetric(float64(cScan.Nanoseconds())/leaves, "scan-cpu-ns/leaf")
		b.ReportMetric(float64(cVerify.Nanoseconds())/leaves, "verify-cpu-ns/leaf")
	})
}

// sink keeps the compiler from dropping hashes nobody reads.
var sink byte

// cpuTime is the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchLeafRead is the proofs' baseline: one leaf read by seq, at random.
func benchLeafRead(b *testing.B, bl *bigLog) {
	rng := rand.New(rand.NewPCG(3, 4))
	for b.Loop() {
		if _, err := bl.st.Leaf(context.Background(), rng.Uint64N(bl.cp.Size)); err != nil {
			b.Fatal(err)
		}
	}
}
