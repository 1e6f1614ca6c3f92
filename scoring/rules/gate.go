package rules

import (
	"slices"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/sanzhi/sanzhi/scoring/yamldoc"
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
	// MinAdverseImpact is the lowest adverse-impact ratio any group of a
	// judged dimension (FairnessDimensions) may have.
	MinAdverseImpact decimal.Decimal
	// FairnessDimensions are the fairness dimensions the adverse-impact
	// check judges, in GateDimensions order: by default sex and village.
	// Age bands are reported but judged only when listed: an age limit
	// is a stated product rule (the example policy declines heads over
	// 65) and fails the four-fifths rule by construction
	// (docs/MODEL-RISK.md).
	FairnessDimensions []string
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

// GateDimensions are the fairness dimensions a gate may judge, by their
// names in scoring/modelrisk: the head's sex, the village, the head's age
// band.
var GateDimensions = []string{"sex", "village", "age"}

// DefaultGateDimensions are the dimensions judged when the document does
// not list them.
var DefaultGateDimensions = []string{"sex", "village"}

// DefaultGate is the gate of a document without a gate section.
func DefaultGate() Gate {
	return Gate{MaxPSI: DefaultGateMaxPSI, MinAdverseImpact: DefaultGateMinAdverseImpact, MaxLostShare: DefaultGateMaxLostShare,
		FairnessDimensions: slices.Clone(DefaultGateDimensions)}
}

// Judges reports whether the adverse-impact check judges dimension dim.
func (g Gate) Judges(dim string) bool { return slices.Contains(g.FairnessDimensions, dim) }

// gate reads the optional gate section: max_psi in (0, 10], min_adverse_impact
// and max_lost_share in [0, 1], each to four decimal places, and
// fairness_dimensions, a list of GateDimensions without repeats (it may be
// empty: the adverse-impact check then judges nothing and passes).
func (r *reader) gate(n *yaml.Node) {
	r.p.Gate = DefaultGate()
	if n == nil {
		return
	}
	m := r.Fields(n, "gate", []string{"max_psi", "min_adverse_impact", "max_lost_share", "fairness_dimensions"})
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
	if v := m.Get("fairness_dimensions"); v != nil {
		r.gateDimensions(v)
	}
}

// gateDimensions reads gate.fairness_dimensions.
func (r *reader) gateDimensions(n *yaml.Node) {
	const path = "gate.fairness_dimensions"
	items, ok := r.List(n, path, len(GateDimensions))
	if !ok {
		return
	}
	var dims []string
	for i, it := range items {
		p := yamldoc.Index(path, i)
		d, ok := r.Str(it, p)
		if !ok {
			continue
		}
		switch {
		case !slices.Contains(GateDimensions, d):
			r.Add(it, p, "must be one of sex, village, age; got %q", d)
		case slices.Contains(dims, d):
			r.Add(it, p, "%s is listed twice", d)
		default:
			dims = append(dims, d)
		}
	}
	// Kept in GateDimensions order, so the gate reads the same whatever
	// order the document lists them in.
	out := []string{}
	for _, d := range GateDimensions {
		if slices.Contains(dims, d) {
			out = append(out, d)
		}
	}
	r.p.Gate.FairnessDimensions = out
}
