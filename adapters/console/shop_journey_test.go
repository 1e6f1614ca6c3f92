package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/shop"
)

// TestShopJourney: on a phone, a clerk stocks the 兑换超市 (a new good, a
// delivery), serves a household at the counter (asking for more than the
// stock first, refused next to the quantity), prints its receipt and reads
// the month's report; then the household reads its receipts on its own
// phone. Under make photos it photographs the pages into docs/console.
func TestShopJourney(t *testing.T) {
	t.Parallel() // make test runs two journeys at a time (-parallel 2)
	skipUnderRace(t)
	storetest.Engine(t, storetest.SQLite, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		village, id, err := household.ParseName(e.hh, "hh")
		require.NoError(t, err)
		h, err := e.app.Households.Get(ctx, e.hh)
		require.NoError(t, err)
		earn(t, e, h, "50")
		tb := newTab(t)
		step, text := tb.step, tb.text
		shot := tb.phonePhoto
		set := func(sel, v string) chromedp.Action[chromedp.Void] { return chromedp.SetValue(chromedp.CSS(sel), v) }
		shopURL := e.srv.URL + "/console/villages/" + village + "/shop"

		step("on a phone", chromedp.EmulateViewport(360, 780))
		tb.firstSignIn(e.srv.URL+"/console", "clerk-a")
		step("the board", chromedp.WaitVisible(chromedp.CSS("table.stack")))

		// Stock the shop: a good, then its delivery.
		step("the shop", chromedp.Click(chromedp.CSS(`nav a[href$="/shop"]`)), chromedp.WaitVisible(chromedp.CSS("#add-good")))
		step("add rice", set("#f-code", "rice-2.5kg"), set("#f-name_zh", "大米 2.5kg"), set("#f-name_en", "Rice 2.5 kg"),
			set("#f-unit", "袋"), set("#f-price", "20"), chromedp.Click(chromedp.CSS("#add-good")), chromedp.WaitVisible(chromedp.CSS("#done")))
		assert.Contains(t, text("#done"), "物品已添加")
		step("add soap", set("#f-code", "soap"), set("#f-name_zh", "肥皂"), set("#f-unit", "块"), set("#f-price", "2"),
			chromedp.Click(chromedp.CSS("#add-good")), chromedp.WaitVisible(chromedp.CSS("#good-soap")))
		step("the rice", chromedp.Click(chromedp.CSS(`#good-rice-2\.5kg a`)), chromedp.WaitVisible(chromedp.CSS("#arrive")))
		step("a delivery", set("#f-quantity", "3"), set("#f-note", "送货单 0311"), chromedp.Click(chromedp.CSS("#arrive")),
			chromedp.WaitVisible(chromedp.CSS("#done")))
		assert.Contains(t, text("#stock"), "3 袋")
		shot("shop-good")
		step("back to the goods", chromedp.Navigate(shopURL), chromedp.WaitVisible(chromedp.CSS("#goods")))
		assert.Contains(t, text("#goods"), "大米 2.5kg")
		shot("shop-goods")

		// The counter, from the household's page.
		step("the household", chromedp.Navigate(e.srv.URL+"/console/villages/"+village+"/households/"+id),
			chromedp.WaitVisible(chromedp.CSS("#shop")))
		step("the counter", chromedp.Click(chromedp.CSS("#shop")), chromedp.WaitVisible(chromedp.CSS("#redeem")))
		assert.Equal(t, "50", strings.TrimSpace(text("#redeemable")))
		step("more than the stock", set("#f-good", "rice-2.5kg"), set("#f-quantity", "4"), chromedp.Click(chromedp.CSS("#redeem")),
			chromedp.WaitVisible(chromedp.CSS("#quantity-error")))
		assert.Equal(t, "大米 2.5kg库存只剩 3 袋，要兑换 4 袋", text("#quantity-error"))
		shot("shop-counter-refused")
		g, err := e.app.Shop.Good(ctx, shop.GoodName(village, "rice-2.5kg"))
		require.NoError(t, err)
		assert.Equal(t, int64(3), g.Stock, "nothing taken")
		step("two bags", set("#f-quantity", "2"), set("#f-note", "春节"), chromedp.Click(chromedp.CSS("#redeem")),
			chromedp.WaitVisible(chromedp.CSS("#receipt")))
		assert.Contains(t, text("#done"), "兑换成功")
		assert.Contains(t, text("#receipt-household"), e.hhHead)
		assert.Equal(t, "40 分", text("#receipt-points"))
		assert.Equal(t, "10 分", text("#receipt-after"))
		shot("shop-receipt")
		g, err = e.app.Shop.Good(ctx, shop.GoodName(village, "rice-2.5kg"))
		require.NoError(t, err)
		assert.Equal(t, int64(1), g.Stock)

		// The month's report.
		step("the report", chromedp.Navigate(shopURL), chromedp.WaitVisible(chromedp.CSS("#report")),
			chromedp.Click(chromedp.CSS("#report")), chromedp.WaitVisible(chromedp.CSS("#report-table")))
		assert.Equal(t, "40", text("#report-points"))
		shot("shop-report")

		// The household, on its own phone.
		hb := newTab(t)
		hb.step("the household signs in", chromedp.EmulateViewport(360, 780), chromedp.Navigate(e.srv.URL+"/console/signin"),
			chromedp.WaitVisible(chromedp.CSS("#code")), chromedp.SendKeys(chromedp.CSS("#code"), strings.ToLower(e.code)),
			chromedp.Submit(chromedp.CSS("#code")), chromedp.WaitVisible(chromedp.CSS("#credit")))
		hb.step("my redemptions", chromedp.Click(chromedp.CSS(`nav a[href="/console/me/shop"]`)),
			chromedp.WaitVisible(chromedp.CSS("#receipt-list")))
		assert.Contains(t, hb.text("#receipt-list"), "大米 2.5kg")
		assert.Equal(t, "10", strings.TrimSpace(hb.text("#redeemable")))
		hb.phonePhoto("hh-shop")
		hb.step("the receipt", chromedp.Click(chromedp.CSS(`#receipt-list a`)), chromedp.WaitVisible(chromedp.CSS("#receipt")))
		assert.Equal(t, "40 分", hb.text("#receipt-points"))
	})
}
