package console_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/household"
)

func TestMembers(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		c := e.client(t)
		c.signIn("clerk-a")
		t.Run("AddAndEdit", func(t *testing.T) { testMembersAddEdit(t, e, c) })
		t.Run("BadInput", func(t *testing.T) { testMembersBadInput(t, e, c) })
		t.Run("Refusals", func(t *testing.T) { testMembersRefusals(t, e, c) })
	})
}

// bornID returns a valid 身份证号 of someone born on birth (YYYYMMDD).
func bornID(t *testing.T, birth string) string {
	t.Helper()
	first17 := fmt.Sprintf("330483%s%03d", birth, seq.Add(1)%1000)
	c, err := idnum.CheckDigit(first17)
	require.NoError(t, err)
	return first17 + string(c)
}

func version(t *testing.T, e *env, h *household.Household) (int64, int) {
	t.Helper()
	got, err := e.app.Households.Get(context.Background(), h.Name())
	require.NoError(t, err)
	return got.Facts.Version, len(got.Members)
}

func testMembersAddEdit(t *testing.T, e *env, c *client) {
	h, headID := registered(t, e, "钱国庆", 2, "南阳村2组6号")
	status, _, body := c.get(hhPath(h))
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `id="member-list"`)
	assert.Contains(t, body, "户籍人数3人，还有2人未登记为成员。")
	assert.Contains(t, body, headID[:6]+"********"+headID[14:])
	assert.NotContains(t, body, headID)

	spouse := bornID(t, "19790812")
	tok := c.csrf(hhPath(h) + "/members/new")
	status, loc, body := c.post(hhPath(h)+"/members", url.Values{"csrf": {tok}, "name": {"孙丽"}, "relation": {"spouse"},
		"id_number": {strings.ToLower(spouse)}, "labour": {"labourer"}})
	require.Equal(t, http.StatusSeeOther, status, body)
	assert.Equal(t, hhPath(h)+"?done=member_added", loc)
	_, _, body = c.get(loc)
	text := html.UnescapeString(body)
	assert.Contains(t, text, "已添加成员。")
	assert.Contains(t, text, "孙丽")
	assert.Contains(t, text, "配偶")
	assert.Contains(t, text, spouse[:6]+"********"+spouse[14:])
	assert.NotContains(t, text, spouse)
	age := time.Now().Year() - 1979
	if time.Now().YearDay() < time.Date(time.Now().Year(), 8, 12, 0, 0, 0, 0, time.UTC).YearDay() {
		age--
	}
	assert.Contains(t, text, fmt.Sprintf("%d岁", age))
	assert.Contains(t, text, "还有1人未登记为成员")
	v, n := version(t, e, h)
	assert.Equal(t, [2]int64{2, 2}, [2]int64{v, int64(n)}, "a new facts version with the spouse")

	// The spouse starts school again (an evening course, say): edit keeps
	// her number without retyping it.
	status, _, body = c.get(hhPath(h) + "/members/2/edit")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `value="孙丽"`)
	assert.Contains(t, body, `<option value="spouse" selected>`)
	status, loc, body = c.post(hhPath(h)+"/members/2", url.Values{"csrf": {tok}, "name": {"孙丽丽"}, "relation": {"spouse"},
		"id_number": {""}, "labour": {"student"}})
	require.Equal(t, http.StatusSeeOther, status, body)
	assert.Equal(t, hhPath(h)+"?done=member_updated", loc)
	got, err := e.app.Households.Get(context.Background(), h.Name())
	require.NoError(t, err)
	require.Len(t, got.Members, 2)
	assert.Equal(t, "孙丽丽", got.Members[1].Name)
	assert.Equal(t, household.Student, got.Members[1].Labour)
	assert.Equal(t, spouse[:6]+"********"+spouse[14:], got.Members[1].IDMasked, "the number was kept")

	// The head's form asks only the labour status.
	status, _, body = c.get(hhPath(h) + "/members/1/edit")
	require.Equal(t, http.StatusOK, status)
	assert.NotContains(t, body, `name="id_number"`)
	assert.NotContains(t, body, `name="name"`)
	status, _, body = c.post(hhPath(h)+"/members/1", url.Values{"csrf": {tok}, "labour": {"not_labourer"}})
	require.Equal(t, http.StatusSeeOther, status, body)
	got, err = e.app.Households.Get(context.Background(), h.Name())
	require.NoError(t, err)
	assert.Equal(t, household.NotLabourer, got.Members[0].Labour)
	assert.Equal(t, "钱国庆", got.Members[0].Name)
}

