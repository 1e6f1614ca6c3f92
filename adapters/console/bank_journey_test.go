package console_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// blSignOut signs whoever is signed in out (the header's button).
func blSignOut(tb *tab, base string) {
	tb.t.Helper()
	tb.step("sign out", chromedp.Navigate(base+"/password"), chromedp.WaitVisible(chromedp.CSS("header form button")),
		chromedp.Click(chromedp.CSS("header form button")), chromedp.WaitVisible(chromedp.CSS("#code")))
}

// TestOverrideJourney is the console's bank journey 2: in a real browser
// an officer finds a line in the portfolio, opens a review of it from its
// activity and proposes an override; approving it themself is refused in
// words and the line stays; a second officer approves it, the line
// changes, and both steps are in the audit log. Under make photos it
// photographs the portfolio, the activity, the reviews and the inbox at
// desktop width.
func TestOverrideJourney(t *testing.T) {
	t.Parallel() // make test runs two journeys at a time (-parallel 2)
	skipUnderRace(t)
	storetest.Engine(t, storetest.Postgres, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		w := newBLWorld(t, st)
		// History for the pages: a drawdown, a freeze and its lifting.
		lineName := credit.LineName(blBank, "sanzhi-xindai", w.line.Line.ID)
		_, err := w.e.app.Lending.Drawdown(ctx, w.b.officer, credit.TxInput{Line: lineName, TransactionID: "T-0001",
			Amount: "8000", Use: "agriculture"})
		require.NoError(t, err)
		w.freeze(t)
		_, err = w.e.app.Lending.Unfreeze(ctx, w.risk, lineName, "村委会核实为误报，解除冻结")
		require.NoError(t, err)
		before := w.lineNow(t).Line.Limit
		newLimit := before.Div(decimal.NewFromInt(2)).Round(0).StringFixed(2)

		tb := newTab(t)
		step, text := tb.step, tb.text
		base := w.e.srv.URL + "/console"
		step("desktop", chromedp.EmulateViewport(1280, 900))
		tb.firstSignIn(base, "officer")

		step("the portfolio", chromedp.Navigate(base+"/banks/"+blBank+"/lines"), chromedp.WaitVisible(chromedp.CSS("#lines")))
		assert.Contains(t, text("#lines"), w.e.hhHead)
		assert.NotContains(t, text("main"), w.hidden)
		if tb.photos {
			shoot(t, tb.ctx, "bank-lines")
		}
		step("filter by grade", chromedp.SendKeys(chromedp.CSS("#f-grade"), w.line.Decision.Grade),
			chromedp.Submit(chromedp.CSS("#f-grade")),
			// #lines is on the page before the submit too: wait for the
			// answer, whose field carries the grade as its value attribute
			// (typing sets only the property).
			chromedp.WaitVisible(chromedp.CSS(`#f-grade[value="`+w.line.Decision.Grade+`"]`)), chromedp.WaitVisible(chromedp.CSS("#lines")))
		assert.Contains(t, text("#lines"), w.e.hhHead)
		step("a bad filter", chromedp.SetValue(chromedp.CSS("#f-expiring"), "abc"),
			chromedp.Submit(chromedp.CSS("#f-expiring")), chromedp.WaitVisible(chromedp.CSS("#f-expiring-error")))
		assert.Contains(t, text("#f-expiring-error"), "请填写 1 到 366 之间的天数")

		step("the line's activity", chromedp.Navigate(base+"/banks/"+blBank+"/lines/"+w.line.Line.ID+"/activity"),
			chromedp.WaitVisible(chromedp.CSS("#open-review")))
		assert.Contains(t, text("#transactions"), "金额 8000.00 元 · 农业生产")
		assert.Contains(t, text("#freezes"), "列入村黑榜")
		assert.Contains(t, text("#freezes"), "解除冻结")
		if tb.photos {
			shoot(t, tb.ctx, "bank-activity")
		}
		step("open a review without a reason", chromedp.Submit(chromedp.CSS("#reason")),
			chromedp.WaitVisible(chromedp.CSS("#reason-error")))
		assert.Contains(t, text("#reason-error"), "请写明复核原因")
		step("open a review", chromedp.SendKeys(chromedp.CSS("#reason"), "客户新建大棚，收入证明已更新"),
			chromedp.Submit(chromedp.CSS("#reason")), chromedp.WaitVisible(chromedp.CSS("#done")))
		assert.Contains(t, text("#done"), "复核已发起")
		assert.Contains(t, text("main"), "您发起")

		step("propose an override", chromedp.Click(chromedp.CSS(`form.resolve input[value="override"]`)),
			chromedp.SendKeys(chromedp.CSS(`form.resolve input[name="limit"]`), newLimit),
			chromedp.SendKeys(chromedp.CSS(`form.resolve textarea`), "核实收入后，按实际还款能力调整额度"),
			chromedp.Submit(chromedp.CSS(`form.resolve textarea`)), chromedp.WaitVisible(chromedp.CSS("td.proposal")))
		assert.Contains(t, text("#done"), "等待另一位同事批准")
		assert.Contains(t, text("td.proposal"), "由您提出")
		if tb.photos {
			shoot(t, tb.ctx, "bank-reviews")
		}
		step("approve it oneself", chromedp.Click(chromedp.CSS(`form.approve button`)),
			chromedp.WaitVisible(chromedp.CSS(`form.approve p.error`)))
		assert.Contains(t, text(`form.approve p.error`), "不能由您自己批准")
		assert.True(t, before.Equal(w.lineNow(t).Line.Limit), "the line waits for a second person")

		step("the inbox", chromedp.Navigate(base+"/banks/"+blBank+"/inbox"), chromedp.WaitVisible(chromedp.CSS("#events")))
		inbox := text("#events")
		for _, want := range []string{"冻结", "解除冻结", "用款", "开立授信", w.e.hhHead, "只显示授信状态"} {
			assert.Contains(t, inbox, want)
		}
		assert.NotContains(t, inbox, w.hidden)
		if tb.photos {
			shoot(t, tb.ctx, "bank-inbox")
		}
		blSignOut(tb, base)

		// The second officer approves.
		tb.firstSignIn(base, "officer-2")
		step("the reviews", chromedp.Navigate(base+"/banks/"+blBank+"/reviews"), chromedp.WaitVisible(chromedp.CSS("form.approve")))
		assert.Contains(t, text("td.proposal"), "由同事提出")
		step("approve", chromedp.Click(chromedp.CSS(`form.approve button`)), chromedp.WaitVisible(chromedp.CSS("#done")))
		assert.Contains(t, text("#done"), "调整已批准")
		assert.Contains(t, text(".rv-state"), "已调整")
		assert.Equal(t, newLimit, w.lineNow(t).Line.Limit.StringFixed(2), "the line changed")
		step("the line's activity", chromedp.Navigate(base+"/banks/"+blBank+"/lines/"+w.line.Line.ID+"/activity"),
			chromedp.WaitVisible(chromedp.CSS("#line-limit")))
		assert.Equal(t, newLimit, text("#line-limit"))
		assert.Contains(t, text("#summary"), "人工调整")

		// Both steps in the audit log, by the two officers.
		proposed := w.entries(t, "credit.override_propose")
		require.Len(t, proposed, 1)
		assert.Equal(t, w.b.officer.ID, proposed[0].Entry.Actor)
		approved := w.entries(t, "credit.override")
		require.Len(t, approved, 1)
		assert.Equal(t, w.officer2.ID, approved[0].Entry.Actor)
		assert.Equal(t, w.b.officer.ID, approved[0].Entry.Payload["proposed_by"])
		assert.Equal(t, newLimit, approved[0].Entry.Payload["limit"])
	})
}

