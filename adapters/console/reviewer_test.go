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
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// revFixture is what the reviewer's pages work on, added to an env: a
// second household, entries awaiting review, an objection and a red-list
// listing.
type revFixture struct {
	hh2, hh2Head string
	// toReject and toApprove await review, submitted by clerk-a; own was
	// submitted by reviewer-a, who may not review it.
	toReject, toApprove, own *evidence.Evidence
	// disputed is e.hh's entry on the board, objected to by the household.
	disputed  *evidence.Evidence
	objection string
}

func revSetup(t *testing.T, e *env) *revFixture {
	t.Helper()
	ctx := context.Background()
	f := &revFixture{hh2Head: "李秀英", objection: "那天我家没人去开会"}
	h := e.register(t, villageA, f.hh2Head, 2, "南阳村2组8号")
	f.hh2 = resource.Household(h.Village, h.ID)
	today := string(household.Today(time.Now()))
	submit := func(who string, in evidence.SubmitInput) *evidence.Evidence {
		t.Helper()
		in.OccurredOn, in.RequestID = today, fmt.Sprintf("rev-%d", seq.Add(1))
		ev, err := e.app.Evidence.Submit(ctx, e.staff[who], in)
		require.NoError(t, err)
		return ev
	}
	f.toReject = submit("clerk-a", evidence.SubmitInput{Parent: f.hh2, Kind: evidence.Points, ItemCode: "ZZ-MS-01",
		Quantity: 1, Witness: "村民小组长 王伟", Note: "参加了三月的议事会"})
	f.toApprove = submit("clerk-a", evidence.SubmitInput{Parent: e.hh, Kind: evidence.Points, ItemCode: "NY-ML-03",
		Quantity: 2, Witness: "网格员 陈丽", Note: "菜地整洁",
		Attachments: []evidence.Attachment{{Kind: "photo", SHA256: strings.Repeat("ab", 32)}}})
	f.own = submit("reviewer-a", evidence.SubmitInput{Parent: f.hh2, Kind: evidence.Points, ItemCode: "ZZ-MS-01",
		Quantity: 1, Witness: "会议签到表"})
	// A red-list listing, approved: on notice until its 公示 ends.
	red := submit("clerk-a", evidence.SubmitInput{Parent: f.hh2, Kind: evidence.RedList, ValidUntil: "2027-12-01",
		Note: "带头清理河道"})
	_, err := e.app.Evidence.Review(ctx, e.staff["reviewer-a"], red.Name(), true, "")
	require.NoError(t, err)

	// The household signs in with its code and objects to its entry on
	// the board, as its own principal.
	in, err := e.app.SignIn.SignInCode(ctx, e.code, "test")
	require.NoError(t, err)
	_, hp, err := e.app.SignIn.Session(ctx, in.Token)
	require.NoError(t, err)
	page, err := e.app.Evidence.List(ctx, evidence.Filter{Parent: e.hh, Kind: evidence.Points, State: evidence.Posted}, 0, "")
	require.NoError(t, err)
	require.Len(t, page.Evidence, 1)
	f.disputed, err = e.app.Evidence.Object(ctx, hp, page.Evidence[0].Name(), f.objection)
	require.NoError(t, err)
	return f
}

// state reads the evidence's state from the service.
func (e *env) state(t *testing.T, ev *evidence.Evidence) evidence.State {
	t.Helper()
	got, err := e.app.Evidence.Get(context.Background(), ev.Name())
	require.NoError(t, err)
	return got.State
}

// thisQuarter is today's quarter in Asia/Shanghai ("2026Q4").
func thisQuarter() string {
	d := household.Today(time.Now()).Time()
	return fmt.Sprintf("%dQ%d", d.Year(), (int(d.Month())+2)/3)
}

func TestReviewer(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		f := revSetup(t, e)
		rev := e.client(t)
		rev.signIn("reviewer-a")
		t.Run("Refusals", func(t *testing.T) { testRevRefusals(t, e, f, rev) })
		t.Run("Queue", func(t *testing.T) { testRevQueue(t, e, f, rev) })
		t.Run("Objections", func(t *testing.T) { testRevObjections(t, e, f, rev) })
		t.Run("Ranking", func(t *testing.T) { testRevRanking(t, e, f, rev) })
	})
}

func reviewPath(ev *evidence.Evidence) string {
	return "/console/villages/" + ev.Village + "/review/" + ev.Household + "/" + ev.ID
}

func resolvePath(ev *evidence.Evidence) string {
	return "/console/villages/" + ev.Village + "/objections/" + ev.Household + "/" + ev.ID
}

