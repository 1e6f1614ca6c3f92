package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/dividend"
	"github.com/sanzhi/sanzhi/scoring/docver"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// Dividends returns the dividend port.
func (s *Store) Dividends() dividend.Store { return dividendStore{s} }

type dividendStore struct{ s *Store }

// dividendTx is a transaction of the dividend port. Its methods live on a
// type of their own, not on Tx, because their names (Round, Rows) mean
// nothing next to the other ports'.
type dividendTx struct{ *Tx }

func (d dividendStore) Read(ctx context.Context, fn func(dividend.Reader) error) error {
	return d.s.read(ctx, func(tx *Tx) error { return fn(dividendTx{tx}) })
}

func (d dividendStore) Write(ctx context.Context, fn func(dividend.Writer) error) error {
	return d.s.write(ctx, func(tx *Tx) error { return fn(dividendTx{tx}) })
}

// dividendRules is the table of rule versions, keyed by county and village
// code like catalogues.
var dividendRules = versionTable[*dividend.RuleVersion]{
	table: "dividend_rules", parent: [2]string{"county_code", "village_code"},
	meta: `village_code, version, content_hash, title, state, uploaded_by, upload_time,
	activated_by, activate_time, supersede_time`,
	set:    `state = $4, activated_by = $5, activate_time = $6, supersede_time = $7`,
	reason: "DIVIDEND_RULE", noun: "dividend rule", nouns: "dividend rules",
	scan: func(r interface{ Scan(...any) error }, withDocument bool) (*dividend.RuleVersion, error) {
		v := &dividend.RuleVersion{}
		var state string
		dest := []any{&v.Village, &v.Version, &v.ContentHash, &v.Title, &state, &v.UploadedBy, ts{&v.UploadTime},
			&v.ActivatedBy, nullTS{&v.ActivateTime}, nullTS{&v.SupersedeTime}}
		if withDocument {
			dest = append(dest, &v.Document)
		}
		err := r.Scan(dest...)
		v.State = docver.State(state)
		return v, err
	},
}

func county(village string) string {
	if len(village) < 6 {
		return village
	}
	return village[:6]
}

func (tx dividendTx) DividendRule(ctx context.Context, village string, n int) (*dividend.RuleVersion, error) {
	return dividendRules.version(ctx, tx.Tx, dividend.RuleName(village, n), county(village), village, n)
}

func (tx dividendTx) ActiveDividendRule(ctx context.Context, village string) (*dividend.RuleVersion, error) {
	return dividendRules.active(ctx, tx.Tx, "an active dividend rule of village "+village, county(village), village)
}

func (tx dividendTx) DividendRules(ctx context.Context, q dividend.RuleQuery) ([]*dividend.RuleVersion, error) {
	return dividendRules.list(ctx, tx.Tx, county(q.Village), q.Village, q.Before, q.Limit)
}

func (tx dividendTx) InsertDividendRule(ctx context.Context, v *dividend.RuleVersion) error {
	// The meta columns lack county_code; it goes in by its own statement
	// shape below rather than the shared insert.
	_, err := tx.q.Exec(ctx, `INSERT INTO dividend_rules (county_code, `+dividendRules.meta+`, document)
		VALUES (`+placeholders(1, 12)+`)`,
		county(v.Village), v.Village, v.Version, v.ContentHash, v.Title, string(v.State), v.UploadedBy,
		tsArg(v.UploadTime), v.ActivatedBy, optTSArg(v.ActivateTime), optTSArg(v.SupersedeTime), v.Document)
	if err != nil {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, "DIVIDEND_RULE_VERSION_EXISTS", "%s already exists", v.Name())
		}
		return internal(err, "inserting a dividend rule")
	}
	return nil
}

func (tx dividendTx) UpdateDividendRuleState(ctx context.Context, v *dividend.RuleVersion) error {
	return dividendRules.update(ctx, tx.Tx, v.Name(), "village "+v.Village, county(v.Village), v.Village, v.Version,
		string(v.State), v.ActivatedBy, optTSArg(v.ActivateTime), optTSArg(v.SupersedeTime))
}

