package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/scoring/dividend"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// benchVillage holds the benchmark's 100,000 households: one village, so
// one round reads them all (a county's worth of households).
const benchVillage = "330483102299"

const benchHouseholds = 100_000

// seedDividendBench writes benchHouseholds households of benchVillage in a
// few statements: households and their facts by generate_series, each
// with a sheet of three ledger entries in two areas (one a deduction),
// and a 黑榜 listing on one household in a hundred.
func seedDividendBench(b *testing.B, st *sqlstore.Store) {
	ctx := context.Background()
	stmts := []string{
		`INSERT INTO households (id, village_code, head_name, head_id_masked, head_id_key, head_id_cipher, head_id_index,
			group_no, address, registered_on, facts_version, request_id, request_hash, create_time, update_time)
		SELECT 'bench-' || lpad(i::text, 6, '0'), '` + benchVillage + `', '户主' || i, '330483********000X', 'k1',
			'\x00'::bytea, decode(md5('bench' || i), 'hex'), 1 + i % 20, '堰头村' || i || '号', DATE '2015-01-01' + (i % 3000),
			1, 'bench-' || i, 'h', now(), now()
		FROM generate_series(1, ` + fmt.Sprint(benchHouseholds) + `) AS i`,
		`INSERT INTO household_facts (household_id, version, members, labourers, annual_income, land_area_mu,
			collective_shares, existing_bank_debt, dishonest_debtor, source, as_of, recorded_by, record_time)
		SELECT 'bench-' || lpad(i::text, 6, '0'), 1, 3, 2, 80000, 2, (i % 41) + (i % 4) * 0.25, 0, false, 'bench',
			DATE '2026-01-01', 'bench', now()
		FROM generate_series(1, ` + fmt.Sprint(benchHouseholds) + `) AS i`,
		// The sheet format of sqlstore/sheet.go: a format line, then one
		// tab-separated line per entry.
		`INSERT INTO household_points (household_id, village_code, version, entry_count, entries)
		SELECT id, '` + benchVillage + `', 1, 3, 'sanzhi.sheet/v1' || E'\n' ||
			format(E'%s-a\t%s\tev\tDZ-ML-01\tvirtue\tmeili\taward\t1\t%s\t%s\t0\t2026-01-05\t2026-01-12\t2028-01-12\t1\t\t\n', id, id, p, p) ||
			format(E'%s-b\t%s\tev\tZZ-MS-01\tself_governance\tminsheng\taward\t1\t2\t2\t0\t2026-01-06\t2026-01-13\t2028-01-13\t1\t\t\n', id, id) ||
			format(E'%s-c\t%s\tev\tDZ-ML-09\tvirtue\tmeili\tdeduction\t1\t-5\t-5\t0\t2026-01-07\t2026-01-14\t2028-01-14\t1\t\t\n', id, id)
		FROM (SELECT 'bench-' || lpad(i::text, 6, '0') AS id, ((i * 7) % 23)::text AS p
			FROM generate_series(1, ` + fmt.Sprint(benchHouseholds) + `) AS i) s`,
	}
	err := st.Conn().WriteTx(ctx, func(q sqlstore.Querier) error {
		for _, s := range stmts {
			if _, err := q.Exec(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var listings []*evidence.Evidence
	for i := 100; i <= benchHouseholds; i += 100 {
		listings = append(listings, &evidence.Evidence{
			ID: fmt.Sprintf("0190a000-0000-7000-8000-%012d", i), Village: benchVillage, Household: fmt.Sprintf("bench-%06d", i),
			Kind: evidence.BlackList, ValidUntil: "2030-01-01", OccurredOn: "2026-01-10", Note: "bench", State: evidence.Posted,
			SubmittedBy: "bench", SubmitTime: time.Now(), RequestID: fmt.Sprintf("black-%d", i), RequestHash: "h",
			NoticeStart: "2026-01-10", NoticeEnd: "2026-01-17", ProposedAmount: decimal.Zero})
	}
	err = st.Evidence().Write(ctx, func(tx evidence.Writer) error {
		_, err := tx.InsertEvidences(ctx, listings)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.Conn().WriteTx(ctx, func(q sqlstore.Querier) error {
		_, err := q.Exec(ctx, `ANALYZE households; ANALYZE household_facts; ANALYZE household_points; ANALYZE evidence`)
		return err
	}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDividendRound100k is issue 17's benchmark: a round over 100,000
// households on PostgreSQL (target: at most 10 s), beside a plain scan of
// the same rows in the same run.
//
//	scan      one SELECT of the rows the roll reads (household, facts as of
//	          the record date, sheet), nothing decoded: the floor
//	roll      Store.Roll: the same rows in keyset pages, sheets decoded,
//	          listings read
//	compute   the roll and the allocation, nothing written (Verify's
//	          ledger half)
//	create    CreateRound: the roll, the allocation, and the round with
//	          its 100,000 lines and the audit record, committed
//
// go test -run '^$' -bench BenchmarkDividendRound100k -benchtime 3x ./app/
func BenchmarkDividendRound100k(b *testing.B) {
	st := pgtest.NewDB(b).Store()
	start := time.Now()
	seedDividendBench(b, st)
	b.Logf("seeded %d households in %s", benchHouseholds, time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	clerk := &access.Principal{ID: "bench-clerk", Name: "bench-clerk", Role: access.VillageClerk}
	reviewer := &access.Principal{ID: "bench-reviewer", Name: "bench-reviewer", Role: access.VillageReviewer}
	svc := dividend.NewService(st.Dividends(), time.Now)
	doc := `kind: dividend_rule
village: "` + benchVillage + `"
version: 1
name: 基准测试
split: {shares_percent: 60, points_percent: 40}
points: {balance: credit, areas: [meili, minsheng]}
household_cap: 2000
exclusions: {black_list: points}
public_notice_days: 7
`
	if _, err := svc.UploadRule(ctx, clerk, "villages/"+benchVillage, []byte(doc)); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.ActivateRule(ctx, reviewer, "villages/"+benchVillage+"/dividendRules/1"); err != nil {
		b.Fatal(err)
	}
	rule, err := dividend.ParseRule([]byte(doc))
	if err != nil {
		b.Fatal(err)
	}
	day := points.AddDays(household.Today(time.Now()), -1)

	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			n := 0
			err := st.Conn().ReadTx(ctx, func(q sqlstore.Querier) error {
				n = 0
				rows, err := q.Query(ctx, `SELECT h.id, h.head_name, h.group_no, f.collective_shares, p.entries || p.tail
					FROM households h
					JOIN household_facts f ON f.household_id = h.id AND f.version = h.facts_version
					LEFT JOIN household_points p ON p.household_id = h.id
					WHERE h.village_code = $1 AND h.registered_on <= $2`, benchVillage, string(day))
				if err != nil {
					return err
				}
				defer rows.Close()
				var id, name, shares string
				var group int32
				var entries *string
				for rows.Next() {
					if err := rows.Scan(&id, &name, &group, &shares, &entries); err != nil {
						return err
					}
					n++
				}
				return rows.Err()
			})
			if err != nil || n != benchHouseholds {
				b.Fatalf("scanned %d rows: %v", n, err)
			}
		}
	})
	b.Run("roll", func(b *testing.B) {
		for b.Loop() {
			n := 0
			if err := st.Dividends().Roll(ctx, benchVillage, day, func(*dividend.RollRow) error { n++; return nil }); err != nil || n != benchHouseholds {
				b.Fatalf("rolled %d: %v", n, err)
			}
		}
	})
	b.Run("compute", func(b *testing.B) {
		for b.Loop() {
			var hs []dividend.Holding
			err := st.Dividends().Roll(ctx, benchVillage, day, func(r *dividend.RollRow) error {
				h, _ := dividend.Holdings(rule, day, []*dividend.RollRow{r})
				hs = append(hs, h[0])
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			a, err := dividend.Allocate(dividend.Input{Village: benchVillage, RecordDate: day, Pool: decimal.RequireFromString("12345678.90"),
				Rule: rule, Holdings: hs})
			if err != nil || a.Total() != 1234567890 {
				b.Fatalf("%v", err)
			}
		}
	})
	i := 0
	b.Run("create", func(b *testing.B) {
		for b.Loop() {
			i++
			// A record date of its own per round: one live round a date.
			r, err := svc.CreateRound(ctx, clerk, dividend.CreateInput{Parent: "villages/" + benchVillage, Title: "基准",
				Pool: "12345678.90", RecordDate: string(points.AddDays(day, -i)), RequestID: fmt.Sprint("bench-", i)})
			if err != nil {
				b.Fatal(err)
			}
			if r.Households != benchHouseholds {
				b.Fatalf("%d households on the roll", r.Households)
			}
		}
	})
}
