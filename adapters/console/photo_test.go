package console_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"html"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/evidence/photo"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// exifSecret stands for what a phone's EXIF gives away.
const exifSecret = "GPS 30.6210N 120.5510E Xiaomi SN 4471"

// testJPEG is a w×h JPEG carrying an EXIF APP1 segment with exifSecret.
func testJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(40 + x*150/w), uint8(120 + y*100/h), 60, 255})
		}
	}
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}))
	// TIFF header (big-endian), an empty IFD0, then the secret.
	seg := append([]byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00"), exifSecret...)
	app1 := binary.BigEndian.AppendUint16([]byte{0xFF, 0xE1}, uint16(len(seg)+2))
	out := append([]byte{0xFF, 0xD8}, append(app1, seg...)...)
	return append(out, b.Bytes()[2:]...)
}

// postFile submits fields and, unless file is nil, file as "photo" in a
// multipart body, as a browser does.
func (c *client) postFile(path string, fields url.Values, filename, contentType string, file []byte) (int, string, string) {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			require.NoError(c.t, mw.WriteField(k, v))
		}
	}
	if file != nil {
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{`form-data; name="photo"; filename="` + filename + `"`}
		h["Content-Type"] = []string{contentType}
		part, err := mw.CreatePart(h)
		require.NoError(c.t, err)
		_, err = part.Write(file)
		require.NoError(c.t, err)
	}
	require.NoError(c.t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, c.e.srv.URL+path, &body)
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.hc.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// photoRow reads the stored photo named sha, nil when there is none.
func photoRow(t *testing.T, e *env, sha string) *photo.Photo {
	t.Helper()
	p, err := e.st.Photos().Get(context.Background(), sha, true)
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	require.NoError(t, err)
	return p
}

func shaOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// photoEvidence records evidence with a photo through the console as
// clerk c and returns it.
func photoEvidence(t *testing.T, e *env, c *client, h *household.Household, jpg []byte) *evidence.Evidence {
	t.Helper()
	tok, req := formToken(t, c, "/console/villages/"+villageA+"/evidence/new?household="+h.ID)
	form := goodEvidence(h)
	form.Set("csrf", tok)
	form.Set("request_id", req)
	status, _, body := c.postFile("/console/villages/"+villageA+"/evidence", form, "IMG_2041.jpg", "image/jpeg", jpg)
	require.Equal(t, http.StatusSeeOther, status, body)
	got := evidenceOf(t, e, h)
	require.Len(t, got, 1)
	return got[0]
}

func photoPath(e *evidence.Evidence) string {
	return "/console/villages/" + e.Village + "/households/" + e.Household + "/evidence/" + e.ID + "/photos/" + e.Attachments[0].SHA256
}

func TestEvidencePhoto(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		clerk := e.client(t)
		clerk.signIn("clerk-a")
		t.Run("Refusals", func(t *testing.T) { testPhotoRefusals(t, e, clerk) })
		t.Run("Record", func(t *testing.T) { testPhotoRecord(t, e, clerk) })
		t.Run("BadPhotos", func(t *testing.T) { testBadPhotos(t, e, clerk) })
	})
}

// testPhotoRefusals: the attacker's side first. A clerk of another village
// and a household reaching for another household's photo are refused;
// a photo is reachable only through the evidence that records it.
func testPhotoRefusals(t *testing.T, e *env, clerk *client) {
	ctx := context.Background()
	h, _ := registered(t, e, "蒋秀英", 5, "南阳村5组8号")
	ev := photoEvidence(t, e, clerk, h, testJPEG(t, 400, 300))
	require.Len(t, ev.Attachments, 1)
	path := photoPath(ev)

	// Another village's clerk: refused for village A, and not found when
	// it names its own village with A's household.
	b := e.client(t)
	b.signIn("clerk-b")
	status, _, body := b.get(path)
	assert.Equal(t, http.StatusForbidden, status)
	assert.NotContains(t, body, "JFIF")
	status, _, _ = b.get(strings.Replace(path, villageA, villageB, 1))
	assert.Equal(t, http.StatusNotFound, status)

	// Another household (the env's, with its own code): refused.
	other := e.client(t)
	other.signInCode(e.code)
	status, _, _ = other.get(path)
	assert.Equal(t, http.StatusForbidden, status)
	status, _, _ = other.get(path + "?size=thumb")
	assert.Equal(t, http.StatusForbidden, status)

	// Nobody signed in: to the sign-in page, no photo.
	anon := e.client(t)
	status, loc, _ := anon.get(path)
	assert.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, "/console/signin", loc)

	// The photo's hash under other evidence of the same household, or a
	// hash the evidence does not record: not found.
	plain, err := e.app.Evidence.Submit(ctx, e.staff["clerk-a"], evidence.SubmitInput{Parent: h.Name(), Kind: evidence.Points,
		ItemCode: "ZZ-MS-01", Quantity: 1, OccurredOn: string(household.Today(ev.SubmitTime)), Witness: "村民小组长 王伟",
		RequestID: "plain-" + ev.ID})
	require.NoError(t, err)
	status, _, _ = clerk.get(strings.Replace(path, ev.ID, plain.ID, 1))
	assert.Equal(t, http.StatusNotFound, status)
	status, _, _ = clerk.get(path[:len(path)-64] + shaOf([]byte("another")))
	assert.Equal(t, http.StatusNotFound, status)
	status, _, _ = clerk.get(path[:len(path)-64] + "not-a-hash")
	assert.Equal(t, http.StatusNotFound, status)

	// The household itself sees its own photo.
	code, _, err := e.app.SignIn.IssueCode(ctx, e.staff["clerk-a"], villageA, h.ID)
	require.NoError(t, err)
	own := e.client(t)
	own.signInCode(code)
	status, _, body = own.get(path)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, ev.Attachments[0].SHA256, shaOf([]byte(body)))
}

