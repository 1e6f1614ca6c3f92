package simulate

import (
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// The HTML report is one self-contained page: inline CSS and SVG, no
// script, every text escaped by html/template. Chart geometry is computed
// here from the report's integers and decimals; nothing from the data goes
// into a style or a path except numbers.

type htmlBar struct {
	X, Y, W, H int
	Fill       string
	Title      string
}

type htmlText struct {
	X, Y   int
	Anchor string
	Text   string
}

type htmlChart struct {
	W, H  int
	Bars  []htmlBar
	Texts []htmlText
	Lines []htmlLine
}

type htmlLine struct{ X1, Y1, X2, Y2 int }

type htmlCell struct {
	Text  string
	Style template.CSS
}

type htmlPage struct {
	Lang, Title string
	L           map[string]string
	R           *Report
	HasBase     bool
	NewPolicy   string
	BasePolicy  string
	Scope       string
	Summary     [][]string
	Migration   [][]htmlCell
	MigHead     []string
	Changes     []htmlChange
	Villages    [][]string
	Scores      htmlChart
	Exposure    htmlChart
	KnockOuts   [][]string
	Fairness    []htmlFair
	FairTitle   string
}

type htmlFair struct {
	Title string
	Rows  [][]string
}

type htmlChange struct {
	Title string
	Count int
	Rows  [][]string
}

const (
	colBase = "#9ca3af"
	colNew  = "#2563eb"
)

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:2em;color:#111827}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #d1d5db;padding:.25em .6em;text-align:right}
td:first-child,th:first-child{text-align:left}
.meta td{text-align:left}
.legend span{display:inline-block;width:1em;height:1em;vertical-align:middle;margin:0 .3em 0 1em}
svg text{font-size:11px;fill:#374151}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<table class="meta">
<tr><th>{{index .L "new"}}</th><td>{{.NewPolicy}}</td></tr>
<tr><th>{{index .L "against"}}</th><td>{{.BasePolicy}}</td></tr>
<tr><th>{{index .L "asof"}}</th><td>{{.R.On}}</td></tr>
<tr><th>{{index .L "scope"}}</th><td>{{.Scope}}</td></tr>
<tr><th>{{index .L "households"}}</th><td>{{.R.Households}}</td></tr>
</table>

<h2>{{index .L "summary"}}</h2>
<table>
{{range $i, $row := .Summary}}<tr>{{range $row}}{{if eq $i 0}}<th>{{.}}</th>{{else}}<td>{{.}}</td>{{end}}{{end}}</tr>
{{end}}</table>

<h2>{{index .L "migration"}}</h2>
<table>
<tr>{{range .MigHead}}<th>{{.}}</th>{{end}}</tr>
{{range .Migration}}<tr>{{range .}}<td style="{{.Style}}">{{.Text}}</td>{{end}}</tr>
{{end}}</table>

{{range .Changes}}<h2>{{.Title}}: {{.Count}}</h2>
<table>
{{range $i, $row := .Rows}}<tr>{{range $row}}{{if eq $i 0}}<th>{{.}}</th>{{else}}<td>{{.}}</td>{{end}}{{end}}</tr>
{{end}}</table>
{{end}}
<h2>{{index .L "scores"}}</h2>
<div class="legend">{{if .HasBase}}<span style="background:#9ca3af"></span>{{index .L "base"}}{{end}}<span style="background:#2563eb"></span>{{index .L "newshort"}}</div>
{{template "chart" .Scores}}

<h2>{{index .L "exposure"}}</h2>
<div class="legend">{{if .HasBase}}<span style="background:#9ca3af"></span>{{index .L "base"}}{{end}}<span style="background:#2563eb"></span>{{index .L "newshort"}}</div>
{{template "chart" .Exposure}}
<table>
{{range $i, $row := .Villages}}<tr>{{range $row}}{{if eq $i 0}}<th>{{.}}</th>{{else}}<td>{{.}}</td>{{end}}{{end}}</tr>
{{end}}</table>

{{if .KnockOuts}}<h2>{{index .L "knockouts"}}</h2>
<table>
{{range $i, $row := .KnockOuts}}<tr>{{range $row}}{{if eq $i 0}}<th>{{.}}</th>{{else}}<td>{{.}}</td>{{end}}{{end}}</tr>
{{end}}</table>{{end}}
{{if .Fairness}}<h2>{{.FairTitle}}</h2>
{{range .Fairness}}<h3>{{.Title}}</h3>
<table>
{{range $i, $row := .Rows}}<tr>{{range $row}}{{if eq $i 0}}<th>{{.}}</th>{{else}}<td>{{.}}</td>{{end}}{{end}}</tr>
{{end}}</table>{{end}}{{end}}
</body>
</html>
{{define "chart"}}<svg xmlns="http://www.w3.org/2000/svg" width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" role="img">
{{range .Lines}}<line x1="{{.X1}}" y1="{{.Y1}}" x2="{{.X2}}" y2="{{.Y2}}" stroke="#6b7280"/>
{{end}}{{range .Bars}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Fill}}"><title>{{.Title}}</title></rect>
{{end}}{{range .Texts}}<text x="{{.X}}" y="{{.Y}}" text-anchor="{{.Anchor}}">{{.Text}}</text>
{{end}}</svg>{{end}}
`))

// WriteHTML writes the report as a self-contained HTML page.
func (r *Report) WriteHTML(w io.Writer, en bool) error {
	l := labels(en)
	p := htmlPage{R: r, HasBase: r.Base != nil, Lang: l.t("zh-CN", "en"),
		Title:     l.t("政策模拟报告", "Policy simulation report"),
		NewPolicy: policyLine(r.New), BasePolicy: l.t("无", "none"), Scope: l.t("全部村", "all villages"),
		L: map[string]string{
			"new": l.t("新政策", "New policy"), "against": l.t("对照政策", "Against"), "asof": l.t("日期", "As of"),
			"scope": l.t("范围", "Scope"), "households": l.t("户数", "Households"), "summary": l.t("汇总", "Summary"),
			"migration": l.t("等级迁移（行：对照等级，列：新等级）", "Grade migration (rows: base grade, columns: new grade)"),
			"scores":    fmt.Sprintf(l.t("评分分布（每 %d 分一档）", "Score distribution (bins of %d points)"), BinWidth),
			"exposure":  l.t("各村授信额（元）", "Exposure by village (yuan)"), "knockouts": l.t("否决规则触发户数", "Knock-outs fired (households)"),
			"base": l.t("对照", "base"), "newshort": l.t("新", "new"),
		}}
	if r.Base != nil {
		p.BasePolicy = policyLine(*r.Base)
	}
	if len(r.Villages) > 0 {
		p.Scope = strings.Join(r.Villages, ", ")
	}
	p.Summary = [][]string{
		{"", l.t("对照", "base"), l.t("新", "new"), l.t("变化", "change")},
		{l.t("可授信户数", "eligible households"), r.baseOr(l, strconv.Itoa(r.EligibleBase)), strconv.Itoa(r.EligibleNew), r.baseOr(l, signedInt(r.EligibleNew-r.EligibleBase))},
		{l.t("授信总额（元）", "total exposure (yuan)"), r.baseOr(l, Yuan(r.ExposureBase)), Yuan(r.ExposureNew), r.baseOr(l, signed(r.ExposureChange()))},
		{l.t("新增可授信户", "households gaining a line"), "", "", r.baseOr(l, strconv.Itoa(r.Gained.Count))},
		{l.t("失去授信户", "households losing a line"), "", "", r.baseOr(l, strconv.Itoa(r.Lost.Count))},
	}

	// Migration heat-table: cell shade by share of the largest cell.
	p.MigHead = append([]string{l.t("对照＼新", "base\\new")}, r.Migration.Cols...)
	most := 1
	for _, row := range r.Migration.Counts {
		for _, n := range row {
			most = max(most, n)
		}
	}
	for i, g := range r.Migration.Rows {
		row := []htmlCell{{Text: g}}
		for j, n := range r.Migration.Counts[i] {
			alpha := 0
			if n > 0 {
				alpha = 20 + 200*n/most
			}
			style := fmt.Sprintf("background-color:#2563eb%02x", alpha)
			if j < len(r.Migration.Cols) && r.Migration.Cols[j] == g {
				style += ";font-weight:bold"
			}
			if alpha > 140 {
				style += ";color:#ffffff"
			}
			row = append(row, htmlCell{Text: strconv.Itoa(n), Style: template.CSS(style)})
		}
		p.Migration = append(p.Migration, row)
	}

	if r.Base != nil {
		for _, c := range []struct {
			title string
			ch    Change
		}{{l.t("新增可授信户", "Households gaining a line"), r.Gained}, {l.t("失去授信户", "Households losing a line"), r.Lost}} {
			if c.ch.Count == 0 {
				continue
			}
			rows := [][]string{{l.t("户", "household"), l.t("户主", "head"), l.t("对照等级", "base grade"), l.t("对照额度", "base limit"),
				l.t("新等级", "new grade"), l.t("新额度", "new limit")}}
			for _, s := range r.samples(c.ch) {
				rows = append(rows, []string{s.Name, s.HeadName, s.BaseGrade, Yuan(s.BaseLimit), s.NewGrade, Yuan(s.NewLimit)})
			}
			if len(r.samples(c.ch)) == 0 {
				rows = nil // the Aggregate view: counts only
			}
			p.Changes = append(p.Changes, htmlChange{Title: c.title + sampleNote(l, c.ch.Count, r.samples(c.ch)), Count: c.ch.Count, Rows: rows})
		}
	}

	p.Villages = [][]string{{l.t("村", "village"), l.t("户数", "households"), l.t("对照可授信", "eligible base"), l.t("新可授信", "eligible new"),
		l.t("对照额度", "base"), l.t("新额度", "new"), l.t("变化", "change")}}
	for _, v := range r.ByVillage {
		p.Villages = append(p.Villages, append([]string{villageLabel(l, v)}, r.villageCells(l, v, Yuan, signed)...))
	}
	p.Scores = scoreChart(r, l)
	p.Exposure = exposureChart(r, l)
	p.FairTitle = fmt.Sprintf(l.t("公平性（新政策；不利影响比低于 %.2f 标记，不足 %d 户的组不判定）",
		"Fairness (new policy; adverse-impact ratios under %.2f flagged, groups under %d not judged)"),
		r.Fairness.AdverseImpact, r.Fairness.MinGroup)
	for _, d := range r.Fairness.Dimensions {
		f := htmlFair{Title: DimensionLabel(d.Name, en), Rows: [][]string{FairnessHead(en)}}
		for _, g := range d.Groups {
			f.Rows = append(f.Rows, FairnessCells(g, en))
		}
		p.Fairness = append(p.Fairness, f)
	}
	if len(r.KnockOuts) > 0 {
		p.KnockOuts = [][]string{{l.t("规则", "knock-out"), l.t("对照", "base"), l.t("新", "new")}}
		for _, k := range r.KnockOuts {
			p.KnockOuts = append(p.KnockOuts, []string{k.ID, r.baseOr(l, strconv.Itoa(k.Base)), strconv.Itoa(k.New)})
		}
	}
	return pageTmpl.Execute(w, p)
}

// scoreChart draws the histogram: per bin a base and a new bar.
func scoreChart(r *Report, l labels) htmlChart {
	const plotH, top, left, bottom = 200, 16, 48, 40
	group := 28
	c := htmlChart{W: left + group*len(r.Scores) + 16, H: top + plotH + bottom}
	most := 1
	for _, b := range r.Scores {
		most = max(most, b.Base, b.New)
	}
	base := top + plotH
	c.Lines = append(c.Lines, htmlLine{left, top, left, base}, htmlLine{left, base, c.W - 8, base})
	c.Texts = append(c.Texts, htmlText{X: left - 4, Y: top + 4, Anchor: "end", Text: strconv.Itoa(most)},
		htmlText{X: left - 4, Y: base, Anchor: "end", Text: "0"})
	for i, b := range r.Scores {
		x := left + i*group + 3
		if r.Base != nil {
			h := plotH * b.Base / most
			c.Bars = append(c.Bars, htmlBar{X: x, Y: base - h, W: 11, H: h, Fill: colBase,
				Title: fmt.Sprintf("%s %s: %d", binLabel(b), l.t("对照", "base"), b.Base)})
		}
		h := plotH * b.New / most
		c.Bars = append(c.Bars, htmlBar{X: x + 11, Y: base - h, W: 11, H: h, Fill: colNew,
			Title: fmt.Sprintf("%s %s: %d", binLabel(b), l.t("新", "new"), b.New)})
		if i%2 == 0 || len(r.Scores) <= 12 {
			c.Texts = append(c.Texts, htmlText{X: x + 11, Y: base + 14, Anchor: "middle", Text: strconv.Itoa(b.Lo)})
		}
	}
	c.Texts = append(c.Texts, htmlText{X: c.W / 2, Y: base + 32, Anchor: "middle", Text: l.t("评分", "score")})
	return c
}

// exposureChart draws per village a base and a new horizontal bar.
func exposureChart(r *Report, l labels) htmlChart {
	const left, barW, row, top = 120, 520, 26, 8
	c := htmlChart{W: left + barW + 140, H: top + row*len(r.ByVillage) + 8}
	most := decimal.NewFromInt(1)
	for _, v := range r.ByVillage {
		most = decimal.Max(most, v.Base, v.New)
	}
	scale := func(d decimal.Decimal) int {
		return int(d.Mul(decimal.NewFromInt(barW)).Div(most).IntPart())
	}
	for i, v := range r.ByVillage {
		y := top + i*row
		name := v.Village
		if v.Pooled > 0 {
			name = l.t("其他村", "others")
		}
		c.Texts = append(c.Texts, htmlText{X: left - 6, Y: y + 15, Anchor: "end", Text: name})
		if r.Base != nil {
			c.Bars = append(c.Bars, htmlBar{X: left, Y: y + 2, W: scale(v.Base), H: 10, Fill: colBase,
				Title: fmt.Sprintf("%s %s: %s", name, l.t("对照", "base"), Yuan(v.Base))})
		}
		c.Bars = append(c.Bars, htmlBar{X: left, Y: y + 12, W: scale(v.New), H: 10, Fill: colNew,
			Title: fmt.Sprintf("%s %s: %s", name, l.t("新", "new"), Yuan(v.New))})
		label := Yuan(v.New)
		if r.Base != nil {
			label += " (" + signed(v.Change()) + ")"
		}
		c.Texts = append(c.Texts, htmlText{X: left + max(scale(v.New), scale(v.Base)) + 6, Y: y + 15, Anchor: "start", Text: label})
	}
	c.Lines = append(c.Lines, htmlLine{left, top, left, c.H - 8})
	return c
}
