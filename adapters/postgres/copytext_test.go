package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
)

// The pipe's COPY writes its own text format: every value must arrive as
// the same statement would have stored it, the format's own characters
// and NULLs included, across more rows than one chunk holds.
func TestCopyFromText(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	awkward := []string{"", "plain", "tab\there", "two\nlines", "cr\r\n", `back\slash`, `\N`, `\.`, "\\\t\\n",
		"村民小组长 王伟", strings.Repeat("长", 20_000)}
	at := time.Date(2026, 12, 6, 1, 2, 3, 456789000, time.FixedZone("CST", 8*3600))
	type row struct {
		id   int64
		text string
		data []byte
		flag bool
	}
	var rows []row
	for i := range 3000 { // several chunks
		rows = append(rows, row{int64(i), awkward[i%len(awkward)], []byte{0, '\\', byte(i), '\n', 0xff}, i%2 == 0})
	}
	var got []row
	err := db.WriteTx(ctx, func(q sqlstore.Querier) error {
		if _, err := q.Exec(ctx, `CREATE TEMP TABLE copied (id BIGINT, small INT, t TEXT, data BYTEA, flag BOOLEAN,
			amount NUMERIC(17, 2), day DATE, at TIMESTAMPTZ, missing TEXT)`); err != nil {
			return err
		}
		n, err := q.(sqlstore.Copier).CopyText(ctx, "copied",
			[]string{"id", "small", "t", "data", "flag", "amount", "day", "at", "missing"}, len(rows), func(i int) []any {
				r := rows[i]
				return []any{r.id, int32(i), r.text, r.data, r.flag, "12345.60", "2026-02-28", at, nil}
			})
		if err != nil {
			return err
		}
		assert.Equal(t, int64(len(rows)), n)
		rs, err := q.Query(ctx, `SELECT id, small, t, data, flag, amount::text, day::text, at, missing IS NULL FROM copied ORDER BY id`)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var r row
			var small int32
			var amount, day string
			var stamp time.Time
			var null bool
			if err := rs.Scan(&r.id, &small, &r.text, &r.data, &r.flag, &amount, &day, &stamp, &null); err != nil {
				return err
			}
			if small != int32(r.id) || amount != "12345.60" || day != "2026-02-28" || !stamp.Equal(at) || !null {
				return fmt.Errorf("row %d: %d %s %s %v %v", r.id, small, amount, day, stamp, null)
			}
			got = append(got, r)
		}
		return rs.Err()
	})
	require.NoError(t, err)
	require.Equal(t, len(rows), len(got))
	for i := range rows {
		require.Equal(t, rows[i], got[i], "row %d", i)
	}

	// A value of a type the format has no form for fails the copy, and
	// with it the transaction.
	err = db.WriteTx(ctx, func(q sqlstore.Querier) error {
		if _, err := q.Exec(ctx, `CREATE TEMP TABLE other (f FLOAT8)`); err != nil {
			return err
		}
		_, err := q.(sqlstore.Copier).CopyText(ctx, "other", []string{"f"}, 1, func(int) []any { return []any{1.5} })
		return err
	})
	require.ErrorContains(t, err, "no COPY text form for a float64")
}
