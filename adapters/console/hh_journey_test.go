package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/scoring/evidence"
)

// TestHouseholdJourney: on a phone, the household signs in with its code,
// objects to its entry on notice, confirms a bank's pending consent
// request, then reads My credit and My data. Under make photos it photographs
// the household's pages into docs/console.
func TestHouseholdJourney(t *testing.T) {
	t.Parallel() // make test runs two journeys at a time (-parallel 2)
	skipUnderRace(t)
	storetest.Engine(t, storetest.SQLite, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		b := newBank(t, e)
		req := b.request(t, e, b.officer)
		tb := newTab(t)
		ctx, photos, step, text := tb.ctx, tb.photos, tb.step, tb.text

		step("sign in with the code", chromedp.EmulateViewport(360, 780), chromedp.Navigate(e.srv.URL+"/console/signin"),
			chromedp.WaitVisible(chromedp.CSS("#code")), chromedp.SendKeys(chromedp.CSS("#code"), strings.ToLower(e.code)),
			chromedp.Submit(chromedp.CSS("#code")), chromedp.WaitVisible(chromedp.CSS("#credit")))

		// Object to the entry on notice.
		step("open the entries on notice", chromedp.Navigate(e.srv.URL+"/console/me/notice"),
			chromedp.WaitVisible(chromedp.CSS(`input[name="reason"]`)))
		assert.Contains(t, text("main"), "参加百姓议事会")
		step("object", chromedp.SendKeys(chromedp.CSS(`input[name="reason"]`), "那天我家没人去议事会"),
			chromedp.Submit(chromedp.CSS(`input[name="reason"]`)), chromedp.WaitVisible(chromedp.CSS("section.panel .tag")))
		assert.Contains(t, text("main"), "已提出异议")
		page, err := e.app.Evidence.List(context.Background(), evidence.Filter{Parent: e.hh}, 0, "")
		require.NoError(t, err)
		assert.Equal(t, evidence.Disputed, page.Evidence[0].State)
		if photos {
			shoot(t, ctx, "hh-notice")
		}

		// A bank's counter request waits for the household: it confirms.
		step("open My data", chromedp.Click(chromedp.CSS(`nav a[href="/console/me/data"]`)),
			chromedp.WaitVisible(chromedp.CSS("button.confirm")))
		assert.Contains(t, text("main"), "银行请您确认")
		if photos {
			shoot(t, ctx, "hh-data-pending")
		}
		step("confirm", chromedp.Click(chromedp.CSS("button.confirm")), chromedp.WaitVisible(chromedp.CSS("#done")))
		assert.Contains(t, text("#done"), "已同意")
		assert.Equal(t, lending.ConsentGranted, consentOf(t, e, req.ID).State)

		// The bank assesses; the household reads why and how to do better.
		_, err = e.app.Lending.Assess(context.Background(), b.officer, hhProduct, e.hh)
		require.NoError(t, err)
		_, _, err = e.st.Integrate(context.Background(), 1000)
		require.NoError(t, err)
		step("open My credit", chromedp.Click(chromedp.CSS(`nav a[href="/console/me/credit"]`)),
			chromedp.WaitVisible(chromedp.CSS("section.line")))
		credit := text("main")
		assert.Contains(t, credit, "为什么是这个结果")
		assert.Contains(t, credit, "怎样可以更好")
		if photos {
			shoot(t, ctx, "hh-credit")
		}
		step("back to My data", chromedp.Click(chromedp.CSS(`nav a[href="/console/me/data"]`)),
			chromedp.WaitVisible(chromedp.CSS("#records")))
		assert.Contains(t, text("#records"), "评估授信")
		if photos {
			shoot(t, ctx, "hh-data")
		}
	})
}
