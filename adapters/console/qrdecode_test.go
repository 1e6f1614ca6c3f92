package console_test

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// A QR reader just large enough for the slip's code (ISO/IEC 18004:
// versions 1 to 10, error correction M, numeric, alphanumeric and byte
// segments, no damage to repair). No decoder library is available
// offline; reading the picture back from the page, independently of the
// encoder, is what shows the slip carries the exact link.

var svgRun = regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-\d+z`)
var svgBox = regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`)

// qrFromDataURI returns the modules of an SVG data URI the slip shows,
// without the quiet zone.
func qrFromDataURI(uri string) ([][]bool, error) {
	b64, ok := strings.CutPrefix(uri, "data:image/svg+xml;base64,")
	if !ok {
		return nil, fmt.Errorf("not an SVG data URI: %.40q", uri)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, err
	}
	svg := string(raw)
	m := svgBox.FindStringSubmatch(svg)
	if m == nil {
		return nil, fmt.Errorf("no viewBox")
	}
	n, _ := strconv.Atoi(m[1])
	grid := make([][]bool, n)
	for i := range grid {
		grid[i] = make([]bool, n)
	}
	for _, r := range svgRun.FindAllStringSubmatch(svg, -1) {
		x, _ := strconv.Atoi(r[1])
		y, _ := strconv.Atoi(r[2])
		w, _ := strconv.Atoi(r[3])
		for i := x; i < x+w; i++ {
			grid[y][i] = true
		}
	}
	const quiet = 4
	out := make([][]bool, n-2*quiet)
	for y := range out {
		out[y] = grid[y+quiet][quiet : n-quiet]
	}
	return out, nil
}

// qrM are the blocks of error correction level M: (blocks, data
// codewords each) per version, from the standard's table 9.
var qrM = map[int][][2]int{
	1: {{1, 16}}, 2: {{1, 28}}, 3: {{1, 44}}, 4: {{2, 32}}, 5: {{2, 43}},
	6: {{4, 27}}, 7: {{4, 31}}, 8: {{2, 38}, {2, 39}}, 9: {{3, 36}, {2, 37}}, 10: {{4, 43}, {1, 44}},
}

var qrAlign = map[int][]int{
	2: {6, 18}, 3: {6, 22}, 4: {6, 26}, 5: {6, 30}, 6: {6, 34},
	7: {6, 22, 38}, 8: {6, 24, 42}, 9: {6, 26, 46}, 10: {6, 28, 50},
}

func qrFormat(data int) int {
	rem := data
	for range 10 {
		rem = (rem << 1) ^ ((rem >> 9) * 0x537)
	}
	return (data<<10 | rem) ^ 0x5412
}

