package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// The banks' loan status reports (issue 16): appended, never changed.

var statusCols = []string{"line_id", "seq", "bank", "event_id", "village_code", "household_id", "as_of",
	"days_past_due", "overdue_principal", "overdue_interest", "classification", "defaulted", "written_off",
	"settled", "request_hash", "recorded_by", "time"}

var statusColumns = columns("", statusCols)

func statusDest(s *credit.LoanStatus) []any {
	return []any{&s.LineID, &s.Seq, &s.Bank, &s.EventID, &s.Village, &s.HouseholdID, date[household.Date]{&s.AsOf},
		&s.DaysPastDue, money{&s.OverduePrincipal}, money{&s.OverdueInterest}, text[lending.Class]{&s.Class},
		&s.Defaulted, &s.WrittenOff, &s.Settled, &s.RequestHash, &s.RecordedBy, ts{&s.Time}}
}

func (tx *Tx) statusList(ctx context.Context, what, query string, args ...any) ([]*credit.LoanStatus, error) {
	rows, err := tx.q.Query(ctx, query, args...)
	if err != nil {
		return nil, internal(err, what)
	}
	defer rows.Close()
	var out []*credit.LoanStatus
	for rows.Next() {
		s := &credit.LoanStatus{}
		if err := rows.Scan(statusDest(s)...); err != nil {
			return nil, internal(err, what)
		}
		out = append(out, s)
	}
	return out, internal(rows.Err(), what)
}

// LoanStatus implements credit.Reader.
func (tx *Tx) LoanStatus(ctx context.Context, bank, eventID string) (*credit.LoanStatus, error) {
	s := &credit.LoanStatus{}
	err := tx.q.QueryRow(ctx, `SELECT `+statusColumns+` FROM loan_status_reports WHERE bank = $1 AND event_id = $2`,
		bank, eventID).Scan(statusDest(s)...)
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "LOAN_STATUS_NOT_FOUND", "loan status event %s of bank %s not found", eventID, bank)
	}
	if err != nil {
		return nil, internal(err, "reading a loan status")
	}
	return s, nil
}

// LineStatuses implements credit.Reader.
func (tx *Tx) LineStatuses(ctx context.Context, lineID string, before, limit int) ([]*credit.LoanStatus, error) {
	if before <= 0 {
		before = 1 << 30
	}
	return tx.statusList(ctx, "listing a line's loan statuses", `SELECT `+statusColumns+` FROM loan_status_reports
		WHERE line_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, lineID, before, limit)
}

// DrawnSince implements credit.Reader.
func (tx *Tx) DrawnSince(ctx context.Context, lineID string, since time.Time) (bool, error) {
	var n int
	err := tx.q.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM line_transactions
		WHERE line_id = $1 AND kind = 'drawdown' AND time > $2 LIMIT 1) t`, lineID, tsArg(since)).Scan(&n)
	return n > 0, internal(err, "looking for a drawdown")
}

// InsertLoanStatus implements credit.Writer.
func (tx *Tx) InsertLoanStatus(ctx context.Context, s *credit.LoanStatus) error {
	if err := scale("status.overdue_principal", s.OverduePrincipal, moneyPlaces); err != nil {
		return err
	}
	if err := scale("status.overdue_interest", s.OverdueInterest, moneyPlaces); err != nil {
		return err
	}
	return tx.insertOnce(ctx, "inserting a loan status",
		func() error {
			return fault.New(fault.AlreadyExists, "LOAN_STATUS_EXISTS",
				"loan status %d of line %s, or event %s of bank %s, already exists", s.Seq, s.LineID, s.EventID, s.Bank)
		},
		`INSERT INTO loan_status_reports (`+statusColumns+`) VALUES (`+placeholders(1, len(statusCols))+`)`,
		s.LineID, s.Seq, s.Bank, s.EventID, s.Village, s.HouseholdID, string(s.AsOf), s.DaysPastDue,
		moneyArg(s.OverduePrincipal), moneyArg(s.OverdueInterest), string(s.Class), s.Defaulted, s.WrittenOff,
		s.Settled, s.RequestHash, s.RecordedBy, tsArg(s.Time))
}

// householdStatuses reads the reports of the households selected by
// where (on column household_id) as the policy's repayment record needs
// them: by household, line and the order recorded.
func (tx *Tx) householdStatuses(ctx context.Context, where string, args ...any) (map[string][]lending.LineStatus, error) {
	const what = "reading loan statuses"
	rows, err := tx.q.Query(ctx, fmt.Sprintf(`SELECT household_id, line_id, as_of, days_past_due, overdue_principal,
		overdue_interest, classification, defaulted, written_off, settled FROM loan_status_reports
		WHERE %s ORDER BY household_id, line_id, seq`, where), args...)
	if err != nil {
		return nil, internal(err, what)
	}
	defer rows.Close()
	out := map[string][]lending.LineStatus{}
	for rows.Next() {
		var hid string
		var s lending.LineStatus
		if err := rows.Scan(&hid, &s.Line, date[household.Date]{&s.AsOf}, &s.DaysPastDue, money{&s.OverduePrincipal},
			money{&s.OverdueInterest}, text[lending.Class]{&s.Class}, &s.Defaulted, &s.WrittenOff, &s.Settled); err != nil {
			return nil, internal(err, what)
		}
		out[hid] = append(out[hid], s)
	}
	return out, internal(rows.Err(), what)
}
