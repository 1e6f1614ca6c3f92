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
	"github.com/sanzhi/sanzhi/lending"
)

// TestOfficerJourney (issue 15, test 1): a loan officer looks a household
// up by its head's 身份证号 without a consent and is refused with how to
// obtain one; records the customer's signed form; the household, signed
// in with its code, confirms the pending request; the look-up then shows
// the line and, on the line page, the limit's working with the binding
// step marked; the household reads the look-up in its records. Under
// make photos it photographs the refusal, the look-up and the line page.
func TestOfficerJourney(t *testing.T) {
	t.Parallel() // make test runs two journeys at a time (-parallel 2)
	skipUnderRace(t)
	storetest.Engine(t, storetest.Postgres, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		w := newOfficerWorld(t, e)
		tb := newTab(t)
		ctx, photos, step, text := tb.ctx, tb.photos, tb.step, tb.text
		bank := w.bank.officer.Scope.Bank
		scan := filepath.Join(t.TempDir(), "signed-form.jpg")
		require.NoError(t, os.WriteFile(scan, []byte("the customer's signed authorisation, scanned"), 0o600))

		signInStaff := func(name, pw string) {
			step("sign in as "+name, chromedp.Navigate(e.srv.URL+"/console/signin"),
				chromedp.WaitVisible(chromedp.CSS("#username")),
				chromedp.SendKeys(chromedp.CSS("#username"), name),
				chromedp.SendKeys(chromedp.CSS("#password"), pw), chromedp.Submit(chromedp.CSS("#password")))
		}
		signOut := func() {
			step("sign out", chromedp.Submit(chromedp.CSS(`form[action="/console/signout"] button`)),
				chromedp.WaitVisible(chromedp.CSS("#username")))
		}
		lookUp := func(wait string) {
			step("look up", chromedp.Navigate(e.srv.URL+"/console/banks/"+bank+"/customers"),
				chromedp.WaitVisible(chromedp.CSS("#id_number")),
				chromedp.SendKeys(chromedp.CSS("#id_number"), w.idNumber),
				chromedp.Click(chromedp.CSS("#find")), chromedp.WaitVisible(chromedp.CSS(wait)))
		}

		// The officer, at a desktop, signs in for the first time.
		step("desktop", chromedp.EmulateViewport(1280, 900))
		signInStaff(w.bank.officer.Name, password)
		step("first password change", chromedp.WaitVisible(chromedp.CSS("#old_password")),
			chromedp.SendKeys(chromedp.CSS("#old_password"), password),
			chromedp.SendKeys(chromedp.CSS("#password"), newPassword),
			chromedp.SendKeys(chromedp.CSS("#confirm"), newPassword), chromedp.Submit(chromedp.CSS("#confirm")),
			chromedp.WaitVisible(chromedp.CSS("#id_number")))

		// No consent: refused, with how to obtain one, nothing shown.
		lookUp("#refused")
		refused := text("#refused")
		assert.Contains(t, refused, "不能查询")
		assert.Contains(t, refused, "我的数据")
		assert.NotContains(t, text("main"), w.hh.HeadName)
		if photos {
			shoot(t, ctx, "bank-customer-refused")
		}

		// The customer signed the form at the counter: record it.
		step("record the signed form", chromedp.SendKeys(chromedp.CSS("#consent_id_number"), w.idNumber),
			chromedp.SetUploadFiles(chromedp.CSS("#form"), []string{scan}),
			chromedp.Click(chromedp.CSS("#record")), chromedp.WaitVisible(chromedp.CSS("#recorded")))
		assert.Contains(t, text("#consent-state"), "等待农户确认")
		cs := bankConsents(t, e, w.hh.Name())
		require.Len(t, cs, 1)
		assert.Equal(t, lending.ConsentPending, cs[0].State)
		signOut()

		// The household, on its phone, confirms the bank's request.
		step("phone", chromedp.EmulateViewport(360, 780))
		step("household signs in", chromedp.Navigate(e.srv.URL+"/console/signin"), chromedp.WaitVisible(chromedp.CSS("#code")),
			chromedp.SendKeys(chromedp.CSS("#code"), strings.ToLower(w.code)),
			chromedp.Submit(chromedp.CSS("#code")), chromedp.WaitVisible(chromedp.CSS("#credit")))
		step("open My data", chromedp.Navigate(e.srv.URL+"/console/me/data"), chromedp.WaitVisible(chromedp.CSS("button.confirm")))
		step("confirm", chromedp.Click(chromedp.CSS("button.confirm")), chromedp.WaitVisible(chromedp.CSS("#done")))
		assert.Equal(t, lending.ConsentGranted, bankConsents(t, e, w.hh.Name())[0].State)
		signOut()

		// The bank's system assesses; a line at another bank holds the
		// limit to the cap across banks.
		otherBankLine(t, st, w.hh)
		v, err := e.app.Lending.Assess(context.Background(), w.bank.officer, hhProduct, w.hh.Name())
		require.NoError(t, err)

		// The look-up now shows the household and its line.
		step("desktop again", chromedp.EmulateViewport(1280, 900))
		signInStaff(w.bank.officer.Name, newPassword)
		step("home", chromedp.WaitVisible(chromedp.CSS("#id_number")))
		lookUp("#customer")
		found := text("#customer")
		assert.Contains(t, found, w.hh.HeadName)
		assert.Contains(t, found, w.hh.HeadIDMasked)
		assert.Contains(t, found, v.Line.Limit.StringFixed(2))
		assert.NotContains(t, text("main"), w.idNumber)
		if photos {
			shoot(t, ctx, "bank-customer-lookup")
		}

		// Why this limit: the working, the binding step marked.
		step("open the line", chromedp.Click(chromedp.CSS("a.open-line")), chromedp.WaitVisible(chromedp.CSS("#working")))
		working := text("#working")
		assert.Contains(t, working, "信用等级")
		assert.Contains(t, working, "跨行总授信上限")
		assert.Contains(t, working, "不显示（涉及他行）")
		assert.Contains(t, text("tr.binding"), "跨行总授信上限", "the cap across banks binds")
		assert.Contains(t, text("tr.binding"), "起决定作用")
		assert.Equal(t, v.Line.Limit.StringFixed(2), text("#limit"))
		for _, s := range leaks() {
			assert.NotContains(t, text("main"), s)
		}
		if photos {
			shoot(t, ctx, "bank-customer-line")
		}
		signOut()

		// The household reads the look-up in its query records.
		_, _, err = e.st.Integrate(context.Background(), 1000)
		require.NoError(t, err)
		step("household again", chromedp.Navigate(e.srv.URL+"/console/signin"), chromedp.WaitVisible(chromedp.CSS("#code")),
			chromedp.SendKeys(chromedp.CSS("#code"), strings.ToLower(w.code)),
			chromedp.Submit(chromedp.CSS("#code")), chromedp.WaitVisible(chromedp.CSS("#credit")))
		step("My data", chromedp.Navigate(e.srv.URL+"/console/me/data"), chromedp.WaitVisible(chromedp.CSS("#records")))
		assert.Contains(t, text("#records"), "柜台查询客户")
	})
}