// testPhotoRecord: a photo is stored stripped, named by its hash,
// recorded on the evidence, served with its type, and shown to reviewers.
func testPhotoRecord(t *testing.T, e *env, clerk *client) {
	h, _ := registered(t, e, "王桂芳", 2, "南阳村2组11号")
	jpg := testJPEG(t, 1200, 900)
	require.Contains(t, string(jpg), exifSecret)

	// An item that needs a photo: refused without one, at the photo field.
	tok, req := formToken(t, clerk, "/console/villages/"+villageA+"/evidence/new?household="+h.ID)
	form := goodEvidence(h)
	form.Set("csrf", tok)
	form.Set("request_id", req)
	form.Set("item", "NY-ML-02")
	status, _, body := clerk.postFile("/console/villages/"+villageA+"/evidence", form, "", "", nil)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, `id="photo-error"`)
	assert.Contains(t, html.UnescapeString(body), "需要一张照片")
	assert.Contains(t, body, `enctype="multipart/form-data"`)
	assert.Contains(t, body, `accept="image/jpeg,image/png" capture="environment"`)

	// With one: recorded, the photo's hash among the attachments.
	status, loc, body := clerk.postFile("/console/villages/"+villageA+"/evidence", form, "IMG_2041.JPG", "image/jpeg", jpg)
	require.Equal(t, http.StatusSeeOther, status, body)
	assert.Equal(t, hhPath(h)+"?done=recorded", loc)
	// A double submit is one record and one photo.
	status, _, _ = clerk.postFile("/console/villages/"+villageA+"/evidence", form, "IMG_2041.JPG", "image/jpeg", jpg)
	require.Equal(t, http.StatusSeeOther, status)
	got := evidenceOf(t, e, h)
	require.Len(t, got, 1)
	require.Len(t, got[0].Attachments, 1)
	at := got[0].Attachments[0]
	assert.Equal(t, "photo", at.Kind)
	p := photoRow(t, e, at.SHA256)
	require.NotNil(t, p)
	assert.Equal(t, at.SHA256, shaOf(p.Bytes), "named by the stored bytes")
	assert.NotContains(t, string(p.Bytes), exifSecret, "EXIF stripped")
	assert.Equal(t, [2]int{1200, 900}, [2]int{p.Width, p.Height})

	// Served: the photo and its thumbnail, typed, not sniffed, private.
	resp, err := clerk.hc.Get(e.srv.URL + photoPath(got[0]))
	require.NoError(t, err)
	full, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "image/jpeg", resp.Header.Get("Content-Type"))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Contains(t, resp.Header.Get("Cache-Control"), "private")
	assert.Equal(t, p.Bytes, full)
	resp, err = clerk.hc.Get(e.srv.URL + photoPath(got[0]) + "?size=thumb")
	require.NoError(t, err)
	thumb, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, "image/jpeg", resp.Header.Get("Content-Type"))
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(thumb))
	require.NoError(t, err)
	assert.Equal(t, [2]int{photo.ThumbSide, 240}, [2]int{cfg.Width, cfg.Height})

	// Evidence recorded through the API may name a photo the village
	// keeps itself: no thumbnail for it (there is none to show).
	apiSHA := strings.Repeat("cd", 32)
	_, err = e.app.Evidence.Submit(context.Background(), e.staff["clerk-a"], evidence.SubmitInput{Parent: h.Name(),
		Kind: evidence.Points, ItemCode: "NY-ML-02", Quantity: 1, OccurredOn: form.Get("occurred_on"),
		Attachments: []evidence.Attachment{{Kind: "photo", SHA256: apiSHA}}, RequestID: "api-" + got[0].ID})
	require.NoError(t, err)

	// The reviewer sees the thumbnail, linked to the photo.
	rev := e.client(t)
	rev.signIn("reviewer-a")
	status, _, body = rev.get("/console/villages/" + villageA + "/review")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `<a href="`+photoPath(got[0])+`"><img src="`+photoPath(got[0])+`?size=thumb"`)
	assert.Contains(t, body, "已附1份")
	assert.NotContains(t, body, "/photos/"+apiSHA)
	status, _, _ = rev.get(photoPath(got[0]) + "?size=thumb")
	assert.Equal(t, http.StatusOK, status)
}

