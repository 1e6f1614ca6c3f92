package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// TestClerkJourney: a clerk, on a phone, finds a household, registers a
// new one (after a mistake), prints its access-code slip and records
// evidence for it. Under make photos it photographs each page into docs/console.
func TestClerkJourney(t *testing.T) {
	t.Parallel() // make test runs two journeys at a time (-parallel 2)
	skipUnderRace(t)
	storetest.Engine(t, storetest.SQLite, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		tb := newTab(t)
		step, text := tb.step, tb.text
		shot := tb.phonePhoto
		set := func(sel, v string) chromedp.Action[chromedp.Void] { return chromedp.SetValue(chromedp.CSS(sel), v) }
		village := e.srv.URL + "/console/villages/" + villageA

		step("on a phone", chromedp.EmulateViewport(360, 780))
		tb.firstSignIn(e.srv.URL+"/console", "clerk-a")
		// The board (its one notice), not the password page's own h1.
		step("the board", chromedp.WaitVisible(chromedp.CSS("table.stack")))

		// Find the household on the board by its head's name.
		step("households", chromedp.Navigate(village+"/households"), chromedp.WaitVisible(chromedp.CSS("#name")))
		shot("clerk-households")
		step("find", chromedp.SendKeys(chromedp.CSS("#name"), "建国"), chromedp.Click(chromedp.CSS("#find")),
			chromedp.WaitVisible(chromedp.CSS("#found")))
		found := text("#found")
		assert.Contains(t, found, e.hhHead)
		assert.Contains(t, found, "南阳村3组27号")
		assert.Contains(t, found, "********", "the number masked")
		shot("clerk-find")

		// Register a new one; the first try forgets the head's name.
		id := idNumber(t)
		step("register form", chromedp.Click(chromedp.CSS("#register")), chromedp.WaitVisible(chromedp.CSS("#f-head_name")))
		step("fill in", set("#f-head_id_number", id), set("#f-group", "4"), set("#f-address", "南阳村4组15号"),
			set("#f-registered", "2005-06-01"), set("#f-members", "5"), set("#f-labourers", "3"),
			set("#f-annual_income", "98000.50"), set("#f-land_area_mu", "4.2"), set("#f-source", "入户调查"),
			chromedp.Submit(chromedp.CSS("#f-source")), chromedp.WaitVisible(chromedp.CSS("#head_name-error")))
		assert.Contains(t, text("#head_name-error"), "请填写这一项")
		shot("clerk-register-errors")
		step("name it", set("#f-head_name", "孙丽华"), chromedp.Submit(chromedp.CSS("#f-head_name")),
			chromedp.WaitVisible(chromedp.CSS("#done")))
		assert.Contains(t, text("#done"), "已登记")
		assert.NotContains(t, text("main"), id)
		var h *household.Household
		for _, x := range households(t, e, villageA) {
			if x.HeadName == "孙丽华" {
				h = x
			}
		}
		require.NotNil(t, h, "registered")
		assert.Equal(t, "南阳村4组15号", h.Address)
		shot("clerk-household")

		// Its access code: the page, then the slip.
		step("code page", chromedp.Click(chromedp.CSS("#code")), chromedp.WaitVisible(chromedp.CSS("#issue")))
		shot("clerk-code")
		step("issue", chromedp.Click(chromedp.CSS("#issue")), chromedp.WaitVisible(chromedp.CSS("#slip-code")))
		code := strings.TrimSpace(text("#slip-code"))
		slip := text("#slip")
		assert.Contains(t, slip, "孙丽华")
		assert.Contains(t, slip, e.srv.URL+"/console/signin")
		shot("clerk-slip")
		hc := e.client(t)
		hc.signInCode(code)
		status, _, body := hc.get("/console/me")
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, "孙丽华")

		// Record evidence for it.
		step("back to the household", chromedp.Navigate(e.srv.URL+hhPath(h)), chromedp.WaitVisible(chromedp.CSS("#record")))
		step("evidence form", chromedp.Click(chromedp.CSS("#record")), chromedp.WaitVisible(chromedp.CSS("#f-item")))
		step("fill evidence", set("#f-item", "ZZ-MS-01"), set("#f-witness", "村民小组长 王伟"), set("#f-note", "参加百姓议事会"))
		shot("clerk-evidence")
		step("submit evidence", chromedp.Submit(chromedp.CSS("#f-note")), chromedp.WaitVisible(chromedp.CSS("#done")))
		assert.Contains(t, text("#done"), "证据已登记")
		got := evidenceOf(t, e, h)
		require.Len(t, got, 1)
		assert.Equal(t, "ZZ-MS-01", got[0].ItemCode)
		assert.Equal(t, "村民小组长 王伟", got[0].Witness)

		// The catalogue, as a list people read.
		step("catalogue", chromedp.Navigate(village+"/catalogue"), chromedp.WaitVisible(chromedp.CSS("table.stack")))
		assert.Contains(t, text("main"), "参加百姓议事会")
		shot("clerk-catalogue")
	})
}
