package photo

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
)

// picture is a w×h gradient, so that encoders have something to encode.
func picture(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 90, 255})
		}
	}
	return img
}

func jpegOf(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}))
	return b.Bytes()
}

func pngOf(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// secret stands for what EXIF gives away: where and with what a photo
// was taken.
const secret = "GPS 30.6210N 120.5510E camera SN 4471-0815"

// withExif puts an APP1 EXIF segment after the JPEG's SOI: a little-endian
// TIFF header whose IFD0 holds the orientation and an ASCII tag with the
// secret.
func withExif(jpg []byte, orientation uint16) []byte {
	le := binary.LittleEndian
	var t []byte
	t = append(t, 'I', 'I', 42, 0, 8, 0, 0, 0) // header, IFD0 at 8
	t = le.AppendUint16(t, 2)                  // two entries
	t = le.AppendUint16(t, 0x0112)             // Orientation
	t = le.AppendUint16(t, 3)                  // SHORT
	t = le.AppendUint32(t, 1)
	t = le.AppendUint16(t, orientation)
	t = le.AppendUint16(t, 0)
	t = le.AppendUint16(t, 0x010F) // Make, ASCII, stored after the IFD
	t = le.AppendUint16(t, 2)
	t = le.AppendUint32(t, uint32(len(secret)+1))
	t = le.AppendUint32(t, uint32(8+2+2*12+4))
	t = le.AppendUint32(t, 0) // no next IFD
	t = append(t, secret...)
	t = append(t, 0)
	seg := append([]byte("Exif\x00\x00"), t...)
	app1 := []byte{0xFF, 0xE1}
	app1 = binary.BigEndian.AppendUint16(app1, uint16(len(seg)+2))
	app1 = append(app1, seg...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, app1...)
	return append(out, jpg[2:]...)
}

// withText puts a tEXt chunk with the secret after a PNG's IHDR.
func withText(p []byte) []byte {
	data := append([]byte("Comment\x00"), secret...)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	body := append([]byte("tEXt"), data...)
	chunk = append(chunk, body...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(body))
	const ihdrEnd = 8 + 4 + 4 + 13 + 4
	out := append([]byte{}, p[:ihdrEnd]...)
	out = append(out, chunk...)
	return append(out, p[ihdrEnd:]...)
}

func reasonOf(t *testing.T, err error) string {
	t.Helper()
	var fe *fault.Error
	require.True(t, errors.As(err, &fe), "a fault: %v", err)
	require.Equal(t, fault.Invalid, fe.Kind)
	require.Len(t, fe.Violations, 1)
	assert.Equal(t, "photo", fe.Violations[0].Field)
	return fe.Violations[0].Reason
}

func TestJPEGLosesItsExifAndIsTurned(t *testing.T) {
	in := withExif(jpegOf(t, picture(800, 600)), 6)
	require.Contains(t, string(in), secret, "the test photo carries the secret")
	require.Equal(t, 6, orientation(in))

	p, err := Process(in)
	require.NoError(t, err)
	assert.Equal(t, JPEG, p.MediaType)
	assert.NotContains(t, string(p.Bytes), secret)
	assert.NotContains(t, string(p.Bytes), "Exif")
	for i := 0; i+1 < len(p.Bytes); i++ {
		if p.Bytes[i] == 0xFF && p.Bytes[i+1] == 0xDA {
			break // scan data: no more markers before it to check
		}
		assert.False(t, p.Bytes[i] == 0xFF && p.Bytes[i+1] == 0xE1, "an APP1 segment at %d", i)
	}
	// A quarter turn: the stored photo is portrait.
	assert.Equal(t, 600, p.Width)
	assert.Equal(t, 800, p.Height)
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(p.Bytes))
	require.NoError(t, err)
	assert.Equal(t, 600, cfg.Width)

	sum := sha256.Sum256(p.Bytes)
	assert.Equal(t, hex.EncodeToString(sum[:]), p.SHA256, "named by the stored bytes")
	th, err := jpeg.DecodeConfig(bytes.NewReader(p.Thumb))
	require.NoError(t, err)
	assert.Equal(t, 240, th.Width)
	assert.Equal(t, ThumbSide, th.Height)

	again, err := Process(in)
	require.NoError(t, err)
	assert.Equal(t, p.SHA256, again.SHA256, "the same upload is the same photo")
}

