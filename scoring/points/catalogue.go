package points

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/scoring/yamldoc"
)

// Domain is one of the three governance domains (三治) an item belongs to.
type Domain string

// The three domains, as written in catalogue documents.
const (
	// SelfGovernance is 自治: village meetings, 议事会, volunteer work.
	SelfGovernance Domain = "self_governance"
	// RuleOfLaw is 法治: no disputes, mediation, 法律明白人, safety.
	RuleOfLaw Domain = "rule_of_law"
	// Virtue is 德治: 好家风, 孝老爱亲, 垃圾分类, 移风易俗.
	Virtue Domain = "virtue"
)

// Domains lists the valid domains in display order.
var Domains = []Domain{SelfGovernance, RuleOfLaw, Virtue}

// Label returns the Chinese and English names of d.
func (d Domain) Label() Label {
	switch d {
	case SelfGovernance:
		return Label{ZH: "自治", EN: "self-governance"}
	case RuleOfLaw:
		return Label{ZH: "法治", EN: "rule of law"}
	case Virtue:
		return Label{ZH: "德治", EN: "virtue"}
	}
	return Label{}
}

// Valid reports whether d is one of Domains.
func (d Domain) Valid() bool { return slices.Contains(Domains, d) }

// EvidenceKind names a kind of evidence an item requires. Every kind an item
// lists must accompany a submission of it.
type EvidenceKind string

// The evidence kinds, as written in catalogue documents.
const (
	// PhotoHash is the hash of a photograph (the photo itself stays with
	// the village).
	PhotoHash EvidenceKind = "photo_hash"
	// Witness is a named witness other than the household.
	Witness EvidenceKind = "witness"
	// DocumentHash is the hash of a document: a certificate, a court or
	// mediation record, a commendation.
	DocumentHash EvidenceKind = "document_hash"
	// SystemRecord is a record written by a machine, such as a smart
	// garbage-sorting bin or an app check-in. Only items whose evidence
	// includes it may skip review.
	SystemRecord EvidenceKind = "system_record"
)

// EvidenceKinds lists the valid evidence kinds.
var EvidenceKinds = []EvidenceKind{PhotoHash, Witness, DocumentHash, SystemRecord}

// Valid reports whether k is one of EvidenceKinds.
func (k EvidenceKind) Valid() bool { return slices.Contains(EvidenceKinds, k) }

// Label is a bilingual name. Catalogue documents write it as
// {zh-CN: ..., en: ...}; both are required.
type Label struct {
	ZH string `json:"zh-CN"`
	EN string `json:"en"`
}

// Area is a points area (领域) such as 民生实事. Its Code is a lower-case
// identifier used by items.
type Area struct {
	Code  string
	Label Label
}

// Origin says where an effective item comes from.
type Origin string

const (
	// FromCounty is an item of the county base, unchanged.
	FromCounty Origin = "county"
	// Reweighted is an item of the county base whose points or annual cap
	// the village changed.
	Reweighted Origin = "reweighted"
	// FromVillage is an item the village added.
	FromVillage Origin = "village"
)

// Item is one points item: what a household did and what it is worth.
type Item struct {
	// Code identifies the item within a catalogue, e.g. "DZ-ML-05".
	Code   string
	Domain Domain
	// Area is the Code of one of the catalogue's areas.
	Area string
	// Points per unit, signed: positive for an award, negative for a
	// deduction; never zero; at most the catalogue's precision in decimal
	// places.
	Points decimal.Decimal
	// Unit is what one quantity counts, e.g. 次, 户, 年, 小时.
	Unit string
	// AnnualCap bounds the magnitude of the points one household gets
	// from this item in one calendar year. It is positive and at least
	// |Points|; zero means the item has no cap.
	AnnualCap decimal.Decimal
	// Review says whether a second person must approve a submission.
	// Only machine-recorded items (Evidence includes SystemRecord) may
	// go without.
	Review bool
	// Evidence lists the evidence a submission must carry, each kind
	// once, in document order.
	Evidence []EvidenceKind
	// ValidityMonths is how long, from the day an entry becomes effective,
	// its points count toward credit (1..120).
	ValidityMonths int
	// ForCredit is false for items, such as petitioning (上访), that must
	// never feed a credit decision. Their entries count neither toward
	// credit points nor toward redeemable points; see Balances.
	ForCredit bool
	Label     Label
	Origin    Origin
}

// HasCap reports whether the item has an annual cap.
func (it Item) HasCap() bool { return it.AnnualCap.Sign() > 0 }

// IsAward reports whether the item adds points (as opposed to deducting).
func (it Item) IsAward() bool { return it.Points.Sign() > 0 }

