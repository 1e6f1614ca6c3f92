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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
)

func TestClerk(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		c := e.client(t)
		c.signIn("clerk-a")
		t.Run("FindHouseholds", func(t *testing.T) { testFind(t, e, c) })
		t.Run("RegisterHousehold", func(t *testing.T) { testRegister(t, e, c) })
		t.Run("RegisterBadInput", func(t *testing.T) { testRegisterBadInput(t, e, c) })
		t.Run("UpdateFacts", func(t *testing.T) { testUpdate(t, e, c) })
		t.Run("AccessCode", func(t *testing.T) { testCode(t, e, c) })
		t.Run("RecordEvidence", func(t *testing.T) { testEvidence(t, e, c) })
		t.Run("EvidenceBadInput", func(t *testing.T) { testEvidenceBadInput(t, e, c) })
		t.Run("Catalogue", func(t *testing.T) { testCatalogue(t, e, c) })
		t.Run("Refusals", func(t *testing.T) { testClerkRefusals(t, e, c) })
	})
}

// idNumber returns a valid 身份证号 not used before in this test binary.
func idNumber(t *testing.T) string {
	t.Helper()
	first17 := fmt.Sprintf("330483197%d%02d%02d%03d", seq.Add(1)%10, 1+seq.Add(1)%12, 1+seq.Add(1)%28, seq.Add(1)%1000)
	c, err := idnum.CheckDigit(first17)
	require.NoError(t, err)
	return first17 + string(c)
}

// registered registers a household of villageA with a known 身份证号.
func registered(t *testing.T, e *env, head string, group int32, addr string) (*household.Household, string) {
	t.Helper()
	id := idNumber(t)
	h, err := e.app.Households.Create(context.Background(), e.staff["clerk-a"], household.CreateInput{
		Parent: resource.Village(villageA), HeadName: head, HeadIDNumber: id, Group: group, Address: addr,
		Registered: "2010-03-01", RequestID: fmt.Sprintf("t-%d", seq.Add(1)),
		Facts: &household.FactsInput{Members: 3, Labourers: 2, AnnualIncome: "52000", LandAreaMu: "2.5",
			CollectiveShares: "5", ExistingDebt: "0", Source: "村委会登记", AsOf: "2026-01-01"},
	})
	require.NoError(t, err)
	return h, id
}

func households(t *testing.T, e *env, village string) []*household.Household {
	t.Helper()
	all, _, err := e.app.FindHouseholds(context.Background(), village, app.HouseholdQuery{})
	require.NoError(t, err)
	return all
}

func hhPath(h *household.Household) string {
	return "/console/villages/" + h.Village + "/households/" + h.ID
}

func testFind(t *testing.T, e *env, c *client) {
	h, id := registered(t, e, "钱秀英", 5, "南阳村5组8号")
	_, _ = registered(t, e, "钱国庆", 6, "南阳村6组2号")
	base := "/console/villages/" + villageA + "/households"
	status, _, body := c.get(base)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "查找农户")
	tok := csrfField.FindStringSubmatch(body)[1]
	search := func(form url.Values) (int, string) {
		form.Set("csrf", tok)
		status, _, body := c.post(base+"/search", form)
		return status, html.UnescapeString(body)
	}
	// By name, group, 门牌: head, group, house number and the masked number.
	for _, form := range []url.Values{{"name": {"秀英"}}, {"group": {"5"}, "name": {"钱"}}, {"address": {"5组8号"}}, {"group": {"5组"}}} {
		status, body := search(form)
		assert.Equal(t, http.StatusOK, status, form)
		assert.Contains(t, body, "钱秀英", form)
		assert.Contains(t, body, "5组", form)
		assert.Contains(t, body, "南阳村5组8号", form)
		assert.Contains(t, body, h.HeadIDMasked, form)
		assert.NotContains(t, body, "钱国庆", form)
		assert.NotContains(t, body, id, form)
		assert.NotContains(t, body, ">"+h.ID+"<", "no id shown")
	}
	// The name alone finds both.
	_, body = search(url.Values{"name": {"钱"}})
	assert.Contains(t, body, "钱国庆")
	// By 身份证号, posted: found, and the number is not sent back.
	status, body = search(url.Values{"id_number": {strings.ToLower(id)}})
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "钱秀英")
	assert.NotContains(t, body, id)
	// Someone not registered here: nothing found.
	_, body = search(url.Values{"id_number": {idNumber(t)}})
	assert.Contains(t, body, "没有找到符合的农户")
	// A bad number, a bad group: the message next to the field.
	status, body = search(url.Values{"id_number": {id[:17] + "0"}})
	if id[17] == '0' {
		status, body = search(url.Values{"id_number": {id[:17] + "1"}})
	}
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `id="id-error"`)
	assert.Contains(t, body, "身份证号不对")
	status, body = search(url.Values{"group": {"一百"}})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, `aria-describedby="group-error"`)
	assert.Contains(t, body, "组请填1到99之间的数字")
	// Nothing matches.
	_, body = search(url.Values{"name": {"没有这个人"}})
	assert.Contains(t, body, "没有找到符合的农户")
}