func testRevQueue(t *testing.T, e *env, f *revFixture, rev *client) {
	queue := "/console/villages/" + villageA + "/review"
	status, _, body := rev.get(queue)
	require.Equal(t, http.StatusOK, status)
	text := html.UnescapeString(body)
	for _, want := range []string{"待审核的记录", f.hh2Head, "2组", "南阳村2组8号", e.hhHead, "南阳村3组27号",
		"参加百姓议事会", "农耕园菜地保持整洁", "村民小组长 王伟", "网格员 陈丽", "菜地整洁", "已附1份", "未附", "+3", "+1"} {
		assert.Contains(t, text, want)
	}
	assert.NotContains(t, text, "ZZ-MS-01")
	assert.NotContains(t, text, "NY-ML-03")
	assert.NotContains(t, text, ">"+strings.TrimPrefix(f.hh2, resource.Village(villageA)+"/households/"), "no household id as text")
	tok := csrfField.FindStringSubmatch(body)[1]

	// Bad inputs: the message sits next to the field; nothing is written.
	status, _, body = rev.post(reviewPath(f.toReject), url.Values{"csrf": {tok}, "decision": {"reject"}, "reason": {"  "}})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, `id="reason-error-`+f.toReject.ID+`" role="alert">请写明理由。`)
	assert.Contains(t, body, `aria-invalid="true" aria-describedby="reason-error-`+f.toReject.ID+`"`)
	assert.Equal(t, evidence.PendingReview, e.state(t, f.toReject))

	status, _, body = rev.post(reviewPath(f.toReject), url.Values{"csrf": {tok}, "decision": {"maybe"}, "reason": {"x"}})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "请选择通过或退回。")
	assert.Equal(t, evidence.PendingReview, e.state(t, f.toReject))

	// A 身份证号 in the reason: the service's own zh-CN words, next to the field.
	cd, err := idnum.CheckDigit("33048319680301123")
	require.NoError(t, err)
	status, _, body = rev.post(reviewPath(f.toReject), url.Values{"csrf": {tok}, "decision": {"reject"},
		"reason": {"身份证 33048319680301123" + string(cd) + " 不符"}})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, `id="reason-error-`+f.toReject.ID+`" role="alert">理由不得包含身份证号`)
	assert.Equal(t, evidence.PendingReview, e.state(t, f.toReject))

	// Self-review: refused by the service, said in words.
	status, _, body = rev.post(reviewPath(f.own), url.Values{"csrf": {tok}, "decision": {"approve"}})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "这条记录是您登记的，须由另一位评议员审核。")
	assert.Equal(t, evidence.PendingReview, e.state(t, f.own))

	// Without its token: refused, nothing written.
	status, _, _ = rev.post(reviewPath(f.toApprove), url.Values{"decision": {"approve"}})
	assert.Equal(t, http.StatusForbidden, status)
	assert.Equal(t, evidence.PendingReview, e.state(t, f.toApprove))

	// Reject with a reason, approve another.
	status, loc, _ := rev.post(reviewPath(f.toReject), url.Values{"csrf": {tok}, "decision": {"reject"}, "reason": {"签到表上没有这户"}})
	require.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, queue+"?done=reject", loc)
	got, err := e.app.Evidence.Get(context.Background(), f.toReject.Name())
	require.NoError(t, err)
	assert.Equal(t, evidence.Rejected, got.State)
	assert.Equal(t, "签到表上没有这户", got.ReviewReason)
	status, loc, _ = rev.post(reviewPath(f.toApprove), url.Values{"csrf": {tok}, "decision": {"approve"}})
	require.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, evidence.Posted, e.state(t, f.toApprove))
	_, _, body = rev.get(loc)
	assert.Contains(t, body, "已通过，进入公示。")
	assert.NotContains(t, body, "网格员 陈丽", "approved: off the queue")

	// Deciding twice: said in words, nothing changes.
	status, _, body = rev.post(reviewPath(f.toApprove), url.Values{"csrf": {tok}, "decision": {"reject"}, "reason": {"再退回"}})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "已经审核过了")
	assert.Equal(t, evidence.Posted, e.state(t, f.toApprove))
}

