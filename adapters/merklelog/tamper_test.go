package merklelog_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/postgres"
	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/adapters/sqlite/sqlitetest"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/audit"
)

// tamperSize is the test log: 301 leaves, checkpoints at 37, 150 and 301.
// Every perfect subtree of level >= 1 is stored whatever the size, so a
// few hundred leaves have stored levels 1 to 8 to descend. The size is odd
// so that the last leaf sits under no stored subtree, the hardest case.
const tamperSize = 301

func fill301(t *testing.T, st *sqlstore.Store) string {
	t.Helper()
	l, vkey := newLog(t, st)
	from := 0
	for _, to := range []int{37, 150, tamperSize} {
		record(t, st, from, to-from)
		cp, err := l.Publish(context.Background())
		require.NoError(t, err)
		require.Equal(t, uint64(to), cp.Size)
		from = to
	}
	return vkey
}

// filled301 runs fn on each engine with a copy of the 301-leaf log and
// its verifier key. The log is filled once per engine and test binary and
// copied for each case: filling it (three checkpoints, each a round of
// subtree writes) costs more than any tamper case's own work.
func filled301(t *testing.T, fn func(t *testing.T, b backend, vkey string)) {
	t.Run("sqlite", func(t *testing.T) {
		path := sqlitetest.Copy(t, "merklelog-301", "a.db", func(path string) error {
			db, err := sqlite.Open(context.Background(), path)
			if err != nil {
				return err
			}
			if err := db.Migrate(context.Background()); err != nil {
				db.Close()
				return err
			}
			vkey := fill301(t, db.Store())
			if err := db.Close(); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(filepath.Dir(path), "vkey"), []byte(vkey), 0o600)
		})
		vkey, err := os.ReadFile(filepath.Join(filepath.Dir(path), "vkey"))
		require.NoError(t, err)
		fn(t, storetest.SQLiteIntruderAt(t, path), string(vkey))
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.NewURLFrom(t, "merklelog-301", func(url string) error {
			db, err := postgres.Open(context.Background(), url)
			if err != nil {
				return err
			}
			defer db.Close()
			pgVKey = fill301(t, db.Store())
			return nil
		})
		fn(t, storetest.PostgresIntruderAt(t, url), pgVKey)
	})
}

// pgVKey is the verifier key of the PostgreSQL 301-leaf log, set once
// before any case clones it (pgtest.NewURLFrom's build runs once).
var pgVKey string

func TestMain(m *testing.M) {
	code := m.Run()
	sqlitetest.RemoveAll()
	pgtest.RemoveBuilt()
	os.Exit(code)
}

func leafAt(t *testing.T, b backend, seq uint64) sqlstore.Leaf {
	t.Helper()
	l, err := b.Store.Leaf(context.Background(), seq)
	require.NoError(t, err)
	return l
}

// withSeq is the entry data re-numbered as seq, canonical, as a careful
// attacker writes it.
func withSeq(t *testing.T, data []byte, seq uint64) []byte {
	t.Helper()
	e, err := audit.ParseEntry(data)
	require.NoError(t, err)
	e.Seq = seq
	return e.Canonical()
}

// edited is leaf seq with its actor changed, still canonical.
func edited(t *testing.T, b backend, seq uint64) []byte {
	t.Helper()
	e, err := audit.ParseEntry(leafAt(t, b, seq).Data)
	require.NoError(t, err)
	e.Actor = "p-intruder"
	return e.Canonical()
}

func setLeaf(t *testing.T, b backend, seq uint64, data []byte) {
	t.Helper()
	b.Exec(t, `UPDATE audit_leaves SET data = $1, leaf_hash = $2 WHERE seq = $3`, data, audit.LeafHash(data), int64(seq))
}

func forgedEntry(seq uint64) []byte {
	return audit.Entry{Seq: seq, Record: audit.Record{Time: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC),
		Actor: "p-intruder", Action: "household.update", Subject: "villages/330483102215/households/h001",
		Payload: map[string]string{}}}.Canonical()
}

func insertLeaf(t *testing.T, b backend, seq uint64, data []byte) {
	t.Helper()
	b.Exec(t, `INSERT INTO audit_leaves (seq, time, actor, action, subject, data, leaf_hash)
		VALUES ($1, '2026-11-24T09:00:00.000000Z', 'p-intruder', 'household.update', 'x', $2, $3)`,
		int64(seq), data, audit.LeafHash(data))
}

// treeOf recomputes size, root and border of the first n stored leaves, as
// an attacker rewriting the head consistently would.
func treeOf(t *testing.T, b backend, n uint64) ([]byte, []byte) {
	t.Helper()
	a, err := audit.NewAppender(0, nil)
	require.NoError(t, err)
	for i := uint64(0); i < n; i++ {
		require.NoError(t, a.Append(leafAt(t, b, i).LeafHash, nil))
	}
	root, err := a.Root()
	require.NoError(t, err)
	border := []byte{} // NOT NULL, also for the empty tree
	for _, h := range a.Border() {
		border = append(border, h...)
	}
	return root, border
}

