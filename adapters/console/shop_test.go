package console_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
	"github.com/sanzhi/sanzhi/scoring/shop"
)

// earn posts an award of pts to the household's ledger, effective a month
// ago: points it may spend today. (Through the evidence workflow they
// would take the 7 days of 公示 this test cannot wait for.)
func earn(t *testing.T, e *env, h *household.Household, pts string) {
	t.Helper()
	ctx := context.Background()
	day := household.Today(time.Now().AddDate(0, -1, 0))
	p := decimal.RequireFromString(pts)
	id := uuid.NewString()
	entry := points.Entry{ID: id, Household: h.ID, EvidenceID: "ev-" + id, ItemCode: "ZZ-MS-05", Domain: points.SelfGovernance,
		Area: "minsheng", Kind: points.Award, Quantity: 1, Requested: p, Points: p, Capped: decimal.Zero,
		OccurredOn: day, EffectiveOn: day, ValidUntil: points.AddMonths(day, 12), ForCredit: true}
	require.NoError(t, e.st.Evidence().Write(ctx, func(tx evidence.Writer) error {
		sh, err := tx.Sheet(ctx, h.ID)
		if err != nil {
			return err
		}
		sh.Village = h.Village
		sh.Entries = append(sh.Entries, entry)
		return tx.AppendEntries(ctx, sh, []points.Entry{entry})
	}))
}

// staffClient signs in a principal made here (a bank's officer).
func staffClient(t *testing.T, e *env, name string, role access.Role, scope access.Scope) *client {
	t.Helper()
	p := hhPrincipal(t, e, name, role, scope)
	require.NoError(t, e.app.SignIn.SetPassword(context.Background(), e.staff["op-1"], p.Name, password))
	c := e.client(t)
	c.signIn(name)
	return c
}

// shopState is everything a shop page could write: the village's goods
// and stock, its receipts, the households' points sheets and the audit
// records waiting to be sequenced.
func shopState(t *testing.T, e *env, hs ...*household.Household) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	goods, err := e.app.Shop.Goods(ctx, resource.Village(villageA), true)
	require.NoError(t, err)
	for _, g := range goods {
		fmt.Fprintf(&b, "%s %s %d %v\n", g.Code, g.Price, g.Stock, g.Archived)
	}
	page, err := e.app.Shop.Receipts(ctx, resource.Village(villageA), "", 1000, "")
	require.NoError(t, err)
	fmt.Fprintf(&b, "receipts %d\n", len(page.Receipts))
	for _, h := range hs {
		sh, err := e.st.Evidence().HouseholdSheet(ctx, h.Village, h.ID)
		require.NoError(t, err)
		fmt.Fprintf(&b, "%s v%d\n", h.ID, sh.Version)
	}
	n, err := e.st.QueueLength(ctx)
	require.NoError(t, err)
	fmt.Fprintf(&b, "audit %d\n", n)
	return b.String()
}

var errorOf = func(field string) *regexp.Regexp {
	return regexp.MustCompile(`id="` + field + `-error" role="alert">([^<]*)<`)
}

