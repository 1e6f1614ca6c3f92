package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBacktestDefaults(t *testing.T) {
	p, err := Parse([]byte(smallYAML), nil)
	require.NoError(t, err)
	assert.False(t, p.Backtest.Set)
	assert.Equal(t, DefaultBacktest(), Backtest{WindowMonths: p.Backtest.WindowMonths, Bad: p.Backtest.Bad})
	assert.Equal(t, 12, p.Backtest.WindowMonths)
	assert.Equal(t, 90, p.Backtest.Bad.DaysPastDue)
	assert.Equal(t, []string{"substandard", "doubtful", "loss"}, p.Backtest.Bad.Classifications)
	assert.True(t, p.Backtest.Bad.Default)
	assert.True(t, p.Backtest.Bad.WriteOff)
}

func TestBacktestParsed(t *testing.T) {
	doc := smallYAML + "backtest:\n  window_months: 18\n  bad:\n    days_past_due: 60\n    classifications: [loss, doubtful]\n    write_off: false\n"
	p, err := Parse([]byte(doc), nil)
	require.NoError(t, err)
	assert.True(t, p.Backtest.Set)
	assert.Equal(t, 18, p.Backtest.WindowMonths)
	assert.Equal(t, 60, p.Backtest.Bad.DaysPastDue)
	assert.Equal(t, []string{"doubtful", "loss"}, p.Backtest.Bad.Classifications, "kept in the order of the classes")
	assert.True(t, p.Backtest.Bad.Default, "left out: the recommended definition")
	assert.False(t, p.Backtest.Bad.WriteOff)
	base, err := Parse([]byte(smallYAML), nil)
	require.NoError(t, err)
	assert.Equal(t, base.Hash(), p.Hash(), "the bad definition decides no case, so it is not in the hash")

	// Only a window: the recommended bad definition.
	p, err = Parse([]byte(smallYAML+"backtest:\n  window_months: 24\n"), nil)
	require.NoError(t, err)
	assert.Equal(t, 24, p.Backtest.WindowMonths)
	assert.Equal(t, DefaultBacktest().Bad, p.Backtest.Bad)
}

func TestBacktestRefused(t *testing.T) {
	for _, c := range []struct{ section, want string }{
		{"  window_months: 0\n", "backtest.window_months"},
		{"  window_months: 121\n", "backtest.window_months"},
		{"  window_months: 1.5\n", "backtest.window_months"},
		{"  bad:\n    days_past_due: -1\n", "backtest.bad.days_past_due"},
		{"  bad:\n    days_past_due: 40000\n", "backtest.bad.days_past_due"},
		{"  bad:\n    classifications: [worse]\n", "backtest.bad.classifications[0]"},
		{"  bad:\n    classifications: [loss, loss]\n", "listed twice"},
		{"  bad:\n    classifications: loss\n", "must be a list"},
		{"  bad:\n    default: maybe\n", "backtest.bad.default"},
		{"  bad:\n    written_off: true\n", "written_off"},
		{"  horizon: 12\n", "horizon"},
		{"  bad:\n    days_past_due: 0\n    classifications: []\n    default: false\n    write_off: false\n", "defines nothing as bad"},
	} {
		_, err := Parse([]byte(smallYAML+"backtest:\n"+c.section), nil)
		require.Error(t, err, c.section)
		assert.Contains(t, err.Error(), c.want, c.section)
		var le LintErrors
		if assert.ErrorAs(t, err, &le, c.section) {
			assert.Positive(t, le[0].Line, "a line:column error")
		}
	}
	_, err := Parse([]byte(smallYAML+"backtest: 12\n"), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "backtest")
}

// Every decision carries its bins, Evaluate's and Outcome's alike, and a
// knocked-out decision too (every characteristic is scored).
func TestDecisionBins(t *testing.T) {
	p := examplePolicy(t)
	in := typical()
	full := Evaluate(p, in, on)
	require.Len(t, full.Bins, len(p.Characteristics))
	for i, c := range full.Characteristics {
		assert.Equal(t, c.Bin, full.Bins[i], c.ID)
	}
	assert.Equal(t, full.Bins, Outcome(p, in, on).Bins)

	in.Facts.DishonestDebtor = true
	ko := Outcome(p, in, on)
	require.NotEmpty(t, ko.KnockOuts)
	assert.Len(t, ko.Bins, len(p.Characteristics), "knocked out, still scored")
	assert.Equal(t, full.Score, ko.Score)
}
