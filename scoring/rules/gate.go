package rules

import (
	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"
)

// Gate is the policy document's optional activation gate (issue 16 §5):
// the thresholds a version's gate report (its simulation against the
// active version on the current population) must meet before the version
// is activated without a second person's written justification. It does
// not affect a decision, so it is not part of the canonical form (Hash).
type Gate struct {
	// Set is true when the document has a gate section; the thresholds
	// it leaves out take the defaults.
	Set bool
	// MaxPSI is the highest PSI of the version's scores against the active
	// version's on the same households.
	MaxPSI decimal.Decimal
	// MinAdverseImpact is the lowest adverse-impact ratio any judged
	// group (village, sex, age band) may have.
	MinAdverseImpact decimal.Decimal
	// MaxLostShare is the highest share of the population that may lose
	// its line against the active version.
	MaxLostShare decimal.Decimal
}

// The default gate thresholds (docs/MODEL-RISK.md, docs/POLICY.md): a
// significant score shift (0.25), the four-fifths rule (0.8), and one
// household in twenty losing its line.
var (
	DefaultGateMaxPSI           = decimal.RequireFromString("0.25")
	DefaultGateMinAdverseImpact = decimal.RequireFromString("0.8")
	DefaultGateMaxLostShare     = decimal.RequireFromString("0.05")
)

// DefaultGate is the gate of a document without a gate section.
func DefaultGate() Gate {
	return Gate{MaxPSI: DefaultGateMaxPSI, MinAdverseImpact: DefaultGateMinAdverseImpact, MaxLostShare: DefaultGateMaxLostShare}
}

// gate reads the optional gate section: max_psi in (0, 10], min_adverse_impact
// and max_lost_share in [0, 1], each to four decimal places.
func (r *reader) gate(n *yaml.Node) {
	r.p.Gate = DefaultGate()
	if n == nil {
		return
	}
	m := r.Fields(n, "gate", []string{"max_psi", "min_adverse_impact", "max_lost_share"})
	if m == nil {
		return
	}
	r.p.Gate.Set = true
	if v := m.Get("max_psi"); v != nil {
		if d, ok := r.number(v, "gate.max_psi", decimal.Zero, decimal.NewFromInt(10), 4); ok {
			if d.Sign() == 0 {
				r.Add(v, "gate.max_psi", "must be more than 0 (a PSI of 0 means no change at all)")
			}
			r.p.Gate.MaxPSI = d
		}
	}
	if v := m.Get("min_adverse_impact"); v != nil {
		if d, ok := r.number(v, "gate.min_adverse_impact", decimal.Zero, decimal.NewFromInt(1), 4); ok {
			r.p.Gate.MinAdverseImpact = d
		}
	}
	if v := m.Get("max_lost_share"); v != nil {
		if d, ok := r.number(v, "gate.max_lost_share", decimal.Zero, decimal.NewFromInt(1), 4); ok {
			r.p.Gate.MaxLostShare = d
		}
	}
}
