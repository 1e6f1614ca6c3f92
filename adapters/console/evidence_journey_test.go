package console_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// TestEvidenceJourney is the evidence workflow end to end, on a phone: a
// clerk registers a household and records evidence with a photo taken on
// the spot; a reviewer sees its thumbnail and approves; the 公示 board
// shows it; the household signs in with its code, sees it on notice and
// objects; the reviewer resolves the objection. Under make photos it
// photographs the photo form and the queue with its thumbnail.
func TestEvidenceJourney(t *testing.T) {
	t.Parallel() // make test runs two journeys at a time (-parallel 2)
	skipUnderRace(t)
	storetest.Engine(t, storetest.SQLite, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		tb := newTab(t)
		step, text := tb.step, tb.text
		shot := tb.phonePhoto
		set := func(sel, v string) chromedp.Action[chromedp.Void] { return chromedp.SetValue(chromedp.CSS(sel), v) }
		village := e.srv.URL + "/console/villages/" + villageA
		signOut := func() {
			t.Helper()
			step("sign out", chromedp.Click(chromedp.CSS(`header form button`)), chromedp.WaitVisible(chromedp.CSS("#username")))
		}
		staffSignIn := func(user, pw string) {
			t.Helper()
			step("sign in "+user, chromedp.Navigate(e.srv.URL+"/console/signin"), chromedp.WaitVisible(chromedp.CSS("#username")),
				chromedp.SendKeys(chromedp.CSS("#username"), user),
				chromedp.SendKeys(chromedp.CSS("#password"), pw), chromedp.Submit(chromedp.CSS("#password")))
			if pw == password {
				step("first password change "+user, chromedp.WaitVisible(chromedp.CSS("#old_password")),
					chromedp.SendKeys(chromedp.CSS("#old_password"), password),
					chromedp.SendKeys(chromedp.CSS("#password"), newPassword),
					chromedp.SendKeys(chromedp.CSS("#confirm"), newPassword), chromedp.Submit(chromedp.CSS("#confirm")))
			}
			step("signed in "+user, chromedp.WaitVisible(chromedp.CSS("table.stack")))
		}
		// The photo the clerk takes: a JPEG with EXIF (where, which phone).
		shotFile := filepath.Join(t.TempDir(), "IMG_20260312_0931.jpg")
		require.NoError(t, os.WriteFile(shotFile, testJPEG(t, 1600, 1200), 0o644))

		// The clerk registers the household.
		step("phone", chromedp.EmulateViewport(360, 780))
		staffSignIn("clerk-a", password)
		step("register form", chromedp.Navigate(village+"/households/new"), chromedp.WaitVisible(chromedp.CSS("#f-head_name")))
		step("register", set("#f-head_name", "钱海峰"), set("#f-head_id_number", idNumber(t)), set("#f-group", "2"),
			set("#f-address", "南阳村2组9号"), set("#f-registered", "2008-04-01"), set("#f-members", "4"),
			set("#f-labourers", "2"), set("#f-annual_income", "76000"), set("#f-land_area_mu", "2.5"),
			set("#f-source", "入户调查"), chromedp.Submit(chromedp.CSS("#f-source")), chromedp.WaitVisible(chromedp.CSS("#done")))
		var h *household.Household
		for _, x := range households(t, e, villageA) {
			if x.HeadName == "钱海峰" {
				h = x
			}
		}
		require.NotNil(t, h, "registered")

		// ...and records what the photo shows: vegetables on the estate's green.
		step("evidence form", chromedp.Click(chromedp.CSS("#record")), chromedp.WaitVisible(chromedp.CSS("#f-photo")))
		assert.Equal(t, "image/jpeg,image/png", attr(t, tb, "#f-photo", "accept"))
		step("fill evidence", set("#f-item", "NY-ML-02"), set("#f-witness", "物业 周敏"), set("#f-note", "东侧绿地种了一畦青菜"),
			chromedp.SetUploadFiles(chromedp.CSS("#f-photo"), []string{shotFile}))
		shot("evidence-photo-form")
		step("submit evidence", chromedp.Submit(chromedp.CSS("#f-note")), chromedp.WaitVisible(chromedp.CSS("#done")))
		assert.Contains(t, text("#done"), "证据已登记")
		got := evidenceOf(t, e, h)
		require.Len(t, got, 1)
		ev := got[0]
		require.Len(t, ev.Attachments, 1)
		p := photoRow(t, e, ev.Attachments[0].SHA256)
		require.NotNil(t, p, "the photo is stored with its evidence")
		assert.NotContains(t, string(p.Bytes), exifSecret)
		signOut()

		// The reviewer sees the photo's thumbnail in the queue and approves.
		staffSignIn("reviewer-a", password)
		step("queue", chromedp.Navigate(village+"/review"), chromedp.WaitVisible(chromedp.CSS("#ev-"+ev.ID+" img.thumb")))
		// The thumbnail has loaded: its natural width is the thumbnail's.
		width := run(t, tb, chromedp.Poll[int](`(() => { const i = document.querySelector("#ev-`+ev.ID+` img.thumb");
			return i.complete && i.naturalWidth })()`))
		assert.Equal(t, 320, width)
		assert.Contains(t, text("#ev-"+ev.ID), "违反承诺在小区公共绿地种菜")
		shot("review-queue-photo")
		step("approve", chromedp.Click(chromedp.CSS("#ev-"+ev.ID+` button[value="approve"]`)),
			chromedp.WaitNotPresent(chromedp.CSS("#ev-"+ev.ID)), chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)))
		assert.Equal(t, evidence.Posted, e.state(t, ev))

		// The 公示 board shows it.
		step("board", chromedp.Navigate(village+"/board"), chromedp.WaitVisible(chromedp.CSS("table.stack")))
		board := text("main")
		assert.Contains(t, board, "钱海峰")
		assert.Contains(t, board, "违反承诺在小区公共绿地种菜")
		signOut()

		// The household signs in with its code, sees it on notice, objects.
		code, _, err := e.app.SignIn.IssueCode(context.Background(), e.staff["clerk-a"], villageA, h.ID)
		require.NoError(t, err)
		step("household sign-in", chromedp.WaitVisible(chromedp.CSS("#code")), chromedp.SendKeys(chromedp.CSS("#code"), strings.ToLower(code)),
			chromedp.Submit(chromedp.CSS("#code")), chromedp.WaitVisible(chromedp.CSS("#credit")))
		step("on notice", chromedp.Navigate(e.srv.URL+"/console/me/notice"), chromedp.WaitVisible(chromedp.CSS("#reason-"+ev.ID)))
		assert.Contains(t, text("#e-"+ev.ID), "违反承诺在小区公共绿地种菜")
		step("its photo", chromedp.WaitVisible(chromedp.CSS("#e-"+ev.ID+" img.thumb")))
		step("object", chromedp.SendKeys(chromedp.CSS("#reason-"+ev.ID), "那是邻居家种的，不是我家"),
			chromedp.Submit(chromedp.CSS("#reason-"+ev.ID)), chromedp.WaitVisible(chromedp.CSS("#e-"+ev.ID+" .tag")))
		assert.Contains(t, text("#e-"+ev.ID), "已提出异议")
		assert.Equal(t, evidence.Disputed, e.state(t, ev))
		signOut()

		// The reviewer resolves the objection: the household was right.
		staffSignIn("reviewer-a", newPassword)
		step("objections", chromedp.Navigate(village+"/objections"), chromedp.WaitVisible(chromedp.CSS("#ev-"+ev.ID)))
		assert.Contains(t, text("#ev-"+ev.ID+" .objection"), "那是邻居家种的")
		step("overturn", chromedp.SendKeys(chromedp.CSS("#reason-"+ev.ID), "核实是邻居所种"),
			chromedp.Click(chromedp.CSS("#ev-"+ev.ID+` button[value="overturn"]`)),
			chromedp.WaitNotPresent(chromedp.CSS("#ev-"+ev.ID)), chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)))
		assert.NotEqual(t, evidence.Disputed, e.state(t, ev))
	})
}

// attr reads attribute name of the first element sel matches.
func attr(t *testing.T, b *tab, sel, name string) string {
	t.Helper()
	a := run(t, b, chromedp.AttributeValue(chromedp.CSS(sel), name))
	require.True(t, a.Exists, "%s has no %s", sel, name)
	return a.Value
}
