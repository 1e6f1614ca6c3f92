// Package modelreport renders a model-risk report (scoring/modelrisk) for
// people: an HTML fragment with inline SVG charts, for the console's page
// and the CLI's file, and CSV of every table. The figures are computed in
// the pure package; this one only draws them. It uses no template, so the
// fragment can be embedded in any page (it is returned as template.HTML,
// every text in it escaped here).
package modelreport

import (
	"html"
	"html/template"
	"strconv"
	"strings"

	"github.com/sanzhi/sanzhi/scoring/modelrisk"
	"github.com/sanzhi/sanzhi/scoring/rules"
	"github.com/sanzhi/sanzhi/scoring/simulate"
)

// labels picks zh-CN or English words.
type labels bool

func (en labels) t(key string) string {
	w, ok := words[key]
	if !ok {
		return key
	}
	if en {
		return w[1]
	}
	return w[0]
}

func (en labels) label(l rules.Label) string {
	if en && l.EN != "" || l.ZH == "" {
		return l.EN
	}
	return l.ZH
}

// words are the fragment's texts, zh-CN then English.
var words = map[string][2]string{
	"title":          {"模型回溯测试、稳定性与公平性报告", "Back-testing, stability and fairness report"},
	"policy":         {"政策版本", "Policy version"},
	"as_of":          {"统计日期", "As of"},
	"decisions":      {"决策数", "Decisions"},
	"outcomes":       {"有表现结果的决策", "Decisions with an outcome"},
	"goods":          {"正常", "Good"},
	"bads":           {"不良", "Bad"},
	"performance":    {"区分能力", "Discrimination"},
	"not_measured":   {"尚无法计算：需要同时有正常和不良的表现结果。", "Not measurable yet: it needs both good and bad outcomes."},
	"measure":        {"指标", "Measure"},
	"value":          {"数值", "Value"},
	"ks_at":          {"KS 所在分数", "Score of the KS"},
	"roc":            {"ROC 曲线", "ROC curve"},
	"roc_x":          {"被拒绝的正常客户占比", "Share of goods declined"},
	"roc_y":          {"被拒绝的不良客户占比", "Share of bads declined"},
	"cum_share":      {"累计占比", "Cumulative share"},
	"roc_model":      {"本评分卡", "This scorecard"},
	"roc_chance":     {"随机排序", "Ranking by chance"},
	"ks":             {"KS 曲线", "KS curve"},
	"score":          {"评分", "Score"},
	"cum_bad":        {"不良客户累计占比", "Cumulative share of bads"},
	"cum_good":       {"正常客户累计占比", "Cumulative share of goods"},
	"grades":         {"各等级不良率与校准", "Bad rate and calibration by grade"},
	"calibration":    {"校准：观察不良率（95% 置信区间）与评分刻度隐含不良率", "Calibration: observed bad rate (95% interval) and the rate the scaling implies"},
	"grade":          {"等级", "Grade"},
	"scores":         {"分数段", "Scores"},
	"share":          {"占比", "Share"},
	"bad_rate":       {"不良率", "Bad rate"},
	"interval":       {"95% 区间（Wilson）", "95% interval (Wilson)"},
	"implied":        {"隐含不良率", "Implied bad rate"},
	"observed":       {"观察不良率", "Observed bad rate"},
	"observed_ci":    {"观察不良率及 95% 区间", "Observed bad rate with its 95% interval"},
	"check":          {"校准", "Calibration"},
	"miscalibrated":  {"隐含值在区间外", "implied rate outside the interval"},
	"calibrated":     {"在区间内", "within the interval"},
	"no_outcome":     {"无表现结果", "no outcomes"},
	"all":            {"合计", "All"},
	"stability":      {"稳定性（PSI）", "Stability (PSI)"},
	"no_decisions":   {"该版本在统计日期前还没有决策，无法计算稳定性。", "The version has no decisions up to the report's date, so stability cannot be measured."},
	"no_reference":   {"该版本没有启用时的参照人群，无法计算稳定性。", "This version has no reference population from its activation, so stability cannot be measured."},
	"reference":      {"参照人群决策数", "Reference decisions"},
	"psi":            {"群体稳定性指数（PSI）", "Population stability index (PSI)"},
	"psi_thresholds": {"阈值", "Thresholds"},
	"item":           {"项目", "Item"},
	"level":          {"判断", "Level"},
	"level_stable":   {"稳定", "stable"},
	"level_watch":    {"需关注", "watch"},
	"level_shift":    {"显著变化", "significant shift"},
	"score_bins":     {"评分分箱（参照人群十分位）", "Score bins (the reference's deciles)"},
	"bin":            {"分箱", "Bin"},
	"ref_share":      {"参照占比", "Reference share"},
	"now_share":      {"当前占比", "Current share"},
	"term":           {"贡献", "Term"},
	"fairness":       {"公平性", "Fairness"},
	"fair_note":      {"不利影响比 = 该组通过率 ÷ 通过率最高组的通过率（仅在决策数不少于 %d 的组中选取）；低于 %s 标记（五分之四规则作参照）。小组只报告人数，不作标记。", "Adverse-impact ratio = the group's approval rate ÷ that of the most favoured group (chosen among groups of at least %d decisions); flagged under %s (the four-fifths rule as a reference point). Small groups are reported with their counts and never flagged."},
	"dim_village":    {"按村", "By village"},
	"dim_sex":        {"按性别（由身份证号计算，不存储）", "By sex (read from the ID number, not stored)"},
	"dim_age":        {"按年龄段", "By age band"},
	"group":          {"组", "Group"},
	"approved":       {"通过", "Approved"},
	"approval_rate":  {"通过率", "Approval rate"},
	"avg_limit":      {"平均额度", "Average limit"},
	"avg_rate":       {"平均利率", "Average rate"},
	"air":            {"不利影响比", "Adverse-impact ratio"},
	"flag":           {"标记", "Flag"},
	"flagged":        {"低于阈值", "below the threshold"},
	"small":          {"小组，不标记", "small group, not flagged"},
	"most_favoured":  {"通过率最高组", "most favoured"},
	"female":         {"女", "female"},
	"male":           {"男", "male"},
	"unknown":        {"未知", "unknown"},
	"challenger":     {"挑战者对比（影子评估，同一批决策与表现结果）", "Champion and challenger (shadow evaluation, the same decisions and outcomes)"},
	"champion_v":     {"冠军（当前生效）", "Champion (active)"},
	"challenger_v":   {"挑战者", "Challenger"},
	"shadowed":       {"有影子决策的决策", "Decisions with a shadow"},
	"swap_in":        {"挑战者批准、冠军拒绝（换入）", "Approved by the challenger, declined by the champion (swap-in)"},
	"swap_out":       {"冠军批准、挑战者拒绝（换出）", "Approved by the champion, declined by the challenger (swap-out)"},
	"swap_out_bad":   {"其中换出且不良", "of which swapped out and bad"},
	"swap_share":     {"批准结果不同的占比", "Share decided differently"},
	"no_ratio":       {"无可比较的组", "no group to compare with"},
}

