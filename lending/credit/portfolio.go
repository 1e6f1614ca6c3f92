package credit

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/paging"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// A bank's portfolio, inbox and a line's history: what a loan officer
// reads about the bank's lines as a whole. Each holds to the lawful-basis
// rule as ListLines and Watch do (lending.ActMonitor): a line or an event
// whose household neither consents to the bank nor owes it is not the
// bank's to read, and each delivery with household data is a query record.

// LineFilter narrows a bank's portfolio. Zero fields do not filter.
type LineFilter struct {
	Village string         // 12-digit village code
	Status  lending.Status // effective status on today's date
	Grade   string         // the grade of the line's decision
	// ExpiringDays keeps the lines still valid today whose validity ends
	// within this many days (1 to MaxExpiringDays).
	ExpiringDays int
}

// MaxExpiringDays bounds LineFilter.ExpiringDays: a year ahead.
const MaxExpiringDays = 366

var gradeRE = regexp.MustCompile(`^[A-Za-z0-9+-]{1,16}$`)

// check reports the filter's bad fields.
func (f LineFilter) check(v *fault.Violations) {
	if f.Village != "" {
		if _, err := idnum.ParseVillageCode(f.Village); err != nil {
			addZH(v, "village", "村代码应为12位统计用区划代码", "must be a 12-digit village code")
		}
	}
	switch f.Status {
	case "", lending.StatusActive, lending.StatusFrozen, lending.StatusExpired, lending.StatusClosed:
	default:
		addZH(v, "status", "状态只能是 active、frozen、expired 或 closed", "must be active, frozen, expired or closed")
	}
	if f.Grade != "" && !gradeRE.MatchString(f.Grade) {
		addZH(v, "grade", "等级应为政策中的等级名，如 AAA", "must be a grade of the policy, such as AAA")
	}
	if f.ExpiringDays < 0 || f.ExpiringDays > MaxExpiringDays {
		addZH(v, "expiring_days", "到期天数应在 1 到 366 之间", "must be between 1 and 366 days")
	}
}

// addZH records a violation with its Chinese wording.
func addZH(v *fault.Violations, field, zh, en string) {
	*v = append(*v, fault.Violation{Field: field, Description: en, ZH: zh})
}

// keeps reports whether the filter keeps line l, whose status on today
// is st, by status and expiry (the grade is the decision's: see listLines).
func (f LineFilter) keeps(l *Line, st lending.Status, today household.Date) bool {
	if f.Status != "" && st != f.Status {
		return false
	}
	if f.ExpiringDays > 0 {
		last := household.Date(today.Time().AddDate(0, 0, f.ExpiringDays).Format(time.DateOnly))
		if st != lending.StatusActive && st != lending.StatusFrozen || l.ValidUntil > last {
			return false
		}
	}
	return true
}

// Portfolio returns a page of the bank's lines of every product, in id
// order, that match f; it is ListLines across products with grade and
// expiry filters, under the same lawful-basis rule and query records.
// A bad filter, page_size or page_token is fault.Invalid naming the field,
// before anything is read.
func (s *Service) Portfolio(ctx context.Context, p *access.Principal, bankName string, f LineFilter, pageSize int32, pageToken string) (LinePage, error) {
	var v fault.Violations
	f.check(&v)
	scope := "portfolio:" + bankName + "\x00" + f.Village + "\x00" + string(f.Status) + "\x00" + f.Grade +
		"\x00" + strconv.Itoa(f.ExpiringDays)
	after := paging.Cursor(pageToken, scope, &v)
	size := paging.Limit(pageSize, &v)
	if err := v.Err(); err != nil {
		return LinePage{}, err
	}
	bank, err := ParseBank(bankName, "bank")
	if err != nil {
		return LinePage{}, err
	}
	if p != nil && isBankRole(p.Role) && p.Scope.Bank != bank {
		return LinePage{}, fault.New(fault.PermissionDenied, reasonOutOfScope, "a bank lists its own lines only")
	}
	return s.listLines(ctx, p, bank, "", f, scope, after, size)
}

