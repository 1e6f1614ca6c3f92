package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/shop"
)

// shopRoutes registers the 兑换超市 pages: the village's goods with their
// stock (a new good, a delivery, a price), redemption at the counter from
// a household's page with a printable receipt, the receipts and the
// month's report; and a household's own receipts. Each page asks the
// policy for the action its RPC is bound to.
func (c *Console) shopRoutes() {
	v := Prefix + "villages/{village}/"
	c.page("GET "+v+"shop", false, c.shopGoods)
	c.page("POST "+v+"shop/goods", false, c.shopAddGood)
	c.page("GET "+v+"shop/goods/{code}", false, c.shopGood)
	c.page("POST "+v+"shop/goods/{code}", false, c.shopUpdateGood)
	c.page("POST "+v+"shop/goods/{code}/arrivals", false, c.shopArrive)
	c.page("GET "+v+"shop/redemptions", false, c.shopReceipts)
	c.page("GET "+v+"shop/report", false, c.shopReport)
	c.page("GET "+v+"shop/report.csv", false, c.shopReportCSV)
	c.page("GET "+v+"households/{id}/redeem", false, c.shopCounter)
	c.page("POST "+v+"households/{id}/redeem", false, c.shopRedeem)
	c.page("GET "+v+"households/{id}/redemptions/{receipt}", false, c.shopReceipt)
	c.page("GET "+Prefix+"me/shop", false, c.hhShop)
	c.page("GET "+Prefix+"me/shop/{receipt}", false, c.hhReceipt)
}

// shopVillage reads the page's village and authorises a on it.
func shopVillage(q *request, a access.Action) (string, error) {
	village, err := villageOf(q)
	if err != nil {
		return "", err
	}
	return village, q.authorise(a, access.Target{Village: village})
}

// canManage reports whether the signed-in person keeps the village's
// goods (the page then shows its forms).
func canManage(q *request, village string) bool {
	return q.authorise(access.ShopGoodWrite, access.Target{Village: village}) == nil
}

// explainShop puts a refusal of the shop service next to the field it
// names (fields maps the service's field to the form's): invalid input
// and the refusals that name a field (more than the stock or the
// balance, an archived good) alike, in the page's language.
func (f *form) explainShop(l lang, err error, fields map[string]string) bool {
	var fe *fault.Error
	if !errors.As(err, &fe) || len(fe.Violations) == 0 || (fe.Kind != fault.Invalid && fe.Kind != fault.FailedPrecondition) {
		return false
	}
	for _, v := range fe.Violations {
		msg := violationText(l, v)
		if fe.Kind == fault.FailedPrecondition {
			msg = v.Description
			if l == zh && v.ZH != "" {
				msg = v.ZH
			}
		}
		fd := f.get(fields[v.Field])
		switch {
		case fd == nil && f.Error == "":
			f.Error = msg
		case fd != nil && fd.Error == "":
			fd.Error = msg
		}
	}
	return true
}

// --- the goods ------------------------------------------------------------

type shopGoodsView struct {
	Village  string
	Goods    []*shop.Good // on offer
	Archived []*shop.Good
	Manage   bool
	Form     form // a new good
	Done     string
	Month    string
}

func newGoodFields() []*field {
	return []*field{
		{Name: "code", Label: "shop.code", Hint: "shop.code_hint", Required: true},
		{Name: "name_zh", Label: "shop.name_zh", Required: true},
		{Name: "name_en", Label: "shop.name_en"},
		{Name: "unit", Label: "shop.unit", Hint: "shop.unit_hint", Required: true},
		{Name: "price", Label: "shop.price", Required: true, Mode: "decimal"},
	}
}

var goodFieldOf = map[string]string{"good.code": "code", "good.name_zh": "name_zh", "good.name_en": "name_en",
	"good.unit": "unit", "good.price": "price"}

func (c *Console) shopGoods(q *request) error {
	village, err := shopVillage(q, access.ShopGoodRead)
	if err != nil {
		return err
	}
	v := shopGoodsView{Village: village, Manage: canManage(q, village), Form: form{Fields: newGoodFields(), RequestID: newRequestID()},
		Done: doneKey(q, "created", "archived", "restored")}
	return c.renderGoods(q, http.StatusOK, v)
}

