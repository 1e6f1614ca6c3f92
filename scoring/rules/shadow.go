package rules

// ScorecardBins returns, in scorecard order, the index of the bin each
// characteristic of p puts input in into: what Evaluate's
// Characteristics[i].Bin say, without the cost of the explanation. A
// challenger's shadow decision (lending/credit, challenger.go) is
// evaluated with Outcome and records these.
func ScorecardBins(p *Policy, in Input) []int {
	var buf [32]value
	vals := buf[:0]
	if len(p.Inputs) > len(buf) {
		vals = make([]value, 0, len(p.Inputs))
	}
	var clamped []string
	vals, _ = p.values(&in, vals, &clamped)
	out := make([]int, len(p.Characteristics))
	for i := range p.Characteristics {
		c := &p.Characteristics[i]
		out[i] = c.bin(vals[c.slot])
	}
	return out
}
