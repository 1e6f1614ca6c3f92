package console_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/lending/credit"
)

// audFixture is the regulator's world: the log published with a signing
// key, one credit decision of 桐乡农商银行 about e.hh, and staff of every
// other role with passwords, to be refused.
type audFixture struct {
	regulator *access.Principal
	bank      hhBank
	decision  string // the decision's resource name
	vkey      string
}

// audSetup gives e's app a signing key (newEnv builds none) and makes a
// decision to replay; the regulator and the bank officer get passwords.
func audSetup(t *testing.T, e *env) audFixture {
	t.Helper()
	ctx := context.Background()
	skey, vkey, err := audit.GenerateKey("sanzhi.test/audit")
	require.NoError(t, err)
	l, err := merklelog.New(e.st, skey, time.Now)
	require.NoError(t, err)
	e.app.Audit = l // the console reads the app's log at each request
	f := audFixture{bank: newBank(t, e), vkey: vkey}
	f.regulator = hhPrincipal(t, e, "regulator-1", access.Regulator, access.Scope{})
	for _, n := range []string{"regulator-1", "officer"} {
		require.NoError(t, e.app.SignIn.SetPassword(ctx, e.staff["op-1"], n, password))
	}
	c := f.bank.request(t, e, f.bank.officer)
	_, err = e.app.Lending.Countersign(ctx, e.staff["clerk-a"], credit.ConsentName(villageA, strings.TrimPrefix(e.hh, "villages/"+villageA+"/households/"), c.ID), hhSHA)
	require.NoError(t, err)
	v, err := e.app.Lending.Assess(ctx, f.bank.officer, hhProduct, e.hh)
	require.NoError(t, err)
	f.decision = credit.DecisionName(v.Decision.Bank, v.Decision.Product, v.Decision.ID)
	_, err = l.Publish(ctx)
	require.NoError(t, err)
	return f
}

// regulatorClient signs the regulator in (first password changed).
func regulatorClient(t *testing.T, e *env) *client {
	c := e.client(t)
	c.signIn("regulator-1")
	return c
}

func TestAuditPages(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		f := audSetup(t, e)
		c := regulatorClient(t, e)
		t.Run("Explorer", func(t *testing.T) { testAudExplorer(t, e, c) })
		t.Run("Entry", func(t *testing.T) { testAudEntry(t, e, c) })
		t.Run("Replay", func(t *testing.T) { testAudReplay(t, e, f, c) })
		t.Run("Records", func(t *testing.T) { testAudRecords(t, e, c) })
		t.Run("Policies", func(t *testing.T) { testAudPolicies(t, e, c) })
		t.Run("Export", func(t *testing.T) { testAudExport(t, e, f, c) })
		t.Run("Refusals", func(t *testing.T) { testAudRefusals(t, e, f) })
	})
}

