package console_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
)

const blBank = "tongxiang-rcb"

// blWorld is the bank side the lines pages read: the example policy
// active at 桐乡农商银行, two of its officers (four eyes), its risk
// manager, an officer of another bank and a regulator, each with a
// password; e.hh (沈建国) consents and has a line; 李秀英 had a line but
// revoked her consent and owes nothing, so the bank may not see her.
type blWorld struct {
	e                         *env
	b                         hhBank
	officer2, risk, regulator *access.Principal
	line                      *credit.View // 沈建国's
	hidden                    string       // 李秀英, whom the bank may not see
	hiddenLine                string       // her line's id
	hhPrincipal, hidPrincipal *access.Principal
}

func newBLWorld(t *testing.T, st *sqlstore.Store) *blWorld {
	t.Helper()
	ctx := context.Background()
	e := newEnv(t, st)
	w := &blWorld{e: e, b: newBank(t, e), hidden: "李秀英"}
	bank := access.Scope{Bank: blBank}
	w.officer2 = hhPrincipal(t, e, "officer-2", access.BankOfficer, bank)
	w.risk = &access.Principal{ID: "id-risk-1", Name: "risk-1", Role: access.BankRisk, Scope: bank}
	w.regulator = hhPrincipal(t, e, "regulator", access.Regulator, access.Scope{})
	for _, n := range []string{"officer", "officer-2", "officer-other", "risk-1", "regulator"} {
		require.NoError(t, e.app.SignIn.SetPassword(ctx, e.staff["op-1"], n, password))
	}
	grant := func(hh string) *access.Principal {
		_, hid, err := household.ParseName(hh, "hh")
		require.NoError(t, err)
		hp := &access.Principal{ID: "id-hh-" + hid, Name: "hh", Role: access.Household, Scope: access.Scope{Household: hid}}
		_, err = e.app.Lending.Grant(ctx, hp, credit.GrantInput{Household: hh, Bank: resource.Bank(blBank),
			Purposes: []string{"assessment", "post_loan"}, Channel: lending.ChannelApp, AuthorisationHash: hhSHA})
		require.NoError(t, err)
		return hp
	}
	w.hhPrincipal = grant(e.hh)
	var err error
	w.line, err = e.app.Lending.Assess(ctx, w.b.officer, hhProduct, e.hh)
	require.NoError(t, err)
	require.True(t, w.line.Decision.Eligible, "the example household gets a line")

	h := e.register(t, villageA, w.hidden, 2, "南阳村2组5号")
	w.hidPrincipal = grant(h.Name())
	v, err := e.app.Lending.Assess(ctx, w.b.officer, hhProduct, h.Name())
	require.NoError(t, err)
	w.hiddenLine = v.Line.ID
	cs, err := e.app.Lending.ListConsents(ctx, w.hidPrincipal, h.Name(), "")
	require.NoError(t, err)
	for _, c := range cs {
		_, err := e.app.Lending.Revoke(ctx, w.hidPrincipal, credit.ConsentName(villageA, h.ID, c.ID))
		require.NoError(t, err)
	}
	return w
}

// staff signs a member of staff in (first password changed).
func (w *blWorld) staff(t *testing.T, name string) *client {
	c := w.e.client(t)
	c.signIn(name)
	return c
}

// freeze freezes 沈建国's lines as a black-list entry would.
func (w *blWorld) freeze(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	_, hid, err := household.ParseName(w.e.hh, "hh")
	require.NoError(t, err)
	require.NoError(t, w.e.st.Lending().Locked(ctx, func(tx credit.Writer) error {
		_, err := w.e.app.Lending.Freeze(ctx, tx, hid, credit.FreezeBlacklisted, "test")
		return err
	}))
}

// lineNow reads 沈建国's line as the regulator sees it.
func (w *blWorld) lineNow(t *testing.T) *credit.View {
	t.Helper()
	page, err := w.e.app.Lending.Portfolio(context.Background(), w.regulator, resource.Bank(blBank), credit.LineFilter{}, 0, "")
	require.NoError(t, err)
	for _, v := range page.Views {
		if v.Line.ID == w.line.Line.ID {
			return v
		}
	}
	t.Fatal("no line")
	return nil
}

