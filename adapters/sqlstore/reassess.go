package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// The bulk statements of a batch re-assessment (lending/credit/run.go): a
// page of consenting households read with everything their decisions need
// in three statements, and written back in one transaction with multi-row
// statements. The per-household port methods (InsertDecision, InsertLine,
// UpdateLine, AppendLineEvent) would cost a million round trips each on a
// million households.

// bulkRows is how many rows of cols columns one multi-row statement takes.
// SQLite looks $N names up linearly, so its statements stay near 2,000
// parameters (as the evidence import's); PostgreSQL takes more, and a
// fixed row count keeps the statement text, and so pgx's prepared
// statement, the same from page to page.
func (tx *Tx) bulkRows(cols int) int {
	if tx.d.Name == "sqlite" {
		return max(1, 2000/cols)
	}
	return max(1, 8000/cols)
}

// ReassessCandidates implements credit.Reader: the page's households with
// their facts and sheets (one statement, driven by the bank's consents in
// household order), then the listings and the lines of the page's id range
// (one range scan each).
func (tx *Tx) ReassessCandidates(ctx context.Context, bank string, at time.Time, afterID string, limit int) ([]*credit.Candidate, error) {
	const what = "reading households to re-assess"
	// The consenting ids first, then their rows by key: joining first and
	// limiting afterwards lets PostgreSQL pick plans that scan whole tables.
	rows, err := tx.q.Query(ctx, `SELECT `+householdColumns+`, `+sheetText("p")+`
		FROM (SELECT DISTINCT household_id FROM consents
			WHERE bank = $1 AND household_id > $2 AND `+liveConsent(3)+`
			ORDER BY household_id LIMIT $4) c
		JOIN households h ON h.id = c.household_id
		JOIN household_facts f ON f.household_id = h.id AND f.version = h.facts_version
		LEFT JOIN household_points p ON p.household_id = h.id
		ORDER BY h.id`, bank, afterID, tsArg(at), limit)
	if err != nil {
		return nil, internal(err, what)
	}
	defer rows.Close()
	var out []*credit.Candidate
	var sheets []sql.NullString
	for rows.Next() {
		var entries sql.NullString
		h, err := scanHousehold(scanPlus{rows, &entries})
		if err != nil {
			return nil, internal(err, what)
		}
		out = append(out, &credit.Candidate{Household: h})
		sheets = append(sheets, entries)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, what)
	}
	rows.Close()
	if len(out) == 0 {
		return nil, nil
	}
	byID := make(map[string]*credit.Candidate, len(out))
	for _, c := range out {
		byID[c.Household.ID] = c
	}
	first, last := out[0].Household.ID, out[len(out)-1].Household.ID
	// A range holds the households between consenting ones too (when the
	// bank has few consents): their rows are read and dropped, which is
	// cheaper than a list of a thousand ids.
	list, err := tx.evidenceList(ctx, "reading listings", `SELECT `+evidenceColumns+` FROM evidence
		WHERE household_id >= $1 AND household_id <= $2
		AND kind <> 'points' AND state IN ('posted', 'revoked')
		ORDER BY household_id, id`, first, last)
	if err != nil {
		return nil, err
	}
	for _, e := range list {
		if c := byID[e.Household]; c != nil {
			c.Listings = append(c.Listings, e)
		}
	}
	lines, err := tx.lineList(ctx, "reading the lines of households to re-assess", `SELECT `+lineColumns+`
		FROM credit_lines WHERE household_id >= $1 AND household_id <= $2 ORDER BY household_id, id`, first, last)
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		if c := byID[l.HouseholdID]; c != nil {
			c.Lines = append(c.Lines, l)
		}
	}
	// The members of each household's latest facts (the applicant's age)
	// and the loan status reports of its lines (its repayment record).
	hs := make(map[string]*household.Household, len(out))
	for _, c := range out {
		hs[c.Household.ID] = c.Household
	}
	if err := tx.members(ctx, hs, `m.household_id >= $1 AND m.household_id <= $2 AND EXISTS (SELECT 1 FROM households h
		WHERE h.id = m.household_id AND h.facts_version = m.version)`, first, last); err != nil {
		return nil, err
	}
	statuses, err := tx.householdStatuses(ctx, `household_id >= $1 AND household_id <= $2`, first, last)
	if err != nil {
		return nil, err
	}
	for id, ss := range statuses {
		if c := byID[id]; c != nil {
			c.Statuses = ss
		}
	}
	for i, sh := range sheets {
		if !sh.Valid {
			continue
		}
		es, err := decodeEntries(sh.String)
		if err != nil {
			return nil, internal(err, "reading a points sheet")
		}
		out[i].Entries = es
	}
	return out, nil
}

