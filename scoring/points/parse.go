package points

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

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
	decimalPattern  = regexp.MustCompile(`^[-+]?[0-9]+(\.[0-9]+)?$`)
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
type reader struct {
	linter
	pos map[string]position
}

func at(n *yaml.Node) *position {
	if n == nil {
		return nil
	}
	return &position{n.Line, n.Column}
}

// parse decodes src as a catalogue document; want is the expected kind, or
// "" to take it from the document.
func parse(src []byte, want string) (*County, *VillageDoc, error) {
	r := &reader{pos: map[string]position{}}
	root := r.load(src)
	if root == nil {
		return nil, nil, r.result()
	}
	kind := want
	kindNode := lookup(root, "kind")
	if kindNode == nil {
		r.add(at(root), "kind", "required: %q or %q", DocCounty, DocVillage)
	} else if s, ok := r.str(kindNode, "kind"); ok {
		switch {
		case s != DocCounty && s != DocVillage:
			r.add(at(kindNode), "kind", "must be %q or %q, got %q", DocCounty, DocVillage, s)
		case want != "" && s != want:
			// The rest would be judged by the wrong rules: stop here.
			r.add(at(kindNode), "kind", "must be %q for a %s catalogue, got %q", want, want, s)
			return nil, nil, r.result()
		default:
			kind = s
		}
	}
	if kind == "" {
		return nil, nil, r.result()
	}
	m := r.fields(root, "", rootFields, rootMisplaced(kind))
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
	v.pos = r.pos
	return nil, v, nil
}

