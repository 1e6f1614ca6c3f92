// Package photo prepares a photo of evidence for storage: it checks the
// type from the bytes themselves, bounds the size and the pixel count,
// decodes and re-encodes the image (which drops EXIF and every other
// metadata block: GPS position, camera serial, thumbnails), makes a
// thumbnail for reviewers and names the result by the SHA-256 of the
// stored bytes, which is what the evidence records. It does no I/O.
package photo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/jpeg"
	"image/png"
	"time"

	"golang.org/x/image/draw"

	"github.com/sanzhi/sanzhi/fault"
)

const (
	// MaxBytes bounds an upload: a phone's photo is 2 to 8 MB.
	MaxBytes = 10 << 20
	// MaxPixels bounds the decoded image. A small file can declare a huge
	// picture (a decompression bomb); 40 megapixels is above any phone
	// camera and decodes in at most ~160 MB.
	MaxPixels = 40_000_000
	// ThumbSide is the thumbnail's longest side in pixels.
	ThumbSide = 320

	JPEG = "image/jpeg"
	PNG  = "image/png"
)

// Reasons of the refusals (fault.Violation.Reason on field "photo"), for
// transports to word.
const (
	ReasonTooLarge  = "PHOTO_TOO_LARGE"
	ReasonType      = "PHOTO_TYPE"
	ReasonCorrupt   = "PHOTO_CORRUPT"
	ReasonTooBig    = "PHOTO_TOO_MANY_PIXELS"
	ReasonEmptyFile = "PHOTO_EMPTY"
)

// Photo is a photo ready to store: the re-encoded image without metadata,
// its thumbnail (always JPEG) and its key.
type Photo struct {
	// SHA256 is the lower-case hex SHA-256 of Bytes: the photo's key and
	// the hash the evidence records.
	SHA256        string
	MediaType     string // JPEG or PNG
	Bytes         []byte
	Thumb         []byte // JPEG, longest side at most ThumbSide
	Width, Height int
	// CreateTime is when it was first stored (UTC), set by the caller.
	CreateTime time.Time
}

func refuse(reason, format string, args ...any) error {
	err := fault.InvalidField("photo", format, args...).(*fault.Error)
	err.Violations[0].Reason = reason
	return err
}

// Sniff returns the media type the bytes are, from their first bytes
// (never the file name or the Content-Type a browser sends), or "" when
// they are neither JPEG nor PNG.
func Sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return JPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return PNG
	}
	return ""
}

// Process checks b and returns the photo to store. Refusals are Invalid
// faults on field "photo" whose violation carries one of the Reason codes.
func Process(b []byte) (*Photo, error) {
	switch {
	case len(b) == 0:
		return nil, refuse(ReasonEmptyFile, "the file is empty")
	case len(b) > MaxBytes:
		return nil, refuse(ReasonTooLarge, "%d bytes is more than %d", len(b), MaxBytes)
	}
	typ := Sniff(b)
	if typ == "" {
		return nil, refuse(ReasonType, "only JPEG and PNG photos are taken")
	}
	decodeConfig, decode := jpeg.DecodeConfig, jpeg.Decode
	if typ == PNG {
		decodeConfig, decode = png.DecodeConfig, png.Decode
	}
	// The header first: refuse a bomb before allocating its pixels.
	cfg, err := decodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, refuse(ReasonCorrupt, "the image does not decode")
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, refuse(ReasonTooBig, "%d×%d pixels is more than %d", cfg.Width, cfg.Height, MaxPixels)
	}
	img, err := decode(bytes.NewReader(b))
	if err != nil {
		return nil, refuse(ReasonCorrupt, "the image does not decode")
	}
	if typ == JPEG {
		// Phones store pictures as the sensor saw them and say in EXIF
		// how to turn them; the re-encoded photo has no EXIF, so the
		// turn is applied to the pixels.
		img = orient(img, orientation(b))
	}
	var out bytes.Buffer
	if typ == JPEG {
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: 90})
	} else {
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, img)
	}
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "PHOTO_ENCODE", "re-encoding the photo")
	}
	thumb, err := thumbnail(img)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(out.Bytes())
	bnd := img.Bounds()
	return &Photo{SHA256: hex.EncodeToString(sum[:]), MediaType: typ, Bytes: out.Bytes(), Thumb: thumb,
		Width: bnd.Dx(), Height: bnd.Dy()}, nil
}

// thumbnail scales img so its longest side is at most ThumbSide (never
// up) onto white, since a JPEG has no transparency.
func thumbnail(img image.Image) ([]byte, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if longest := max(w, h); longest > ThumbSide {
		w, h = max(1, w*ThumbSide/longest), max(1, h*ThumbSide/longest)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Over, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 80}); err != nil {
		return nil, fault.Wrap(err, fault.Internal, "PHOTO_ENCODE", "encoding the thumbnail")
	}
	return out.Bytes(), nil
}
