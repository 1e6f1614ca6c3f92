package console

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// qrSVG draws text as a QR code (error correction M: a creased or
// smudged slip still scans) in SVG, one square per dark module on a
// white ground with the quiet zone. SVG, not PNG: it prints sharp at any
// size on A4 and weighs a couple of kilobytes.
func qrSVG(text string) (string, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return "", fmt.Errorf("qr code: %w", err)
	}
	bits := q.Bitmap() // with the four-module quiet zone
	n := len(bits)
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n, n)
	fmt.Fprintf(&sb, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bits {
		// A run of dark modules is one rectangle.
		for x := 0; x < n; x++ {
			if !row[x] {
				continue
			}
			start := x
			for x < n && row[x] {
				x++
			}
			fmt.Fprintf(&sb, "M%d %dh%dv1h-%dz", start, y, x-start, x-start)
		}
	}
	sb.WriteString(`"/></svg>`)
	return sb.String(), nil
}

// qrDataURI is qrSVG as an image source: the page's policy allows data:
// images and no inline markup of our own making.
func qrDataURI(text string) (template.URL, error) {
	svg, err := qrSVG(text)
	if err != nil {
		return "", err
	}
	return template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(svg))), nil
}