// listLines is ListLines and Portfolio: a page of bank's lines (of product
// when it is not "") after the cursor that f keeps, each under a lawful
// basis for a bank's principal (a query record each), all for a
// regulator.
func (s *Service) listLines(ctx context.Context, p *access.Principal, bank, product string, f LineFilter, scope, after string, size int) (LinePage, error) {
	now := s.clock()
	today := household.Today(now)
	bankRead := p != nil && isBankRole(p.Role)
	var page LinePage
	list := func(tx Reader, record func(*Line, lending.Basis) error) error {
		// Expired is a matter of date: list the stored active lines and
		// keep those the date has expired (and the reverse for active).
		stored := f.Status
		if f.Status == lending.StatusExpired {
			stored = ""
		}
		page = LinePage{}
		cursor := after
		for {
			ls, err := tx.Lines(ctx, ListQuery{Bank: bank, Product: product, Village: f.Village, Status: stored,
				AfterID: cursor, Limit: size})
			if err != nil {
				return err
			}
			for _, l := range ls {
				cursor = l.ID
				st := l.StatusOn(today)
				if !f.keeps(l, st, today) {
					continue
				}
				d, err := tx.Decision(ctx, l.DecisionID)
				if err != nil {
					return err
				}
				if f.Grade != "" && d.Grade != f.Grade {
					continue
				}
				if record != nil {
					consents, err := tx.Consents(ctx, l.HouseholdID)
					if err != nil {
						return err
					}
					// The listed line's own balance is the contract basis.
					b, err := lending.LawfulBasis(lending.BasisQuery{Act: lending.ActMonitor, Bank: bank,
						Consents: consentValues(consents), Drawn: l.Drawn, At: now})
					if isConsentRequired(err) {
						continue // no lawful basis: not the bank's to read
					}
					if err != nil {
						return err
					}
					if err := record(l, b); err != nil {
						return err
					}
				}
				page.Views = append(page.Views, &View{Line: l, Decision: d, Status: st})
				if len(page.Views) == size {
					page.NextToken = paging.Token(scope, l.ID) // may lead to an empty last page
					return nil
				}
			}
			if len(ls) < size {
				return nil
			}
		}
	}
	if !bankRead {
		err := s.store.Read(ctx, func(tx Reader) error { return list(tx, nil) })
		return page, s.explainedViews(ctx, page.Views, err)
	}
	err := s.store.Write(ctx, func(tx Writer) error {
		return list(tx, func(l *Line, b lending.Basis) error {
			return tx.Record(ctx, basisRecord(queryRecord(p, l.Household, bank, l.Product, string(b.Purpose), MethodListLines, OutcomeAllowed, now), b))
		})
	})
	return page, s.explainedViews(ctx, page.Views, err)
}

// Query-record methods of the bank console's reads.
const (
	MethodInbox        = "inbox"
	MethodLineActivity = "line_activity"
)

// EventPage is a page of line events as they may go to the bank, newest
// first, and the token for the next.
type EventPage struct {
	Events    []*Delivery
	NextToken string // "" at the end
}

// maxEventPage bounds an inbox page.
const maxEventPage = 100

