package modelrisk

import (
	"math"
	"strconv"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// This file is the stability part: the population stability index of the
// score and of each characteristic against the reference population.

// Reference is the distribution of a policy version's scores and bins
// over the population it was activated on (Tally.Reference). It is what
// is stored with the version and what later populations are compared
// with. The JSON form is the stored form.
type Reference struct {
	PolicyHash string `json:"policy_hash"`
	Decisions  int64  `json:"decisions"`
	// Scores are the scores that occurred, ascending, with their counts.
	Scores []ScoreCount `json:"scores"`
	// Bins count decisions by bin of each characteristic, in scorecard
	// order.
	Bins [][]int64 `json:"bins"`
}

// ScoreCount is how many decisions had one score.
type ScoreCount struct {
	Score int   `json:"score"`
	N     int64 `json:"n"`
}

// check verifies the reference belongs to the spec's policy version and
// adds up.
func (r *Reference) check(s *Spec) error {
	bad := func(why string, args ...any) error {
		return fault.New(fault.FailedPrecondition, "REFERENCE_MISMATCH", "the reference population does not fit policy %s/%s v%d: "+why,
			append([]any{s.Bank, s.Product, s.Version}, args...)...)
	}
	if r.PolicyHash != s.Hash {
		return bad("it was taken for another version")
	}
	if r.Decisions <= 0 || r.Decisions > maxDecisions {
		return bad("it has %d decisions", r.Decisions)
	}
	var sum int64
	for i, c := range r.Scores {
		if c.N <= 0 || i > 0 && c.Score <= r.Scores[i-1].Score {
			return bad("its scores are not ascending with positive counts")
		}
		sum += c.N
	}
	if sum != r.Decisions {
		return bad("its score counts add up to %d, not %d", sum, r.Decisions)
	}
	if len(r.Bins) != len(s.Characteristics) {
		return bad("it has %d characteristics, the policy %d", len(r.Bins), len(s.Characteristics))
	}
	for c, bins := range r.Bins {
		if len(bins) != len(s.Characteristics[c].Bins) {
			return bad("characteristic %s has %d bins, the policy %d", s.Characteristics[c].ID, len(bins), len(s.Characteristics[c].Bins))
		}
		sum = 0
		for _, n := range bins {
			if n < 0 {
				return bad("characteristic %s has a negative count", s.Characteristics[c].ID)
			}
			sum += n
		}
		if sum != r.Decisions {
			return bad("characteristic %s counts %d decisions, not %d", s.Characteristics[c].ID, sum, r.Decisions)
		}
	}
	return nil
}

// Stability levels of a PSI, against Config.PSIWatch and PSIShift.
const (
	Stable = "stable" // below PSIWatch
	Watch  = "watch"  // from PSIWatch: a shift to look into
	Shift  = "shift"  // from PSIShift: a significant shift
)

// PSI is a population stability index with its bins.
type PSI struct {
	Value float64
	Level string
	Bins  []PSIBin
}

// PSIBin is one bin's share in the reference and now, and its term of
// the index.
type PSIBin struct {
	Label                 rules.Label
	RefCount, Count       int64
	RefShare, Share, Term float64
}

// CharPSI is one characteristic's PSI over its scorecard bins.
type CharPSI struct {
	ID    string
	Label rules.Label
	PSI
}

// Epsilon is the share an empty bin is taken to have: the index has a
// term ln(share/reference share) per bin, undefined when either is 0.
// 0.0001 (one in ten thousand) is the customary floor: small enough not
// to matter for a bin that has decisions, large enough that one empty bin
// in a population of thousands adds a visible but bounded term (a bin of
// 10% against an empty one adds about 0.69). Shares are not renormalised
// after the floor; every term (a−e)·ln(a/e) stays ≥ 0 either way.
const Epsilon = 1e-4

// psi computes the index of counts now against counts in the reference,
// bin by bin: Σ (a − e)·ln(a / e) with a and e the bins' shares now and
// in the reference, each at least Epsilon.
func psi(labels []rules.Label, ref, now []int64, cfg *Config) PSI {
	var refN, nowN int64
	for i := range ref {
		refN += ref[i]
		nowN += now[i]
	}
	p := PSI{Bins: make([]PSIBin, len(ref))}
	for i := range ref {
		b := PSIBin{Label: labels[i], RefCount: ref[i], Count: now[i], RefShare: share(ref[i], refN), Share: share(now[i], nowN)}
		e, a := max(b.RefShare, Epsilon), max(b.Share, Epsilon)
		b.Term = (a - e) * math.Log(a/e)
		p.Value += b.Term
		p.Bins[i] = b
	}
	p.Level = level(p.Value, cfg)
	return p
}

func share(k, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

func level(v float64, cfg *Config) string {
	switch {
	case v >= cfg.PSIShift:
		return Shift
	case v >= cfg.PSIWatch:
		return Watch
	default:
		return Stable
	}
}

// decileCuts returns the upper ends of the score bins the reference's
// deciles make: for k = 1..9 the lowest score at which at least k tenths
// of the reference lie at or below it, without repeats (ties at one score
// merge deciles), and without the highest reference score (so that every
// bin has reference decisions; the last bin is open above) unless it is
// the only cut: a reference of one score still splits the population at
// it. The bins are then (−∞, c1], (c1, c2], …, (cm, +∞).
func decileCuts(r *Reference) []int {
	var cuts []int
	var cum int64
	k := int64(1)
	for _, c := range r.Scores {
		cum += c.N
		for k <= 9 && cum*10 >= k*r.Decisions {
			if len(cuts) == 0 || cuts[len(cuts)-1] != c.Score {
				cuts = append(cuts, c.Score)
			}
			k++
		}
	}
	if n := len(cuts); n > 1 && cuts[n-1] == r.Scores[len(r.Scores)-1].Score {
		cuts = cuts[:n-1]
	}
	return cuts
}

// scorePSI compares the tally's scores with the reference's over the
// reference's decile bins.
func (t *Tally) scorePSI(r *Reference) PSI {
	var now []ScoreCount
	for i, n := range t.all {
		if n > 0 {
			now = append(now, ScoreCount{Score: t.spec.MinScore + i, N: n})
		}
	}
	return scoreShift(r, now, &t.cfg)
}

// ScoreShift is the PSI of the scores now against the scores ref, both
// ascending with positive counts, over ref's decile bins: the activation
// gate compares a candidate version's scores with the active version's on
// the same population. The thresholds of cfg set the level. With no
// reference scores the index is 0 over one bin.
func ScoreShift(ref, now []ScoreCount, cfg Config) PSI {
	r := &Reference{Scores: ref}
	for _, c := range ref {
		r.Decisions += c.N
	}
	return scoreShift(r, now, &cfg)
}

func scoreShift(r *Reference, now []ScoreCount, cfg *Config) PSI {
	cuts := decileCuts(r)
	ref := make([]int64, len(cuts)+1)
	j := 0
	for _, c := range r.Scores {
		for j < len(cuts) && c.Score > cuts[j] {
			j++
		}
		ref[j] += c.N
	}
	cur := make([]int64, len(cuts)+1)
	j = 0
	for _, c := range now {
		for j < len(cuts) && c.Score > cuts[j] {
			j++
		}
		cur[j] += c.N
	}
	labels := make([]rules.Label, len(cuts)+1)
	for i := range labels {
		var l string
		switch {
		case len(cuts) == 0:
			l = "all"
		case i == 0:
			l = "≤" + strconv.Itoa(cuts[0])
		case i == len(cuts):
			l = "≥" + strconv.Itoa(cuts[i-1]+1)
		case cuts[i-1]+1 == cuts[i]:
			l = strconv.Itoa(cuts[i])
		default:
			l = strconv.Itoa(cuts[i-1]+1) + "–" + strconv.Itoa(cuts[i])
		}
		labels[i] = rules.Label{ZH: l, EN: l}
	}
	return psi(labels, ref, cur, cfg)
}
