// Command backtest measures the back-test of issue 16 §3 on PostgreSQL
// (bench/backtest/run.sh builds the database and runs it): it fills N
// decisions of the example policy with their lines, drawdowns and loan
// status reports (generate_series SQL, over the households run.sh loaded
// with bench/simulate/gen), then, in the same process and against the same
// rows, times
//
//  1. the baseline: COPY (the back-test's own SELECT) TO STDOUT, read to
//     the end and discarded;
//  2. the back-test: the store cursor into one modelrisk.Tally, with every
//     applicant's 身份证号 opened, the report computed against the
//     reference population, rendered and audited (app.Backtester, as
//     `sanzhi model backtest` runs it);
//
// and prints each one's wall time and the process's peak resident set size
// during it (VmHWM, reset between the steps through /proc/self/clear_refs).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/postgres"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/app"
	policyexamples "github.com/sanzhi/sanzhi/examples/policies"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/modelrisk"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

func main() {
	dsn := flag.String("db", "", "PostgreSQL URL")
	keyFile := flag.String("key", "", "data key file")
	n := flag.Int("n", 1_000_000, "decisions to fill")
	fill := flag.Bool("fill", false, "fill the decisions, lines, drawdowns and status reports first")
	asOf := flag.String("as-of", "2026-11-30", "the report's date")
	flag.Parse()
	ctx := context.Background()
	doc, err := policyexamples.FS.ReadFile(policyexamples.TongxiangFile)
	check(err)
	pol, err := rules.Parse(doc, nil)
	check(err)
	db, err := postgres.Open(ctx, *dsn)
	check(err)
	defer db.Close()
	if *fill {
		t0 := time.Now()
		check(fillDecisions(ctx, db, pol, *n))
		fmt.Printf("filled %d decisions with lines, drawdowns and status reports in %s\n", *n, time.Since(t0).Round(time.Millisecond))
	}
	kr, err := pii.LoadKeyringFile(*keyFile)
	check(err)
	st := db.Store()
	q := sqlstore.BacktestQuery{Bank: pol.Bank, Product: pol.Product, Version: pol.Version, AsOf: household.Date(*asOf),
		WindowMonths: pol.Backtest.WindowMonths, Bad: pol.Backtest.Bad}
	sql, args, err := st.BacktestStatement(q)
	check(err)

	// 1. The baseline: the same SELECT, copied out and discarded (run
	// again after the back-test, so that neither has the colder cache).
	copyOut := func(what string) time.Duration {
		runtime.GC()
		resetPeak()
		t0 := time.Now()
		conn, err := db.Pool().Acquire(ctx)
		check(err)
		cw := &countingWriter{}
		// The back-test's transaction sets the same work_mem (sqlstore).
		_, err = conn.Exec(ctx, "SET work_mem = '64MB'")
		check(err)
		_, err = conn.Conn().PgConn().CopyTo(ctx, cw, "COPY ("+inline(sql, args)+") TO STDOUT")
		check(err)
		_, err = conn.Exec(ctx, "RESET work_mem")
		conn.Release()
		check(err)
		d := time.Since(t0)
		fmt.Printf("baseline COPY (the back-test's SELECT) TO STDOUT, %s: %d rows, %d bytes in %s, peak RSS %d MB\n",
			what, cw.lines, cw.n, d.Round(time.Millisecond), peakKB()/1024)
		return d
	}
	copyTime := copyOut("before")

	// 2. The back-test, as the CLI runs it.
	runtime.GC()
	resetPeak()
	a, err := app.New(app.Deps{Store: st, Keyring: kr})
	check(err)
	op := &access.Principal{ID: "bench-operator", Name: "bench-operator", Role: access.Operator}
	t0 := time.Now()
	res, err := a.Backtester.Backtest(access.WithPrincipal(ctx, op), app.BacktestRequest{
		Name: "banks/" + pol.Bank + "/products/" + pol.Product + "/policies/" + strconv.Itoa(pol.Version),
		AsOf: *asOf, Format: "html", English: true, Local: true})
	check(err)
	btTime, btPeak := time.Since(t0), peakKB()
	r := res.Report
	fmt.Printf("back-test: %d decisions, %d outcomes (%d good, %d bad), KS %.4f AUC %.4f Gini %.4f, %d fairness dimensions, %d bytes of HTML in %s, peak RSS %d MB\n",
		r.Decisions, r.Outcomes, r.Goods, r.Bads, r.Performance.KS, r.Performance.AUC, r.Performance.Gini,
		len(r.Fairness.Dimensions), len(res.Rendered), btTime.Round(time.Millisecond), btPeak/1024)
	copyAfter := copyOut("after")
	fmt.Printf("ratio to the COPY baseline: %.2f× (before), %.2f× (after)\n", btTime.Seconds()/copyTime.Seconds(), btTime.Seconds()/copyAfter.Seconds())
	for _, g := range r.Grades {
		fmt.Printf("  grade %-4s %8d decisions %8d outcomes bad rate %.4f implied %.4f\n", g.Grade, g.Decisions, g.Outcomes, g.BadRate, g.Implied)
	}
}

