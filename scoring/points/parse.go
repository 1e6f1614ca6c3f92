package points

import (
	"regexp"
	"slices"
	"strings"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/yamldoc"
)

// Limits on catalogue documents and their values. They exist to catch typos
// (a cap of 10000 meant as 100) and to bound the work a document can cause.
const (
	// MaxDocumentBytes is the largest catalogue document accepted.
	MaxDocumentBytes = 1 << 20
	// MaxPrecision is the largest precision (decimal places) a county may
	// choose.
	MaxPrecision = 2
	// MaxItemPoints bounds |points| of one unit of an item.
	MaxItemPoints = 1000
	// MaxAnnualCap bounds an item's annual cap.
	MaxAnnualCap = 10000
	// MaxBasePoints bounds a county's base points.
	MaxBasePoints = 1000
	// MaxValidityMonths bounds an item's validity (ten years).
	MaxValidityMonths = 120
	// MaxPublicNoticeDays bounds the length of 公示.
	MaxPublicNoticeDays = 30
	// MaxBackdateLimit bounds max_backdate_days (one year).
	MaxBackdateLimit = 366
)

// Document kinds: the value of the top-level "kind" field of a catalogue
// document.
const (
	DocCounty  = "county"
	DocVillage = "village"
)

var (
	itemCodePattern = regexp.MustCompile(`^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$`)
	areaCodePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	intPattern      = regexp.MustCompile(`^[-+]?[0-9]+$`)
)

const (
	maxCodeLen  = 32
	maxUnitLen  = 16
	maxLabelLen = 200
)

// ParseCounty parses and validates a county base catalogue (kind: county).
// The error, if any, is LintErrors listing every problem.
func ParseCounty(src []byte) (*County, error) {
	c, _, err := parse(src, DocCounty)
	return c, err
}

// ParseVillage parses and validates a village catalogue document (kind:
// village) on its own. What needs the county base (which codes exist, the
// precision, the areas) is checked by Resolve. The error, if any, is
// LintErrors listing every problem.
func ParseVillage(src []byte) (*VillageDoc, error) {
	_, v, err := parse(src, DocVillage)
	return v, err
}

// Lint validates a catalogue document of either kind, detected from its
// "kind" field, and returns LintErrors or nil. A village document is checked
// on its own, as ParseVillage does.
func Lint(src []byte) error {
	_, _, err := parse(src, "")
	return err
}

// reader walks a YAML node tree, collecting problems and where each value
// was written.
type reader struct{ yamldoc.Reader }

func (r *reader) result() error { return lintResult(r.Problems) }

// parse decodes src as a catalogue document; want is the expected kind, or
// "" to take it from the document.
func parse(src []byte, want string) (*County, *VillageDoc, error) {
	r := &reader{yamldoc.Reader{Positions: map[string]yamldoc.Position{}}}
	// Load checks what applies to any document: size, encoding, syntax,
	// one document, a mapping at the top, no anchors, aliases or tags.
	root := r.Load(src, MaxDocumentBytes, "kind: ..., version: ..., ...")
	if root == nil {
		return nil, nil, r.result()
	}
	kind := want
	kindNode := lookup(root, "kind")
	if kindNode == nil {
		r.Add(root, "kind", "required: %q or %q", DocCounty, DocVillage)
	} else if s, ok := r.Str(kindNode, "kind"); ok {
		switch {
		case s != DocCounty && s != DocVillage:
			r.Add(kindNode, "kind", "must be %q or %q, got %q", DocCounty, DocVillage, s)
		case want != "" && s != want:
			// The rest would be judged by the wrong rules: stop here.
			r.Add(kindNode, "kind", "must be %q for a %s catalogue, got %q", want, want, s)
			return nil, nil, r.result()
		default:
			kind = s
		}
	}
	if kind == "" {
		return nil, nil, r.result()
	}
	m := r.FieldsExcept(root, "", names(rootFields), rootMisplaced(kind))
	if kind == DocCounty {
		c := r.county(m)
		if err := r.result(); err != nil {
			return nil, nil, err
		}
		return c, nil, nil
	}
	v := r.village(m)
	if err := r.result(); err != nil {
		return nil, nil, err
	}
	v.pos = r.Positions
	return nil, v, nil
}