func TestPNGLosesItsTextAndKeepsItsType(t *testing.T) {
	in := withText(pngOf(t, picture(200, 100)))
	_, err := png.Decode(bytes.NewReader(in))
	require.NoError(t, err, "the test photo is a valid PNG")
	require.Contains(t, string(in), secret)

	p, err := Process(in)
	require.NoError(t, err)
	assert.Equal(t, PNG, p.MediaType)
	assert.NotContains(t, string(p.Bytes), secret)
	assert.Equal(t, 200, p.Width)
	assert.Equal(t, 100, p.Height)
	th, err := jpeg.DecodeConfig(bytes.NewReader(p.Thumb))
	require.NoError(t, err)
	assert.Equal(t, 200, th.Width, "a small photo is not enlarged")
}

func TestRefusals(t *testing.T) {
	var g bytes.Buffer
	require.NoError(t, gif.Encode(&g, picture(20, 20), nil))
	jpg := jpegOf(t, picture(300, 200))
	oversize := append([]byte{}, jpg...)
	oversize = append(oversize, make([]byte, MaxBytes+1-len(jpg))...)

	// A PNG whose header claims 10000×10000 pixels: refused from the
	// header, before anything that size is allocated.
	bomb := pngOf(t, picture(10, 10))
	binary.BigEndian.PutUint32(bomb[16:], 10000)
	binary.BigEndian.PutUint32(bomb[20:], 10000)
	binary.BigEndian.PutUint32(bomb[29:], crc32.ChecksumIEEE(bomb[12:29]))

	for name, tc := range map[string]struct {
		in     []byte
		reason string
	}{
		"empty":              {nil, ReasonEmptyFile},
		"gif":                {g.Bytes(), ReasonType},
		"text named .jpg":    {[]byte("not a photo at all"), ReasonType},
		"truncated jpeg":     {jpg[:len(jpg)/2], ReasonCorrupt},
		"jpeg header only":   {jpg[:20], ReasonCorrupt},
		"truncated png":      {pngOf(t, picture(50, 50))[:60], ReasonCorrupt},
		"over 10 MB":         {oversize, ReasonTooLarge},
		"decompression bomb": {bomb, ReasonTooBig},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := Process(tc.in)
			assert.Nil(t, p)
			assert.Equal(t, tc.reason, reasonOf(t, err))
		})
	}
}

func TestOrientMovesPixels(t *testing.T) {
	// A 2×1 picture: red on the left, blue on the right.
	img := image.NewRGBA(image.Rect(0, 0, 2, 1))
	red, blue := color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}
	img.Set(0, 0, red)
	img.Set(1, 0, blue)
	at := func(m image.Image, x, y int) color.RGBA { return color.RGBAModel.Convert(m.At(x, y)).(color.RGBA) }

	cw := orient(img, 6) // a quarter turn clockwise: red on top
	assert.Equal(t, image.Rect(0, 0, 1, 2), cw.Bounds())
	assert.Equal(t, red, at(cw, 0, 0))
	assert.Equal(t, blue, at(cw, 0, 1))
	ccw := orient(img, 8) // anticlockwise: blue on top
	assert.Equal(t, blue, at(ccw, 0, 0))
	assert.Equal(t, red, at(ccw, 0, 1))
	mirrored := orient(img, 2)
	assert.Equal(t, blue, at(mirrored, 0, 0))
	assert.Same(t, img, orient(img, 1))

	assert.Equal(t, 1, orientation(jpegOf(t, picture(8, 8))), "no EXIF")
	assert.Equal(t, 1, orientation(withExif(jpegOf(t, picture(8, 8)), 42)), "out of range")
}