// decodeQR reads the text of a symbol (grid[y][x], dark true).
func decodeQR(grid [][]bool) (string, error) {
	size := len(grid)
	ver := (size - 17) / 4
	blocks, ok := qrM[ver]
	if size != 17+4*ver || !ok {
		return "", fmt.Errorf("size %d: not a version this reader knows", size)
	}
	bit := func(x, y int) int {
		if grid[y][x] {
			return 1
		}
		return 0
	}
	// Format information, first copy, as the encoder lays it down.
	f := 0
	for i := range 6 {
		f |= bit(8, i) << i
	}
	f |= bit(8, 7)<<6 | bit(8, 8)<<7 | bit(7, 8)<<8
	for i := 9; i < 15; i++ {
		f |= bit(14-i, 8) << i
	}
	mask := -1
	for d := range 32 {
		if qrFormat(d) == f {
			if d>>3 != 0 { // 00 is level M
				return "", fmt.Errorf("error correction level %d, not M", d>>3)
			}
			mask = d & 7
		}
	}
	if mask < 0 {
		return "", fmt.Errorf("unreadable format information %015b", f)
	}
	// Which modules are function patterns.
	fn := make([][]bool, size)
	for i := range fn {
		fn[i] = make([]bool, size)
	}
	rect := func(x0, y0, w, h int) {
		for y := y0; y < y0+h; y++ {
			for x := x0; x < x0+w; x++ {
				fn[y][x] = true
			}
		}
	}
	rect(0, 0, 9, 9)
	rect(size-8, 0, 8, 9)
	rect(0, size-8, 9, 8)
	rect(6, 0, 1, size)
	rect(0, 6, size, 1)
	al := qrAlign[ver]
	for i, cy := range al {
		for j, cx := range al {
			if (i == 0 && j == 0) || (i == 0 && j == len(al)-1) || (i == len(al)-1 && j == 0) {
				continue // under a finder
			}
			rect(cx-2, cy-2, 5, 5)
		}
	}
	if ver >= 7 {
		rect(0, size-11, 6, 3)
		rect(size-11, 0, 3, 6)
	}
	masked := func(x, y int) bool {
		switch mask {
		case 0:
			return (x+y)%2 == 0
		case 1:
			return y%2 == 0
		case 2:
			return x%3 == 0
		case 3:
			return (x+y)%3 == 0
		case 4:
			return (x/3+y/2)%2 == 0
		case 5:
			return x*y%2+x*y%3 == 0
		case 6:
			return (x*y%2+x*y%3)%2 == 0
		}
		return ((x+y)%2+x*y%3)%2 == 0
	}
	// The codewords in the zigzag order, unmasked.
	var bits []byte
	for right := size - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		for vert := range size {
			for j := range 2 {
				x := right - j
				y := vert
				if (right+1)&2 == 0 {
					y = size - 1 - vert
				}
				if fn[y][x] {
					continue
				}
				b := grid[y][x] != masked(x, y)
				bits = append(bits, map[bool]byte{false: 0, true: 1}[b])
			}
		}
	}
	cw := make([]byte, len(bits)/8)
	for i := range cw {
		for k := range 8 {
			cw[i] = cw[i]<<1 | bits[8*i+k]
		}
	}
	// De-interleave the data codewords of the blocks.
	var lens []int
	for _, g := range blocks {
		for range g[0] {
			lens = append(lens, g[1])
		}
	}
	data := make([][]byte, len(lens))
	k := 0
	for i := 0; ; i++ {
		took := false
		for b, n := range lens {
			if i < n {
				data[b] = append(data[b], cw[k])
				k++
				took = true
			}
		}
		if !took {
			break
		}
	}
	var stream []byte
	for _, d := range data {
		for _, c := range d {
			for k := 7; k >= 0; k-- {
				stream = append(stream, c>>k&1)
			}
		}
	}
	pos := 0
	read := func(n int) (int, error) {
		if pos+n > len(stream) {
			return 0, fmt.Errorf("data ends early")
		}
		v := 0
		for range n {
			v = v<<1 | int(stream[pos])
			pos++
		}
		return v, nil
	}
	countBits := map[int][2]int{1: {10, 12}, 2: {9, 11}, 4: {8, 16}}
	const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
	var out strings.Builder
	for pos+4 <= len(stream) {
		mode, _ := read(4)
		if mode == 0 {
			break
		}
		cb, ok := countBits[mode]
		if !ok {
			return "", fmt.Errorf("segment mode %04b", mode)
		}
		nb := cb[0]
		if ver >= 10 {
			nb = cb[1]
		}
		n, err := read(nb)
		if err != nil {
			return "", err
		}
		switch mode {
		case 1: // numeric: three digits in ten bits
			for ; n > 0; n -= 3 {
				w := map[bool]int{true: 10, false: 4 + 3*(n-1)}[n >= 3]
				v, err := read(w)
				if err != nil {
					return "", err
				}
				fmt.Fprintf(&out, "%0*d", min(n, 3), v)
			}
		case 2: // alphanumeric: two characters in eleven bits
			for ; n > 1; n -= 2 {
				v, err := read(11)
				if err != nil {
					return "", err
				}
				out.WriteByte(alnum[v/45])
				out.WriteByte(alnum[v%45])
			}
			if n == 1 {
				v, err := read(6)
				if err != nil {
					return "", err
				}
				out.WriteByte(alnum[v])
			}
		case 4:
			for range n {
				v, err := read(8)
				if err != nil {
					return "", err
				}
				out.WriteByte(byte(v))
			}
		}
	}
	return out.String(), nil
}
