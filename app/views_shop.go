package app

import (
	"context"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
	"github.com/sanzhi/sanzhi/scoring/shop"
)

// The 兑换超市 as its pages show it: households by their head's name,
// the village by its name, the clerk by name, and the balances the
// counter needs beside the goods.

// ShopCounter is the clerk's counter for one household: who it is, what
// it may spend, and the goods on offer.
type ShopCounter struct {
	Household *household.Household
	Balance   points.Balance
	Goods     []*shop.Good
}

// ShopCounter reads the counter of household hid of village.
func (a *App) ShopCounter(ctx context.Context, village, hid string) (*ShopCounter, error) {
	name := resource.Household(village, hid)
	h, err := a.Households.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	bal, err := a.Evidence.Points(ctx, name, "")
	if err != nil {
		return nil, err
	}
	goods, err := a.Shop.Goods(ctx, resource.Village(village), false)
	if err != nil {
		return nil, err
	}
	return &ShopCounter{Household: h, Balance: bal, Goods: goods}, nil
}

// ReceiptView is a receipt as printed: the household, the village's name
// and the clerk's.
type ReceiptView struct {
	Receipt   *shop.Receipt
	Household *household.Household
	Place     points.Label
	ClerkName string
}

// ShopReceipt reads the receipt named
// villages/{v}/households/{h}/redemptions/{id}.
func (a *App) ShopReceipt(ctx context.Context, name string) (*ReceiptView, error) {
	r, err := a.Shop.Receipt(ctx, name)
	if err != nil {
		return nil, err
	}
	h, err := a.Households.Get(ctx, r.HouseholdName())
	if err != nil {
		return nil, err
	}
	names, err := a.names(ctx)
	if err != nil {
		return nil, err
	}
	v := &ReceiptView{Receipt: r, Household: h, ClerkName: names(r.Clerk)}
	n := a.namer()
	var head string
	var group int32
	if err := n.fill(ctx, r.Village, r.Household, &head, &group, &v.Place); err != nil {
		return nil, err
	}
	return v, nil
}

// ReceiptRow is a receipt in a list, with its household's head.
type ReceiptRow struct {
	Receipt  *shop.Receipt
	HeadName string
	Group    int32
}

// ShopReceipts is a page of receipts, newest first.
type ShopReceipts struct {
	Rows      []ReceiptRow
	NextToken string
}

// ShopReceipts reads a page of the receipts of parent (a village or a
// household) in month ("" for all), each with its household's head.
func (a *App) ShopReceipts(ctx context.Context, parent, month string, pageSize int32, token string) (*ShopReceipts, error) {
	page, err := a.Shop.Receipts(ctx, parent, month, pageSize, token)
	if err != nil {
		return nil, err
	}
	out := &ShopReceipts{NextToken: page.NextToken}
	n := a.namer()
	for _, r := range page.Receipts {
		row := ReceiptRow{Receipt: r}
		err := n.fill(ctx, r.Village, r.Household, &row.HeadName, &row.Group, nil)
		if err != nil && !fault.Is(err, fault.NotFound) {
			return nil, err
		}
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}
