package console_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/scoring/policies"
)

// TestPolicyJourney (issue 15, test 3): a risk manager pastes a policy
// with an error and sees it at its line, uploads the corrected file,
// reads the diff, simulates it (the report with its charts), is refused
// approving his own upload; a second risk manager approves and activates
// it and sets the bank's webhook, whose secret is shown once. Under make
// photos it photographs each page.
func TestPolicyJourney(t *testing.T) {
	t.Parallel() // make test runs two journeys at a time (-parallel 2)
	skipUnderRace(t)
	storetest.Engine(t, storetest.Postgres, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		riskSetup(t, e)
		tb := newTab(t)
		ctx, photos, step, text := tb.ctx, tb.photos, tb.step, tb.text
		css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

		signIn := func(user string) {
			step("desktop", chromedp.EmulateViewport(1280, 900))
			tb.firstSignIn(e.srv.URL+"/console", user)
			// Home for a risk manager is the bank's policy versions.
			step(user+"'s home", chromedp.WaitVisible(css("#versions-"+riskProduct)))
		}

		signIn("risk-1")
		assert.Contains(t, text("#versions-"+riskProduct), "使用中")
		if photos {
			shoot(t, ctx, "risk-policies")
		}

		// Version 2 with an error: a grade's cut-off that is not a number.
		good := strings.Replace(string(examplePolicy(t, 2)), "line: {term_months: 12, review_months: 12}", "line: {term_months: 24, review_months: 12}", 1)
		bad := strings.Replace(good, "min_score: 480", "min_score: high", 1)
		line := 1 + strings.Count(bad[:strings.Index(bad, "min_score: high")], "\n")
		step("paste the document with an error", chromedp.Click(css("#upload")), chromedp.WaitVisible(css("#document")),
			chromedp.SetValue(css("#document"), bad), chromedp.Click(css("#submit")),
			chromedp.WaitVisible(css("#problems")))
		assert.Contains(t, text("#document-error"), "没有保存")
		marked := text("#line-" + strconv.Itoa(line))
		assert.Contains(t, marked, "min_score: high")
		assert.Contains(t, marked, "第 "+strconv.Itoa(line)+" 行")
		assert.Equal(t, 1, e.versions(t), "nothing stored")
		if photos {
			step("scroll to the marked line", chromedp.ScrollIntoView(css("#line-"+strconv.Itoa(line))))
			shoot(t, ctx, "risk-policy-problems")
		}

		// The corrected file: stored as a draft, the diff against version 1.
		file := filepath.Join(t.TempDir(), "tongxiang-rcb-sanzhi-v2.yaml")
		require.NoError(t, os.WriteFile(file, []byte(good), 0o600))
		step("upload the corrected file (a chosen file is used instead of the text)",
			chromedp.SetUploadFiles(css("#file"), []string{file}), chromedp.Click(css("#submit")),
			chromedp.WaitVisible(css("#diff")))
		assert.Contains(t, text("#done"), "已上传")
		assert.Contains(t, text("#diff"), "line: {term_months: 24, review_months: 12}")
		assert.Equal(t, policies.Draft, e.policyState(t, 2))
		if photos {
			shoot(t, ctx, "risk-policy-diff")
		}

		// The maker may not approve his own upload.
		step("approve own upload", chromedp.Click(css("#approve")), chromedp.WaitVisible(css("#approve-error")))
		assert.Contains(t, text("#approve-error"), "另一位风险经理")
		assert.Equal(t, policies.Draft, e.policyState(t, 2))

		// The simulation: summary, three charts, each with its table.
		step("simulate", chromedp.Click(css("#simulate")), chromedp.WaitVisible(css("#chart-limits")))
		assert.Equal(t, "6", text("#households"))
		for _, id := range []string{"#chart-approvals", "#chart-grades", "#chart-limits"} {
			assert.Contains(t, text(id), "新版", id)
		}
		if photos {
			shoot(t, ctx, "risk-policy-simulation")
		}

		// The second risk manager approves and activates.
		step("sign out", chromedp.Click(css("header form.inline button")), chromedp.WaitVisible(css("#username")))
		signIn("risk-2")
		assert.Contains(t, text("#versions-"+riskProduct), "已上传，待批准")
		step("open version 2", chromedp.Click(css(`a[href$="/policies/`+riskProduct+`/2"]`)), chromedp.WaitVisible(css("#approve")))
		step("approve", chromedp.Click(css("#approve")), chromedp.WaitVisible(css("#done")))
		assert.Contains(t, text("#done"), "已批准")
		assert.Equal(t, policies.Approved, e.policyState(t, 2))
		step("activate", chromedp.Click(css("#activate")), chromedp.WaitVisible(css("#diff-self")))
		assert.Contains(t, text("#done"), "已启用")
		assert.Contains(t, text("#state"), "使用中")
		assert.Equal(t, policies.Active, e.policyState(t, 2))
		assert.Equal(t, policies.Superseded, e.policyState(t, 1))

		// The webhook: the secret is on the answer to setting it, once.
		step("open the webhook", chromedp.Click(css(`nav a[href$="/webhook"]`)), chromedp.WaitVisible(css("#url")))
		step("set the URL", chromedp.SetValue(css("#url"), "https://hooks.example.com/sanzhi"),
			chromedp.Click(css("#set")), chromedp.WaitVisible(css("#secret")))
		secret := text("#secret")
		assert.Len(t, secret, 43)
		if photos {
			shoot(t, ctx, "risk-webhook-secret")
		}
		step("reload", chromedp.Navigate(e.srv.URL+"/console/banks/"+riskBankID+"/webhook"), chromedp.WaitVisible(css("#state")))
		assert.NotContains(t, text("main"), secret)
	})
}