// Inbox returns a page of the bank's line events, newest first, each
// judged as Watch judges it (ForDelivery): whole with a query record under
// a lawful basis, withheld down to the line's name, type and status
// without one. A regulator reads every event whole (supervision).
// pageSize 0 means 20.
func (s *Service) Inbox(ctx context.Context, p *access.Principal, bankName string, pageSize int32, pageToken string) (EventPage, error) {
	var v fault.Violations
	scope := "inbox:" + bankName
	before := paging.Cursor(pageToken, scope, &v)
	size := paging.LimitOf(pageSize, 20, maxEventPage, &v)
	var beforeSeq int64
	if before != "" {
		n, err := strconv.ParseInt(before, 10, 64)
		if err != nil || n <= 0 {
			v.Add("page_token", "is not a token this list issued")
		}
		beforeSeq = n
	}
	if err := v.Err(); err != nil {
		return EventPage{}, err
	}
	bank, err := ParseBank(bankName, "bank")
	if err != nil {
		return EventPage{}, err
	}
	if p == nil {
		return EventPage{}, fault.New(fault.Unauthenticated, "UNAUTHENTICATED", "missing credentials")
	}
	if isBankRole(p.Role) && p.Scope.Bank != bank {
		return EventPage{}, fault.New(fault.PermissionDenied, reasonOutOfScope, "a bank reads its own events only")
	}
	evs, err := s.judged(ctx, p, EventQuery{Bank: bank, Before: beforeSeq, Limit: size}, MethodInbox)
	if err != nil {
		return EventPage{}, err
	}
	page := EventPage{Events: evs}
	if len(evs) == size {
		page.NextToken = paging.Token(scope, strconv.FormatInt(evs[len(evs)-1].Event.Seq, 10))
	}
	return page, nil
}

