package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/scoring/household"
)

func consentsOf(t *testing.T, e *env) []*lending.Consent {
	t.Helper()
	cs, err := e.app.Lending.ListConsents(context.Background(), &access.Principal{ID: "reader", Role: access.Regulator}, e.hh, "")
	require.NoError(t, err)
	return cs
}

var requestIDField = regexp.MustCompile(`name="request_id" value="([^"]+)"`)

// TestHouseholdGrant: on My data the household grants a bank a consent,
// choosing the bank by its name; each bad input is said next to its
// field and writes nothing; banks are named, not numbered, on the page.
func TestHouseholdGrant(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		b := newBank(t, e)
		require.NoError(t, st.Principals().PutBank(ctx, &access.Bank{ID: "tongxiang-rcb", Name: "桐乡农商银行", NameEN: "Tongxiang RCB"}))
		require.NoError(t, st.Principals().PutBank(ctx, &access.Bank{ID: "nanxun-rcb", Name: "南浔农商银行"}))
		c := e.client(t)
		c.signInCode(e.code)

		status, _, body := c.get("/console/me/data")
		require.Equal(t, http.StatusOK, status)
		for _, want := range []string{"授权一家银行查询", `<option value="tongxiang-rcb">桐乡农商银行</option>`,
			`<option value="nanxun-rcb">南浔农商银行</option>`, "贷款审批", "贷后管理", "到期日期", "同意授权"} {
			assert.Contains(t, body, want)
		}
		term := e.app.ConsentTerm()
		tok := c.csrf("/console/me/data")
		rid := requestIDField.FindStringSubmatch(body)[1]
		good := func() url.Values {
			return url.Values{"csrf": {tok}, "request_id": {rid}, "bank": {"tongxiang-rcb"},
				"purpose": {"assessment", "post_loan"}, "until": {string(term.Default)}}
		}
		after := household.Date(term.Last).Time().AddDate(0, 0, 1).Format(time.DateOnly)
		for name, tc := range map[string]struct {
			change      func(url.Values)
			field, want string
		}{
			"unknown bank":   {func(f url.Values) { f.Set("bank", "ghost-bank") }, "bank", "请从列表里选择一家银行"},
			"no bank":        {func(f url.Values) { f.Del("bank") }, "bank", "请从列表里选择一家银行"},
			"no purpose":     {func(f url.Values) { f.Del("purpose") }, "purpose", "请至少选择一个用途"},
			"odd purpose":    {func(f url.Values) { f["purpose"] = []string{"marketing"} }, "purpose", "请至少选择一个用途"},
			"past":           {func(f url.Values) { f.Set("until", "2020-01-01") }, "until", "到期日期请填" + string(term.First)},
			"today":          {func(f url.Values) { f.Set("until", string(household.Today(time.Now()))) }, "until", "到期日期请填"},
			"beyond 3 years": {func(f url.Values) { f.Set("until", after) }, "until", string(term.Last) + "之间"},
			"not a date":     {func(f url.Values) { f.Set("until", "明年") }, "until", "到期日期请填"},
		} {
			f := good()
			tc.change(f)
			status, _, body := c.post("/console/me/data/consents", f)
			assert.Equal(t, http.StatusBadRequest, status, name)
			assert.Contains(t, html.UnescapeString(body), tc.want, name)
			assert.Contains(t, body, `id="`+tc.field+`-error" role="alert"`, name)
			assert.Contains(t, body, `aria-invalid="true" aria-describedby="`+tc.field+`-error"`, name)
			assert.Empty(t, consentsOf(t, e), "%s: nothing written", name)
		}
		// Without its token, or from anyone but the household: refused.
		f := good()
		f.Del("csrf")
		status, _, _ = c.post("/console/me/data/consents", f)
		assert.Equal(t, http.StatusForbidden, status)
		clerk := e.client(t)
		clerk.signIn("clerk-a")
		f = good()
		f.Set("csrf", clerk.csrf("/console/villages/"+villageA+"/board"))
		status, _, _ = clerk.post("/console/me/data/consents", f)
		assert.Equal(t, http.StatusForbidden, status)
		assert.Empty(t, consentsOf(t, e), "nothing written")

		// Granted: live at once, for the bank chosen, ending as the day
		// chosen begins; the same form sent twice is one consent.
		status, loc, body := c.post("/console/me/data/consents", good())
		require.Equal(t, http.StatusSeeOther, status, body)
		assert.Equal(t, "/console/me/data?done=grant#consents", loc)
		status, _, _ = c.post("/console/me/data/consents", good())
		assert.Equal(t, http.StatusSeeOther, status)
		cs := consentsOf(t, e)
		require.Len(t, cs, 1)
		k := cs[0]
		assert.Equal(t, "tongxiang-rcb", k.Bank)
		assert.Equal(t, lending.ChannelApp, k.Channel)
		assert.Equal(t, []lending.Purpose{lending.PurposeAssessment, lending.PurposePostLoan}, k.Purposes)
		assert.True(t, household.Date(term.Default).Time().Equal(k.Expires), "%s", k.Expires)
		assert.True(t, k.Live(lending.PurposeAssessment, time.Now()))

		// The bank looks; My data names it, in words, never by its id.
		_, err := e.app.Lending.Assess(ctx, b.officer, hhProduct, e.hh)
		require.NoError(t, err)
		_, _, err = st.Integrate(ctx, 1000)
		require.NoError(t, err)
		_, _, body = c.get("/console/me/data?done=grant")
		assert.Contains(t, body, "已授权")
		words := regexp.MustCompile(`value="[^"]*"`).ReplaceAllString(body, "")
		assert.NotContains(t, words, "tongxiang-rcb", "banks by name")
		records := regexp.MustCompile(`(?s)<table class="stack" id="records">.*?</table>`).FindString(body)
		assert.Contains(t, records, "桐乡农商银行")
		assert.Contains(t, records, "评估授信")
		consents := regexp.MustCompile(`(?s)<table class="stack" id="consents">.*?</table>`).FindString(body)
		assert.Contains(t, consents, "桐乡农商银行")
		assert.Contains(t, consents, "本人在网上")
		// In English, the bank's English name.
		_, _, _ = c.get("/console/me/data?lang=en")
		_, _, body = c.get("/console/me/data")
		assert.Contains(t, body, "Tongxiang RCB")
	})
}
