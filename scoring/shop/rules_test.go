package shop

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// earned is a ledger of one for-credit award of n points on 2026-01-05.
func earned(t *testing.T, n string) []points.Entry {
	t.Helper()
	item := points.Item{Code: "ZZ-01", Domain: points.SelfGovernance, Area: "a", Points: d(n), ValidityMonths: 12, ForCredit: true}
	e, err := points.Post(item, 1, "2026-01-05", "2026-01-05", decimal.Zero)
	require.NoError(t, err)
	e.ID, e.Household = "e1", "h"
	return []points.Entry{e}
}

func rice() *Good {
	return &Good{Village: "330483102201", Code: "rice-5kg", NameZH: "大米 5kg", Unit: "袋", Price: d("20"), Stock: 3}
}

// reasonOf is the fault's reason and the field its violation names.
func reasonOf(t *testing.T, err error) (reason, field, zh string) {
	t.Helper()
	var fe *fault.Error
	require.True(t, errors.As(err, &fe), "a fault: %v", err)
	if len(fe.Violations) > 0 {
		return fe.Reason, fe.Violations[0].Field, fe.Violations[0].ZH
	}
	return fe.Reason, "", ""
}

func TestRedeemRules(t *testing.T) {
	bal := points.Balances(d("100"), earned(t, "50"), "2026-02-01")
	require.Equal(t, "50", bal.Redeemable.String())
	archived := rice()
	archived.Archived = true
	tests := []struct {
		name     string
		g        *Good
		quantity int64
		reason   string
		field    string
		kind     fault.Kind
	}{
		{"zero", rice(), 0, "INVALID_ARGUMENT", "quantity", fault.Invalid},
		{"negative", rice(), -1, "INVALID_ARGUMENT", "quantity", fault.Invalid},
		{"too many at once", rice(), MaxQuantity + 1, "INVALID_ARGUMENT", "quantity", fault.Invalid},
		{"more than the stock", rice(), 4, "INSUFFICIENT_STOCK", "quantity", fault.FailedPrecondition},
		{"more than the balance", &Good{Code: "oil", NameZH: "油", Unit: "桶", Price: d("30"), Stock: 9}, 2, "INSUFFICIENT_POINTS", "quantity", fault.FailedPrecondition},
		{"archived", archived, 1, "GOOD_ARCHIVED", "good", fault.FailedPrecondition},
		{"price finer than the points", &Good{Code: "soap", NameZH: "皂", Unit: "块", Price: d("2.5"), Stock: 9}, 1, "PRICE_PRECISION", "good", fault.FailedPrecondition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Redeem(tt.g, bal, tt.quantity, "2026-02-01", 0)
			require.Error(t, err)
			assert.Equal(t, tt.kind, fault.KindOf(err))
			reason, field, zh := reasonOf(t, err)
			assert.Equal(t, tt.reason, reason)
			assert.Equal(t, tt.field, field)
			assert.NotEmpty(t, zh, "the clerk reads it in zh-CN")
		})
	}

	e, err := Redeem(rice(), bal, 2, "2026-02-01", 0)
	require.NoError(t, err)
	assert.Equal(t, points.Redemption, e.Kind)
	assert.Equal(t, "-40", e.Points.String())
	_, err = Redeem(rice(), bal, 3, "2026-02-01", 0)
	assert.Equal(t, "INSUFFICIENT_POINTS", reason(err), "60 > 50")
}

func TestRedeemMessages(t *testing.T) {
	bal := points.Balances(d("100"), earned(t, "10"), "2026-02-01")
	_, err := Redeem(rice(), bal, 1, "2026-02-01", 0)
	_, _, zh := reasonOf(t, err)
	assert.Equal(t, "1 袋大米 5kg需 20 积分；该户可兑换积分只有 10", zh)
	assert.EqualError(t, err, "1 袋 of rice-5kg cost 20 points; the household has 10 redeemable points")

	_, _, zh = reasonOf(t, InsufficientStock(rice(), 5, 3))
	assert.Equal(t, "大米 5kg库存只剩 3 袋，要兑换 5 袋", zh)
}

// TestRedeemNeverTouchesCredit: for random ledgers and redemptions, what
// Redeem produces leaves credit points, their split and their entries as
// they were and lowers the redeemable balance by exactly the cost; and no
// accepted sequence takes the balance or the stock below zero.
func TestRedeemNeverTouchesCredit(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 3))
	for round := range 200 {
		entries := earned(t, decimal.NewFromInt(int64(rng.IntN(200)+1)).String())
		g := &Good{Code: "g", NameZH: "物", Unit: "个", Price: decimal.New(int64(rng.IntN(2000)+1), -2), Stock: int64(rng.IntN(20))}
		on := household.Date("2026-03-01")
		for range 10 {
			before := points.Balances(d("100"), entries, on)
			q := int64(rng.IntN(5) + 1)
			e, err := Redeem(g, before, q, on, 2)
			if err != nil {
				reason := reason(err)
				require.Contains(t, []string{"INSUFFICIENT_STOCK", "INSUFFICIENT_POINTS"}, reason, "round %d", round)
				if reason == "INSUFFICIENT_STOCK" {
					require.Greater(t, q, g.Stock)
				} else {
					require.True(t, Cost(g.Price, q).GreaterThan(before.Redeemable))
				}
				continue
			}
			e.ID, e.Household = "r"+decimal.NewFromInt(int64(len(entries))).String(), "h"
			require.NoError(t, e.Validate())
			entries = append(entries, e)
			g.Stock -= q
			after := points.Balances(d("100"), entries, on)
			require.True(t, after.Credit.Equal(before.Credit), "credit untouched")
			require.Equal(t, len(before.Entries), len(after.Entries))
			for dom, p := range before.ByDomain {
				require.True(t, p.Equal(after.ByDomain[dom]))
			}
			require.True(t, after.Redeemable.Equal(before.Redeemable.Sub(Cost(g.Price, q))))
			require.GreaterOrEqual(t, after.Redeemable.Sign(), 0, "redeemable never below zero")
			require.GreaterOrEqual(t, g.Stock, int64(0))
		}
	}
}