func escape(s string) string { return html.EscapeString(s) }

func fixed(x float64, places int) string { return strconv.FormatFloat(x, 'f', places, 64) }

// percent writes a rate to two decimals of a per cent.
func percent(x float64) string { return strconv.FormatFloat(100*x, 'f', 2, 64) + "%" }

type table struct {
	b strings.Builder
}

func (t *table) open(caption string, head ...string) {
	t.b.WriteString(`<table class="mr-table"><caption>` + escape(caption) + `</caption><thead><tr>`)
	for i, h := range head {
		class := ` class="num"`
		if i == 0 {
			class = ""
		}
		t.b.WriteString(`<th scope="col"` + class + `>` + escape(h) + `</th>`)
	}
	t.b.WriteString(`</tr></thead><tbody>`)
}

// row writes a row: the first cell a header, the others numbers unless
// they are words (flags and notes are right-aligned too: fine in a table
// of figures).
func (t *table) row(cells ...string) {
	t.b.WriteString(`<tr>`)
	for i, c := range cells {
		if i == 0 {
			t.b.WriteString(`<th scope="row">` + escape(c) + `</th>`)
		} else {
			t.b.WriteString(`<td class="num">` + escape(c) + `</td>`)
		}
	}
	t.b.WriteString(`</tr>`)
}

func (t *table) close() string { return t.b.String() + `</tbody></table>` }

