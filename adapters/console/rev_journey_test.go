package console_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/scoring/evidence"
)

// TestReviewerJourney: a reviewer signs in on a phone, sends one entry
// back with a reason and approves another, decides an objection and opens
// the quarterly ranking; make photos photographs the reviewer's pages.
func TestReviewerJourney(t *testing.T) {
	t.Parallel() // make test runs two journeys at a time (-parallel 2)
	skipUnderRace(t)
	storetest.Engine(t, storetest.SQLite, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		f := revSetup(t, e)
		tb := newTab(t)
		ctx, photos, step, text := tb.ctx, tb.photos, tb.step, tb.text
		village := e.srv.URL + "/console/villages/" + villageA

		step("viewport", chromedp.EmulateViewport(360, 780))
		tb.firstSignIn(e.srv.URL+"/console", "reviewer-a")
		step("reviewer-a's home", chromedp.WaitVisible(chromedp.CSS("table.stack")))

		// The board links to no reviewer page yet (see the notes): go there.
		step("open the queue", chromedp.Navigate(village+"/review"),
			chromedp.WaitVisible(chromedp.CSS("#ev-"+f.toReject.ID)))
		queue := text("main")
		for _, want := range []string{"待审核的记录", f.hh2Head, e.hhHead, "农耕园菜地保持整洁", "网格员 陈丽", "已附1份"} {
			assert.Contains(t, queue, want)
		}
		if photos {
			shoot(t, ctx, "review-queue")
		}
		// Sending back without a reason: the message next to the field.
		rejectBtn := chromedp.CSS("#ev-" + f.toReject.ID + ` button[value="reject"]`)
		step("reject without a reason", chromedp.Click(rejectBtn),
			chromedp.WaitVisible(chromedp.CSS("#reason-error-"+f.toReject.ID)))
		assert.Contains(t, text("#reason-error-"+f.toReject.ID), "请写明理由")
		assert.Equal(t, evidence.PendingReview, e.state(t, f.toReject))
		if photos {
			shoot(t, ctx, "review-error")
		}
		step("reject with a reason", chromedp.SendKeys(chromedp.CSS("#reason-"+f.toReject.ID), "签到表上没有这户"),
			chromedp.Click(rejectBtn), chromedp.WaitNotPresent(chromedp.CSS("#ev-"+f.toReject.ID)),
			chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)))
		assert.Contains(t, text(`p[role="status"]`), "已退回")
		step("approve", chromedp.Click(chromedp.CSS("#ev-"+f.toApprove.ID+` button[value="approve"]`)),
			chromedp.WaitNotPresent(chromedp.CSS("#ev-"+f.toApprove.ID)), chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)))
		assert.Contains(t, text(`p[role="status"]`), "已通过")
		assert.Equal(t, evidence.Rejected, e.state(t, f.toReject))
		assert.Equal(t, evidence.Posted, e.state(t, f.toApprove))

		// The objection the household raised: who, why; upheld with a reason.
		step("open the objections", chromedp.Click(chromedp.CSS(`nav a[href$="/objections"]`)),
			chromedp.WaitVisible(chromedp.CSS("#ev-"+f.disputed.ID)))
		assert.Contains(t, text("#ev-"+f.disputed.ID+" .objector"), e.hhHead)
		assert.Contains(t, text("#ev-"+f.disputed.ID+" .objection"), f.objection)
		if photos {
			shoot(t, ctx, "review-objections")
		}
		step("uphold", chromedp.SendKeys(chromedp.CSS("#reason-"+f.disputed.ID), "签到表上有本人签名"),
			chromedp.Click(chromedp.CSS("#ev-"+f.disputed.ID+` button[value="uphold"]`)),
			chromedp.WaitNotPresent(chromedp.CSS("#ev-"+f.disputed.ID)), chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)))
		assert.Contains(t, text(`p[role="status"]`), "已维持")
		assert.Equal(t, evidence.Posted, e.state(t, f.disputed))

		// The quarterly ranking and the 红黑榜, printable.
		step("open the ranking", chromedp.Navigate(village+"/ranking?quarter="+thisQuarter()),
			chromedp.WaitVisible(chromedp.CSS("#red-list")))
		assert.Contains(t, text("h1"), "季度积分排名")
		assert.Contains(t, text("#red-list"), f.hh2Head)
		if photos {
			shoot(t, ctx, "ranking")
		}
	})
}
