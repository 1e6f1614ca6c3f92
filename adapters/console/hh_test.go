package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	policyexamples "github.com/sanzhi/sanzhi/examples/policies"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/evidence"
)

const (
	hhProduct = "banks/tongxiang-rcb/products/sanzhi-xindai"
	hhSHA     = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

// hhBank is the lending side a household's pages read: the example
// policy active at 桐乡农商银行, its officer, and the principals that set
// it up.
type hhBank struct {
	officer, other *access.Principal
}

func hhPrincipal(t *testing.T, e *env, name string, role access.Role, scope access.Scope) *access.Principal {
	t.Helper()
	p := &access.Principal{ID: "id-" + name, Name: name, Role: role, Scope: scope, CreateTime: time.Now().UTC()}
	require.NoError(t, e.st.Principals().CreatePrincipal(context.Background(), p, access.HashKey("sz_"+name)))
	return p
}

func newBank(t *testing.T, e *env) hhBank {
	t.Helper()
	ctx := context.Background()
	bank := access.Scope{Bank: "tongxiang-rcb"}
	require.NoError(t, e.st.Principals().PutBank(ctx, &access.Bank{ID: bank.Bank, Name: "桐乡农商银行"}))
	r1 := hhPrincipal(t, e, "risk-1", access.BankRisk, bank)
	r2 := hhPrincipal(t, e, "risk-2", access.BankRisk, bank)
	b := hhBank{officer: hhPrincipal(t, e, "officer", access.BankOfficer, bank),
		other: hhPrincipal(t, e, "officer-other", access.BankOfficer, access.Scope{Bank: "other-bank"})}
	doc, err := policyexamples.FS.ReadFile(policyexamples.TongxiangFile)
	require.NoError(t, err)
	v, err := e.app.Policies.Upload(ctx, r1, hhProduct, doc)
	require.NoError(t, err)
	_, err = e.app.Policies.Approve(ctx, r2, v.Name())
	require.NoError(t, err)
	_, err = e.app.Policies.Activate(ctx, r1, v.Name())
	require.NoError(t, err)
	return b
}

// request has bank's officer record a counter authorisation of e.hh: a
// pending consent until the household answers it.
func (b hhBank) request(t *testing.T, e *env, officer *access.Principal) *lending.Consent {
	t.Helper()
	c, err := e.app.Lending.Grant(context.Background(), officer, credit.GrantInput{Household: e.hh,
		Bank: resource.Bank(officer.Scope.Bank), Purposes: []string{"assessment", "post_loan"},
		Channel: "counter", AuthorisationHash: hhSHA})
	require.NoError(t, err)
	require.Equal(t, lending.ConsentPending, c.State)
	return c
}

func consentOf(t *testing.T, e *env, id string) *lending.Consent {
	t.Helper()
	hp := &access.Principal{ID: "reader", Role: access.Regulator}
	cs, err := e.app.Lending.ListConsents(context.Background(), hp, e.hh, "")
	require.NoError(t, err)
	for _, c := range cs {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no consent %s", id)
	return nil
}

func onNotice(t *testing.T, e *env) *evidence.Evidence {
	t.Helper()
	page, err := e.app.Evidence.List(context.Background(), evidence.Filter{Parent: e.hh}, 0, "")
	require.NoError(t, err)
	require.Len(t, page.Evidence, 1)
	return page.Evidence[0]
}

// otherHousehold signs in a second household of the same village.
func otherHousehold(t *testing.T, e *env) *client {
	t.Helper()
	h := e.register(t, villageA, "李秀英", 2, "南阳村2组5号")
	code, _, err := e.app.SignIn.IssueCode(context.Background(), e.staff["clerk-a"], villageA, h.ID)
	require.NoError(t, err)
	c := e.client(t)
	c.signInCode(code)
	return c
}

func TestHouseholdPages(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		b := newBank(t, e)
		t.Run("Object", func(t *testing.T) { testObject(t, e) })
		t.Run("Data", func(t *testing.T) { testData(t, e, b) })
		t.Run("Refusals", func(t *testing.T) { testHHRefusals(t, e) })
	})
}

