package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/resource"
)

func TestConsole(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		t.Run("ReviewerReadsTheBoard", func(t *testing.T) { testBoard(t, e) })
		t.Run("HouseholdReadsItsCard", func(t *testing.T) { testCard(t, e) })
		t.Run("Refusals", func(t *testing.T) { testRefusals(t, e) })
		t.Run("HeadersAndLanguage", func(t *testing.T) { testHeaders(t, e) })
		t.Run("PasswordChangeBadInput", func(t *testing.T) { testPasswordBadInput(t, e) })
	})
}

func testBoard(t *testing.T, e *env) {
	c := e.client(t)
	c.signIn("reviewer-a")
	status, loc, _ := c.get("/console/")
	require.Equal(t, http.StatusSeeOther, status)
	require.Equal(t, "/console/villages/"+villageA+"/board", loc)
	status, _, body := c.get(loc)
	require.Equal(t, http.StatusOK, status)
	// What villagers read: the head's name, the group, the house number,
	// the item's label, the points and the dates — never an id or a code.
	text := html.UnescapeString(body)
	// The points are the village's (its document re-weights the item).
	cat, err := e.app.Catalogues.Effective(context.Background(), villageA)
	require.NoError(t, err)
	want := "+" + cat.Items["ZZ-MS-01"].Points.Mul(decimal.NewFromInt(2)).String()
	for _, want := range []string{"公示栏", "南阳村 · 村代码 330483102215", e.hhHead, "3组", "南阳村3组27号", "参加百姓议事会", want, "公示截止"} {
		assert.Contains(t, text, want)
	}
	assert.NotContains(t, body, strings.TrimPrefix(e.hh, resource.Village(villageA)+"/households/"), "no household id on the board")
	assert.NotContains(t, body, "ZZ-MS-01", "items by label, not code")
	assert.Contains(t, body, `data-print`, "a print button")
}

func testCard(t *testing.T, e *env) {
	c := e.client(t)
	c.signInCode(e.code)
	status, loc, _ := c.get("/console/")
	require.Equal(t, http.StatusSeeOther, status)
	require.Equal(t, "/console/me", loc)
	status, _, body := c.get(loc)
	require.Equal(t, http.StatusOK, status)
	for _, want := range []string{"我的成绩单", e.hhHead, "信用积分", "可兑换积分", "正在公示", "各领域积分"} {
		assert.Contains(t, body, want)
	}
	assert.NotContains(t, body, "ZZ-MS-01")
}

