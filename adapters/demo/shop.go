package demo

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
	"github.com/sanzhi/sanzhi/scoring/shop"
)

// The 兑换超市 of every demo village: a small goods catalogue, stock
// delivered when the history starts and once more half-way, and the
// history's visits to the counter redeem these goods (replay). Prices are
// whole points, cheap enough for a household with a few months of points.

// demoGood is a good of the demo catalogue and the stock each delivery
// brings.
type demoGood struct {
	code, zh, en, unit string
	price              int64
	first, restock     int64
}

// Five goods: the history draws a good from five (redemptions).
var demoGoods = []demoGood{
	{"rice-2.5kg", "大米 2.5kg", "Rice 2.5 kg", "袋", 10, 30, 20},
	{"oil-1.8l", "菜籽油 1.8L", "Rapeseed oil 1.8 L", "桶", 15, 20, 10},
	{"detergent", "洗衣液", "Laundry detergent", "瓶", 5, 40, 0},
	{"towel", "毛巾", "Towel", "条", 4, 30, 0},
	{"soap", "肥皂", "Soap", "块", 2, 60, 30},
}

// stockGoods creates the village's goods (the same goods again are
// answered with the stored ones) and records a delivery of each, once
// per request id: the first delivery, or with restock the second.
func stockGoods(ctx context.Context, sh *shop.Service, clerk *access.Principal, village string, restock bool) error {
	for _, d := range demoGoods {
		if _, _, err := sh.CreateGood(ctx, clerk, shop.GoodInput{Parent: resource.Village(village), Code: d.code,
			NameZH: d.zh, NameEN: d.en, Unit: d.unit, Price: decimal.NewFromInt(d.price).String()}); err != nil {
			return fmt.Errorf("demo 兑换超市 of %s: good %s: %w", village, d.code, err)
		}
		q, req, note := d.first, "demo-stock-"+village+"-"+d.code+"-1", "首批进货"
		if restock {
			q, req, note = d.restock, "demo-stock-"+village+"-"+d.code+"-2", "补货"
		}
		if q == 0 {
			continue
		}
		if _, _, _, err := sh.RecordArrival(ctx, clerk, shop.ArrivalInput{Good: shop.GoodName(village, d.code), Quantity: q,
			Note: note, RequestID: req}); err != nil {
			return fmt.Errorf("demo 兑换超市 of %s: stock of %s: %w", village, d.code, err)
		}
	}
	return nil
}

// visit is a history redemption on its day: as many of the planned units
// as the household's redeemable points and the shelf allow, none when
// that is nothing (the household comes back another day). It reports
// whether anything was redeemed.
func visit(ctx context.Context, sh *shop.Service, bal points.Balance, clerk *access.Principal, r *redemption) (bool, error) {
	d := demoGoods[r.good]
	g, err := sh.Good(ctx, shop.GoodName(household.VillageOf(r.home.Name()), d.code))
	if err != nil {
		return false, err
	}
	q := min(r.quantity, g.Stock, bal.Redeemable.Div(g.Price).Floor().IntPart())
	if q < 1 {
		return false, nil
	}
	_, err = sh.Redeem(ctx, clerk, shop.RedeemInput{Household: r.home.Name(), Good: d.code, Quantity: q, RequestID: r.req})
	return err == nil, err
}

// seedShops stocks the 兑换超市 of every demo village that has no goods
// yet: a county whose history was written before the shop existed gets
// its goods and first delivery today, without past redemptions.
func seedShops(ctx context.Context, sh *shop.Service, principals []Principal) error {
	for _, v := range Villages {
		goods, err := sh.Goods(ctx, resource.Village(v.Code), true)
		if err != nil {
			return err
		}
		if len(goods) > 0 {
			continue
		}
		var clerk *access.Principal
		for _, p := range principals {
			if p.Name == "demo-clerk-"+v.Slug {
				clerk = &access.Principal{ID: p.ID, Name: p.Name, Role: p.Role, Scope: p.Scope, Demo: true}
			}
		}
		if clerk == nil {
			return fmt.Errorf("demo 兑换超市 of %s: no demo clerk", v.Name)
		}
		if err := stockGoods(ctx, sh, clerk, v.Code, false); err != nil {
			return err
		}
	}
	return nil
}