func (c *Console) renderGoods(q *request, status int, v shopGoodsView) error {
	all, err := c.app.Shop.Goods(q.r.Context(), resource.Village(v.Village), true)
	if err != nil {
		return err
	}
	for _, g := range all {
		if g.Archived {
			v.Archived = append(v.Archived, g)
		} else {
			v.Goods = append(v.Goods, g)
		}
	}
	v.Month = thisMonth()
	c.render(q, status, "shop_goods", v)
	return nil
}

func (c *Console) shopAddGood(q *request) error {
	village, err := shopVillage(q, access.ShopGoodWrite)
	if err != nil {
		return err
	}
	f := form{Fields: newGoodFields()}
	f.fill(q.r)
	_, _, err = c.app.Shop.CreateGood(q.r.Context(), q.p, shop.GoodInput{Parent: resource.Village(village),
		Code: f.get("code").Value, NameZH: f.get("name_zh").Value, NameEN: f.get("name_en").Value,
		Unit: f.get("unit").Value, Price: f.get("price").Value})
	var fe *fault.Error
	switch {
	case err == nil:
		http.Redirect(q.w, q.r, Prefix+"villages/"+village+"/shop?done=created", http.StatusSeeOther)
		return nil
	case f.explainShop(q.lang, err, goodFieldOf):
	case errors.As(err, &fe) && fe.Reason == "GOOD_EXISTS":
		f.get("code").Error = text(q.lang, "shop.code_taken")
	default:
		return err
	}
	f.scrub()
	return c.renderGoods(q, http.StatusBadRequest, shopGoodsView{Village: village, Manage: true, Form: f})
}

// --- one good: a delivery, the price, on offer or not ------------------------

type shopGoodView struct {
	Village string
	Good    *shop.Good
	Manage  bool
	Arrival form
	Price   form
	Done    string
}

func arrivalFields() []*field {
	return []*field{
		{Name: "quantity", Label: "shop.arrival_quantity", Required: true, Mode: "numeric"},
		{Name: "note", Label: "shop.arrival_note", Hint: "shop.arrival_note_hint"},
	}
}

func priceFields(g *shop.Good) []*field {
	return []*field{{Name: "price", Label: "shop.new_price", Required: true, Mode: "decimal", Value: g.Price.String()}}
}

// goodOf reads the page's good after authorising a on its village.
func (c *Console) goodOf(q *request, a access.Action) (string, *shop.Good, error) {
	village, err := shopVillage(q, a)
	if err != nil {
		return "", nil, err
	}
	g, err := c.app.Shop.Good(q.r.Context(), shop.GoodName(village, q.r.PathValue("code")))
	if fault.Is(err, fault.Invalid) {
		return "", nil, fault.New(fault.NotFound, "GOOD_NOT_FOUND", "no good %q", q.r.PathValue("code"))
	}
	return village, g, err
}

func (c *Console) shopGood(q *request) error {
	village, g, err := c.goodOf(q, access.ShopGoodRead)
	if err != nil {
		return err
	}
	c.render(q, http.StatusOK, "shop_good", shopGoodView{Village: village, Good: g, Manage: canManage(q, village),
		Arrival: form{Fields: arrivalFields(), RequestID: newRequestID()}, Price: form{Fields: priceFields(g), RequestID: newRequestID()},
		Done: doneKey(q, "arrived", "priced")})
	return nil
}