// LockPage implements credit.Writer. It reads by the page's id range (an
// index range scan whatever the statistics say, where a list of a thousand
// ids can make PostgreSQL scan the table) and so may lock the lines of
// households between the page's, which it does not return.
func (tx *Tx) LockPage(ctx context.Context, bank string, at time.Time, householdIDs []string) ([]string, []*credit.Line, error) {
	if len(householdIDs) == 0 {
		return nil, nil, nil
	}
	ids := slices.Clone(householdIDs)
	slices.Sort(ids)
	first, last := ids[0], ids[len(ids)-1]
	in := func(id string) bool { _, ok := slices.BinarySearch(ids, id); return ok }
	all, err := tx.lineList(ctx, "locking the lines of a page", `SELECT `+lineColumns+` FROM credit_lines
		WHERE household_id >= $1 AND household_id <= $2
		ORDER BY household_id, id`+tx.d.ForUpdate, first, last)
	if err != nil {
		return nil, nil, err
	}
	lines := all[:0]
	for _, l := range all {
		if in(l.HouseholdID) {
			lines = append(lines, l)
		}
	}
	const what = "checking the consents of a page"
	rows, err := tx.q.Query(ctx, `SELECT DISTINCT household_id FROM consents
		WHERE bank = $1 AND household_id >= $2 AND household_id <= $3 AND `+liveConsent(4)+`
		ORDER BY household_id`, bank, first, last, tsArg(at))
	if err != nil {
		return nil, nil, internal(err, what)
	}
	defer rows.Close()
	var live []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, nil, internal(err, what)
		}
		if in(id) {
			live = append(live, id)
		}
	}
	return live, lines, internal(rows.Err(), what)
}

// WritePage implements credit.Writer. The decisions and lines go first;
// the events and the run's move last, after p.Turn: the rows they take
// (the bank's event head, the run) stay locked until commit, so a page
// written beside this one waits for them only at its own end, and a
// second process continuing the same run finds the cursor moved.
func (tx *Tx) WritePage(ctx context.Context, p *credit.Page) error {
	if len(p.Plans) > 0 {
		if err := tx.insertDecisions(ctx, p.Plans); err != nil {
			return err
		}
		if err := tx.upsertLines(ctx, p.Plans); err != nil {
			return err
		}
	}
	if p.Turn != nil {
		if err := p.Turn(ctx); err != nil {
			return err
		}
	}
	if len(p.Plans) > 0 {
		if err := tx.appendLineEvents(ctx, p.Plans); err != nil {
			return err
		}
	}
	r := p.Run
	n, err := tx.q.Exec(ctx, `UPDATE reassessment_runs SET state = $1, cursor = $2, done = $3, total = $4,
		update_time = $5, error = $6 WHERE id = $7 AND cursor = $8 AND state = 'running'`,
		string(r.State), r.Cursor, r.Done, r.Total, tsArg(r.UpdateTime), r.Error, r.ID, p.PrevCursor)
	if err != nil {
		return internal(err, "moving a re-assessment run")
	}
	if n == 0 {
		if _, err := tx.Run(ctx, r.ID); err != nil {
			return err
		}
		return fault.New(fault.FailedPrecondition, credit.ReasonRunChanged,
			"re-assessment run %s was advanced or ended by another process", r.ID)
	}
	return nil
}

// insertDecisions inserts the plans' decisions: by COPY where the engine
// has it (a decision is about 2 KB, and a 300-row INSERT of them was
// built into ever-larger buffers: a tenth of the run's CPU, issue 19),
// else bulkRows at a time.
func (tx *Tx) insertDecisions(ctx context.Context, plans []*credit.Plan) error {
	if c, ok := tx.q.(Copier); ok {
		rows := make([][]any, len(plans))
		for i, p := range plans {
			var err error
			if rows[i], err = decisionArgs(p.Decision); err != nil {
				return err
			}
		}
		_, err := c.CopyText(ctx, "credit_decisions", decisionCols, len(rows), func(i int) []any { return rows[i] })
		return tx.decisionsErr(err)
	}
	step := tx.bulkRows(len(decisionCols))
	args := make([]any, 0, step*len(decisionCols))
	for start := 0; start < len(plans); start += step {
		chunk := plans[start:min(start+step, len(plans))]
		args = args[:0]
		for _, p := range chunk {
			da, err := decisionArgs(p.Decision)
			if err != nil {
				return err
			}
			args = append(args, da...)
		}
		if _, err := tx.q.Exec(ctx, `INSERT INTO credit_decisions (`+decisionColumns+`) VALUES `+
			rowsOf(len(chunk), len(decisionCols)), args...); err != nil {
			return tx.decisionsErr(err)
		}
	}
	return nil
}

