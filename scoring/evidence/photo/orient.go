package photo

import (
	"encoding/binary"
	"image"

	"golang.org/x/image/draw"
)

// orientation returns the EXIF orientation (1 to 8) of a JPEG, 1 when it
// has none or the EXIF block is malformed: a bad tag only leaves the
// picture as stored, it never refuses the photo.
func orientation(b []byte) int {
	i := 2 // after SOI
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return 1
		}
		marker := b[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0xDA || marker == 0xD9: // scan data or end: no EXIF before it
			return 1
		case marker >= 0xD0 && marker <= 0xD7 || marker == 0x01: // no length
			i += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return 1
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xE1 && len(seg) > 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation reads tag 0x0112 of IFD0 of a TIFF header.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := int(bo.Uint32(t[4:]))
	if off < 8 || off+2 > len(t) {
		return 1
	}
	count := int(bo.Uint16(t[off:]))
	for k := range count {
		e := off + 2 + 12*k
		if e+12 > len(t) {
			return 1
		}
		if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 { // SHORT
			if o := int(bo.Uint16(t[e+8:])); o >= 1 && o <= 8 {
				return o
			}
			return 1
		}
	}
	return 1
}

// orient turns img as EXIF orientation o says it is to be shown.
func orient(img image.Image, o int) image.Image {
	if o <= 1 || o > 8 {
		return img
	}
	b := img.Bounds()
	src := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 { // a quarter turn or a transposition swaps the sides
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range h {
		for x := range w {
			var X, Y int
			switch o {
			case 2: // mirrored
				X, Y = w-1-x, y
			case 3: // upside down
				X, Y = w-1-x, h-1-y
			case 4: // mirrored upside down
				X, Y = x, h-1-y
			case 5: // transposed
				X, Y = y, x
			case 6: // a quarter turn clockwise
				X, Y = h-1-y, x
			case 7: // transverse
				X, Y = h-1-y, w-1-x
			case 8: // a quarter turn anticlockwise
				X, Y = y, w-1-x
			}
			copy(dst.Pix[dst.PixOffset(X, Y):][:4], src.Pix[src.PixOffset(x, y):][:4])
		}
	}
	return dst
}
