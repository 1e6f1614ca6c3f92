package modelrisk

import (
	"fmt"
	"iter"
)

// Champion / challenger (issue 16 §6): the same decisions judged under
// the champion (the version that decided) and the challenger (evaluated
// in shadow on the same input, lending/credit challenger.go). Both
// versions' discrimination is measured over exactly the decisions with
// an observed outcome, so the two figures compare like with like; the
// swaps count where the two would have approved differently.

// ChallengerObservation is one decision under both versions.
type ChallengerObservation struct {
	ChampionScore, ChallengerScore int
	// ChampionApproved and ChallengerApproved are the versions'
	// eligibility.
	ChampionApproved, ChallengerApproved bool
	// Observed is true when the decision has an outcome (the back-test's
	// good or bad); Bad is that outcome.
	Observed, Bad bool
}

// ChallengerComparison is what CompareChallenger reports.
type ChallengerComparison struct {
	// Decisions counts every observation; Observed those with an outcome,
	// of which Bads were bad.
	Decisions, Observed, Bads int64
	// Champion and Challenger are the versions' KS, AUC and Gini over the
	// observed decisions (Measured false without both goods and bads).
	Champion, Challenger Performance
	// SwapIn: the challenger approves where the champion declined;
	// SwapOut: the reverse. SwapInBad and SwapOutBad count those observed
	// bad (a swap-in that went bad was declined by the champion, so it
	// is seldom observed: a line the champion did not open has no loan).
	SwapIn, SwapOut, SwapInBad, SwapOutBad int64
	// SwapShare is (SwapIn + SwapOut) / Decisions; 0 without decisions.
	SwapShare float64
}

// maxScoreSpan bounds the score range CompareChallenger counts over
// (scores are a scorecard's points: a few hundred apart, not millions).
const maxScoreSpan = 1 << 20

// CompareChallenger reads the observations once and compares the two
// versions. The first error of obs is returned as is.
func CompareChallenger(obs iter.Seq2[ChallengerObservation, error]) (*ChallengerComparison, error) {
	var c ChallengerComparison
	champ, chal := newScoreCounts(), newScoreCounts()
	for o, err := range obs {
		if err != nil {
			return nil, err
		}
		c.Decisions++
		switch {
		case o.ChallengerApproved && !o.ChampionApproved:
			c.SwapIn++
			if o.Observed && o.Bad {
				c.SwapInBad++
			}
		case o.ChampionApproved && !o.ChallengerApproved:
			c.SwapOut++
			if o.Observed && o.Bad {
				c.SwapOutBad++
			}
		}
		if !o.Observed {
			continue
		}
		c.Observed++
		if o.Bad {
			c.Bads++
		}
		champ.add(o.ChampionScore, o.Bad)
		chal.add(o.ChallengerScore, o.Bad)
	}
	var err error
	if c.Champion, err = champ.performance(); err != nil {
		return nil, fmt.Errorf("champion: %w", err)
	}
	if c.Challenger, err = chal.performance(); err != nil {
		return nil, fmt.Errorf("challenger: %w", err)
	}
	if c.Decisions > 0 {
		c.SwapShare = float64(c.SwapIn+c.SwapOut) / float64(c.Decisions)
	}
	return &c, nil
}

// scoreCounts counts goods and bads by score.
type scoreCounts struct {
	good, bad map[int]int64
	lo, hi    int
}

func newScoreCounts() *scoreCounts {
	return &scoreCounts{good: map[int]int64{}, bad: map[int]int64{}}
}

func (s *scoreCounts) add(score int, bad bool) {
	if len(s.good)+len(s.bad) == 0 || score < s.lo {
		s.lo = score
	}
	if len(s.good)+len(s.bad) == 0 || score > s.hi {
		s.hi = score
	}
	if bad {
		s.bad[score]++
	} else {
		s.good[score]++
	}
}

// performance is the measures over the counts (measures.go).
func (s *scoreCounts) performance() (Performance, error) {
	if len(s.good)+len(s.bad) == 0 {
		return Performance{}, nil
	}
	if span := s.hi - s.lo; span < 0 || span >= maxScoreSpan {
		return Performance{}, fmt.Errorf("scores from %d to %d span too wide a range", s.lo, s.hi)
	}
	n := s.hi - s.lo + 1
	good, bad := make([]int64, n), make([]int64, n)
	for sc, k := range s.good {
		good[sc-s.lo] = k
	}
	for sc, k := range s.bad {
		bad[sc-s.lo] = k
	}
	return performance(s.lo, good, bad), nil
}
