package console_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
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
	"github.com/sanzhi/sanzhi/adapters/delivery"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	examples "github.com/sanzhi/sanzhi/examples/policies"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/policies"
)

const (
	riskBankID  = "tongxiang-rcb"
	riskProduct = "sanzhi-xindai"
	otherBankID = "haining-rcb"
)

var riskParent = policies.ProductName(riskBankID, riskProduct)

// riskSetup adds the bank's staff to e — two risk managers (maker and
// checker), an officer, and a risk manager of another bank — with first
// passwords; registers five more households, so that a simulation has
// the five it needs; and activates the example policy as version 1
// (uploaded by risk-1, approved by risk-2).
func riskSetup(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	add := func(name string, role access.Role, bank string) {
		p := &access.Principal{ID: "id-" + name, Name: name, Role: role, Scope: access.Scope{Bank: bank}, CreateTime: time.Now().UTC()}
		require.NoError(t, e.st.Principals().CreatePrincipal(ctx, p, access.HashKey("sz_"+name)))
		e.staff[name] = p
		require.NoError(t, e.app.SignIn.SetPassword(ctx, e.staff["op-1"], name, password))
	}
	add("risk-1", access.BankRisk, riskBankID)
	add("risk-2", access.BankRisk, riskBankID)
	add("officer-1", access.BankOfficer, riskBankID)
	add("risk-other", access.BankRisk, otherBankID)
	for i, head := range []string{"王秀英", "李明华", "张德福", "陈桂兰", "周永康"} {
		e.register(t, villageA, head, int32(1+i%3), "南阳村"+head)
	}
	v, err := e.app.Policies.Upload(ctx, e.staff["risk-1"], riskParent, examplePolicy(t, 1))
	require.NoError(t, err)
	_, err = e.app.Policies.Approve(ctx, e.staff["risk-2"], v.Name())
	require.NoError(t, err)
	_, err = e.app.Policies.Activate(ctx, e.staff["risk-1"], v.Name())
	require.NoError(t, err)
}

// examplePolicy is the example policy as version n.
func examplePolicy(t *testing.T, n int) []byte {
	t.Helper()
	doc, err := examples.FS.ReadFile(examples.TongxiangFile)
	require.NoError(t, err)
	out := bytes.Replace(doc, []byte("\nversion: 1\n"), []byte("\nversion: "+strconv.Itoa(n)+"\n"), 1)
	require.Contains(t, string(out), "\nversion: "+strconv.Itoa(n)+"\n")
	return out
}

// versions counts the product's stored versions.
func (e *env) versions(t *testing.T) int {
	t.Helper()
	page, err := e.app.Policies.List(context.Background(), riskParent, 50, "")
	require.NoError(t, err)
	return len(page.Versions)
}

func (e *env) policyState(t *testing.T, n int) policies.State {
	t.Helper()
	v, err := e.app.Policies.Get(context.Background(), riskParent+"/policies/"+strconv.Itoa(n))
	require.NoError(t, err)
	return v.State
}

// postFile submits a multipart form with the fields and, when doc is not
// nil, the file.
func (c *client) postPolicyFile(path string, fields url.Values, doc []byte) (int, string, string) {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			require.NoError(c.t, mw.WriteField(k, v))
		}
	}
	if doc != nil {
		fw, err := mw.CreateFormFile("file", "policy.yaml")
		require.NoError(c.t, err)
		_, err = fw.Write(doc)
		require.NoError(c.t, err)
	}
	require.NoError(c.t, mw.Close())
	resp, err := c.hc.Post(c.e.srv.URL+path, mw.FormDataContentType(), &body)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

const polPath = "/console/banks/" + riskBankID + "/policies"