// errorBy returns the text of the error paragraph id on the page.
func errorBy(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<p class="error" id="` + id + `" role="alert">([^<]*)</p>`).FindStringSubmatch(body)
	require.NotNil(t, m, "no %s on the page", id)
	return html.UnescapeString(m[1])
}

func testAudExplorer(t *testing.T, e *env, c *client) {
	ctx := context.Background()
	cp, err := e.app.Audit.Checkpoint(ctx, 0)
	require.NoError(t, err)
	status, _, body := c.get("/console/audit")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `<dd id="cp-size">`+strconv.FormatUint(cp.Size, 10)+`</dd>`)
	assert.Contains(t, body, hex.EncodeToString(cp.Root))
	assert.Contains(t, html.UnescapeString(body), cp.Note, "the signed note as it is")
	assert.Contains(t, html.UnescapeString(body), e.app.Audit.VerifierKey())
	assert.Contains(t, body, "用日志公钥验证通过")
	assert.Contains(t, body, `id="e-0"`)

	// A second checkpoint: the first is history, proved consistent. The
	// replays (an entry each) make the log longer than a page.
	for range 40 {
		_, err = e.app.Lending.ReplayDecision(ctx, &access.Principal{ID: "someone", Role: access.Regulator}, auditDecision(t, e))
		require.NoError(t, err)
	}
	_, err = e.app.Audit.Publish(ctx)
	require.NoError(t, err)
	_, _, body = c.get("/console/audit")
	assert.Regexp(t, `<td class="num" data-label="条目数">`+strconv.FormatUint(cp.Size, 10)+`</td>`, body)
	assert.Contains(t, body, "一致（")

	// Filters: by action; the decision's entry is listed, a clerk's is not.
	_, _, body = c.get("/console/audit?action=credit.assess")
	assert.Contains(t, body, "credit.assess")
	assert.NotContains(t, body, "household.create")
	_, _, body = c.get("/console/audit?subject=" + url.QueryEscape(e.hh))
	assert.Contains(t, body, "household.create")
	assert.NotContains(t, body, "catalogue.upload")
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	_, _, body = c.get("/console/audit?since=" + today + "&until=" + today)
	assert.Contains(t, body, `id="e-0"`)
	_, _, body = c.get("/console/audit?since=2001-01-01&until=2001-01-02")
	assert.Contains(t, body, `id="entries-none"`)

	// Bad filters: each message next to its field, in zh-CN and en.
	status, _, body = c.get("/console/audit?since=yesterday")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "日期要写成 2026-03-01 这样。", errorBy(t, body, "since-error"))
	status, _, body = c.get("/console/audit?since=2026-03-02&until=2026-02-30")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "日期要写成 2026-03-01 这样。", errorBy(t, body, "until-error"))
	status, _, body = c.get("/console/audit?since=2026-03-02&until=2026-03-01")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "截止日期不能早于起始日期。", errorBy(t, body, "until-error"))
	status, _, body = c.get("/console/audit?page=forged")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, errorBy(t, body, "page-error"), "翻页链接已失效")
	status, _, body = c.get("/console/audit?entry=abc")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "条目编号是从 0 开始的整数。", errorBy(t, body, "entry-error"))
	status, _, body = c.get("/console/audit?entry=999999")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Contains(t, errorBy(t, body, "entry-error"), "没有第 999999 条")
	status, loc, _ := c.get("/console/audit?entry=0")
	assert.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, "/console/audit/entries/0", loc)
	status, _, _ = c.get("/console/audit/entries/999999")
	assert.Equal(t, http.StatusNotFound, status)
	status, _, _ = c.get("/console/audit/entries/-1")
	assert.Equal(t, http.StatusNotFound, status)

	// In English.
	c.get("/console/audit?lang=en")
	_, _, body = c.get("/console/audit?since=yesterday")
	assert.Equal(t, "Write the day as 2026-03-01.", errorBy(t, body, "since-error"))
	c.get("/console/audit?lang=zh")

	// Paging: the next link carries the filter; following it to the end
	// lists every entry once.
	cp, err = e.app.Audit.Checkpoint(ctx, 0)
	require.NoError(t, err)
	seen := map[string]bool{}
	next := "/console/audit"
	for pages := 0; next != ""; pages++ {
		require.Less(t, pages, 10, "paging ends")
		_, _, body = c.get(next)
		for _, m := range regexp.MustCompile(`<tr id="e-(\d+)">`).FindAllStringSubmatch(body, -1) {
			assert.False(t, seen[m[1]], "entry %s twice", m[1])
			seen[m[1]] = true
		}
		next = ""
		if m := regexp.MustCompile(`id="next" href="([^"]+)"`).FindStringSubmatch(body); m != nil {
			next = html.UnescapeString(m[1])
		}
	}
	assert.GreaterOrEqual(t, len(seen), int(cp.Size))
	assert.Greater(t, int(cp.Size), 50, "more than one page")
}

func auditDecision(t *testing.T, e *env) string {
	t.Helper()
	l, err := e.st.ListEntries(context.Background(), sqlstore.EntryQuery{Action: credit.ActionAssess, AfterSeq: -1, Limit: 1})
	require.NoError(t, err)
	require.Len(t, l, 1)
	en, err := audit.ParseEntry(l[0].Data)
	require.NoError(t, err)
	return en.Payload["decision"]
}

var dataAttr = regexp.MustCompile(`data-([a-z]+)="([^"]*)"`)