// entries lists the audit entries of action, integrated first.
func (w *blWorld) entries(t *testing.T, action string) []app.ListedEntry {
	t.Helper()
	ctx := context.Background()
	_, _, err := w.e.st.Integrate(ctx, 100000)
	require.NoError(t, err)
	page, err := app.ListEntries(ctx, w.e.st, w.regulator, app.EntryFilter{Action: action}, 0, "")
	require.NoError(t, err)
	return page.Entries
}

// hiddenDecision is the id of the decision 李秀英's line rests on.
func (w *blWorld) hiddenDecision(t *testing.T) string {
	t.Helper()
	page, err := w.e.app.Lending.Portfolio(context.Background(), w.regulator, resource.Bank(blBank), credit.LineFilter{}, 0, "")
	require.NoError(t, err)
	for _, v := range page.Views {
		if v.Line.ID == w.hiddenLine {
			return v.Line.DecisionID
		}
	}
	t.Fatal("no hidden line")
	return ""
}

func isReason(err error, reason string) bool {
	var f *fault.Error
	return errors.As(err, &f) && f.Reason == reason
}

func (w *blWorld) linesURL() string { return "/console/banks/" + blBank + "/lines" }
func (w *blWorld) activityURL() string {
	return w.linesURL() + "/" + w.line.Line.ID + "/activity"
}

// idNumberShape is the shape of a 身份证号.
var idNumberShape = regexp.MustCompile(`\d{17}[\dXx]`)

func TestBankPortfolio(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		w := newBLWorld(t, st)
		o := w.staff(t, "officer")
		status, _, body := o.get(w.linesURL())
		require.Equal(t, http.StatusOK, status, body)
		assert.Contains(t, body, w.e.hhHead)
		assert.Contains(t, body, "南阳村")
		assert.NotContains(t, body, w.hidden, "a household without a lawful basis is not listed")
		assert.Contains(t, body, "/console/banks/"+blBank+"/lines/"+w.line.Line.ID, "links to the line's page")

		// Filters.
		grade := w.line.Decision.Grade
		for _, c := range []struct {
			query string
			shown bool
		}{{"grade=" + grade, true}, {"grade=" + strings.ToLower(grade), true}, {"grade=ZZZ", false},
			{"village=" + villageA, true}, {"village=" + villageB, false}, {"status=active", true}, {"status=frozen", false},
			{"expiring=366", true}, {"expiring=300", false}} { // the example policy: a one-year term
			status, _, body := o.get(w.linesURL() + "?" + c.query)
			require.Equal(t, http.StatusOK, status, c.query)
			assert.Equal(t, c.shown, strings.Contains(body, w.e.hhHead), c.query)
			assert.NotContains(t, body, w.hidden, c.query)
		}
		// Bad filters: said next to the field, nothing listed.
		for _, c := range []struct{ query, says string }{
			{"village=123", "村代码应为12位数字"}, {"status=gone", "请选择列表中的状态"},
			{"grade=" + url.QueryEscape("<b>"), "等级应为政策中的等级名"}, {"expiring=abc", "请填写 1 到 366 之间的天数"},
			{"expiring=0", "请填写 1 到 366"}, {"expiring=400", "请填写 1 到 366"}, {"page=not-a-token", "翻页链接已失效"}} {
			status, _, body := o.get(w.linesURL() + "?" + c.query)
			assert.Equal(t, http.StatusBadRequest, status, c.query)
			assert.Contains(t, body, c.says, c.query)
			assert.NotContains(t, body, w.e.hhHead, c.query)
		}

		// The CSV export: BOM, Chinese headers, the filter applied, no 身份证号.
		status, _, csv := o.get("/console/banks/" + blBank + "/lines.csv")
		require.Equal(t, http.StatusOK, status, csv)
		assert.True(t, strings.HasPrefix(csv, "\ufeff户主,村,村民小组,额度（元）,可用（元）,年利率,状态,等级,到期日\r\n"), csv)
		assert.Contains(t, csv, w.e.hhHead+",南阳村,3,"+w.line.Line.Limit.StringFixed(2))
		assert.NotContains(t, csv, w.hidden)
		assert.False(t, idNumberShape.MatchString(csv), "no 身份证号 in the export")
		_, _, csv = o.get("/console/banks/" + blBank + "/lines.csv?grade=ZZZ")
		assert.NotContains(t, csv, w.e.hhHead)
		status, _, body = o.get("/console/banks/" + blBank + "/lines.csv?village=12")
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "村代码应为12位数字")

		// Every page of the bank was a query record of the household shown,
		// and of it only.
		for _, en := range w.entries(t, credit.ActionQuery) {
			if en.Entry.Payload["method"] == credit.MethodListLines {
				assert.Equal(t, w.e.hh, en.Entry.Subject, "only the lawful household is a query record")
			}
		}
	})
}