func TestGoodFields(t *testing.T) {
	var v fault.Violations
	CheckCode(&v, "code", "Rice 5kg")
	CheckCode(&v, "code", "")
	CheckCode(&v, "code", strings.Repeat("a", 33))
	CheckLabels(&v, "", "", strings.Repeat("x", MaxNameEN+1), "袋子袋子袋子袋子袋")
	CheckNote(&v, "note", "户主 11010519491231002X 领取")
	fields := []string{}
	for _, x := range v {
		fields = append(fields, x.Field)
		assert.NotEmpty(t, x.ZH, x.Field)
	}
	assert.Equal(t, []string{"code", "code", "code", "name_zh", "name_en", "unit", "note"}, fields)
	assert.NotContains(t, v[6].Description, "11010519491231002X", "never repeats the number")

	v = nil
	CheckCode(&v, "code", "rice-5kg")
	CheckLabels(&v, "", "大米 5kg", "Rice 5 kg", "袋")
	assert.Empty(t, v)
}

func TestParsePrice(t *testing.T) {
	tests := []struct {
		in        string
		precision int32
		want      string // "" when refused
		reason    string
	}{
		{"20", 0, "20", ""},
		{" 2.5 ", 1, "2.5", ""},
		{"2.50", 1, "2.5", ""},
		{"0", 0, "", "PRICE"},
		{"-3", 0, "", "PRICE"},
		{"1e3", 0, "", "PRICE"},
		{"abc", 0, "", "PRICE"},
		{"100001", 0, "", "PRICE"},
		{"2.5", 0, "", "PRICE_PRECISION"},
		{"0.001", 2, "", "PRICE_PRECISION"},
		{"", 0, "", "REQUIRED"},
	}
	for _, tt := range tests {
		var v fault.Violations
		got := ParsePrice(&v, "price", tt.in, tt.precision)
		if tt.want == "" {
			require.Len(t, v, 1, tt.in)
			assert.Equal(t, tt.reason, v[0].Reason, tt.in)
			continue
		}
		assert.Empty(t, v, tt.in)
		assert.True(t, got.Equal(d(tt.want)), "%s: got %s", tt.in, got)
	}
}

func TestArrive(t *testing.T) {
	g := rice()
	require.NoError(t, Arrive(g, 10))
	assert.Equal(t, fault.Invalid, fault.KindOf(Arrive(g, 0)))
	assert.Equal(t, fault.Invalid, fault.KindOf(Arrive(g, MaxArrival+1)))
	g.Stock = MaxStock - 5
	assert.Equal(t, "STOCK_LIMIT", reason(Arrive(g, 6)))
	require.NoError(t, Arrive(g, 5))
	g.Archived = true
	assert.Equal(t, "GOOD_ARCHIVED", reason(Arrive(g, 1)))
}

func TestParseNames(t *testing.T) {
	v, c, err := ParseGoodName("villages/330483102201/goods/rice-5kg", "name")
	require.NoError(t, err)
	assert.Equal(t, "330483102201", v)
	assert.Equal(t, "rice-5kg", c)
	for _, bad := range []string{"villages/330483102201/goods/Rice", "villages/12/goods/rice", "villages/330483102201/good/rice", "rice"} {
		_, _, err := ParseGoodName(bad, "name")
		assert.Equal(t, fault.Invalid, fault.KindOf(err), bad)
	}
	name := "villages/330483102201/households/0190a8f0-0000-7000-8000-000000000001/redemptions/0190a8f0-0000-7000-8000-000000000002"
	v, h, id, err := ParseReceiptName(name, "name")
	require.NoError(t, err)
	assert.Equal(t, []string{"330483102201", "0190a8f0-0000-7000-8000-000000000001", "0190a8f0-0000-7000-8000-000000000002"}, []string{v, h, id})
	r := &Receipt{Village: v, Household: h, ID: id}
	assert.Equal(t, name, r.Name())
	_, _, _, err = ParseReceiptName("villages/330483102201/households/0190a8f0-0000-7000-8000-000000000001/redemptions/x", "name")
	assert.Equal(t, fault.Invalid, fault.KindOf(err))
}

func reason(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return ""
}