func testMembersBadInput(t *testing.T, e *env, c *client) {
	h, headID := registered(t, e, "周德明", 4, "南阳村4组2号")
	spouse := bornID(t, "19800101")
	_, err := e.app.Households.Update(context.Background(), e.staff["clerk-a"], household.UpdateInput{Name: h.Name(),
		Paths: []string{"members"}, Members: []household.MemberInput{{Number: 1, Relation: "head", Labour: "labourer"},
			{Name: "吴芳", Relation: "spouse", IDNumber: spouse, Labour: "labourer"}}})
	require.NoError(t, err)
	v0, n0 := version(t, e, h)
	badCheck := bornID(t, "20050505")
	badCheck = badCheck[:17] + map[bool]string{true: "1", false: "2"}[badCheck[17] != '1']
	tok := c.csrf(hhPath(h) + "/members/new")
	good := func() url.Values {
		return url.Values{"csrf": {tok}, "name": {"周小龙"}, "relation": {"child"}, "id_number": {bornID(t, "20050505")}, "labour": {"student"}}
	}
	cases := []struct{ field, value, want string }{
		{"id_number", badCheck, "身份证号不对：校验位不对"},
		{"id_number", "12345", "身份证号不对"},
		{"id_number", "", "请填写这一项"},
		{"id_number", spouse, "与其他成员的身份证号重复"},
		{"id_number", headID, "与其他成员的身份证号重复"},
		{"name", "", "请填写这一项"},
		{"name", "周 " + bornID(t, "19900101"), "姓名不得包含身份证号"},
		{"relation", "", "请选择与户主的关系"},
		{"relation", "head", "一户只能有一名户主"},
		{"labour", "retired", "请选择劳动力状况"},
	}
	for _, tc := range cases {
		form := good()
		form.Set(tc.field, tc.value)
		status, _, body := c.post(hhPath(h)+"/members", form)
		assert.Equal(t, http.StatusBadRequest, status, "%s=%q", tc.field, tc.value)
		assert.Contains(t, body, `id="`+tc.field+`-error"`, "%s=%q", tc.field, tc.value)
		assert.Equal(t, 1, strings.Count(body, `class="error"`), "%s=%q: only that field: %s", tc.field, tc.value, body)
		assert.Contains(t, html.UnescapeString(body), tc.want, "%s=%q", tc.field, tc.value)
		if tc.field == "name" && tc.value != "" {
			assert.NotContains(t, body, tc.value[len("周 "):], "a number in the name is not sent back")
		}
	}
	v, n := version(t, e, h)
	assert.Equal(t, [2]int64{v0, int64(n0)}, [2]int64{v, int64(n)}, "nothing written")
	// An unknown member is not there.
	status, _, _ := c.get(hhPath(h) + "/members/9/edit")
	assert.Equal(t, http.StatusNotFound, status)
	status, _, _ = c.post(hhPath(h)+"/members/9", good())
	assert.Equal(t, http.StatusNotFound, status)

	// In English the same field says so in English.
	c.get("/console/?lang=en")
	defer c.get("/console/?lang=zh")
	form := good()
	form.Set("id_number", badCheck)
	_, _, body := c.post(hhPath(h)+"/members", form)
	assert.Contains(t, body, `id="id_number-error"`)
	assert.Contains(t, body, "This is not right")
	assert.Contains(t, body, "check digit")
}

func testMembersRefusals(t *testing.T, e *env, c *client) {
	h, _ := registered(t, e, "陈永福", 5, "南阳村5组1号")
	v0, _ := version(t, e, h)
	form := url.Values{"name": {"陈小红"}, "relation": {"child"}, "id_number": {bornID(t, "20000303")}, "labour": {"labourer"}}
	// A clerk of another village.
	other := e.client(t)
	other.signIn("clerk-b")
	for _, p := range []string{"/members/new", "/members/1/edit"} {
		status, _, body := other.get(hhPath(h) + p)
		assert.Equal(t, http.StatusForbidden, status, p)
		assert.NotContains(t, body, "陈永福", p)
	}
	form.Set("csrf", other.csrf("/console/villages/"+villageB+"/households"))
	status, _, _ := other.post(hhPath(h)+"/members", form)
	assert.Equal(t, http.StatusForbidden, status)
	// A reviewer reads the members but does not change them.
	rev := e.client(t)
	rev.signIn("reviewer-a")
	status, _, body := rev.get(hhPath(h))
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `id="member-list"`)
	form.Set("csrf", rev.csrf("/console/villages/"+villageA+"/households"))
	status, _, _ = rev.post(hhPath(h)+"/members", form)
	assert.Equal(t, http.StatusForbidden, status)
	// The clerk's own form without its token.
	form.Set("csrf", "forged")
	status, _, _ = c.post(hhPath(h)+"/members", form)
	assert.Equal(t, http.StatusForbidden, status)
	v, _ := version(t, e, h)
	assert.Equal(t, v0, v, "nothing written")
}