// judged reads the events q selects and judges each for p (see Inbox);
// the query records commit with the read.
func (s *Service) judged(ctx context.Context, p *access.Principal, q EventQuery, method string) ([]*Delivery, error) {
	var out []*Delivery
	if p.Role == access.Regulator {
		err := s.store.Read(ctx, func(tx Reader) error {
			evs, err := tx.LineEventsBefore(ctx, q)
			out = out[:0]
			for _, e := range evs {
				out = append(out, &Delivery{Event: e, Basis: lending.Basis{Kind: lending.BasisSupervision}})
			}
			return err
		})
		return out, err
	}
	now := s.clock()
	err := s.store.Write(ctx, func(tx Writer) error {
		evs, err := tx.LineEventsBefore(ctx, q)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, e := range evs {
			d, err := ForDelivery(ctx, tx, e, p.ID, method, now)
			if err != nil {
				return err
			}
			if d.Record != nil {
				if err := tx.Record(ctx, *d.Record); err != nil {
					return err
				}
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// Activity is a line with its history: drawdowns, repayments, freezes and
// their lifting, limit changes, newest first.
type Activity struct {
	View      *View
	Events    []*Delivery
	NextToken string // "" at the end
}

// LineActivity returns the bank's line by id with a page of its events,
// newest first, under a lawful basis (ActMonitor: a live consent of the
// bank or a balance on the line); the read is one query record, and a
// refusal is recorded too. A line of another bank is NotFound. pageSize
// 0 means 20.
func (s *Service) LineActivity(ctx context.Context, p *access.Principal, bankName, lineID string, pageSize int32, pageToken string) (*Activity, error) {
	var v fault.Violations
	scope := "activity:" + bankName + "\x00" + lineID
	before := paging.Cursor(pageToken, scope, &v)
	size := paging.LimitOf(pageSize, 20, maxEventPage, &v)
	var beforeSeq int64
	if before != "" {
		n, err := strconv.ParseInt(before, 10, 64)
		if err != nil || n <= 0 {
			v.Add("page_token", "is not a token this list issued")
		}
		beforeSeq = n
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	bank, err := ParseBank(bankName, "bank")
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fault.New(fault.Unauthenticated, "UNAUTHENTICATED", "missing credentials")
	}
	if !segmentRE.MatchString(lineID) || (isBankRole(p.Role) && p.Scope.Bank != bank) {
		return nil, fault.New(fault.NotFound, "LINE_NOT_FOUND", "credit line %s not found", lineID)
	}
	now := s.clock()
	today := household.Today(now)
	out := &Activity{}
	read := func(tx Reader, record func(l *Line, b lending.Basis) error) error {
		l, err := tx.LineByID(ctx, lineID)
		if err != nil {
			return err
		}
		if l.Bank != bank {
			return fault.New(fault.NotFound, "LINE_NOT_FOUND", "credit line %s not found", lineID)
		}
		if record != nil {
			consents, err := tx.Consents(ctx, l.HouseholdID)
			if err != nil {
				return err
			}
			b, err := lending.LawfulBasis(lending.BasisQuery{Act: lending.ActMonitor, Bank: bank,
				Consents: consentValues(consents), Drawn: l.Drawn, At: now})
			if err != nil {
				return err
			}
			if err := record(l, b); err != nil {
				return err
			}
		}
		d, err := tx.Decision(ctx, l.DecisionID)
		if err != nil {
			return err
		}
		evs, err := tx.LineEventsBefore(ctx, EventQuery{Bank: bank, LineID: l.ID, Before: beforeSeq, Limit: size})
		if err != nil {
			return err
		}
		out.View, out.Events = view(l, d, today), nil
		for _, e := range evs {
			// The line's own events, under the basis just found.
			out.Events = append(out.Events, &Delivery{Event: e})
		}
		return nil
	}
	var household string
	if p.Role == access.Regulator {
		err = s.store.Read(ctx, func(tx Reader) error { return read(tx, nil) })
	} else {
		err = s.store.Write(ctx, func(tx Writer) error {
			return read(tx, func(l *Line, b lending.Basis) error {
				household = l.Household
				return tx.Record(ctx, basisRecord(queryRecord(p, l.Household, bank, l.Product, string(b.Purpose),
					MethodLineActivity, OutcomeAllowed, now), b))
			})
		})
	}
	if isConsentRequired(err) {
		if household == "" {
			household = s.lineHousehold(ctx, lineID)
		}
		return nil, s.denied(ctx, p, household, bank, "", string(lending.PurposePostLoan), MethodLineActivity, err)
	}
	if err != nil {
		return nil, err
	}
	if len(out.Events) == size {
		out.NextToken = paging.Token(scope, strconv.FormatInt(out.Events[len(out.Events)-1].Event.Seq, 10))
	}
	return out, s.explained(ctx, out.View.Decision)
}

// lineHousehold is the household name of a line, for a refusal's record
// ("" when it cannot be read).
func (s *Service) lineHousehold(ctx context.Context, lineID string) string {
	var name string
	_ = s.store.Read(ctx, func(tx Reader) error {
		l, err := tx.LineByID(ctx, lineID)
		if err == nil {
			name = l.Household
		}
		return err
	})
	return name
}

// EventInfo is what a line event says, read from its payload: the line
// right after it and, for a drawdown or repayment, the transaction. A
// withheld event carries the status only.
type EventInfo struct {
	Line         string // the line's resource name
	Limit        decimal.Decimal
	Drawn        decimal.Decimal
	Available    decimal.Decimal
	Status       string
	FreezeReason string
	ValidUntil   string
	// Transaction: set for drawdowns and repayments.
	TransactionID string
	Amount        decimal.Decimal
	Use           string
	Withheld      bool
}

// InfoOf reads an event's payload.
func InfoOf(ev *LineEvent) (EventInfo, error) {
	var b struct {
		eventBody
		Withheld string `json:"withheld"`
	}
	if err := json.Unmarshal(ev.Payload, &b); err != nil {
		return EventInfo{}, fault.Wrap(err, fault.Internal, "EVENT_DECODING", "decoding a stored line event")
	}
	in := EventInfo{Line: b.Line.Name, Status: b.Line.Status, FreezeReason: b.Line.FreezeReason,
		ValidUntil: b.Line.ValidUntil, Withheld: b.Withheld != ""}
	amounts := []struct {
		s string
		d *decimal.Decimal
	}{{b.Line.Limit, &in.Limit}, {b.Line.Drawn, &in.Drawn}, {b.Line.Available, &in.Available}}
	if b.Transaction != nil {
		in.TransactionID, in.Use = b.Transaction.ID, b.Transaction.Use
		amounts = append(amounts, struct {
			s string
			d *decimal.Decimal
		}{b.Transaction.Amount, &in.Amount})
	}
	for _, a := range amounts {
		if a.s == "" {
			continue
		}
		d, err := decimal.NewFromString(a.s)
		if err != nil {
			return EventInfo{}, fault.Wrap(err, fault.Internal, "EVENT_DECODING", "an amount of a stored line event")
		}
		*a.d = d
	}
	return in, nil
}
