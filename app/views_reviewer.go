package app

import (
	"context"
	"sort"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/paging"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// The reviewer's views: the queue of evidence awaiting review, the
// objections awaiting resolution, and the quarterly ranking with the
// 红黑榜, each in the words the village uses.

// Queued is one piece of evidence awaiting a reviewer's decision.
type Queued struct {
	Notice
	// Objector says who objected to disputed evidence: the objecting
	// household's 户主 name, or a staff member's name when staff recorded
	// a villager's objection. Empty for evidence awaiting review.
	Objector string
	// ObjectorIsHousehold is true when Objector is a household's head.
	ObjectorIsHousehold bool
}

// ReviewQueue is a village's evidence in one state, oldest first.
type ReviewQueue struct {
	Village string
	Name    points.Label // the village's name (the catalogue's)
	Today   household.Date
	Items   []Queued
}

// PendingReview reads the village's evidence awaiting review, oldest
// first. NotFound when the village has no catalogue.
func (a *App) PendingReview(ctx context.Context, village string) (*ReviewQueue, error) {
	return a.reviewQueue(ctx, village, evidence.PendingReview)
}

// Objections reads the village's disputed evidence with who objected,
// oldest first. NotFound when the village has no catalogue.
func (a *App) Objections(ctx context.Context, village string) (*ReviewQueue, error) {
	q, err := a.reviewQueue(ctx, village, evidence.Disputed)
	if err != nil || len(q.Items) == 0 {
		return q, err
	}
	// Objections are few and principals a village's handful: one read
	// names every objector.
	ps, err := a.Store.Principals().ListPrincipals(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*access.Principal, len(ps))
	for _, p := range ps {
		byID[p.ID] = p
	}
	for i := range q.Items {
		it := &q.Items[i]
		p := byID[it.Evidence.ObjectedBy]
		switch {
		case p == nil:
			// An objector no longer known stays anonymous rather than an id.
		case p.Role == access.Household:
			h, err := a.Households.Get(ctx, resource.Household(village, p.Scope.Household))
			if err != nil {
				return nil, err
			}
			it.Objector, it.ObjectorIsHousehold = h.HeadName, true
		default:
			it.Objector = p.Name
		}
	}
	return q, nil
}

func (a *App) reviewQueue(ctx context.Context, village string, state evidence.State) (*ReviewQueue, error) {
	cat, err := a.Catalogues.Effective(ctx, village)
	if err != nil {
		return nil, err
	}
	q := &ReviewQueue{Village: village, Name: cat.Name, Today: a.Evidence.Today()}
	all, err := a.allEvidence(ctx, evidence.Filter{Parent: resource.Village(village), State: state})
	if err != nil {
		return nil, err
	}
	heads := map[string]*household.Household{}
	for i := len(all) - 1; i >= 0; i-- { // the store lists newest first
		n, err := a.notice(ctx, all[i], cat, heads)
		if err != nil {
			return nil, err
		}
		q.Items = append(q.Items, Queued{Notice: n})
	}
	return q, nil
}

// allEvidence reads every page of f, up to maxViewRows.
func (a *App) allEvidence(ctx context.Context, f evidence.Filter) ([]*evidence.Evidence, error) {
	var all []*evidence.Evidence
	token := ""
	for len(all) < maxViewRows {
		page, err := a.Evidence.List(ctx, f, paging.MaxSize, token)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Evidence...)
		if token = page.NextToken; token == "" {
			break
		}
	}
	return all, nil
}

// RankLine is one household in the quarterly ranking.
type RankLine struct {
	evidence.RankRow
	Address string // 门牌
}

// Listing is one 红榜 or 黑榜 listing of a household.
type Listing struct {
	Notice
	// OnNotice is true while the listing is still on 公示 and not yet
	// live (it counts from NoticeEnd).
	OnNotice bool
	// LastDay is the last day the listing counts (ValidUntil is
	// exclusive); empty when it has no end.
	LastDay household.Date
}

// RankingView is a village's quarterly 排名 with its 红黑榜 today.
type RankingView struct {
	Ranking evidence.Ranking
	Name    points.Label // the village's name (the catalogue's)
	Today   household.Date
	Lines   []RankLine
	// Red and Black are the live listings and those on notice, oldest
	// first.
	Red, Black []Listing
}

// VillageRanking reads the village's ranking for quarter ("2026Q4") and its
// red and black lists as of today. Invalid (field "quarter") for a
// malformed or future quarter; NotFound when the village has no catalogue.
func (a *App) VillageRanking(ctx context.Context, village, quarter string) (*RankingView, error) {
	cat, err := a.Catalogues.Effective(ctx, village)
	if err != nil {
		return nil, err
	}
	r, err := a.Evidence.Ranking(ctx, resource.Village(village), quarter)
	if err != nil {
		return nil, err
	}
	v := &RankingView{Ranking: r, Name: cat.Name, Today: a.Evidence.Today()}
	heads := map[string]*household.Household{}
	for _, row := range r.Rows {
		h, err := a.Households.Get(ctx, resource.Household(village, row.Household))
		if err != nil {
			return nil, err
		}
		heads[h.ID] = h
		v.Lines = append(v.Lines, RankLine{RankRow: row, Address: h.Address})
	}
	for _, k := range []evidence.Kind{evidence.RedList, evidence.BlackList} {
		// Posted listings are live or on notice; a listing revoked today
		// still counts until the day ends (StandingOf decides).
		var list []*evidence.Evidence
		for _, st := range []evidence.State{evidence.Posted, evidence.Revoked} {
			l, err := a.allEvidence(ctx, evidence.Filter{Parent: resource.Village(village), Kind: k, State: st})
			if err != nil {
				return nil, err
			}
			list = append(list, l...)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID }) // UUIDv7: oldest first
		live := map[string]bool{}
		st := evidence.StandingOf(list, v.Today)
		for _, e := range append(st.RedList, st.BlackList...) {
			live[e.ID] = true
		}
		for _, e := range list {
			onNotice := e.Phase(v.Today) == evidence.OnNotice
			if !live[e.ID] && !onNotice {
				continue
			}
			n, err := a.notice(ctx, e, cat, heads)
			if err != nil {
				return nil, err
			}
			l := Listing{Notice: n, OnNotice: onNotice}
			if e.ValidUntil != "" {
				l.LastDay = points.AddDays(e.ValidUntil, -1)
			}
			if k == evidence.RedList {
				v.Red = append(v.Red, l)
			} else {
				v.Black = append(v.Black, l)
			}
		}
	}
	return v, nil
}