// decisionsErr is insertDecisions' error: DECISION_EXISTS for a taken id.
func (tx *Tx) decisionsErr(err error) error {
	if err != nil && tx.d.IsUniqueViolation(err) {
		return fault.Wrap(err, fault.AlreadyExists, "DECISION_EXISTS", "a decision of the page already exists")
	}
	return internal(err, "inserting decisions")
}

// upsertLines writes the plans' lines: a new line is inserted; an
// existing one (same key and id) takes the plan's mutable fields where its
// stored version is the one the plan was made from. drawn and open_time
// are never overwritten. A row that does neither (a line that appeared or
// changed since it was locked) leaves the count short: CONCURRENT_CHANGE,
// and the caller rolls back.
//
// Where the engine takes arrays the page is one statement of one array
// per column (upsertLineArrays); else bulkRows lines a statement.
func (tx *Tx) upsertLines(ctx context.Context, plans []*credit.Plan) error {
	for _, p := range plans {
		if l := p.Line; !p.Opened && l.Version != p.PrevVersion+1 {
			// The version check of lineUpsert relies on it
			// (lending.Apply counts one change).
			return fault.New(fault.Internal, "PLAN_VERSION", "line %s planned at version %d from %d", l.ID, l.Version, p.PrevVersion)
		}
	}
	if tx.d.Arrays {
		return tx.upsertLineArrays(ctx, plans)
	}
	step := tx.bulkRows(len(lineCols))
	args := make([]any, 0, step*len(lineCols))
	for start := 0; start < len(plans); start += step {
		chunk := plans[start:min(start+step, len(plans))]
		args = args[:0]
		for _, p := range chunk {
			la, err := lineArgs(p.Line)
			if err != nil {
				return err
			}
			args = append(args, la...)
		}
		n, err := tx.q.Exec(ctx, `INSERT INTO credit_lines (`+lineColumns+`) VALUES `+rowsOf(len(chunk), len(lineCols))+lineUpsert, args...)
		if err := linesWritten(n, len(chunk), err); err != nil {
			return err
		}
	}
	return nil
}

// lineUpsert is upsertLines' conflict clause, and its version check.
const lineUpsert = `
	ON CONFLICT (bank, product, household_id) DO UPDATE SET limit_amount = excluded.limit_amount,
		rate = excluded.rate, exposure_cap = excluded.exposure_cap, status = excluded.status,
		valid_until = excluded.valid_until, decision_id = excluded.decision_id,
		freeze_reason = excluded.freeze_reason, version = excluded.version, update_time = excluded.update_time,
		applicant_member = excluded.applicant_member, review_on = excluded.review_on
	WHERE credit_lines.id = excluded.id AND credit_lines.version = excluded.version - 1`

// linesWritten is the error of an upsert of want lines that wrote n.
func linesWritten(n int64, want int, err error) error {
	if err != nil {
		return internal(err, "writing credit lines")
	}
	if n != int64(want) {
		return concurrentChange("%d of %d credit lines of the page changed since they were locked", int64(want)-n, want)
	}
	return nil
}

// lineArrayUpsert unnests one array per column of lineCols. Amounts,
// dates and instants travel as text (lineText) and are cast here, as
// PostgreSQL casts a text parameter of the multi-row form.
var lineArrayUpsert = `INSERT INTO credit_lines (` + lineColumns + `)
	SELECT id, bank, product, village_code, household_id, limit_amount::numeric, drawn::numeric,
		rate::numeric, exposure_cap::numeric, status, valid_until::date, decision_id, freeze_reason,
		version, open_time::timestamptz, update_time::timestamptz, applicant_member, review_on::date
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
		$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::int8[],
		$15::text[], $16::text[], $17::int4[], $18::text[])
		AS t(` + lineColumns + `)` + lineUpsert

