package merklelog_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
)

// TestVerifyNamesARewrittenColumn: the filter columns of a leaf are not
// signed; rewriting one (triggers disabled first) leaves the tree intact,
// and verify still reports tamper naming the leaf and the column. The
// store's column-filtered reads leave the row out.
func TestVerifyNamesARewrittenColumn(t *testing.T) {
	for _, tc := range []struct{ column, set string }{
		{"subject", `subject = 'villages/330483102215/households/h999'`},
		{"actor", `actor = 'p-intruder'`},
		{"action", `action = 'household.create'`},
		{"time", `time = '2020-01-01T00:00:00.000000Z'`},
	} {
		t.Run(tc.column, func(t *testing.T) {
			t.Parallel() // databases of its own
			backends(t, func(t *testing.T, b backend) {
				ctx := context.Background()
				l, vkey := newLog(t, b.Store)
				record(t, b.Store, 0, 20)
				_, err := l.Publish(ctx)
				require.NoError(t, err)
				v, err := note.NewVerifier(vkey)
				require.NoError(t, err)
				_, err = merklelog.Verify(ctx, b.Store, v, nil, nil)
				require.NoError(t, err)

				b.DisableAuditGuards(t)
				b.Exec(t, `UPDATE audit_leaves SET `+tc.set+` WHERE seq IN (9, 13)`)
				_, err = merklelog.Verify(ctx, b.Store, v, nil, nil)
				var te *audit.TamperError
				require.True(t, errors.As(err, &te), "verify: %v", err)
				assert.Equal(t, uint64(9), te.Index)
				assert.Contains(t, te.Object, "column "+tc.column+" of leaf 9")

				// A column filter never answers with the rewritten rows,
				// and a page stays full (the rows are read past, not cut).
				all, err := b.Store.ListEntries(ctx, sqlstore.EntryQuery{AfterSeq: -1, Limit: 10})
				require.NoError(t, err)
				var seqs []uint64
				for _, x := range all {
					seqs = append(seqs, x.Seq)
				}
				assert.Equal(t, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 10}, seqs)
				q := sqlstore.EntryQuery{AfterSeq: -1, Limit: 100}
				switch tc.column {
				case "subject":
					q.Subject = "villages/330483102215/households/h999"
				case "actor":
					q.Actor = "p-intruder"
				case "action":
					q.Action = "household.create"
				}
				if q.Subject+q.Actor+q.Action != "" {
					got, err := b.Store.ListEntries(ctx, q)
					require.NoError(t, err)
					assert.Empty(t, got, "rows found by a rewritten %s", tc.column)
				}
			})
		})
	}
}