// County is a validated county base catalogue, as ParseCounty returns it.
// Build one with ParseCounty: Resolve and ForVillage trust its contents.
type County struct {
	// County is the 6-digit GB/T 2260 county code, e.g. "330483".
	County  string
	Name    Label
	Version int
	// Precision is the number of decimal places points may have (0..2).
	Precision int32
	// BasePoints is what every household starts with.
	BasePoints decimal.Decimal
	// PublicNoticeDays is the length of 公示 in calendar days.
	PublicNoticeDays int
	// MaxBackdateDays is how old (in days before today) an act may be
	// when its evidence is submitted.
	MaxBackdateDays int
	Areas           []Area
	// Items in document order.
	Items []Item
}

// Reweight changes the points or the annual cap of a county item for one
// village. A zero field leaves that value unchanged; a village cannot remove
// a cap, change an item's sign, or change any other attribute (in particular
// not ForCredit).
type Reweight struct {
	Code      string
	Points    decimal.Decimal
	AnnualCap decimal.Decimal
}

// VillageDoc is a parsed and self-consistent village catalogue document. It
// becomes a Catalogue only against its county base: see Resolve.
type VillageDoc struct {
	// County is the county the village belongs to (the first six digits
	// of Village).
	County string
	// Village is the 12-digit 统计用区划代码 of the village.
	Village string
	Name    Label
	// BaseVersion is the county catalogue version this document inherits.
	BaseVersion int
	Version     int
	// PublicNoticeDays and MaxBackdateDays override the county's when
	// non-zero.
	PublicNoticeDays int
	MaxBackdateDays  int
	// Areas the village adds to the county's.
	Areas []Area
	// Items the village adds, in document order.
	Items []Item
	// Remove lists county item codes the village does not use.
	Remove []string
	// Reweight lists county items whose points or cap the village changes.
	Reweight []Reweight

	// pos maps a field path ("items[2].area") to where it was written, so
	// that Resolve can report base-dependent errors at the right line.
	pos map[string]yamldoc.Position
}

// Catalogue is the effective item set of one village at one version: what
// the evidence workflow, the ledger and the credit policy use. Treat it as
// immutable; Hash identifies its content.
type Catalogue struct {
	County  string
	Village string
	// Name is the village document's name (村名); empty when the village
	// keeps no document. Not part of Canonical: a name says where, not
	// what counts.
	Name Label
	// CountyVersion is the version of the county base; VillageVersion the
	// village document's, 0 when the village uses the base unchanged.
	CountyVersion    int
	VillageVersion   int
	Precision        int32
	BasePoints       decimal.Decimal
	PublicNoticeDays int
	MaxBackdateDays  int
	// Areas: the county's, then the village's additions.
	Areas []Area
	// Items by code.
	Items map[string]Item
	// Hash is the lower-case hex SHA-256 of Canonical(). Decisions and
	// evidence pin it so that a later catalogue version cannot change
	// what an old record meant.
	Hash string

	// order lists item codes in display order: county items as the county
	// document lists them (less those removed), then the village's.
	order []string
}

// Item returns the item with the given code.
func (c *Catalogue) Item(code string) (Item, bool) {
	it, ok := c.Items[code]
	return it, ok
}

// Area returns the area with the given code.
func (c *Catalogue) Area(code string) (Area, bool) {
	for _, a := range c.Areas {
		if a.Code == code {
			return a, true
		}
	}
	return Area{}, false
}