// fillDecisions writes n automated decisions of pol about the bench
// households (numbered 0..n-1 by bench/simulate/gen), 90% approved; each
// approved line is drawn (19 in 20) and reported on three months after
// the decision, and a share of them, larger at lower scores, goes 120
// days past due (次级) six months after; the others are reported
// performing thirteen months after. Decision days run from 2024-01-01 for
// 900 days, so about two thirds are older than the window on 2026-11-30.
func fillDecisions(ctx context.Context, db *postgres.DB, pol *rules.Policy, n int) error {
	spec := modelrisk.SpecOf(pol)
	span := spec.MaxScore - spec.MinScore + 1
	var bins []string
	for i, c := range spec.Characteristics {
		bins = append(bins, fmt.Sprintf("((s.n / %d) %% %d)::text", i+1, len(c.Bins)))
	}
	stmts := []string{
		`TRUNCATE loan_status_reports, line_transactions, line_events, line_event_heads, review_requests, credit_lines, credit_decisions, reassess_due CASCADE`,
		// The heads as member one, where gen's households have none.
		`INSERT INTO household_facts (household_id, version, members, labourers, annual_income, land_area_mu,
			collective_shares, existing_bank_debt, dishonest_debtor, source, as_of, recorded_by, record_time)
		 SELECT id, 1, 3, 2, 60000, 3, 0, 0, false, 'bench', DATE '2026-01-01', 'bench', now()
		 FROM households WHERE id LIKE '01b00000-%' ON CONFLICT DO NOTHING`,
		`INSERT INTO household_members (household_id, version, member_no, name, relation, id_masked, id_key, id_cipher, id_index, labour)
		 SELECT id, facts_version, 1, head_name, 'head', head_id_masked, head_id_key, head_id_cipher, head_id_index, 'labourer'
		 FROM households WHERE id LIKE '01b00000-%' ON CONFLICT DO NOTHING`,
		fmt.Sprintf(`INSERT INTO credit_decisions (id, bank, product, village_code, household_id, kind, policy_version, policy_hash,
			input_hash, decided_on, valid_until, eligible, score, grade, limit_amount, rate, exposure_cap, explanation, input,
			decided_by, time, applicant_member, bins)
		 SELECT 'bt-' || lpad(s.n::text, 12, '0'), '%[1]s', '%[2]s', h.village_code, h.id, 'automated', %[3]d, '%[4]s',
			'x', s.d, s.d + 365, s.n %% 10 <> 0, %[5]d + (s.n * 7919) %% %[6]d, 'A',
			CASE WHEN s.n %% 10 <> 0 THEN 20000 + (s.n %% 20) * 5000 ELSE 0 END,
			CASE WHEN s.n %% 10 <> 0 THEN 0.0425 + (s.n %% 5) * 0.0025 ELSE 0 END,
			500000, '{}', '{}', 'system', now(), 1, concat_ws(',', %[7]s)
		 FROM (SELECT g::bigint AS n, DATE '2024-01-01' + (g %% 900)::int AS d FROM generate_series(0, %[8]d) g) s
		 JOIN households h ON h.id = '01b00000-0000-7000-8000-' || lpad(s.n::text, 12, '0')`,
			pol.Bank, pol.Product, pol.Version, pol.Hash(), spec.MinScore, span, strings.Join(bins, ", "), n-1),
		`INSERT INTO credit_lines (id, bank, product, village_code, household_id, limit_amount, drawn, rate, exposure_cap,
			status, valid_until, decision_id, version, open_time, update_time)
		 SELECT 'l' || d.id, d.bank, d.product, d.village_code, d.household_id, d.limit_amount, 1000, d.rate, 500000,
			'active', d.valid_until, d.id, 1, d.decided_on::timestamptz, d.decided_on::timestamptz
		 FROM credit_decisions d WHERE d.id LIKE 'bt-%' AND d.eligible`,
		`INSERT INTO line_transactions (bank, transaction_id, line_id, kind, amount, declared_use, request_hash, drawn_after, recorded_by, time)
		 SELECT l.bank, 'tx' || l.id, l.id, 'drawdown', 1000, 'agriculture', 'x', 1000, 'bench', l.open_time + interval '2 days'
		 FROM credit_lines l WHERE l.id LIKE 'lbt-%' AND right(l.id, 12)::bigint % 20 <> 7`,
		// Reports: normal three months on; then bad six months on with a
		// probability falling with the score, else normal thirteen months on.
		fmt.Sprintf(`INSERT INTO loan_status_reports (line_id, seq, bank, event_id, village_code, household_id, as_of, days_past_due,
			overdue_principal, overdue_interest, classification, defaulted, written_off, settled, request_hash, recorded_by, time)
		 SELECT l.id, r.seq, l.bank, 'ev' || r.seq || l.id, l.village_code, l.household_id, d.decided_on + r.days,
			r.dpd, CASE WHEN r.dpd > 0 THEN 1000 ELSE 0 END, 0, r.class, false, false, false, 'x', 'bench', now()
		 FROM credit_lines l JOIN credit_decisions d ON d.id = l.decision_id
		 CROSS JOIN LATERAL (SELECT ((right(d.id, 12)::bigint * 2654435761) %% 1000) < 400 - (350 * (d.score - %[1]d)) / %[2]d AS bad) b
		 CROSS JOIN LATERAL (VALUES (1, 91, 0, 'normal'),
			(2, CASE WHEN b.bad THEN 182 ELSE 396 END, CASE WHEN b.bad THEN 120 ELSE 0 END, CASE WHEN b.bad THEN 'substandard' ELSE 'normal' END)
		 ) AS r(seq, days, dpd, class)
		 WHERE l.id LIKE 'lbt-%%' AND right(l.id, 12)::bigint %% 20 <> 7`, spec.MinScore, span),
		`VACUUM ANALYZE`,
	}
	conn, err := db.Pool().Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	for _, s := range stmts {
		t0 := time.Now()
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", firstLine(s), err)
		}
		fmt.Printf("  %s: %s\n", firstLine(s), time.Since(t0).Round(time.Millisecond))
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// inline puts the arguments into the statement as literals (COPY takes
// no parameters); the highest numbers first, so $1 does not eat $10.
func inline(sql string, args []any) string {
	for i := len(args); i >= 1; i-- {
		var lit string
		switch v := args[i-1].(type) {
		case string:
			lit = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		case int:
			lit = strconv.Itoa(v)
		default:
			log.Fatalf("argument %d of type %T", i, v)
		}
		sql = strings.ReplaceAll(sql, "$"+strconv.Itoa(i), lit)
	}
	return sql
}

type countingWriter struct{ n, lines int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	for _, b := range p {
		if b == '\n' {
			w.lines++
		}
	}
	return len(p), nil
}

// resetPeak resets the process's VmHWM to its current RSS.
func resetPeak() {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		log.Printf("cannot reset the peak RSS: %v", err)
	}
}

// peakKB reads VmHWM (kB) from /proc/self/status.
func peakKB() int64 {
	f, err := os.Open("/proc/self/status")
	check(err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			k, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return k
		}
	}
	return 0
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