// The risk manager's policy pages: the list, each bad upload answered
// beside the document with nothing written, a good upload, its diff, the
// maker refused approving his own upload and activating before approval,
// a simulation with its charts, and the second person's approval.
func TestPolicyPages(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		riskSetup(t, e)
		c := e.client(t)
		c.signIn("risk-1")

		status, _, body := c.get(polPath)
		require.Equal(t, http.StatusOK, status)
		for _, want := range []string{"授信政策版本", "sanzhi-xindai", "使用中", "risk-1", "risk-2", "2024-01-01"} {
			assert.Contains(t, body, want)
		}
		tok := c.csrf(polPath + "/upload")
		up := polPath + "/upload"

		// Bad YAML: the problem at its line, the text kept, nothing stored.
		status, _, body = c.post(up, url.Values{"csrf": {tok}, "document": {"bank: tongxiang-rcb\nproduct: [sanzhi\n"}})
		assert.Equal(t, http.StatusUnprocessableEntity, status)
		assert.Contains(t, body, `id="document-error"`)
		assert.Contains(t, body, `class="bad"`)
		assert.Contains(t, body, "product: [sanzhi")
		assert.Equal(t, 1, e.versions(t))

		// A lint error: the line shown, with the field and the message.
		doc := strings.Replace(string(examplePolicy(t, 2)), "min_score: 540", "min_score: lots", 1)
		line := 1 + strings.Count(doc[:strings.Index(doc, "min_score: lots")], "\n")
		status, _, body = c.post(up, url.Values{"csrf": {tok}, "document": {doc}})
		assert.Equal(t, http.StatusUnprocessableEntity, status)
		assert.Contains(t, body, `<li id="line-`+strconv.Itoa(line)+`" class="bad">`)
		assert.Contains(t, body, `href="#line-`+strconv.Itoa(line)+`"`)
		assert.Contains(t, body, "grades[0].min_score")
		assert.NotRegexp(t, rawKey, body)
		assert.Equal(t, 1, e.versions(t))

		// Nothing pasted, nothing chosen.
		status, _, body = c.post(up, url.Values{"csrf": {tok}, "document": {"  "}})
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "请粘贴政策文件")

		// Another bank's document.
		other := strings.Replace(string(examplePolicy(t, 2)), "bank: tongxiang-rcb", "bank: "+otherBankID, 1)
		status, _, body = c.post(up, url.Values{"csrf": {tok}, "document": {other}})
		assert.Equal(t, http.StatusUnprocessableEntity, status)
		assert.Contains(t, body, "别的银行")
		assert.Equal(t, 1, e.versions(t))

		// Version 1 again with other text: versions never change.
		changed := strings.Replace(string(examplePolicy(t, 1)), "line: {term_months: 12, review_months: 12}", "line: {term_months: 24, review_months: 12}", 1)
		status, _, body = c.post(up, url.Values{"csrf": {tok}, "document": {changed}})
		assert.Equal(t, http.StatusUnprocessableEntity, status)
		assert.Contains(t, body, "版本号已有内容不同的文件")

		// Without its token: refused, nothing stored.
		good := strings.Replace(string(examplePolicy(t, 2)), "line: {term_months: 12, review_months: 12}", "line: {term_months: 24, review_months: 12}", 1)
		status, _, _ = c.postPolicyFile(up, url.Values{}, []byte(good))
		assert.Equal(t, http.StatusForbidden, status)
		assert.Equal(t, 1, e.versions(t))

		// A file: stored as a draft; the page shows the diff.
		status, loc, body := c.postPolicyFile(up, url.Values{"csrf": {tok}}, []byte(good))
		require.Equal(t, http.StatusSeeOther, status, body)
		assert.Equal(t, polPath+"/sanzhi-xindai/2?done=uploaded", loc)
		assert.Equal(t, policies.Draft, e.policyState(t, 2))
		status, _, body = c.get(loc)
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, "已上传")
		assert.Contains(t, body, `<tr class="add">`)
		assert.Contains(t, body, `<tr class="del">`)
		assert.Contains(t, body, "line: {term_months: 24, review_months: 12}")
		assert.Contains(t, body, "(新增)", "an added line says so in words, not only in colour")
		assert.NotRegexp(t, rawKey, body)

		// The uploader may neither approve nor activate it.
		v2 := polPath + "/sanzhi-xindai/2"
		status, _, body = c.post(v2+"/approve", url.Values{"csrf": {tok}})
		assert.Equal(t, http.StatusConflict, status)
		assert.Contains(t, body, `id="approve-error"`)
		assert.Contains(t, body, "须由另一位风险经理批准")
		status, _, body = c.post(v2+"/activate", url.Values{"csrf": {tok}})
		assert.Equal(t, http.StatusConflict, status)
		assert.Contains(t, body, `id="activate-error"`)
		assert.Contains(t, body, "还没有批准")
		status, _, _ = c.post(v2+"/approve", url.Values{})
		assert.Equal(t, http.StatusForbidden, status, "no token")
		assert.Equal(t, policies.Draft, e.policyState(t, 2))

		// A simulation: the report with its charts and their tables.
		status, _, body = c.post(v2+"/simulate", url.Values{"csrf": {tok}})
		require.Equal(t, http.StatusOK, status, body)
		for _, want := range []string{`id="chart-grades"`, `id="chart-limits"`, `id="chart-approvals"`, "<svg", `class="chart-table"`,
			`<td id="households">6</td>`, "使用中的第 1 版", "AAA", `id="fairness"`, "按性别", "不利影响比"} {
			assert.Contains(t, body, want)
		}
		assert.NotContains(t, body, e.hhHead, "a bank's simulation names no household")
		// Six households: every fairness group under five is pooled.
		fair := body[strings.Index(body, `id="fairness"`):]
		assert.Regexp(t, `<th scope="row">[^<]*</th><td class="num">6</td>`, fair, "the six households in one row")
		assert.NotRegexp(t, `<th scope="row">[^<]*</th><td class="num">[1-4]</td>`, fair, "no fairness row describes fewer than five households")
		assert.NotRegexp(t, rawKey, body, "every text has its message")

		// The second risk manager approves, then activates.
		c2 := e.client(t)
		c2.signIn("risk-2")
		tok2 := c2.csrf(v2)
		status, loc, _ = c2.post(v2+"/approve", url.Values{"csrf": {tok2}})
		require.Equal(t, http.StatusSeeOther, status)
		assert.Equal(t, v2+"?done=approved", loc)
		assert.Equal(t, policies.Approved, e.policyState(t, 2))
		status, loc, _ = c2.post(v2+"/activate", url.Values{"csrf": {tok2}})
		require.Equal(t, http.StatusSeeOther, status)
		assert.Equal(t, v2+"?done=activated", loc)
		assert.Equal(t, policies.Active, e.policyState(t, 2))
		assert.Equal(t, policies.Superseded, e.policyState(t, 1))
		_, _, body = c2.get(polPath)
		assert.Contains(t, body, "已替换")

		// In English too.
		c.get(v2 + "?lang=en")
		_, _, body = c.get(v2)
		assert.Contains(t, body, "This is the active version.")
	})
}