func (c *Console) shopArrive(q *request) error {
	village, g, err := c.goodOf(q, access.ShopArrival)
	if err != nil {
		return err
	}
	f := form{Fields: arrivalFields()}
	f.fill(q.r)
	n := f.integer(q.lang, "quantity")
	if f.ok() {
		_, _, _, err = c.app.Shop.RecordArrival(q.r.Context(), q.p, shop.ArrivalInput{Good: g.Name(), Quantity: int64(n),
			Note: f.get("note").Value, RequestID: f.RequestID})
		var fe *fault.Error
		switch {
		case err == nil:
			http.Redirect(q.w, q.r, Prefix+"villages/"+village+"/shop/goods/"+g.Code+"?done=arrived", http.StatusSeeOther)
			return nil
		case f.explainShop(q.lang, err, map[string]string{"quantity": "quantity", "note": "note"}):
		case errors.As(err, &fe) && fe.Reason == "REQUEST_ID_REUSED":
			f.Error, f.RequestID = text(q.lang, "clerk.resubmit"), newRequestID()
		default:
			return err
		}
	}
	f.scrub()
	c.render(q, http.StatusBadRequest, "shop_good", shopGoodView{Village: village, Good: g, Manage: true, Arrival: f,
		Price: form{Fields: priceFields(g), RequestID: newRequestID()}})
	return nil
}

// shopUpdateGood changes the price, or with action=archive / restore
// whether the good is offered.
func (c *Console) shopUpdateGood(q *request) error {
	village, g, err := c.goodOf(q, access.ShopGoodWrite)
	if err != nil {
		return err
	}
	in := shop.UpdateInput{Name: g.Name()}
	done := "priced"
	f := form{Fields: priceFields(g)}
	switch q.r.PostFormValue("action") {
	case "archive", "restore":
		off := q.r.PostFormValue("action") == "archive"
		in.Archived = &off
		done = map[bool]string{true: "archived", false: "restored"}[off]
	default:
		f.fill(q.r)
		in.Price = f.get("price").Value
		if in.Price == "" {
			f.get("price").Error = text(q.lang, "clerk.required")
		}
	}
	if f.ok() {
		_, err = c.app.Shop.UpdateGood(q.r.Context(), q.p, in)
		switch {
		case err == nil:
			to := Prefix + "villages/" + village + "/shop/goods/" + g.Code + "?done=" + done
			if done == "archived" || done == "restored" {
				to = Prefix + "villages/" + village + "/shop?done=" + done
			}
			http.Redirect(q.w, q.r, to, http.StatusSeeOther)
			return nil
		case f.explainShop(q.lang, err, map[string]string{"price": "price"}):
		default:
			return err
		}
	}
	c.render(q, http.StatusBadRequest, "shop_good", shopGoodView{Village: village, Good: g, Manage: true,
		Arrival: form{Fields: arrivalFields(), RequestID: newRequestID()}, Price: f})
	return nil
}

// --- the counter -------------------------------------------------------------

type shopCounterView struct {
	Village string
	Counter *app.ShopCounter
	Form    form
}

// Field is the form's input name, for the template.
func (v shopCounterView) Field(name string) *field { return v.Form.get(name) }

// Refused is the form's first error: shown on its own when no good is
// on offer (and so no form).
func (v shopCounterView) Refused() string {
	if v.Form.Error != "" {
		return v.Form.Error
	}
	for _, f := range v.Form.Fields {
		if f.Error != "" {
			return f.Error
		}
	}
	return ""
}

func counterFields() []*field {
	return []*field{
		{Name: "good", Label: "shop.good", Required: true},
		{Name: "quantity", Label: "shop.quantity", Required: true, Mode: "numeric", Value: "1"},
		{Name: "note", Label: "shop.note", Hint: "shop.note_hint"},
	}
}

var counterFieldOf = map[string]string{"good": "good", "quantity": "quantity", "note": "note"}

