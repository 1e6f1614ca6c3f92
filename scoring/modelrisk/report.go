package modelrisk

import (
	"iter"

	"github.com/sanzhi/sanzhi/scoring/household"
)

// Report is everything the back-testing, stability and fairness report
// shows of one policy version. Every figure is computed from counts, so
// the same decisions give the same report whatever their order.
type Report struct {
	Bank, Product string
	Version       int
	PolicyHash    string
	AsOf          household.Date

	// Decisions counts every decision; Outcomes those with an outcome,
	// Goods plus Bads.
	Decisions, Outcomes, Goods, Bads int64

	Performance Performance
	// Grades are best first; Total is all grades together.
	Grades []GradeRow
	Total  GradeRow

	// HasReference is false when the version has no reference population,
	// or no decision to compare with it: then there is no stability
	// figure.
	HasReference bool
	// ReferenceDecisions is the size of the reference population.
	ReferenceDecisions int64
	Score              PSI
	Characteristics    []CharPSI
	// PSIWatch and PSIShift are the thresholds the levels follow.
	PSIWatch, PSIShift float64

	Fairness FairnessReport

	// ChallengerVersion is the product's challenger whose shadow
	// decisions were compared with these decisions (0: none), and
	// Challenger the comparison (CompareChallenger); the caller sets both.
	ChallengerVersion int
	Challenger        *ChallengerComparison
}

// Report computes the report of the decisions counted, comparing them
// with ref, the reference population (nil when the version has none).
func (t *Tally) Report(ref *Reference) (*Report, error) {
	s := &t.spec
	r := &Report{Bank: s.Bank, Product: s.Product, Version: s.Version, PolicyHash: s.Hash, AsOf: t.cfg.AsOf,
		Decisions: t.n, PSIWatch: t.cfg.PSIWatch, PSIShift: t.cfg.PSIShift}
	for i := range t.all {
		r.Goods += t.good[i]
		r.Bads += t.bad[i]
	}
	r.Outcomes = r.Goods + r.Bads
	r.Performance = performance(s.MinScore, t.good, t.bad)
	r.Grades, r.Total = t.grades()
	// Stability compares the decisions with the reference: with no
	// decision (nothing decided by the report's date) every share is 0
	// and the index would flag a "shift" of nothing.
	if ref != nil && t.n > 0 {
		if err := ref.check(s); err != nil {
			return nil, err
		}
		r.HasReference, r.ReferenceDecisions = true, ref.Decisions
		r.Score = t.scorePSI(ref)
		for c, cs := range s.Characteristics {
			r.Characteristics = append(r.Characteristics, CharPSI{ID: cs.ID, Label: cs.Label, PSI: psi(cs.Bins, ref.Bins[c], t.bins[c], &t.cfg)})
		}
	}
	r.Fairness = t.fair.Report()
	return r, nil
}

// Compute tallies the decisions a sequence yields (a store cursor, say:
// each decision may reuse the same memory) and reports on them. It stops
// at the first error, the sequence's or a decision's.
func Compute(spec Spec, cfg Config, ref *Reference, decisions iter.Seq2[*Decision, error]) (*Report, error) {
	t, err := NewTally(spec, cfg)
	if err != nil {
		return nil, err
	}
	for d, err := range decisions {
		if err != nil {
			return nil, err
		}
		if err := t.Add(d); err != nil {
			return nil, err
		}
	}
	return t.Report(ref)
}