// goodHousehold is a complete registration form.
func goodHousehold(t *testing.T, head string) url.Values {
	return url.Values{"head_name": {head}, "head_id_number": {idNumber(t)}, "group": {"4"}, "address": {"南阳村4组15号"},
		"registered": {"2005-06-01"}, "members": {"5"}, "labourers": {"3"}, "annual_income": {"98000.50"},
		"land_area_mu": {"4.2"}, "collective_shares": {"10"}, "existing_debt": {"20000"}, "source": {"入户调查"},
		"as_of": {"2026-01-15"}}
}

func formToken(t *testing.T, c *client, path string) (csrf, requestID string) {
	t.Helper()
	status, _, body := c.get(path)
	require.Equal(t, http.StatusOK, status, path)
	m := regexp.MustCompile(`name="request_id" value="([^"]+)"`).FindStringSubmatch(body)
	require.NotNil(t, m, "no request id on %s", path)
	return csrfField.FindStringSubmatch(body)[1], m[1]
}

func testRegister(t *testing.T, e *env, c *client) {
	before := len(households(t, e, villageA))
	tok, req := formToken(t, c, "/console/villages/"+villageA+"/households/new")
	form := goodHousehold(t, "孙丽华")
	form.Set("csrf", tok)
	form.Set("request_id", req)
	form.Set("dishonest", "on")
	status, loc, body := c.post("/console/villages/"+villageA+"/households", form)
	require.Equal(t, http.StatusSeeOther, status, body)
	require.Contains(t, loc, "?done=registered")
	// A double submit of the same form is the same household.
	status, loc2, _ := c.post("/console/villages/"+villageA+"/households", form)
	require.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, loc, loc2)
	assert.Len(t, households(t, e, villageA), before+1)

	status, _, body = c.get(loc)
	require.Equal(t, http.StatusOK, status)
	text := html.UnescapeString(body)
	for _, want := range []string{"已登记", "孙丽华", "4组", "南阳村4组15号", "98000.50", "入户调查", "第1版", "列入失信被执行人名单"} {
		assert.Contains(t, text, want)
	}
	assert.NotContains(t, body, form.Get("head_id_number"))
	found := households(t, e, villageA)
	h := found[len(found)-1]
	assert.Equal(t, "孙丽华", h.HeadName)
	assert.True(t, h.Facts.DishonestDebtor)
	assert.Equal(t, int32(4), h.Group)
}