// TestBankLinesAttacker: another bank's officer, a clerk, a household and
// a regulator writing each get nothing of this bank's lines.
func TestBankLinesAttacker(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		w := newBLWorld(t, st)
		b := "/console/banks/" + blBank
		pages := []string{b + "/lines", b + "/lines.csv", b + "/inbox", b + "/reviews", w.activityURL(),
			b + "/lines/" + w.hiddenLine + "/activity"}
		other := w.staff(t, "officer-other")
		clerk := w.staff(t, "clerk-a")
		hh := w.e.client(t)
		hh.signInCode(w.e.code)
		for name, c := range map[string]*client{"another bank's officer": other, "a clerk": clerk, "a household": hh} {
			for _, p := range pages {
				status, _, body := c.get(p)
				assert.Equal(t, http.StatusForbidden, status, "%s: %s", name, p)
				assert.NotContains(t, body, w.e.hhHead, "%s: %s", name, p)
				assert.NotContains(t, body, w.hidden, "%s: %s", name, p)
			}
		}
		// Its own bank's pages show it nothing of this bank's.
		status, _, body := other.get("/console/banks/other-bank/lines")
		assert.Equal(t, http.StatusOK, status)
		assert.NotContains(t, body, w.e.hhHead)
		// This bank's line under the other bank's URL is no line.
		status, _, _ = other.get("/console/banks/other-bank/lines/" + w.line.Line.ID + "/activity")
		assert.Equal(t, http.StatusNotFound, status)
		status, _, body = other.get("/console/banks/other-bank/inbox")
		assert.Equal(t, http.StatusOK, status)
		assert.NotContains(t, body, w.e.hhHead)
		assert.NotContains(t, body, w.line.Line.ID)

		// Writes: another bank's officer, a clerk, a household, the regulator.
		w.freeze(t)
		reg := w.staff(t, "regulator")
		rv, err := w.e.app.Lending.RequestReview(context.Background(), w.hhPrincipal, credit.DecisionName(blBank, "sanzhi-xindai", w.lineNow(t).Line.DecisionID), "请人工复核")
		require.NoError(t, err)
		rvPath := b + "/reviews/sanzhi-xindai/" + rv.ID
		writes := []struct {
			path string
			form url.Values
		}{
			{w.activityURL() + "/unfreeze", url.Values{"justification": {"核实后误报，解除冻结"}}},
			{w.activityURL() + "/transactions", url.Values{"kind": {"repayment"}, "amount": {"1"}, "transaction_id": {"console-AAAAAAAAAAAAAAAAAAAAAA"}}},
			{w.activityURL() + "/review", url.Values{"reason": {"复核一下"}}},
			{w.activityURL() + "/status", url.Values{"as_of": {"2026-01-01"}, "classification": {"normal"}, "event_id": {"console-AAAAAAAAAAAAAAAAAAAAAA"}}},
			{rvPath + "/resolve", url.Values{"outcome": {"override"}, "limit": {"1000"}, "justification": {"核实收入后应调整额度"}}},
			{rvPath + "/approve", url.Values{"limit": {"1000"}}},
		}
		for name, c := range map[string]*client{"another bank's officer": other, "a clerk": clerk, "a household": hh, "the regulator": reg} {
			tok := c.csrf("/console/password")
			for _, wr := range writes {
				wr.form.Set("csrf", tok)
				status, _, body := c.post(wr.path, wr.form)
				assert.Equal(t, http.StatusForbidden, status, "%s: %s", name, wr.path)
				assert.NotContains(t, body, w.e.hhHead)
			}
		}
		// Nothing written.
		now := w.lineNow(t)
		assert.Equal(t, lending.StatusFrozen, now.Status)
		assert.True(t, now.Line.Drawn.IsZero())
		assert.Empty(t, w.entries(t, "credit.override_propose"))
		assert.Empty(t, w.entries(t, credit.ActionReviewOpen))
		assert.Empty(t, w.entries(t, "credit.unfreeze"))
		assert.Empty(t, w.entries(t, credit.ActionLoanStatus))
	})
}