// TestBankRefusalJourney is bank journey 5: in a real browser, an officer
// of another bank, a village clerk and a household are each refused the
// bank's pages, and see none of its households.
func TestBankRefusalJourney(t *testing.T) {
	t.Parallel() // make test runs two journeys at a time (-parallel 2)
	skipUnderRace(t)
	storetest.Engine(t, storetest.Postgres, func(t *testing.T, st *sqlstore.Store) {
		w := newBLWorld(t, st)
		tb := newTab(t)
		step, text := tb.step, tb.text
		base := w.e.srv.URL + "/console"
		b := base + "/banks/" + blBank
		pages := []string{b + "/lines", b + "/inbox", b + "/reviews", b + "/lines/" + w.line.Line.ID + "/activity"}
		refused := chromedp.WaitVisible(chromedp.CSS("main p.error"))
		step("desktop", chromedp.EmulateViewport(1280, 900))
		check := func(who string) {
			for _, p := range pages {
				step(who+" opens "+p, chromedp.Navigate(p), refused)
				assert.Contains(t, text("main"), "您没有查看这个页面的权限", who+" "+p)
				assert.NotContains(t, text("main"), w.e.hhHead, who+" "+p)
			}
		}
		tb.firstSignIn(base, "officer-other")
		check("another bank's officer")
		if tb.photos {
			shoot(t, tb.ctx, "bank-refused")
		}
		blSignOut(tb, base)
		tb.firstSignIn(base, "clerk-a")
		check("a clerk")
		blSignOut(tb, base)
		step("the household signs in", chromedp.SendKeys(chromedp.CSS("#code"), w.e.code),
			chromedp.Submit(chromedp.CSS("#code")), chromedp.WaitVisible(chromedp.CSS("#credit")))
		check("a household")
	})
}

