package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/modelrisk"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// Back-testing a policy version (issue 16 §3, docs/MODEL-RISK.md "Wiring"):
// one statement streams the version's observation decisions with their
// outcome computed in SQL, and the reference population stored when the
// version was evaluated for activation is read back.

// BacktestQuery selects the decisions a back-test reads and says how
// their outcome is judged.
type BacktestQuery struct {
	Bank, Product string
	Version       int
	// AsOf is the report's date: decisions made after it, and loan status
	// reports dated after it, do not exist for the report.
	AsOf household.Date
	// WindowMonths and Bad are the policy document's bad definition
	// (rules.Backtest).
	WindowMonths int
	Bad          rules.BadDefinition
}

// BacktestRow is one observation decision. The cursor reuses one row (and
// its Bins) for every decision: the callback must copy what it keeps.
type BacktestRow struct {
	ID          string
	Village     string
	HouseholdID string
	On          household.Date
	Eligible    bool
	Score       int
	// Bins are the stored bin indexes in scorecard order; nil for a
	// decision stored before bins were kept, whose canonical Input is
	// then given instead so the caller can score it again.
	Bins  []int
	Input string
	// Limit in fen and Rate in millionths, 0 for a declined decision.
	Limit, Rate int64
	// ApplicantID is the applicant member's sealed 身份证号 (its KeyID is
	// "" when the member is no longer in the household's current facts):
	// the caller opens it for the fairness figures and drops it.
	ApplicantID household.SealedID
	Outcome     modelrisk.Outcome
}

// Which decisions and which outcome (docs/MODEL-RISK.md):
//
//   - The observation decision of a household is the first automated
//     decision of the version for each household and applicant member
//     (lowest id, ids being UUIDv7 in time order) made on or before the
//     report's date. Later decisions of the same version about the same
//     applicant (a re-assessment, a renewed request) look at a line
//     already being observed, and overrides are a person's decision, not
//     the scorecard's: counting them would weigh one loan several times.
//   - Bad: the decision was approved and a loan status report of the same
//     bank about the household, dated from the decision day to the end of
//     the window (the decision day plus WindowMonths, the day clamped to
//     the month's end as household.Date.AddMonths does) and not after the
//     report's date, meets the bad definition.
//   - Good: the decision was approved, the window has fully passed by the
//     report's date, the household's line of the bank and product had a
//     drawdown recorded before the window's end, and nothing bad.
//   - Otherwise no outcome: declined, never drawn, or too young to judge.
//
// Declined decisions have no outcome even if the household's older line
// went bad: the version lent nothing.