// verifyData reads the data attributes verify.js is given.
func verifyData(t *testing.T, body string) map[string]string {
	t.Helper()
	i := strings.Index(body, `id="verify"`)
	require.Positive(t, i)
	end := strings.Index(body[i:], ">")
	out := map[string]string{}
	for _, m := range dataAttr.FindAllStringSubmatch(body[i:i+end], -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

func testAudEntry(t *testing.T, e *env, c *client) {
	ctx := context.Background()
	cp, err := e.app.Audit.Checkpoint(ctx, 0)
	require.NoError(t, err)
	seq := cp.Size / 2
	leaf, err := e.st.Leaf(ctx, seq)
	require.NoError(t, err)
	status, _, body := c.get("/console/audit/entries/" + strconv.FormatUint(seq, 10))
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "审计条目 "+strconv.FormatUint(seq, 10))
	assert.Contains(t, html.UnescapeString(body), string(leaf.Data), "the leaf bytes shown as they are")
	assert.Contains(t, body, hex.EncodeToString(audit.LeafHash(leaf.Data)))
	assert.Contains(t, body, `integrity="sha384-`)
	assert.NotContains(t, body, `id="tampered"`)

	// What the script is given is what the server hashes and proves.
	d := verifyData(t, body)
	data, err := base64.StdEncoding.DecodeString(d["leaf"])
	require.NoError(t, err)
	assert.Equal(t, leaf.Data, data)
	note, err := base64.StdEncoding.DecodeString(d["note"])
	require.NoError(t, err)
	assert.Equal(t, cp.Note, string(note))
	assert.Equal(t, e.app.Audit.VerifierKey(), d["vkey"])
	var path [][]byte
	for _, h := range strings.Fields(d["path"]) {
		b, err := base64.StdEncoding.DecodeString(h)
		require.NoError(t, err)
		path = append(path, b)
	}
	require.NotEmpty(t, path)
	opened, err := audit.OpenCheckpoint(note, e.app.Audit.Origin(), e.app.Audit.Verifier())
	require.NoError(t, err)
	require.NoError(t, audit.VerifyInclusion(opened, seq, data, path))

	// The tampered variant is labelled and its proof fails.
	_, _, body = c.get("/console/audit/entries/" + strconv.FormatUint(seq, 10) + "?tamper=1")
	assert.Contains(t, body, `id="tampered"`)
	assert.Contains(t, body, "故意改动了一个字节")
	assert.NotContains(t, body, `id="receipt"`)
	d = verifyData(t, body)
	var bad [][]byte
	for _, h := range strings.Fields(d["path"]) {
		b, _ := base64.StdEncoding.DecodeString(h)
		bad = append(bad, b)
	}
	assert.ErrorIs(t, audit.VerifyInclusion(opened, seq, data, bad), audit.ErrRootMismatch)

	// The receipt verifies offline with the published key.
	status, _, body = c.get("/console/audit/entries/" + strconv.FormatUint(seq, 10) + "/receipt")
	require.Equal(t, http.StatusOK, status)
	var r audit.Receipt
	require.NoError(t, json.Unmarshal([]byte(body), &r))
	_, _, err = audit.VerifyReceipt(r, "", e.app.Audit.Verifier())
	require.NoError(t, err)

	// The static file is served as pinned.
	status, _, js := c.get("/console/static/verify.js")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, js, `crypto.subtle.verify({ name: "Ed25519" }`)
}

func testAudReplay(t *testing.T, e *env, f audFixture, c *client) {
	ctx := context.Background()
	tok := c.csrf("/console/audit/replay")
	before := countAction(t, e, credit.ActionReplay)
	status, _, body := c.post("/console/audit/replay", url.Values{"csrf": {tok}, "decision": {f.decision}})
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `data-result="identical"`)
	assert.Contains(t, body, "一致 IDENTICAL")
	_, err := e.app.Audit.Publish(ctx)
	require.NoError(t, err)
	assert.Equal(t, before+1, countAction(t, e, credit.ActionReplay), "the replay is on record")

	for _, tc := range []struct{ decision, msg string }{
		{"", "请填写决策名称。"},
		{"banks/tongxiang-rcb/decisions/x", "决策名称的格式是 banks/银行/products/产品/decisions/编号。"},
		{hhProduct + "/decisions/no-such-decision", "没有这个决策。"},
	} {
		status, _, body := c.post("/console/audit/replay", url.Values{"csrf": {tok}, "decision": {tc.decision}})
		assert.Contains(t, []int{http.StatusBadRequest, http.StatusNotFound}, status, tc.decision)
		assert.Equal(t, tc.msg, errorBy(t, body, "decision-error"), tc.decision)
		assert.NotContains(t, body, `id="result"`)
	}
	// Without the form's token: refused, nothing replayed.
	status, _, _ = c.post("/console/audit/replay", url.Values{"decision": {f.decision}})
	assert.Equal(t, http.StatusForbidden, status)
}

