package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
)

// The back-test page: a bank's risk manager from the version's page, a
// regulator from the audit pages; the report with its charts, its CSV, a
// bad date answered beside the field; everyone else refused; an audit
// entry for each report and none for a refusal.
func TestBacktestPage(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		riskSetup(t, e)
		ctx := context.Background()
		reg := &access.Principal{ID: "id-regulator", Name: "regulator", Role: access.Regulator, CreateTime: time.Now().UTC()}
		require.NoError(t, st.Principals().CreatePrincipal(ctx, reg, access.HashKey("sz_regulator")))
		require.NoError(t, e.app.SignIn.SetPassword(ctx, e.staff["op-1"], "regulator", password))
		queued := func() int64 {
			n, err := st.QueueLength(ctx)
			require.NoError(t, err)
			return n
		}
		v1 := polPath + "/sanzhi-xindai/1"

		c := e.client(t)
		c.signIn("risk-1")
		status, _, body := c.get(v1)
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, `action="`+v1+`/backtest"`, "the version's page offers the back-test")
		tok := c.csrf(v1)
		q0 := queued()

		status, _, body = c.post(v1+"/backtest", url.Values{"csrf": {tok}, "as_of": {""}})
		require.Equal(t, http.StatusOK, status, body)
		assert.Contains(t, body, `id="report"`)
		assert.Contains(t, body, "<svg")
		assert.Contains(t, body, `id="pooled"`, "a bank's view pools small groups")
		assert.Contains(t, body, `id="csv"`)
		assert.NotContains(t, body, " style=", "the console's CSP forbids style attributes")
		assert.Equal(t, q0+1, queued())
		// The report's language link points at the form's POST address:
		// switching language lands on the version's page, in English,
		// and runs (and audits) nothing.
		status, loc, _ := c.get(v1 + "/backtest?lang=en")
		require.Equal(t, http.StatusSeeOther, status)
		assert.Equal(t, v1, loc, "to the version's page, not to the POST-only address")
		status, _, body = c.get(loc)
		require.Equal(t, http.StatusOK, status, body)
		assert.Contains(t, body, `action="`+v1+`/backtest"`, "back on the version's page")
		assert.Contains(t, body, `lang="en"`)
		assert.Equal(t, q0+1, queued())
		c.get(v1 + "?lang=zh")

		status, _, body = c.post(v1+"/backtest", url.Values{"csrf": {tok}, "as_of": {"2999-01-01"}})
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, `id="as-of-error"`)
		assert.Contains(t, body, "不晚于今天")
		status, _, body = c.post(v1+"/backtest", url.Values{"csrf": {tok}, "as_of": {"soon"}})
		assert.Equal(t, http.StatusBadRequest, status, body)

		resp, err := c.hc.PostForm(e.srv.URL+v1+"/backtest", url.Values{"csrf": {tok}, "format": {"csv"}})
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
		assert.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")
		assert.Equal(t, q0+2, queued())

		// Without the form's token, and at an unknown version.
		status, _, _ = c.post(v1+"/backtest", url.Values{"csrf": {"forged"}})
		assert.Equal(t, http.StatusForbidden, status)
		status, _, _ = c.post(polPath+"/sanzhi-xindai/9/backtest", url.Values{"csrf": {tok}})
		assert.Equal(t, http.StatusNotFound, status)
		status, _, _ = c.post(polPath+"/sanzhi-xindai/x/backtest", url.Values{"csrf": {tok}})
		assert.Equal(t, http.StatusNotFound, status)
		// A risk manager is not a regulator.
		status, _, _ = c.post("/console/audit/policies/"+riskBankID+"/sanzhi-xindai/1/backtest", url.Values{"csrf": {tok}})
		assert.Equal(t, http.StatusForbidden, status)
		assert.Equal(t, q0+2, queued(), "nothing recorded on a refusal")

		// Others: refused.
		for _, who := range []string{"officer-1", "clerk-a", "risk-other"} {
			o := e.client(t)
			o.signIn(who)
			_, _, home := o.get("/console/")
			m := csrfField.FindStringSubmatch(home)
			if m == nil { // a first password must be changed first: that page has the token
				_, _, body := o.get("/console/password")
				m = csrfField.FindStringSubmatch(body)
			}
			require.NotNil(t, m, who)
			before := queued() // signing in is audited
			status, _, _ := o.post(v1+"/backtest", url.Values{"csrf": {m[1]}})
			assert.Equal(t, http.StatusForbidden, status, who)
			assert.Equal(t, before, queued(), who)
		}

		// The regulator, from the audit pages: every group shown.
		r := e.client(t)
		r.signIn("regulator")
		av := "/console/audit/policies/" + riskBankID + "/sanzhi-xindai/1"
		status, _, body = r.get(av)
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, `action="`+av+`/backtest"`)
		tok = r.csrf(av)
		q0 = queued()
		status, _, body = r.post(av+"/backtest", url.Values{"csrf": {tok}, "as_of": {"2026-01-31"}})
		require.Equal(t, http.StatusOK, status, body)
		assert.Contains(t, body, `id="report"`)
		assert.NotContains(t, body, `id="pooled"`)
		assert.True(t, strings.Contains(body, "2026-01-31"))
		assert.Equal(t, q0+1, queued())
	})
}
