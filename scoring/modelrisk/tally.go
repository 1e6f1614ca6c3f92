package modelrisk

import (
	"errors"
	"fmt"
)

// Outcome is what became of a decision's loan, by the bad definition the
// policy document states (docs/MODEL-RISK.md).
type Outcome uint8

// The outcomes. NoOutcome is a decision not (yet) observed long enough,
// or with no loan: it counts for stability and fairness, not for the
// performance measures.
const (
	NoOutcome Outcome = iota
	Good
	Bad
)

// Decision is one decision of the policy version as the report reads it.
// A caller streaming decisions may reuse one Decision (and its Bins) for
// every row: Add keeps nothing of it.
type Decision struct {
	Score int
	// Bins are the index of each characteristic's bin, in scorecard order
	// (rules.ScoredCharacteristic.Bin).
	Bins    []int
	Outcome Outcome
	Applicant
}

// maxDecisions bounds a tally, so that every count and every product of
// two counts the measures form fits in an int64 exactly.
const maxDecisions = 1 << 31

// Tally accumulates decisions of one policy version. Its memory is three
// counters per score in the policy's range, one per characteristic bin
// and a few per fairness group, whatever the number of decisions.
type Tally struct {
	spec Spec
	cfg  Config
	n    int64
	// all, good and bad count decisions by score − spec.MinScore.
	all, good, bad []int64
	bins           [][]int64
	fair           *Fairness
}

// NewTally returns an empty tally for the policy version spec describes.
func NewTally(spec Spec, cfg Config) (*Tally, error) {
	if err := spec.Check(); err != nil {
		return nil, err
	}
	f, err := NewFairness(cfg)
	if err != nil {
		return nil, err
	}
	size := spec.MaxScore - spec.MinScore + 1
	t := &Tally{spec: spec, cfg: cfg, fair: f,
		all: make([]int64, size), good: make([]int64, size), bad: make([]int64, size)}
	t.cfg.AgeBands = append([]int(nil), cfg.AgeBands...)
	for _, c := range spec.Characteristics {
		t.bins = append(t.bins, make([]int64, len(c.Bins)))
	}
	return t, nil
}

// Add counts one decision. A decision that cannot be the policy's (a
// score outside its range, a bin it does not have) is an error and is
// not counted.
func (t *Tally) Add(d *Decision) error {
	if t.n >= maxDecisions {
		return fmt.Errorf("modelrisk: a tally holds at most %d decisions", maxDecisions)
	}
	i := d.Score - t.spec.MinScore
	if i < 0 || i >= len(t.all) {
		return fmt.Errorf("modelrisk: score %d is outside the policy's range %d..%d", d.Score, t.spec.MinScore, t.spec.MaxScore)
	}
	if len(d.Bins) != len(t.bins) {
		return fmt.Errorf("modelrisk: a decision has %d characteristics, the policy %d", len(d.Bins), len(t.bins))
	}
	for c, b := range d.Bins {
		if b < 0 || b >= len(t.bins[c]) {
			return fmt.Errorf("modelrisk: bin %d of characteristic %s does not exist (it has %d)", b, t.spec.Characteristics[c].ID, len(t.bins[c]))
		}
	}
	if d.Outcome > Bad {
		return fmt.Errorf("modelrisk: unknown outcome %d", d.Outcome)
	}
	if err := t.fair.Add(&d.Applicant); err != nil {
		return err
	}
	for c, b := range d.Bins {
		t.bins[c][b]++
	}
	t.all[i]++
	switch d.Outcome {
	case Good:
		t.good[i]++
	case Bad:
		t.bad[i]++
	}
	t.n++
	return nil
}

// Merge adds the counts of o, a tally of other decisions of the same
// policy version and configuration, into t.
func (t *Tally) Merge(o *Tally) error {
	if t.spec.Hash != o.spec.Hash || len(t.all) != len(o.all) || len(t.bins) != len(o.bins) || t.spec.MinScore != o.spec.MinScore {
		return errors.New("modelrisk: cannot merge tallies of different policy versions")
	}
	if t.n+o.n > maxDecisions {
		return fmt.Errorf("modelrisk: a tally holds at most %d decisions", maxDecisions)
	}
	for c := range t.bins {
		if len(t.bins[c]) != len(o.bins[c]) {
			return errors.New("modelrisk: cannot merge tallies of different policy versions")
		}
	}
	if err := t.fair.Merge(o.fair); err != nil {
		return err
	}
	for i := range t.all {
		t.all[i] += o.all[i]
		t.good[i] += o.good[i]
		t.bad[i] += o.bad[i]
	}
	for c := range t.bins {
		for b := range t.bins[c] {
			t.bins[c][b] += o.bins[c][b]
		}
	}
	t.n += o.n
	return nil
}

// Len returns the number of decisions counted.
func (t *Tally) Len() int64 { return t.n }

// Reference returns the tally's distribution of scores and bins, to be
// stored with the version when it is activated and compared with later
// (PSI).
func (t *Tally) Reference() Reference {
	r := Reference{PolicyHash: t.spec.Hash, Decisions: t.n}
	for i, n := range t.all {
		if n > 0 {
			r.Scores = append(r.Scores, ScoreCount{Score: t.spec.MinScore + i, N: n})
		}
	}
	for _, b := range t.bins {
		r.Bins = append(r.Bins, append([]int64(nil), b...))
	}
	return r
}