// countAction counts the sequenced and queued entries of an action.
func countAction(t *testing.T, e *env, action string) int {
	t.Helper()
	_, err := e.app.Audit.Publish(context.Background())
	require.NoError(t, err)
	l, err := e.st.ListEntries(context.Background(), sqlstore.EntryQuery{Action: action, AfterSeq: -1, Limit: 1000})
	require.NoError(t, err)
	return len(l)
}

func testAudRecords(t *testing.T, e *env, c *client) {
	status, _, body := c.get("/console/audit/records?household=" + url.QueryEscape(e.hh))
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, e.hhHead)
	assert.Contains(t, body, "评估授信")
	assert.Contains(t, body, `id="records"`)

	// By the head's 身份证号 (POST): a household no bank has looked at.
	tok := c.csrf("/console/audit/records")
	h, id := registered(t, e, "王秀兰", 4, "南阳村4组8号")
	status, _, body = c.post("/console/audit/records", url.Values{"csrf": {tok}, "village": {villageA}, "id_number": {strings.ToLower(id)}})
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, "王秀兰")
	assert.Contains(t, body, h.ID)
	assert.Contains(t, body, `id="records-none"`)
	assert.NotContains(t, body, id, "the number is not echoed")

	for _, tc := range []struct {
		form       url.Values
		field, msg string
	}{
		{url.Values{"village": {"12"}, "id_number": {id}}, "village-error", "村代码是12位数字。"},
		{url.Values{"village": {villageA}}, "id-error", "请填写户主身份证号。"},
		{url.Values{"village": {villageA}, "id_number": {"33048319680301123X"}}, "id-error", "身份证号不对，请核对18位号码和最后一位校验码。"},
		{url.Values{"village": {villageB}, "id_number": {id}}, "id-error", "这个村没有以此人为户主的农户。"},
	} {
		tc.form.Set("csrf", tok)
		status, _, body := c.post("/console/audit/records", tc.form)
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Equal(t, tc.msg, errorBy(t, body, tc.field))
		assert.NotContains(t, body, `id="found"`)
	}
	status, _, body = c.get("/console/audit/records?household=villages/1/households/x")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "资源名的格式是 villages/村代码/households/编号。", errorBy(t, body, "household-error"))
	status, _, body = c.get("/console/audit/records?household=" + url.QueryEscape("villages/"+villageA+"/households/0190e6a2-0000-7000-8000-000000000000"))
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "没有这一户。", errorBy(t, body, "household-error"))
}

func testAudPolicies(t *testing.T, e *env, c *client) {
	status, _, body := c.get("/console/audit/policies")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "banks/tongxiang-rcb")
	status, _, body = c.get("/console/audit/policies?product=" + url.QueryEscape(hhProduct))
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `href="/console/audit/policies/tongxiang-rcb/sanzhi-xindai/1"`)
	assert.Contains(t, body, "risk-2")
	status, _, body = c.get("/console/audit/policies/tongxiang-rcb/sanzhi-xindai/1")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `id="document"`)
	assert.Contains(t, body, `id="simulations-none"`)
	// The gate report its activation attached.
	assert.Contains(t, body, `id="gate-checks"`)
	assert.Contains(t, body, "启用门槛")
	assert.Contains(t, body, "评分稳定性 PSI")
	// A simulation the bank ran is listed with the hash of its output
	// (it needs five households at least).
	for i := range 4 {
		e.register(t, villageA, "测试户"+strconv.Itoa(i), 5, "南阳村5组"+strconv.Itoa(i)+"号")
	}
	risk := &access.Principal{ID: "id-risk-1", Role: access.BankRisk, Scope: access.Scope{Bank: "tongxiang-rcb"}}
	_, err := e.app.Simulator.Simulate(access.WithPrincipal(context.Background(), risk),
		app.SimulationRequest{Name: hhProduct + "/policies/1"})
	require.NoError(t, err)
	_, err = e.app.Audit.Publish(context.Background())
	require.NoError(t, err)
	_, _, body = c.get("/console/audit/policies/tongxiang-rcb/sanzhi-xindai/1")
	assert.Contains(t, body, `id="simulations"`)
	assert.Contains(t, body, "id-risk-1 (bank_risk)")
	status, _, body = c.get("/console/audit/policies?product=banks/x")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "产品名称的格式是 banks/银行/products/产品。", errorBy(t, body, "product-error"))
	status, _, body = c.get("/console/audit/policies?product=banks/tongxiang-rcb/products/nothing-here")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "这个产品没有政策版本。", errorBy(t, body, "product-error"))
	status, _, _ = c.get("/console/audit/policies/tongxiang-rcb/sanzhi-xindai/99")
	assert.Equal(t, http.StatusNotFound, status)
	status, _, _ = c.get("/console/audit/policies/tongxiang-rcb/sanzhi-xindai/x")
	assert.Equal(t, http.StatusNotFound, status)
}

