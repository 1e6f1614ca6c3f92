// Package catalogue keeps the versions of points catalogue documents (a
// county's base, each village's overlay) and their lifecycle: a document is
// uploaded as a draft after strict validation, and a second person activates
// it. Exactly one version per county and per village is active; the version
// it replaces stays stored as superseded. Stored versions never change
// content: a version number is used once.
//
// The package is pure: it parses and checks documents with scoring/points
// and reaches storage only through its Store port.
package catalogue

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/docver"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// Kind says whose document a version is.
type Kind string

const (
	// County is a county base catalogue (points kind "county").
	County Kind = "county"
	// Village is a village overlay on one county version (points kind
	// "village").
	Village Kind = "village"
)

// State is where a version is in its lifecycle (scoring/docver). A
// catalogue has no approval step: a draft goes straight to active.
type State = docver.State

// The states a catalogue version passes through.
const (
	// Draft: uploaded and valid, not in use.
	Draft = docver.Draft
	// Active: the version in use; one per owner.
	Active = docver.Active
	// Superseded: was active until a later version was activated.
	Superseded = docver.Superseded
)

// lifecycle is the catalogue's kind of versioned document: activation is the
// second person's step.
var lifecycle = docver.Doc{
	Reason:     "CATALOGUE",
	ReturnHint: "to return to its content, upload it as a new version",
	NameNext:   true,
}

// Owner is the county or village a document belongs to: its resource
// parent, counties/{county} or villages/{village}.
type Owner struct {
	Kind Kind
	// Code is the 6-digit county code or the 12-digit village code.
	Code string
}

// Name returns the owner's resource name.
func (o Owner) Name() string {
	if o.Kind == County {
		return resource.County(o.Code)
	}
	return resource.Village(o.Code)
}

// County returns the county code of the owner.
func (o Owner) County() string {
	if len(o.Code) < 6 {
		return o.Code
	}
	return o.Code[:6]
}

// Version is one stored version of a catalogue document.
type Version struct {
	Kind Kind
	// County is the 6-digit county code; Village the 12-digit village code
	// ("" for a county document).
	County  string
	Village string
	Version int
	// BaseVersion is the county version a village document inherits; 0 for
	// a county document.
	BaseVersion int
	// Document is the YAML text exactly as uploaded.
	Document string
	// ContentHash identifies the content: for a village document the
	// points.Catalogue.Hash of the effective catalogue it resolves to
	// (what evidence and decisions pin); for a county document the hex
	// SHA-256 of the document text.
	ContentHash string
	// ItemCount is the number of effective items: the county's items, or
	// the village's catalogue after removals and additions.
	ItemCount int
	State     State
	// UploadedBy and ActivatedBy are principal ids; ActivatedBy is "" and
	// ActivateTime nil until activation.
	UploadedBy   string
	UploadTime   time.Time
	ActivatedBy  string
	ActivateTime *time.Time
	// SupersedeTime is when a later version replaced this one.
	SupersedeTime *time.Time
}

// Owner returns the county or village the version belongs to.
func (v *Version) Owner() Owner {
	if v.Kind == County {
		return Owner{Kind: County, Code: v.County}
	}
	return Owner{Kind: Village, Code: v.Village}
}

// Name returns the resource name, e.g. villages/330483102215/catalogues/2.
func (v *Version) Name() string { return VersionName(v.Owner(), v.Version) }

// VersionName returns the resource name of version n of o's catalogue.
func VersionName(o Owner, n int) string {
	return docver.Name(o.Name(), "catalogues", n)
}

// ActiveAlias may stand for the version number in a name given to Get:
// villages/{village}/catalogues/active is the village's active version.
const ActiveAlias = docver.ActiveAlias

// maxVersion is the largest version number a document may carry (as
// points.ParseCounty and ParseVillage accept).
const maxVersion = 1_000_000

// ParseParent parses counties/{county} or villages/{village}, reporting
// problems against field.
func ParseParent(parent, field string) (Owner, error) {
	var v fault.Violations
	o := parseOwner(parent, field, &v)
	return o, v.Err()
}

func parseOwner(s, field string, v *fault.Violations) Owner {
	coll, code, ok := strings.Cut(s, "/")
	if !ok || strings.Contains(code, "/") || (coll != "counties" && coll != "villages") {
		v.Add(field, "must be counties/{county_code} or villages/{village_code}, got %q", s)
		return Owner{}
	}
	if coll == "counties" {
		if !isCountyCode(code) {
			v.Add(field, "%q is not a county code: 6 digits, e.g. 330483", code)
			return Owner{}
		}
		return Owner{Kind: County, Code: code}
	}
	if _, err := idnum.ParseVillageCode(code); err != nil {
		v.Add(field, "%s", err)
		return Owner{}
	}
	return Owner{Kind: Village, Code: code}
}