const roundColumns = `id, village_code, title, record_date, pool, rule_version, rule_hash, state,
	households, paid, total_shares, total_points, allocation_hash, request_id, request_hash,
	created_by, create_time, reviewed_by, review_time, review_reason, notice_start, notice_end,
	approved_by, approve_time, withdrawn_by, withdraw_time, withdraw_reason, open_objections, version`

func scanRound(r interface{ Scan(...any) error }) (*dividend.Round, error) {
	x := &dividend.Round{}
	var state string
	err := r.Scan(&x.ID, &x.Village, &x.Title, date[household.Date]{&x.RecordDate}, money{&x.Pool},
		&x.RuleVersion, &x.RuleHash, &state, &x.Households, &x.Paid, money{&x.TotalShares}, money{&x.TotalPoints},
		&x.AllocationHash, &x.RequestID, &x.RequestHash, &x.CreatedBy, ts{&x.CreateTime},
		&x.ReviewedBy, nullTS{&x.ReviewTime}, &x.ReviewReason,
		optDate[household.Date]{&x.NoticeStart}, optDate[household.Date]{&x.NoticeEnd},
		&x.ApprovedBy, nullTS{&x.ApproveTime}, &x.WithdrawnBy, nullTS{&x.WithdrawTime}, &x.WithdrawReason,
		&x.OpenObjections, &x.Version)
	x.State = dividend.State(state)
	return x, err
}

func (tx dividendTx) oneRound(ctx context.Context, what, where string, args ...any) (*dividend.Round, error) {
	r, err := scanRound(tx.q.QueryRow(ctx, `SELECT `+roundColumns+` FROM dividend_rounds WHERE `+where, args...))
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "DIVIDEND_ROUND_NOT_FOUND", "%s not found", what)
	}
	return r, internal(err, "reading a dividend round")
}

func (tx dividendTx) Round(ctx context.Context, village, id string) (*dividend.Round, error) {
	return tx.oneRound(ctx, dividend.RoundName(village, id), `village_code = $1 AND id = $2`, village, id)
}

func (tx dividendTx) RoundByRequest(ctx context.Context, village, requestID string) (*dividend.Round, error) {
	return tx.oneRound(ctx, "a round of request "+requestID, `village_code = $1 AND request_id = $2`, village, requestID)
}

func (tx dividendTx) LiveRound(ctx context.Context, village string, day household.Date) (*dividend.Round, error) {
	return tx.oneRound(ctx, "a live round of "+string(day),
		`village_code = $1 AND record_date = $2 AND state IN ('draft', 'on_notice', 'approved')`, village, string(day))
}

func (tx dividendTx) Rounds(ctx context.Context, q dividend.RoundQuery) ([]*dividend.Round, error) {
	rows, err := tx.q.Query(ctx, `SELECT `+roundColumns+` FROM dividend_rounds
		WHERE village_code = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3`, q.Village, q.Before, q.Limit)
	if err != nil {
		return nil, internal(err, "listing dividend rounds")
	}
	defer rows.Close()
	var out []*dividend.Round
	for rows.Next() {
		r, err := scanRound(rows)
		if err != nil {
			return nil, internal(err, "listing dividend rounds")
		}
		out = append(out, r)
	}
	return out, internal(rows.Err(), "listing dividend rounds")
}