// testBadPhotos: each bad upload is said next to the photo field and
// writes nothing: no evidence, no photo.
func testBadPhotos(t *testing.T, e *env, clerk *client) {
	h, _ := registered(t, e, "赵丽娟", 6, "南阳村6组3号")
	good := testJPEG(t, 300, 200)
	var g bytes.Buffer
	require.NoError(t, gif.Encode(&g, image.NewRGBA(image.Rect(0, 0, 8, 8)), nil))
	oversize := append(append([]byte{}, good...), make([]byte, photo.MaxBytes+1024-len(good))...)
	// A PNG that declares 10000×10000 pixels (a decompression bomb).
	var bomb bytes.Buffer
	require.NoError(t, png.Encode(&bomb, image.NewRGBA(image.Rect(0, 0, 8, 8))))
	bb := bomb.Bytes()
	binary.BigEndian.PutUint32(bb[16:], 10000)
	binary.BigEndian.PutUint32(bb[20:], 10000)
	binary.BigEndian.PutUint32(bb[29:], crc32.ChecksumIEEE(bb[12:29]))

	tok, _ := formToken(t, clerk, "/console/villages/"+villageA+"/evidence/new?household="+h.ID)
	for _, tc := range []struct {
		name, filename, ctype string
		file                  []byte
		want                  string
	}{
		{"gif", "a.gif", "image/gif", g.Bytes(), "只能上传JPG或PNG"},
		{"gif named .jpg", "a.jpg", "image/jpeg", g.Bytes(), "只能上传JPG或PNG"},
		{"text named .jpg", "a.jpg", "image/jpeg", []byte("<html><script>alert(1)</script>"), "只能上传JPG或PNG"},
		{"truncated jpeg", "a.jpg", "image/jpeg", good[:len(good)/2], "打不开"},
		{"empty", "a.jpg", "image/jpeg", []byte{}, "文件是空的"},
		{"over 10 MB", "big.jpg", "image/jpeg", oversize, "不能超过10MB"},
		{"bomb", "bomb.png", "image/png", bb, "像素太多"},
	} {
		form := goodEvidence(h)
		form.Set("csrf", tok)
		status, _, body := clerk.postFile("/console/villages/"+villageA+"/evidence", form, tc.filename, tc.ctype, tc.file)
		assert.Equal(t, http.StatusBadRequest, status, tc.name)
		assert.Contains(t, body, `id="photo-error"`, tc.name)
		assert.Contains(t, body, `aria-describedby="photo-error"`, tc.name)
		assert.Contains(t, html.UnescapeString(body), tc.want, tc.name)
		assert.Nil(t, photoRow(t, e, shaOf(tc.file)), tc.name)
	}
	// In English too.
	clerk.get("/console/?lang=en")
	form := goodEvidence(h)
	form.Set("csrf", tok)
	status, _, body := clerk.postFile("/console/villages/"+villageA+"/evidence", form, "a.gif", "image/gif", g.Bytes())
	clerk.get("/console/?lang=zh")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "Only JPEG or PNG photos can be uploaded.")

	// A good photo with a bad answer elsewhere: no evidence and no photo;
	// the page asks for the photo again (a browser does not keep it).
	form = goodEvidence(h)
	form.Set("csrf", tok)
	form.Set("quantity", "0")
	status, _, body = clerk.postFile("/console/villages/"+villageA+"/evidence", form, "a.jpg", "image/jpeg", good)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, `id="quantity-error"`)
	assert.Contains(t, html.UnescapeString(body), "重新选择照片")
	stripped, err := photo.Process(good)
	require.NoError(t, err)
	assert.Nil(t, photoRow(t, e, stripped.SHA256), "no photo without its evidence")

	// A body over the limit is refused before the form is read.
	huge := make([]byte, 12<<20)
	copy(huge, good)
	status, _, body = clerk.postFile("/console/villages/"+villageA+"/evidence", form, "huge.jpg", "image/jpeg", huge)
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)
	assert.Contains(t, html.UnescapeString(body), "什么都没有保存")

	// A multipart form without its token: refused, nothing written.
	form = goodEvidence(h)
	status, _, body = clerk.postFile("/console/villages/"+villageA+"/evidence", form, "a.jpg", "image/jpeg", good)
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, html.UnescapeString(body), "页面已过期")
	assert.Nil(t, photoRow(t, e, stripped.SHA256))

	assert.Empty(t, evidenceOf(t, e, h), "nothing recorded")
}