// backtestSQL builds the statement. The bad definition is validated by the
// policy parser (classes from a fixed list, whole numbers), and its parts
// go in as parameters.
func (d *Dialect) backtestSQL(q *BacktestQuery) (string, []any, error) {
	if q.WindowMonths < 1 || q.WindowMonths > 1200 {
		return "", nil, fmt.Errorf("sqlstore: back-test window of %d months", q.WindowMonths)
	}
	day, err := household.ParseDate(string(q.AsOf))
	if err != nil {
		return "", nil, fmt.Errorf("sqlstore: back-test date: %w", err)
	}
	goodBy := day.AddMonths(-q.WindowMonths) // a decision on or before it has been observed for the whole window
	// Numbered parameters in the dialect's form ("?4" on SQLite, whose
	// "$4" would be a name numbered by first appearance), some used twice.
	mark := "$"
	if d.Param != "" {
		mark = d.Param
	}
	ph := func(n int) string { return mark + strconv.Itoa(n) }
	args := []any{q.Bank, q.Product, q.Version, string(day), string(goodBy)}
	arg := func(v any) string {
		args = append(args, v)
		return ph(len(args))
	}
	w := strconv.Itoa(q.WindowMonths)
	var windowEnd, limitFen, rateMicro, dayAfterEnd string
	if d.Name == "postgres" {
		windowEnd = "(d.decided_on + make_interval(months => " + w + "))::date"
		dayAfterEnd = "(" + windowEnd + " + 1)"
		limitFen = "CAST(d.limit_amount * 100 AS BIGINT)"
		rateMicro = "CAST(d.rate * 1000000 AS BIGINT)"
	} else {
		// SQLite's '+N months' overflows into the next month (31 January +
		// 1 month is 3 March); the smaller of that and the month's last day
		// clamps it as PostgreSQL and AddMonths do.
		windowEnd = "min(date(d.decided_on, '+" + w + " months'), date(d.decided_on, 'start of month', '+" +
			strconv.Itoa(q.WindowMonths+1) + " months', '-1 day'))"
		dayAfterEnd = "date(" + windowEnd + ", '+1 day')"
		limitFen = "CAST(round(d.limit_amount * 100) AS INTEGER)"
		rateMicro = "CAST(round(d.rate * 1000000) AS INTEGER)"
	}
	var bad []string
	if q.Bad.DaysPastDue > 0 {
		bad = append(bad, "r.days_past_due >= "+arg(q.Bad.DaysPastDue))
	}
	if len(q.Bad.Classifications) > 0 {
		var in []string
		for _, c := range q.Bad.Classifications {
			in = append(in, arg(c))
		}
		bad = append(bad, "r.classification IN ("+strings.Join(in, ", ")+")")
	}
	if q.Bad.Default {
		bad = append(bad, "r.defaulted")
	}
	if q.Bad.WriteOff {
		bad = append(bad, "r.written_off")
	}
	if len(bad) == 0 {
		return "", nil, errors.New("sqlstore: the bad definition defines nothing as bad")
	}
	// The outcome's two look-ups are joins on sets read once, not a
	// look-up per decision: at a million decisions, two correlated index
	// probes per row into the reports, lines and drawdowns were most of
	// the statement's time (random reads), where a scan of the bank's bad
	// reports joined to the version's decisions, and the first drawdown of
	// each of the bank product's lines, are sequential.
	sql := `WITH bad AS (
		SELECT DISTINCT bd.id FROM loan_status_reports r
		JOIN credit_decisions bd ON bd.household_id = r.household_id AND bd.bank = r.bank
		WHERE r.bank = ` + ph(1) + ` AND r.as_of <= ` + ph(4) + ` AND (` + strings.Join(bad, " OR ") + `)
		AND bd.product = ` + ph(2) + ` AND bd.policy_version = ` + ph(3) + ` AND bd.kind = 'automated' AND bd.eligible
		AND r.as_of >= bd.decided_on AND r.as_of <= ` + strings.ReplaceAll(windowEnd, "d.decided_on", "bd.decided_on") + `
	), drawn AS (
		SELECT l.household_id, min(t.time) AS first_draw FROM credit_lines l JOIN line_transactions t ON t.line_id = l.id
		WHERE l.bank = ` + ph(1) + ` AND l.product = ` + ph(2) + ` AND t.kind = 'drawdown'
		GROUP BY l.household_id
	)
	SELECT d.id, d.village_code, d.household_id, d.decided_on, d.eligible, d.score, d.bins,
		CASE WHEN d.bins = '' THEN d.input ELSE '' END,
		` + limitFen + `, ` + rateMicro + `,
		COALESCE(m.id_key, ''), m.id_cipher,
		CASE WHEN NOT d.eligible THEN 0
			WHEN b.id IS NOT NULL THEN 2
			WHEN d.decided_on <= ` + ph(5) + ` AND w.first_draw < ` + dayAfterEnd + ` THEN 1
			ELSE 0 END
	FROM credit_decisions d
	LEFT JOIN bad b ON b.id = d.id
	LEFT JOIN drawn w ON w.household_id = d.household_id
	LEFT JOIN households h ON h.id = d.household_id
	LEFT JOIN household_members m ON m.household_id = d.household_id AND m.version = h.facts_version AND m.member_no = d.applicant_member
	WHERE d.bank = ` + ph(1) + ` AND d.product = ` + ph(2) + ` AND d.policy_version = ` + ph(3) + ` AND d.kind = 'automated' AND d.decided_on <= ` + ph(4) + `
	AND NOT EXISTS (SELECT 1 FROM credit_decisions e
		WHERE e.household_id = d.household_id AND e.bank = d.bank AND e.product = d.product
		AND e.policy_version = d.policy_version AND e.applicant_member = d.applicant_member
		AND e.kind = 'automated' AND e.id < d.id)`
	return sql, args, nil
}

// BacktestStatement is the back-test's statement and arguments for this
// store's engine (the benchmark copies its rows as the baseline).
func (s *Store) BacktestStatement(q BacktestQuery) (string, []any, error) {
	return s.dialect.backtestSQL(&q)
}

