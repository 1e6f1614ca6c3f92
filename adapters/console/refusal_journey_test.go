package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/access/signin"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// TestRefusalJourney is journey 3 of the console: in a real browser, a
// clerk of another village, a household reaching for another household's
// entry, a form sent without its CSRF token and a session that expired
// are each refused, and nothing is written. Under make photos it photographs
// the refusal page.
func TestRefusalJourney(t *testing.T) {
	t.Parallel() // make test runs two journeys at a time (-parallel 2)
	skipUnderRace(t)
	storetest.Engine(t, storetest.SQLite, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		require.NoError(t, st.Principals().PutBank(ctx, &access.Bank{ID: "tongxiang-rcb", Name: "桐乡农商银行"}))
		_, hidA, err := household.ParseName(e.hh, "hh")
		require.NoError(t, err)
		hhA, err := e.app.Households.Get(ctx, e.hh)
		require.NoError(t, err)
		hB := e.register(t, villageB, "陆志强", 2, "堰头村2组8号")
		// A second household of 南阳村 with an entry of its own on notice.
		other := e.register(t, villageA, "李秀英", 2, "南阳村2组5号")
		otherEv, err := e.app.Evidence.Submit(ctx, e.staff["clerk-a"], evidence.SubmitInput{Parent: other.Name(),
			Kind: evidence.Points, ItemCode: "ZZ-MS-01", Quantity: 1, OccurredOn: string(household.Today(time.Now())),
			Witness: "村民小组长 王伟", RequestID: fmt.Sprintf("ev-%d", seq.Add(1))})
		require.NoError(t, err)
		_, err = e.app.Evidence.Review(ctx, e.staff["reviewer-a"], otherEv.Name(), true, "")
		require.NoError(t, err)

		tb := newTab(t)
		step, text := tb.step, tb.text
		refused := chromedp.WaitVisible(chromedp.CSS("main p.error"))
		base := e.srv.URL + "/console"
		villageAPath := base + "/villages/" + villageA

		// (a) The clerk of 堰头村 reaches for 南阳村's pages.
		step("on a phone", chromedp.EmulateViewport(360, 780))
		tb.firstSignIn(base, "clerk-b")
		for _, page := range []string{"/households/" + hidA, "/households/" + hidA + "/edit", "/households/" + hidA + "/code",
			"/evidence/new?household=" + hidA} {
			step("clerk-b opens 南阳村"+page, chromedp.Navigate(villageAPath+page), refused)
			assert.Contains(t, text("main"), "您没有查看这个页面的权限", page)
			assert.NotContains(t, text("main"), e.hhHead, page)
		}
		if tb.photos {
			shoot(t, tb.ctx, "refused")
		}
		// Its own village's form, sent at 南阳村's household instead.
		step("clerk-b edits its own household", chromedp.Navigate(base+"/villages/"+villageB+"/households/"+hB.ID+"/edit"),
			chromedp.WaitVisible(chromedp.CSS("#f-head_name")))
		retarget := fmt.Sprintf(`document.querySelector('main form').action = %q; true`, "/console/villages/"+villageA+"/households/"+hidA)
		step("… sent at 南阳村's household", chromedp.Evaluate[chromedp.Void](retarget),
			chromedp.SetValue(chromedp.CSS("#f-head_name"), "冒名顶替"), chromedp.Submit(chromedp.CSS("#f-head_name")), refused)
		assert.Contains(t, text("main"), "您没有查看这个页面的权限")
		got, err := e.app.Households.Get(ctx, e.hh)
		require.NoError(t, err)
		assert.Equal(t, e.hhHead, got.HeadName, "nothing written")
		assert.Equal(t, hhA.Facts.Version, got.Facts.Version, "no new facts version")
		step("clerk-b signs out", chromedp.Navigate(base+"/villages/"+villageB+"/households"),
			chromedp.Click(chromedp.CSS("header form button")), chromedp.WaitVisible(chromedp.CSS("#code")))

		// (b) A household reaches for another household's page and entry.
		step("the household signs in", chromedp.SendKeys(chromedp.CSS("#code"), e.code),
			chromedp.Submit(chromedp.CSS("#code")), chromedp.WaitVisible(chromedp.CSS("#credit")))
		step("opens the other household's page", chromedp.Navigate(villageAPath+"/households/"+other.ID), refused)
		assert.Contains(t, text("main"), "您没有查看这个页面的权限")
		assert.NotContains(t, text("main"), "李秀英")
		step("opens its entries on notice", chromedp.Navigate(base+"/me/notice"),
			chromedp.WaitVisible(chromedp.CSS(`input[name="reason"]`)))
		retarget = fmt.Sprintf(`document.querySelector('form[action^="/console/me/notice/"]').action = %q; true`, "/console/me/notice/"+otherEv.ID)
		step("objects to the other household's entry", chromedp.Evaluate[chromedp.Void](retarget),
			chromedp.SendKeys(chromedp.CSS(`input[name="reason"]`), "他家不该得分"),
			chromedp.Submit(chromedp.CSS(`input[name="reason"]`)), refused)
		assert.Contains(t, text("main"), "没有找到这个页面")
		ev, err := e.app.Evidence.Get(ctx, otherEv.Name())
		require.NoError(t, err)
		assert.Equal(t, evidence.Posted, ev.State, "nothing written")
		assert.Equal(t, evidence.Posted, onNotice(t, e).State, "its own entry untouched too")

		// (c) A form without its CSRF token.
		fill := chromedp.Evaluate[chromedp.Void](`document.querySelector('#grant-bank').value = 'tongxiang-rcb';
			document.querySelectorAll('#grant-purposes input').forEach(b => b.checked = true); true`)
		step("opens My data", chromedp.Navigate(base+"/me/data"), chromedp.WaitVisible(chromedp.CSS("#grant-submit")), fill)
		step("grants without the token", chromedp.Evaluate[chromedp.Void](`document.querySelector('#grant input[name="csrf"]').remove(); true`),
			chromedp.Click(chromedp.CSS("#grant-submit")), refused)
		assert.Contains(t, text("main"), "页面已过期")
		assert.Empty(t, consentsOf(t, e), "nothing written")

		// (d) The session expires while the form is open.
		step("opens My data again", chromedp.Navigate(base+"/me/data"), chromedp.WaitVisible(chromedp.CSS("#grant-submit")), fill)
		cookies, err := chromedp.Run(tb.ctx, func(ctx context.Context, tg *chromedp.Target) ([]*network.Cookie, error) {
			r, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
			return r.Cookies, err
		})
		require.NoError(t, err)
		token := ""
		for _, ck := range cookies {
			if ck.Name == "sz_session" {
				token = ck.Value
			}
		}
		require.NotEmpty(t, token, "the browser holds a session")
		// Last seen longer ago than the idle limit, as the store keeps it.
		require.NoError(t, st.SignIn().Write(ctx, func(w signin.Writer) error {
			s, err := w.SessionByHash(ctx, signin.HashToken(token))
			if err != nil {
				return err
			}
			return w.TouchSession(ctx, s.ID, time.Now().Add(-signin.IdleTimeout-time.Minute))
		}))
		step("grants after the session expired", chromedp.Click(chromedp.CSS("#grant-submit")),
			chromedp.WaitVisible(chromedp.CSS("#code")))
		assert.True(t, strings.HasSuffix(location(t, tb), "/console/signin"), "back to sign-in")
		assert.Empty(t, consentsOf(t, e), "the form's write did not happen")
		step("My data needs a new sign-in", chromedp.Navigate(base+"/me/data"), chromedp.WaitVisible(chromedp.CSS("#code")))
	})
}

func location(t *testing.T, tb *tab) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	return u
}
