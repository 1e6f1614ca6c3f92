package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/scoring/dividend"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// TestDividendJourney: on a phone, a clerk computes a round (after a pool
// in fractions of a fen is refused beside its field), a reviewer starts
// its 公示, the household reads its statement and objects, the reviewer
// dismisses the objection, and once the notice is over the round is
// approved with its payout file ready. Under make photos it photographs the
// pages.
func TestDividendJourney(t *testing.T) {
	t.Parallel() // make test runs two journeys at a time (-parallel 2)
	skipUnderRace(t)
	storetest.Engine(t, storetest.SQLite, func(t *testing.T, st *sqlstore.Store) {
		e := dividendEnv(t, st)
		tb := newTab(t)
		step, text, shot := tb.step, tb.text, tb.phonePhoto
		set := func(sel, v string) chromedp.Action[chromedp.Void] { return chromedp.SetValue(chromedp.CSS(sel), v) }
		list := e.srv.URL + "/console/villages/" + villageA + "/dividends"
		signOut := func() {
			step("sign out", chromedp.Submit(chromedp.CSS(`form[action="/console/signout"] button`)),
				chromedp.WaitVisible(chromedp.CSS("#username")))
		}

		step("viewport", chromedp.EmulateViewport(360, 780))
		tb.firstSignIn(e.srv.URL+"/console", "clerk-a")
		step("the dividends", chromedp.Navigate(list), chromedp.WaitVisible(chromedp.CSS("#title")))
		day := string(points.AddDays(household.Today(time.Now()), -1))
		step("a pool in fractions of a fen", set("#title", "2025年度集体经济股份分红"), set("#pool", "1000.005"),
			set("#record_date", day), chromedp.Submit(chromedp.CSS("#title")), chromedp.WaitVisible(chromedp.CSS("#pool-error")))
		assert.Contains(t, text("#pool-error"), "金额最多两位小数")
		assert.Empty(t, rounds(t, e), "nothing written")
		shot("clerk-dividend-errors")
		step("the right pool", set("#pool", "1000.00"), chromedp.Submit(chromedp.CSS("#title")),
			chromedp.WaitVisible(chromedp.CSS("td.total")))
		assert.Contains(t, text("td.total"), "¥1,000.00")
		assert.Contains(t, text("td.state"), "草稿")
		shot("clerk-dividend-draft")
		rs := rounds(t, e)
		require.Len(t, rs, 1)
		round := list + "/" + rs[0].ID
		signOut()

		tb.firstSignIn(e.srv.URL+"/console", "reviewer-a")
		step("the draft", chromedp.Navigate(round), chromedp.WaitVisible(chromedp.CSS(`button[value="approve"]`)))
		step("start the notice", chromedp.Click(chromedp.CSS(`button[value="approve"]`)),
			chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)))
		assert.Contains(t, text("td.state"), "公示中")
		signOut()

		step("the household signs in", chromedp.Navigate(e.srv.URL+"/console/signin"),
			chromedp.WaitVisible(chromedp.CSS("#code")), chromedp.SendKeys(chromedp.CSS("#code"), strings.ToLower(e.code)),
			chromedp.Submit(chromedp.CSS("#code")), chromedp.WaitVisible(chromedp.CSS("#credit")))
		step("my dividends", chromedp.Click(chromedp.CSS(`nav a[href="/console/me/dividends"]`)),
			chromedp.WaitVisible(chromedp.CSS("section.statement")))
		assert.Contains(t, text("p.amount"), "¥333.34")
		step("object", chromedp.SendKeys(chromedp.CSS(`input[name="reason"]`), "我家股份应为12股"),
			chromedp.Submit(chromedp.CSS(`input[name="reason"]`)), chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)))
		assert.Contains(t, text("section.statement"), "待处理")
		shot("hh-dividends")
		signOut()

		step("the reviewer again", chromedp.SendKeys(chromedp.CSS("#username"), "reviewer-a"),
			chromedp.SendKeys(chromedp.CSS("#password"), newPassword), chromedp.Submit(chromedp.CSS("#password")),
			chromedp.WaitNotPresent(chromedp.CSS("#password")))
		step("the objection", chromedp.Navigate(round), chromedp.WaitVisible(chromedp.CSS(`button[value="dismiss"]`)))
		assert.Contains(t, text("main"), "我家股份应为12股")
		shot("reviewer-dividend-notice")
		step("dismiss it", chromedp.SendKeys(chromedp.CSS(`form[action*="/objections/"] input[name="reason"]`), "股份登记簿为10股，核实无误"),
			chromedp.Click(chromedp.CSS(`button[value="dismiss"]`)), chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)))
		assert.Contains(t, text("main"), "已驳回")
		step("too early to approve", chromedp.Click(chromedp.CSS(`form[action$="/approve"] button`)),
			chromedp.WaitVisible(chromedp.CSS("#round-error")))
		assert.Contains(t, text("#round-error"), "公示期还没结束")

		// The notice is over: the reviewer approves (on the service's
		// clock three days on) and the page offers the payout file.
		later := dividend.NewService(st.Dividends(), func() time.Time { return time.Now().Add(96 * time.Hour) })
		_, err := later.ApproveRound(context.Background(), e.staff["reviewer-a"], rs[0].Name())
		require.NoError(t, err)
		step("approved", chromedp.Navigate(round), chromedp.WaitVisible(chromedp.CSS(`form[action$="/payout"] button`)))
		assert.Contains(t, text("td.state"), "已批准")
		shot("reviewer-dividend-approved")
	})
}