// HTML renders the report as one <section>: summary, discrimination with
// the ROC and KS charts, the grade table with the calibration chart,
// stability with the PSI chart, and the fairness tables. en picks English
// over zh-CN.
func HTML(r *modelrisk.Report, en bool) template.HTML {
	l := labels(en)
	var b strings.Builder
	b.WriteString(`<section class="mr-report" lang="` + map[bool]string{true: "en", false: "zh-CN"}[en] + `">`)
	b.WriteString(`<h2>` + escape(l.t("title")) + `</h2>`)
	var sum table
	sum.open(l.t("title"), l.t("item"), l.t("value"))
	sum.row(l.t("policy"), r.Bank+"/"+r.Product+" v"+strconv.Itoa(r.Version)+" ("+short(r.PolicyHash)+")")
	sum.row(l.t("as_of"), string(r.AsOf))
	sum.row(l.t("decisions"), count(r.Decisions))
	sum.row(l.t("outcomes"), count(r.Outcomes))
	sum.row(l.t("goods"), count(r.Goods))
	sum.row(l.t("bads"), count(r.Bads))
	b.WriteString(sum.close())

	b.WriteString(`<h3>` + escape(l.t("performance")) + `</h3>`)
	if p := &r.Performance; p.Measured {
		var t table
		t.open(l.t("performance"), l.t("measure"), l.t("value"))
		t.row("KS", fixed(p.KS, 4))
		t.row(l.t("ks_at"), strconv.Itoa(p.KSScore))
		t.row("AUC", fixed(p.AUC, 4))
		t.row("Gini", fixed(p.Gini, 4))
		b.WriteString(t.close())
		b.WriteString(`<div class="mr-charts">` + rocChart(l, p) + ksChart(l, p) + `</div>`)
	} else {
		b.WriteString(`<p class="mr-note">` + escape(l.t("not_measured")) + `</p>`)
	}

	b.WriteString(`<h3>` + escape(l.t("grades")) + `</h3>`)
	var g table
	g.open(l.t("grades"), l.t("grade"), l.t("scores"), l.t("decisions"), l.t("outcomes"), l.t("bads"), l.t("share"),
		l.t("bad_rate"), l.t("interval"), l.t("implied"), l.t("check"))
	rows := append(append([]modelrisk.GradeRow(nil), r.Grades...), r.Total)
	for i, row := range rows {
		name := row.Grade
		if i == len(rows)-1 {
			name = l.t("all")
		}
		check := l.t("no_outcome")
		rate, ci := "—", "—"
		if row.Outcomes > 0 {
			check = l.t("calibrated")
			if row.Miscalibrated {
				check = "⚠ " + l.t("miscalibrated")
			}
			rate, ci = percent(row.BadRate), percent(row.Low)+"–"+percent(row.High)
		}
		g.row(name, strconv.Itoa(row.Lo)+"–"+strconv.Itoa(row.Hi), count(row.Decisions), count(row.Outcomes), count(row.Bads),
			percent(row.Share), rate, ci, percent(row.Implied), check)
	}
	b.WriteString(g.close())
	b.WriteString(`<div class="mr-charts">` + calibrationChart(l, r.Grades) + `</div>`)

	b.WriteString(`<h3>` + escape(l.t("stability")) + `</h3>`)
	if !r.HasReference {
		note := "no_reference"
		if r.Decisions == 0 {
			note = "no_decisions"
		}
		b.WriteString(`<p class="mr-note">` + escape(l.t(note)) + `</p>`)
	} else {
		var t table
		t.open(l.t("psi"), l.t("item"), "PSI", l.t("level"))
		t.row(l.t("reference"), count(r.ReferenceDecisions), "")
		t.row(l.t("psi_thresholds"), fixed(r.PSIWatch, 2)+" / "+fixed(r.PSIShift, 2), "")
		t.row(l.t("score"), fixed(r.Score.Value, 4), l.t("level_"+r.Score.Level))
		for _, c := range r.Characteristics {
			t.row(l.label(c.Label)+" ("+c.ID+")", fixed(c.Value, 4), l.t("level_"+c.Level))
		}
		b.WriteString(t.close())
		b.WriteString(`<div class="mr-charts">` + psiChart(l, r) + `</div>`)
		b.WriteString(binTable(l, l.t("score_bins"), r.Score))
		for _, c := range r.Characteristics {
			b.WriteString(binTable(l, l.label(c.Label)+" ("+c.ID+")", c.PSI))
		}
	}

	b.WriteString(`<h3>` + escape(l.t("fairness")) + `</h3>`)
	note := l.t("fair_note")
	note = strings.Replace(note, "%d", strconv.Itoa(r.Fairness.MinGroup), 1)
	note = strings.Replace(note, "%s", fixed(r.Fairness.AdverseImpact, 2), 1)
	b.WriteString(`<p class="mr-note">` + escape(note) + `</p>`)
	for _, d := range r.Fairness.Dimensions {
		var t table
		t.open(l.t("dim_"+d.Name), l.t("group"), l.t("decisions"), l.t("approved"), l.t("approval_rate"), l.t("avg_limit"),
			l.t("avg_rate"), l.t("air"), l.t("flag"))
		for _, gr := range d.Groups {
			key := gr.Key
			if d.Name == modelrisk.BySex || key == modelrisk.Unknown {
				key = l.t(key)
			}
			limit, rate := "—", "—"
			if gr.Approved > 0 {
				limit, rate = "¥"+simulate.Yuan(gr.AvgLimit), gr.AvgRate.Shift(2).StringFixed(2)+"%"
			}
			air, flag := "—", l.t("no_ratio")
			if gr.HasRatio {
				air, flag = fixed(gr.AdverseImpact, 2), ""
			}
			switch {
			case gr.Key == d.MostFavoured:
				flag = l.t("most_favoured")
			case gr.Flagged:
				flag = "⚠ " + l.t("flagged")
			case gr.Small:
				flag = l.t("small")
			}
			t.row(key, count(gr.Decisions), count(gr.Approved), percent(gr.ApprovalRate), limit, rate, air, flag)
		}
		b.WriteString(t.close())
	}
	if c := r.Challenger; c != nil {
		b.WriteString(`<h3>` + escape(l.t("challenger")) + `</h3>`)
		var t table
		t.open(l.t("challenger"), l.t("measure"), l.t("champion_v")+" v"+strconv.Itoa(r.Version),
			l.t("challenger_v")+" v"+strconv.Itoa(r.ChallengerVersion))
		t.row(l.t("shadowed"), count(c.Decisions), count(c.Decisions))
		t.row(l.t("outcomes"), count(c.Observed), count(c.Observed))
		t.row(l.t("bads"), count(c.Bads), count(c.Bads))
		measure := func(p modelrisk.Performance, f func(modelrisk.Performance) float64) string {
			if !p.Measured {
				return "—"
			}
			return fixed(f(p), 4)
		}
		for _, m := range []struct {
			name string
			f    func(modelrisk.Performance) float64
		}{{"KS", func(p modelrisk.Performance) float64 { return p.KS }},
			{"AUC", func(p modelrisk.Performance) float64 { return p.AUC }},
			{"Gini", func(p modelrisk.Performance) float64 { return p.Gini }}} {
			t.row(m.name, measure(c.Champion, m.f), measure(c.Challenger, m.f))
		}
		b.WriteString(t.close())
		var sw table
		sw.open(l.t("swap_share"), l.t("item"), l.t("value"))
		sw.row(l.t("swap_in"), count(c.SwapIn))
		sw.row(l.t("swap_out"), count(c.SwapOut))
		sw.row(l.t("swap_out_bad"), count(c.SwapOutBad))
		sw.row(l.t("swap_share"), percent(c.SwapShare))
		b.WriteString(sw.close())
	}
	b.WriteString(`</section>`)
	return template.HTML(b.String()) // every text above is escaped
}

func binTable(l labels, caption string, p modelrisk.PSI) string {
	var t table
	t.open(caption, l.t("bin"), l.t("ref_share"), l.t("now_share"), l.t("term"))
	for _, b := range p.Bins {
		t.row(l.label(b.Label), percent(b.RefShare)+" ("+count(b.RefCount)+")", percent(b.Share)+" ("+count(b.Count)+")", fixed(b.Term, 4))
	}
	return t.close()
}

func count(n int64) string { return strconv.FormatInt(n, 10) }

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