// BacktestDecisions streams q's observation decisions through fn, as one
// statement whose rows are read as they arrive (pgx does not buffer a
// result set; SQLite steps its cursor), so memory does not grow with the
// version's decisions. The rows come in no particular order: the report
// is a sum of counts and does not depend on it, and sorting a million
// rows by id cost the database more than everything else (an external
// merge sort on disk). An error from fn stops the walk
// and is returned as is. A version without decisions calls fn never.
func (s *Store) BacktestDecisions(ctx context.Context, q BacktestQuery, fn func(*BacktestRow) error) error {
	sql, args, err := s.dialect.backtestSQL(&q)
	if err != nil {
		return fault.Wrap(err, fault.Internal, "INTERNAL", "cannot build the back-test's query")
	}
	delivered := false
	pg := s.dialect.Name == "postgres"
	run := s.conn.ReadOne
	if pg {
		run = s.conn.ReadTx // for SET LOCAL
	}
	return run(ctx, func(qr Querier) error {
		if delivered {
			// The engine retries a statement that failed transiently; rows
			// already counted must not be counted again.
			return fault.New(fault.Unavailable, "BACKTEST_INTERRUPTED", "the back-test's read was interrupted; run it again")
		}
		if pg {
			// The statement hashes a version's decisions, households and
			// members (a million rows each at the benchmark's size): with
			// the default 4 MB per hash it spills them to disk in dozens
			// of batches. This transaction alone may use more.
			if _, err := qr.Exec(ctx, "SET LOCAL work_mem = '64MB'"); err != nil {
				return internal(err, "reading the back-test's decisions")
			}
		}
		rows, err := qr.Query(ctx, sql, args...)
		if err != nil {
			return internal(err, "reading the back-test's decisions")
		}
		defer rows.Close()
		var (
			r      BacktestRow
			bins   string
			key    string
			cipher []byte
			out    int
		)
		buf := make([]int, 0, 16)
		for rows.Next() {
			if err := rows.Scan(&r.ID, &r.Village, &r.HouseholdID, date[household.Date]{&r.On}, &r.Eligible, &r.Score,
				&bins, &r.Input, &r.Limit, &r.Rate, &key, &cipher, &out); err != nil {
				return internal(err, "reading the back-test's decisions")
			}
			delivered = true
			r.Bins = nil
			if bins != "" {
				if buf, err = parseBins(buf[:0], bins); err != nil {
					return fault.Wrap(err, fault.Internal, "INTERNAL", "decision %s has unreadable bins", r.ID)
				}
				r.Bins = buf
			}
			r.ApplicantID = household.SealedID{KeyID: key, Ciphertext: cipher}
			r.Outcome = modelrisk.Outcome(out)
			if err := fn(&r); err != nil {
				return err
			}
		}
		return internal(rows.Err(), "reading the back-test's decisions")
	})
}

// PolicyGateReference returns the reference population of the latest gate
// report of a policy version (policy_gate_reports), nil when the version
// has none (activated before references were kept, or never evaluated).
func (s *Store) PolicyGateReference(ctx context.Context, bank, product string, version int) (*modelrisk.Reference, error) {
	var raw string
	err := s.conn.ReadOne(ctx, func(qr Querier) error {
		return qr.QueryRow(ctx, `SELECT reference FROM policy_gate_reports
			WHERE bank = $1 AND product = $2 AND version = $3 ORDER BY seq DESC LIMIT 1`, bank, product, version).Scan(&raw)
	})
	if errors.Is(err, ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, internal(err, "reading a gate report's reference population")
	}
	ref := &modelrisk.Reference{}
	if err := json.Unmarshal([]byte(raw), ref); err != nil {
		return nil, fault.Wrap(err, fault.Internal, "INTERNAL", "the stored reference population of %s/%s version %d does not decode", bank, product, version)
	}
	return ref, nil
}

// binList scans the comma-separated bins of a decision.
type binList struct{ b *[]int }

func (s binList) Scan(src any) error {
	var v string
	switch x := src.(type) {
	case string:
		v = x
	case []byte:
		v = string(x)
	case nil:
	default:
		return fmt.Errorf("cannot scan %T into bins", src)
	}
	*s.b = nil
	if v == "" {
		return nil
	}
	out, err := parseBins(nil, v)
	*s.b = out
	return err
}

// binsArg is the stored form of a decision's bins: "2,0,1", "" for none.
func binsArg(b []int) string {
	var sb strings.Builder
	for i, x := range b {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Itoa(x))
	}
	return sb.String()
}

// parseBins appends the indexes of "2,0,1" to dst.
func parseBins(dst []int, s string) ([]int, error) {
	n, digits := 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if digits == 0 {
				return nil, fmt.Errorf("bins %q: an empty index", s)
			}
			dst = append(dst, n)
			n, digits = 0, 0
			continue
		}
		c := s[i]
		if c < '0' || c > '9' || digits >= 6 {
			return nil, fmt.Errorf("bins %q: not a list of indexes", s)
		}
		n = n*10 + int(c-'0')
		digits++
	}
	return dst, nil
}
