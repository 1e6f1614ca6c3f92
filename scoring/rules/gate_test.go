package rules

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGateDefaults(t *testing.T) {
	p, err := Parse([]byte(smallYAML), nil)
	require.NoError(t, err)
	assert.False(t, p.Gate.Set)
	assert.True(t, p.Gate.MaxPSI.Equal(DefaultGateMaxPSI))
	assert.True(t, p.Gate.MinAdverseImpact.Equal(DefaultGateMinAdverseImpact))
	assert.True(t, p.Gate.MaxLostShare.Equal(DefaultGateMaxLostShare))
}

func TestGateParsed(t *testing.T) {
	doc := smallYAML + "gate:\n  max_psi: 0.1\n  max_lost_share: 0.2\n"
	p, err := Parse([]byte(doc), nil)
	require.NoError(t, err)
	assert.True(t, p.Gate.Set)
	assert.True(t, p.Gate.MaxPSI.Equal(decimal.RequireFromString("0.1")))
	assert.True(t, p.Gate.MaxLostShare.Equal(decimal.RequireFromString("0.2")))
	assert.True(t, p.Gate.MinAdverseImpact.Equal(DefaultGateMinAdverseImpact), "left out: the default")
	base, err := Parse([]byte(smallYAML), nil)
	require.NoError(t, err)
	assert.Equal(t, base.Hash(), p.Hash(), "the gate decides no case, so it is not in the hash")
}

func TestGateRefused(t *testing.T) {
	for _, c := range []struct{ gate, want string }{
		{"  max_psi: 0\n", "gate.max_psi"},
		{"  max_psi: 11\n", "gate.max_psi"},
		{"  min_adverse_impact: 1.5\n", "gate.min_adverse_impact"},
		{"  min_adverse_impact: -0.1\n", "gate.min_adverse_impact"},
		{"  max_lost_share: 0.12345\n", "decimal places"},
		{"  max_lost_share: lots\n", "gate.max_lost_share"},
		{"  min_psi: 0.1\n", "min_psi"},
	} {
		_, err := Parse([]byte(smallYAML+"gate:\n"+c.gate), nil)
		require.Error(t, err, c.gate)
		assert.Contains(t, err.Error(), c.want, c.gate)
	}
	_, err := Parse([]byte(smallYAML+"gate: 0.25\n"), nil)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "gate"))
}
