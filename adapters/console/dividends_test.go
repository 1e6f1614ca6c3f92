package console_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/dividend"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// consoleRule is a shares-only rule of 南阳村 (the env's households have
// shares and no effective points yet).
const consoleRule = `kind: dividend_rule
village: "330483102215"
version: 1
name: 南阳村按股分红
split: {shares_percent: 100, points_percent: 0}
household_cap: 600
public_notice_days: 3
`

func dividendEnv(t *testing.T, st *sqlstore.Store) *env {
	e := newEnv(t, st)
	ctx := context.Background()
	for i, head := range []string{"钱阿根", "朱秀英"} {
		e.register(t, villageA, head, int32(4+i), "南阳村"+head)
	}
	_, err := e.app.Dividends.UploadRule(ctx, e.staff["clerk-a"], resource.Village(villageA), []byte(consoleRule))
	require.NoError(t, err)
	_, err = e.app.Dividends.ActivateRule(ctx, e.staff["reviewer-a"], dividend.RuleName(villageA, 1))
	require.NoError(t, err)
	return e
}

func rounds(t *testing.T, e *env) []*dividend.Round {
	page, err := e.app.Dividends.ListRounds(context.Background(), resource.Village(villageA), 0, "")
	require.NoError(t, err)
	return page.Rounds
}