// The webhook page: a URL the dispatcher refuses said beside its field
// and nothing stored; the secret shown once, on the answer to setting it,
// and never again; dead letters listed with their replay.
func TestWebhookPage(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		riskSetup(t, e)
		c := e.client(t)
		c.signIn("risk-1")
		ctx := context.Background()
		path := "/console/banks/" + riskBankID + "/webhook"
		status, _, body := c.get(path)
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, `id="none"`)
		tok := c.csrf(path)

		for _, bad := range []string{"http://10.0.0.7/hook", "https://192.168.1.1/hook", "ftp://hooks.example.com/", "https://user:pw@hooks.example.com/", ""} {
			status, _, body = c.post(path, url.Values{"csrf": {tok}, "url": {bad}})
			assert.Equal(t, http.StatusBadRequest, status, bad)
			assert.Contains(t, body, `id="url-error"`, bad)
			assert.Contains(t, body, "这个地址不能用", bad)
			_, err := e.app.Webhooks.Get(ctx, delivery.EndpointName(riskBankID))
			assert.True(t, fault.Is(err, fault.NotFound), "%s: nothing stored", bad)
		}
		status, _, _ = c.post(path, url.Values{"url": {"https://hooks.example.com/sanzhi"}})
		assert.Equal(t, http.StatusForbidden, status, "no token")
		_, err := e.app.Webhooks.Get(ctx, delivery.EndpointName(riskBankID))
		assert.True(t, fault.Is(err, fault.NotFound))

		status, _, body = c.post(path, url.Values{"csrf": {tok}, "url": {"https://hooks.example.com/sanzhi"}})
		require.Equal(t, http.StatusOK, status, body)
		m := secretField.FindStringSubmatch(body)
		require.NotNil(t, m, "the secret is shown")
		secret := m[1]
		assert.Len(t, secret, 43, "32 bytes in base64url")
		_, _, body = c.get(path)
		assert.NotContains(t, body, secret, "never shown again")
		assert.NotContains(t, body, `id="secret"`)
		assert.Contains(t, body, "https://hooks.example.com/sanzhi")
		assert.NotRegexp(t, rawKey, body)

		// Rotating: a new secret, the old one still signing for a while.
		_, _, body = c.post(path, url.Values{"csrf": {tok}, "url": {"https://hooks.example.com/v2"}})
		m = secretField.FindStringSubmatch(body)
		require.NotNil(t, m)
		assert.NotEqual(t, secret, m[1])
		assert.Contains(t, body, `id="previous"`)

		require.NoError(t, st.Webhooks().Write(ctx, func(tx delivery.Writer) error {
			return tx.InsertDeadLetter(ctx, &delivery.DeadLetter{Bank: riskBankID, Seq: 7, EventID: "ev-7", EventType: "line.frozen",
				Attempts: 12, LastError: "HTTP 503", DeadTime: time.Now().UTC()})
		}))
		_, _, body = c.get(path)
		assert.Contains(t, body, `id="dl-7"`)
		assert.Contains(t, body, "line.frozen")
		assert.Contains(t, body, `action="/console/banks/`+riskBankID+`/webhook/dead-letters/7/replay"`)
		status, _, _ = c.post(path+"/dead-letters/7/replay", url.Values{})
		assert.Equal(t, http.StatusForbidden, status, "no token")
	})
}

