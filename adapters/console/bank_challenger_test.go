package console_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/fault"
)

// The challenger on the policy list: none, started beside an approved
// version, its counts, a refused second start in words, stopped; another
// bank's risk manager and the bank's officer may do neither.
func TestChallengerOnPolicyList(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		riskSetup(t, e)
		for _, n := range []int{2, 3} {
			v, err := e.app.Policies.Upload(ctx, e.staff["risk-1"], riskParent, examplePolicy(t, n))
			require.NoError(t, err)
			_, err = e.app.Policies.Approve(ctx, e.staff["risk-2"], v.Name())
			require.NoError(t, err)
		}
		current := func() int {
			v, err := e.app.Policies.GetChallenger(ctx, riskParent)
			if fault.Is(err, fault.NotFound) {
				return 0
			}
			require.NoError(t, err)
			return v.Challenger.Version
		}

		// Neither the officer nor another bank's risk manager.
		for _, who := range []string{"officer-1", "risk-other"} {
			c := e.client(t)
			c.signIn(who)
			tok := c.csrf("/console/password")
			status, _, _ := c.post(polPath+"/sanzhi-xindai/2/challenger", url.Values{"csrf": {tok}})
			assert.Equal(t, http.StatusForbidden, status, who)
			status, _, _ = c.post(polPath+"/sanzhi-xindai/challenger/stop", url.Values{"csrf": {tok}})
			assert.Equal(t, http.StatusForbidden, status, who)
		}
		assert.Zero(t, current())

		c := e.client(t)
		c.signIn("risk-1")
		status, _, body := c.get(polPath)
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, `id="challenger-none-sanzhi-xindai"`)
		assert.Contains(t, body, `id="challenger-start-sanzhi-xindai-2"`)
		assert.NotContains(t, body, `id="challenger-start-sanzhi-xindai-1"`, "the active version is the champion")
		tok := c.csrf(polPath)

		status, _, _ = c.post(polPath+"/sanzhi-xindai/2/challenger", url.Values{})
		assert.Equal(t, http.StatusForbidden, status, "no token")
		assert.Zero(t, current())
		status, loc, _ := c.post(polPath+"/sanzhi-xindai/2/challenger", url.Values{"csrf": {tok}})
		require.Equal(t, http.StatusSeeOther, status)
		assert.Equal(t, polPath+"?done=challenger_started", loc)
		assert.Equal(t, 2, current())
		_, _, body = c.get(loc)
		assert.Contains(t, body, "已设为挑战者")
		assert.Contains(t, body, "第 2 版是挑战者")
		assert.Contains(t, body, "影子决策 0 笔")

		// A second challenger: refused in words, nothing changed.
		status, _, body = c.post(polPath+"/sanzhi-xindai/3/challenger", url.Values{"csrf": {tok}})
		assert.Equal(t, http.StatusConflict, status)
		assert.Contains(t, body, `id="challenger-error"`)
		assert.Contains(t, body, "请先停止它")
		assert.Equal(t, 2, current())
		status, _, body = c.post(polPath+"/sanzhi-xindai/1/challenger", url.Values{"csrf": {tok}})
		assert.Equal(t, http.StatusConflict, status)
		assert.Contains(t, body, "只有已批准、未启用的版本")

		status, loc, _ = c.post(polPath+"/sanzhi-xindai/challenger/stop", url.Values{"csrf": {tok}})
		require.Equal(t, http.StatusSeeOther, status)
		assert.Equal(t, polPath+"?done=challenger_stopped", loc)
		assert.Zero(t, current())
		status, _, body = c.post(polPath+"/sanzhi-xindai/challenger/stop", url.Values{"csrf": {tok}})
		assert.Equal(t, http.StatusConflict, status)
		assert.Contains(t, body, "没有挑战者版本可停止")
	})
}