func TestBankInbox(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		w := newBLWorld(t, st)
		w.freeze(t)
		o := w.staff(t, "officer")
		status, _, body := o.get("/console/banks/" + blBank + "/inbox")
		require.Equal(t, http.StatusOK, status, body)
		assert.Contains(t, body, w.e.hhHead)
		assert.Contains(t, body, "冻结原因：列入村黑榜")
		assert.Contains(t, body, "开立授信")
		assert.Contains(t, body, "只显示授信状态", "李秀英's line event is withheld")
		assert.NotContains(t, body, w.hidden)
		// Newest first: the freeze before the opening.
		assert.Less(t, strings.Index(body, "冻结原因"), strings.Index(body, "开立授信"))
		status, _, body = o.get("/console/banks/" + blBank + "/inbox?page=bogus")
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "翻页链接已失效")
		// English.
		_, _, body = o.get("/console/banks/" + blBank + "/inbox?lang=en")
		_ = body
		_, _, body = o.get("/console/banks/" + blBank + "/inbox")
		assert.Contains(t, body, "Put on the village black list")
	})
}

func TestBankLineActivity(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		w := newBLWorld(t, st)
		o := w.staff(t, "officer")
		status, _, body := o.get(w.activityURL())
		require.Equal(t, http.StatusOK, status, body)
		assert.Contains(t, body, w.e.hhHead)
		assert.Contains(t, body, `href="/console/banks/`+blBank+`/lines/`+w.line.Line.ID+`"`, "links to the line's page")
		// Without a lawful basis: refused, no name.
		status, _, body = o.get("/console/banks/" + blBank + "/lines/" + w.hiddenLine + "/activity")
		assert.Equal(t, http.StatusForbidden, status)
		assert.NotContains(t, body, w.hidden)
		status, _, _ = o.get("/console/banks/" + blBank + "/lines/no-such-line/activity")
		assert.Equal(t, http.StatusNotFound, status)

		// Record a drawdown: bad inputs next to the field, nothing written.
		tok := csrfField.FindStringSubmatch(body)
		_, _, page := o.get(w.activityURL())
		txID := regexp.MustCompile(`name="transaction_id" value="([^"]+)"`).FindStringSubmatch(page)
		require.NotNil(t, txID)
		tok = csrfField.FindStringSubmatch(page)
		post := func(form url.Values) (int, string, string) {
			form.Set("csrf", tok[1])
			return o.post(w.activityURL()+"/transactions", form)
		}
		for _, c := range []struct {
			form url.Values
			says string
		}{
			{url.Values{"kind": {"drawdown"}, "amount": {"abc"}, "use": {"agriculture"}, "transaction_id": {txID[1]}}, "请填写大于0的金额"},
			{url.Values{"kind": {"drawdown"}, "amount": {"-5"}, "use": {"agriculture"}, "transaction_id": {txID[1]}}, "请填写大于0的金额"},
			{url.Values{"kind": {"drawdown"}, "amount": {"100"}, "transaction_id": {txID[1]}}, "用款须选择用途"},
			{url.Values{"kind": {"steal"}, "amount": {"100"}, "transaction_id": {txID[1]}}, "请选择用款或还款"},
			{url.Values{"kind": {"drawdown"}, "amount": {"100"}, "use": {"agriculture"}}, "表单已过期"},
			{url.Values{"kind": {"drawdown"}, "amount": {"99999999"}, "use": {"agriculture"}, "transaction_id": {txID[1]}}, "金额超过可用额度"},
			{url.Values{"kind": {"repayment"}, "amount": {"10"}, "transaction_id": {txID[1]}}, "还款金额超过已用金额"},
		} {
			status, _, body := post(c.form)
			assert.Equal(t, http.StatusBadRequest, status, c.form)
			assert.Contains(t, body, c.says, c.form)
		}
		assert.True(t, w.lineNow(t).Line.Drawn.IsZero(), "nothing drawn")
		status, loc, _ := post(url.Values{"kind": {"drawdown"}, "amount": {"5000"}, "use": {"agriculture"}, "transaction_id": {txID[1]}})
		require.Equal(t, http.StatusSeeOther, status)
		_, _, body = o.get(loc)
		assert.Contains(t, body, "用款已登记")
		assert.Contains(t, body, "金额 5000.00 元 · 农业生产")
		assert.Equal(t, "5000.00", w.lineNow(t).Line.Drawn.StringFixed(2))
		// The same form sent again is the same drawdown.
		status, _, _ = post(url.Values{"kind": {"drawdown"}, "amount": {"5000"}, "use": {"agriculture"}, "transaction_id": {txID[1]}})
		assert.Equal(t, http.StatusSeeOther, status)
		assert.Equal(t, "5000.00", w.lineNow(t).Line.Drawn.StringFixed(2), "a resend draws nothing more")

		// Freezes and why; the officer cannot lift one, the risk manager can.
		w.freeze(t)
		_, _, body = o.get(w.activityURL())
		assert.Contains(t, body, "列入村黑榜")
		assert.Contains(t, body, "解除冻结须由本行风险经理办理")
		status, _, _ = o.post(w.activityURL()+"/unfreeze", url.Values{"csrf": {tok[1]}, "justification": {"核实后为误报，解除冻结"}})
		assert.Equal(t, http.StatusForbidden, status)
		r := w.staff(t, "risk-1")
		rtok := r.csrf(w.activityURL())
		cd, err := idnum.CheckDigit("33048319680301001")
		require.NoError(t, err)
		for _, j := range []string{"", "太短", strings.Repeat("长", 2001), "户主身份证号 33048319680301001" + string(cd) + " 核实无误"} {
			status, _, body := r.post(w.activityURL()+"/unfreeze", url.Values{"csrf": {rtok}, "justification": {j}})
			assert.Equal(t, http.StatusBadRequest, status, j)
			assert.Contains(t, body, `id="justification-error"`, j)
		}
		assert.Equal(t, lending.StatusFrozen, w.lineNow(t).Status, "still frozen")
		status, loc, _ = r.post(w.activityURL()+"/unfreeze", url.Values{"csrf": {rtok}, "justification": {"核实后为误报，解除冻结"}})
		require.Equal(t, http.StatusSeeOther, status)
		_, _, body = r.get(loc)
		assert.Contains(t, body, "已解除冻结")
		assert.Contains(t, body, "解除冻结</td>")
		assert.Equal(t, lending.StatusActive, w.lineNow(t).Status)
		status, _, body = r.post(w.activityURL()+"/unfreeze", url.Values{"csrf": {rtok}, "justification": {"核实后为误报，解除冻结"}})
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "这笔授信现在没有冻结")
		assert.Len(t, w.entries(t, "credit.unfreeze"), 1)
	})
}