func (tx dividendTx) InsertRound(ctx context.Context, r *dividend.Round, lines []*dividend.Row) error {
	_, err := tx.q.Exec(ctx, `INSERT INTO dividend_rounds (`+roundColumns+`) VALUES (`+placeholders(1, 29)+`)`,
		r.ID, r.Village, r.Title, string(r.RecordDate), moneyArg(r.Pool), r.RuleVersion, r.RuleHash, string(r.State),
		r.Households, r.Paid, moneyArg(r.TotalShares), moneyArg(r.TotalPoints), r.AllocationHash, r.RequestID,
		r.RequestHash, r.CreatedBy, tsArg(r.CreateTime), r.ReviewedBy, optTSArg(r.ReviewTime), r.ReviewReason,
		optDateArg(r.NoticeStart), optDateArg(r.NoticeEnd), r.ApprovedBy, optTSArg(r.ApproveTime),
		r.WithdrawnBy, optTSArg(r.WithdrawTime), r.WithdrawReason, r.OpenObjections, r.Version)
	if err != nil {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, "DIVIDEND_ROUND_EXISTS",
				"village %s already has this request id or a live round of %s", r.Village, r.RecordDate)
		}
		return internal(err, "inserting a dividend round")
	}
	// Many rows per statement: a county-sized roll is one round trip per
	// batch, not per household. PostgreSQL takes up to 65,535 parameters
	// a statement, SQLite 32,766.
	const width = 12
	batch := 5000
	if tx.d.Name == "sqlite" {
		batch = 2500
	}
	for len(lines) > 0 {
		n := min(len(lines), batch)
		var sb strings.Builder
		args := make([]any, 0, width*n)
		for i, l := range lines[:n] {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(" + tx.d.params(i*width+1, width) + ")")
			args = append(args, r.ID, l.Household, l.HeadName, l.Group, moneyArg(l.Shares), moneyArg(l.Points),
				l.BlackListed, moneyArg(l.CountedShares), moneyArg(l.CountedPoints), string(l.Excluded), l.Capped,
				dividend.Yuan(l.Amount))
		}
		if _, err := tx.q.Exec(ctx, `INSERT INTO dividend_lines (round_id, household_id, head_name, group_no,
			shares, points, black_listed, counted_shares, counted_points, excluded, capped, amount)
			VALUES `+sb.String(), args...); err != nil {
			return internal(err, "inserting a round's lines")
		}
		lines = lines[n:]
	}
	return nil
}

func (tx dividendTx) UpdateRound(ctx context.Context, r *dividend.Round) error {
	n, err := tx.q.Exec(ctx, `UPDATE dividend_rounds SET state = $1, reviewed_by = $2, review_time = $3,
		review_reason = $4, notice_start = $5, notice_end = $6, approved_by = $7, approve_time = $8,
		withdrawn_by = $9, withdraw_time = $10, withdraw_reason = $11, open_objections = $12, version = $13
		WHERE id = $14 AND version = $15`,
		string(r.State), r.ReviewedBy, optTSArg(r.ReviewTime), r.ReviewReason, optDateArg(r.NoticeStart),
		optDateArg(r.NoticeEnd), r.ApprovedBy, optTSArg(r.ApproveTime), r.WithdrawnBy, optTSArg(r.WithdrawTime),
		r.WithdrawReason, r.OpenObjections, r.Version+1, r.ID, r.Version)
	if err != nil {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, "DIVIDEND_ROUND_EXISTS", "village %s already has a live round of %s", r.Village, r.RecordDate)
		}
		return internal(err, "updating a dividend round")
	}
	if n == 0 {
		return fault.New(fault.FailedPrecondition, "CONCURRENT_CHANGE",
			"%s changed while you were working on it; reload it and try again", r.Name())
	}
	r.Version++
	return nil
}

const dividendLineColumns = `household_id, head_name, group_no, shares, points, black_listed, counted_shares,
	counted_points, excluded, capped, amount`

func scanDividendLine(r interface{ Scan(...any) error }) (*dividend.Row, error) {
	x := &dividend.Row{}
	var excluded string
	var amount decimal.Decimal
	err := r.Scan(&x.Household, &x.HeadName, &x.Group, money{&x.Shares}, money{&x.Points}, &x.BlackListed,
		money{&x.CountedShares}, money{&x.CountedPoints}, &excluded, &x.Capped, money{&amount})
	x.Excluded, x.Amount = dividend.BlackList(excluded), dividend.Fen(amount)
	return x, err
}