// TestVerifyNamesTheAlteredPlace is the attacker with DDL rights (the
// append-only triggers disabled first): every kind of tamper, at the first,
// a middle and the last leaf, and verify names the first altered leaf, or
// the altered stored object with the leaves intact.
func TestVerifyNamesTheAlteredPlace(t *testing.T) {
	type tc struct {
		name   string
		tamper func(t *testing.T, b backend)
		index  uint64
		object string // "" when a leaf is named
		keep   bool   // verify with the size-301 checkpoint kept by a regulator
	}
	var cases []tc
	last := uint64(tamperSize - 1)
	for _, pos := range []uint64{0, 150, last} {
		cases = append(cases,
			tc{name: fmt.Sprintf("byte flip at %d", pos), index: pos, tamper: func(t *testing.T, b backend) {
				b.Exec(t, `UPDATE audit_leaves SET data = $1 WHERE seq = $2`, edited(t, b, pos), int64(pos))
			}},
			tc{name: fmt.Sprintf("leaf hash recomputed at %d", pos), index: pos, tamper: func(t *testing.T, b backend) {
				setLeaf(t, b, pos, edited(t, b, pos))
			}},
			tc{name: fmt.Sprintf("delete at %d", pos), index: pos, tamper: func(t *testing.T, b backend) {
				b.Exec(t, `DELETE FROM audit_leaves WHERE seq = $1`, int64(pos))
			}},
			tc{name: fmt.Sprintf("delete and renumber at %d", pos), index: pos, tamper: func(t *testing.T, b backend) {
				b.Exec(t, `DELETE FROM audit_leaves WHERE seq = $1`, int64(pos))
				renumber(t, b, pos+1, -1)
			}},
			tc{name: fmt.Sprintf("insert at %d", pos), index: pos, tamper: func(t *testing.T, b backend) {
				renumber(t, b, pos, +1)
				insertLeaf(t, b, pos, forgedEntry(pos))
			}},
			tc{name: fmt.Sprintf("truncate at %d", pos), index: pos, tamper: func(t *testing.T, b backend) {
				b.Exec(t, `DELETE FROM audit_leaves WHERE seq >= $1`, int64(pos))
			}},
			// Everything rewritten to a shorter log: leaves, subtree hashes,
			// later checkpoints and the head. Only a kept checkpoint shows it.
			tc{name: fmt.Sprintf("consistent cut at %d", pos), index: pos, keep: true, tamper: func(t *testing.T, b backend) {
				b.Exec(t, `DELETE FROM audit_leaves WHERE seq >= $1`, int64(pos))
				b.Exec(t, `DELETE FROM audit_checkpoints WHERE size > $1`, int64(pos))
				for level := 1; level <= 9; level++ {
					b.Exec(t, `DELETE FROM audit_nodes WHERE level = $1 AND (idx + 1) * $2 > $3`, level, int64(1)<<level, int64(pos))
				}
				root, border := treeOf(t, b, pos)
				b.Exec(t, `UPDATE audit_head SET size = $1, root = $2, border = $3`, int64(pos), root, border)
			}},
		)
	}
	// A swap of two entries with their seq and leaf hashes rewritten: the
	// first of the two is named.
	for _, p := range [][2]uint64{{0, 2}, {150, 152}, {last - 2, last}} {
		cases = append(cases, tc{name: fmt.Sprintf("swap %d and %d with seq rewritten", p[0], p[1]), index: p[0],
			tamper: func(t *testing.T, b backend) {
				a, c := leafAt(t, b, p[0]).Data, leafAt(t, b, p[1]).Data
				setLeaf(t, b, p[0], withSeq(t, c, p[0]))
				setLeaf(t, b, p[1], withSeq(t, a, p[1]))
			}})
	}
	// Leaf 151 overwritten with a copy of leaf 150 (seq and all): 151 is
	// the altered one, not an insertion at 150.
	cases = append(cases, tc{name: "leaf 151 overwritten with a copy of 150", index: 151, tamper: func(t *testing.T, b backend) {
		l := leafAt(t, b, 150)
		setLeaf(t, b, 151, l.Data)
	}})
	// A consistent edit of an odd leaf under a stored subtree: the stored
	// hashes bind the pair 150-151, not each leaf, so the pair's first is
	// named (the message says so).
	cases = append(cases, tc{name: "leaf hash recomputed at odd 151", index: 150, tamper: func(t *testing.T, b backend) {
		setLeaf(t, b, 151, edited(t, b, 151))
	}})
	// Stored subtree hashes altered, leaves intact: the hash is named.
	for _, n := range [][2]uint64{{1, 0}, {3, 18}, {1, 149}, {8, 0}} {
		cases = append(cases, tc{name: fmt.Sprintf("node (%d, %d) altered", n[0], n[1]), index: n[1] << n[0],
			object: fmt.Sprintf("stored subtree hash (level %d, index %d)", n[0], n[1]),
			tamper: func(t *testing.T, b backend) {
				b.Exec(t, `UPDATE audit_nodes SET hash = $1 WHERE level = $2 AND idx = $3`, make([]byte, 32), int(n[0]), int64(n[1]))
			}})
	}
	// A stored subtree hash forged past the end of the tree.
	cases = append(cases, tc{name: "node forged past the tree", index: 512, object: "stored subtree hash (level 2, index 128)",
		tamper: func(t *testing.T, b backend) {
			b.Exec(t, `INSERT INTO audit_nodes (level, idx, hash) VALUES (2, 128, $1)`, make([]byte, 32))
		}})
	// Checkpoints: the signed note or the stored root column altered.
	for i, size := range []uint64{37, 150, tamperSize} {
		cases = append(cases, tc{name: fmt.Sprintf("checkpoint %d altered", size), index: size,
			object: fmt.Sprintf("checkpoint at size %d", size),
			tamper: func(t *testing.T, b backend) {
				if i == 1 {
					b.Exec(t, `UPDATE audit_checkpoints SET root = $1 WHERE size = $2`, make([]byte, 32), int64(size))
					return
				}
				b.Exec(t, `UPDATE audit_checkpoints SET note = replace(note, 'sanzhi.test', 'sanzhi.fake') WHERE size = $1`, int64(size))
			}})
	}
	// Forged leaves past the latest checkpoint.
	cases = append(cases,
		tc{name: "forged tail", index: tamperSize, tamper: func(t *testing.T, b backend) {
			insertLeaf(t, b, tamperSize, forgedEntry(tamperSize))
		}},
		tc{name: "forged tail with the head size moved", index: tamperSize, tamper: func(t *testing.T, b backend) {
			insertLeaf(t, b, tamperSize, forgedEntry(tamperSize))
			b.Exec(t, `UPDATE audit_head SET size = size + 1`)
		}},
	)
	// The tree head: root, border hashes (first, middle, last of the five
	// of a 301-leaf tree: subtrees (8,0), (3,36) and the last leaf) and size.
	const head = "tree head (audit_head)"
	cases = append(cases,
		tc{name: "head root corrupted", index: tamperSize, object: head, tamper: func(t *testing.T, b backend) {
			b.Exec(t, `UPDATE audit_head SET root = $1`, make([]byte, 32))
		}},
	)
	for _, e := range []struct {
		at    int
		index uint64
	}{{0, 0}, {2, 288}, {4, 300}} {
		cases = append(cases, tc{name: fmt.Sprintf("head border hash %d corrupted", e.at), index: e.index, object: head,
			tamper: func(t *testing.T, b backend) {
				_, border := treeOf(t, b, tamperSize)
				copy(border[32*e.at:], make([]byte, 32))
				b.Exec(t, `UPDATE audit_head SET border = $1`, border)
			}})
	}
	cases = append(cases,
		tc{name: "head rolled back consistently", index: 150, object: head, tamper: func(t *testing.T, b backend) {
			root, border := treeOf(t, b, 150)
			b.Exec(t, `UPDATE audit_head SET size = 150, root = $1, border = $2`, root, border)
		}},
		tc{name: "head size rolled back", index: 150, object: head, tamper: func(t *testing.T, b backend) {
			b.Exec(t, `UPDATE audit_head SET size = 150`)
		}},
	)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each case has databases of its own; they wait on fsync, not CPU
			filled301(t, func(t *testing.T, b backend, vkey string) {
				ctx := context.Background()
				v, err := audit.NewVerifier(vkey)
				require.NoError(t, err)
				kept, err := b.Store.Checkpoint(ctx, tamperSize)
				require.NoError(t, err)
				_, err = merklelog.Verify(ctx, b.Store, v, nil, nil)
				require.NoError(t, err, "the untouched log verifies")

				b.DisableAuditGuards(t) // as an attacker with DDL rights must
				c.tamper(t, b)
				var since []byte
				if c.keep {
					since = []byte(kept.Note)
				}
				_, err = merklelog.Verify(ctx, b.Store, v, since, nil)
				var te *audit.TamperError
				require.ErrorAs(t, err, &te, "tampering is reported as such: %v", err)
				assert.Equal(t, c.index, te.Index, "%v", err)
				assert.Equal(t, c.object, te.Object, "%v", err)
			})
		})
	}
}

// renumber moves every leaf from seq `from` on by delta, in two
// statements: a row at a time in autocommit costs an fsync per row. The
// detour past every real seq keeps the primary key unique throughout.
func renumber(t *testing.T, b backend, from uint64, delta int64) {
	t.Helper()
	const away = int64(1) << 40
	b.Exec(t, `UPDATE audit_leaves SET seq = seq + $1 WHERE seq >= $2`, away, int64(from))
	b.Exec(t, `UPDATE audit_leaves SET seq = seq - $1 WHERE seq >= $1`, away-delta)
}
