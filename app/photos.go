package app

import (
	"context"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/evidence/photo"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// SubmitWithPhoto records evidence as Evidence.Submit does, with an
// uploaded photo unless upload is nil (an empty upload is refused): the photo is checked and
// stripped (photo.Process), its SHA-256 is recorded among the evidence's
// attachments, and it is stored in the transaction that stores the
// evidence. A refused photo (an Invalid fault on field "photo") or
// refused evidence writes nothing; a repeated request id with the same
// photo returns the first result, as Submit does.
func (a *App) SubmitWithPhoto(ctx context.Context, p *access.Principal, in evidence.SubmitInput, upload []byte) (*evidence.Evidence, error) {
	if upload == nil {
		return a.Evidence.Submit(ctx, p, in)
	}
	ph, err := photo.Process(upload)
	if err != nil {
		return nil, err
	}
	ph.CreateTime = a.now().UTC()
	in.Attachments = append(in.Attachments[:len(in.Attachments):len(in.Attachments)],
		evidence.Attachment{Kind: "photo", SHA256: ph.SHA256})
	// A service of one call, over the evidence port with this photo: its
	// rules are Submit's own, only the unit of work grows by one row.
	svc := evidence.NewService(photoEvidence{Store: a.evidenceStore, photos: []*photo.Photo{ph}}, a.Catalogues, a.now)
	return svc.Submit(ctx, p, in)
}

// EvidencePhoto returns photo sha of the named evidence (only its
// thumbnail unless full). NotFound unless that evidence records that
// photo: a photo is read through the evidence it belongs to, so whoever
// may read the evidence may see it and no one else. The caller has
// authorised reading the evidence.
func (a *App) EvidencePhoto(ctx context.Context, name, sha string, full bool) (*photo.Photo, error) {
	e, err := a.Evidence.Get(ctx, name)
	if fault.Is(err, fault.Invalid) {
		return nil, fault.New(fault.NotFound, "EVIDENCE_NOT_FOUND", "no evidence %q", name)
	}
	if err != nil {
		return nil, err
	}
	for _, at := range e.Attachments {
		if at.Kind == "photo" && at.SHA256 == sha {
			return a.Store.Photos().Get(ctx, sha, full)
		}
	}
	return nil, fault.New(fault.NotFound, "PHOTO_NOT_FOUND", "%s records no photo %s", name, sha)
}

// StoredPhotos returns which photos of evs are stored here (evidence
// recorded through the API may name photos the village keeps itself), so
// that pages show thumbnails only of those.
func (a *App) StoredPhotos(ctx context.Context, evs ...*evidence.Evidence) (map[string]bool, error) {
	var shas []string
	for _, e := range evs {
		for _, at := range e.Attachments {
			if at.Kind == "photo" {
				shas = append(shas, at.SHA256)
			}
		}
	}
	return a.Store.Photos().Stored(ctx, shas)
}

// photoEvidence is an evidence port whose write transactions store the
// given photos with the evidence that records them: a photo is put when,
// and in the transaction where, evidence naming its SHA-256 is inserted,
// so a refused submission leaves no photo behind.
type photoEvidence struct {
	evidence.Store
	photos []*photo.Photo
}

func (s photoEvidence) Write(ctx context.Context, fn func(evidence.Writer) error) error {
	return s.Store.Write(ctx, s.withPhotos(fn))
}

// WriteGuarded stores the photos too: every write transaction of the
// port must, or the embedded store's would run without them.
func (s photoEvidence) WriteGuarded(ctx context.Context, fn func(evidence.Writer) error) error {
	return s.Store.WriteGuarded(ctx, s.withPhotos(fn))
}

func (s photoEvidence) withPhotos(fn func(evidence.Writer) error) func(evidence.Writer) error {
	return func(w evidence.Writer) error {
		pw, ok := w.(photo.Writer)
		if !ok {
			return fault.New(fault.Internal, "NO_PHOTO_WRITER", "the evidence store cannot store photos")
		}
		return fn(photoWriter{Writer: w, put: pw, photos: s.photos})
	}
}

type photoWriter struct {
	evidence.Writer
	put    photo.Writer
	photos []*photo.Photo
}

func (w photoWriter) InsertEvidence(ctx context.Context, e *evidence.Evidence) error {
	if err := w.Writer.InsertEvidence(ctx, e); err != nil {
		return err
	}
	return w.putFor(ctx, e)
}

func (w photoWriter) SendEvidence(ctx context.Context, e *evidence.Evidence, registered household.Date) error {
	if err := w.Writer.SendEvidence(ctx, e, registered); err != nil {
		return err
	}
	return w.putFor(ctx, e)
}

func (w photoWriter) InsertEvidences(ctx context.Context, es []*evidence.Evidence) (map[string]bool, error) {
	stored, err := w.Writer.InsertEvidences(ctx, es)
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if stored[e.ID] {
			if err := w.putFor(ctx, e); err != nil {
				return nil, err
			}
		}
	}
	return stored, nil
}

// putFor stores the photos e records.
func (w photoWriter) putFor(ctx context.Context, e *evidence.Evidence) error {
	for _, at := range e.Attachments {
		for _, p := range w.photos {
			if at.Kind == "photo" && at.SHA256 == p.SHA256 {
				if err := w.put.PutPhoto(ctx, p); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