func TestBankReviews(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		w := newBLWorld(t, st)
		o := w.staff(t, "officer")
		tok := o.csrf(w.activityURL())
		// Opening a review: a reason is required.
		status, _, body := o.post(w.activityURL()+"/review", url.Values{"csrf": {tok}, "reason": {"  "}})
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "请写明复核原因")
		assert.Empty(t, w.entries(t, credit.ActionReviewOpen))
		status, loc, _ := o.post(w.activityURL()+"/review", url.Values{"csrf": {tok}, "reason": {"客户新建大棚，收入证明已更新"}})
		require.Equal(t, http.StatusSeeOther, status)
		_, _, body = o.get(loc)
		assert.Contains(t, body, "复核已发起")
		assert.Contains(t, body, w.e.hhHead)
		assert.Contains(t, body, "您发起")
		assert.Len(t, w.entries(t, credit.ActionReviewOpen), 1)
		// The bank cannot open a review of a household it may not see.
		_, err := w.e.app.Lending.RequestReview(context.Background(), w.b.officer,
			credit.DecisionName(blBank, "sanzhi-xindai", w.hiddenDecision(t)), "复核")
		assert.True(t, isReason(err, lending.ReasonConsentRequired), "%v", err)

		page, err := w.e.app.BankReviews(context.Background(), w.b.officer, blBank, credit.ReviewOpen, 0, "")
		require.NoError(t, err)
		require.Len(t, page.Rows, 1)
		rvPath := "/console/banks/" + blBank + "/reviews/sanzhi-xindai/" + page.Rows[0].Review.ID
		limit := w.line.Line.Limit.Div(decimal.NewFromInt(2)).Round(0).StringFixed(2)
		for _, c := range []struct {
			form url.Values
			says string
		}{
			{url.Values{"outcome": {"override"}, "limit": {""}, "justification": {"核实收入后应调整额度"}}, "调整时请填写新额度"},
			{url.Values{"outcome": {"override"}, "limit": {"abc"}, "justification": {"核实收入后应调整额度"}}, "请填写不小于0的金额"},
			{url.Values{"outcome": {"override"}, "limit": {"99999999"}, "justification": {"核实收入后应调整额度"}}, "超出政策允许的范围"},
			{url.Values{"outcome": {"override"}, "limit": {limit}, "justification": {"短"}}, "至少10个字"},
			{url.Values{"outcome": {"maybe"}, "justification": {"核实收入后应调整额度"}}, "请选择维持或调整"},
		} {
			c.form.Set("csrf", tok)
			status, _, body := o.post(rvPath+"/resolve", c.form)
			assert.Equal(t, http.StatusBadRequest, status, c.form)
			assert.Contains(t, body, c.says, c.form)
		}
		assert.Empty(t, w.entries(t, "credit.override_propose"), "nothing proposed")
		status, _, _ = o.post(rvPath+"/resolve", url.Values{"csrf": {tok}, "outcome": {"override"}, "limit": {limit},
			"justification": {"核实收入后应调整额度"}})
		require.Equal(t, http.StatusSeeOther, status)
		// Self-approval is refused in words; the line is unchanged.
		status, _, body = o.post(rvPath+"/approve", url.Values{"csrf": {tok}, "limit": {limit}})
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "不能由您自己批准")
		assert.True(t, w.lineNow(t).Line.Limit.Equal(w.line.Line.Limit))
		// A second officer approves what they were shown.
		o2 := w.staff(t, "officer-2")
		tok2 := o2.csrf("/console/banks/" + blBank + "/reviews")
		status, _, body = o2.post(rvPath+"/approve", url.Values{"csrf": {tok2}, "limit": {"1.00"}})
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "拟调整的额度已变化")
		status, loc, _ = o2.post(rvPath+"/approve", url.Values{"csrf": {tok2}, "limit": {limit}})
		require.Equal(t, http.StatusSeeOther, status)
		_, _, body = o2.get(loc)
		assert.Contains(t, body, "调整已批准")
		assert.Equal(t, limit, w.lineNow(t).Line.Limit.StringFixed(2))
		assert.Len(t, w.entries(t, "credit.override_propose"), 1)
		assert.Len(t, w.entries(t, "credit.override"), 1)
		// Closed: nothing more to do.
		status, _, body = o.post(rvPath+"/resolve", url.Values{"csrf": {tok}, "outcome": {"uphold"}, "justification": {"维持原决定，无需调整"}})
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "已经处理完毕")
		status, _, _ = o.get("/console/banks/" + blBank + "/reviews?state=bogus&page=x")
		assert.Equal(t, http.StatusBadRequest, status)
	})
}

