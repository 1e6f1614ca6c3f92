package console

import (
	"strconv"

	"github.com/sanzhi/sanzhi/app"
)

// A chart is drawn on the server as inline SVG: horizontal bars, one row
// per category, the compared (active) version's bar above the simulated
// one's, each with its count written at its end, so the chart reads
// without colour; the same figures stand in a table beside it. Nothing
// from the data enters the SVG but numbers and escaped text.

type chart struct {
	ID, Title string
	W, H      int
	HasBase   bool
	Rows      []app.ChartBar
	Bars      []chartBar
	Texts     []chartText
	Axis      [4]int
}

type chartBar struct {
	X, Y, W, H int
	Class      string // "base" or "new": the fill, from the stylesheet
	Title      string
}

type chartText struct {
	X, Y   int
	Anchor string
	Text   string
}

const (
	chartLeft  = 150 // the category labels
	chartPlot  = 360 // the longest bar
	chartRight = 90  // the count after the longest bar
)

// newChart lays out bars (id names it: "grades", "limits", "approvals").
func newChart(l lang, id string, bars []app.ChartBar, hasBase bool) chart {
	c := chart{ID: id, Title: text(l, "pol.chart_"+id), HasBase: hasBase, Rows: bars, W: chartLeft + chartPlot + chartRight}
	bar, row := 18, 30
	if hasBase {
		bar, row = 14, 40
	}
	most := 1
	for _, b := range bars {
		most = max(most, b.Base, b.New)
	}
	top := 8
	for i, b := range bars {
		y := top + i*row
		c.Texts = append(c.Texts, chartText{X: chartLeft - 8, Y: y + row/2, Anchor: "end", Text: b.Label})
		type one struct {
			n           int
			class, word string
		}
		series := []one{{b.New, "new", text(l, "pol.sim_new")}}
		if hasBase {
			series = []one{{b.Base, "base", text(l, "pol.sim_base")}, {b.New, "new", text(l, "pol.sim_new")}}
		}
		for j, s := range series {
			by := y + 4 + j*(bar+2)
			w := chartPlot * s.n / most
			c.Bars = append(c.Bars, chartBar{X: chartLeft, Y: by, W: w, H: bar, Class: s.class,
				Title: b.Label + " · " + s.word + ": " + strconv.Itoa(s.n)})
			label := strconv.Itoa(s.n)
			if hasBase {
				label = s.word + " " + label
			}
			c.Texts = append(c.Texts, chartText{X: chartLeft + w + 6, Y: by + bar/2, Anchor: "start", Text: label})
		}
	}
	c.H = top + len(bars)*row + 8
	c.Axis = [4]int{chartLeft, top, chartLeft, c.H - 4}
	return c
}