// Which kind each top-level field belongs to.
const (
	forBoth    = ""
	forCounty  = DocCounty
	forVillage = DocVillage
)

var rootFields = []fieldSpec{
	{"kind", forBoth}, {"county", forBoth}, {"village", forVillage}, {"name", forBoth},
	{"base_version", forVillage}, {"version", forBoth}, {"precision", forCounty},
	{"base_points", forCounty}, {"public_notice_days", forBoth}, {"max_backdate_days", forBoth},
	{"areas", forBoth}, {"items", forBoth}, {"remove", forVillage}, {"reweight", forVillage},
}

type fieldSpec struct{ name, kind string }

// rootMisplaced explains, for a document of the given kind, why a field of
// the other kind is not allowed.
func rootMisplaced(kind string) map[string]string {
	if kind == "" {
		return nil
	}
	out := map[string]string{}
	for _, f := range rootFields {
		if f.kind == "" || f.kind == kind {
			continue
		}
		switch f.name {
		case "precision", "base_points":
			out[f.name] = "only a county catalogue sets " + f.name + "; a village inherits it from its base"
		default:
			out[f.name] = "only allowed in a " + f.kind + " catalogue (this one is kind " + kind + ")"
		}
	}
	return out
}

func names(specs []fieldSpec) []string {
	out := make([]string, len(specs))
	for i, f := range specs {
		out[i] = f.name
	}
	return out
}

