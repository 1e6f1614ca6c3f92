package app

import (
	"context"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// The loan officer's views of the bank's lines: the portfolio, the inbox
// of line events, a line's activity and the reviews. Each reads through
// the lending service, which applies the lawful-basis rule and writes
// the query records; these views only add the names people use (户主,
// 村, 组) for the households the service let through. They never carry a
// 身份证号.

// LineRow is one line as the portfolio shows it.
type LineRow struct {
	View     *credit.View
	Name     string // banks/{b}/products/{p}/creditLines/{id}
	HeadName string
	Village  string       // code
	Place    points.Label // the village's name
	Group    int32
}

// Available is what may be drawn today.
func (r LineRow) Available() decimal.Decimal { return r.View.Available() }

// LinesPage is a page of the bank's portfolio.
type LinesPage struct {
	Bank      string
	Today     household.Date
	Rows      []LineRow
	NextToken string
}

// BankLines reads a page of the bank's lines matching f (see
// credit.Service.Portfolio).
func (a *App) BankLines(ctx context.Context, p *access.Principal, bank string, f credit.LineFilter, pageSize int32, token string) (*LinesPage, error) {
	page, err := a.Lending.Portfolio(ctx, p, resource.Bank(bank), f, pageSize, token)
	if err != nil {
		return nil, err
	}
	out := &LinesPage{Bank: bank, Today: household.Today(a.now()), NextToken: page.NextToken}
	n := a.namer()
	for _, v := range page.Views {
		r := LineRow{View: v, Name: credit.LineName(v.Line.Bank, v.Line.Product, v.Line.ID), Village: v.Line.Village}
		if err := n.fill(ctx, v.Line.Village, v.Line.HouseholdID, &r.HeadName, &r.Group, &r.Place); err != nil {
			return nil, err
		}
		out.Rows = append(out.Rows, r)
	}
	return out, nil
}

// namer reads households' and villages' names once per view.
type namer struct {
	a      *App
	heads  map[string]*household.Household
	places map[string]points.Label
}

func (a *App) namer() *namer {
	return &namer{a: a, heads: map[string]*household.Household{}, places: map[string]points.Label{}}
}

// fill sets the household's head name and group and its village's name.
func (n *namer) fill(ctx context.Context, village, hid string, head *string, group *int32, place *points.Label) error {
	name := resource.Household(village, hid)
	h, ok := n.heads[name]
	if !ok {
		var err error
		if h, err = n.a.Households.Get(ctx, name); err != nil {
			return err
		}
		n.heads[name] = h
	}
	*head, *group = h.HeadName, h.Group
	if place == nil {
		return nil
	}
	lb, ok := n.places[village]
	if !ok {
		cat, err := n.a.Catalogues.Effective(ctx, village)
		switch {
		case err == nil:
			lb = cat.Name
		case fault.Is(err, fault.NotFound):
			lb = points.Label{ZH: village, EN: village} // no catalogue: the code
		default:
			return err
		}
		n.places[village] = lb
	}
	*place = lb
	return nil
}

// EventRow is one line event as the inbox and a line's activity show it.
type EventRow struct {
	Event *credit.LineEvent
	Info  credit.EventInfo
	// HeadName is the household's, when the event went whole.
	HeadName string
	Group    int32
}

// Withheld reports whether the bank had no lawful basis for the event's
// household data (only the line and its status are shown).
func (r EventRow) Withheld() bool { return r.Info.Withheld }

// Inbox is a page of the bank's line events, newest first.
type Inbox struct {
	Bank      string
	Rows      []EventRow
	NextToken string
}

// BankInbox reads a page of the bank's line events (see
// credit.Service.Inbox).
func (a *App) BankInbox(ctx context.Context, p *access.Principal, bank string, pageSize int32, token string) (*Inbox, error) {
	page, err := a.Lending.Inbox(ctx, p, resource.Bank(bank), pageSize, token)
	if err != nil {
		return nil, err
	}
	out := &Inbox{Bank: bank, NextToken: page.NextToken}
	rows, err := a.eventRows(ctx, page.Events)
	out.Rows = rows
	return out, err
}

func (a *App) eventRows(ctx context.Context, ds []*credit.Delivery) ([]EventRow, error) {
	n := a.namer()
	var rows []EventRow
	for _, d := range ds {
		in, err := credit.InfoOf(d.Event)
		if err != nil {
			return nil, err
		}
		r := EventRow{Event: d.Event, Info: in}
		if !in.Withheld && d.Event.HouseholdID != "" {
			if err := n.fill(ctx, d.Event.Village, d.Event.HouseholdID, &r.HeadName, &r.Group, nil); err != nil {
				return nil, err
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// LineActivity is a line with its head's name and its history.
type LineActivity struct {
	Bank      string
	Row       LineRow
	Decision  string // the decision's resource name (a review is opened on it)
	Automated bool   // the line rests on the policy's decision, not an override
	Events    []EventRow
	NextToken string
}

// Frozen reports whether the line is frozen now.
func (v *LineActivity) Frozen() bool { return v.Row.View.Status == lending.StatusFrozen }

// BankLineActivity reads the bank's line by id with a page of its
// history (see credit.Service.LineActivity).
func (a *App) BankLineActivity(ctx context.Context, p *access.Principal, bank, lineID string, pageSize int32, token string) (*LineActivity, error) {
	act, err := a.Lending.LineActivity(ctx, p, resource.Bank(bank), lineID, pageSize, token)
	if err != nil {
		return nil, err
	}
	l, d := act.View.Line, act.View.Decision
	out := &LineActivity{Bank: bank, NextToken: act.NextToken,
		Row:       LineRow{View: act.View, Name: credit.LineName(l.Bank, l.Product, l.ID), Village: l.Village},
		Decision:  credit.DecisionName(d.Bank, d.Product, d.ID),
		Automated: d.Kind == credit.Automated}
	n := a.namer()
	if err := n.fill(ctx, l.Village, l.HouseholdID, &out.Row.HeadName, &out.Row.Group, &out.Row.Place); err != nil {
		return nil, err
	}
	// The line's own events, read under the basis the line was.
	for _, e := range act.Events {
		in, err := credit.InfoOf(e.Event)
		if err != nil {
			return nil, err
		}
		out.Events = append(out.Events, EventRow{Event: e.Event, Info: in, HeadName: out.Row.HeadName, Group: out.Row.Group})
	}
	return out, nil
}

// ReviewRow is one review as the bank's list shows it.
type ReviewRow struct {
	Review   *credit.Review
	Name     string // banks/{b}/products/{p}/reviews/{id}
	Product  string
	Decision *credit.Decision
	HeadName string
	Place    points.Label
	Group    int32
	// MineProposal: the reader proposed the override waiting on it (so
	// cannot approve it); MineOpened: the reader opened the review.
	MineProposal, MineOpened bool
}

// Reviews is a page of the bank's reviews, newest first.
type Reviews struct {
	Bank      string
	State     credit.ReviewState
	Rows      []ReviewRow
	NextToken string
}

// BankReviews reads a page of the bank's reviews in state ("" for all)
// across its products (see credit.Service.ListReviews).
func (a *App) BankReviews(ctx context.Context, p *access.Principal, bank string, state credit.ReviewState, pageSize int32, token string) (*Reviews, error) {
	page, err := a.Lending.ListReviews(ctx, p, resource.Bank(bank), state, pageSize, token)
	if err != nil {
		return nil, err
	}
	out := &Reviews{Bank: bank, State: state, NextToken: page.NextToken}
	if len(page.Reviews) == 0 {
		return out, nil
	}
	n := a.namer()
	for _, r := range page.Reviews {
		d := page.Decisions[r.DecisionID]
		row := ReviewRow{Review: r, Decision: d, Product: d.Product, Name: credit.ReviewName(r.Bank, d.Product, r.ID),
			MineProposal: r.ProposedBy != "" && r.ProposedBy == p.ID, MineOpened: r.ByBank && r.RequestedBy == p.ID}
		if err := n.fill(ctx, r.Village, r.HouseholdID, &row.HeadName, &row.Group, &row.Place); err != nil {
			return nil, err
		}
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}
