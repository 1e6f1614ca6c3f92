package app

import (
	"context"
	"strings"

	"github.com/sanzhi/sanzhi/paging"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// HouseholdQuery is what a clerk searches a village's register by, in the
// words of the village: part of the head's name, the group, part of the
// 门牌. Empty fields match everything.
type HouseholdQuery struct {
	Name    string
	Group   int32 // 0 = every group
	Address string
}

// MaxFound bounds a search's answer: a clerk refines a search that finds
// more rather than reading a longer list.
const MaxFound = 200

// FindHouseholds returns the village's households matching q, in
// registration order, at most MaxFound, and whether more matched. The store
// filters by group only, so name and address are matched here over at most
// maxViewRows households (far above a village's size). Errors as
// household.Service.List.
func (a *App) FindHouseholds(ctx context.Context, village string, q HouseholdQuery) ([]*household.Household, bool, error) {
	name, addr := strings.TrimSpace(q.Name), strings.TrimSpace(q.Address)
	var found []*household.Household
	token := ""
	for read := 0; read < maxViewRows; {
		page, err := a.Households.ListHeads(ctx, resource.Village(village), q.Group, paging.MaxSize, token)
		if err != nil {
			return nil, false, err
		}
		read += len(page.Items)
		for _, h := range page.Items {
			if !strings.Contains(h.HeadName, name) || !strings.Contains(h.Address, addr) {
				continue
			}
			if len(found) == MaxFound {
				return found, true, nil
			}
			found = append(found, h)
		}
		if token = page.NextToken; token == "" {
			break
		}
	}
	return found, false, nil
}

// AreaItems is one area (领域) of a catalogue with its items in display
// order.
type AreaItems struct {
	Area  points.Area
	Items []points.Item
}

// CatalogueView is a village's effective catalogue as people read it:
// items grouped by area, in the documents' order.
type CatalogueView struct {
	Catalogue *points.Catalogue
	Areas     []AreaItems
}

// CatalogueByArea reads the village's effective catalogue (county base and
// village changes merged). NotFound when the village has none.
func (a *App) CatalogueByArea(ctx context.Context, village string) (*CatalogueView, error) {
	cat, err := a.Catalogues.Effective(ctx, village)
	if err != nil {
		return nil, err
	}
	v := &CatalogueView{Catalogue: cat}
	at := map[string]int{}
	for _, ar := range cat.Areas {
		at[ar.Code] = len(v.Areas)
		v.Areas = append(v.Areas, AreaItems{Area: ar})
	}
	for _, code := range cat.Codes() {
		it := cat.Items[code]
		i, ok := at[it.Area]
		if !ok { // every item names one of the areas; keep any that does not
			at[it.Area] = len(v.Areas)
			i = len(v.Areas)
			v.Areas = append(v.Areas, AreaItems{Area: points.Area{Code: it.Area, Label: points.Label{ZH: it.Area, EN: it.Area}}})
		}
		v.Areas[i].Items = append(v.Areas[i].Items, it)
	}
	return v, nil
}