func testRevObjections(t *testing.T, e *env, f *revFixture, rev *client) {
	page := "/console/villages/" + villageA + "/objections"
	status, _, body := rev.get(page)
	require.Equal(t, http.StatusOK, status)
	text := html.UnescapeString(body)
	for _, want := range []string{"异议处理", e.hhHead, "南阳村3组27号", "参加百姓议事会", "+6", f.objection, "提出人"} {
		assert.Contains(t, text, want)
	}
	assert.Contains(t, text, `<td class="objector">`+e.hhHead+`</td>`, "the objector by head name")
	tok := csrfField.FindStringSubmatch(body)[1]

	status, _, body = rev.post(resolvePath(f.disputed), url.Values{"csrf": {tok}, "decision": {"overturn"}, "reason": {""}})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, `id="reason-error-`+f.disputed.ID+`" role="alert">请写明理由。`)
	assert.Equal(t, evidence.Disputed, e.state(t, f.disputed))
	status, _, body = rev.post(resolvePath(f.disputed), url.Values{"csrf": {tok}, "decision": {""}, "reason": {"核实"}})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "请选择")
	assert.Equal(t, evidence.Disputed, e.state(t, f.disputed))
	status, _, _ = rev.post(resolvePath(f.disputed), url.Values{"decision": {"uphold"}, "reason": {"核实"}})
	assert.Equal(t, http.StatusForbidden, status)
	assert.Equal(t, evidence.Disputed, e.state(t, f.disputed))

	status, loc, _ := rev.post(resolvePath(f.disputed), url.Values{"csrf": {tok}, "decision": {"uphold"}, "reason": {"签到表上有本人签名"}})
	require.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, page+"?done=uphold", loc)
	got, err := e.app.Evidence.Get(context.Background(), f.disputed.Name())
	require.NoError(t, err)
	assert.Equal(t, evidence.Posted, got.State)
	assert.True(t, got.Upheld)
	_, _, body = rev.get(loc)
	assert.Contains(t, body, "已维持")
	assert.Contains(t, body, "目前没有待处理的异议。")
}

func testRevRanking(t *testing.T, e *env, f *revFixture, rev *client) {
	base := "/console/villages/" + villageA + "/ranking"
	status, _, body := rev.get(base + "?quarter=" + thisQuarter())
	require.Equal(t, http.StatusOK, status)
	text := html.UnescapeString(body)
	for _, want := range []string{"季度积分排名", thisQuarter(), "红榜", "黑榜", f.hh2Head, "公示中", "带头清理河道", "2027-11-30"} {
		assert.Contains(t, text, want)
	}
	assert.Contains(t, body, "data-print")
	assert.Contains(t, body, `<form class="noprint"`)
	// No quarter: this one.
	status, _, body = rev.get(base)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `value="`+thisQuarter()+`"`)
	// A bad or future quarter: the message next to the field.
	for _, q := range []string{"2026Q5", "next", "2099Q1"} {
		status, _, body = rev.get(base + "?quarter=" + q)
		assert.Equal(t, http.StatusBadRequest, status, q)
		assert.Contains(t, body, `<p class="error" id="quarter-error" role="alert">`, q)
		assert.Contains(t, body, `aria-describedby="quarter-error"`, q)
	}
	// In English too.
	rev.get(base + "?lang=en")
	_, _, body = rev.get(base)
	for _, want := range []string{"Quarterly points ranking", "Red list", "Black list", "On notice"} {
		assert.Contains(t, body, want)
	}
	_, _, body = rev.get("/console/villages/" + villageA + "/objections")
	assert.Contains(t, body, "Objections")
	rev.get(base + "?lang=zh")
	// The village's households read it too (what the village posts).
	hh := e.client(t)
	hh.signInCode(e.code)
	status, _, _ = hh.get(base)
	assert.Equal(t, http.StatusOK, status)
}

func testRevRefusals(t *testing.T, e *env, f *revFixture, rev *client) {
	// A clerk records evidence but decides nothing; another village's clerk
	// sees nothing of this one; a household reviews nothing.
	clerk := e.client(t)
	clerk.signIn("clerk-a")
	other := e.client(t)
	other.signIn("clerk-b")
	hh := e.client(t)
	hh.signInCode(e.code)
	for _, c := range []*client{clerk, other, hh} {
		for _, p := range []string{"review", "objections"} {
			status, _, _ := c.get("/console/villages/" + villageA + "/" + p)
			assert.Equal(t, http.StatusForbidden, status, p)
		}
		tok := c.csrf("/console/password")
		status, _, _ := c.post(reviewPath(f.toApprove), url.Values{"csrf": {tok}, "decision": {"approve"}})
		assert.Equal(t, http.StatusForbidden, status)
		status, _, _ = c.post(resolvePath(f.disputed), url.Values{"csrf": {tok}, "decision": {"overturn"}, "reason": {"x"}})
		assert.Equal(t, http.StatusForbidden, status)
	}
	assert.Equal(t, evidence.PendingReview, e.state(t, f.toApprove))
	assert.Equal(t, evidence.Disputed, e.state(t, f.disputed))
	status, _, _ := other.get("/console/villages/" + villageA + "/ranking")
	assert.Equal(t, http.StatusForbidden, status)
	// The reviewer of village A reaches no other village.
	status, _, _ = rev.get("/console/villages/" + villageB + "/review")
	assert.Equal(t, http.StatusForbidden, status)
	status, _, _ = rev.get("/console/villages/not-a-village/review")
	assert.Equal(t, http.StatusNotFound, status)
	// Not signed in: to sign-in.
	status, loc, _ := e.client(t).get("/console/villages/" + villageA + "/review")
	assert.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, "/console/signin", loc)
}