// lookup returns the value of key in mapping n (the first, if repeated).
func lookup(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

const (
	itemCodeForm = "a valid code: upper-case letters and digits in groups joined by '-', e.g. DZ-ML-05"
	areaCodeForm = "a valid code: lower-case letters, digits and '_', starting with a letter, e.g. minsheng"
)

// code reads an item or area code.
func (r *reader) code(n *yaml.Node, path string, pattern *regexp.Regexp, form string) (string, bool) {
	return r.Pattern(n, path, pattern, maxCodeLen, form)
}

func (r *reader) number(n *yaml.Node, path string) (decimal.Decimal, bool) {
	return r.Decimal(n, path, "2 or -0.5")
}

// decimalPlaces returns the number of decimal places d needs (trailing
// zeros do not count: 2.50 has 1).
func decimalPlaces(d decimal.Decimal) int32 {
	var p int32
	for !d.Round(p).Equal(d) {
		p++
	}
	return p
}

// checkPrecisionAt reports d having more decimal places than prec allows.
func checkPrecisionAt(l *yamldoc.Problems, p *yamldoc.Position, path string, d decimal.Decimal, prec int32) bool {
	if dp := decimalPlaces(d); dp > prec {
		l.AddAt(p, path, "has %d decimal places, catalogue precision is %d", dp, prec)
		return false
	}
	return true
}

func (r *reader) label(n *yaml.Node, path string) (Label, bool) {
	zh, en, ok := r.Label(n, path, maxLabelLen)
	return Label{ZH: zh, EN: en}, ok
}

func (r *reader) list(n *yaml.Node, path string) ([]*yaml.Node, bool) { return r.List(n, path, 0) }

func checkCountyCode(l *yamldoc.Problems, p *yamldoc.Position, path, s string) bool {
	if len(s) != 6 || !intPattern.MatchString(s) || s[0] == '+' || s[0] == '-' {
		l.AddAt(p, path, "%q is not a county code: 6 digits, e.g. \"330483\"", s)
		return false
	}
	return true
}

func checkVillageCode(l *yamldoc.Problems, p *yamldoc.Position, path, s string) bool {
	if _, err := idnum.ParseVillageCode(s); err != nil {
		l.AddAt(p, path, "%s", err.Error())
		return false
	}
	return true
}

func (r *reader) county(m *yamldoc.Map) *County {
	c := &County{}
	if s, ok := r.Str(m.Require("county"), "county"); ok && checkCountyCode(&r.Problems, yamldoc.At(m.Get("county")), "county", s) {
		c.County = s
	}
	c.Name, _ = r.label(m.Require("name"), "name")
	c.Version, _ = r.Integer(m.Require("version"), "version", 1, 1_000_000)
	prec, ok := r.Integer(m.Require("precision"), "precision", 0, MaxPrecision)
	if !ok {
		prec = MaxPrecision // check the rest against the loosest precision
	}
	c.Precision = int32(prec)
	if d, ok := r.number(m.Require("base_points"), "base_points"); ok {
		switch {
		case d.Sign() < 0 || d.GreaterThan(decimal.NewFromInt(MaxBasePoints)):
			r.Add(m.Get("base_points"), "base_points", "must be between 0 and %d, got %s", MaxBasePoints, d)
		default:
			checkPrecisionAt(&r.Problems, yamldoc.At(m.Get("base_points")), "base_points", d, c.Precision)
		}
		c.BasePoints = d
	}
	c.PublicNoticeDays, _ = r.Integer(m.Require("public_notice_days"), "public_notice_days", 1, MaxPublicNoticeDays)
	c.MaxBackdateDays, _ = r.Integer(m.Require("max_backdate_days"), "max_backdate_days", 1, MaxBackdateLimit)

	c.Areas = r.areas(m.Require("areas"), "areas", true)
	known := map[string]bool{}
	for _, a := range c.Areas {
		known[a.Code] = true
	}
	c.Items = r.items(m.Require("items"), "items", true, c.Precision, known)
	return c
}

func (r *reader) village(m *yamldoc.Map) *VillageDoc {
	v := &VillageDoc{}
	countyOK := false
	if s, ok := r.Str(m.Require("county"), "county"); ok && checkCountyCode(&r.Problems, yamldoc.At(m.Get("county")), "county", s) {
		v.County, countyOK = s, true
	}
	if s, ok := r.Str(m.Require("village"), "village"); ok && checkVillageCode(&r.Problems, yamldoc.At(m.Get("village")), "village", s) {
		v.Village = s
		if countyOK && s[:6] != v.County {
			r.Add(m.Get("village"), "village", "village %s is not in county %s (its first six digits are %s)", s, v.County, s[:6])
		}
	}
	v.Name, _ = r.label(m.Require("name"), "name")
	v.BaseVersion, _ = r.Integer(m.Require("base_version"), "base_version", 1, 1_000_000)
	v.Version, _ = r.Integer(m.Require("version"), "version", 1, 1_000_000)
	if n := m.Get("public_notice_days"); n != nil {
		v.PublicNoticeDays, _ = r.Integer(n, "public_notice_days", 1, MaxPublicNoticeDays)
	}
	if n := m.Get("max_backdate_days"); n != nil {
		v.MaxBackdateDays, _ = r.Integer(n, "max_backdate_days", 1, MaxBackdateLimit)
	}
	v.Areas = r.areas(m.Get("areas"), "areas", false)
	v.Items = r.items(m.Get("items"), "items", false, MaxPrecision, nil)

	nodes, _ := r.list(m.Get("remove"), "remove")
	removed := map[string]int{}
	for i, n := range nodes {
		path := yamldoc.Index("remove", i)
		code, ok := r.code(n, path, itemCodePattern, itemCodeForm)
		if !ok {
			continue
		}
		if line, dup := removed[code]; dup {
			r.Add(n, path, "%s is listed twice; first at line %d", code, line)
			continue
		}
		removed[code] = n.Line
		v.Remove = append(v.Remove, code)
	}

	nodes, _ = r.list(m.Get("reweight"), "reweight")
	seen := map[string]int{}
	for i, n := range nodes {
		path := yamldoc.Index("reweight", i)
		rw, ok := r.reweight(n, path)
		if !ok {
			continue
		}
		if line, dup := seen[rw.Code]; dup {
			r.Add(n, path+".code", "%s is re-weighted twice; first at line %d", rw.Code, line)
			continue
		}
		seen[rw.Code] = n.Line
		if line, gone := removed[rw.Code]; gone {
			r.Add(n, path+".code", "%s is also removed (line %d); remove it or re-weight it, not both", rw.Code, line)
			continue
		}
		v.Reweight = append(v.Reweight, rw)
	}
	return v
}

var areaFields = []string{"code", "label"}

func (r *reader) areas(n *yaml.Node, path string, required bool) []Area {
	nodes, ok := r.list(n, path)
	if !ok {
		return nil
	}
	if required && n != nil && len(nodes) == 0 {
		r.Add(n, path, "must declare at least one area")
	}
	var out []Area
	first := map[string]int{}
	for i, an := range nodes {
		p := yamldoc.Index(path, i)
		m := r.Fields(an, p, areaFields)
		if m == nil {
			continue
		}
		code, ok1 := r.code(m.Require("code"), p+".code", areaCodePattern, areaCodeForm)
		label, ok2 := r.label(m.Require("label"), p+".label")
		if !ok1 {
			continue
		}
		if line, dup := first[code]; dup {
			r.Add(m.Get("code"), p+".code", "duplicate area %q; first at line %d", code, line)
			continue
		}
		first[code] = m.Get("code").Line
		if ok2 {
			out = append(out, Area{Code: code, Label: label})
		}
	}
	return out
}

var itemFields = []string{
	"code", "domain", "area", "points", "unit", "annual_cap",
	"review", "evidence", "validity_months", "for_credit", "label",
}

// items reads a list of items. known is the set of declared areas, or nil
// when areas are checked later (village documents, by Resolve).
func (r *reader) items(n *yaml.Node, path string, required bool, prec int32, known map[string]bool) []Item {
	nodes, ok := r.list(n, path)
	if !ok {
		return nil
	}
	if required && n != nil && len(nodes) == 0 {
		r.Add(n, path, "must list at least one item")
	}
	var out []Item
	first := map[string]int{}
	for i, in := range nodes {
		p := yamldoc.Index(path, i)
		it, codeNode, ok := r.item(in, p, prec, known)
		if codeNode == nil {
			continue
		}
		if line, dup := first[it.Code]; dup {
			r.Add(codeNode, p+".code", "duplicate code %s; first at line %d", it.Code, line)
			continue
		}
		first[it.Code] = codeNode.Line
		if ok {
			out = append(out, it)
		}
	}
	return out
}

// item reads one item. It returns the code's node when the code is valid
// (so duplicates can be found even if other fields are wrong) and whether
// the whole item is valid.
func (r *reader) item(n *yaml.Node, path string, prec int32, known map[string]bool) (Item, *yaml.Node, bool) {
	m := r.Fields(n, path, itemFields)
	if m == nil {
		return Item{}, nil, false
	}
	var it Item
	errs := len(r.Problems)
	code, codeOK := r.code(m.Require("code"), path+".code", itemCodePattern, itemCodeForm)
	it.Code = code

	if s, ok := r.Str(m.Require("domain"), path+".domain"); ok {
		if d := Domain(s); d.Valid() {
			it.Domain = d
		} else {
			r.Add(m.Get("domain"), path+".domain", "unknown domain %q; one of self_governance (自治), rule_of_law (法治), virtue (德治)", s)
		}
	}

	if a, ok := r.code(m.Require("area"), path+".area", areaCodePattern, areaCodeForm); ok {
		it.Area = a
		if known != nil && !known[a] {
			r.Add(m.Get("area"), path+".area", "unknown area %q; declared areas: %s", a, strings.Join(sortedKeys(known), ", "))
		}
	}

	pointsOK := false
	if d, ok := r.number(m.Require("points"), path+".points"); ok {
		pn := m.Get("points")
		switch {
		case d.IsZero():
			r.Add(pn, path+".points", "must not be 0: an item either adds or deducts points")
		case d.Abs().GreaterThan(decimal.NewFromInt(MaxItemPoints)):
			r.Add(pn, path+".points", "%s is beyond ±%d", d, MaxItemPoints)
		default:
			pointsOK = r.precision(pn, path+".points", d, prec, known != nil)
		}
		it.Points = d
	}

	it.Unit, _ = r.Text(m.Require("unit"), path+".unit", maxUnitLen)

	if cn := m.Get("annual_cap"); cn != nil {
		if d, ok := r.number(cn, path+".annual_cap"); ok {
			switch {
			case d.Sign() <= 0:
				r.Add(cn, path+".annual_cap", "must be positive (it bounds the magnitude of a year's points, deductions included), got %s", d)
			case d.GreaterThan(decimal.NewFromInt(MaxAnnualCap)):
				r.Add(cn, path+".annual_cap", "%s is beyond %d", d, MaxAnnualCap)
			case !r.precision(cn, path+".annual_cap", d, prec, known != nil):
			case pointsOK && d.LessThan(it.Points.Abs()):
				r.Add(cn, path+".annual_cap", "annual cap %s is below one award of %s", d, it.Points.Abs())
			default:
				it.AnnualCap = d
			}
		}
	}

	review, reviewOK := r.Boolean(m.Require("review"), path+".review")
	it.Review = review

	if en := m.Require("evidence"); en != nil {
		nodes, ok := r.list(en, path+".evidence")
		if ok && len(nodes) == 0 {
			r.Add(en, path+".evidence", "must list at least one evidence kind")
		}
		for j, kn := range nodes {
			kp := yamldoc.Index(path+".evidence", j)
			s, ok := r.Str(kn, kp)
			if !ok {
				continue
			}
			k := EvidenceKind(s)
			switch {
			case !k.Valid():
				r.Add(kn, kp, "unknown evidence kind %q; one of photo_hash, witness, document_hash, system_record", s)
			case slices.Contains(it.Evidence, k):
				r.Add(kn, kp, "%s is listed twice", s)
			default:
				it.Evidence = append(it.Evidence, k)
			}
		}
		if reviewOK && !review && ok && len(nodes) > 0 && !slices.Contains(it.Evidence, SystemRecord) {
			r.Add(m.Get("review"), path+".review", "may be false only for machine-recorded items (evidence must include system_record)")
		}
	}

	it.ValidityMonths, _ = r.Integer(m.Require("validity_months"), path+".validity_months", 1, MaxValidityMonths)
	it.ForCredit, _ = r.Boolean(m.Require("for_credit"), path+".for_credit")
	it.Label, _ = r.label(m.Require("label"), path+".label")

	if !codeOK {
		return it, nil, false
	}
	return it, m.Get("code"), len(r.Problems) == errs
}

// precision checks d's decimal places: against the catalogue's precision
// when it is known (county), against MaxPrecision otherwise (village, whose
// precision Resolve checks against the base).
func (r *reader) precision(n *yaml.Node, path string, d decimal.Decimal, prec int32, known bool) bool {
	if known {
		return checkPrecisionAt(&r.Problems, yamldoc.At(n), path, d, prec)
	}
	if dp := decimalPlaces(d); dp > MaxPrecision {
		r.Add(n, path, "has %d decimal places, at most %d are allowed", dp, MaxPrecision)
		return false
	}
	return true
}

var reweightFields = []string{"code", "points", "annual_cap"}

func (r *reader) reweight(n *yaml.Node, path string) (Reweight, bool) {
	m := r.Fields(n, path, reweightFields)
	if m == nil {
		return Reweight{}, false
	}
	errs := len(r.Problems)
	var rw Reweight
	code, codeOK := r.code(m.Require("code"), path+".code", itemCodePattern, itemCodeForm)
	rw.Code = code
	pn, cn := m.Get("points"), m.Get("annual_cap")
	if pn == nil && cn == nil {
		r.Add(n, path, "give points, annual_cap or both")
	}
	if pn != nil {
		if d, ok := r.number(pn, path+".points"); ok {
			switch {
			case d.IsZero():
				r.Add(pn, path+".points", "must not be 0; to stop using an item, list it under remove")
			case d.Abs().GreaterThan(decimal.NewFromInt(MaxItemPoints)):
				r.Add(pn, path+".points", "%s is beyond ±%d", d, MaxItemPoints)
			case r.precision(pn, path+".points", d, MaxPrecision, false):
				rw.Points = d
			}
		}
	}
	if cn != nil {
		if d, ok := r.number(cn, path+".annual_cap"); ok {
			switch {
			case d.Sign() <= 0:
				r.Add(cn, path+".annual_cap", "must be positive, got %s", d)
			case d.GreaterThan(decimal.NewFromInt(MaxAnnualCap)):
				r.Add(cn, path+".annual_cap", "%s is beyond %d", d, MaxAnnualCap)
			case !rw.Points.IsZero() && d.LessThan(rw.Points.Abs()):
				r.Add(cn, path+".annual_cap", "annual cap %s is below one award of %s", d, rw.Points.Abs())
			case r.precision(cn, path+".annual_cap", d, MaxPrecision, false):
				rw.AnnualCap = d
			}
		}
	}
	return rw, codeOK && len(r.Problems) == errs
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