// counterOf authorises a redemption for the page's household (path id)
// and reads its counter.
func (c *Console) counterOf(q *request) (string, *app.ShopCounter, error) {
	h, err := c.householdOf(q, access.ShopRedeem, q.r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	counter, err := c.app.ShopCounter(q.r.Context(), h.Village, h.ID)
	return h.Village, counter, err
}

func (c *Console) shopCounter(q *request) error {
	village, counter, err := c.counterOf(q)
	if err != nil {
		return err
	}
	f := form{Fields: counterFields(), RequestID: newRequestID()}
	f.get("good").Value = q.r.URL.Query().Get("good")
	c.render(q, http.StatusOK, "shop_counter", shopCounterView{Village: village, Counter: counter, Form: f})
	return nil
}

func (c *Console) shopRedeem(q *request) error {
	village, counter, err := c.counterOf(q)
	if err != nil {
		return err
	}
	h := counter.Household
	f := form{Fields: counterFields()}
	f.fill(q.r)
	n := f.integer(q.lang, "quantity")
	if f.get("good").Value == "" {
		f.get("good").Error = text(q.lang, "shop.pick_good")
	}
	if f.ok() {
		r, err := c.app.Shop.Redeem(q.r.Context(), q.p, shop.RedeemInput{Household: h.Name(), Good: f.get("good").Value,
			Quantity: int64(n), Note: f.get("note").Value, RequestID: f.RequestID})
		var fe *fault.Error
		switch {
		case err == nil:
			http.Redirect(q.w, q.r, hhPrefix(village, h.ID)+"/redemptions/"+r.Receipt.ID+"?done=redeemed", http.StatusSeeOther)
			return nil
		case f.explainShop(q.lang, err, counterFieldOf):
		case errors.As(err, &fe) && fe.Reason == "GOOD_NOT_FOUND":
			f.get("good").Error = text(q.lang, "shop.no_good")
		case errors.As(err, &fe) && fe.Reason == "REQUEST_ID_REUSED":
			f.Error, f.RequestID = text(q.lang, "clerk.resubmit"), newRequestID()
		default:
			return err
		}
	}
	f.scrub()
	// The figures as they are now: a refusal may be because they moved.
	if counter, err = c.app.ShopCounter(q.r.Context(), village, h.ID); err != nil {
		return err
	}
	c.render(q, http.StatusBadRequest, "shop_counter", shopCounterView{Village: village, Counter: counter, Form: f})
	return nil
}

func hhPrefix(village, id string) string { return Prefix + "villages/" + village + "/households/" + id }

// --- receipts ----------------------------------------------------------------

type shopReceiptView struct {
	View *app.ReceiptView
	// Back is where the page's link returns to; Staff whether it is a
	// village page (a household's own has none of the clerk's links).
	Back  string
	Staff bool
	Done  string
}

func (c *Console) shopReceipt(q *request) error {
	village, err := villageOf(q)
	if err != nil {
		return err
	}
	id := q.r.PathValue("id")
	if err := q.authorise(access.ShopReceiptRead, access.Target{Village: village, Household: id}); err != nil {
		return err
	}
	v, err := c.receiptView(q, resource.Household(village, id)+"/redemptions/"+q.r.PathValue("receipt"))
	if err != nil {
		return err
	}
	// A household reading its own receipt here sees it as on its own
	// page: the staff's names stay with the staff.
	c.render(q, http.StatusOK, "shop_receipt", shopReceiptView{View: v, Back: hhPrefix(village, id), Staff: q.p.Role != access.Household,
		Done: doneKey(q, "redeemed")})
	return nil
}

// receiptView reads a receipt by name; a malformed name is NotFound.
func (c *Console) receiptView(q *request, name string) (*app.ReceiptView, error) {
	v, err := c.app.ShopReceipt(q.r.Context(), name)
	if fault.Is(err, fault.Invalid) {
		return nil, fault.New(fault.NotFound, "RECEIPT_NOT_FOUND", "no receipt %q", name)
	}
	return v, err
}

type shopReceiptsView struct {
	Village   string
	Month     string
	MonthErr  string
	Page      *app.ShopReceipts
	Token     string
	NextQuery string
}

func (c *Console) shopReceipts(q *request) error {
	village, err := shopVillage(q, access.ShopReceiptRead)
	if err != nil {
		return err
	}
	v := shopReceiptsView{Village: village, Month: strings.TrimSpace(q.r.URL.Query().Get("month")), Token: q.r.URL.Query().Get("page")}
	v.Page, err = c.app.ShopReceipts(q.r.Context(), resource.Village(village), v.Month, 50, v.Token)
	if fault.Is(err, fault.Invalid) {
		v.Page, v.MonthErr = &app.ShopReceipts{}, text(q.lang, "shop.bad_month")
		c.render(q, http.StatusBadRequest, "shop_receipts", v)
		return nil
	}
	if err != nil {
		return err
	}
	if v.Page.NextToken != "" {
		v.NextQuery = url.Values{"month": {v.Month}, "page": {v.Page.NextToken}}.Encode()
	}
	c.render(q, http.StatusOK, "shop_receipts", v)
	return nil
}

// --- the month's report ------------------------------------------------------

type shopReportView struct {
	Village  string
	Month    string
	MonthErr string
	Report   *shop.Report
}

func thisMonth() string { return time.Now().In(household.Shanghai).Format("2006-01") }

func (c *Console) monthReport(q *request) (shopReportView, error) {
	village, err := shopVillage(q, access.ShopReportRead)
	if err != nil {
		return shopReportView{}, err
	}
	v := shopReportView{Village: village, Month: strings.TrimSpace(q.r.URL.Query().Get("month"))}
	if v.Month == "" {
		v.Month = thisMonth()
	}
	r, err := c.app.Shop.MonthlyReport(q.r.Context(), resource.Village(village), v.Month)
	switch {
	case fault.Is(err, fault.Invalid):
		v.MonthErr = text(q.lang, "shop.bad_month")
	case err != nil:
		return v, err
	default:
		v.Report = &r
	}
	return v, nil
}

func (c *Console) shopReport(q *request) error {
	v, err := c.monthReport(q)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if v.MonthErr != "" {
		status = http.StatusBadRequest
	}
	c.render(q, status, "shop_report", v)
	return nil
}

// shopReportCSV is the report's CSV (the CSV the API and the CLI give),
// with heads in the page's language.
func (c *Console) shopReportCSV(q *request) error {
	v, err := c.monthReport(q)
	if err != nil {
		return err
	}
	if v.MonthErr != "" {
		c.render(q, http.StatusBadRequest, "shop_report", v)
		return nil
	}
	w := q.w
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="shop-%s-%s.csv"`, v.Village, v.Month))
	return v.Report.WriteCSV(w, q.lang == en)
}

// --- the household's own -------------------------------------------------------

type hhShopView struct {
	Household *household.Household
	Card      *app.ReportCard
	Page      *app.ShopReceipts
	Token     string
}

func (c *Console) hhShop(q *request) error {
	hh, err := q.household()
	if err != nil {
		return err
	}
	if err := q.authorise(access.ShopReceiptRead, q.own()); err != nil {
		return err
	}
	v := hhShopView{Token: q.r.URL.Query().Get("page")}
	if v.Card, err = c.app.ReportCard(q.r.Context(), hh); err != nil {
		return err
	}
	v.Page, err = c.app.ShopReceipts(q.r.Context(), hh, "", 50, v.Token)
	if fault.Is(err, fault.Invalid) {
		return fault.New(fault.NotFound, "PAGE_NOT_FOUND", "no such page")
	}
	if err != nil {
		return err
	}
	c.render(q, http.StatusOK, "hh_shop", v)
	return nil
}

func (c *Console) hhReceipt(q *request) error {
	hh, err := q.household()
	if err != nil {
		return err
	}
	if err := q.authorise(access.ShopReceiptRead, q.own()); err != nil {
		return err
	}
	// Found only under the household's own name: another household's
	// receipt id is not found.
	v, err := c.receiptView(q, hh+"/redemptions/"+q.r.PathValue("receipt"))
	if err != nil {
		return err
	}
	c.render(q, http.StatusOK, "shop_receipt", shopReceiptView{View: v, Back: Prefix + "me/shop"})
	return nil
}

// doneKey is the message of ?done= when it is one of the page's own.
func doneKey(q *request, allowed ...string) string {
	d := q.r.URL.Query().Get("done")
	for _, a := range allowed {
		if d == a {
			return "shop.done_" + a
		}
	}
	return ""
}

func init() {
	addMessages(shopMessages)
	// can asks the policy whether p may take action on village: a page
	// shows a button only to whom the page behind it will not refuse.
	funcs["can"] = func(p *access.Principal, action, village string) bool {
		return p != nil && access.Authorise(p, access.Action(action), access.Target{Village: village}) == nil
	}
	// A good as the counter's list offers it: its name, price and stock.
	funcs["shopOffer"] = func(l lang, g *shop.Good) string {
		return text(l, "shop.offer", goodName(l, g), g.Price.String(), g.Unit, g.Stock, g.Unit)
	}
	funcs["shopName"] = func(l lang, g *shop.Good) string { return goodName(l, g) }
	funcs["receiptName"] = func(l lang, r *shop.Receipt) string {
		if l == en && r.NameEN != "" {
			return r.NameEN
		}
		return r.NameZH
	}
	funcs["rowName"] = func(l lang, r shop.ReportRow) string {
		if l == en && r.NameEN != "" {
			return r.NameEN
		}
		return r.NameZH
	}
}

func goodName(l lang, g *shop.Good) string {
	if l == en && g.NameEN != "" {
		return g.NameEN
	}
	return g.NameZH
}

var shopMessages = map[string][2]string{
	"shop.nav":               {"兑换超市", "Points shop"},
	"hh.nav_shop":            {"兑换记录", "My redemptions"},
	"shop.title":             {"兑换超市", "Points shop (兑换超市)"},
	"shop.intro":             {"村民用可兑换积分兑换物品；兑换只减少可兑换积分，不影响信用积分。", "Villagers spend redeemable points on goods; redeeming lowers only redeemable points, never credit points."},
	"shop.counter_hint":      {"柜台兑换：在农户名册中找到这一户，点“兑换超市”。", "To serve a household at the counter: find it in the household list and tap “Points shop”."},
	"shop.households":        {"去农户名册", "Household list"},
	"shop.goods":             {"在售物品", "Goods on offer"},
	"shop.archived":          {"已下架", "No longer offered"},
	"shop.none":              {"还没有物品。", "No goods yet."},
	"shop.code":              {"物品编码", "Code"},
	"shop.code_hint":         {"小写字母、数字、点和连字符，例如 rice-2.5kg；建好后不能改。", "Lower-case letters, digits, dots and hyphens, e.g. rice-2.5kg; it cannot be changed later."},
	"shop.code_taken":        {"这个编码已有别的物品在用。", "Another good already has this code."},
	"shop.name_zh":           {"名称", "Name (Chinese)"},
	"shop.name_en":           {"英文名称（可不填）", "Name (English, optional)"},
	"shop.name":              {"物品", "Good"},
	"shop.unit":              {"单位", "Unit"},
	"shop.unit_hint":         {"例如 袋、瓶、块", "e.g. 袋, 瓶, 块 (bag, bottle, bar)"},
	"shop.price":             {"积分价（每单位）", "Price in points (per unit)"},
	"shop.price_short":       {"积分价", "Price"},
	"shop.stock":             {"库存", "Stock"},
	"shop.add":               {"添加物品", "Add a good"},
	"shop.add_submit":        {"添加", "Add"},
	"shop.manage":            {"到货 / 改价", "Delivery / price"},
	"shop.view":              {"查看", "View"},
	"shop.receipts":          {"兑换记录", "Redemptions"},
	"shop.report":            {"月度报表", "Monthly report"},
	"shop.done_created":      {"物品已添加。库存为 0，请登记到货。", "The good was added. Its stock is 0: record a delivery."},
	"shop.done_archived":     {"物品已下架。", "The good is no longer offered."},
	"shop.done_restored":     {"物品已重新上架。", "The good is offered again."},
	"shop.done_arrived":      {"到货已登记，库存已增加。", "The delivery was recorded and the stock raised."},
	"shop.done_priced":       {"积分价已修改。以前的收据保留原价。", "The price was changed. Earlier receipts keep the price they were made at."},
	"shop.done_redeemed":     {"兑换成功。请把收据交给农户。", "Redeemed. Hand the receipt to the household."},
	"shop.arrival":           {"登记到货", "Record a delivery"},
	"shop.arrival_quantity":  {"到货数量", "Quantity arrived"},
	"shop.arrival_note":      {"备注", "Note"},
	"shop.arrival_note_hint": {"例如 送货单号", "e.g. the delivery note number"},
	"shop.arrival_submit":    {"登记到货", "Record delivery"},
	"shop.new_price":         {"新的积分价", "New price in points"},
	"shop.price_submit":      {"修改积分价", "Change price"},
	"shop.archive":           {"下架", "Stop offering"},
	"shop.restore":           {"重新上架", "Offer again"},
	"shop.state":             {"状态", "Status"},
	"shop.on_offer":          {"在售", "On offer"},
	"shop.off_offer":         {"已下架", "Not offered"},
	"shop.back":              {"返回兑换超市", "Back to the shop"},
	"shop.counter":           {"柜台兑换", "Redeem at the counter"},
	"shop.for":               {"兑换户", "Household"},
	"shop.redeemable":        {"可兑换积分", "Redeemable points"},
	"shop.credit_note":       {"信用积分 %s 不受兑换影响。", "Credit points (%s) are not affected by redeeming."},
	"shop.good":              {"物品", "Good"},
	"shop.pick":              {"请选择物品", "Choose a good"},
	"shop.pick_good":         {"请选择要兑换的物品。", "Choose the good to redeem."},
	"shop.no_good":           {"没有这件物品，请重新选择。", "There is no such good; choose again."},
	"shop.offer":             {"%s · %s 分/%s · 库存 %d %s", "%s · %s points/%s · %d %s in stock"},
	"shop.quantity":          {"数量", "Quantity"},
	"shop.note":              {"备注", "Note"},
	"shop.note_hint":         {"可不填；不要写身份证号。", "Optional; never an ID number."},
	"shop.redeem":            {"兑换", "Redeem"},
	"shop.redeem_link":       {"兑换超市", "Points shop"},
	"shop.no_goods_offered":  {"兑换超市现在没有在售物品。", "The shop has no goods on offer now."},
	"shop.receipt":           {"兑换超市收据", "Points shop receipt"},
	"shop.receipt_no":        {"收据号", "Receipt no."},
	"shop.village":           {"村", "Village"},
	"shop.time":              {"时间", "Time"},
	"shop.unit_price":        {"单价", "Unit price"},
	"shop.points":            {"消耗积分", "Points spent"},
	"shop.after":             {"兑换后可兑换积分", "Redeemable points left"},
	"shop.clerk":             {"经办", "Served by"},
	"shop.points_n":          {"%s 分", "%s points"},
	"shop.qty_n":             {"%d %s", "%d %s"},
	"shop.print":             {"打印收据", "Print receipt"},
	"shop.back_household":    {"返回这一户", "Back to the household"},
	"shop.back_mine":         {"返回兑换记录", "Back to my redemptions"},
	"shop.month":             {"月份", "Month"},
	"shop.month_hint":        {"例如 2026-03", "e.g. 2026-03"},
	"shop.bad_month":         {"请填写形如 2026-03 的月份，且不晚于本月。", "Give a month like 2026-03, not after this one."},
	"shop.show":              {"查看", "Show"},
	"shop.day":               {"日期", "Date"},
	"shop.household":         {"户主", "Head of household"},
	"shop.no_receipts":       {"没有兑换记录。", "No redemptions."},
	"shop.more":              {"更早的记录", "Older redemptions"},
	"shop.report_title":      {"兑换超市月度报表", "Points shop monthly report"},
	"shop.report_open":       {"本月尚未结束，数字可能增加。", "The month is not over: the figures may grow."},
	"shop.receipt_count":     {"兑换笔数", "Redemptions"},
	"shop.quantity_sum":      {"兑换数量", "Quantity"},
	"shop.arrived":           {"到货数量", "Arrived"},
	"shop.total":             {"合计", "Total"},
	"shop.no_activity":       {"这个月没有兑换或到货。", "No redemptions or deliveries this month."},
	"shop.csv":               {"下载 CSV（Excel）", "Download CSV (Excel)"},
	"shop.print_report":      {"打印报表", "Print report"},
	"shop.mine":              {"我的兑换记录", "My redemptions"},
	"shop.mine_intro":        {"在村兑换超市用可兑换积分兑换的物品。信用积分不受影响。", "Goods you took at the village points shop for redeemable points. Your credit points are not affected."},
}