func testRefusals(t *testing.T, e *env) {
	// Not signed in: every page sends to sign-in.
	anon := e.client(t)
	for _, p := range []string{"/console/", "/console/me", "/console/villages/" + villageA + "/board", "/console/password"} {
		status, loc, _ := anon.get(p)
		assert.Equal(t, http.StatusSeeOther, status, p)
		assert.Equal(t, "/console/signin", loc, p)
	}
	// A sign-in form without its token is refused, and signs nobody in.
	status, _, body := anon.post("/console/signin", url.Values{"username": {"clerk-a"}, "password": {password}})
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, "页面已过期")
	// A wrong password: the form again, the message next to it, no session.
	tok := anon.csrf("/console/signin")
	status, _, body = anon.post("/console/signin", url.Values{"csrf": {tok}, "username": {"clerk-b"}, "password": {"not the password"}})
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, body, "用户名或密码不对")
	assert.Contains(t, body, `aria-invalid="true"`)
	status, _, _ = anon.get("/console/me")
	assert.Equal(t, http.StatusSeeOther, status)
	// A code of nothing.
	status, _, body = anon.post("/console/signin/code", url.Values{"csrf": {tok}, "code": {"AAAA-BBBB-CCCC-DDDD"}})
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, body, "登录码不对或已作废")

	// A clerk of another village cannot read this village's board.
	other := e.client(t)
	other.signIn("clerk-b")
	status, _, body = other.get("/console/villages/" + villageA + "/board")
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, "您没有查看这个页面的权限")
	assert.NotContains(t, body, e.hhHead)
	// Staff have no report card of their own.
	status, _, _ = other.get("/console/me")
	assert.Equal(t, http.StatusForbidden, status)
	// A malformed village is not found, not an error.
	status, _, _ = other.get("/console/villages/12/board")
	assert.Equal(t, http.StatusNotFound, status)

	// The household reaches for another village's board.
	hh := e.client(t)
	hh.signInCode(e.code)
	status, _, _ = hh.get("/console/villages/" + villageB + "/board")
	assert.Equal(t, http.StatusForbidden, status)
	// Its own village's board it may read.
	status, _, _ = hh.get("/console/villages/" + villageA + "/board")
	assert.Equal(t, http.StatusOK, status)

	// Signing out without the form's token is refused: still signed in.
	status, _, _ = hh.post("/console/signout", url.Values{})
	assert.Equal(t, http.StatusForbidden, status)
	status, _, _ = hh.get("/console/me")
	assert.Equal(t, http.StatusOK, status)
	// With it, the session ends; the old cookie opens nothing.
	u, _ := url.Parse(e.srv.URL + "/console/")
	old := hh.jar.Cookies(u)
	tok = hh.csrf("/console/me")
	status, loc, _ := hh.post("/console/signout", url.Values{"csrf": {tok}})
	assert.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, "/console/signin", loc)
	replay := e.client(t)
	replay.jar.SetCookies(u, old)
	status, loc, _ = replay.get("/console/me")
	assert.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, "/console/signin", loc)

	// A code re-issued by the clerk ends the old one.
	_, _, err := e.app.SignIn.IssueCode(context.Background(), e.staff["clerk-a"], villageA,
		strings.TrimPrefix(e.hh, resource.Village(villageA)+"/households/"))
	require.NoError(t, err)
	late := e.client(t)
	tok = late.csrf("/console/signin")
	status, _, _ = late.post("/console/signin/code", url.Values{"csrf": {tok}, "code": {e.code}})
	assert.Equal(t, http.StatusUnauthorized, status)
}

func testHeaders(t *testing.T, e *env) {
	c := e.client(t)
	resp, err := c.hc.Get(e.srv.URL + "/console/signin")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self'")
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	var form *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "sz_form" {
			form = ck
		}
	}
	require.NotNil(t, form)
	assert.True(t, form.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, form.SameSite)

	// Chinese first; English on request, remembered.
	_, _, body := c.get("/console/signin")
	assert.Contains(t, body, `lang="zh-CN"`)
	assert.Contains(t, body, "农户登录")
	status, loc, _ := c.get("/console/signin?lang=en")
	assert.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, "/console/signin", loc)
	_, _, body = c.get("/console/signin")
	assert.Contains(t, body, `lang="en"`)
	assert.Contains(t, body, "Households")

	status, _, css := c.get("/console/static/console.css")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, css, "@media print")
}

func testPasswordBadInput(t *testing.T, e *env) {
	c := e.client(t)
	tok := c.csrf("/console/signin")
	status, _, _ := c.post("/console/signin", url.Values{"csrf": {tok}, "username": {"clerk-a"}, "password": {password}})
	require.Equal(t, http.StatusSeeOther, status)
	// Until the first password is changed, every page asks for it.
	_, loc, _ := c.get("/console/villages/" + villageA + "/board")
	assert.Equal(t, "/console/password", loc)
	tok = c.csrf("/console/password")
	cases := []struct {
		name, old, pw, confirm, want string
	}{
		{"not the same twice", password, newPassword, newPassword + "x", "两次输入的新密码不一样"},
		{"wrong current password", "not it at all", newPassword, newPassword, ""},
		{"too short", password, "short", "short", ""},
		{"the username", password, "clerk-a", "clerk-a", ""},
	}
	for _, tc := range cases {
		status, _, body := c.post("/console/password", url.Values{"csrf": {tok}, "old_password": {tc.old},
			"password": {tc.pw}, "confirm": {tc.confirm}})
		assert.Equal(t, http.StatusBadRequest, status, tc.name)
		assert.Contains(t, body, `role="alert"`, tc.name)
		if tc.want != "" {
			assert.Contains(t, body, tc.want, tc.name)
		}
		// Nothing changed: the first password still signs in (and still
		// must be changed).
		_, loc, _ = c.get("/console/")
		assert.Equal(t, "/console/password", loc, tc.name)
	}
}