// Codes returns the item codes in display order: county items in the order
// the county document lists them, then the village's additions. (For a
// Catalogue not built by this package, sorted.)
func (c *Catalogue) Codes() []string {
	if len(c.order) == len(c.Items) {
		return slices.Clone(c.order)
	}
	codes := make([]string, 0, len(c.Items))
	for code := range c.Items {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	return codes
}

// canonicalFormat tags the canonical encoding so that a future change of
// encoding can never produce the hash of a different catalogue.
const canonicalFormat = "sanzhi.points.catalogue/v1"

type canonItem struct {
	Code           string   `json:"code"`
	Domain         Domain   `json:"domain"`
	Area           string   `json:"area"`
	Points         string   `json:"points"`
	Unit           string   `json:"unit"`
	AnnualCap      string   `json:"annual_cap"`
	Review         bool     `json:"review"`
	Evidence       []string `json:"evidence"`
	ValidityMonths int      `json:"validity_months"`
	ForCredit      bool     `json:"for_credit"`
	Label          Label    `json:"label"`
	Origin         Origin   `json:"origin"`
}

type canonArea struct {
	Code  string `json:"code"`
	Label Label  `json:"label"`
}

type canonCatalogue struct {
	Format           string      `json:"format"`
	County           string      `json:"county"`
	Village          string      `json:"village"`
	CountyVersion    int         `json:"county_version"`
	VillageVersion   int         `json:"village_version"`
	Precision        int32       `json:"precision"`
	BasePoints       string      `json:"base_points"`
	PublicNoticeDays int         `json:"public_notice_days"`
	MaxBackdateDays  int         `json:"max_backdate_days"`
	Areas            []canonArea `json:"areas"`
	Items            []canonItem `json:"items"`
}

// Canonical returns the canonical encoding Hash is computed over: compact
// JSON with fields in a fixed order, areas and items sorted by code,
// evidence kinds sorted, decimals in shortest form ("2", not "2.0"; an
// absent cap is ""). It covers everything that affects points or what an
// item means (labels included) and nothing else: the order of items in the
// YAML, comments and formatting do not change it.
func (c *Catalogue) Canonical() []byte {
	cc := canonCatalogue{
		Format:           canonicalFormat,
		County:           c.County,
		Village:          c.Village,
		CountyVersion:    c.CountyVersion,
		VillageVersion:   c.VillageVersion,
		Precision:        c.Precision,
		BasePoints:       c.BasePoints.String(),
		PublicNoticeDays: c.PublicNoticeDays,
		MaxBackdateDays:  c.MaxBackdateDays,
		Areas:            []canonArea{},
		Items:            []canonItem{},
	}
	for _, a := range c.Areas {
		cc.Areas = append(cc.Areas, canonArea(a))
	}
	sort.Slice(cc.Areas, func(i, j int) bool { return cc.Areas[i].Code < cc.Areas[j].Code })
	for _, it := range c.Items {
		ev := make([]string, 0, len(it.Evidence))
		for _, k := range it.Evidence {
			ev = append(ev, string(k))
		}
		sort.Strings(ev)
		capStr := ""
		if it.HasCap() {
			capStr = it.AnnualCap.String()
		}
		cc.Items = append(cc.Items, canonItem{
			Code: it.Code, Domain: it.Domain, Area: it.Area,
			Points: it.Points.String(), Unit: it.Unit, AnnualCap: capStr,
			Review: it.Review, Evidence: ev, ValidityMonths: it.ValidityMonths,
			ForCredit: it.ForCredit, Label: it.Label, Origin: it.Origin,
		})
	}
	sort.Slice(cc.Items, func(i, j int) bool { return cc.Items[i].Code < cc.Items[j].Code })
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cc); err != nil {
		// Only strings, ints and bools: encoding cannot fail.
		panic("points: canonical encoding: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func (c *Catalogue) seal() *Catalogue {
	sum := sha256.Sum256(c.Canonical())
	c.Hash = hex.EncodeToString(sum[:])
	return c
}

// ForVillage returns the catalogue of a village that keeps no document of
// its own: the county base unchanged, VillageVersion 0. The village code
// must be a valid 12-digit code within the county.
func (c *County) ForVillage(village string) (*Catalogue, error) {
	var l yamldoc.Problems
	if checkVillageCode(&l, nil, "village", village) && village[:6] != c.County {
		l.AddAt(nil, "village", "village %s is not in county %s", village, c.County)
	}
	if err := lintResult(l); err != nil {
		return nil, err
	}
	cat := c.catalogue(village)
	return cat.seal(), nil
}

// catalogue copies the base into a new Catalogue for village.
func (c *County) catalogue(village string) *Catalogue {
	cat := &Catalogue{
		County: c.County, Village: village, CountyVersion: c.Version,
		Precision: c.Precision, BasePoints: c.BasePoints,
		PublicNoticeDays: c.PublicNoticeDays, MaxBackdateDays: c.MaxBackdateDays,
		Areas: slices.Clone(c.Areas),
		Items: make(map[string]Item, len(c.Items)),
	}
	for _, it := range c.Items {
		it.Evidence = slices.Clone(it.Evidence)
		it.Origin = FromCounty
		cat.Items[it.Code] = it
		cat.order = append(cat.order, it.Code)
	}
	return cat
}

// Resolve applies the village document to its county base and returns the
// effective catalogue. It checks what needs the base: the county and
// base_version match, removed and re-weighted codes exist in the base, added
// codes and areas do not, added items use a known area, points and caps
// respect the base's precision, a re-weight keeps the item's sign and its
// cap at least one award. Errors are LintErrors with the village document's
// lines.
func (v *VillageDoc) Resolve(base *County) (*Catalogue, error) {
	var l yamldoc.Problems
	if base == nil {
		l.AddAt(nil, "", "no county base catalogue given")
		return nil, lintResult(l)
	}
	at := func(path string) *yamldoc.Position {
		if p, ok := v.pos[path]; ok {
			return &p
		}
		return nil
	}
	if v.County != base.County {
		l.AddAt(at("county"), "county", "this village document is for county %s, but the base catalogue is county %s", v.County, base.County)
		return nil, lintResult(l) // nothing else is comparable
	}
	if v.BaseVersion != base.Version {
		l.AddAt(at("base_version"), "base_version", "inherits county version %d, but the base catalogue given is version %d", v.BaseVersion, base.Version)
		return nil, lintResult(l)
	}

	cat := base.catalogue(v.Village)
	cat.VillageVersion = v.Version
	cat.Name = v.Name
	if v.PublicNoticeDays != 0 {
		cat.PublicNoticeDays = v.PublicNoticeDays
	}
	if v.MaxBackdateDays != 0 {
		cat.MaxBackdateDays = v.MaxBackdateDays
	}

	for i, a := range v.Areas {
		path := yamldoc.Index("areas", i) + ".code"
		if _, ok := cat.Area(a.Code); ok {
			l.AddAt(at(path), path, "area %q is already declared by the county catalogue", a.Code)
			continue
		}
		cat.Areas = append(cat.Areas, a)
	}

	removed := map[string]bool{}
	for i, code := range v.Remove {
		path := yamldoc.Index("remove", i)
		if _, ok := cat.Items[code]; !ok {
			l.AddAt(at(path), path, "county catalogue version %d has no item %s", base.Version, code)
			continue
		}
		removed[code] = true
	}

	for i, rw := range v.Reweight {
		path := yamldoc.Index("reweight", i)
		it, ok := cat.Items[rw.Code]
		if !ok {
			l.AddAt(at(path+".code"), path+".code", "county catalogue version %d has no item %s", base.Version, rw.Code)
			continue
		}
		bad := false
		if !rw.Points.IsZero() {
			if !checkPrecisionAt(&l, at(path+".points"), path+".points", rw.Points, base.Precision) {
				bad = true
			}
			if rw.Points.Sign() != it.Points.Sign() {
				l.AddAt(at(path+".points"), path+".points", "%s changes the sign of %s (%s in the county catalogue); a village may change how much an item is worth, not whether it adds or deducts", rw.Points, rw.Code, it.Points)
				bad = true
			}
			it.Points = rw.Points
		}
		if !rw.AnnualCap.IsZero() {
			if !checkPrecisionAt(&l, at(path+".annual_cap"), path+".annual_cap", rw.AnnualCap, base.Precision) {
				bad = true
			}
			it.AnnualCap = rw.AnnualCap
		}
		if !bad && it.HasCap() && it.AnnualCap.LessThan(it.Points.Abs()) {
			where := path + ".annual_cap"
			if rw.AnnualCap.IsZero() {
				where = path + ".points"
			}
			l.AddAt(at(where), where, "annual cap %s is below one award of %s", it.AnnualCap, it.Points.Abs())
			bad = true
		}
		if !bad {
			it.Origin = Reweighted
			cat.Items[rw.Code] = it
		}
	}

	for i, it := range v.Items {
		path := yamldoc.Index("items", i)
		if _, ok := base.item(it.Code); ok {
			l.AddAt(at(path+".code"), path+".code", "%s is already in the county catalogue; use reweight to change it or pick another code", it.Code)
			continue
		}
		if _, ok := cat.Area(it.Area); !ok {
			l.AddAt(at(path+".area"), path+".area", "unknown area %q; declared areas: %s", it.Area, areaCodes(cat.Areas))
		}
		checkPrecisionAt(&l, at(path+".points"), path+".points", it.Points, base.Precision)
		if it.HasCap() {
			checkPrecisionAt(&l, at(path+".annual_cap"), path+".annual_cap", it.AnnualCap, base.Precision)
		}
		it.Evidence = slices.Clone(it.Evidence)
		it.Origin = FromVillage
		cat.Items[it.Code] = it
		cat.order = append(cat.order, it.Code)
	}

	if err := lintResult(l); err != nil {
		return nil, err
	}
	if len(removed) > 0 {
		cat.order = slices.DeleteFunc(cat.order, func(code string) bool { return removed[code] })
		for code := range removed {
			delete(cat.Items, code)
		}
	}
	return cat.seal(), nil
}

func (c *County) item(code string) (Item, bool) {
	for _, it := range c.Items {
		if it.Code == code {
			return it, true
		}
	}
	return Item{}, false
}

func areaCodes(areas []Area) string {
	var b bytes.Buffer
	for i, a := range areas {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.Code)
	}
	return b.String()
}