// upsertLineArrays is upsertLines in one statement of arrays. The
// multi-row form sent a page as 444-row statements of 8,000 parameters,
// which pgx built into grown buffers and PostgreSQL bound anew; as arrays
// a million-household run took 2-5 s less (BENCHMARKS.md, issue 19,
// 2026-12-06, third session).
func (tx *Tx) upsertLineArrays(ctx context.Context, plans []*credit.Plan) error {
	n := len(plans)
	var text [15][]string // lineText's columns
	for i := range text {
		text[i] = make([]string, n)
	}
	versions, applicants, reviews := make([]int64, n), make([]int32, n), make([]*string, n)
	for i, p := range plans {
		l := p.Line
		if err := checkLineAmounts(l); err != nil {
			return err
		}
		for j, v := range lineText(l) {
			text[j][i] = v
		}
		versions[i], applicants[i] = int64(l.Version), applicantArg(l.ApplicantMember)
		if l.ReviewOn != "" {
			on := string(l.ReviewOn)
			reviews[i] = &on
		}
	}
	res, err := tx.q.Exec(ctx, lineArrayUpsert, text[0], text[1], text[2], text[3], text[4], text[5], text[6],
		text[7], text[8], text[9], text[10], text[11], text[12], versions, text[13], text[14], applicants, reviews)
	return linesWritten(res, n, err)
}

// appendLineEvents takes consecutive seqs for each bank's events with one
// bump of its head row (which orders the bank's commits, as
// AppendLineEvent's does) and inserts them.
func (tx *Tx) appendLineEvents(ctx context.Context, plans []*credit.Plan) error {
	var banks []string
	count := map[string]int64{}
	for _, p := range plans {
		if count[p.Event.Bank] == 0 {
			banks = append(banks, p.Event.Bank)
		}
		count[p.Event.Bank]++
	}
	next := map[string]int64{}
	for _, b := range banks {
		var last int64
		if err := tx.q.QueryRow(ctx, `INSERT INTO line_event_heads (bank, seq) VALUES ($1, $2)
			ON CONFLICT (bank) DO UPDATE SET seq = line_event_heads.seq + $2 RETURNING seq`, b, count[b]).Scan(&last); err != nil {
			return internal(err, "taking line event seqs")
		}
		next[b] = last - count[b] + 1
	}
	rows := make([][]any, len(plans))
	for i, p := range plans {
		ev := p.Event
		ev.Seq = next[ev.Bank]
		next[ev.Bank]++
		rows[i] = []any{ev.Bank, ev.Seq, ev.ID, ev.Type, ev.LineID, ev.Village, ev.HouseholdID, string(ev.Payload), tsArg(ev.Time)}
	}
	fail := func(err error) error {
		if err != nil && tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, "LINE_EVENT_EXISTS", "a line event of the page already exists")
		}
		return internal(err, "appending line events")
	}
	cols := []string{"bank", "seq", "id", "type", "line_id", "village_code", "household_id", "payload", "time"}
	if c, ok := tx.q.(Copier); ok { // as insertDecisions
		_, err := c.CopyText(ctx, "line_events", cols, len(rows), func(i int) []any { return rows[i] })
		return fail(err)
	}
	step := tx.bulkRows(len(cols))
	for start := 0; start < len(rows); start += step {
		chunk := rows[start:min(start+step, len(rows))]
		args := slices.Concat(chunk...)
		if _, err := tx.q.Exec(ctx, `INSERT INTO line_events (`+strings.Join(cols, ", ")+`)
			VALUES `+rowsOf(len(chunk), len(cols)), args...); err != nil {
			return fail(err)
		}
	}
	return nil
}

// rowsOf writes n rows of cols placeholders each: ($1, …), ($cols+1, …).
func rowsOf(n, cols int) string {
	var sb strings.Builder
	sb.Grow(n * cols * 6)
	k := 1
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('(')
		for j := range cols {
			if j > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('$')
			sb.WriteString(strconv.Itoa(k))
			k++
		}
		sb.WriteByte(')')
	}
	return sb.String()
}