func testRegisterBadInput(t *testing.T, e *env, c *client) {
	path := "/console/villages/" + villageA + "/households"
	tok, _ := formToken(t, c, path+"/new")
	before := len(households(t, e, villageA))
	future := time.Now().AddDate(0, 0, 3).Format(time.DateOnly)
	_, taken := registered(t, e, "周建华", 2, "南阳村2组1号")
	before++
	cases := []struct{ field, value, want string }{
		{"head_name", "", "请填写这一项"},
		{"head_id_number", "", "请填写这一项"},
		{"head_id_number", "33048319800101123", ""},
		{"head_id_number", taken, "此人已是一户的户主"},
		{"group", "0", ""},
		{"group", "三", "请填一个整数"},
		{"registered", "2005/06/01", ""},
		{"registered", future, ""},
		{"members", "51", ""},
		{"labourers", "9", ""},
		{"annual_income", "九万", ""},
		{"land_area_mu", "-1", ""},
		{"collective_shares", "1e3", ""},
		{"existing_debt", "1.234", ""},
		{"source", "", "请填写这一项"},
		{"as_of", future, ""},
		{"address", "户主 " + idNumber(t), "不得包含身份证号"},
	}
	for _, tc := range cases {
		form := goodHousehold(t, "吴小明")
		form.Set("csrf", tok)
		form.Set(tc.field, tc.value)
		status, _, body := c.post(path, form)
		assert.Equal(t, http.StatusBadRequest, status, "%s=%q", tc.field, tc.value)
		assert.Contains(t, body, `id="`+tc.field+`-error"`, "%s=%q", tc.field, tc.value)
		assert.Contains(t, body, `aria-describedby="`+tc.field+`-error"`, "%s=%q", tc.field, tc.value)
		assert.Equal(t, 1, strings.Count(body, `class="error"`), "%s=%q: only that field", tc.field, tc.value)
		if tc.want != "" {
			assert.Contains(t, html.UnescapeString(body), tc.want, "%s=%q", tc.field, tc.value)
		}
		if tc.field == "address" {
			assert.NotContains(t, body, tc.value[len("户主 "):], "the number is not sent back")
		}
	}
	assert.Len(t, households(t, e, villageA), before, "nothing registered")
	// In English the same field says so in English.
	c.get("/console/?lang=en")
	defer c.get("/console/?lang=zh")
	form := goodHousehold(t, "吴小明")
	form.Set("csrf", tok)
	form.Set("members", "0")
	_, _, body := c.post(path, form)
	assert.Contains(t, body, "This is not right")
	assert.Contains(t, body, `id="members-error"`)
}

func testUpdate(t *testing.T, e *env, c *client) {
	h, _ := registered(t, e, "郑志强", 7, "南阳村7组3号")
	tok, _ := formToken(t, c, hhPath(h)+"/edit")
	status, _, body := c.get(hhPath(h) + "/edit")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `value="52000"`, "the current facts are filled in")
	form := url.Values{"csrf": {tok}, "head_name": {"郑志强"}, "group": {"7"}, "address": {"南阳村7组5号"},
		"members": {"4"}, "labourers": {"2"}, "annual_income": {"61000"}, "land_area_mu": {"2.5"},
		"collective_shares": {"5"}, "existing_debt": {"0"}, "source": {"年度核查"}, "as_of": {"2026-02-01"}}
	// Bad input first: the message next to the field, nothing written.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("labourers", "7")
	status, _, body = c.post(hhPath(h), bad)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, `id="labourers-error"`)
	got, err := e.app.Households.Get(context.Background(), h.Name())
	require.NoError(t, err)
	assert.Equal(t, int64(1), got.Facts.Version)

	status, loc, body := c.post(hhPath(h), form)
	require.Equal(t, http.StatusSeeOther, status, body)
	assert.Equal(t, hhPath(h)+"?done=updated", loc)
	// The same form sent again records no third version.
	status, _, _ = c.post(hhPath(h), form)
	require.Equal(t, http.StatusSeeOther, status)
	got, err = e.app.Households.Get(context.Background(), h.Name())
	require.NoError(t, err)
	assert.Equal(t, int64(2), got.Facts.Version)
	assert.Equal(t, int32(4), got.Facts.Members)
	assert.Equal(t, "南阳村7组5号", got.Address)
	facts, err := e.app.Households.ListFacts(context.Background(), h.Name(), 0, "")
	require.NoError(t, err)
	assert.Len(t, facts.Items, 2, "the first version stays")
	_, _, body = c.get(loc)
	assert.Contains(t, body, "第2版")
}

