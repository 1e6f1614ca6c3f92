package modelrisk

import (
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// Config holds the thresholds the report flags against and the date it is
// computed at. The activation gate's thresholds will come from the policy
// document (issue 16 §5); until then DefaultConfig holds the customary
// ones (docs/MODEL-RISK.md).
type Config struct {
	// AsOf is the report's date: applicants' ages (hence age bands) are
	// whole years on it.
	AsOf household.Date
	// PSIWatch and PSIShift flag a population stability index: below
	// PSIWatch stable, from PSIWatch a shift to watch, from PSIShift a
	// significant shift.
	PSIWatch, PSIShift float64
	// AdverseImpact flags a group whose approval rate is below this share
	// of the most favoured group's (the four-fifths rule: 0.8).
	AdverseImpact float64
	// MinGroup is the fewest decisions a group needs to be flagged or to
	// be the most favoured group: a rate over a handful of applicants says
	// more about chance than about the policy. Smaller groups are reported
	// with their counts and marked small.
	MinGroup int
	// AgeBands are the lowest ages of the bands after the first, strictly
	// increasing: {30, 40} gives the bands <30, 30-39 and 40+.
	AgeBands []int
}

// The customary thresholds (docs/MODEL-RISK.md says where each comes from).
const (
	DefaultPSIWatch      = 0.1
	DefaultPSIShift      = 0.25
	DefaultAdverseImpact = 0.8
	DefaultMinGroup      = 30
)

// DefaultAgeBands are ten-year bands from 30: <30, 30-39, …, 60-69, 70+.
var DefaultAgeBands = []int{30, 40, 50, 60, 70}

// DefaultConfig returns the customary thresholds for a report as of asOf.
func DefaultConfig(asOf household.Date) Config {
	return Config{AsOf: asOf, PSIWatch: DefaultPSIWatch, PSIShift: DefaultPSIShift,
		AdverseImpact: DefaultAdverseImpact, MinGroup: DefaultMinGroup, AgeBands: append([]int(nil), DefaultAgeBands...)}
}

// Check validates the configuration, naming each bad field.
func (c *Config) Check() error {
	var v fault.Violations
	if _, err := household.ParseDate(string(c.AsOf)); err != nil {
		v.Add("as_of", "the report date must be a date in YYYY-MM-DD form, got %q", c.AsOf)
	}
	if !(c.PSIWatch > 0 && c.PSIWatch < c.PSIShift && c.PSIShift <= 10) {
		v.Add("psi_thresholds", "the PSI thresholds must satisfy 0 < watch < shift ≤ 10, got %g and %g", c.PSIWatch, c.PSIShift)
	}
	if !(c.AdverseImpact > 0 && c.AdverseImpact <= 1) {
		v.Add("adverse_impact", "the adverse-impact threshold must be above 0 and at most 1, got %g", c.AdverseImpact)
	}
	if c.MinGroup < 1 || c.MinGroup > 1_000_000 {
		v.Add("min_group", "the minimum group size must be between 1 and 1000000, got %d", c.MinGroup)
	}
	for i, a := range c.AgeBands {
		if a < 1 || a > 150 || i > 0 && a <= c.AgeBands[i-1] {
			v.Add("age_bands", "age bands must be strictly increasing ages between 1 and 150, got %v", c.AgeBands)
			break
		}
	}
	if len(c.AgeBands) > 30 {
		v.Add("age_bands", "at most 30 age bands, got %d", len(c.AgeBands))
	}
	return v.Err()
}