// rawKey is a message key shown as itself (text's answer for a key with
// no message).
var rawKey = regexp.MustCompile(`\b(?:pol|wh)\.[a-z_]+`)

var secretField = regexp.MustCompile(`<code id="secret">([^<]+)</code>`)

// Everyone but the bank's own risk managers is refused the policy and
// webhook pages, and their forms write nothing: the bank's officer, a
// clerk, a household, and another bank's risk manager.
func TestPolicyPagesRefused(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		riskSetup(t, e)
		good := string(examplePolicy(t, 2))
		clients := map[string]*client{}
		for _, who := range []string{"officer-1", "clerk-a", "household", "risk-other"} {
			c := e.client(t)
			clients[who] = c
			if who == "household" {
				c.signInCode(e.code)
			} else {
				c.signIn(who)
			}
			_, _, home := c.get("/console/")
			m := csrfField.FindStringSubmatch(home)
			tok := ""
			if m != nil {
				tok = m[1]
			} else {
				_, _, body := c.get("/console/password")
				tok = csrfField.FindStringSubmatch(body)[1]
			}
			for _, p := range []string{polPath, polPath + "/upload", polPath + "/sanzhi-xindai/1", "/console/banks/" + riskBankID + "/webhook"} {
				status, _, _ := c.get(p)
				assert.Equal(t, http.StatusForbidden, status, "%s GET %s", who, p)
			}
			for _, p := range []string{polPath + "/sanzhi-xindai/1/approve", polPath + "/sanzhi-xindai/1/activate", polPath + "/sanzhi-xindai/1/simulate", polPath + "/sanzhi-xindai/1/gate"} {
				status, _, _ := c.post(p, url.Values{"csrf": {tok}})
				assert.Equal(t, http.StatusForbidden, status, "%s POST %s", who, p)
			}
			status, _, _ := c.post(polPath+"/upload", url.Values{"csrf": {tok}, "document": {good}})
			assert.Equal(t, http.StatusForbidden, status, who)
			status, _, _ = c.post("/console/banks/"+riskBankID+"/webhook", url.Values{"csrf": {tok}, "url": {"https://evil.example.com/"}})
			assert.Equal(t, http.StatusForbidden, status, who)
		}
		assert.Equal(t, 1, e.versions(t), "nothing uploaded")
		_, err := e.app.Webhooks.Get(context.Background(), delivery.EndpointName(riskBankID))
		assert.True(t, fault.Is(err, fault.NotFound), "no webhook set")
		// Another bank's risk manager has pages of his own bank.
		status, _, _ := clients["risk-other"].get("/console/banks/" + otherBankID + "/policies")
		assert.Equal(t, http.StatusOK, status)
	})
}