var slipCode = regexp.MustCompile(`id="slip-code">([^<]+)<`)

func testCode(t *testing.T, e *env, c *client) {
	h, _ := registered(t, e, "冯桂兰", 1, "南阳村1组9号")
	tok := c.csrf(hhPath(h) + "/code")
	issue := func() string {
		status, _, body := c.post(hhPath(h)+"/code", url.Values{"csrf": {tok}})
		require.Equal(t, http.StatusOK, status)
		text := html.UnescapeString(body)
		for _, want := range []string{"冯桂兰", "南阳村1组9号", "此前发放给这户的登录码已作废", e.srv.URL + "/console/signin", "data-print"} {
			assert.Contains(t, text, want)
		}
		m := slipCode.FindStringSubmatch(body)
		require.NotNil(t, m)
		return m[1]
	}
	first := issue()
	hc := e.client(t)
	hc.signInCode(first)
	status, _, body := hc.get("/console/me")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "冯桂兰")
	// Re-issuing revokes the first code and ends its sessions.
	second := issue()
	assert.NotEqual(t, first, second)
	status, _, _ = hc.get("/console/me")
	assert.Equal(t, http.StatusSeeOther, status)
	tryCode := func(code string) int {
		cl := e.client(t)
		tk := cl.csrf("/console/signin")
		status, _, _ := cl.post("/console/signin/code", url.Values{"csrf": {tk}, "code": {code}})
		return status
	}
	assert.Equal(t, http.StatusUnauthorized, tryCode(first))
	// Revoked: the second stops too.
	status, loc, _ := c.post(hhPath(h)+"/code/revoke", url.Values{"csrf": {tok}})
	require.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, hhPath(h)+"?done=revoked", loc)
	assert.Equal(t, http.StatusUnauthorized, tryCode(second))
	_, _, body = c.get(loc)
	assert.Contains(t, body, "登录码已作废")
	// A code page without its token issues nothing.
	status, _, _ = c.post(hhPath(h)+"/code", url.Values{})
	assert.Equal(t, http.StatusForbidden, status)
}

func evidenceOf(t *testing.T, e *env, h *household.Household) []*evidence.Evidence {
	t.Helper()
	p, err := e.app.Evidence.List(context.Background(), evidence.Filter{Parent: h.Name()}, 0, "")
	require.NoError(t, err)
	return p.Evidence
}

func goodEvidence(h *household.Household) url.Values {
	return url.Values{"household": {h.ID}, "item": {"ZZ-MS-01"}, "occurred_on": {time.Now().In(household.Shanghai).Format(time.DateOnly)},
		"quantity": {"1"}, "witness": {"村民小组长 王伟"}, "note": {"参加议事会"}}
}

func testEvidence(t *testing.T, e *env, c *client) {
	h, _ := registered(t, e, "陈美玲", 3, "南阳村3组30号")
	path := "/console/villages/" + villageA + "/evidence/new?household=" + h.ID
	status, _, body := c.get(path)
	require.Equal(t, http.StatusOK, status)
	text := html.UnescapeString(body)
	assert.Contains(t, text, "陈美玲")
	assert.Contains(t, text, "参加百姓议事会", "items by label")
	assert.Contains(t, text, `<optgroup label="`, "grouped by area")
	assert.NotContains(t, regexp.MustCompile(`value="[^"]*"`).ReplaceAllString(body, ""), "ZZ-MS-01", "codes only as option values")
	tok, req := formToken(t, c, path)
	form := goodEvidence(h)
	form.Set("csrf", tok)
	form.Set("request_id", req)
	status, loc, body := c.post("/console/villages/"+villageA+"/evidence", form)
	require.Equal(t, http.StatusSeeOther, status, body)
	assert.Equal(t, hhPath(h)+"?done=recorded", loc)
	// A double submit records it once.
	status, _, _ = c.post("/console/villages/"+villageA+"/evidence", form)
	require.Equal(t, http.StatusSeeOther, status)
	got := evidenceOf(t, e, h)
	require.Len(t, got, 1)
	assert.Equal(t, "ZZ-MS-01", got[0].ItemCode)
	assert.Equal(t, e.staff["clerk-a"].ID, got[0].SubmittedBy)
	assert.Equal(t, evidence.PendingReview, got[0].State)
	_, _, body = c.get(loc)
	assert.Contains(t, body, "证据已登记")
}

