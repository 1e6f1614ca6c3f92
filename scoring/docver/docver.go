// Package docver holds the lifecycle that every versioned document of the
// service shares (catalogues in scoring/catalogue, credit policies in
// scoring/policies): a version is uploaded as a numbered draft under its
// parent, a second person signs it off, it is activated, and the version
// it replaces becomes superseded. A version number is used once.
//
//	draft ──approve──▶ approved ──activate──▶ active ──(a later one)──▶ superseded
//	  └────────────── activate (no approval step) ──┘
//
// The package is pure: it decides what a step may do and words the
// refusals; the callers read and write their own stores.
package docver

import (
	"math"
	"strconv"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/paging"
)

// State is where a version is in its lifecycle.
type State string

// The lifecycle states.
const (
	// Draft: uploaded and valid, not signed off.
	Draft State = "draft"
	// Approved: a second person approved it; it may be activated. Only
	// documents with an approval step (Doc.Approval) reach it.
	Approved State = "approved"
	// Active: the version in use; one per parent.
	Active State = "active"
	// Superseded: was active until a later version was activated.
	Superseded State = "superseded"
)

// ActiveAlias may stand for the version number in a name given to Get:
// …/catalogues/active, …/policies/active.
const ActiveAlias = "active"

// Doc is one kind of versioned document: how its lifecycle runs and how
// its refusals are worded. Its fields are the only differences between
// the kinds; everything else is the same rule.
type Doc struct {
	// Reason prefixes the reasons of the refusals: "CATALOGUE" gives
	// CATALOGUE_VERSION_EXISTS, CATALOGUE_SUPERSEDED, ….
	Reason string
	// Approval says a second person approves a draft, after which anyone
	// may activate it (policies). Without it the second person's step is
	// the activation itself (catalogues).
	Approval bool
	// ReturnHint ends the refusal to activate a superseded version: how
	// to get its content back.
	ReturnHint string
	// NameNext makes the refusal to activate a version older than the
	// active one name the next free version number.
	NameNext bool
}

// Name returns the resource name of version n under parent in collection
// (e.g. "catalogues", "policies").
func Name(parent, collection string, n int) string {
	return parent + "/" + collection + "/" + strconv.Itoa(n)
}

// Number parses a version number: the canonical decimal form of 1..max
// (max 0: no bound but int's). ok is false for anything else, including
// ActiveAlias, leading zeros and signs.
func Number(s string, max int) (n int, ok bool) {
	if max == 0 {
		max = math.MaxInt
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max || s != strconv.Itoa(n) {
		return 0, false
	}
	return n, true
}

// Reupload decides an upload of doc as a version that is already stored
// (name, with text stored). Versions never change: identical text is
// nil (the caller returns the stored version and writes nothing); any
// other text is AlreadyExists, {Reason}_VERSION_EXISTS.
func (d Doc) Reupload(name string, n int, stored, doc string) error {
	if stored == doc {
		return nil
	}
	return fault.New(fault.AlreadyExists, d.Reason+"_VERSION_EXISTS",
		"%s already exists with different content; versions never change: upload the document as version %d or later",
		name, n+1)
}

// MakerChecker refuses the uploader of a version the second person's
// step (verb: "approve", "activate"): FailedPrecondition, MAKER_CHECKER.
func MakerChecker(name, uploadedBy, actor, verb string) error {
	if uploadedBy != actor {
		return nil
	}
	return fault.New(fault.FailedPrecondition, "MAKER_CHECKER",
		"%s was uploaded by you: a second person must %s it", name, verb)
}

// Approve checks that actor may approve the named version, in state st
// and uploaded by uploadedBy. It reports whether there is anything to
// store: approving an approved version again is not. Errors, all
// FailedPrecondition: MAKER_CHECKER for the uploader; {Reason}_NOT_DRAFT
// for an active or superseded version.
func (d Doc) Approve(name string, st State, uploadedBy, actor string) (bool, error) {
	if err := MakerChecker(name, uploadedBy, actor, "approve"); err != nil {
		return false, err
	}
	switch st {
	case Approved:
		return false, nil
	case Active, Superseded:
		return false, fault.New(fault.FailedPrecondition, d.Reason+"_NOT_DRAFT", "%s is %s; only a draft is approved", name, st)
	}
	return true, nil
}

// Activate checks that actor may activate the named version, in state st
// and uploaded by uploadedBy. It reports whether there is anything to
// store: activating the active version again is not. Errors, all
// FailedPrecondition: MAKER_CHECKER for the uploader when activation is
// the second person's step (no Approval); {Reason}_NOT_APPROVED for a
// draft that needs approval; {Reason}_SUPERSEDED for a superseded one.
// Whether it is newer than the active version is Supersede's question.
func (d Doc) Activate(name string, st State, uploadedBy, actor string) (bool, error) {
	if !d.Approval {
		if err := MakerChecker(name, uploadedBy, actor, "activate"); err != nil {
			return false, err
		}
	}
	switch st {
	case Active:
		return false, nil
	case Draft:
		if d.Approval {
			return false, fault.New(fault.FailedPrecondition, d.Reason+"_NOT_APPROVED",
				"%s is a draft: a second person must approve it before it is activated", name)
		}
	case Superseded:
		return false, fault.New(fault.FailedPrecondition, d.Reason+"_SUPERSEDED",
			"%s was active and has been superseded; %s", name, d.ReturnHint)
	}
	return true, nil
}

// Supersede checks that version n (named name) may replace active, the
// number of the parent's active version: only a newer version may, so
// going back means uploading old content as a new version. Error:
// FailedPrecondition, {Reason}_OLDER_THAN_ACTIVE.
func (d Doc) Supersede(name string, n, active int) error {
	if active <= n {
		return nil
	}
	if d.NameNext {
		return fault.New(fault.FailedPrecondition, d.Reason+"_OLDER_THAN_ACTIVE",
			"%s is older than the active version %d; upload the change as version %d or later",
			name, active, active+1)
	}
	return fault.New(fault.FailedPrecondition, d.Reason+"_OLDER_THAN_ACTIVE",
		"%s is older than the active version %d", name, active)
}

// Page is one page of a version list and the token for the next ("" on
// the last page).
type Page[V any] struct {
	Versions  []V
	NextToken string
}

// List reads one page of a parent's versions, newest first. scope binds
// the page token to its list (e.g. "policies|"+parent); v collects the
// caller's own violations with the token's and the size's, and nothing is
// read unless it is empty. read returns up to limit versions below
// before (0: from the newest); number is a version's number.
func List[V any](v *fault.Violations, scope string, size int32, token string,
	read func(before, limit int) ([]V, error), number func(V) int) (Page[V], error) {
	before, _ := paging.IntCursor(token, scope, v)
	limit := paging.Limit(size, v)
	if err := v.Err(); err != nil {
		return Page[V]{}, err
	}
	// One more than asked says whether there is a next page.
	items, err := read(int(before), limit+1)
	if err != nil {
		return Page[V]{}, err
	}
	page := Page[V]{Versions: items}
	if len(items) > limit {
		page.Versions = items[:limit]
		page.NextToken = paging.Token(scope, strconv.Itoa(number(items[limit-1])))
	}
	return page, nil
}