// The clerk's and the reviewer's pages and the household's, with each
// refusal: another village's staff, a form without its token, bad input
// next to its field, a step out of turn; nothing written by any of them.
func TestDividendPages(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := dividendEnv(t, st)
		list := "/console/villages/" + villageA + "/dividends"
		yesterday := string(points.AddDays(household.Today(time.Now()), -1))

		clerk := e.client(t)
		clerk.signIn("clerk-a")
		status, _, body := clerk.get(list)
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, "新建分红轮次")
		assert.Contains(t, body, "南阳村按股分红")
		assert.Contains(t, body, "还没有分红轮次")

		// Another village's clerk, and the household, are refused.
		other := e.client(t)
		other.signIn("clerk-b")
		status, _, body = other.get(list)
		assert.Equal(t, http.StatusForbidden, status)
		assert.NotContains(t, body, "南阳村按股分红")
		tok := clerk.csrf(list)
		hh := e.client(t)
		hh.signInCode(e.code)
		status, _, _ = hh.get(list)
		assert.Equal(t, http.StatusForbidden, status)

		// Bad input, each next to its field; a form without its token.
		form := func(pool, date string) url.Values {
			return url.Values{"csrf": {tok}, "title": {"2025年度分红"}, "pool": {pool}, "record_date": {date}}
		}
		status, _, body = clerk.post(list, form("100.001", yesterday))
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "金额最多两位小数")
		assert.Contains(t, body, `aria-describedby="pool-error"`)
		status, _, body = clerk.post(list, form("-5", yesterday))
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "请填写大于零的金额")
		status, _, body = clerk.post(list, form("100", string(points.AddDays(household.Today(time.Now()), 1))))
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "登记日不能晚于今天")
		status, _, _ = clerk.post(list, url.Values{"title": {"x"}, "pool": {"100"}, "record_date": {yesterday}})
		assert.Equal(t, http.StatusForbidden, status)
		otok := other.csrf("/console/villages/" + villageB + "/households")
		status, _, _ = other.post(list, url.Values{"csrf": {otok}, "title": {"x"}, "pool": {"100"}, "record_date": {yesterday}})
		assert.Equal(t, http.StatusForbidden, status, "a clerk of another village")
		assert.Empty(t, rounds(t, e), "nothing written")

		// The round: its 公示 list adds up to the pool.
		good := form("1000.00", yesterday)
		good.Set("request_id", "form-1")
		status, loc, _ := clerk.post(list, good)
		require.Equal(t, http.StatusSeeOther, status)
		require.Regexp(t, `^/console/villages/330483102215/dividends/[0-9a-f-]{36}$`, loc)
		round := loc
		// The same form sent again is the same round; a new form of the
		// same record date is refused while this one is live.
		status, again, _ := clerk.post(list, good)
		require.Equal(t, http.StatusSeeOther, status)
		assert.Equal(t, round, again)
		status, _, body = clerk.post(list, form("1000.00", yesterday))
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "这个登记日已有一轮分红")
		assert.Len(t, rounds(t, e), 1)
		status, _, body = clerk.get(round)
		require.Equal(t, http.StatusOK, status)
		text := html.UnescapeString(body)
		for _, want := range []string{"2025年度分红", "草稿（待复核）", "钱阿根", "朱秀英", e.hhHead, "¥1,000.00", "¥333.34", "¥333.33"} {
			assert.Contains(t, text, want)
		}
		assert.Regexp(t, `class="num total">¥1,000.00<`, text, "the list adds up to the pool")
		assert.NotContains(t, body, "通过，开始公示", "a clerk does not review")

		// Review: the clerk may not; the reviewer approves.
		status, _, _ = clerk.post(round+"/review", url.Values{"csrf": {tok}, "decision": {"approve"}})
		assert.Equal(t, http.StatusForbidden, status)
		rev := e.client(t)
		rev.signIn("reviewer-a")
		rtok := rev.csrf(round)
		status, _, body = rev.post(round+"/review", url.Values{"csrf": {rtok}, "decision": {"reject"}})
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "请写明理由")
		status, loc, _ = rev.post(round+"/review", url.Values{"csrf": {rtok}, "decision": {"approve"}})
		require.Equal(t, http.StatusSeeOther, status)
		_, _, body = rev.get(loc)
		assert.Contains(t, body, "公示中")
		assert.Contains(t, body, "已复核")
		status, _, body = rev.post(round+"/approve", url.Values{"csrf": {rtok}})
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "公示期还没结束")

		// The household reads its statement and objects once.
		mine := "/console/me/dividends"
		status, _, body = hh.get(mine)
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, "2025年度分红")
		assert.Contains(t, html.UnescapeString(body), "¥333.34")
		id := strings.TrimPrefix(round, list+"/")
		htok := hh.csrf(mine)
		status, _, body = hh.post(mine+"/"+id+"/object", url.Values{"csrf": {htok}, "reason": {" "}})
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, `aria-invalid="true"`)
		status, _, _ = hh.post(mine+"/"+id+"/object", url.Values{"csrf": {htok}, "reason": {"我家股份应是12股"}})
		require.Equal(t, http.StatusSeeOther, status)
		status, _, body = hh.post(mine+"/"+id+"/object", url.Values{"csrf": {htok}, "reason": {"再提一次"}})
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "您已提过异议")
		status, _, _ = hh.post(mine+"/not-a-round/object", url.Values{"csrf": {htok}, "reason": {"x"}})
		assert.Equal(t, http.StatusNotFound, status)

		// The reviewer dismisses it.
		_, _, body = rev.get(round)
		assert.Contains(t, body, "我家股份应是12股")
		oid := regexp.MustCompile(`/objections/([0-9a-f-]{36})"`).FindStringSubmatch(body)
		require.NotNil(t, oid)
		status, loc, _ = rev.post(round+"/objections/"+oid[1], url.Values{"csrf": {rtok}, "decision": {"dismiss"}, "reason": {"股份登记簿为10股"}})
		require.Equal(t, http.StatusSeeOther, status)
		_, _, body = rev.get(loc)
		assert.Contains(t, body, "已驳回")

		// No payout before approval; approved (the notice over), the file
		// adds up to the pool; another village's clerk gets nothing.
		status, _, body = clerk.post(round+"/payout", url.Values{"csrf": {tok}})
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "还没批准")
		later := dividend.NewService(st.Dividends(), func() time.Time { return time.Now().Add(96 * time.Hour) })
		_, err := later.ApproveRound(context.Background(), e.staff["reviewer-a"], dividend.RoundName(villageA, id))
		require.NoError(t, err)
		status, _, _ = other.post(round+"/payout", url.Values{"csrf": {otok}})
		assert.Equal(t, http.StatusForbidden, status)
		resp, err := clerk.hc.PostForm(e.srv.URL+round+"/payout", url.Values{"csrf": {tok}})
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
		assert.Contains(t, resp.Header.Get("Content-Disposition"), "attachment; filename=\"dividend-330483102215-")
		var buf bytes.Buffer
		_, err = buf.ReadFrom(resp.Body)
		require.NoError(t, err)
		require.True(t, bytes.HasPrefix(buf.Bytes(), []byte("\xEF\xBB\xBF")))
		recs, err := csv.NewReader(bytes.NewReader(buf.Bytes()[3:])).ReadAll()
		require.NoError(t, err)
		require.Len(t, recs, 4)
		sum := decimal.Zero
		for _, r := range recs[1:] {
			sum = sum.Add(decimal.RequireFromString(r[4]))
		}
		assert.Equal(t, "1000.00", sum.StringFixed(2))
	})
}
