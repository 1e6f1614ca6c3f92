package modelreport

import (
	"html"
	"strconv"
	"strings"
)

// svg builds one inline SVG chart as text. Nothing from the data enters
// it but numbers (formatted here) and text escaped by html.EscapeString;
// colours are presentation attributes, not style attributes, so the
// console's Content-Security-Policy (style-src 'self') lets them through.
// Every series differs in shape or dash as well as colour, so the charts
// read in grey and in print.
type svg struct {
	b    strings.Builder
	w, h int
}

func newSVG(id, title string, w, h int) *svg {
	s := &svg{w: w, h: h}
	s.b.WriteString(`<svg class="chart mr-chart" xmlns="http://www.w3.org/2000/svg" width="` + strconv.Itoa(w) + `" height="` + strconv.Itoa(h) +
		`" viewBox="0 0 ` + strconv.Itoa(w) + ` ` + strconv.Itoa(h) + `" role="img" aria-labelledby="` + id + `-t">`)
	s.b.WriteString(`<title id="` + id + `-t">` + html.EscapeString(title) + `</title>`)
	return s
}

// num formats a coordinate to a tenth of a pixel.
func num(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

func (s *svg) line(x1, y1, x2, y2 float64, stroke string, width float64, dash string) {
	s.b.WriteString(`<line x1="` + num(x1) + `" y1="` + num(y1) + `" x2="` + num(x2) + `" y2="` + num(y2) + `" stroke="` + stroke + `" stroke-width="` + num(width) + `"`)
	if dash != "" {
		s.b.WriteString(` stroke-dasharray="` + dash + `"`)
	}
	s.b.WriteString(`/>`)
}

func (s *svg) polyline(xs, ys []float64, stroke string, width float64, dash string) {
	if len(xs) == 0 {
		return
	}
	s.b.WriteString(`<polyline fill="none" stroke="` + stroke + `" stroke-width="` + num(width) + `"`)
	if dash != "" {
		s.b.WriteString(` stroke-dasharray="` + dash + `"`)
	}
	s.b.WriteString(` points="`)
	for i := range xs {
		if i > 0 {
			s.b.WriteByte(' ')
		}
		s.b.WriteString(num(xs[i]) + "," + num(ys[i]))
	}
	s.b.WriteString(`"/>`)
}

func (s *svg) rect(x, y, w, h float64, fill, title string) {
	s.b.WriteString(`<rect x="` + num(x) + `" y="` + num(y) + `" width="` + num(max(w, 0)) + `" height="` + num(h) + `" fill="` + fill + `">`)
	s.b.WriteString(`<title>` + html.EscapeString(title) + `</title></rect>`)
}

// circle is the observed value (filled); diamond the implied one (hollow).
func (s *svg) circle(x, y, r float64, fill, title string) {
	s.b.WriteString(`<circle cx="` + num(x) + `" cy="` + num(y) + `" r="` + num(r) + `" fill="` + fill + `" stroke="` + fill + `">`)
	s.b.WriteString(`<title>` + html.EscapeString(title) + `</title></circle>`)
}

func (s *svg) diamond(x, y, r float64, stroke, title string) {
	s.b.WriteString(`<polygon fill="#ffffff" stroke="` + stroke + `" stroke-width="2" points="` +
		num(x) + "," + num(y-r) + " " + num(x+r) + "," + num(y) + " " + num(x) + "," + num(y+r) + " " + num(x-r) + "," + num(y) + `">`)
	s.b.WriteString(`<title>` + html.EscapeString(title) + `</title></polygon>`)
}

// text writes t at (x, y); anchor is start, middle or end.
func (s *svg) text(x, y float64, anchor, t string) {
	s.b.WriteString(`<text x="` + num(x) + `" y="` + num(y) + `" text-anchor="` + anchor + `" font-size="12" fill="#1a1a1a">` + html.EscapeString(t) + `</text>`)
}

// vtext writes t upwards, centred on (x, y): an axis title.
func (s *svg) vtext(x, y float64, t string) {
	s.b.WriteString(`<text x="` + num(x) + `" y="` + num(y) + `" text-anchor="middle" font-size="12" fill="#1a1a1a" transform="rotate(-90 ` +
		num(x) + ` ` + num(y) + `)">` + html.EscapeString(t) + `</text>`)
}

func (s *svg) String() string { return s.b.String() + `</svg>` }

// The palette: dark enough on white for text-sized marks (WCAG 3:1).
const (
	colAxis  = "#4d4d4d"
	colGrid  = "#c9c9c9"
	colBad   = "#a30000"
	colGood  = "#1d4ed8"
	colModel = "#1d4ed8"
	colWatch = "#8a5a00"
	colShift = "#a30000"
)
