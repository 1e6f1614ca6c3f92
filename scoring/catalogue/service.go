package catalogue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/docver"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// Service uploads, activates and reads catalogue versions. Its methods
// check input and business rules (maker-checker included); who may call
// them for which county or village has already been enforced by the
// caller (the RPC authorisation table, or the CLI applying the same
// table).
type Service struct {
	store Store
	now   func() time.Time
	// cache holds parsed county documents and resolved catalogues by
	// version; versions are immutable, so entries never go stale.
	cache sync.Map
	// effective holds Effective's recent answers by village.
	effective sync.Map
}

// NewService returns a Service. now is the clock (time.Now in production).
func NewService(store Store, now func() time.Time) *Service {
	return &Service{store: store, now: now}
}

// clock returns now in UTC at the microsecond precision both stores keep.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Upload validates doc strictly and stores it as a draft version of the
// county or village named by parent, which must be the one the document
// declares. A village document is resolved against the county version it
// inherits, which must be stored already (in any state).
//
// Versions are immutable: uploading a version number again with
// byte-identical text returns the stored version (and writes nothing);
// with any other text it is AlreadyExists.
func (s *Service) Upload(ctx context.Context, p *access.Principal, parent string, doc []byte) (*Version, error) {
	now := s.clock()
	owner, err := ParseParent(parent, "parent")
	if err != nil {
		return nil, err
	}
	sum, err := Check(doc, nil)
	if err != nil {
		return nil, InvalidDocument(err)
	}
	if sum.Owner() != owner {
		return nil, fault.InvalidField("parent", "the document is the %s catalogue of %s; upload it to %s",
			sum.Kind, sum.Owner().Code, sum.Owner().Name())
	}
	var out *Version
	err = s.store.Write(ctx, func(tx Writer) error {
		prev, err := tx.CatalogueVersion(ctx, owner, sum.Version)
		switch {
		case err == nil:
			if err := lifecycle.Reupload(prev.Name(), prev.Version, prev.Document, string(doc)); err != nil {
				return err
			}
			out = prev
			return nil
		case !fault.Is(err, fault.NotFound):
			return err
		}
		v := &Version{
			Kind: sum.Kind, County: sum.County, Village: sum.Village, Version: sum.Version,
			Document: string(doc), State: Draft, UploadedBy: p.ID, UploadTime: now,
		}
		if sum.Kind == County {
			v.ContentHash, v.ItemCount = sum.ContentHash, sum.ItemCount
		} else {
			base, err := s.base(ctx, tx, sum.County, sum.BaseVersion, "upload")
			if err != nil {
				return err
			}
			resolved, err := Check(doc, base)
			if err != nil {
				return InvalidDocument(err)
			}
			v.BaseVersion = sum.BaseVersion
			v.ContentHash, v.ItemCount = resolved.ContentHash, resolved.ItemCount
		}
		if err := tx.InsertCatalogueVersion(ctx, v); err != nil {
			return err
		}
		out = v
		return tx.Record(ctx, auditRecord(p, "catalogue.upload", v, DocumentHash(doc), nil))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// base reads and parses county version n of county, which a village
// document inherits; missing is FailedPrecondition.
func (s *Service) base(ctx context.Context, tx Reader, county string, n int, doing string) (*points.County, error) {
	stored, err := tx.CatalogueVersion(ctx, Owner{Kind: County, Code: county}, n)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.New(fault.FailedPrecondition, "BASE_CATALOGUE_MISSING",
			"the document inherits counties/%s/catalogues/%d, which is not stored: upload the county version before you %s the village's",
			county, n, doing)
	}
	if err != nil {
		return nil, err
	}
	c, err := points.ParseCounty([]byte(stored.Document))
	if err != nil {
		return nil, fault.Wrap(err, fault.FailedPrecondition, "BASE_CATALOGUE_UNREADABLE",
			"%s no longer passes validation; upload a corrected county version", stored.Name())
	}
	return c, nil
}

// Activate makes the named draft the active version of its county or
// village; the active version it replaces becomes superseded.
//
// Rules: the activator must not be the uploader (maker-checker); only a
// draft can be activated, and only if it is newer than the active version;
// a village version needs its county base version to have been activated
// (active or superseded), so that a village never uses county content no
// second person has approved. Activating the active version again returns
// it and writes nothing.
func (s *Service) Activate(ctx context.Context, p *access.Principal, name string) (*Version, error) {
	now := s.clock()
	owner, n, err := ParseName(name, "name", false)
	if err != nil {
		return nil, err
	}
	var out *Version
	err = s.store.Write(ctx, func(tx Writer) error {
		v, err := tx.CatalogueVersion(ctx, owner, n)
		if err != nil {
			return err
		}
		change, err := lifecycle.Activate(v.Name(), v.State, v.UploadedBy, p.ID)
		if err != nil {
			return err
		}
		if !change {
			out = v
			return nil
		}
		cur, err := tx.ActiveCatalogue(ctx, owner)
		switch {
		case err == nil:
			if err := lifecycle.Supersede(v.Name(), v.Version, cur.Version); err != nil {
				return err
			}
		case fault.Is(err, fault.NotFound):
			cur = nil
		default:
			return err
		}
		if v.Kind == Village {
			base, err := tx.CatalogueVersion(ctx, Owner{Kind: County, Code: v.County}, v.BaseVersion)
			if fault.Is(err, fault.NotFound) {
				return fault.New(fault.FailedPrecondition, "BASE_CATALOGUE_MISSING",
					"%s inherits counties/%s/catalogues/%d, which is not stored", v.Name(), v.County, v.BaseVersion)
			}
			if err != nil {
				return err
			}
			if base.State == Draft {
				return fault.New(fault.FailedPrecondition, "BASE_CATALOGUE_NOT_ACTIVATED",
					"%s inherits %s, which is still a draft: activate the county version first", v.Name(), base.Name())
			}
		}
		payload := map[string]string{}
		if cur != nil {
			cur.State = Superseded
			cur.SupersedeTime = &now
			if err := tx.UpdateCatalogueState(ctx, cur); err != nil {
				return err
			}
			payload["superseded_version"] = strconv.Itoa(cur.Version)
		}
		v.State = Active
		v.ActivatedBy = p.ID
		v.ActivateTime = &now
		if err := tx.UpdateCatalogueState(ctx, v); err != nil {
			return err
		}
		out = v
		reqHash := audit.HashBytes([]byte("catalogue.activate\x00" + v.Name()))
		return tx.Record(ctx, auditRecord(p, "catalogue.activate", v, reqHash, payload))
	})
	if err != nil {
		return nil, err
	}
	s.effective.Clear()
	return out, nil
}

// auditRecord describes a catalogue write for the log: the version's
// identity and content hash, never its text.
func auditRecord(p *access.Principal, action string, v *Version, reqHash string, extra map[string]string) audit.Record {
	t := v.UploadTime
	if v.ActivateTime != nil && action == "catalogue.activate" {
		t = *v.ActivateTime
	}
	activated := ""
	if v.ActivateTime != nil {
		activated = v.ActivateTime.Format(time.RFC3339Nano)
	}
	result := audit.HashBytes(fmt.Appendf(nil, "%s\x00%s\x00%d\x00%s\x00%d\x00%s\x00%s\x00%s\x00%s\x00%s",
		v.Name(), v.Kind, v.BaseVersion, v.ContentHash, v.ItemCount, v.State,
		v.UploadedBy, v.UploadTime.Format(time.RFC3339Nano), v.ActivatedBy, activated))
	payload := map[string]string{
		"kind": string(v.Kind), "county": v.County, "version": strconv.Itoa(v.Version),
		"content_hash": v.ContentHash, "state": string(v.State),
	}
	if v.Kind == Village {
		payload["village"] = v.Village
		payload["base_version"] = strconv.Itoa(v.BaseVersion)
	}
	for k, val := range extra {
		payload[k] = val
	}
	return audit.Record{
		Time: t, Actor: p.ID, Action: action, Subject: v.Name(),
		RequestHash: reqHash, ResultHash: result, Payload: payload,
	}
}

// Get returns the named version; the version may be ActiveAlias
// (villages/{village}/catalogues/active) for the active one.
func (s *Service) Get(ctx context.Context, name string) (*Version, error) {
	owner, n, err := ParseName(name, "name", true)
	if err != nil {
		return nil, err
	}
	var out *Version
	err = s.store.Read(ctx, func(tx Reader) error {
		if n == 0 {
			out, err = tx.ActiveCatalogue(ctx, owner)
			return err
		}
		out, err = tx.CatalogueVersion(ctx, owner, n)
		return err
	})
	return out, err
}

// Page is one page of versions and the token for the next.
type Page = docver.Page[*Version]

// List returns a page of the owner's versions, newest first, without
// their document text.
func (s *Service) List(ctx context.Context, parent string, pageSize int32, pageToken string) (Page, error) {
	var v fault.Violations
	owner := parseOwner(parent, "parent", &v)
	return docver.List(&v, "catalogues|"+parent, pageSize, pageToken,
		func(before, limit int) (items []*Version, err error) {
			err = s.store.Read(ctx, func(tx Reader) error {
				items, err = tx.CatalogueVersions(ctx, ListQuery{Owner: owner, Before: before, Limit: limit})
				return err
			})
			return items, err
		}, (*Version).number)
}

// LintResult is the outcome of Lint: what the document is and every
// problem found (none when it is valid).
type LintResult struct {
	Summary
	Problems points.LintErrors
}

// Lint validates doc without storing anything. A village document is
// resolved against its county base version when that is stored
// (Summary.BaseChecked), and checked on its own otherwise.
func (s *Service) Lint(ctx context.Context, doc []byte) (LintResult, error) {
	sum, err := Check(doc, nil)
	if err != nil {
		return lintProblems(err)
	}
	if sum.Kind == County {
		return LintResult{Summary: sum}, nil
	}
	var base *points.County
	err = s.store.Read(ctx, func(tx Reader) error {
		var err error
		base, err = s.base(ctx, tx, sum.County, sum.BaseVersion, "upload")
		return err
	})
	switch {
	case fault.Is(err, fault.FailedPrecondition):
		return LintResult{Summary: sum}, nil
	case err != nil:
		return LintResult{}, err
	}
	resolved, err := Check(doc, base)
	if err != nil {
		res, lerr := lintProblems(err)
		res.Summary = sum
		res.BaseChecked = true
		return res, lerr
	}
	return LintResult{Summary: resolved}, nil
}

func lintProblems(err error) (LintResult, error) {
	var le points.LintErrors
	if errors.As(err, &le) {
		return LintResult{Problems: le}, nil
	}
	return LintResult{}, err
}

// Effective returns the catalogue a village uses now: its active document
// resolved against the county version it inherits, or, when the village
// has no active document, the county's active base unchanged. NotFound
// when neither exists.
//
// Every submission asks for it, so the answer is kept for effectiveTTL:
// an activation through this Service clears it at once, one through
// another sanzhid process is seen within effectiveTTL. Evidence pins the
// hash of the catalogue it used, so a submission that races an activation
// is simply one that arrived a moment earlier.
func (s *Service) Effective(ctx context.Context, village string) (*points.Catalogue, error) {
	now := s.clock()
	if hit, ok := s.effective.Load(village); ok {
		if e := hit.(effectiveEntry); !now.Before(e.from) && now.Before(e.from.Add(effectiveTTL)) {
			return e.cat, nil
		}
	}
	cat, err := s.EffectiveAt(ctx, village, now)
	if err != nil {
		return nil, err
	}
	s.effective.Store(village, effectiveEntry{cat: cat, from: now})
	return cat, nil
}

// effectiveTTL is how long Effective reuses an answer.
const effectiveTTL = 2 * time.Second

type effectiveEntry struct {
	cat  *points.Catalogue
	from time.Time
}

// EffectiveAt returns the catalogue the village used at instant t: the
// village version active at t (activated at or before t, not superseded by
// then), else the county version active at t. Points balances of a past
// day read their base this way, so activating a new version never changes
// an old answer.
//
// Versions never change once stored, so resolved catalogues are cached by
// version: the hot path is one query that lists versions without their
// text.
func (s *Service) EffectiveAt(ctx context.Context, village string, t time.Time) (*points.Catalogue, error) {
	owner, err := ParseParent(resource.Village(village), "village")
	if err != nil {
		return nil, err
	}
	var cat *points.Catalogue
	err = s.store.Read(ctx, func(tx Reader) error {
		v, err := activeAt(ctx, tx, owner, t)
		if err != nil {
			return err
		}
		if v != nil {
			cat, err = s.resolved(ctx, tx, v)
			return err
		}
		countyOwner := Owner{Kind: County, Code: owner.County()}
		c, err := activeAt(ctx, tx, countyOwner, t)
		if err != nil {
			return err
		}
		if c == nil {
			return fault.New(fault.NotFound, "NO_ACTIVE_CATALOGUE",
				"neither village %s nor county %s had an active catalogue at %s", village, owner.County(),
				t.In(household.Shanghai).Format(time.RFC3339))
		}
		key := fmt.Sprintf("%s/%d/%s", c.Name(), c.Version, village)
		if hit, ok := s.cache.Load(key); ok {
			cat = hit.(*points.Catalogue)
			return nil
		}
		county, err := s.countyDoc(ctx, tx, c.County, c.Version)
		if err != nil {
			return err
		}
		if cat, err = county.ForVillage(village); err != nil {
			return err
		}
		s.cache.Store(key, cat)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cat, nil
}

// activeAt finds o's version that was active at t, nil when none was.
func activeAt(ctx context.Context, tx Reader, o Owner, t time.Time) (*Version, error) {
	before := 0
	for {
		list, err := tx.CatalogueVersions(ctx, ListQuery{Owner: o, Before: before, Limit: 50})
		if err != nil {
			return nil, err
		}
		for _, v := range list {
			if v.ActivateTime != nil && !v.ActivateTime.After(t) && (v.SupersedeTime == nil || v.SupersedeTime.After(t)) {
				return v, nil
			}
		}
		if len(list) < 50 {
			return nil, nil
		}
		before = list[len(list)-1].Version
	}
}

// countyDoc reads and parses a county version, cached.
func (s *Service) countyDoc(ctx context.Context, tx Reader, county string, n int) (*points.County, error) {
	key := fmt.Sprintf("counties/%s/%d", county, n)
	if hit, ok := s.cache.Load(key); ok {
		return hit.(*points.County), nil
	}
	c, err := s.base(ctx, tx, county, n, "use")
	if err != nil {
		return nil, err
	}
	s.cache.Store(key, c)
	return c, nil
}

// resolved returns the effective catalogue of village version v, cached.
func (s *Service) resolved(ctx context.Context, tx Reader, v *Version) (*points.Catalogue, error) {
	key := fmt.Sprintf("%s/%d", v.Name(), v.Version)
	if hit, ok := s.cache.Load(key); ok {
		return hit.(*points.Catalogue), nil
	}
	full, err := tx.CatalogueVersion(ctx, v.Owner(), v.Version)
	if err != nil {
		return nil, err
	}
	base, err := s.countyDoc(ctx, tx, full.County, full.BaseVersion)
	if err != nil {
		return nil, err
	}
	sum, err := Check([]byte(full.Document), base)
	if err != nil {
		return nil, fault.Wrap(err, fault.FailedPrecondition, "CATALOGUE_UNREADABLE",
			"%s no longer passes validation; upload a corrected version", full.Name())
	}
	if sum.ContentHash != full.ContentHash {
		return nil, fault.New(fault.Internal, "CATALOGUE_HASH_MISMATCH",
			"%s resolves to content %s, but %s was stored", full.Name(), sum.ContentHash, full.ContentHash)
	}
	s.cache.Store(key, sum.Catalogue)
	return sum.Catalogue, nil
}
