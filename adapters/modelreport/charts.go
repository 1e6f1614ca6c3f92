package modelreport

import (
	"math"
	"strconv"

	"github.com/sanzhi/sanzhi/scoring/modelrisk"
)

// maxPoints bounds the points a curve is drawn with: a policy's score
// range may run to thousands, a chart is a few hundred pixels wide.
const maxPoints = 400

// thin keeps at most maxPoints of n indexes, evenly, always the first and
// the last.
func thin(n int) []int {
	if n <= maxPoints {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	idx := make([]int, 0, maxPoints)
	for k := range maxPoints {
		idx = append(idx, k*(n-1)/(maxPoints-1))
	}
	return idx
}

// frame draws the axes of a plot area and ticks at 0, ½ and 1 of the
// vertical axis (shares); it returns the mapping of a share to y.
type frame struct{ left, top, w, h float64 }

func (f frame) x(share float64) float64 { return f.left + share*f.w }
func (f frame) y(share float64) float64 { return f.top + (1-share)*f.h }

func (f frame) axes(s *svg, yTicks []float64, yLabel func(float64) string) {
	s.line(f.left, f.top, f.left, f.top+f.h, colAxis, 1, "")
	s.line(f.left, f.top+f.h, f.left+f.w, f.top+f.h, colAxis, 1, "")
	for _, t := range yTicks {
		y := f.y(t)
		s.line(f.left, y, f.left+f.w, y, colGrid, 0.5, "")
		s.text(f.left-6, y+4, "end", yLabel(t))
	}
}

func pct(x float64) string { return strconv.FormatFloat(100*x, 'f', 0, 64) + "%" }

// rocChart: the share of bads against the share of goods declined at
// each cut-off, with the diagonal of a score that ranks by chance.
func rocChart(l labels, p *modelrisk.Performance) string {
	s := newSVG("mr-roc", l.t("roc"), 370, 340)
	f := frame{left: 62, top: 14, w: 290, h: 270}
	f.axes(s, []float64{0, 0.5, 1}, pct)
	for _, t := range []float64{0, 0.5, 1} {
		s.text(f.x(t), f.top+f.h+16, "middle", pct(t))
	}
	s.line(f.x(0), f.y(0), f.x(1), f.y(1), colAxis, 1, "4 4")
	var xs, ys []float64
	for _, i := range thin(len(p.ROC)) {
		xs = append(xs, f.x(p.ROC[i].Good))
		ys = append(ys, f.y(p.ROC[i].Bad))
	}
	s.polyline(xs, ys, colModel, 2, "")
	s.text(f.x(0.5), f.top+f.h+34, "middle", l.t("roc_x"))
	s.vtext(14, f.top+f.h/2, l.t("roc_y"))
	s.text(f.x(0.55), f.y(0.2), "start", "AUC "+fixed(p.AUC, 3))
	s.text(f.x(0.55), f.y(0.2)+16, "start", "Gini "+fixed(p.Gini, 3))
	return s.String() + legend([][3]string{{"line", colModel, l.t("roc_model")}, {"dash", colAxis, l.t("roc_chance")}})
}

// ksChart: the cumulative shares of bads (solid) and goods (dashed) at or
// below each score, and the KS gap where it is widest.
func ksChart(l labels, p *modelrisk.Performance) string {
	s := newSVG("mr-ks", l.t("ks"), 490, 320)
	f := frame{left: 62, top: 14, w: 410, h: 250}
	f.axes(s, []float64{0, 0.5, 1}, pct)
	c := p.KSCurve
	lo, hi := c[0].Score, c[len(c)-1].Score
	span := float64(max(hi-lo, 1))
	sx := func(score int) float64 { return f.x(float64(score-lo) / span) }
	s.text(f.left, f.top+f.h+16, "middle", strconv.Itoa(lo))
	s.text(f.left+f.w, f.top+f.h+16, "middle", strconv.Itoa(hi))
	if hi-lo >= 4 {
		mid := lo + (hi-lo)/2
		s.text(sx(mid), f.top+f.h+16, "middle", strconv.Itoa(mid))
	}
	s.text(f.x(0.5), f.top+f.h+34, "middle", l.t("score"))
	s.vtext(14, f.top+f.h/2, l.t("cum_share"))
	var xs, yb, yg []float64
	for _, i := range thin(len(c)) {
		xs = append(xs, sx(c[i].Score))
		yb = append(yb, f.y(c[i].Bad))
		yg = append(yg, f.y(c[i].Good))
	}
	s.polyline(xs, yb, colBad, 2, "")
	s.polyline(xs, yg, colGood, 2, "6 3")
	for _, pt := range c {
		if pt.Score == p.KSScore {
			x := sx(pt.Score)
			s.line(x, f.y(pt.Bad), x, f.y(pt.Good), colAxis, 1.5, "2 2")
			s.text(x+6, (f.y(pt.Bad)+f.y(pt.Good))/2, "start", "KS "+fixed(p.KS, 3)+" @ "+strconv.Itoa(pt.Score))
			break
		}
	}
	return s.String() + legend([][3]string{{"line", colBad, l.t("cum_bad")}, {"dash", colGood, l.t("cum_good")}})
}

// calibrationChart: per grade, the observed bad rate (dot) with its 95%
// interval (bar) and the rate the scaling implies (hollow diamond).
func calibrationChart(l labels, rows []modelrisk.GradeRow) string {
	top := 0.0
	for _, g := range rows {
		if g.Outcomes > 0 {
			top = max(top, g.High)
		}
		top = max(top, g.Implied)
	}
	top = math.Min(1, math.Max(0.1, math.Ceil(top*10)/10))
	step := 90.0
	w := 70 + step*float64(len(rows)) + 20
	s := newSVG("mr-cal", l.t("calibration"), int(w), 320)
	f := frame{left: 70, top: 14, w: step * float64(len(rows)), h: 250}
	yOf := func(rate float64) float64 { return f.y(rate / top) }
	f.axes(s, []float64{0, 0.5, 1}, func(t float64) string { return pct(t * top) })
	s.vtext(14, f.top+f.h/2, l.t("bad_rate"))
	for i, g := range rows {
		x := f.left + step*(float64(i)+0.5)
		s.text(x, f.top+f.h+16, "middle", g.Grade)
		s.text(x, f.top+f.h+32, "middle", "n="+strconv.FormatInt(g.Outcomes, 10))
		if g.Outcomes > 0 {
			// The interval is drawn through the dot, with caps at its ends.
			xo, y1, y2 := x-10, yOf(g.Low), yOf(g.High)
			s.line(xo-6, y1, xo+6, y1, colAxis, 1.5, "")
			s.line(xo-6, y2, xo+6, y2, colAxis, 1.5, "")
			s.line(xo, y1, xo, y2, colAxis, 1.5, "")
			s.circle(xo, yOf(g.BadRate), 5, colBad, g.Grade+" · "+l.t("observed")+" "+percent(g.BadRate)+
				" ("+percent(g.Low)+"–"+percent(g.High)+")")
		}
		s.diamond(x+10, yOf(g.Implied), 6, colModel, g.Grade+" · "+l.t("implied")+" "+percent(g.Implied))
	}
	return s.String() + legend([][3]string{{"dot", colBad, l.t("observed_ci")}, {"diamond", colModel, l.t("implied")}})
}

// psiChart: one bar per PSI (the score, then each characteristic), with
// the two thresholds drawn across.
func psiChart(l labels, r *modelrisk.Report) string {
	type bar struct {
		label string
		p     modelrisk.PSI
	}
	bars := []bar{{l.t("score"), r.Score}}
	for _, c := range r.Characteristics {
		bars = append(bars, bar{l.label(c.Label) + " (" + c.ID + ")", c.PSI})
	}
	top := math.Max(r.PSIShift*1.2, 0)
	for _, b := range bars {
		top = math.Max(top, b.p.Value*1.1)
	}
	row := 28.0
	left, plot := 200.0, 320.0
	h := 30 + row*float64(len(bars)) + 24
	s := newSVG("mr-psi", l.t("psi"), int(left+plot+120), int(h))
	xOf := func(v float64) float64 { return left + plot*v/top }
	base := 20.0
	for _, t := range []struct {
		v   float64
		col string
	}{{r.PSIWatch, colWatch}, {r.PSIShift, colShift}} {
		s.line(xOf(t.v), base-6, xOf(t.v), base+row*float64(len(bars)), t.col, 1.5, "4 3")
		s.text(xOf(t.v), base-8, "middle", fixed(t.v, 2))
	}
	s.line(left, base-4, left, base+row*float64(len(bars)), colAxis, 1, "")
	for i, b := range bars {
		y := base + row*float64(i)
		s.text(left-8, y+row/2+4, "end", clip(b.label, 24))
		s.rect(left, y+5, xOf(b.p.Value)-left, row-10, colModel, b.label+": PSI "+fixed(b.p.Value, 3)+" · "+l.t("level_"+b.p.Level))
		s.text(xOf(b.p.Value)+6, y+row/2+4, "start", fixed(b.p.Value, 3)+" "+l.t("level_"+b.p.Level))
	}
	return s.String()
}

// legend is a line of text under a chart saying which mark is which, in
// words as well as colours.
func legend(items [][3]string) string {
	out := `<p class="mr-legend">`
	for i, it := range items {
		if i > 0 {
			out += " · "
		}
		mark := map[string]string{"line": "—", "dash": "- -", "dot": "●", "diamond": "◇"}[it[0]]
		out += `<span class="mr-mark">` + mark + `</span> ` + escape(it[2])
	}
	return out + `</p>`
}

// clip shortens a label for a chart to n characters; the table beside the
// chart and the bar's title carry it whole.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
