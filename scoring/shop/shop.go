// Package shop is a village's 兑换超市 (points exchange shop): its goods
// catalogue with stock, the stock the clerk records arriving, and
// redemption of goods for redeemable points at the counter, each with a
// receipt. A redemption lowers the good's stock and appends a redemption
// to the household's points ledger in one transaction; like every
// redemption it lowers only the redeemable balance, never credit points
// (points.Balances).
//
// The rules are in rules.go; the monthly report in report.go; the
// storage port in store.go; Service (service.go) puts them together.
package shop

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// Good is one line of a village's goods catalogue.
type Good struct {
	Village string
	// Code identifies the good in its village ("rice-5kg"); it never
	// changes, so receipts and reports name goods by it.
	Code string
	// NameZH is the name on the shelf and the receipt (大米 5kg); NameEN
	// is optional.
	NameZH, NameEN string
	// Unit is what one is counted in (袋, 瓶, 块).
	Unit string
	// Price is the points one unit costs: positive, at most the village
	// catalogue's precision in decimal places.
	Price decimal.Decimal
	// Stock is how many units are on the shelf; never below zero.
	Stock int64
	// Archived goods are no longer offered; their receipts stay.
	Archived bool
	// Version counts changes of the catalogue line (name, unit, price,
	// archived), not of the stock: a price edit is not refused because
	// something was redeemed meanwhile.
	Version    int
	CreatedBy  string
	CreateTime time.Time
	UpdateTime time.Time
}

// Name is the good's resource name: villages/{village}/goods/{code}.
func (g *Good) Name() string { return GoodName(g.Village, g.Code) }

// GoodName spells villages/{village}/goods/{code}.
func GoodName(village, code string) string { return resource.Village(village) + "/goods/" + code }

// Arrival is stock the clerk recorded arriving.
type Arrival struct {
	ID       string
	Village  string
	Code     string
	Quantity int64
	Note     string
	// RequestID makes a repeated recording harmless (unique per village).
	RequestID   string
	RequestHash string
	RecordedBy  string
	Time        time.Time
	// Day is the business day (Asia/Shanghai) the stock arrived.
	Day household.Date
	// StockAfter is the good's stock once this arrival was added.
	StockAfter int64
}

// Receipt is one redemption at the counter: what a household took, what it
// cost, and the balance it left. It copies the good's name, unit and price
// as they were, so a later edit does not rewrite a printed receipt.
type Receipt struct {
	ID        string
	Village   string
	Household string
	Code      string
	NameZH    string
	NameEN    string
	Unit      string
	Quantity  int64
	// Price is the unit price then; Points = Price × Quantity, what the
	// ledger's redemption entry spent.
	Price  decimal.Decimal
	Points decimal.Decimal
	// RedeemableAfter is the household's redeemable balance right after.
	RedeemableAfter decimal.Decimal
	// StockAfter is the good's stock right after.
	StockAfter int64
	// EntryID is the ledger entry of the redemption.
	EntryID string
	Note    string
	// RequestID makes a retried redemption harmless (unique per
	// household); RequestHash fingerprints what was asked, so a reused id
	// with other content is refused.
	RequestID   string
	RequestHash string
	// Clerk is the principal id who served the household.
	Clerk string
	Time  time.Time
	// Day is the business day (Asia/Shanghai) of the redemption: the
	// monthly report counts receipts by it.
	Day household.Date
}

// Name is the receipt's resource name:
// villages/{village}/households/{household}/redemptions/{id}.
func (r *Receipt) Name() string {
	return resource.Household(r.Village, r.Household) + "/redemptions/" + r.ID
}

// HouseholdName is the resource name of the receipt's household.
func (r *Receipt) HouseholdName() string { return resource.Household(r.Village, r.Household) }