func testEvidenceBadInput(t *testing.T, e *env, c *client) {
	h, _ := registered(t, e, "林宏伟", 3, "南阳村3组31号")
	tok, _ := formToken(t, c, "/console/villages/"+villageA+"/evidence/new?household="+h.ID)
	future := time.Now().AddDate(0, 0, 3).Format(time.DateOnly)
	cases := []struct{ field, value, input, want string }{
		{"item", "", "item", "请选择一个积分事项"},
		{"item", "NO-SUCH-1", "item", ""},
		{"item", "NY-ML-02", "photo", "需要一张照片"}, // needs a photo
		{"item", "DZ-XF-05", "item", "需要证明文件"},  // needs a document, which the console cannot take
		{"quantity", "0", "quantity", ""},
		{"quantity", "两", "quantity", "请填一个整数"},
		{"quantity", "99", "quantity", ""}, // over the annual cap
		{"occurred_on", future, "occurred_on", ""},
		{"occurred_on", "2000-01-01", "occurred_on", ""},
		{"occurred_on", "昨天", "occurred_on", ""},
		{"witness", "", "witness", ""},
		{"note", "户主 " + idNumber(t), "note", "不能写身份证号"},
		{"item", "ZZ-MS-05", "item", "由机器自动记录"}, // machine-recorded
	}
	for _, tc := range cases {
		form := goodEvidence(h)
		form.Set("csrf", tok)
		form.Set(tc.field, tc.value)
		status, _, body := c.post("/console/villages/"+villageA+"/evidence", form)
		assert.Equal(t, http.StatusBadRequest, status, "%s=%q", tc.field, tc.value)
		assert.Contains(t, body, `id="`+tc.input+`-error"`, "%s=%q: %s", tc.field, tc.value, body)
		assert.Contains(t, body, `aria-describedby="`+tc.input+`-error"`, "%s=%q", tc.field, tc.value)
		if tc.want != "" {
			assert.Contains(t, html.UnescapeString(body), tc.want, "%s=%q", tc.field, tc.value)
		}
		assert.NotContains(t, regexp.MustCompile(`value="[^"]*"`).ReplaceAllString(body, ""), "ZZ-MS-01", "no item code in a message")
	}
	assert.Empty(t, evidenceOf(t, e, h), "nothing recorded")
	// A household of another village, or none: not found.
	other := e.register(t, villageB, "何建军", 1, "堰头村1组1号")
	form := goodEvidence(h)
	form.Set("csrf", tok)
	form.Set("household", other.ID)
	status, _, _ := c.post("/console/villages/"+villageA+"/evidence", form)
	assert.Equal(t, http.StatusNotFound, status)
	status, _, _ = c.get("/console/villages/" + villageA + "/evidence/new?household=nobody")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Empty(t, evidenceOf(t, e, other))
}

func testCatalogue(t *testing.T, e *env, c *client) {
	status, _, body := c.get("/console/villages/" + villageA + "/catalogue")
	require.Equal(t, http.StatusOK, status)
	text := html.UnescapeString(body)
	cat, err := e.app.Catalogues.Effective(context.Background(), villageA)
	require.NoError(t, err)
	for _, ar := range cat.Areas {
		assert.Contains(t, text, ar.Label.ZH)
	}
	it := cat.Items["ZZ-MS-01"]
	for _, want := range []string{it.Label.ZH, "+" + it.Points.String(), it.Unit, it.AnnualCap.String(), "证明人", "需要审核", "每年上限"} {
		assert.Contains(t, text, want)
	}
	assert.Contains(t, text, "照片", "a photo item says so in words")
	for code := range cat.Items {
		assert.NotContains(t, body, code, "no item codes")
	}
}