// decisionArgs are d's values in decisionCols order, amounts checked.
func decisionArgs(d *credit.Decision) ([]any, error) {
	for _, c := range []struct {
		field  string
		v      decimal.Decimal
		places int32
	}{{"decision.limit", d.Limit, moneyPlaces}, {"decision.rate", d.Rate, ratePlaces}, {"decision.exposure_cap", d.ExposureCap, moneyPlaces}} {
		if err := scale(c.field, c.v, c.places); err != nil {
			return nil, err
		}
	}
	explanation, err := json.Marshal(d.Explanation)
	if err != nil {
		return nil, internal(err, "encoding an explanation")
	}
	return []any{d.ID, d.Bank, d.Product, d.Village, d.HouseholdID, string(d.Kind), d.PolicyVersion, d.PolicyHash,
		d.InputHash, string(d.On), string(d.ValidUntil), d.Eligible, d.Score, d.Grade, moneyArg(d.Limit),
		moneyArg(d.Rate), moneyArg(d.ExposureCap), string(explanation), d.Input, d.Overrides,
		d.Justification, d.DecidedBy, tsArg(d.Time), applicantArg(d.ApplicantMember), optDateArg(d.ReviewOn), binsArg(d.Bins)}, nil
}

// lineArgs are l's values in lineCols order, amounts checked.
func lineArgs(l *credit.Line) ([]any, error) {
	if err := checkLineAmounts(l); err != nil {
		return nil, err
	}
	t := lineText(l)
	args := make([]any, 0, len(lineCols))
	for _, v := range t[:13] {
		args = append(args, v)
	}
	return append(args, l.Version, t[13], t[14], applicantArg(l.ApplicantMember), optDateArg(l.ReviewOn)), nil
}

// lineText is l's values as text, in lineCols order without version,
// applicant_member and review_on: [13] and [14] are open_time and
// update_time.
func lineText(l *credit.Line) [15]string {
	return [...]string{l.ID, l.Bank, l.Product, l.Village, l.HouseholdID, moneyArg(l.Limit), moneyArg(l.Drawn),
		moneyArg(l.Rate), moneyArg(l.ExposureCap), string(l.Status), string(l.ValidUntil), l.DecisionID,
		l.FreezeReason, tsArg(l.OpenTime), tsArg(l.UpdateTime)}
}

// ActiveProducts lists, in name order, the products of bank that have an
// active policy: what `sanzhi reassess --bank` picks its product from.
func (s *Store) ActiveProducts(ctx context.Context, bank string) ([]string, error) {
	var out []string
	err := s.conn.ReadOne(ctx, func(q Querier) error {
		out = out[:0]
		rows, err := q.Query(ctx, `SELECT product FROM policy_versions WHERE bank = $1 AND state = 'active' ORDER BY product`, bank)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	return out, internal(err, "listing a bank's active products")
}

// ConcurrentWriters reports whether write transactions run side by side
// (PostgreSQL) rather than one at a time (SQLite's single writer): a
// batch re-assessment writes several pages at once only then.
func (s *Store) ConcurrentWriters() bool { return s.dialect.Name != "sqlite" }

// AssessInput implements credit.Reader: the statements of
// ReassessCandidates for one household, by key.
func (tx *Tx) AssessInput(ctx context.Context, village, householdID string) (*credit.Candidate, error) {
	const what = "reading a household to assess"
	var entries sql.NullString
	h, err := scanHousehold(scanPlus{tx.q.QueryRow(ctx, `SELECT `+householdColumns+`, `+sheetText("p")+`
		FROM households h
		JOIN household_facts f ON f.household_id = h.id AND f.version = h.facts_version
		LEFT JOIN household_points p ON p.household_id = h.id
		WHERE h.id = $1 AND h.village_code = $2`, householdID, village), &entries})
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "HOUSEHOLD_NOT_FOUND", "household %s not found",
			credit.HouseholdRef{Village: village, ID: householdID}.Name())
	}
	if err != nil {
		return nil, internal(err, what)
	}
	c := &credit.Candidate{Household: h}
	if entries.Valid {
		if c.Entries, err = decodeEntries(entries.String); err != nil {
			return nil, internal(err, "reading a points sheet")
		}
	}
	c.Listings, err = tx.evidenceList(ctx, "reading listings", `SELECT `+evidenceColumns+` FROM evidence
		WHERE household_id = $1 AND kind <> 'points' AND state IN ('posted', 'revoked')
		ORDER BY household_id, id`, householdID)
	if err != nil {
		return nil, err
	}
	if err := tx.members(ctx, map[string]*household.Household{h.ID: h},
		`m.household_id = $1 AND m.version = $2`, h.ID, h.Facts.Version); err != nil {
		return nil, err
	}
	statuses, err := tx.householdStatuses(ctx, `household_id = $1`, householdID)
	if err != nil {
		return nil, err
	}
	c.Statuses = statuses[householdID]
	return c, nil
}
