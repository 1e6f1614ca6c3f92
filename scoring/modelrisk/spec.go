package modelrisk

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/sanzhi/sanzhi/scoring/rules"
)

// Spec is what the measures need to know of a policy version: its
// identity, score range, grades, scaling and scorecard bins. SpecOf reads
// it from a parsed policy; tests may build one by hand (Check validates).
type Spec struct {
	Bank, Product string
	Version       int
	Hash          string
	// MinScore and MaxScore are the lowest and highest scores the
	// scorecard can give: every decision's score lies between them.
	MinScore, MaxScore int
	// Grades best first, MinScore strictly decreasing, as in the policy.
	Grades  []GradeSpec
	Scaling Scaling
	// Characteristics in scorecard order; a decision's Bins follow it.
	Characteristics []CharSpec
}

// GradeSpec is one grade of the policy.
type GradeSpec struct {
	Name     string
	MinScore int
	Eligible bool
}

// Scaling is the scorecard's points-to-double-odds scaling: a score of
// BaseScore means good:bad odds of BaseOdds, and every PDO points more
// double them (rules.Scaling).
type Scaling struct {
	BaseScore int
	BaseOdds  float64
	PDO       int
}

// Odds returns the good:bad odds the scaling implies at score s:
// BaseOdds · 2^((s − BaseScore)/PDO).
func (c Scaling) Odds(s int) float64 {
	return c.BaseOdds * math.Exp2(float64(s-c.BaseScore)/float64(c.PDO))
}

// BadRate returns the bad rate the scaling implies at score s: with
// good:bad odds o, one applicant in 1+o is bad, so 1/(1+o).
func (c Scaling) BadRate(s int) float64 { return 1 / (1 + c.Odds(s)) }

// CharSpec is one scorecard characteristic and the labels of its bins.
type CharSpec struct {
	ID    string
	Label rules.Label
	// Bins label each bin in scorecard order: the bin's own label, or its
	// range or values as the policy writes them.
	Bins []rules.Label
}

// maxScoreRange bounds MaxScore − MinScore: the Tally keeps three
// counters per score in the range. The policy loader allows at most 64
// doublings of odds each side of the base at PDO ≤ 1000, so a valid policy
// stays well inside it.
const maxScoreRange = 1 << 20

// SpecOf reads the measures' view of policy p.
func SpecOf(p *rules.Policy) Spec {
	s := Spec{
		Bank: p.Bank, Product: p.Product, Version: p.Version, Hash: p.Hash(),
		MinScore: p.MinScore(), MaxScore: p.MaxScore(),
		Scaling: Scaling{BaseScore: p.Scaling.BaseScore, BaseOdds: p.Scaling.BaseOdds.InexactFloat64(), PDO: p.Scaling.PDO},
	}
	for _, g := range p.Grades {
		s.Grades = append(s.Grades, GradeSpec{Name: g.Name, MinScore: g.MinScore, Eligible: g.Eligible})
	}
	for _, c := range p.Characteristics {
		cs := CharSpec{ID: c.ID, Label: c.Label}
		for _, b := range c.Bins {
			l := b.Label
			if l.ZH == "" && l.EN == "" {
				band := b.Range.String()
				if len(b.Values) > 0 {
					band = strings.Join(b.Values, ", ")
				}
				l = rules.Label{ZH: band, EN: band}
			}
			cs.Bins = append(cs.Bins, l)
		}
		s.Characteristics = append(s.Characteristics, cs)
	}
	return s
}

// Check reports what makes the spec unusable: a score range the Tally
// cannot hold, grades out of order, a scaling without odds, a
// characteristic without bins. A spec read from a parsed policy passes;
// one that fails was built wrongly, so the error is not the caller's
// request's fault.
func (s *Spec) Check() error {
	if s.MaxScore < s.MinScore || s.MaxScore-s.MinScore >= maxScoreRange {
		return fmt.Errorf("modelrisk: the score range %d..%d must be non-empty and span fewer than %d scores", s.MinScore, s.MaxScore, maxScoreRange)
	}
	if len(s.Grades) == 0 {
		return errors.New("modelrisk: the policy needs at least one grade")
	}
	for i, g := range s.Grades {
		if g.Name == "" {
			return fmt.Errorf("modelrisk: grade %d has no name", i+1)
		}
		if i > 0 && g.MinScore >= s.Grades[i-1].MinScore {
			return fmt.Errorf("modelrisk: grade %s must have a lower min_score than %s (grades are listed best first)", g.Name, s.Grades[i-1].Name)
		}
	}
	if !(s.Scaling.BaseOdds > 0) || math.IsInf(s.Scaling.BaseOdds, 0) || s.Scaling.PDO <= 0 {
		return errors.New("modelrisk: the scaling needs base odds above 0 and a PDO of at least 1")
	}
	for i, c := range s.Characteristics {
		if len(c.Bins) == 0 || len(c.Bins) > math.MaxUint16 {
			return fmt.Errorf("modelrisk: characteristic %d (%s) must have between 1 and %d bins", i+1, c.ID, math.MaxUint16)
		}
	}
	return nil
}

// band returns the scores of grade i within the spec's score range, lo >
// hi when no score in the range gets the grade.
func (s *Spec) band(i int) (lo, hi int) {
	lo, hi = max(s.Grades[i].MinScore, s.MinScore), s.MaxScore
	if i > 0 {
		hi = min(hi, s.Grades[i-1].MinScore-1)
	}
	if i == len(s.Grades)-1 {
		lo = s.MinScore // the last grade takes every score below the others
	}
	return lo, hi
}
