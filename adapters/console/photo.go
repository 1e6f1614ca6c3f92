package console

import (
	"bytes"
	"errors"
	"maps"
	"net/http"
	"regexp"
	"strings"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/evidence/photo"
)

// uploadLimit bounds the body of the evidence form: the photo and the
// form's few fields. A photo between photo.MaxBytes and this is refused
// next to its field; a body over it before the form is read.
const uploadLimit = photo.MaxBytes + 1<<20

// photoSays words photo.Process's refusals.
var photoSays = map[string]string{
	photo.ReasonTooLarge:  "photo.too_large",
	photo.ReasonType:      "photo.type",
	photo.ReasonCorrupt:   "photo.corrupt",
	photo.ReasonTooBig:    "photo.too_many_pixels",
	photo.ReasonEmptyFile: "photo.empty",
}

// photoRefused puts a refused photo's reason next to the photo field.
func (f *form) photoRefused(l lang, err error) bool {
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != fault.Invalid {
		return false
	}
	for _, v := range fe.Violations {
		if key, ok := photoSays[v.Reason]; ok && v.Field == "photo" {
			f.get("photo").Error = text(l, key)
			return true
		}
	}
	return false
}

// attachmentsSay returns where and how the evidence service's
// "attachments" violation is said: a missing photo at the photo field; a
// missing document (which the console cannot take) at the item.
func attachmentsSay(err error) (fields, says map[string]string) {
	var fe *fault.Error
	if errors.As(err, &fe) {
		for _, v := range fe.Violations {
			if v.Field == "attachments" && strings.Contains(v.Description, "document") {
				fields, says = maps.Clone(evidenceFieldOf), maps.Clone(evidenceSays)
				fields["attachments"], says["attachments"] = "item", "clerk.ev_needs_upload"
				return fields, says
			}
		}
	}
	return evidenceFieldOf, evidenceSays
}

// photoRoutes registers the photo of evidence, full size or (?size=thumb)
// its thumbnail.
func (c *Console) photoRoutes() {
	c.page("GET "+Prefix+"villages/{village}/households/{household}/evidence/{evidence}/photos/{sha}", false, c.evidencePhoto)
}

// storedPhotos returns which photos of the entries are stored here.
func (c *Console) storedPhotos(q *request, ns []app.Notice) (map[string]bool, error) {
	evs := make([]*evidence.Evidence, len(ns))
	for i := range ns {
		evs[i] = ns[i].Evidence
	}
	return c.app.StoredPhotos(q.r.Context(), evs...)
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// evidencePhoto serves a photo to whoever may read the evidence that
// records it (its village's staff, the household itself): the same grant
// as the evidence, and the photo is found only through that evidence.
func (c *Console) evidencePhoto(q *request) error {
	village, hh := q.r.PathValue("village"), q.r.PathValue("household")
	if err := q.authorise(access.EvidenceRead, access.Target{Village: village, Household: hh}); err != nil {
		return err
	}
	sha := q.r.PathValue("sha")
	if !sha256Hex.MatchString(sha) {
		return fault.New(fault.NotFound, "PHOTO_NOT_FOUND", "no photo %q", sha)
	}
	full := q.r.URL.Query().Get("size") != "thumb"
	name := resource.Household(village, hh) + "/evidence/" + q.r.PathValue("evidence")
	p, err := c.app.EvidencePhoto(q.r.Context(), name, sha, full)
	if err != nil {
		return err
	}
	body, typ, tag := p.Thumb, photo.JPEG, `"`+sha+`-thumb"`
	if full {
		body, typ, tag = p.Bytes, p.MediaType, `"`+sha+`"`
	}
	h := q.w.Header()
	h.Set("Content-Type", typ)
	h.Set("X-Content-Type-Options", "nosniff")
	// Kept by this browser only, and not for long: a phone may be shared
	// after its owner signs out. The content never changes (its name is
	// its hash), so a revalidation is a 304.
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("ETag", tag)
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(q.w, q.r, "", p.CreateTime, bytes.NewReader(body))
	return nil
}

func init() { addMessages(photoMessages) }

// photoMessages are the evidence photo's texts, merged into messages.
var photoMessages = map[string][2]string{
	"photo.label":             {"照片", "Photo"},
	"photo.hint":              {"拍照或选一张JPG、PNG照片，不超过10MB。保存前会去掉照片里的拍摄地点、相机型号等信息。", "Take a photo or choose a JPEG or PNG, at most 10 MB. Where and with what it was taken is removed before it is kept."},
	"photo.choose_again":      {"其他几项需要修改：改好后请重新选择照片再提交。", "Some answers need changing: choose the photo again when you submit."},
	"photo.needed":            {"这个事项需要一张照片，请在这里拍照或选择照片。", "This item needs a photo: take or choose one here."},
	"photo.too_large":         {"照片太大了，不能超过10MB。请换一张或缩小后再传。", "The photo is too large: at most 10 MB. Choose another or make it smaller."},
	"photo.type":              {"只能上传JPG或PNG格式的照片。", "Only JPEG or PNG photos can be uploaded."},
	"photo.corrupt":           {"这张照片打不开（文件损坏或不完整），请重新拍一张再传。", "This photo cannot be opened (the file is damaged or incomplete); take it again and upload it."},
	"photo.too_many_pixels":   {"照片像素太多（超过4000万），请缩小后再传。", "The photo has too many pixels (over 40 megapixels); make it smaller."},
	"photo.empty":             {"选的文件是空的，请重新选择照片。", "The chosen file is empty; choose the photo again."},
	"photo.unreadable_form":   {"表单没有完整收到，什么都没有保存。请返回重新提交。", "The form did not arrive whole; nothing was saved. Go back and send it again."},
	"photo.request_too_large": {"上传的内容太大（照片不能超过10MB），什么都没有保存。请返回，换一张小一些的照片再提交。", "What was sent is too large (a photo is at most 10 MB); nothing was saved. Go back and choose a smaller photo."},
	"photo.view":              {"查看原图", "Open the full photo"},
	"photo.thumb_alt":         {"证据照片（缩略图）", "Evidence photo (thumbnail)"},
}

// evidenceRefused answers an evidence form whose body could not be read:
// over uploadLimit (a photo far over its 10 MB), or a broken upload.
// Nothing of the form was read, so the page cannot show the fields again;
// it says why and that nothing was saved.
func (c *Console) evidenceRefused(q *request, err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		c.render(q, http.StatusRequestEntityTooLarge, "error", errorPage{Message: text(q.lang, "photo.request_too_large")})
		return nil
	}
	c.render(q, http.StatusBadRequest, "error", errorPage{Message: text(q.lang, "photo.unreadable_form")})
	return nil
}
