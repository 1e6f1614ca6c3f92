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
	assert.Equal(t, []string{"sex", "village"}, p.Gate.FairnessDimensions, "age bands are not judged by default")
	assert.False(t, p.Gate.Judges("age"))
}

func TestGateDimensions(t *testing.T) {
	p, err := Parse([]byte(smallYAML+"gate:\n  fairness_dimensions: [age, sex, village]\n"), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"sex", "village", "age"}, p.Gate.FairnessDimensions, "kept in a fixed order")
	assert.True(t, p.Gate.Judges("age"))
	p, err = Parse([]byte(smallYAML+"gate:\n  fairness_dimensions: []\n"), nil)
	require.NoError(t, err)
	assert.Empty(t, p.Gate.FairnessDimensions)
	p, err = Parse([]byte(smallYAML+"gate:\n  max_psi: 0.2\n"), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"sex", "village"}, p.Gate.FairnessDimensions, "left out: the default")
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
		{"  fairness_dimensions: [sex, income]\n", "gate.fairness_dimensions[1]"},
		{"  fairness_dimensions: [sex, sex]\n", "listed twice"},
		{"  fairness_dimensions: sex\n", "must be a list"},
		{"  fairness_dimensions: [sex, village, age, sex]\n", "at most 3"},
		{"  fairness_dimensions: [[sex]]\n", "gate.fairness_dimensions[0]"},
	} {
		_, err := Parse([]byte(smallYAML+"gate:\n"+c.gate), nil)
		require.Error(t, err, c.gate)
		assert.Contains(t, err.Error(), c.want, c.gate)
	}
	_, err := Parse([]byte(smallYAML+"gate: 0.25\n"), nil)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "gate"))
}