// ParseName parses counties/{county}/catalogues/{version} or
// villages/{village}/catalogues/{version}. When allowActive is set, the
// version may be ActiveAlias, reported as version 0.
func ParseName(name, field string, allowActive bool) (Owner, int, error) {
	var v fault.Violations
	parent, rest, ok := cutCatalogues(name)
	if !ok {
		form := "{counties/{county_code}|villages/{village_code}}/catalogues/{version}"
		v.Add(field, "must be %s, got %q", form, name)
		return Owner{}, 0, v.Err()
	}
	o := parseOwner(parent, field, &v)
	n := 0
	switch {
	case rest == ActiveAlias && allowActive:
	case rest == ActiveAlias:
		v.Add(field, "names the active version; name a version number instead")
	default:
		var ok bool
		if n, ok = docver.Number(rest, maxVersion); !ok {
			want := "a version number 1.." + strconv.Itoa(maxVersion)
			if allowActive {
				want += " or " + ActiveAlias
			}
			v.Add(field, "version %q is not %s", rest, want)
		}
	}
	return o, n, v.Err()
}

// cutCatalogues splits "X/Y/catalogues/Z" into "X/Y" and "Z".
func cutCatalogues(name string) (parent, version string, ok bool) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[2] != "catalogues" || parts[3] == "" {
		return "", "", false
	}
	return parts[0] + "/" + parts[1], parts[3], true
}

// OwnerOf returns the owner named by the leading counties/{code} or
// villages/{code} segments of a resource name, and whether there were
// such segments; the code is not checked. Authorisation uses it.
func OwnerOf(name string) (Owner, bool) {
	coll, rest, ok := strings.Cut(name, "/")
	if !ok {
		return Owner{}, false
	}
	code, _, _ := strings.Cut(rest, "/")
	switch coll {
	case "counties":
		return Owner{Kind: County, Code: code}, true
	case "villages":
		return Owner{Kind: Village, Code: code}, true
	}
	return Owner{}, false
}

func isCountyCode(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Summary is what checking a document found out about it.
type Summary struct {
	Kind        Kind
	County      string
	Village     string
	Version     int
	BaseVersion int
	// ContentHash and ItemCount are set for a county document, and for a
	// village document checked against its base (BaseChecked).
	ContentHash string
	ItemCount   int
	// BaseChecked reports whether a village document was resolved against
	// its county base, so that what depends on the base (which codes
	// exist, the precision, the areas) was checked too.
	BaseChecked bool
	// Catalogue is the effective catalogue of a village document checked
	// against its base; nil otherwise.
	Catalogue *points.Catalogue
}

// Owner returns the county or village the document belongs to.
func (s Summary) Owner() Owner {
	if s.Kind == County {
		return Owner{Kind: County, Code: s.County}
	}
	return Owner{Kind: Village, Code: s.Village}
}

// Check validates a catalogue document of either kind. A village document
// is also resolved against base when base is not nil (it must be the
// county version the document inherits). The error is points.LintErrors
// listing every problem, or nil.
func Check(doc []byte, base *points.County) (Summary, error) {
	if err := points.Lint(doc); err != nil {
		return Summary{}, err
	}
	if c, err := points.ParseCounty(doc); err == nil {
		return Summary{Kind: County, County: c.County, Version: c.Version,
			ContentHash: DocumentHash(doc), ItemCount: len(c.Items)}, nil
	}
	v, err := points.ParseVillage(doc)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{Kind: Village, County: v.County, Village: v.Village, Version: v.Version, BaseVersion: v.BaseVersion}
	if base == nil {
		return s, nil
	}
	cat, err := v.Resolve(base)
	if err != nil {
		return Summary{}, err
	}
	s.BaseChecked, s.Catalogue = true, cat
	s.ContentHash, s.ItemCount = cat.Hash, len(cat.Items)
	return s, nil
}

// DocumentHash is the lower-case hex SHA-256 of a document's bytes.
func DocumentHash(doc []byte) string {
	sum := sha256.Sum256(doc)
	return hex.EncodeToString(sum[:])
}

// InvalidDocument converts a document's lint errors into an Invalid fault
// with one violation per problem, all on field "document", described as
// "line N:C: path: message". Other errors are returned unchanged.
func InvalidDocument(err error) error {
	var le points.LintErrors
	if !errors.As(err, &le) {
		return err
	}
	viol := make(fault.Violations, 0, len(le))
	for _, e := range le {
		viol = append(viol, fault.Violation{Field: "document", Description: e.String()})
	}
	msg := "catalogue document is invalid"
	if len(le) > 0 {
		msg += ": " + le[0].String()
		if len(le) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(le)-1)
		}
	}
	return &fault.Error{Kind: fault.Invalid, Reason: "CATALOGUE_INVALID", Message: msg, Violations: viol}
}

func (v *Version) number() int { return v.Version }
