package sqlstore

import (
	"context"
	"database/sql"
	"strconv"

	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/simulate"
)

// PopulationQuery selects the households Population walks.
type PopulationQuery struct {
	// Villages limits the walk to these villages; empty is every village.
	Villages []string
	// PageSize is how many households one page reads (default
	// DefaultPopulationPage, at most 5,000).
	PageSize int
	// AfterID starts the walk after this household id ("" from the start).
	AfterID string
	// Day, when set, is the day each row's repayment record is built as
	// of, from the loan status reports of the household's lines
	// (lending.Record); "" leaves it empty.
	Day household.Date
}

// DefaultPopulationPage is the page size of Population.
const DefaultPopulationPage = 1000

// Population calls fn for every household that q selects, in id order,
// with its latest facts, its points sheet and its posted or revoked
// non-points evidence (star ratings, listings, recommendations; revoked
// evidence still counts before its revocation day). It reads keyset pages:
// per page one statement for the households, their facts and sheets, and
// one for the page's listings, both in one short read transaction, so no
// snapshot is held while fn runs or across pages. Only one page is in
// memory at a time. A page reflects the store when it was read: a walk
// over a busy store is consistent per page, not as a whole. An error from
// fn stops the walk and is returned as is.
func (s *Store) Population(ctx context.Context, q PopulationQuery, fn func(*simulate.Row) error) error {
	size := q.PageSize
	if size <= 0 {
		size = DefaultPopulationPage
	}
	size = min(size, 5000)
	after := q.AfterID
	for {
		page, err := s.populationPage(ctx, q.Villages, after, size, q.Day)
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < size {
			return nil
		}
		after = page[len(page)-1].Household.ID
	}
}

// PopulationCount counts the households q selects (for a progress bar).
func (s *Store) PopulationCount(ctx context.Context, q PopulationQuery) (int, error) {
	args := []any{q.AfterID}
	where := `id > $1`
	if len(q.Villages) > 0 {
		where += ` AND village_code IN (` + placeholders(2, len(q.Villages)) + `)`
		for _, v := range q.Villages {
			args = append(args, v)
		}
	}
	var n int64
	err := s.conn.ReadOne(ctx, func(qr Querier) error {
		return qr.QueryRow(ctx, `SELECT COUNT(*) FROM households WHERE `+where, args...).Scan(&n)
	})
	return int(n), internal(err, "counting households")
}

// populationPage reads the page of up to size households after id after.
func (s *Store) populationPage(ctx context.Context, villages []string, after string, size int, day household.Date) ([]*simulate.Row, error) {
	var rows []*simulate.Row
	var sheets []sql.NullString
	var statuses map[string][]lending.LineStatus
	err := s.conn.ReadTx(ctx, func(qr Querier) error {
		rows, sheets = rows[:0], sheets[:0] // a retried transaction starts over
		args := []any{after}
		villageWhere := ""
		if len(villages) > 0 {
			villageWhere = ` AND village_code IN (` + placeholders(2, len(villages)) + `)`
			for _, v := range villages {
				args = append(args, v)
			}
		}
		args = append(args, size)
		// The page's households first, then their facts and sheets by
		// key: joining the whole tables and limiting afterwards lets
		// PostgreSQL pick merge joins that scan facts and sheets from the
		// start on every page.
		res, err := qr.Query(ctx, `SELECT `+householdColumns+`, `+sheetText("p")+`
			FROM (SELECT * FROM households WHERE id > $1`+villageWhere+`
				ORDER BY id LIMIT $`+strconv.Itoa(len(args))+`) h
			JOIN household_facts f ON f.household_id = h.id AND f.version = h.facts_version
			LEFT JOIN household_points p ON p.household_id = h.id
			ORDER BY h.id`, args...)
		if err != nil {
			return internal(err, "reading households")
		}
		defer res.Close()
		for res.Next() {
			var entries sql.NullString
			h, err := scanHousehold(scanPlus{res, &entries})
			if err != nil {
				return internal(err, "reading households")
			}
			rows = append(rows, &simulate.Row{Household: h})
			sheets = append(sheets, entries)
		}
		if err := res.Err(); err != nil {
			return internal(err, "reading households")
		}
		res.Close()
		if len(rows) == 0 {
			return nil
		}

		// The page's listings: one range scan over the evidence of the
		// page's id range (of the filter's villages).
		byID := make(map[string]*simulate.Row, len(rows))
		for _, r := range rows {
			byID[r.Household.ID] = r
		}
		largs := []any{rows[0].Household.ID, rows[len(rows)-1].Household.ID}
		listWhere := ""
		if len(villages) > 0 {
			listWhere = ` AND village_code IN (` + placeholders(3, len(villages)) + `)`
			for _, v := range villages {
				largs = append(largs, v)
			}
		}
		list, err := (&Tx{q: qr, d: &s.dialect}).evidenceList(ctx, "reading listings", `SELECT `+evidenceColumns+` FROM evidence
			WHERE household_id >= $1 AND household_id <= $2
			AND kind <> 'points' AND state IN ('posted', 'revoked')`+listWhere+`
			ORDER BY household_id, id`, largs...)
		if err != nil {
			return err
		}
		for _, e := range list {
			if r := byID[e.Household]; r != nil {
				r.Listings = append(r.Listings, e)
			}
		}
		if day == "" {
			return nil
		}
		// The page's loan status reports: one range scan.
		statuses, err = (&Tx{q: qr, d: &s.dialect}).householdStatuses(ctx, `household_id >= $1 AND household_id <= $2`,
			largs[0], largs[1])
		return err
	})
	if err != nil {
		return nil, err
	}
	// Decode the sheets outside the transaction: it holds no snapshot
	// while the CPU works.
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
	for _, r := range rows {
		if ss := statuses[r.Household.ID]; len(ss) > 0 {
			r.Repayment = lending.Record(ss, day)
		}
	}
	return rows, nil
}

// scanPlus scans a household row followed by extra columns.
type scanPlus struct {
	r     interface{ Scan(...any) error }
	extra *sql.NullString
}

func (s scanPlus) Scan(dest ...any) error { return s.r.Scan(append(dest, s.extra)...) }
