package modelreport

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/sanzhi/sanzhi/scoring/modelrisk"
)

// WriteCSV writes every table of the report as CSV, one section after
// another: a "section,<name>" line, a header line, the rows, and a blank
// line between sections (the simulation report's layout). Column names
// and codes are English; en picks the language of the policy's labels.
// Shares and measures are written in full precision, money to the fen.
func WriteCSV(w io.Writer, r *modelrisk.Report, en bool) error {
	l := labels(en)
	cw := csv.NewWriter(w)
	type section struct {
		name string
		head []string
		rows [][]string
	}
	p := &r.Performance
	summary := [][]string{
		{"bank", cell(r.Bank)}, {"product", cell(r.Product)}, {"version", strconv.Itoa(r.Version)},
		{"policy_hash", r.PolicyHash}, {"as_of", string(r.AsOf)},
		{"decisions", count(r.Decisions)}, {"outcomes", count(r.Outcomes)}, {"goods", count(r.Goods)}, {"bads", count(r.Bads)},
		{"measured", strconv.FormatBool(p.Measured)},
	}
	if p.Measured {
		summary = append(summary, []string{"ks", full(p.KS)}, []string{"ks_score", strconv.Itoa(p.KSScore)},
			[]string{"auc", full(p.AUC)}, []string{"gini", full(p.Gini)})
	}
	summary = append(summary, []string{"has_reference", strconv.FormatBool(r.HasReference)})
	if r.HasReference {
		summary = append(summary, []string{"reference_decisions", count(r.ReferenceDecisions)},
			[]string{"score_psi", full(r.Score.Value)}, []string{"score_psi_level", r.Score.Level})
	}
	summary = append(summary, []string{"psi_watch", full(r.PSIWatch)}, []string{"psi_shift", full(r.PSIShift)},
		[]string{"adverse_impact_threshold", full(r.Fairness.AdverseImpact)}, []string{"min_group", strconv.Itoa(r.Fairness.MinGroup)})
	sections := []section{{"summary", []string{"metric", "value"}, summary}}

	var roc, ks [][]string
	for _, pt := range p.ROC {
		roc = append(roc, []string{full(pt.Good), full(pt.Bad)})
	}
	for _, pt := range p.KSCurve {
		ks = append(ks, []string{strconv.Itoa(pt.Score), full(pt.Good), full(pt.Bad)})
	}
	sections = append(sections,
		section{"roc", []string{"good_share_at_or_below", "bad_share_at_or_below"}, roc},
		section{"ks_curve", []string{"score", "good_share_at_or_below", "bad_share_at_or_below"}, ks})

	var grades [][]string
	for _, g := range append(append([]modelrisk.GradeRow(nil), r.Grades...), r.Total) {
		grades = append(grades, []string{cell(g.Grade), strconv.FormatBool(g.Eligible), strconv.Itoa(g.Lo), strconv.Itoa(g.Hi),
			count(g.Decisions), count(g.Outcomes), count(g.Bads), full(g.Share), full(g.BadRate), full(g.Low), full(g.High),
			full(g.Implied), full(g.ImpliedAtLo), full(g.ImpliedAtHi), strconv.FormatBool(g.Miscalibrated)})
	}
	sections = append(sections, section{"grades", []string{"grade", "eligible", "score_from", "score_to", "decisions", "outcomes",
		"bads", "share", "bad_rate", "ci95_low", "ci95_high", "implied_bad_rate", "implied_at_score_from", "implied_at_score_to",
		"miscalibrated"}, grades})

	if r.HasReference {
		psis := [][]string{{"score", "", full(r.Score.Value), r.Score.Level}}
		var bins [][]string
		addBins := func(id string, ps modelrisk.PSI) {
			for _, b := range ps.Bins {
				bins = append(bins, []string{cell(id), cell(l.label(b.Label)), count(b.RefCount), count(b.Count),
					full(b.RefShare), full(b.Share), full(b.Term)})
			}
		}
		addBins("score", r.Score)
		for _, c := range r.Characteristics {
			psis = append(psis, []string{cell(c.ID), cell(l.label(c.Label)), full(c.Value), c.Level})
			addBins(c.ID, c.PSI)
		}
		sections = append(sections,
			section{"psi", []string{"item", "label", "psi", "level"}, psis},
			section{"psi_bins", []string{"item", "bin", "ref_count", "count", "ref_share", "share", "term"}, bins})
	}

	var fair [][]string
	for _, d := range r.Fairness.Dimensions {
		for _, g := range d.Groups {
			air := ""
			if g.HasRatio {
				air = full(g.AdverseImpact)
			}
			fair = append(fair, []string{d.Name, cell(g.Key), count(g.Decisions), count(g.Approved), full(g.ApprovalRate),
				g.AvgLimit.StringFixed(2), g.AvgRate.StringFixed(6), air, strconv.FormatBool(g.Key == d.MostFavoured),
				strconv.FormatBool(g.Small), strconv.FormatBool(g.Flagged)})
		}
	}
	sections = append(sections, section{"fairness", []string{"dimension", "group", "decisions", "approved", "approval_rate",
		"avg_limit", "avg_rate", "adverse_impact_ratio", "most_favoured", "small", "flagged"}, fair})

	if c := r.Challenger; c != nil {
		perf := func(who string, v int, p modelrisk.Performance) []string {
			return []string{who, strconv.Itoa(v), strconv.FormatBool(p.Measured), full(p.KS), full(p.AUC), full(p.Gini)}
		}
		sections = append(sections,
			section{"challenger", []string{"role", "version", "measured", "ks", "auc", "gini"}, [][]string{
				perf("champion", r.Version, c.Champion), perf("challenger", r.ChallengerVersion, c.Challenger)}},
			section{"challenger_swaps", []string{"decisions", "observed", "bads", "swap_in", "swap_out", "swap_in_bad",
				"swap_out_bad", "swap_share"}, [][]string{{count(c.Decisions), count(c.Observed), count(c.Bads),
				count(c.SwapIn), count(c.SwapOut), count(c.SwapInBad), count(c.SwapOutBad), full(c.SwapShare)}}})
	}
	for i, s := range sections {
		if i > 0 {
			_ = cw.Write([]string{})
		}
		_ = cw.Write([]string{"section", s.name})
		_ = cw.Write(s.head)
		for _, row := range s.rows {
			_ = cw.Write(row)
		}
	}
	cw.Flush()
	return cw.Error()
}

// full writes a float in the fewest digits that read back exactly.
func full(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// cell keeps a spreadsheet from reading text as a formula (a policy's
// labels are a bank's free text).
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
