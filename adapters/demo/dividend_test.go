package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/demo"
	"github.com/sanzhi/sanzhi/scoring/dividend"
)

// 南阳村 has its rule, an approved round whose payout file adds up to the
// pool, and a round on notice with the demo household's objection open;
// a second seed adds no round.
func TestSeedDividends(t *testing.T) {
	e, res := seededCounty(t)
	ctx := context.Background()
	svc := dividend.NewService(e.st.Dividends(), clock)
	require.Len(t, res.Dividends, 2, "seeded in a fresh county")
	rule, err := svc.GetRule(ctx, "villages/"+demo.DividendVillage.Code+"/dividendRules/active")
	require.NoError(t, err)
	assert.Equal(t, "demo-clerk-nanyang", rule.UploadedBy)
	assert.Equal(t, "demo-reviewer-nanyang", rule.ActivatedBy)

	approved, err := svc.GetRound(ctx, res.Dividends[0])
	require.NoError(t, err)
	assert.Equal(t, dividend.Approved, approved.State)
	assert.Equal(t, demo.DividendVillage.Households, approved.Households)
	clerk := &access.Principal{ID: "demo-clerk-nanyang", Role: access.VillageClerk}
	p, err := dividend.NewService(e.st.Dividends(), clock).Payout(ctx, clerk, approved.Name())
	require.NoError(t, err)
	assert.Equal(t, demo.ApprovedPool, dividend.Yuan(p.Total), "the payout file adds up to the pool")
	v, err := svc.Verify(ctx, approved.Name())
	require.NoError(t, err)
	assert.True(t, v.Identical)

	onNotice, err := svc.GetRound(ctx, res.Dividends[1])
	require.NoError(t, err)
	assert.Equal(t, dividend.OnNotice, onNotice.State)
	assert.Equal(t, 1, onNotice.OpenObjections)
	// The seed's dividends took a small share of its time.
	t.Logf("whole demo seed: %s", sharedTime.Round(time.Millisecond))

	again, err := demo.Seed(ctx, e.svc, e.st, clock)
	require.NoError(t, err)
	assert.Empty(t, again.Dividends, "a second seed adds no round")
}
