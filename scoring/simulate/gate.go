package simulate

import (
	"fmt"

	"github.com/sanzhi/sanzhi/scoring/rules"
)

// GateCheck is one check of the activation gate (issue 16 §5).
type GateCheck struct {
	ID         string // "psi", "adverse_impact", "lost_share"
	Value      float64
	Threshold  float64
	Passed     bool
	Applicable bool // false without an active version to compare with (PSI, lost share)
	ZH, EN     string
}

// GateReport is the gate's verdict on a simulation of a candidate version
// against the active one.
type GateReport struct {
	Passed bool
	Checks []GateCheck
}

// Failed names the failing checks.
func (g GateReport) Failed() []GateCheck {
	var out []GateCheck
	for _, c := range g.Checks {
		if !c.Passed {
			out = append(out, c)
		}
	}
	return out
}

// Gate judges report (the candidate against the active version, read
// from the unpooled figures) against the thresholds of the candidate's
// document. Without a base, PSI and lost share are not applicable and
// pass; the fairness check judges the dimensions the gate lists
// (rules.Gate.FairnessDimensions) and is not applicable when none of
// their groups is large enough to judge.
func Gate(r *Report, g rules.Gate) GateReport {
	maxPSI, minAI, maxLost := g.MaxPSI.InexactFloat64(), g.MinAdverseImpact.InexactFloat64(), g.MaxLostShare.InexactFloat64()
	var out GateReport
	psi := GateCheck{ID: "psi", Threshold: maxPSI, Passed: true}
	if r.ScoreShift != nil {
		psi.Applicable, psi.Value = true, r.ScoreShift.Value
		psi.Passed = psi.Value <= maxPSI
	}
	psi.ZH = fmt.Sprintf("评分稳定性 PSI %.4f，上限 %.4f", psi.Value, maxPSI)
	psi.EN = fmt.Sprintf("score PSI %.4f against a maximum of %.4f", psi.Value, maxPSI)
	ai := GateCheck{ID: "adverse_impact", Threshold: minAI, Passed: true, Value: 1}
	judged := r.Fairness
	judged.Dimensions = nil
	for _, d := range r.Fairness.Dimensions {
		if g.Judges(d.Name) {
			judged.Dimensions = append(judged.Dimensions, d)
		}
	}
	if ratio, dim, group, ok := MinAdverseImpact(judged); ok {
		ai.Applicable, ai.Value = true, ratio
		ai.Passed = ratio >= minAI
		ai.ZH = fmt.Sprintf("最低不利影响比 %.4f（%s：%s），下限 %.4f", ratio, DimensionLabel(dim, false), GroupLabel(group, false), minAI)
		ai.EN = fmt.Sprintf("lowest adverse-impact ratio %.4f (%s: %s) against a minimum of %.4f", ratio, dim, GroupLabel(group, true), minAI)
	} else {
		ai.ZH = "没有可判定的组（各组不足最小样本）"
		ai.EN = "no group large enough to judge"
	}
	lost := GateCheck{ID: "lost_share", Threshold: maxLost, Passed: true}
	if r.Base != nil {
		lost.Applicable, lost.Value = true, r.LostShare()
		lost.Passed = lost.Value <= maxLost
	}
	lost.ZH = fmt.Sprintf("失去授信户占比 %.4f，上限 %.4f", lost.Value, maxLost)
	lost.EN = fmt.Sprintf("share of households losing a line %.4f against a maximum of %.4f", lost.Value, maxLost)
	out.Checks = []GateCheck{psi, ai, lost}
	out.Passed = psi.Passed && ai.Passed && lost.Passed
	return out
}
