package credit

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/paging"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// Loan statuses: the bank reports how the loan on one of its lines
// stands (days past due, amounts overdue, 五级分类, default, write-off,
// settlement). The rules are lending's (loanstatus.go); this orders them
// around the store so that a report is one transaction with its audit
// record and the household's re-assessment mark.
//
// Lawful basis: the report is the bank's own record of performing its
// credit contract with the household (PIPL art. 13(2)); it needs no
// consent, and answers the bank with nothing it did not send (the report
// as stored), so it reveals no household data. Its audit record names the
// contract basis. The report becomes part of the household's repayment
// record, which every bank's policy reads only as an aggregate naming no
// bank (lending.Record).

// StatusInput is a loan status a bank reports on one of its lines.
type StatusInput struct {
	Line             string // banks/{bank}/products/{product}/creditLines/{id}
	EventID          string // the bank's own id: the idempotency key
	AsOf             string // YYYY-MM-DD, Asia/Shanghai
	DaysPastDue      int
	OverduePrincipal string // yuan; "" is 0
	OverdueInterest  string // yuan; "" is 0
	Classification   string // normal, special_mention, substandard, doubtful, loss
	Defaulted        bool
	WrittenOff       bool
	Settled          bool
}

// StatusResult is a recorded report.
type StatusResult struct {
	Status *LoanStatus
	// Replayed is true when the event id was reported before with the
	// same content: nothing changed, the stored report is returned.
	Replayed bool
}

// Fault reasons of loan status reports.
const (
	ReasonEventIDReused = "EVENT_ID_REUSED"
	ActionLoanStatus    = "credit.loan_status"
)

// LoanStatusName is the resource name of a line's report.
func LoanStatusName(bank, product, lineID string, seq int) string {
	return LineName(bank, product, lineID) + "/loanStatuses/" + strconv.Itoa(seq)
}