func (tx dividendTx) Rows(ctx context.Context, q dividend.RowQuery) ([]*dividend.Row, error) {
	paid := ""
	if q.PaidOnly {
		// Amounts are written as dividend.Yuan, two decimals: '0.00'
		// is zero as NUMERIC and as SQLite's text alike.
		paid = ` AND amount <> '0.00'`
	}
	rows, err := tx.q.Query(ctx, `SELECT `+dividendLineColumns+` FROM dividend_lines
		WHERE round_id = $1 AND household_id > $2`+paid+` ORDER BY household_id LIMIT $3`, q.Round, q.After, q.Limit)
	if err != nil {
		return nil, internal(err, "reading a round's lines")
	}
	defer rows.Close()
	var out []*dividend.Row
	for rows.Next() {
		l, err := scanDividendLine(rows)
		if err != nil {
			return nil, internal(err, "reading a round's lines")
		}
		out = append(out, l)
	}
	return out, internal(rows.Err(), "reading a round's lines")
}

func (tx dividendTx) RoundRow(ctx context.Context, round, hh string) (*dividend.Row, error) {
	l, err := scanDividendLine(tx.q.QueryRow(ctx, `SELECT `+dividendLineColumns+` FROM dividend_lines
		WHERE round_id = $1 AND household_id = $2`, round, hh))
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "NOT_ON_ROLL", "household %s is not on the roll of round %s", hh, round)
	}
	return l, internal(err, "reading a round's line")
}

const objectionColumns = `id, round_id, village_code, household_id, reason, objected_by, object_time, state,
	resolved_by, resolve_time, resolve_reason`

func scanObjection(r interface{ Scan(...any) error }) (*dividend.Objection, error) {
	o := &dividend.Objection{}
	var state string
	err := r.Scan(&o.ID, &o.Round, &o.Village, &o.Household, &o.Reason, &o.ObjectedBy, ts{&o.ObjectTime}, &state,
		&o.ResolvedBy, nullTS{&o.ResolveTime}, &o.ResolveReason)
	o.State = dividend.ObjectionState(state)
	return o, err
}

func (tx dividendTx) Objections(ctx context.Context, round, hh string) ([]*dividend.Objection, error) {
	rows, err := tx.q.Query(ctx, `SELECT `+objectionColumns+` FROM dividend_objections
		WHERE round_id = $1 AND ($2 = '' OR household_id = $2) ORDER BY id`, round, hh)
	if err != nil {
		return nil, internal(err, "reading objections")
	}
	defer rows.Close()
	var out []*dividend.Objection
	for rows.Next() {
		o, err := scanObjection(rows)
		if err != nil {
			return nil, internal(err, "reading objections")
		}
		out = append(out, o)
	}
	return out, internal(rows.Err(), "reading objections")
}

func (tx dividendTx) Objection(ctx context.Context, round, id string) (*dividend.Objection, error) {
	o, err := scanObjection(tx.q.QueryRow(ctx, `SELECT `+objectionColumns+` FROM dividend_objections
		WHERE round_id = $1 AND id = $2`, round, id))
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "OBJECTION_NOT_FOUND", "objection %s not found", id)
	}
	return o, internal(err, "reading an objection")
}

func (tx dividendTx) InsertObjection(ctx context.Context, o *dividend.Objection) error {
	_, err := tx.q.Exec(ctx, `INSERT INTO dividend_objections (`+objectionColumns+`) VALUES (`+placeholders(1, 11)+`)`,
		o.ID, o.Round, o.Village, o.Household, o.Reason, o.ObjectedBy, tsArg(o.ObjectTime), string(o.State),
		o.ResolvedBy, optTSArg(o.ResolveTime), o.ResolveReason)
	if err != nil {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.FailedPrecondition, "ALREADY_OBJECTED", "the household already has an open objection to this round")
		}
		return internal(err, "inserting an objection")
	}
	return nil
}