func testAudExport(t *testing.T, e *env, f audFixture, c *client) {
	ctx := context.Background()
	tok := c.csrf("/console/audit")
	before := countAction(t, e, merklelog.ActionExport)
	resp, err := c.hc.PostForm(e.srv.URL+"/console/audit/export", url.Values{"csrf": {tok}, "format": {"jsonl"}})
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	require.NoError(t, err)
	v, err := audit.NewVerifier(f.vkey)
	require.NoError(t, err)
	rep, err := merklelog.VerifyExport(&buf, v, nil, nil)
	require.NoError(t, err, "the download verifies offline")
	assert.Positive(t, rep.Leaves)
	assert.Equal(t, before+1, countAction(t, e, merklelog.ActionExport), "the export is on record")
	_ = ctx

	for _, tc := range []struct {
		form       url.Values
		field, msg string
	}{
		{url.Values{"format": {"xml"}}, "export-format-error", "请选择 JSON Lines 或 CSV。"},
		{url.Values{"format": {"csv"}, "from": {"x"}}, "export-from-error", "起始条目是从 0 开始的整数。"},
		{url.Values{"format": {"jsonl"}, "from": {"99999999"}}, "export-from-error", "起始条目超过了最新检查点的条目数。"},
	} {
		tc.form.Set("csrf", tok)
		n := countAction(t, e, merklelog.ActionExport)
		status, _, body := c.post("/console/audit/export", tc.form)
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Equal(t, tc.msg, errorBy(t, body, tc.field))
		assert.Equal(t, n, countAction(t, e, merklelog.ActionExport), "nothing recorded")
	}
}

// Only a regulator: a bank officer, a clerk and a household are refused
// every audit page, and a signed-out visitor is sent to sign in.
func testAudRefusals(t *testing.T, e *env, f audFixture) {
	officer := e.client(t)
	officer.signIn("officer")
	clerk := e.client(t)
	clerk.signIn("clerk-a")
	hh := e.client(t)
	hh.signInCode(e.code)
	gets := []string{"/console/audit", "/console/audit/entries/0", "/console/audit/entries/0/receipt",
		"/console/audit/replay", "/console/audit/records?household=" + url.QueryEscape(e.hh),
		"/console/audit/policies?product=" + url.QueryEscape(hhProduct), "/console/audit/policies/tongxiang-rcb/sanzhi-xindai/1"}
	for name, c := range map[string]*client{"officer": officer, "clerk": clerk, "household": hh} {
		for _, p := range gets {
			status, _, body := c.get(p)
			assert.Equal(t, http.StatusForbidden, status, "%s %s", name, p)
			assert.Contains(t, body, "您没有查看这个页面的权限。")
		}
		tok := c.csrf("/console/password")
		n := countAction(t, e, credit.ActionReplay)
		for p, form := range map[string]url.Values{
			"/console/audit/replay":  {"decision": {f.decision}},
			"/console/audit/records": {"village": {villageA}, "id_number": {"330483196803011234"}},
			"/console/audit/export":  {"format": {"jsonl"}},
		} {
			form.Set("csrf", tok)
			status, _, _ := c.post(p, form)
			assert.Equal(t, http.StatusForbidden, status, "%s %s", name, p)
		}
		assert.Equal(t, n, countAction(t, e, credit.ActionReplay), "no replay by %s", name)
	}
	anon := e.client(t)
	status, loc, _ := anon.get("/console/audit/entries/0")
	assert.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, "/console/signin", loc)
}