func testObject(t *testing.T, e *env) {
	c := e.client(t)
	c.signInCode(e.code)
	ev := onNotice(t, e)
	status, _, body := c.get("/console/me/notice")
	require.Equal(t, http.StatusOK, status)
	for _, want := range []string{"公示中的事项", "参加百姓议事会", "我有异议", `name="csrf"`, `for="reason-` + ev.ID + `"`} {
		assert.Contains(t, body, want)
	}
	assert.NotContains(t, body, "ZZ-MS-01")
	path := "/console/me/notice/" + ev.ID
	tok := c.csrf("/console/me/notice")
	posted := func() {
		t.Helper()
		assert.Equal(t, evidence.Posted, onNotice(t, e).State, "nothing written")
	}
	// Each bad reason: the message next to the field, nothing written.
	for reason, want := range map[string]string{
		"   ":                       "请写明理由",
		strings.Repeat("不", 501):    "最多500个字",
		"沈建国 " + validID(t) + " 不对": "不能写身份证号",
	} {
		status, _, body := c.post(path, url.Values{"csrf": {tok}, "reason": {reason}})
		assert.Equal(t, http.StatusBadRequest, status, reason)
		assert.Contains(t, body, want)
		assert.Contains(t, body, `aria-invalid="true" aria-describedby="reason-`+ev.ID+`-error"`)
		assert.Contains(t, body, `id="reason-`+ev.ID+`-error" role="alert"`)
		posted()
	}
	// Without its token the form is refused.
	status, _, _ = c.post(path, url.Values{"reason": {"不是我家"}})
	assert.Equal(t, http.StatusForbidden, status)
	posted()
	// Another household cannot reach this entry (the path is its own).
	o := otherHousehold(t, e)
	status, _, _ = o.post(path, url.Values{"csrf": {o.csrf("/console/me/notice")}, "reason": {"不是他家"}})
	assert.Equal(t, http.StatusNotFound, status)
	posted()
	// A clerk has no household pages.
	s := e.client(t)
	s.signIn("clerk-a")
	status, _, _ = s.post(path, url.Values{"csrf": {s.csrf("/console/villages/" + villageA + "/board")}, "reason": {"代为提出"}})
	assert.Equal(t, http.StatusForbidden, status)
	posted()

	status, loc, body := c.post(path, url.Values{"csrf": {tok}, "reason": {"那天我家没人去议事会"}})
	require.Equal(t, http.StatusSeeOther, status, body)
	got := onNotice(t, e)
	assert.Equal(t, evidence.Disputed, got.State)
	assert.Equal(t, "那天我家没人去议事会", got.ObjectReason)
	_, _, body = c.get(loc)
	assert.Contains(t, body, "有异议，待处理")
	assert.Contains(t, body, "已提出异议")
	assert.NotContains(t, body, "我有异议", "no second objection form")
	// Twice: the entry is disputed already, said next to nothing written.
	status, _, body = c.post(path, url.Values{"csrf": {tok}, "reason": {"再说一次"}})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "已经有异议")
}

