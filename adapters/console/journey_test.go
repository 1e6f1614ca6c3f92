package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
)

// TestJourneys drives the console in headless Chromium, as people use it;
// under make photos it photographs each page into docs/console.
func TestJourneys(t *testing.T) {
	t.Parallel() // make test runs two journeys at a time (-parallel 2)
	skipUnderRace(t)
	storetest.Engine(t, storetest.SQLite, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		tb := newTab(t)
		ctx, photos, step, text := tb.ctx, tb.photos, tb.step, tb.text

		// The household signs in with the code on its slip, on a phone.
		step("open sign-in", chromedp.EmulateViewport(360, 780), chromedp.Navigate(e.srv.URL+"/console/signin"),
			chromedp.WaitVisible(chromedp.CSS("#code")))
		if photos {
			shoot(t, ctx, "signin")
		}
		step("enter the code", chromedp.SendKeys(chromedp.CSS("#code"), strings.ToLower(e.code)),
			chromedp.Submit(chromedp.CSS("#code")), chromedp.WaitVisible(chromedp.CSS("#credit")))
		assert.Contains(t, text("main"), e.hhHead)
		assert.Contains(t, text("main"), "正在公示")
		assert.Contains(t, text("main"), "参加百姓议事会")
		if photos {
			shoot(t, ctx, "report-card")
		}
		// In English too.
		step("switch language", chromedp.Click(chromedp.CSS(`a[hreflang="en"]`)), chromedp.WaitVisible(chromedp.CSS("#credit")))
		assert.Contains(t, text("h1"), "My report card")
		step("back to Chinese", chromedp.Click(chromedp.CSS(`a[hreflang="zh"]`)), chromedp.WaitVisible(chromedp.CSS("#credit")))
		step("sign out", chromedp.Click(chromedp.CSS(`header form button`)), chromedp.WaitVisible(chromedp.CSS("#username")))

		// A reviewer signs in, must change the first password, reads the board.
		step("staff sign-in", chromedp.SendKeys(chromedp.CSS("#username"), "reviewer-a"),
			chromedp.SendKeys(chromedp.CSS("#password"), password), chromedp.Submit(chromedp.CSS("#password")),
			chromedp.WaitVisible(chromedp.CSS("#old_password")))
		if photos {
			shoot(t, ctx, "password")
		}
		step("change password", chromedp.SendKeys(chromedp.CSS("#old_password"), password),
			chromedp.SendKeys(chromedp.CSS("#password"), newPassword),
			chromedp.SendKeys(chromedp.CSS("#confirm"), newPassword), chromedp.Submit(chromedp.CSS("#confirm")),
			chromedp.WaitVisible(chromedp.CSS("table.stack")))
		board := text("main")
		assert.Contains(t, board, "公示栏")
		assert.Contains(t, board, e.hhHead)
		assert.Contains(t, board, "南阳村3组27号")
		if photos {
			shoot(t, ctx, "board")
		}
	})
}