// TestLoanStatusJourney: in a real browser an officer reports a loan in
// arrears from the line's activity page; an inconsistent report (95 days
// past due left "normal") is refused beside the classification and
// nothing is stored; corrected, it is recorded and listed. Under make photos it
// photographs both.
func TestLoanStatusJourney(t *testing.T) {
	t.Parallel()
	skipUnderRace(t)
	storetest.Engine(t, storetest.Postgres, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		w := newBLWorld(t, st)
		lineName := credit.LineName(blBank, "sanzhi-xindai", w.line.Line.ID)
		_, err := w.e.app.Lending.Drawdown(ctx, w.b.officer, credit.TxInput{Line: lineName, TransactionID: "T-0001",
			Amount: "20000", Use: "agriculture"})
		require.NoError(t, err)
		// The line was opened a hundred days ago (set behind the store's
		// back: the console's services run on the real clock), and the
		// bank reported its first months paid.
		opened := time.Now().UTC().AddDate(0, 0, -100)
		require.NoError(t, st.Conn().WriteTx(ctx, func(q sqlstore.Querier) error {
			_, err := q.Exec(ctx, `UPDATE credit_lines SET open_time = $1 WHERE id = $2`,
				opened.Format("2006-01-02T15:04:05.000000Z"), w.line.Line.ID)
			return err
		}))
		month := household.Today(time.Now().AddDate(0, 0, -40))
		_, err = w.e.app.Lending.ReportLoanStatus(ctx, w.b.officer, credit.StatusInput{Line: lineName, EventID: "LS-1",
			AsOf: string(month), Classification: "normal"})
		require.NoError(t, err)

		tb := newTab(t)
		step, text := tb.step, tb.text
		base := w.e.srv.URL + "/console"
		step("desktop", chromedp.EmulateViewport(1280, 900))
		tb.firstSignIn(base, "officer")
		step("the line's activity", chromedp.Navigate(base+"/banks/"+blBank+"/lines/"+w.line.Line.ID+"/activity"),
			chromedp.WaitVisible(chromedp.CSS("#report-status")))
		assert.Contains(t, text("#statuses"), "正常")
		step("95 days past due, left normal", chromedp.SetValue(chromedp.CSS("#days_past_due"), "95"),
			chromedp.SetValue(chromedp.CSS("#overdue_principal"), "6000"),
			chromedp.SetValue(chromedp.CSS("#overdue_interest"), "58.30"),
			chromedp.Submit(chromedp.CSS("#days_past_due")), chromedp.WaitVisible(chromedp.CSS("#classification-error")))
		assert.Contains(t, text("#classification-error"), "分类不能优于")
		page, err := w.e.app.Lending.ListLoanStatuses(ctx, w.regulator, lineName, 10, "")
		require.NoError(t, err)
		assert.Len(t, page.Statuses, 1, "nothing stored")
		if tb.photos {
			shoot(t, tb.ctx, "bank-loan-status-error")
		}
		step("classified substandard, in default", chromedp.SetValue(chromedp.CSS("#classification"), "substandard"),
			chromedp.Click(chromedp.CSS(`input[name="defaulted"]`)),
			chromedp.Submit(chromedp.CSS("#days_past_due")), chromedp.WaitVisible(chromedp.CSS("#done")))
		assert.Contains(t, text("#done"), "还款状态已报送")
		assert.Contains(t, text("#statuses"), "次级")
		assert.Contains(t, text("#statuses"), "违约")
		if tb.photos {
			shoot(t, tb.ctx, "bank-loan-status")
		}
		page, err = w.e.app.Lending.ListLoanStatuses(ctx, w.regulator, lineName, 10, "")
		require.NoError(t, err)
		require.Len(t, page.Statuses, 2)
		assert.Equal(t, 95, page.Statuses[0].DaysPastDue)
	})
}