// The activation gate on the version page: a version that knocks every
// household out fails its gate (households lose their lines); the page
// shows the report's checks, and the activation form asks for the second
// person's justification. The uploader is refused, a justification too
// short is refused, and a second risk manager with one activates.
func TestPolicyGatePage(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		riskSetup(t, e)
		ctx := context.Background()
		doc := strings.Replace(string(examplePolicy(t, 2)), "when: applicant.age < 18 or applicant.age > 65", "when: applicant.age >= 0", 1)
		require.NotEqual(t, string(examplePolicy(t, 2)), doc)
		_, err := e.app.Policies.Upload(ctx, e.staff["risk-1"], riskParent, []byte(doc))
		require.NoError(t, err)
		_, err = e.app.Policies.Approve(ctx, e.staff["risk-2"], riskParent+"/policies/2")
		require.NoError(t, err)
		v2 := polPath + "/sanzhi-xindai/2"

		c := e.client(t)
		c.signIn("risk-1")
		status, _, body := c.get(v2)
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, `id="gate-none"`)
		assert.NotContains(t, body, `id="gate-justification"`, "no failed report yet")
		tok := c.csrf(v2)

		// Evaluate: the report with its failing check, in words.
		status, loc, _ := c.post(v2+"/gate", url.Values{"csrf": {tok}})
		require.Equal(t, http.StatusSeeOther, status)
		assert.Equal(t, v2+"?done=gate#gate", loc)
		_, _, body = c.get(v2)
		for _, want := range []string{`id="gate-checks"`, `class="gate-fail"`, "失去授信户占比", "未通过", "对照使用中的第 1 版", `id="gate-justification"`} {
			assert.Contains(t, body, want)
		}
		assert.NotRegexp(t, rawKey, body, "every text has its message")
		r, err := e.app.Policies.LatestGate(ctx, riskParent+"/policies/2")
		require.NoError(t, err)
		require.False(t, r.Passed)

		// Activation without a justification; by the uploader; too short.
		status, _, body = c.post(v2+"/activate", url.Values{"csrf": {tok}})
		assert.Equal(t, http.StatusConflict, status)
		assert.Contains(t, body, "没有通过启用门槛")
		const why = "风险委员会第3次会议同意：暂停授信两周，用于核对村级数据后恢复。"
		status, _, body = c.post(v2+"/activate", url.Values{"csrf": {tok}, "gate_justification": {why}})
		assert.Equal(t, http.StatusConflict, status)
		assert.Contains(t, body, "是您上传的")
		assert.Contains(t, body, why, "the text stays in its box")
		c2 := e.client(t)
		c2.signIn("risk-2")
		tok2 := c2.csrf(v2)
		status, _, body = c2.post(v2+"/activate", url.Values{"csrf": {tok2}, "gate_justification": {"太短"}})
		assert.Equal(t, http.StatusConflict, status)
		assert.Contains(t, body, "理由须为 20 到 2000 个字")
		assert.Equal(t, policies.Approved, e.policyState(t, 2), "nothing activated")

		status, loc, _ = c2.post(v2+"/activate", url.Values{"csrf": {tok2}, "gate_justification": {why}})
		require.Equal(t, http.StatusSeeOther, status)
		assert.Equal(t, v2+"?done=activated", loc)
		assert.Equal(t, policies.Active, e.policyState(t, 2))

		// In English.
		c2.get(v2 + "?lang=en")
		_, _, body = c2.get(v2)
		assert.Contains(t, body, "share of households losing a line")
		assert.Contains(t, body, "FAIL")
	})
}
