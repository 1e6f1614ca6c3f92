package console_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
)

// TestMembersJourney: a clerk, on a phone, opens a household registered
// with its head alone, enters the spouse (after mistyping her 身份证号)
// and sees the members listed. Under make photos it photographs the pages.
func TestMembersJourney(t *testing.T) {
	t.Parallel() // make test runs two journeys at a time (-parallel 2)
	skipUnderRace(t)
	storetest.Engine(t, storetest.SQLite, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		h, _ := registered(t, e, "顾永明", 6, "南阳村6组12号")
		tb := newTab(t)
		step, text := tb.step, tb.text
		shot := tb.phonePhoto
		set := func(sel, v string) chromedp.Action[chromedp.Void] { return chromedp.SetValue(chromedp.CSS(sel), v) }

		step("viewport", chromedp.EmulateViewport(360, 780))
		tb.firstSignIn(e.srv.URL+"/console", "clerk-a")
		step("clerk-a's home", chromedp.WaitVisible(chromedp.CSS("table.stack")))

		step("the household", chromedp.Navigate(e.srv.URL+hhPath(h)), chromedp.WaitVisible(chromedp.CSS("#member-list")))
		assert.Contains(t, text("#members-missing"), "还有2人未登记")
		step("add a member", chromedp.Click(chromedp.CSS("#add-member")), chromedp.WaitVisible(chromedp.CSS("#f-name")))
		spouse := bornID(t, "19780305")
		typo := spouse[:15] + string("1234567890"[spouse[15]-'0']) + spouse[16:] // one digit wrong
		step("fill in", set("#f-name", "沈月芬"), set("#f-relation", "spouse"), set("#f-id_number", typo),
			set("#f-labour", "labourer"), chromedp.Submit(chromedp.CSS("#f-name")),
			chromedp.WaitVisible(chromedp.CSS("#id_number-error")))
		assert.Contains(t, text("#id_number-error"), "身份证号不对")
		shot("clerk-member-errors")
		step("the right number", set("#f-id_number", spouse), chromedp.Submit(chromedp.CSS("#f-name")),
			chromedp.WaitVisible(chromedp.CSS("#done")))
		assert.Contains(t, text("#done"), "已添加成员")
		list := text("#member-list")
		assert.Contains(t, list, "沈月芬")
		assert.Contains(t, list, "配偶")
		assert.Contains(t, list, spouse[:6]+"********"+spouse[14:])
		assert.NotContains(t, text("main"), spouse)
		shot("clerk-household-members")

		got, err := e.app.Households.Get(context.Background(), h.Name())
		require.NoError(t, err)
		require.Len(t, got.Members, 2)
		assert.Equal(t, int64(2), got.Facts.Version)
	})
}