func testData(t *testing.T, e *env, b hhBank) {
	ctx := context.Background()
	c := e.client(t)
	c.signInCode(e.code)
	req := b.request(t, e, b.officer)
	status, _, body := c.get("/console/me/data")
	require.Equal(t, http.StatusOK, status)
	for _, want := range []string{"我的数据", "银行请您确认", "桐乡农商银行", "贷款审批", "贷后管理", "银行柜台", "等您确认", "同意", "拒绝"} {
		assert.Contains(t, body, want)
	}
	tok := c.csrf("/console/me/data")
	confirm := "/console/me/data/consents/" + req.ID + "/confirm"
	// Refused without a token, and for another household.
	status, _, _ = c.post(confirm, url.Values{})
	assert.Equal(t, http.StatusForbidden, status)
	o := otherHousehold(t, e)
	status, _, _ = o.post(confirm, url.Values{"csrf": {o.csrf("/console/me/data")}})
	assert.Contains(t, []int{http.StatusForbidden, http.StatusNotFound}, status)
	assert.Equal(t, lending.ConsentPending, consentOf(t, e, req.ID).State, "nothing written")

	status, loc, body := c.post(confirm, url.Values{"csrf": {tok}})
	require.Equal(t, http.StatusSeeOther, status, body)
	assert.Equal(t, lending.ConsentGranted, consentOf(t, e, req.ID).State)
	_, _, body = c.get(loc)
	assert.Contains(t, body, "已同意这项授权")
	assert.Contains(t, body, "撤回授权")
	// Confirming again: said, not an error page.
	status, _, body = c.post(confirm, url.Values{"csrf": {tok}})
	assert.Equal(t, http.StatusConflict, status)
	assert.Contains(t, body, "已经处理过了")

	// Another bank asks; the household refuses.
	req2 := b.request(t, e, b.other)
	status, _, _ = c.post("/console/me/data/consents/"+req2.ID+"/refuse", url.Values{"csrf": {tok}})
	require.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, lending.ConsentRefused, consentOf(t, e, req2.ID).State)

	// The bank assesses: My credit shows the line and why.
	v, err := e.app.Lending.Assess(ctx, b.officer, hhProduct, e.hh)
	require.NoError(t, err)
	status, _, body = c.get("/console/me/credit")
	require.Equal(t, http.StatusOK, status)
	text := html.UnescapeString(body)
	for _, want := range []string{"我的贷款", "tongxiang-rcb", v.Line.Limit.StringFixed(2), v.Line.Rate.Mul(decimal.NewFromInt(100)).String(), "为什么是这个结果", "可以用款"} {
		assert.Contains(t, text, want)
	}
	d := v.Decision
	for _, r := range append(append(d.Explanation.KnockOuts, d.Explanation.Declines...), d.Explanation.Reasons...) {
		assert.Contains(t, text, r.ZH)
	}
	assert.NotContains(t, body, "ZZ-MS-01")
	assert.NotContains(t, body, d.ID, "no decision id on the page")
	if testing.Verbose() {
		t.Log(text)
	}
	for _, cf := range d.Explanation.Counterfactuals {
		assert.Contains(t, text, cf.ZH)
	}
	// The example policy's counterfactuals are in points: the page names
	// the points needed and catalogue items (labels) that earn them.
	require.NotEmpty(t, d.Explanation.Counterfactuals)
	assert.Contains(t, text, "怎样可以更好")
	assert.Contains(t, text, "还需要 20 分，例如：")
	assert.Contains(t, text, "参加百姓议事会、村民（代表）会议（每次 +3分）")

	// Who looked: the assessment, in words (once the log has sequenced
	// the record, as sanzhid's publisher does every few seconds).
	_, _, err = e.st.Integrate(ctx, 1000)
	require.NoError(t, err)
	_, _, body = c.get("/console/me/data")
	assert.Contains(t, body, "评估授信")
	assert.Contains(t, body, "已查看")

	// A human review: a reason is required; then asked once.
	name := credit.DecisionName(d.Bank, d.Product, d.ID)
	reviews := func() int {
		p, err := e.app.Lending.ListReviews(ctx, &access.Principal{ID: "reader", Role: access.Regulator}, e.hh, "", 0, "")
		require.NoError(t, err)
		return len(p.Reviews)
	}
	for reason, want := range map[string]string{" ": "请写明理由", strings.Repeat("多", 2001): "最多2000个字"} {
		status, _, body = c.post("/console/me/data/review", url.Values{"csrf": {tok}, "decision": {name}, "reason": {reason}})
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, want)
		assert.Contains(t, body, `aria-invalid="true" aria-describedby="reason-`+d.ID+`-error"`)
		assert.Equal(t, 0, reviews(), "nothing written")
	}
	// Not for another household's decision.
	status, _, _ = o.post("/console/me/data/review", url.Values{"csrf": {o.csrf("/console/me/data")}, "decision": {name}, "reason": {"看看"}})
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, 0, reviews())
	status, loc, body = c.post("/console/me/data/review", url.Values{"csrf": {tok}, "decision": {name}, "reason": {"我家今年新养了蚕，收入比登记的高"}})
	require.Equal(t, http.StatusSeeOther, status, body)
	assert.Equal(t, 1, reviews())
	_, _, body = c.get(loc)
	assert.Contains(t, body, "已申请人工复核")
	assert.Contains(t, body, "处理中")

	// Revoke the live consent.
	status, _, _ = c.post("/console/me/data/consents/"+req.ID+"/revoke", url.Values{"csrf": {tok}})
	require.Equal(t, http.StatusSeeOther, status)
	assert.NotNil(t, consentOf(t, e, req.ID).RevokeTime)
	_, _, body = c.get("/console/me/data")
	assert.Contains(t, body, "已撤回")
}

func testHHRefusals(t *testing.T, e *env) {
	anon := e.client(t)
	for _, p := range []string{"/console/me/notice", "/console/me/credit", "/console/me/data"} {
		status, loc, _ := anon.get(p)
		assert.Equal(t, http.StatusSeeOther, status, p)
		assert.Equal(t, "/console/signin", loc, p)
	}
	s := e.client(t)
	s.signIn("reviewer-a")
	for _, p := range []string{"/console/me/notice", "/console/me/credit", "/console/me/data"} {
		status, _, _ := s.get(p)
		assert.Equal(t, http.StatusForbidden, status, p)
	}
	tok := s.csrf("/console/villages/" + villageA + "/board")
	for _, p := range []string{"/console/me/data/review", "/console/me/data/consents/x/confirm"} {
		status, _, _ := s.post(p, url.Values{"csrf": {tok}, "reason": {"x"}})
		assert.Equal(t, http.StatusForbidden, status, p)
	}
}

func validID(t *testing.T) string {
	const first17 = "33048319680301001"
	c, err := idnum.CheckDigit(first17)
	require.NoError(t, err)
	return first17 + string(c)
}