func testClerkRefusals(t *testing.T, e *env, c *client) {
	h, _ := registered(t, e, "许文彬", 8, "南阳村8组4号")
	before := len(households(t, e, villageA))
	pages := []string{"/households", "/households/new", "/households/" + h.ID, "/households/" + h.ID + "/edit",
		"/households/" + h.ID + "/code", "/evidence/new?household=" + h.ID, "/catalogue"}
	// A clerk of another village: refused, nothing shown.
	other := e.client(t)
	other.signIn("clerk-b")
	for _, p := range pages {
		status, _, body := other.get("/console/villages/" + villageA + p)
		assert.Equal(t, http.StatusForbidden, status, p)
		assert.NotContains(t, body, "许文彬", p)
	}
	tokB := other.csrf("/console/villages/" + villageB + "/households")
	form := goodHousehold(t, "跨村登记")
	form.Set("csrf", tokB)
	status, _, _ := other.post("/console/villages/"+villageA+"/households", form)
	assert.Equal(t, http.StatusForbidden, status)
	status, _, _ = other.post("/console/villages/"+villageA+"/households/search", url.Values{"csrf": {tokB}, "name": {"许"}})
	assert.Equal(t, http.StatusForbidden, status)
	status, _, _ = other.post("/console/villages/"+villageA+"/households/"+h.ID+"/code", url.Values{"csrf": {tokB}})
	assert.Equal(t, http.StatusForbidden, status)
	// Its own village's path with this village's household: not there.
	status, _, _ = other.get("/console/villages/" + villageB + "/households/" + h.ID)
	assert.Equal(t, http.StatusNotFound, status)
	status, _, _ = other.post("/console/villages/"+villageB+"/households/"+h.ID+"/code", url.Values{"csrf": {tokB}})
	assert.Equal(t, http.StatusNotFound, status)

	// A reviewer reads but does not register or issue codes.
	rev := e.client(t)
	rev.signIn("reviewer-a")
	status, _, _ = rev.get("/console/villages/" + villageA + "/households/" + h.ID)
	assert.Equal(t, http.StatusOK, status)
	tokR := rev.csrf("/console/villages/" + villageA + "/households")
	status, _, _ = rev.post("/console/villages/"+villageA+"/households", url.Values{"csrf": {tokR}, "head_name": {"审核人登记"}})
	assert.Equal(t, http.StatusForbidden, status)
	status, _, _ = rev.post("/console/villages/"+villageA+"/households/"+h.ID+"/code", url.Values{"csrf": {tokR}})
	assert.Equal(t, http.StatusForbidden, status)

	// A household reaches for the register and for another household.
	hc := e.client(t)
	hc.signInCode(e.code)
	for _, p := range pages {
		status, _, _ := hc.get("/console/villages/" + villageA + p)
		assert.Equal(t, http.StatusForbidden, status, p)
	}

	// A form without its token registers nothing.
	status, _, _ = c.post("/console/villages/"+villageA+"/households", goodHousehold(t, "无令牌"))
	assert.Equal(t, http.StatusForbidden, status)
	ev := goodEvidence(h)
	status, _, _ = c.post("/console/villages/"+villageA+"/evidence", ev)
	assert.Equal(t, http.StatusForbidden, status)
	assert.Len(t, households(t, e, villageA), before)
	assert.Empty(t, evidenceOf(t, e, h))
	// A malformed village or household is not found.
	status, _, _ = c.get("/console/villages/12/households")
	assert.Equal(t, http.StatusNotFound, status)
	status, _, _ = c.get("/console/villages/" + villageA + "/households/not-a-uuid")
	assert.Equal(t, http.StatusNotFound, status)
}