// fieldError is the message shown next to field, "" when none.
func fieldError(body, field string) string {
	m := errorOf(field).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func TestShopPages(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		c := e.client(t)
		c.signIn("clerk-a")
		shopPath := "/console/villages/" + villageA + "/shop"
		tok := c.csrf(shopPath)

		// A new good: bad fields, each message next to its field, nothing stored.
		status, _, body := c.post(shopPath+"/goods", url.Values{"csrf": {tok}, "code": {"Rice 2.5"}, "name_zh": {"大米"},
			"unit": {"袋"}, "price": {"0"}, "request_id": {"console-aaaaaaaaaaaaaaaaaaaaaa"}})
		require.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, fieldError(body, "code"), "不是有效的物品编码")
		assert.Contains(t, fieldError(body, "price"), "积分价须大于 0")
		assert.Equal(t, "Rice 2.5", regexp.MustCompile(`id="f-code" name="code" value="([^"]*)"`).FindStringSubmatch(body)[1], "kept for correction")
		goods, err := e.app.Shop.Goods(ctx, resource.Village(villageA), true)
		require.NoError(t, err)
		assert.Empty(t, goods)
		status, loc, _ := c.post(shopPath+"/goods", url.Values{"csrf": {tok}, "code": {"rice-2.5kg"}, "name_zh": {"大米 2.5kg"},
			"name_en": {"Rice 2.5 kg"}, "unit": {"袋"}, "price": {"20"}})
		require.Equal(t, http.StatusSeeOther, status)
		assert.Equal(t, shopPath+"?done=created", loc)
		status, _, body = c.post(shopPath+"/goods", url.Values{"csrf": {tok}, "code": {"rice-2.5kg"}, "name_zh": {"香米"},
			"unit": {"袋"}, "price": {"30"}})
		require.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, fieldError(body, "code"), "这个编码已有别的物品在用")
		status, _, body = c.get(shopPath + "?done=created")
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, "物品已添加")
		assert.Contains(t, body, "大米 2.5kg")
		assert.Contains(t, body, `<td class="num stock" data-label="库存">0 袋</td>`)

		// A delivery: a bad quantity, then 3 (the same form sent twice adds once).
		good := shopPath + "/goods/rice-2.5kg"
		status, _, body = c.post(good+"/arrivals", url.Values{"csrf": {tok}, "quantity": {"三"}})
		require.Equal(t, http.StatusBadRequest, status)
		assert.Equal(t, "请填一个整数。", fieldError(body, "quantity"))
		status, _, body = c.post(good+"/arrivals", url.Values{"csrf": {tok}, "quantity": {"0"}})
		require.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, fieldError(body, "quantity"), "数量至少为 1")
		arrival := url.Values{"csrf": {tok}, "quantity": {"3"}, "note": {"送货单 17"}, "request_id": {"console-bbbbbbbbbbbbbbbbbbbbbb"}}
		for range 2 {
			status, loc, _ = c.post(good+"/arrivals", arrival)
			require.Equal(t, http.StatusSeeOther, status)
			assert.Equal(t, good+"?done=arrived", loc)
		}
		_, _, body = c.get(good + "?done=arrived")
		assert.Contains(t, body, `id="stock">3 袋<`)
		assert.Contains(t, body, "到货已登记")

		// The counter: a household with 50 redeemable points.
		h, _ := registered(t, e, "沈阿毛", 3, "南阳村3组31号")
		other, _ := registered(t, e, "沈阿狗", 3, "南阳村3组32号")
		earn(t, e, h, "50")
		counter := hhPath(h) + "/redeem"
		status, _, body = c.get(hhPath(h))
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, `id="shop" href="`+counter+`"`, "the household's page leads to the counter")
		status, _, body = c.get(counter)
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, `id="redeemable">50<`)
		assert.Contains(t, body, "大米 2.5kg · 20 分/袋 · 库存 3 袋")
		assert.Contains(t, body, "信用积分 150 不受兑换影响")

		before := shopState(t, e, h, other)
		for _, tc := range []struct {
			form  url.Values
			field string
			want  string
		}{
			{url.Values{"good": {"rice-2.5kg"}, "quantity": {"4"}}, "quantity", "大米 2.5kg库存只剩 3 袋，要兑换 4 袋"},
			{url.Values{"good": {"rice-2.5kg"}, "quantity": {"3"}}, "quantity", "3 袋大米 2.5kg需 60 积分；该户可兑换积分只有 50"},
			{url.Values{"good": {"rice-2.5kg"}, "quantity": {"0"}}, "quantity", "数量至少为 1"},
			{url.Values{"good": {"rice-2.5kg"}, "quantity": {"一"}}, "quantity", "请填一个整数。"},
			{url.Values{"good": {""}, "quantity": {"1"}}, "good", "请选择要兑换的物品。"},
			{url.Values{"good": {"oil"}, "quantity": {"1"}}, "good", "没有这件物品"},
			{url.Values{"good": {"rice-2.5kg"}, "quantity": {"1"}, "note": {"户主 11010519491231002X"}}, "note", "不得包含身份证号"},
		} {
			tc.form.Set("csrf", tok)
			status, _, body := c.post(counter, tc.form)
			assert.Equal(t, http.StatusBadRequest, status, tc.want)
			assert.Contains(t, fieldError(body, tc.field), tc.want)
			assert.Contains(t, body, `aria-invalid="true" aria-describedby="`+tc.field+`-error"`)
			assert.NotContains(t, body, "11010519491231002X", "the number is not sent back")
		}
		assert.Equal(t, before, shopState(t, e, h, other), "no refusal wrote anything")
		// In English the refusal is English.
		c.get("/console/?lang=en")
		_, _, body = c.post(counter, url.Values{"csrf": {tok}, "good": {"rice-2.5kg"}, "quantity": {"4"}})
		assert.Equal(t, "only 3 袋 of rice-2.5kg in stock; asked for 4", fieldError(body, "quantity"))
		c.get("/console/?lang=zh")

		// A redemption: the receipt; the same form again is the same receipt.
		redeem := url.Values{"csrf": {tok}, "good": {"rice-2.5kg"}, "quantity": {"2"}, "note": {"春节"},
			"request_id": {"console-cccccccccccccccccccccc"}}
		status, loc, _ = c.post(counter, redeem)
		require.Equal(t, http.StatusSeeOther, status)
		require.True(t, strings.HasPrefix(loc, hhPath(h)+"/redemptions/"), loc)
		status, loc2, _ := c.post(counter, redeem)
		require.Equal(t, http.StatusSeeOther, status)
		assert.Equal(t, loc, loc2, "a form sent twice redeems once")
		receiptPath := strings.TrimSuffix(loc, "?done=redeemed")
		status, _, body = c.get(loc)
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, "兑换成功")
		assert.Contains(t, body, `id="receipt-household">沈阿毛`)
		assert.Contains(t, body, `id="receipt-points">40 分<`)
		assert.Contains(t, body, `id="receipt-after">10 分<`)
		assert.Contains(t, body, "clerk-a", "who served")
		assert.Contains(t, body, "data-print")
		g, err := e.app.Shop.Good(ctx, shop.GoodName(villageA, "rice-2.5kg"))
		require.NoError(t, err)
		assert.Equal(t, int64(1), g.Stock)
		bal, err := e.app.Evidence.Points(ctx, h.Name(), "")
		require.NoError(t, err)
		assert.Equal(t, "10", bal.Redeemable.String())
		assert.Equal(t, "150", bal.Credit.String(), "credit points untouched")

		// The village's receipts and the month's report, with its CSV.
		_, _, body = c.get(shopPath + "/redemptions")
		assert.Contains(t, body, "沈阿毛")
		assert.Contains(t, body, receiptPath)
		month := time.Now().In(household.Shanghai).Format("2006-01")
		_, _, body = c.get(shopPath + "/report?month=" + month)
		assert.Contains(t, body, `id="report-points">40<`)
		assert.Contains(t, body, "大米 2.5kg")
		status, _, body = c.get(shopPath + "/report.csv?month=" + month)
		require.Equal(t, http.StatusOK, status)
		assert.True(t, strings.HasPrefix(body, "\ufeff物品编码,物品,单位,兑换笔数,兑换数量,消耗积分,到货数量\r\n"), body)
		assert.Contains(t, body, "rice-2.5kg,大米 2.5kg,袋,1,2,40,3\r\n合计,,,1,2,40,3\r\n")
		for _, bad := range []string{"2026-13", "march", "2999-01"} {
			status, _, body = c.get(shopPath + "/report?month=" + bad)
			assert.Equal(t, http.StatusBadRequest, status, bad)
			assert.Contains(t, fieldError(body, "month"), "形如 2026-03", bad)
		}

		// A price change keeps the receipt's price; archiving hides the good.
		status, _, body = c.post(good, url.Values{"csrf": {tok}, "action": {"price"}, "price": {"2.55"}})
		require.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, fieldError(body, "price"), "小数")
		status, _, _ = c.post(good, url.Values{"csrf": {tok}, "action": {"price"}, "price": {"25"}})
		require.Equal(t, http.StatusSeeOther, status)
		_, _, body = c.get(receiptPath)
		assert.Contains(t, body, "20 分", "the receipt keeps its price")

		// The household: its receipts and this receipt, never another's.
		hc := e.client(t)
		code, _, err := e.app.SignIn.IssueCode(ctx, e.staff["clerk-a"], villageA, h.ID)
		require.NoError(t, err)
		hc.signInCode(code)
		status, _, body = hc.get("/console/me/shop")
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, "大米 2.5kg")
		assert.Contains(t, body, `id="redeemable">10<`)
		rid := receiptPath[strings.LastIndex(receiptPath, "/")+1:]
		status, _, body = hc.get("/console/me/shop/" + rid)
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, `id="receipt-points">40 分<`)
		assert.NotContains(t, body, "clerk-a", "the staff's names stay with the staff")
		oc := e.client(t)
		ocode, _, err := e.app.SignIn.IssueCode(ctx, e.staff["clerk-a"], villageA, other.ID)
		require.NoError(t, err)
		oc.signInCode(ocode)
		status, _, _ = oc.get("/console/me/shop/" + rid)
		assert.Equal(t, http.StatusNotFound, status, "another household's receipt")
		_, _, body = oc.get("/console/me/shop")
		assert.Contains(t, body, "没有兑换记录")
		for _, p := range []string{shopPath, shopPath + "/report", good, counter} {
			status, _, _ = hc.get(p)
			assert.Equal(t, http.StatusForbidden, status, p)
		}
		status, _, body = hc.get(receiptPath)
		assert.Equal(t, http.StatusOK, status, "its own receipt at the village's path")
		assert.NotContains(t, body, "clerk-a")
		status, _, _ = oc.get(receiptPath)
		assert.Equal(t, http.StatusForbidden, status, "another household's, at the village's path")

		// Refusals: another village's clerk, a bank, a reviewer's writes,
		// a form without its token. Nothing is written (signed in first:
		// signing in is audited).
		cb := e.client(t)
		cb.signIn("clerk-b")
		tokB := cb.csrf("/console/villages/" + villageB + "/shop")
		bank := staffClient(t, e, "officer-shop", access.BankOfficer, access.Scope{Bank: "tongxiang-rcb"})
		rev := e.client(t)
		rev.signIn("reviewer-a")
		before = shopState(t, e, h, other)
		pages := []string{shopPath, shopPath + "/redemptions", shopPath + "/report", shopPath + "/report.csv", good, counter, receiptPath}
		for _, who := range []*client{cb, bank} {
			for _, p := range pages {
				status, _, body := who.get(p)
				assert.Equal(t, http.StatusForbidden, status, p)
				assert.NotContains(t, body, "沈阿毛", p)
				assert.NotContains(t, body, "大米", p)
			}
		}
		status, _, _ = cb.post(counter, url.Values{"csrf": {tokB}, "good": {"rice-2.5kg"}, "quantity": {"1"}})
		assert.Equal(t, http.StatusForbidden, status)
		status, _, _ = cb.post(good+"/arrivals", url.Values{"csrf": {tokB}, "quantity": {"5"}})
		assert.Equal(t, http.StatusForbidden, status)
		status, _, _ = cb.post(shopPath+"/goods", url.Values{"csrf": {tokB}, "code": {"x"}, "name_zh": {"x"}, "unit": {"个"}, "price": {"1"}})
		assert.Equal(t, http.StatusForbidden, status)
		// Its own village's path with this village's household: not there.
		status, _, _ = cb.post("/console/villages/"+villageB+"/households/"+h.ID+"/redeem", url.Values{"csrf": {tokB}, "good": {"rice-2.5kg"}, "quantity": {"1"}})
		assert.Equal(t, http.StatusNotFound, status)
		for _, p := range []string{shopPath, shopPath + "/redemptions", shopPath + "/report", receiptPath} {
			status, _, _ = rev.get(p)
			assert.Equal(t, http.StatusOK, status, "a reviewer reads %s", p)
		}
		_, _, body = rev.get(hhPath(h))
		assert.NotContains(t, body, `id="shop"`, "no counter button for whom the counter refuses")
		tokR := rev.csrf(shopPath)
		status, _, _ = rev.get(counter)
		assert.Equal(t, http.StatusForbidden, status)
		status, _, _ = rev.post(counter, url.Values{"csrf": {tokR}, "good": {"rice-2.5kg"}, "quantity": {"1"}})
		assert.Equal(t, http.StatusForbidden, status)
		status, _, _ = rev.post(good+"/arrivals", url.Values{"csrf": {tokR}, "quantity": {"5"}})
		assert.Equal(t, http.StatusForbidden, status)
		status, _, _ = c.post(counter, url.Values{"good": {"rice-2.5kg"}, "quantity": {"1"}})
		assert.Equal(t, http.StatusForbidden, status, "no token")
		assert.Equal(t, before, shopState(t, e, h, other), "no refused form wrote anything")

		// Archived: off the counter and the list; back on offer.
		status, loc, _ = c.post(good, url.Values{"csrf": {tok}, "action": {"archive"}})
		require.Equal(t, http.StatusSeeOther, status)
		assert.Equal(t, shopPath+"?done=archived", loc)
		_, _, body = c.get(counter)
		assert.Contains(t, body, `id="no-goods"`)
		status, _, body = c.post(counter, url.Values{"csrf": {tok}, "good": {"rice-2.5kg"}, "quantity": {"1"}})
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "已下架")
		status, _, _ = c.post(good, url.Values{"csrf": {tok}, "action": {"restore"}})
		require.Equal(t, http.StatusSeeOther, status)
		_, _, body = c.get(counter)
		assert.Contains(t, body, "大米 2.5kg · 25 分/袋 · 库存 1 袋")
	})
}
