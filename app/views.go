package app

import (
	"context"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/paging"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// The views below put together what a person reads on one page (the
// console's, a printed sheet's): names and labels instead of ids and codes.
// They read through the services and decide nothing; authorisation is the
// caller's, as for any service call.

// maxViewRows bounds what one view reads: a village's board or a
// household's history is far below it.
const maxViewRows = 5000

// Notice is one entry on the 公示 board, as villagers read it.
type Notice struct {
	Evidence *evidence.Evidence
	// HeadName, Group and Address say whose household it is in words the
	// village uses (户主, 村民小组, 门牌).
	HeadName string
	Group    int32
	Address  string
	// Item is the catalogue item of a points entry (its label and unit);
	// zero for other kinds.
	Item points.Item
	// Points is what the entry asks for: quantity × the item's points
	// (the annual cap may post less).
	Points   decimal.Decimal
	Disputed bool
}

// NoticeBoard is a village's 公示 board on Today.
type NoticeBoard struct {
	Village string
	Name    points.Label // the village's name (the catalogue's)
	Today   household.Date
	// NoticeDays is how long an entry stays on notice (the catalogue's).
	NoticeDays int
	Notices    []Notice
}

// buildNoticeBoard reads the village's board (see NoticeBoard).
func (a *App) buildNoticeBoard(ctx context.Context, village string) (*NoticeBoard, error) {
	cat, err := a.Catalogues.Effective(ctx, village)
	if err != nil {
		return nil, err
	}
	b := &NoticeBoard{Village: village, Name: cat.Name, NoticeDays: cat.PublicNoticeDays}
	var all []*evidence.Evidence
	token := ""
	for len(all) < maxViewRows {
		page, today, err := a.Evidence.Board(ctx, resource.Village(village), paging.MaxSize, token)
		if err != nil {
			return nil, err
		}
		b.Today = today
		all = append(all, page.Evidence...)
		if token = page.NextToken; token == "" {
			break
		}
	}
	heads, err := a.heads(ctx, village, all)
	if err != nil {
		return nil, err
	}
	for i := len(all) - 1; i >= 0; i-- { // the store lists newest first
		n, err := a.notice(ctx, all[i], cat, heads)
		if err != nil {
			return nil, err
		}
		b.Notices = append(b.Notices, n)
	}
	return b, nil
}

// heads reads the households the evidence is about: one by one when they
// are few, else the village's whole list a page of paging.MaxSize at a
// time (a board names a large share of a village; one read per entry
// made the board of 南阳村 take 80 ms).
func (a *App) heads(ctx context.Context, village string, evs []*evidence.Evidence) (map[string]*household.Household, error) {
	want := map[string]bool{}
	for _, e := range evs {
		want[e.Household] = true
	}
	heads := make(map[string]*household.Household, len(want))
	if len(want) <= 8 {
		return heads, nil // notice() reads each on first use
	}
	token := ""
	for {
		page, err := a.Households.ListHeads(ctx, resource.Village(village), 0, paging.MaxSize, token)
		if err != nil {
			return nil, err
		}
		for _, h := range page.Items {
			if want[h.ID] {
				heads[h.ID] = h
			}
		}
		if token = page.NextToken; token == "" || len(heads) == len(want) {
			return heads, nil
		}
	}
}

func (a *App) notice(ctx context.Context, e *evidence.Evidence, cat *points.Catalogue, heads map[string]*household.Household) (Notice, error) {
	h := heads[e.Household]
	if h == nil {
		var err error
		if h, err = a.Households.Get(ctx, e.HouseholdName()); err != nil {
			return Notice{}, err
		}
		heads[e.Household] = h
	}
	n := Notice{Evidence: e, HeadName: h.HeadName, Group: h.Group, Address: h.Address, Disputed: e.State == evidence.Disputed}
	if e.Kind == evidence.Points {
		n.Item = cat.Items[e.ItemCode]
		n.Points = n.Item.Points.Mul(decimal.NewFromInt32(e.Quantity))
	}
	return n, nil
}

// AreaPoints is a household's points in one area (领域) of its catalogue.
type AreaPoints struct {
	Area   points.Area
	Points decimal.Decimal
}

// CardEntry is one line of a household's points history.
type CardEntry struct {
	Entry points.Entry
	Item  points.Item
}

// ReportCard is a household's 成绩单: its points today by area with the
// entries behind them, what is on notice about it now, and its standing.
type ReportCard struct {
	Household *household.Household
	Balance   points.Balance
	Areas     []AreaPoints
	Entries   []CardEntry
	OnNotice  []Notice
	Standing  evidence.Standing
}

// ReportCard reads the 成绩单 of the household named hh
// (villages/…/households/…) as of today.
func (a *App) ReportCard(ctx context.Context, hh string) (*ReportCard, error) {
	h, err := a.Households.Get(ctx, hh)
	if err != nil {
		return nil, err
	}
	cat, err := a.Catalogues.Effective(ctx, h.Village)
	if err != nil {
		return nil, err
	}
	bal, err := a.Evidence.Points(ctx, hh, "")
	if err != nil {
		return nil, err
	}
	st, err := a.Evidence.Standing(ctx, hh, string(bal.AsOf))
	if err != nil {
		return nil, err
	}
	c := &ReportCard{Household: h, Balance: bal, Standing: st}
	for _, ar := range cat.Areas {
		c.Areas = append(c.Areas, AreaPoints{Area: ar, Points: bal.ByArea[ar.Code]})
	}
	for i := len(bal.Entries) - 1; i >= 0; i-- { // newest first
		e := bal.Entries[i]
		c.Entries = append(c.Entries, CardEntry{Entry: e, Item: cat.Items[e.ItemCode]})
	}
	heads := map[string]*household.Household{h.ID: h}
	for _, state := range []evidence.State{evidence.Posted, evidence.Disputed} {
		page, err := a.Evidence.List(ctx, evidence.Filter{Parent: hh, State: state}, 0, "")
		if err != nil {
			return nil, err
		}
		for _, e := range page.Evidence {
			if e.State == evidence.Posted && e.Phase(bal.AsOf) != evidence.OnNotice {
				continue
			}
			n, err := a.notice(ctx, e, cat, heads)
			if err != nil {
				return nil, err
			}
			c.OnNotice = append(c.OnNotice, n)
		}
	}
	return c, nil
}