// ReportLoanStatus records the bank's report on its line, checked against
// the line's latest report by the state machine, and marks the household
// for re-assessment, in one transaction with its audit record. Refusals,
// with nothing written: a malformed report (Invalid, each field named); a
// line of another bank (PermissionDenied OUT_OF_SCOPE for a principal of
// another bank; NotFound LINE_NOT_FOUND, as for a line that does not
// exist, for a name that mixes the bank's own product with another's
// line); a date in the future or before the line was opened (Invalid
// as_of), days past due longer than the line has existed (Invalid
// days_past_due); a date before the line's latest report (STATUS_OUT_OF_ORDER),
// a transition the state machine forbids (LOAN_STATUS_FINAL,
// CLASSIFICATION_TRANSITION, DEFAULT_CURE), all FailedPrecondition; an
// event id reported before with other content (AlreadyExists
// EVENT_ID_REUSED).
func (s *Service) ReportLoanStatus(ctx context.Context, p *access.Principal, in StatusInput) (*StatusResult, error) {
	bank, product, lineID, err := ParseLineName(in.Line, "line")
	if err != nil {
		return nil, err
	}
	if p != nil && isBankRole(p.Role) && p.Scope.Bank != bank {
		return nil, fault.New(fault.PermissionDenied, reasonOutOfScope, "a bank reports on its own lines only")
	}
	if in.EventID == "" || len(in.EventID) > 128 {
		return nil, fault.InvalidField("event_id", "is required, at most 128 characters")
	}
	if err := freeText("event_id", "事件号", in.EventID); err != nil {
		return nil, err
	}
	r := lending.StatusReport{AsOf: household.Date(strings.TrimSpace(in.AsOf)), DaysPastDue: in.DaysPastDue,
		Class: lending.Class(in.Classification), Defaulted: in.Defaulted, WrittenOff: in.WrittenOff, Settled: in.Settled}
	var v fault.Violations
	var perr, ierr error
	r.OverduePrincipal, perr = lending.ParseOverdue("overdue_principal", in.OverduePrincipal)
	r.OverdueInterest, ierr = lending.ParseOverdue("overdue_interest", in.OverdueInterest)
	for _, err := range []error{perr, ierr} {
		var f *fault.Error
		if errors.As(err, &f) {
			v = append(v, f.Violations...)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := r.Check(); err != nil {
		return nil, err
	}
	now := s.clock()
	today := household.Today(now)
	reqHash := requestHash(in.Line, in.EventID, string(r.AsOf), strconv.Itoa(r.DaysPastDue),
		r.OverduePrincipal.StringFixed(2), r.OverdueInterest.StringFixed(2), string(r.Class),
		strconv.FormatBool(r.Defaulted), strconv.FormatBool(r.WrittenOff), strconv.FormatBool(r.Settled))
	var out *StatusResult
	err = s.store.Locked(ctx, func(tx Writer) error {
		l, err := bankLine(ctx, tx, bank, product, lineID, in.Line)
		if err != nil {
			return err
		}
		if _, err := tx.LockHouseholdLines(ctx, l.HouseholdID); err != nil {
			return err
		}
		// Under the lock: a concurrent report of the same event has
		// either committed (and is seen here) or not started.
		if prev, err := tx.LoanStatus(ctx, bank, in.EventID); err == nil {
			if prev.RequestHash != reqHash {
				return fault.New(fault.AlreadyExists, ReasonEventIDReused,
					"event id %q was already reported with different content", in.EventID)
			}
			out = &StatusResult{Status: prev, Replayed: true}
			return nil
		} else if !fault.Is(err, fault.NotFound) {
			return err
		}
		latest, err := tx.LineStatuses(ctx, lineID, 0, 1)
		if err != nil {
			return err
		}
		var prev *LoanStatus
		var prevAsOf household.Date
		if len(latest) > 0 {
			prev, prevAsOf = latest[0], latest[0].AsOf
		}
		if err := lending.CheckDate(&r, today, household.Today(l.OpenTime), prevAsOf); err != nil {
			return err
		}
		drawnSince := false
		if prev != nil && prev.Settled {
			if drawnSince, err = tx.DrawnSince(ctx, lineID, prev.Time); err != nil {
				return err
			}
		}
		var prevReport *lending.StatusReport
		if prev != nil {
			prevReport = &prev.StatusReport
		}
		if err := lending.CheckTransition(prevReport, &r, drawnSince); err != nil {
			return err
		}
		st := &LoanStatus{StatusReport: r, LineID: lineID, Seq: 1, Bank: bank, EventID: in.EventID,
			Village: l.Village, HouseholdID: l.HouseholdID, RequestHash: reqHash, RecordedBy: p.ID, Time: now}
		if prev != nil {
			st.Seq = prev.Seq + 1
		}
		if err := tx.InsertLoanStatus(ctx, st); err != nil {
			return err
		}
		// The household's record changed: its lines, at every bank, are
		// judged again on it (the re-assessor; a closed line is not).
		if l.Status != lending.StatusClosed {
			if err := tx.MarkDue(ctx, l.HouseholdID, now); err != nil {
				return err
			}
		}
		out = &StatusResult{Status: st}
		return tx.Record(ctx, statusRecord(p.ID, st, product))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// statusRecord is the audit record of a report: subject the line, the
// request hash the report's fingerprint, and the report itself.
func statusRecord(actor string, st *LoanStatus, product string) audit.Record {
	return audit.Record{Time: st.Time, Actor: actor, Action: ActionLoanStatus,
		Subject: LineName(st.Bank, product, st.LineID), RequestHash: st.RequestHash,
		Payload: map[string]string{
			"household": HouseholdRef{Village: st.Village, ID: st.HouseholdID}.Name(), payloadBank: st.Bank,
			"event_id": st.EventID, "seq": strconv.Itoa(st.Seq), "as_of": string(st.AsOf),
			"days_past_due": strconv.Itoa(st.DaysPastDue), "overdue_principal": st.OverduePrincipal.StringFixed(2),
			"overdue_interest": st.OverdueInterest.StringFixed(2), "classification": string(st.Class),
			"defaulted": strconv.FormatBool(st.Defaulted), "written_off": strconv.FormatBool(st.WrittenOff),
			"settled": strconv.FormatBool(st.Settled), payloadBasis: string(lending.BasisContract)}}
}

// StatusPage is a page of a line's reports, newest first.
type StatusPage struct {
	Statuses  []*LoanStatus
	NextToken string
}

// ListLoanStatuses returns the reports the bank made on its line, newest
// first: the bank's own records (as ReportLoanStatus answers them), so a
// bank principal lists its own lines' only. A regulator lists any line's.
func (s *Service) ListLoanStatuses(ctx context.Context, p *access.Principal, line string, pageSize int32, pageToken string) (StatusPage, error) {
	var v fault.Violations
	scope := "loanStatuses:" + line
	after := paging.Cursor(pageToken, scope, &v)
	size := paging.Limit(pageSize, &v)
	if err := v.Err(); err != nil {
		return StatusPage{}, err
	}
	bank, product, lineID, err := ParseLineName(line, "line")
	if err != nil {
		return StatusPage{}, err
	}
	if p != nil && isBankRole(p.Role) && p.Scope.Bank != bank {
		return StatusPage{}, fault.New(fault.PermissionDenied, reasonOutOfScope, "a bank lists its own lines' statuses only")
	}
	before := 0
	if after != "" {
		if before, err = strconv.Atoi(after); err != nil || before <= 0 {
			return StatusPage{}, fault.InvalidField("page_token", "is not a token this list returned")
		}
	}
	var out StatusPage
	err = s.store.Read(ctx, func(tx Reader) error {
		if _, err := bankLine(ctx, tx, bank, product, lineID, line); err != nil {
			return err
		}
		out.Statuses, err = tx.LineStatuses(ctx, lineID, before, size+1)
		return err
	})
	if err != nil {
		return StatusPage{}, err
	}
	if len(out.Statuses) > size {
		out.Statuses = out.Statuses[:size]
		out.NextToken = paging.Token(scope, strconv.Itoa(out.Statuses[size-1].Seq))
	}
	return out, nil
}

// bankLine reads the line of bank and product with id lineID, named name.
// A line that does not exist and a line of another bank or product are
// one and the same NotFound, word for word: a bank learns nothing of
// another's lines.
func bankLine(ctx context.Context, tx Reader, bank, product, lineID, name string) (*Line, error) {
	l, err := tx.LineByID(ctx, lineID)
	if err == nil && l.Bank == bank && l.Product == product {
		return l, nil
	}
	if err != nil && !fault.Is(err, fault.NotFound) {
		return nil, err
	}
	return nil, fault.New(fault.NotFound, "LINE_NOT_FOUND", "credit line %s not found", name)
}