// load parses src into a node tree and checks what applies to any
// document (yamldoc.Load): size, encoding, syntax, one document, a mapping
// at the top, no anchors, aliases or tags.
func (r *reader) load(src []byte) *yaml.Node {
	return yamldoc.Load(src, MaxDocumentBytes, "kind: ..., version: ..., ...", func(line, col int, msg string) {
		var p *position
		if line > 0 {
			p = &position{line, col}
		}
		r.add(p, "", "%s", msg)
	})
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

// mapNode is a YAML mapping read into fields.
type mapNode struct {
	r    *reader
	node *yaml.Node
	path string
	vals map[string]*yaml.Node
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// fields reads mapping n, reporting duplicate and unknown keys. misplaced
// gives a specific message for known keys not allowed here.
func (r *reader) fields(n *yaml.Node, path string, specs []fieldSpec, misplaced map[string]string) *mapNode {
	if n.Kind == yaml.AliasNode {
		return nil // reported by checkNodes
	}
	if n.Kind != yaml.MappingNode {
		r.add(at(n), path, "must be a mapping (key: value)")
		return nil
	}
	allowed := slices.DeleteFunc(names(specs), func(s string) bool { _, bad := misplaced[s]; return bad })
	m := &mapNode{r: r, node: n, path: path, vals: map[string]*yaml.Node{}}
	keyAt := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			r.add(at(k), path, "keys must be plain names")
			continue
		}
		key := k.Value
		if first, dup := keyAt[key]; dup {
			r.add(at(k), join(path, key), "duplicate key; first at line %d", first.Line)
			continue
		}
		keyAt[key] = k
		if msg, bad := misplaced[key]; bad {
			r.add(at(k), join(path, key), "%s", msg)
			continue
		}
		if !slices.Contains(allowed, key) {
			r.add(at(k), join(path, key), "unknown field; expected one of: %s", strings.Join(allowed, ", "))
			continue
		}
		m.vals[key] = v
	}
	return m
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

// get returns the value of key, or nil when absent.
func (m *mapNode) get(key string) *yaml.Node { return m.vals[key] }

// require returns the value of key, reporting it missing.
func (m *mapNode) require(key string) *yaml.Node {
	v := m.vals[key]
	if v == nil {
		m.r.add(at(m.node), join(m.path, key), "required")
	}
	return v
}

// scalar checks that n is a non-null scalar and records where it is.
func (r *reader) scalar(n *yaml.Node, path string) bool {
	if n == nil || n.Kind == yaml.AliasNode {
		return false
	}
	r.pos[path] = position{n.Line, n.Column}
	switch {
	case n.Kind != yaml.ScalarNode:
		r.add(at(n), path, "must be a single value, not a list or mapping")
		return false
	case n.Tag == "!!null":
		r.add(at(n), path, "is empty; give a value or remove the field")
		return false
	}
	return true
}

func (r *reader) str(n *yaml.Node, path string) (string, bool) {
	if !r.scalar(n, path) {
		return "", false
	}
	if n.Tag != "!!str" {
		r.add(at(n), path, "must be text; put %s in quotes", n.Value)
		return "", false
	}
	return n.Value, true
}

// text reads a non-blank string of at most max characters.
func (r *reader) text(n *yaml.Node, path string, max int) (string, bool) {
	s, ok := r.str(n, path)
	if !ok {
		return "", false
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		r.add(at(n), path, "must not be blank")
		return "", false
	case utf8.RuneCountInString(s) > max:
		r.add(at(n), path, "is %d characters; at most %d", utf8.RuneCountInString(s), max)
		return "", false
	}
	return s, true
}

func (r *reader) code(n *yaml.Node, path string, pattern *regexp.Regexp, form string) (string, bool) {
	s, ok := r.str(n, path)
	if !ok {
		return "", false
	}
	if len(s) > maxCodeLen || !pattern.MatchString(s) {
		r.add(at(n), path, "%q is not a valid code: %s, at most %d characters", s, form, maxCodeLen)
		return "", false
	}
	return s, true
}

const (
	itemCodeForm = "upper-case letters and digits in groups joined by '-', e.g. DZ-ML-05"
	areaCodeForm = "lower-case letters, digits and '_', starting with a letter, e.g. minsheng"
)

func (r *reader) integer(n *yaml.Node, path string, min, max int) (int, bool) {
	if !r.scalar(n, path) {
		return 0, false
	}
	if n.Tag != "!!int" || !intPattern.MatchString(n.Value) {
		r.add(at(n), path, "must be a whole number, got %q", n.Value)
		return 0, false
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < min || v > max {
		r.add(at(n), path, "must be between %d and %d, got %s", min, max, n.Value)
		return 0, false
	}
	return v, true
}

func (r *reader) boolean(n *yaml.Node, path string) (bool, bool) {
	if !r.scalar(n, path) {
		return false, false
	}
	if n.Tag != "!!bool" {
		r.add(at(n), path, "must be true or false, got %q", n.Value)
		return false, false
	}
	return n.Value == "true" || n.Value == "True" || n.Value == "TRUE", true
}

func (r *reader) number(n *yaml.Node, path string) (decimal.Decimal, bool) {
	if !r.scalar(n, path) {
		return decimal.Decimal{}, false
	}
	if (n.Tag != "!!int" && n.Tag != "!!float") || !decimalPattern.MatchString(n.Value) {
		r.add(at(n), path, "must be a decimal number such as 2 or -0.5, got %q", n.Value)
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(n.Value)
	if err != nil {
		r.add(at(n), path, "must be a decimal number such as 2 or -0.5, got %q", n.Value)
		return decimal.Decimal{}, false
	}
	return d, true
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
func checkPrecisionAt(l *linter, p *position, path string, d decimal.Decimal, prec int32) bool {
	if dp := decimalPlaces(d); dp > prec {
		l.add(p, path, "has %d decimal places, catalogue precision is %d", dp, prec)
		return false
	}
	return true
}

func (r *reader) label(n *yaml.Node, path string) (Label, bool) {
	if n == nil {
		return Label{}, false
	}
	m := r.fields(n, path, labelFields, nil)
	if m == nil {
		return Label{}, false
	}
	zh, ok1 := r.text(m.require("zh-CN"), join(path, "zh-CN"), maxLabelLen)
	en, ok2 := r.text(m.require("en"), join(path, "en"), maxLabelLen)
	return Label{ZH: zh, EN: en}, ok1 && ok2
}

var labelFields = []fieldSpec{{"zh-CN", ""}, {"en", ""}}

// list reads a sequence; an absent optional list is (nil, true).
func (r *reader) list(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	if n == nil {
		return nil, true
	}
	if n.Kind == yaml.AliasNode {
		return nil, false
	}
	r.pos[path] = position{n.Line, n.Column}
	if n.Kind != yaml.SequenceNode {
		r.add(at(n), path, "must be a list")
		return nil, false
	}
	return n.Content, true
}

func checkCountyCode(l *linter, p *position, path, s string) bool {
	if len(s) != 6 || !intPattern.MatchString(s) || s[0] == '+' || s[0] == '-' {
		l.add(p, path, "%q is not a county code: 6 digits, e.g. \"330483\"", s)
		return false
	}
	return true
}

func checkVillageCode(l *linter, p *position, path, s string) bool {
	if _, err := idnum.ParseVillageCode(s); err != nil {
		l.add(p, path, "%s", err.Error())
		return false
	}
	return true
}

func (r *reader) county(m *mapNode) *County {
	c := &County{}
	if s, ok := r.str(m.require("county"), "county"); ok && checkCountyCode(&r.linter, at(m.get("county")), "county", s) {
		c.County = s
	}
	c.Name, _ = r.label(m.require("name"), "name")
	c.Version, _ = r.integer(m.require("version"), "version", 1, 1_000_000)
	prec, ok := r.integer(m.require("precision"), "precision", 0, MaxPrecision)
	if !ok {
		prec = MaxPrecision // check the rest against the loosest precision
	}
	c.Precision = int32(prec)
	if d, ok := r.number(m.require("base_points"), "base_points"); ok {
		switch {
		case d.Sign() < 0 || d.GreaterThan(decimal.NewFromInt(MaxBasePoints)):
			r.add(at(m.get("base_points")), "base_points", "must be between 0 and %d, got %s", MaxBasePoints, d)
		default:
			checkPrecisionAt(&r.linter, at(m.get("base_points")), "base_points", d, c.Precision)
		}
		c.BasePoints = d
	}
	c.PublicNoticeDays, _ = r.integer(m.require("public_notice_days"), "public_notice_days", 1, MaxPublicNoticeDays)
	c.MaxBackdateDays, _ = r.integer(m.require("max_backdate_days"), "max_backdate_days", 1, MaxBackdateLimit)

	c.Areas = r.areas(m.require("areas"), "areas", true)
	known := map[string]bool{}
	for _, a := range c.Areas {
		known[a.Code] = true
	}
	c.Items = r.items(m.require("items"), "items", true, c.Precision, known)
	return c
}

func (r *reader) village(m *mapNode) *VillageDoc {
	v := &VillageDoc{}
	countyOK := false
	if s, ok := r.str(m.require("county"), "county"); ok && checkCountyCode(&r.linter, at(m.get("county")), "county", s) {
		v.County, countyOK = s, true
	}
	if s, ok := r.str(m.require("village"), "village"); ok && checkVillageCode(&r.linter, at(m.get("village")), "village", s) {
		v.Village = s
		if countyOK && s[:6] != v.County {
			r.add(at(m.get("village")), "village", "village %s is not in county %s (its first six digits are %s)", s, v.County, s[:6])
		}
	}
	v.Name, _ = r.label(m.require("name"), "name")
	v.BaseVersion, _ = r.integer(m.require("base_version"), "base_version", 1, 1_000_000)
	v.Version, _ = r.integer(m.require("version"), "version", 1, 1_000_000)
	if n := m.get("public_notice_days"); n != nil {
		v.PublicNoticeDays, _ = r.integer(n, "public_notice_days", 1, MaxPublicNoticeDays)
	}
	if n := m.get("max_backdate_days"); n != nil {
		v.MaxBackdateDays, _ = r.integer(n, "max_backdate_days", 1, MaxBackdateLimit)
	}
	v.Areas = r.areas(m.get("areas"), "areas", false)
	v.Items = r.items(m.get("items"), "items", false, MaxPrecision, nil)

	nodes, _ := r.list(m.get("remove"), "remove")
	removed := map[string]int{}
	for i, n := range nodes {
		path := indexPath("remove", i)
		code, ok := r.code(n, path, itemCodePattern, itemCodeForm)
		if !ok {
			continue
		}
		if line, dup := removed[code]; dup {
			r.add(at(n), path, "%s is listed twice; first at line %d", code, line)
			continue
		}
		removed[code] = n.Line
		v.Remove = append(v.Remove, code)
	}

	nodes, _ = r.list(m.get("reweight"), "reweight")
	seen := map[string]int{}
	for i, n := range nodes {
		path := indexPath("reweight", i)
		rw, ok := r.reweight(n, path)
		if !ok {
			continue
		}
		if line, dup := seen[rw.Code]; dup {
			r.add(at(n), path+".code", "%s is re-weighted twice; first at line %d", rw.Code, line)
			continue
		}
		seen[rw.Code] = n.Line
		if line, gone := removed[rw.Code]; gone {
			r.add(at(n), path+".code", "%s is also removed (line %d); remove it or re-weight it, not both", rw.Code, line)
			continue
		}
		v.Reweight = append(v.Reweight, rw)
	}
	return v
}

var areaFields = []fieldSpec{{"code", ""}, {"label", ""}}

func (r *reader) areas(n *yaml.Node, path string, required bool) []Area {
	nodes, ok := r.list(n, path)
	if !ok {
		return nil
	}
	if required && n != nil && len(nodes) == 0 {
		r.add(at(n), path, "must declare at least one area")
	}
	var out []Area
	first := map[string]int{}
	for i, an := range nodes {
		p := indexPath(path, i)
		m := r.fields(an, p, areaFields, nil)
		if m == nil {
			continue
		}
		code, ok1 := r.code(m.require("code"), p+".code", areaCodePattern, areaCodeForm)
		label, ok2 := r.label(m.require("label"), p+".label")
		if !ok1 {
			continue
		}
		if line, dup := first[code]; dup {
			r.add(at(m.get("code")), p+".code", "duplicate area %q; first at line %d", code, line)
			continue
		}
		first[code] = m.get("code").Line
		if ok2 {
			out = append(out, Area{Code: code, Label: label})
		}
	}
	return out
}

var itemFields = []fieldSpec{
	{"code", ""}, {"domain", ""}, {"area", ""}, {"points", ""}, {"unit", ""}, {"annual_cap", ""},
	{"review", ""}, {"evidence", ""}, {"validity_months", ""}, {"for_credit", ""}, {"label", ""},
}

// items reads a list of items. known is the set of declared areas, or nil
// when areas are checked later (village documents, by Resolve).
func (r *reader) items(n *yaml.Node, path string, required bool, prec int32, known map[string]bool) []Item {
	nodes, ok := r.list(n, path)
	if !ok {
		return nil
	}
	if required && n != nil && len(nodes) == 0 {
		r.add(at(n), path, "must list at least one item")
	}
	var out []Item
	first := map[string]int{}
	for i, in := range nodes {
		p := indexPath(path, i)
		it, codeNode, ok := r.item(in, p, prec, known)
		if codeNode == nil {
			continue
		}
		if line, dup := first[it.Code]; dup {
			r.add(at(codeNode), p+".code", "duplicate code %s; first at line %d", it.Code, line)
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
	m := r.fields(n, path, itemFields, nil)
	if m == nil {
		return Item{}, nil, false
	}
	var it Item
	errs := len(r.errs)
	code, codeOK := r.code(m.require("code"), path+".code", itemCodePattern, itemCodeForm)
	it.Code = code

	if s, ok := r.str(m.require("domain"), path+".domain"); ok {
		if d := Domain(s); d.Valid() {
			it.Domain = d
		} else {
			r.add(at(m.get("domain")), path+".domain", "unknown domain %q; one of self_governance (自治), rule_of_law (法治), virtue (德治)", s)
		}
	}

	if a, ok := r.code(m.require("area"), path+".area", areaCodePattern, areaCodeForm); ok {
		it.Area = a
		if known != nil && !known[a] {
			r.add(at(m.get("area")), path+".area", "unknown area %q; declared areas: %s", a, strings.Join(sortedKeys(known), ", "))
		}
	}

	pointsOK := false
	if d, ok := r.number(m.require("points"), path+".points"); ok {
		pn := m.get("points")
		switch {
		case d.IsZero():
			r.add(at(pn), path+".points", "must not be 0: an item either adds or deducts points")
		case d.Abs().GreaterThan(decimal.NewFromInt(MaxItemPoints)):
			r.add(at(pn), path+".points", "%s is beyond ±%d", d, MaxItemPoints)
		default:
			pointsOK = r.precision(pn, path+".points", d, prec, known != nil)
		}
		it.Points = d
	}

	it.Unit, _ = r.text(m.require("unit"), path+".unit", maxUnitLen)

	if cn := m.get("annual_cap"); cn != nil {
		if d, ok := r.number(cn, path+".annual_cap"); ok {
			switch {
			case d.Sign() <= 0:
				r.add(at(cn), path+".annual_cap", "must be positive (it bounds the magnitude of a year's points, deductions included), got %s", d)
			case d.GreaterThan(decimal.NewFromInt(MaxAnnualCap)):
				r.add(at(cn), path+".annual_cap", "%s is beyond %d", d, MaxAnnualCap)
			case !r.precision(cn, path+".annual_cap", d, prec, known != nil):
			case pointsOK && d.LessThan(it.Points.Abs()):
				r.add(at(cn), path+".annual_cap", "annual cap %s is below one award of %s", d, it.Points.Abs())
			default:
				it.AnnualCap = d
			}
		}
	}

	review, reviewOK := r.boolean(m.require("review"), path+".review")
	it.Review = review

	if en := m.require("evidence"); en != nil {
		nodes, ok := r.list(en, path+".evidence")
		if ok && len(nodes) == 0 {
			r.add(at(en), path+".evidence", "must list at least one evidence kind")
		}
		for j, kn := range nodes {
			kp := indexPath(path+".evidence", j)
			s, ok := r.str(kn, kp)
			if !ok {
				continue
			}
			k := EvidenceKind(s)
			switch {
			case !k.Valid():
				r.add(at(kn), kp, "unknown evidence kind %q; one of photo_hash, witness, document_hash, system_record", s)
			case slices.Contains(it.Evidence, k):
				r.add(at(kn), kp, "%s is listed twice", s)
			default:
				it.Evidence = append(it.Evidence, k)
			}
		}
		if reviewOK && !review && ok && len(nodes) > 0 && !slices.Contains(it.Evidence, SystemRecord) {
			r.add(at(m.get("review")), path+".review", "may be false only for machine-recorded items (evidence must include system_record)")
		}
	}

	it.ValidityMonths, _ = r.integer(m.require("validity_months"), path+".validity_months", 1, MaxValidityMonths)
	it.ForCredit, _ = r.boolean(m.require("for_credit"), path+".for_credit")
	it.Label, _ = r.label(m.require("label"), path+".label")

	if !codeOK {
		return it, nil, false
	}
	return it, m.get("code"), len(r.errs) == errs
}

// precision checks d's decimal places: against the catalogue's precision
// when it is known (county), against MaxPrecision otherwise (village, whose
// precision Resolve checks against the base).
func (r *reader) precision(n *yaml.Node, path string, d decimal.Decimal, prec int32, known bool) bool {
	if known {
		return checkPrecisionAt(&r.linter, at(n), path, d, prec)
	}
	if dp := decimalPlaces(d); dp > MaxPrecision {
		r.add(at(n), path, "has %d decimal places, at most %d are allowed", dp, MaxPrecision)
		return false
	}
	return true
}

var reweightFields = []fieldSpec{{"code", ""}, {"points", ""}, {"annual_cap", ""}}

func (r *reader) reweight(n *yaml.Node, path string) (Reweight, bool) {
	m := r.fields(n, path, reweightFields, nil)
	if m == nil {
		return Reweight{}, false
	}
	errs := len(r.errs)
	var rw Reweight
	code, codeOK := r.code(m.require("code"), path+".code", itemCodePattern, itemCodeForm)
	rw.Code = code
	pn, cn := m.get("points"), m.get("annual_cap")
	if pn == nil && cn == nil {
		r.add(at(n), path, "give points, annual_cap or both")
	}
	if pn != nil {
		if d, ok := r.number(pn, path+".points"); ok {
			switch {
			case d.IsZero():
				r.add(at(pn), path+".points", "must not be 0; to stop using an item, list it under remove")
			case d.Abs().GreaterThan(decimal.NewFromInt(MaxItemPoints)):
				r.add(at(pn), path+".points", "%s is beyond ±%d", d, MaxItemPoints)
			case r.precision(pn, path+".points", d, MaxPrecision, false):
				rw.Points = d
			}
		}
	}
	if cn != nil {
		if d, ok := r.number(cn, path+".annual_cap"); ok {
			switch {
			case d.Sign() <= 0:
				r.add(at(cn), path+".annual_cap", "must be positive, got %s", d)
			case d.GreaterThan(decimal.NewFromInt(MaxAnnualCap)):
				r.add(at(cn), path+".annual_cap", "%s is beyond %d", d, MaxAnnualCap)
			case !rw.Points.IsZero() && d.LessThan(rw.Points.Abs()):
				r.add(at(cn), path+".annual_cap", "annual cap %s is below one award of %s", d, rw.Points.Abs())
			case r.precision(cn, path+".annual_cap", d, MaxPrecision, false):
				rw.AnnualCap = d
			}
		}
	}
	return rw, codeOK && len(r.errs) == errs
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