// TestBankLoanStatus: an officer reports how the loan on a line stands
// from its activity page; each bad report is said beside its field (or,
// for the state machine, above the form), in Chinese or English, and
// nothing is stored; a risk manager reads the reports but has no form.
func TestBankLoanStatus(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		w := newBLWorld(t, st)
		ctx := context.Background()
		line := credit.LineName(blBank, "sanzhi-xindai", w.line.Line.ID)
		stored := func() int {
			page, err := w.e.app.Lending.ListLoanStatuses(ctx, w.regulator, line, 100, "")
			require.NoError(t, err)
			return len(page.Statuses)
		}
		o := w.staff(t, "officer")
		status, _, page := o.get(w.activityURL())
		require.Equal(t, http.StatusOK, status, page)
		assert.Contains(t, page, "报送还款状态")
		assert.Contains(t, page, "还没有报送过还款状态")
		ev := regexp.MustCompile(`name="event_id" value="([^"]+)"`).FindStringSubmatch(page)
		require.NotNil(t, ev)
		tok := csrfField.FindStringSubmatch(page)
		today := string(household.Today(w.e.app.Lending.Now()))
		day := func(n int) string { return string(household.Today(w.e.app.Lending.Now().AddDate(0, 0, n))) }
		post := func(form url.Values) (int, string, string) {
			form.Set("csrf", tok[1])
			if _, ok := form["event_id"]; !ok {
				form.Set("event_id", ev[1])
			}
			return o.post(w.activityURL()+"/status", form)
		}
		for _, c := range []struct {
			form     url.Values
			id, says string
		}{
			{url.Values{"as_of": {day(1)}, "classification": {"normal"}}, "as_of-error", "截至日期不能晚于今天"},
			{url.Values{"as_of": {day(-1)}, "classification": {"normal"}}, "as_of-error", "不能早于授信开立日"},
			{url.Values{"as_of": {"2026-02-30"}, "classification": {"normal"}}, "as_of-error", "YYYY-MM-DD"},
			{url.Values{"as_of": {today}, "days_past_due": {"三天"}, "classification": {"normal"}}, "days_past_due-error", "整数天数"},
			{url.Values{"as_of": {today}, "days_past_due": {"3"}, "overdue_principal": {"-5"}, "classification": {"normal"}}, "overdue_principal-error", "金额不能为负数"},
			{url.Values{"as_of": {today}, "days_past_due": {"3"}, "overdue_interest": {"1.234"}, "classification": {"normal"}}, "overdue_interest-error", "最多两位小数"},
			{url.Values{"as_of": {today}, "overdue_principal": {"100"}, "classification": {"normal"}}, "days_past_due-error", "须填写逾期天数"},
			{url.Values{"as_of": {today}, "days_past_due": {"95"}, "overdue_principal": {"100"}, "classification": {"normal"}}, "classification-error", "分类不能优于"},
			{url.Values{"as_of": {today}, "classification": {"loss"}}, "classification-error", "损失类须同时报送违约"},
			{url.Values{"as_of": {today}, "classification": {"normal"}, "defaulted": {"1"}}, "defaulted-error", "违约贷款须为次级"},
			{url.Values{"as_of": {today}, "classification": {"AAA"}}, "classification-error", "请选择五级分类"},
			{url.Values{"as_of": {today}, "days_past_due": {"5"}, "overdue_principal": {"100"}, "classification": {"special_mention"}}, "days_past_due-error", "不能超过授信开立以来的天数"},
			{url.Values{"as_of": {today}, "classification": {"normal"}, "event_id": {"forged"}}, "status-error", "表单已过期"},
		} {
			status, _, body := post(c.form)
			assert.Equal(t, http.StatusBadRequest, status, c.form)
			assert.Contains(t, body, `id="`+c.id+`"`, c.form)
			assert.Contains(t, body, c.says, c.form)
		}
		assert.Zero(t, stored(), "nothing stored")

		status, loc, _ := post(url.Values{"as_of": {today}, "classification": {"normal"}})
		require.Equal(t, http.StatusSeeOther, status)
		_, _, body := o.get(loc)
		assert.Contains(t, body, "还款状态已报送")
		assert.Contains(t, body, "<td>正常</td>")
		assert.Equal(t, 1, stored())
		// A written-off loan is final: the refusal is said above the form.
		tok = csrfField.FindStringSubmatch(body)
		ev = regexp.MustCompile(`name="event_id" value="([^"]+)"`).FindStringSubmatch(body)
		status, _, _ = post(url.Values{"as_of": {today}, "classification": {"loss"}, "defaulted": {"1"}, "written_off": {"1"}})
		require.Equal(t, http.StatusSeeOther, status)
		_, _, body = o.get(w.activityURL())
		tok = csrfField.FindStringSubmatch(body)
		ev = regexp.MustCompile(`name="event_id" value="([^"]+)"`).FindStringSubmatch(body)
		status, _, body = post(url.Values{"as_of": {today}, "classification": {"normal"}, "settled": {"1"}})
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, `id="status-error"`)
		assert.Contains(t, body, "已核销")
		assert.Equal(t, 2, stored())
		assert.Len(t, w.entries(t, credit.ActionLoanStatus), 2)

		// English.
		_, _, _ = o.get(w.activityURL() + "?lang=en") // sets the language, then back to the page
		_, _, body = o.get(w.activityURL())
		assert.Contains(t, body, "Report a loan status")
		assert.Contains(t, body, "Written off")
		// The risk manager reads the reports and has no form.
		r := w.staff(t, "risk-1")
		status, _, body = r.get(w.activityURL())
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, "<td>损失</td>")
		assert.NotContains(t, body, `id="report-status"`)
		status, _, _ = r.post(w.activityURL()+"/status", url.Values{"csrf": {r.csrf(w.activityURL())}, "as_of": {today},
			"classification": {"normal"}, "event_id": {ev[1]}})
		assert.Equal(t, http.StatusForbidden, status)
		assert.Equal(t, 2, stored())
	})
}
