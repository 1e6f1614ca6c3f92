package modelrisk

import "math"

// This file is the back-testing part: discrimination (ROC, AUC, Gini, KS)
// and calibration by grade, over the decisions with an outcome. A low
// score means high risk, and "bad" is the class the score should put low.

// Performance is the discrimination of the score between good and bad.
type Performance struct {
	// Measured is false when there are no goods or no bads: none of the
	// measures is defined, and the others are zero.
	Measured bool
	// AUC is the probability that a bad scores below a good, ties counting
	// half (Mann-Whitney); Gini = 2·AUC − 1.
	AUC, Gini float64
	// KS is the largest gap between the cumulative shares of bads and
	// goods at or below a score, reached first at KSScore.
	KS      float64
	KSScore int
	// ROC runs from (0,0) to (1,1): for each score s, ascending, the share
	// of goods and of bads scoring at or below s (declined if s were the
	// cut-off).
	ROC []ROCPoint
	// KSCurve is the same cumulative shares against the score, one point
	// per score that occurred.
	KSCurve []KSPoint
}

// ROCPoint is one point of the ROC curve.
type ROCPoint struct{ Good, Bad float64 }

// KSPoint is the cumulative shares of goods and bads at or below Score.
type KSPoint struct {
	Score     int
	Good, Bad float64
}