func (tx dividendTx) UpdateObjection(ctx context.Context, o *dividend.Objection) error {
	n, err := tx.q.Exec(ctx, `UPDATE dividend_objections SET state = $1, resolved_by = $2, resolve_time = $3,
		resolve_reason = $4 WHERE round_id = $5 AND id = $6`,
		string(o.State), o.ResolvedBy, optTSArg(o.ResolveTime), o.ResolveReason, o.Round, o.ID)
	if err != nil {
		return internal(err, "updating an objection")
	}
	if n == 0 {
		return fault.New(fault.NotFound, "OBJECTION_NOT_FOUND", "objection %s not found", o.ID)
	}
	return nil
}

// rollPage is how many households one page of Roll reads.
const rollPage = 2000

// Roll implements dividend.Store: keyset pages of the village's households
// registered by day, each page one read transaction of two statements
// (the households with their facts as of day and their sheets; their
// 黑榜 listings).
func (d dividendStore) Roll(ctx context.Context, village string, day household.Date, fn func(*dividend.RollRow) error) error {
	after := ""
	for {
		page, err := d.rollPage(ctx, village, day, after)
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < rollPage {
			return nil
		}
		after = page[len(page)-1].Household
	}
}

func (d dividendStore) rollPage(ctx context.Context, village string, day household.Date, after string) ([]*dividend.RollRow, error) {
	var rows []*dividend.RollRow
	var sheets []sql.NullString
	err := d.s.conn.ReadTx(ctx, func(q Querier) error {
		rows, sheets = rows[:0], sheets[:0]
		// The facts version in force on day: the latest dated on or
		// before it; a household whose facts were first recorded later
		// takes its first version. Facts and sheet are scalar subqueries
		// on their primary keys: as joins, PostgreSQL hashed the whole
		// facts and points tables for every page (6 s for 100,000
		// households instead of about 1).
		res, err := q.Query(ctx, `SELECT h.id, h.head_name, h.group_no,
			(SELECT f.collective_shares FROM household_facts f WHERE f.household_id = h.id
				ORDER BY CASE WHEN f.as_of <= $2 THEN 0 ELSE 1 END,
					CASE WHEN f.as_of <= $2 THEN -f.version ELSE f.version END LIMIT 1),
			(SELECT `+sheetText("p")+` FROM household_points p WHERE p.household_id = h.id)
			FROM households h
			WHERE h.village_code = $1 AND h.registered_on <= $2 AND h.id > $3
			ORDER BY h.id LIMIT $4`, village, string(day), after, rollPage)
		if err != nil {
			return internal(err, "reading the roll")
		}
		defer res.Close()
		for res.Next() {
			r := &dividend.RollRow{}
			var entries sql.NullString
			if err := res.Scan(&r.Household, &r.HeadName, &r.Group, money{&r.Shares}, &entries); err != nil {
				return internal(err, "reading the roll")
			}
			rows = append(rows, r)
			sheets = append(sheets, entries)
		}
		if err := res.Err(); err != nil {
			return internal(err, "reading the roll")
		}
		res.Close()
		if len(rows) == 0 {
			return nil
		}
		byID := make(map[string]*dividend.RollRow, len(rows))
		for _, r := range rows {
			byID[r.Household] = r
		}
		list, err := (&Tx{q: q, d: &d.s.dialect}).evidenceList(ctx, "reading the roll's listings", `SELECT `+evidenceColumns+`
			FROM evidence WHERE village_code = $1 AND household_id >= $2 AND household_id <= $3
			AND kind = 'black_list' AND state IN ('posted', 'revoked') ORDER BY household_id, id`,
			village, rows[0].Household, rows[len(rows)-1].Household)
		if err != nil {
			return err
		}
		for _, e := range list {
			if r := byID[e.Household]; r != nil {
				r.BlackLists = append(r.BlackLists, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, sh := range sheets {
		if !sh.Valid {
			continue
		}
		es, err := decodeEntries(sh.String)
		if err != nil {
			return nil, internal(err, "reading a points sheet")
		}
		rows[i].Entries = es
	}
	return rows, nil
}
