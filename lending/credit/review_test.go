package credit

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	policyexamples "github.com/sanzhi/sanzhi/examples/policies"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

func examplePolicy(t *testing.T) *rules.Policy {
	t.Helper()
	doc, err := policyexamples.FS.ReadFile(policyexamples.TongxiangFile)
	require.NoError(t, err)
	p, err := rules.Parse(doc, nil)
	require.NoError(t, err)
	return p
}

// TestOverrideBounds holds an officer's override to the policy's bounds.
func TestOverrideBounds(t *testing.T) {
	pol := examplePolicy(t)
	d := decimal.RequireFromString
	now := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	eligible := &Decision{ID: "d0", Eligible: true, Limit: d("30000"), Rate: d("0.0595"), Grade: "C"}
	declined := &Decision{ID: "d1", Eligible: false, Limit: decimal.Zero, Rate: decimal.Zero, Grade: "D"}
	knocked := &Decision{ID: "d2", Eligible: false, Explanation: Explanation{KnockOuts: []Text{{Code: "black_list"}}}}

	o, err := override(pol, eligible, d("50000"), decimal.Zero, "officer", "实地核实", now)
	require.NoError(t, err)
	assert.Equal(t, Override, o.Kind)
	assert.Equal(t, "d0", o.Overrides)
	assert.True(t, o.Eligible)
	assert.Equal(t, "0.0595", o.Rate.String(), "an eligible household keeps its priced rate")
	assert.NotEqual(t, "d0", o.ID)
	assert.Equal(t, "30000", eligible.Limit.String(), "the automated decision is not edited")

	o, err = override(pol, declined, d("20000"), decimal.Zero, "officer", "实地核实", now)
	require.NoError(t, err)
	rate, ok := lowestEligibleRate(pol)
	require.True(t, ok)
	assert.True(t, rate.Equal(o.Rate), "a declined household gets the lowest eligible grade's rate")
	assert.True(t, rate.IsPositive())

	o, err = override(pol, eligible, decimal.Zero, decimal.Zero, "officer", "收回授信", now)
	require.NoError(t, err)
	assert.False(t, o.Eligible)
	assert.True(t, o.Rate.IsZero())

	// Out of bounds: a knock-out into a line, above the product maximum,
	// above what the total exposure cap leaves after other banks' limits.
	_, err = override(pol, knocked, d("1000"), decimal.Zero, "officer", "x", now)
	assert.ErrorContains(t, err, "knock-out")
	_, err = override(pol, knocked, decimal.Zero, decimal.Zero, "officer", "x", now)
	assert.NoError(t, err, "declining a knocked-out household is within bounds")
	max := pol.Limit.Caps.ProductMax
	_, err = override(pol, eligible, max.Add(d("0.01")), decimal.Zero, "officer", "x", now)
	assert.ErrorContains(t, err, "product maximum")
	_, err = override(pol, eligible, max, decimal.Zero, "officer", "x", now)
	assert.NoError(t, err)
	room := pol.Limit.Caps.TotalExposureMax.Sub(d("450000"))
	_, err = override(pol, eligible, room.Add(d("0.01")), d("450000"), "officer", "x", now)
	assert.ErrorContains(t, err, "total exposure cap")
	_, err = override(pol, eligible, room, d("450000"), "officer", "x", now)
	assert.NoError(t, err)
}