// performance computes the measures from counts of goods and bads by
// score (index i is score lo+i), in one pass up the scores:
//
//	AUC = Σ_s good(s)·(B(<s) + bad(s)/2) / (G·B)
//
// counts, for each good, the bads strictly below it and half the bads
// at its score; doubled, the numerator is a whole number (at most 2·G·B,
// which fits an int64 under maxDecisions), so the only rounding is the
// final division.
func performance(lo int, good, bad []int64) Performance {
	var G, B int64
	for i := range good {
		G += good[i]
		B += bad[i]
	}
	if G == 0 || B == 0 {
		return Performance{}
	}
	p := Performance{Measured: true, ROC: []ROCPoint{{0, 0}}}
	var cg, cb, auc2, ksNum int64
	for i := range good {
		g, b := good[i], bad[i]
		if g == 0 && b == 0 {
			continue
		}
		auc2 += g * (2*cb + b)
		cg += g
		cb += b
		pt := KSPoint{Score: lo + i, Good: float64(cg) / float64(G), Bad: float64(cb) / float64(B)}
		p.KSCurve = append(p.KSCurve, pt)
		p.ROC = append(p.ROC, ROCPoint{Good: pt.Good, Bad: pt.Bad})
		// |cb/B − cg/G| compared as |cb·G − cg·B| over the common G·B.
		if d := abs64(cb*G - cg*B); d > ksNum {
			ksNum, p.KSScore = d, lo+i
		}
	}
	gb := float64(G) * float64(B)
	p.AUC = float64(auc2) / (2 * gb)
	p.Gini = 2*p.AUC - 1
	p.KS = float64(ksNum) / gb
	return p
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// Z95 is the standard normal quantile of 0.975: the calibration
// intervals are 95% two-sided.
const Z95 = 1.959963984540054

// Wilson returns the Wilson score interval for k successes in n trials at
// normal quantile z:
//
//	(p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n),  p̂ = k/n.
//
// It is the set of p the score test does not reject, so unlike the
// textbook p̂ ± z·√(p̂(1−p̂)/n) it stays inside [0, 1] and does not shrink
// to a point when k is 0, which is the usual case for a good grade's bad
// rate; unlike the exact Clopper-Pearson interval it is not conservative
// and needs no beta quantile. For n = 0 it returns [0, 1].
func Wilson(k, n int64, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	nf := float64(n)
	p := float64(k) / nf
	z2 := z * z
	den := 1 + z2/nf
	centre := (p + z2/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / den
	// The interval always holds p̂, and its end is exactly 0 at k = 0 and
	// 1 at k = n; rounding must not move an end past either.
	lo, hi = min(max(0, centre-half), p), max(min(1, centre+half), p)
	if k == 0 {
		lo = 0
	}
	if k == n {
		hi = 1
	}
	return lo, hi
}

// GradeRow is one grade's bad rate against the rate the scaling implies.
type GradeRow struct {
	Grade    string
	Eligible bool
	// Lo and Hi are the grade's scores within the policy's range.
	Lo, Hi int
	// Decisions counts every decision in the grade; Outcomes those with an
	// outcome, of which Bads were bad.
	Decisions, Outcomes, Bads int64
	// Share is Outcomes over all decisions with an outcome.
	Share float64
	// BadRate is Bads / Outcomes, and Low..High its Wilson 95% interval
	// ([0, 1] without outcomes).
	BadRate, Low, High float64
	// Implied is the bad rate the scaling implies for the grade: the mean
	// of 1/(1+odds(score)) over its decisions with an outcome (over all its
	// decisions when none has one; at the middle of the band when it has
	// none). ImpliedAtLo and ImpliedAtHi are the rates at the band's ends.
	Implied, ImpliedAtLo, ImpliedAtHi float64
	// Miscalibrated: there are outcomes and Implied lies outside
	// Low..High.
	Miscalibrated bool
}

// grades computes the calibration table, best grade first, and the row
// of all grades together.
func (t *Tally) grades() ([]GradeRow, GradeRow) {
	s := &t.spec
	rows := make([]GradeRow, len(s.Grades))
	var total GradeRow
	total.Grade, total.Lo, total.Hi = "all", s.MinScore, s.MaxScore
	var totalImplied, totalImpliedAll float64
	for gi, g := range s.Grades {
		r := GradeRow{Grade: g.Name, Eligible: g.Eligible}
		r.Lo, r.Hi = s.band(gi)
		var impliedOut, impliedAll float64
		for sc := r.Lo; sc <= r.Hi; sc++ {
			i := sc - s.MinScore
			out := t.good[i] + t.bad[i]
			if t.all[i] == 0 {
				continue
			}
			pd := s.Scaling.BadRate(sc)
			r.Decisions += t.all[i]
			r.Outcomes += out
			r.Bads += t.bad[i]
			impliedOut += float64(out) * pd
			impliedAll += float64(t.all[i]) * pd
		}
		totalImplied += impliedOut
		totalImpliedAll += impliedAll
		fill(&r, impliedOut, impliedAll, s.Scaling)
		total.Decisions += r.Decisions
		total.Outcomes += r.Outcomes
		total.Bads += r.Bads
		rows[gi] = r
	}
	for i := range rows {
		rows[i].Share = share(rows[i].Outcomes, total.Outcomes)
	}
	fill(&total, totalImplied, totalImpliedAll, s.Scaling)
	total.Share = share(total.Outcomes, total.Outcomes)
	return rows, total
}

// fill completes a row from its counts and its sums of implied bad rates
// over decisions with an outcome and over all decisions.
func fill(r *GradeRow, impliedOut, impliedAll float64, sc Scaling) {
	if r.Lo <= r.Hi {
		r.ImpliedAtLo, r.ImpliedAtHi = sc.BadRate(r.Lo), sc.BadRate(r.Hi)
	}
	switch {
	case r.Outcomes > 0:
		r.Implied = impliedOut / float64(r.Outcomes)
	case r.Decisions > 0:
		r.Implied = impliedAll / float64(r.Decisions)
	case r.Lo <= r.Hi:
		r.Implied = sc.BadRate(r.Lo + (r.Hi-r.Lo)/2)
	}
	r.BadRate = share(r.Bads, r.Outcomes)
	r.Low, r.High = Wilson(r.Bads, r.Outcomes, Z95)
	r.Miscalibrated = r.Outcomes > 0 && (r.Implied < r.Low || r.Implied > r.High)
}
