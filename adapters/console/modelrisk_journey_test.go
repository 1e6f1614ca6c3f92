package console_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
)

// TestModelRiskJourney (issue 16): on the risk fixture, a risk manager
// starts a challenger beside an approved version on the policy list,
// evaluates that version's activation gate with the page's button, reads
// the active version's gate report (in zh-CN and in English), runs the
// active version's back-test and reads the report with its SVG charts,
// and fetches its CSV through the page's own form; a regulator runs the same back-test from the audit pages. No step
// lands on the error page. Under make photos it photographs each page.
func TestModelRiskJourney(t *testing.T) {
	t.Parallel() // make test runs two journeys at a time (-parallel 2)
	skipUnderRace(t)
	storetest.Engine(t, storetest.Postgres, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		riskSetup(t, e)
		ctx := context.Background()
		// Version 2, approved: the challenger to shadow version 1.
		v, err := e.app.Policies.Upload(ctx, e.staff["risk-1"], riskParent, examplePolicy(t, 2))
		require.NoError(t, err)
		_, err = e.app.Policies.Approve(ctx, e.staff["risk-2"], v.Name())
		require.NoError(t, err)
		reg := &access.Principal{ID: "id-regulator", Name: "regulator", Role: access.Regulator, CreateTime: time.Now().UTC()}
		require.NoError(t, st.Principals().CreatePrincipal(ctx, reg, access.HashKey("sz_regulator")))
		require.NoError(t, e.app.SignIn.SetPassword(ctx, e.staff["op-1"], "regulator", password))

		tb := newTab(t)
		photos, step, text := tb.photos, tb.step, tb.text
		css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
		noError := func(where string) {
			t.Helper()
			// The error page is the only one whose h1 is its title.
			assert.NotContains(t, text("h1"), "出错", where)
			assert.NotContains(t, text("h1"), "went wrong", where)
		}
		svgs := func(sel string) int {
			return run(t, tb, chromedp.Evaluate[int](`document.querySelectorAll(`+"`"+sel+" svg`"+`).length`))
		}

		// The policy list: no challenger; version 2 started as one.
		step("desktop", chromedp.EmulateViewport(1280, 900))
		tb.firstSignIn(e.srv.URL+"/console", "risk-1")
		step("risk-1's home", chromedp.WaitVisible(css("#versions-"+riskProduct)))
		assert.Contains(t, text("#challenger-none-"+riskProduct), "没有挑战者")
		step("start the challenger", chromedp.Click(css("#challenger-start-"+riskProduct+"-2")),
			chromedp.WaitVisible(css("#challenger-current-"+riskProduct)))
		assert.Contains(t, text("#challenger-current-"+riskProduct), "2")
		noError("challenger started")
		if photos {
			shoot(t, tb.ctx, "policy-challenger")
		}

		// The approved version 2: its gate evaluated by the button.
		step("open version 2", chromedp.EmulateViewport(1280, 900),
			chromedp.Click(css(`a[href$="/policies/`+riskProduct+`/2"]`)), chromedp.WaitVisible(css("#evaluate-gate")))
		step("evaluate the gate", chromedp.Click(css("#evaluate-gate")), chromedp.WaitVisible(css("#done")),
			chromedp.WaitVisible(css("#gate-checks")))
		noError("gate evaluated")
		verdict := text("#gate-verdict")
		assert.Contains(t, verdict, "通过")
		assert.Contains(t, verdict, "对照使用中的第 1 版")
		assert.Contains(t, text("#gate-checks"), "失去授信户占比")
		t.Logf("gate of version 2: %s", verdict)
		if photos {
			step("scroll to the gate", chromedp.ScrollIntoView(css("#gate")))
			shoot(t, tb.ctx, "policy-gate")
		}

		// The active version 1: the report made when it was activated.
		step("open version 1", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(e.srv.URL+polPath+"/"+riskProduct+"/1"),
			chromedp.WaitVisible(css("#gate-checks")))
		noError("version 1")
		assert.Contains(t, text("#gate"), "启用门槛")
		assert.Contains(t, text("#gate-verdict"), "通过")
		assert.Contains(t, text("#gate-checks"), "失去授信户占比")
		step("in English", chromedp.Click(css(`a[hreflang="en"]`)), chromedp.WaitVisible(css(`html[lang="en"] #gate-checks`)))
		assert.Contains(t, text("#gate"), "Activation gate")
		assert.Contains(t, text("#gate-checks"), "share of households losing a line")
		step("back to Chinese", chromedp.Click(css(`a[hreflang="zh"]`)), chromedp.WaitVisible(css(`html[lang="zh-CN"] #gate-checks`)))

		// The back-test: the report with its charts and the CSV.
		step("back-test", chromedp.Click(css("#backtest")), chromedp.WaitVisible(css("#report")))
		noError("back-test")
		assert.Contains(t, text("h1"), "回测报告")
		report := text("#report")
		assert.Contains(t, report, "模型回溯测试、稳定性与公平性报告")
		assert.Contains(t, report, "区分能力")
		// KS and AUC when the fixture's decisions have good and bad
		// outcomes; the page says in words when they cannot be measured.
		if assert.Regexp(t, `KS|尚无法计算`, report) {
			t.Logf("KS/AUC measured: %v", run(t, tb, chromedp.Evaluate[bool](`document.querySelector("#report").innerText.includes("AUC")`)))
		}
		assert.Contains(t, report, "各等级不良率与校准")
		assert.Contains(t, report, "PSI")
		assert.Positive(t, svgs("#report"), "the report's charts are SVG")
		assert.Contains(t, text("#pooled"), "合并")
		assert.Equal(t, "下载 CSV", text("#csv"))
		// The CSV, posted by the page's own form (token and all).
		csv := run(t, tb, chromedp.Evaluate[[]string](`(async () => {
			const f = document.querySelector("#backtest-csv");
			const r = await fetch(f.action, {method: "POST", body: new URLSearchParams(new FormData(f)), credentials: "same-origin"});
			return [String(r.status), r.headers.get("Content-Type"), r.headers.get("Content-Disposition") || "", await r.text()];
		})()`, chromedp.EvalAwaitPromise))
		require.Len(t, csv, 4)
		assert.Equal(t, "200", csv[0])
		assert.Equal(t, "text/csv; charset=utf-8", csv[1])
		assert.Contains(t, csv[2], "attachment")
		assert.Contains(t, csv[3], ",", "a CSV body")
		if photos {
			shoot(t, tb.ctx, "backtest")
		}
		step("sign out", chromedp.Click(css("header form.inline button")), chromedp.WaitVisible(css("#username")))

		// The regulator, from the audit pages: every group shown.
		tb.firstSignIn(e.srv.URL+"/console", "regulator")
		step("regulator's home", chromedp.WaitVisible(css("main")))
		step("the version in the audit pages", chromedp.Navigate(e.srv.URL+"/console/audit/policies/"+riskBankID+"/"+riskProduct+"/1"),
			chromedp.WaitVisible(css("#backtest")))
		noError("audit version")
		assert.Contains(t, text("#gate-verdict"), "risk-1", "the gate report names who evaluated it")
		step("back-test", chromedp.Click(css("#backtest")), chromedp.WaitVisible(css("#report")))
		noError("regulator's back-test")
		assert.Contains(t, text("#report"), "模型回溯测试、稳定性与公平性报告")
		assert.Positive(t, svgs("#report"))
		assert.False(t, run(t, tb, chromedp.Evaluate[bool](`document.querySelector("#pooled") !== null`)), "a regulator sees every group")
		if photos {
			shoot(t, tb.ctx, "backtest-regulator")
		}
	})
}
