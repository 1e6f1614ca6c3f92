package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/yamldoc"
)

// This file reads and validates a policy document. Every rule a document
// must obey is checked here, and every problem is reported at once with
// its YAML line and column (LintErrors), with the reader scoring/points
// reads catalogues with (yamldoc.Reader): from yaml.v3 nodes, never by
// decoding into structs, so that unknown keys, wrong types and duplicates
// are all caught and placed.

// Limits on documents, to catch typos and bound the work a document causes.
const (
	// MaxDocumentBytes is the largest policy document accepted.
	MaxDocumentBytes   = 1 << 20
	maxCharacteristics = 50
	maxBins            = 50
	maxKnockOuts       = 100
	maxAdjustments     = 20
	maxGrades          = 20
	maxBinPoints       = 1000
	maxDoublings       = 64 // |score − base_score| / pdo at the extremes
	maxRate            = "0.24"
	maxLabelLen        = 200
	maxIDLen           = 40
)

var (
	idPattern      = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	slugPattern    = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	gradePattern   = regexp.MustCompile(`^[A-Z][A-Z0-9+-]{0,7}$`)
	intervalSyntax = regexp.MustCompile(`^\s*([\[(])\s*([^,\s]+)\s*,\s*([^\])\s]+)\s*([\])])\s*$`)
	rateLimit      = decimal.RequireFromString(maxRate)
)

// ItemForCredit says whether a catalogue item exists and whether it may
// feed a credit decision. Parse uses it to check "item.<CODE>" inputs: a
// policy must never read an item the catalogue marks not-for-credit (such
// as 上访, petitioning).
type ItemForCredit func(code string) (exists, forCredit bool)

// Parse parses and validates a policy document. items checks item inputs
// against the catalogue; with nil, item codes are checked only for form
// (lint without a catalogue). The error, if any, is LintErrors listing
// every problem.
func Parse(src []byte, items ItemForCredit) (*Policy, error) {
	r := &reader{Reader: yamldoc.Reader{MaxNumberLen: maxLitLen}, items: items, p: &Policy{slot: map[string]int{}}, declAt: map[int]*yaml.Node{}, read: map[int]bool{}}
	// Load checks what applies to any document: size, encoding, syntax,
	// one document, a mapping at the top, no anchors, aliases or tags.
	root := r.Load(src, MaxDocumentBytes, "bank: ..., product: ..., ...")
	if root == nil {
		return nil, r.result()
	}
	r.document(root)
	if err := r.result(); err != nil {
		return nil, err
	}
	r.p.prepareOdds()
	r.p.seal()
	return r.p, nil
}

// Lint validates a policy document, as Parse does, and returns LintErrors
// or nil.
func Lint(src []byte, items ItemForCredit) error {
	_, err := Parse(src, items)
	return err
}

// reader walks a YAML node tree, collecting problems.
type reader struct {
	yamldoc.Reader
	items  ItemForCredit
	p      *Policy
	declAt map[int]*yaml.Node // slot → key node of its declaration
	read   map[int]bool       // slots something reads
	// scorecardOK is true when every characteristic loaded, so score
	// bounds (and grade reachability) can be judged.
	scorecardOK bool
	gradeIdx    map[string]int
}

func (r *reader) result() error {
	if s := r.Sorted(); s != nil {
		return LintErrors(s)
	}
	return nil
}

// number reads a decimal with at most places decimal places within
// [min, max].
func (r *reader) number(n *yaml.Node, path string, min, max decimal.Decimal, places int32) (decimal.Decimal, bool) {
	d, ok := r.Decimal(n, path, "2 or 0.5")
	if !ok {
		return decimal.Decimal{}, false
	}
	if d.LessThan(min) || d.GreaterThan(max) {
		r.Add(n, path, "must be between %s and %s, got %s", min, max, n.Value)
		return decimal.Decimal{}, false
	}
	if !d.Round(places).Equal(d) {
		r.Add(n, path, "has more than %d decimal places: %s", places, n.Value)
		return decimal.Decimal{}, false
	}
	return d, true
}

var zero = decimal.Zero

// money reads an amount in yuan: 0..1e12, to the fen.
func (r *reader) money(n *yaml.Node, path string, positive bool) (decimal.Decimal, bool) {
	d, ok := r.number(n, path, zero, maxMoney, 2)
	if ok && positive && d.Sign() == 0 {
		r.Add(n, path, "must be more than 0")
		return d, false
	}
	return d, ok
}

func (r *reader) label(n *yaml.Node, path string) (Label, bool) {
	zh, en, ok := r.Label(n, path, maxLabelLen)
	return Label{ZH: zh, EN: en}, ok
}

// id reads a rule identifier, reporting one already used in seen.
func (r *reader) id(n *yaml.Node, path string, seen map[string]int) (string, bool) {
	s, ok := r.Pattern(n, path, idPattern, maxIDLen, "valid: lower-case letters, digits and _, starting with a letter")
	if !ok {
		return "", false
	}
	if line, dup := seen[s]; dup {
		r.Add(n, path, "duplicate id %q; first at line %d", s, line)
		return "", false
	}
	seen[s] = n.Line
	return s, true
}

// --- the document -----------------------------------------------------------

var rootFields = []string{"bank", "product", "version", "effective_date", "currency", "name",
	"decision_valid_days", "line", "inputs", "knockouts", "scorecard", "grades", "limit", "rates", "gate", "backtest"}

func (r *reader) document(root *yaml.Node) {
	p := r.p
	m := r.Fields(root, "", rootFields)
	p.Bank, _ = r.Pattern(m.Require("bank"), "bank", slugPattern, maxIDLen, "valid: lower-case words joined by '-', e.g. tongxiang-rcb")
	p.Product, _ = r.Pattern(m.Require("product"), "product", slugPattern, maxIDLen, "valid: lower-case words joined by '-', e.g. sanzhi-xindai")
	p.Version, _ = r.Integer(m.Require("version"), "version", 1, 1_000_000)
	if n := m.Require("effective_date"); r.Scalar(n, "effective_date") {
		d, err := household.ParseDate(n.Value)
		if (n.Tag != "!!str" && n.Tag != "!!timestamp") || err != nil {
			r.Add(n, "effective_date", "must be a date in YYYY-MM-DD form, got %q", n.Value)
		}
		p.EffectiveDate = d
	}
	if s, ok := r.Str(m.Require("currency"), "currency"); ok {
		if s != "CNY" {
			r.Add(m.Get("currency"), "currency", "must be CNY (amounts are yuan), got %q", s)
		}
		p.Currency = s
	}
	p.Name, _ = r.label(m.Require("name"), "name")
	r.validity(m)

	r.inputs(m.Require("inputs"))
	r.knockouts(m.Get("knockouts"))
	r.scorecard(m.Require("scorecard"))
	r.grades(m.Require("grades"))
	r.limit(m.Require("limit"))
	r.rates(m.Require("rates"))
	r.gate(m.Get("gate"))
	r.backtest(m.Get("backtest"))
	for slot, k := range r.declAt {
		if !r.read[slot] {
			r.Add(k, "inputs."+k.Value, "declared but never read; remove it (a policy declares exactly the inputs it reads)")
		}
	}
}

// validity reads how long a decision stands: decision_valid_days (a
// decision expires after so many days), or a line block with the line's
// term and its review period (issue 16: rural lines run a year or more
// and are reviewed yearly). Exactly one of the two.
func (r *reader) validity(m *yamldoc.Map) {
	days, line := m.Get("decision_valid_days"), m.Get("line")
	switch {
	case days != nil && line != nil:
		r.Add(m.Key("line"), "line", "give either decision_valid_days or line (term_months, review_months), not both")
		return
	case days == nil && line == nil:
		r.Add(m.Node(), "line", "required: line {term_months, review_months} (or decision_valid_days)")
		return
	case days != nil:
		r.p.DecisionValidDays, _ = r.Integer(days, "decision_valid_days", 1, 366)
		return
	}
	lm := r.Fields(line, "line", []string{"term_months", "review_months"})
	if lm == nil {
		return
	}
	term, ok1 := r.Integer(lm.Require("term_months"), "line.term_months", 1, maxTermMonths)
	review, ok2 := r.Integer(lm.Require("review_months"), "line.review_months", 1, maxTermMonths)
	if ok1 && ok2 && review > term {
		r.Add(lm.Get("review_months"), "line.review_months", "must be at most term_months (%d): a line is reviewed within its term", term)
		return
	}
	r.p.Line = &LineTerms{TermMonths: term, ReviewMonths: review}
}

// maxTermMonths bounds a line's term: five years, beyond the one to three
// years rural credit lines run.
const maxTermMonths = 60

// --- inputs -------------------------------------------------------------------

func knownInputs() string {
	names := make([]string, 0, len(inputs)+1)
	for _, s := range inputs {
		names = append(names, s.Name)
	}
	return strings.Join(append(names, ItemPrefix+"<CODE>"), ", ")
}

func (r *reader) inputs(n *yaml.Node) {
	m := r.Fields(n, "inputs", nil)
	if m == nil {
		return
	}
	if len(m.Keys()) == 0 {
		r.Add(n, "inputs", "must declare at least one input")
	}
	for _, name := range m.Keys() {
		path := "inputs." + name
		key, v := m.Key(name), m.Get(name)
		spec, ok := lookupInput(name)
		if !ok {
			r.Add(key, path, "unknown input %q; the engine knows %s", name, knownInputs())
			continue
		}
		d := DeclaredInput{Name: name, Type: spec.Type, Min: spec.Min, Max: spec.Max, spec: spec}
		if code, isItem := strings.CutPrefix(name, ItemPrefix); isItem {
			d.item = true
			if r.items != nil {
				switch exists, forCredit := r.items(code); {
				case !exists:
					r.Add(key, path, "the catalogue has no item %s", code)
				case !forCredit:
					r.Add(key, path, "item %s is marked not-for-credit in the catalogue; a credit policy must never read it", code)
				}
			}
		}
		r.declaration(v, path, spec, &d)
		slot := len(r.p.Inputs)
		r.p.Inputs = append(r.p.Inputs, d)
		r.p.slot[name] = slot
		r.declAt[slot] = key
	}
}

// declaration reads {type, min, max} into d (which keeps the engine's
// type and range where the document's are wrong, so later references do
// not cascade into more errors).
func (r *reader) declaration(n *yaml.Node, path string, spec *InputSpec, d *DeclaredInput) {
	m := r.Fields(n, path, []string{"type", "min", "max"})
	if m == nil {
		return
	}
	if s, ok := r.Str(m.Require("type"), path+".type"); ok && s != spec.Type.String() {
		r.Add(m.Get("type"), path+".type", "%s is %s, not %q", spec.Name, spec.Type, s)
	}
	if !spec.Type.numeric() {
		for _, k := range []string{"min", "max"} {
			if m.Get(k) != nil {
				r.Add(m.Key(k), yamldoc.Join(path, k), "a %s input has no range", spec.Type)
			}
		}
		return
	}
	places := int32(4)
	if spec.Type == TypeInt {
		places = 0
	}
	lo, ok1 := r.number(m.Require("min"), path+".min", spec.Min, spec.Max, places)
	hi, ok2 := r.number(m.Require("max"), path+".max", spec.Min, spec.Max, places)
	if ok1 && ok2 {
		if !lo.LessThan(hi) {
			r.Add(m.Get("max"), path+".max", "must be above min (%s)", lo)
			return
		}
		d.Min, d.Max = lo, hi
	}
}

// use records that something reads name and returns its slot, or reports
// why it may not.
func (r *reader) use(name string) (int, *InputSpec, string) {
	if slot, ok := r.p.slot[name]; ok {
		r.read[slot] = true
		return slot, r.p.Inputs[slot].spec, ""
	}
	if _, ok := lookupInput(name); ok {
		return -1, nil, fmt.Sprintf("reads %s, which is not declared under inputs", name)
	}
	return -1, nil, fmt.Sprintf("unknown input %q; the engine knows %s", name, knownInputs())
}

// useAt is use reporting at n.
func (r *reader) useAt(n *yaml.Node, path, name string) (int, bool) {
	slot, _, problem := r.use(name)
	if problem != "" {
		r.Add(n, path, "%s", problem)
		return -1, false
	}
	return slot, true
}

// condition reads and compiles a condition, placing its problems at the
// offending word.
func (r *reader) condition(n *yaml.Node, path string) (*Cond, bool) {
	s, ok := r.Str(n, path)
	if !ok {
		return nil, false
	}
	c, errs := parseCond(s, r.use)
	for _, e := range errs {
		r.AddAt(condPos(n, s, e.off), path, "%s", e.msg)
	}
	return c, len(errs) == 0
}

// condPos is the position of byte offset off of condition s written in
// node n. It is exact for conditions on one line, plain or quoted without
// escapes; otherwise it is the start of the value.
func condPos(n *yaml.Node, s string, off int) *yamldoc.Position {
	if strings.Contains(s, "\n") || n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return yamldoc.At(n)
	}
	col := n.Column + utf8.RuneCountInString(s[:min(off, len(s))])
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		col++
	}
	return &yamldoc.Position{Line: n.Line, Column: col}
}

// --- knock-outs ---------------------------------------------------------------

func (r *reader) knockouts(n *yaml.Node) {
	nodes, _ := r.List(n, "knockouts", maxKnockOuts)
	seen := map[string]int{}
	for i, kn := range nodes {
		path := yamldoc.Index("knockouts", i)
		m := r.Fields(kn, path, []string{"id", "when", "reason"})
		if m == nil {
			continue
		}
		id, ok1 := r.id(m.Require("id"), path+".id", seen)
		cond, ok2 := r.condition(m.Require("when"), path+".when")
		reason, ok3 := r.label(m.Require("reason"), path+".reason")
		if ok1 && ok2 && ok3 {
			r.p.KnockOuts = append(r.p.KnockOuts, KnockOut{ID: id, When: cond, Reason: reason})
		}
	}
}

// --- scorecard ----------------------------------------------------------------

func (r *reader) scorecard(n *yaml.Node) {
	m := r.Fields(n, "scorecard", []string{"scaling", "characteristics"})
	if m == nil {
		return
	}
	if sm := r.Fields(m.Require("scaling"), "scorecard.scaling", []string{"base_score", "base_odds", "pdo"}); sm != nil {
		s := &r.p.Scaling
		s.BaseScore, _ = r.Integer(sm.Require("base_score"), "scorecard.scaling.base_score", -100_000, 100_000)
		s.BaseOdds, _ = r.number(sm.Require("base_odds"), "scorecard.scaling.base_odds", decimal.New(1, -4), decimal.NewFromInt(1_000_000), 4)
		s.PDO, _ = r.Integer(sm.Require("pdo"), "scorecard.scaling.pdo", 1, 1000)
	}
	nodes, ok := r.List(m.Require("characteristics"), "scorecard.characteristics", maxCharacteristics)
	if ok && len(nodes) == 0 {
		r.Add(m.Get("characteristics"), "scorecard.characteristics", "must list at least one characteristic")
	}
	allOK := ok && len(nodes) > 0
	seen := map[string]int{}
	for i, cn := range nodes {
		c, ok := r.characteristic(cn, yamldoc.Index("scorecard.characteristics", i), seen)
		if !ok {
			allOK = false
			continue
		}
		r.p.Characteristics = append(r.p.Characteristics, c)
		r.p.minScore += c.min
		r.p.maxScore += c.max
	}
	r.scorecardOK = allOK
	s := r.p.Scaling
	if allOK && s.PDO > 0 {
		lo, hi := r.p.minScore-s.BaseScore, r.p.maxScore-s.BaseScore
		if abs(lo) > maxDoublings*s.PDO || abs(hi) > maxDoublings*s.PDO {
			r.Add(m.Get("scaling"), "scorecard.scaling", "scores run from %d to %d, more than %d doublings of odds (pdo %d) from base_score %d: check base_score and pdo",
				r.p.minScore, r.p.maxScore, maxDoublings, s.PDO, s.BaseScore)
		}
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

var monotones = []string{string(Increasing), string(Decreasing), string(NotOrdered)}

func (r *reader) characteristic(n *yaml.Node, path string, seen map[string]int) (Characteristic, bool) {
	m := r.Fields(n, path, []string{"id", "input", "label", "monotone", "bins"})
	if m == nil {
		return Characteristic{}, false
	}
	errs := len(r.Problems)
	var c Characteristic
	c.ID, _ = r.id(m.Require("id"), path+".id", seen)
	c.Label, _ = r.label(m.Require("label"), path+".label")
	if s, ok := r.Str(m.Require("monotone"), path+".monotone"); ok {
		if !slices.Contains(monotones, s) {
			r.Add(m.Get("monotone"), path+".monotone", "must be one of %s, got %q", strings.Join(monotones, ", "), s)
		}
		c.Monotone = Monotone(s)
	}
	c.slot = -1
	if s, ok := r.Str(m.Require("input"), path+".input"); ok {
		c.Input = s
		c.slot, _ = r.useAt(m.Get("input"), path+".input", s)
	}
	binsNode := m.Require("bins")
	nodes, ok := r.List(binsNode, path+".bins", maxBins)
	if ok && len(nodes) == 0 {
		r.Add(binsNode, path+".bins", "must list at least one bin")
		return c, false
	}
	if c.slot < 0 || !ok {
		return c, false
	}
	in := r.p.Inputs[c.slot]
	c.typ = in.Type
	if in.Type.numeric() {
		r.numericBins(&c, in, nodes, path+".bins")
	} else {
		r.valueBins(&c, in, binsNode, nodes, path+".bins")
	}
	if len(r.Problems) != errs {
		return c, false
	}
	c.min, c.max = c.Bins[0].Points, c.Bins[0].Points
	for _, b := range c.Bins {
		c.min, c.max = min(c.min, b.Points), max(c.max, b.Points)
	}
	// The best bin reasons compare with: among the bins worth the most, the
	// one nearest the household's side (for an increasing input the lowest
	// range worth the most, the threshold to reach; for a decreasing one
	// the highest).
	c.best = -1
	for i, b := range c.Bins {
		if b.Points == c.max && (c.best < 0 || c.Monotone == Decreasing) {
			c.best = i
		}
	}
	return c, true
}

// binFields reads a bin's points and label; the caller reads its range or
// values.
func (r *reader) binFields(m *yamldoc.Map, path string) (Bin, bool) {
	var b Bin
	pts, ok := r.Integer(m.Require("points"), path+".points", -maxBinPoints, maxBinPoints)
	b.Points = pts
	if ln := m.Get("label"); ln != nil {
		l, lok := r.label(ln, path+".label")
		b.Label, ok = l, ok && lok
	}
	return b, ok
}

// numericBins reads the bins of a decimal or int input and checks that
// they are in ascending order, neither overlap nor leave gaps, cover the
// declared range, and respect the declared monotonicity.
func (r *reader) numericBins(c *Characteristic, in DeclaredInput, nodes []*yaml.Node, path string) {
	ok := true
	var rangeNodes []*yaml.Node
	for i, bn := range nodes {
		bp := yamldoc.Index(path, i)
		m := r.Fields(bn, bp, []string{"range", "points", "label"})
		if m == nil {
			ok = false
			continue
		}
		if v := m.Get("values"); v != nil {
			r.Add(v, bp+".values", "bins of %s take a range", in.Name)
		}
		b, bok := r.binFields(m, bp)
		rn := m.Require("range")
		s, sok := r.Str(rn, bp+".range")
		if !sok || !bok {
			ok = false
			continue
		}
		iv, msg := parseInterval(s)
		if msg == "" && in.Type == TypeInt {
			b.lo, b.hi, msg = intBounds(iv)
		}
		if msg != "" {
			r.Add(rn, bp+".range", "%s", msg)
			ok = false
			continue
		}
		b.Range = iv
		c.Bins = append(c.Bins, b)
		rangeNodes = append(rangeNodes, rn)
	}
	if !ok {
		return
	}
	for i := range c.Bins {
		b := &c.Bins[i]
		bp := yamldoc.Index(path, i)
		if outside(b.Range, in) {
			r.Add(rangeNodes[i], bp+".range", "%s can never apply: the declared range of %s is [%s, %s]", b.Range, in.Name, in.Min, in.Max)
		}
		if i == 0 {
			continue
		}
		if msg := adjoin(c.Bins[i-1], *b, in.Type); msg != "" {
			r.Add(rangeNodes[i], bp+".range", "%s", msg)
			continue
		}
		prev := c.Bins[i-1].Points
		switch {
		case c.Monotone == Increasing && b.Points < prev:
			r.Add(rangeNodes[i], bp+".points", "%s is monotone increasing, but points fall from %d to %d", c.ID, prev, b.Points)
		case c.Monotone == Decreasing && b.Points > prev:
			r.Add(rangeNodes[i], bp+".points", "%s is monotone decreasing, but points rise from %d to %d", c.ID, prev, b.Points)
		}
	}
	first, last := c.Bins[0], c.Bins[len(c.Bins)-1]
	if !first.Range.contains(in.Min) {
		r.Add(rangeNodes[0], yamldoc.Index(path, 0)+".range", "does not cover the declared range of %s: %s, its minimum, has no bin", in.Name, in.Min)
	}
	if !last.Range.contains(in.Max) {
		r.Add(rangeNodes[len(rangeNodes)-1], yamldoc.Index(path, len(rangeNodes)-1)+".range", "does not cover the declared range of %s: %s, its maximum, has no bin", in.Name, in.Max)
	}
}

// parseInterval reads "[lo, hi)" and the like.
func parseInterval(s string) (Interval, string) {
	const form = `write a range as "[lo, hi)": [ or ] includes an end, ( or ) excludes it, -inf and +inf leave it open`
	m := intervalSyntax.FindStringSubmatch(s)
	if m == nil {
		return Interval{}, fmt.Sprintf("%q is not a range; %s", s, form)
	}
	var iv Interval
	iv.LoOpen, iv.HiOpen = m[1] == "(", m[4] == ")"
	switch lo := m[2]; {
	case lo == "-inf":
		iv.LoInf, iv.LoOpen = true, true
	case decimalText.MatchString(lo) && len(lo) <= maxLitLen:
		iv.Lo = decimal.RequireFromString(lo)
	default:
		return Interval{}, fmt.Sprintf("%q: lower end %q is not a number or -inf; %s", s, lo, form)
	}
	switch hi := m[3]; {
	case hi == "+inf" || hi == "inf":
		iv.HiInf, iv.HiOpen = true, true
	case decimalText.MatchString(hi) && len(hi) <= maxLitLen:
		iv.Hi = decimal.RequireFromString(hi)
	default:
		return Interval{}, fmt.Sprintf("%q: upper end %q is not a number or +inf; %s", s, hi, form)
	}
	if !iv.LoInf && !iv.HiInf {
		c := iv.Lo.Cmp(iv.Hi)
		if c > 0 || c == 0 && (iv.LoOpen || iv.HiOpen) {
			return Interval{}, fmt.Sprintf("%s is empty: no number lies in it", s)
		}
	}
	return iv, ""
}

// Whole-number bounds beyond these are refused rather than overflow.
var intLimit = decimal.New(1, 15)

// intBounds turns an interval on an int input into closed whole-number
// bounds: [0, 90] and [0, 91) are both 0..90.
func intBounds(iv Interval) (lo, hi int64, msg string) {
	lo, hi = -1<<62, 1<<62
	for _, e := range []struct {
		d   decimal.Decimal
		inf bool
	}{{iv.Lo, iv.LoInf}, {iv.Hi, iv.HiInf}} {
		if e.inf {
			continue
		}
		if !e.d.IsInteger() {
			return 0, 0, fmt.Sprintf("%s: the input is a whole number, so the ends must be too", iv)
		}
		if e.d.Abs().GreaterThan(intLimit) {
			return 0, 0, fmt.Sprintf("%s: %s is too large", iv, e.d)
		}
	}
	if !iv.LoInf {
		lo = iv.Lo.IntPart()
		if iv.LoOpen {
			lo++
		}
	}
	if !iv.HiInf {
		hi = iv.Hi.IntPart()
		if iv.HiOpen {
			hi--
		}
	}
	if lo > hi {
		return 0, 0, fmt.Sprintf("%s holds no whole number", iv)
	}
	return lo, hi, ""
}

// outside reports whether the interval misses the declared range entirely.
func outside(iv Interval, in DeclaredInput) bool {
	if !iv.HiInf {
		c := iv.Hi.Cmp(in.Min)
		if c < 0 || c == 0 && iv.HiOpen {
			return true
		}
	}
	if !iv.LoInf {
		c := iv.Lo.Cmp(in.Max)
		if c > 0 || c == 0 && iv.LoOpen {
			return true
		}
	}
	return false
}

// adjoin checks that bin b starts exactly where a ends: no overlap, no gap.
func adjoin(a, b Bin, t Type) string {
	if b.Range.LoInf || (!a.Range.LoInf && !b.Range.LoInf && b.Range.Lo.LessThan(a.Range.Lo)) {
		return fmt.Sprintf("%s is out of order: list bins in ascending order of their ranges", b.Range)
	}
	if a.Range.HiInf {
		return fmt.Sprintf("%s overlaps the bin before it, %s, which runs to +inf", b.Range, a.Range)
	}
	if t == TypeInt {
		switch {
		case b.lo <= a.hi:
			return fmt.Sprintf("%s overlaps the bin before it, %s: both hold %d", b.Range, a.Range, b.lo)
		case b.lo > a.hi+1:
			return fmt.Sprintf("%s leaves a gap after the bin before it, %s: %d to %d have no bin", b.Range, a.Range, a.hi+1, b.lo-1)
		}
		return ""
	}
	switch c := a.Range.Hi.Cmp(b.Range.Lo); {
	case c > 0, c == 0 && !a.Range.HiOpen && !b.Range.LoOpen:
		return fmt.Sprintf("%s overlaps the bin before it, %s", b.Range, a.Range)
	case c < 0:
		return fmt.Sprintf("%s leaves a gap after the bin before it, %s: values between %s and %s have no bin", b.Range, a.Range, a.Range.Hi, b.Range.Lo)
	case a.Range.HiOpen && b.Range.LoOpen:
		return fmt.Sprintf("%s leaves a gap after the bin before it, %s: %s itself has no bin", b.Range, a.Range, b.Range.Lo)
	}
	return ""
}

// valueBins reads the bins of an enum or bool input: every value in exactly
// one bin, and points monotone in the vocabulary's order when declared so.
func (r *reader) valueBins(c *Characteristic, in DeclaredInput, binsNode *yaml.Node, nodes []*yaml.Node, path string) {
	words := in.spec.Values
	if in.Type == TypeBool {
		words = []string{"false", "true"}
	}
	owner := make([]int, len(words)) // bin index + 1 of each value
	ok := true
	for i, bn := range nodes {
		bp := yamldoc.Index(path, i)
		m := r.Fields(bn, bp, []string{"values", "points", "label"})
		if m == nil {
			ok = false
			continue
		}
		if v := m.Get("range"); v != nil {
			r.Add(v, bp+".range", "bins of %s take values, not a range", in.Name)
		}
		b, bok := r.binFields(m, bp)
		ok = ok && bok
		vn := m.Require("values")
		vals, lok := r.List(vn, bp+".values", len(words))
		if !lok {
			ok = false
			continue
		}
		if len(vals) == 0 {
			r.Add(vn, bp+".values", "must list at least one value")
			ok = false
		}
		for j, v := range vals {
			vp := yamldoc.Index(bp+".values", j)
			var w string
			if in.Type == TypeBool {
				bv, vok := r.Boolean(v, vp)
				if !vok {
					ok = false
					continue
				}
				w = strconv.FormatBool(bv)
			} else {
				s, vok := r.Str(v, vp)
				if !vok {
					ok = false
					continue
				}
				w = s
			}
			k := slices.Index(words, w)
			switch {
			case k < 0:
				r.Add(v, vp, "%q is not a value of %s (one of %s)", w, in.Name, strings.Join(words, ", "))
				ok = false
			case owner[k] != 0:
				r.Add(v, vp, "%s is already in bin %d: bins must not overlap", w, owner[k]-1)
				ok = false
			default:
				owner[k] = i + 1
				b.set |= 1 << uint(k)
			}
		}
		for k, w := range words {
			if b.set&(1<<uint(k)) != 0 {
				b.Values = append(b.Values, w)
			}
		}
		c.Bins = append(c.Bins, b)
	}
	var missing []string
	for k, o := range owner {
		if o == 0 {
			missing = append(missing, words[k])
		}
	}
	if len(missing) > 0 {
		r.Add(binsNode, path, "every value of %s needs a bin; %s has none", in.Name, strings.Join(missing, ", "))
		return
	}
	if !ok || c.Monotone == NotOrdered {
		return
	}
	for k := 1; k < len(words); k++ {
		a, b := c.Bins[owner[k-1]-1].Points, c.Bins[owner[k]-1].Points
		if c.Monotone == Increasing && b < a || c.Monotone == Decreasing && b > a {
			r.Add(nodes[owner[k]-1], yamldoc.Index(path, owner[k]-1)+".points",
				"%s is monotone %s in the order %s, but %s scores %d and %s scores %d",
				c.ID, c.Monotone, strings.Join(words, " < "), words[k-1], a, words[k], b)
			return
		}
	}
}

// --- grades -------------------------------------------------------------------

func (r *reader) grades(n *yaml.Node) {
	nodes, ok := r.List(n, "grades", maxGrades)
	if ok && len(nodes) == 0 {
		r.Add(n, "grades", "must list at least one grade")
	}
	r.gradeIdx = map[string]int{}
	allOK := ok
	var minNodes []*yaml.Node
	seen := map[string]int{}
	for i, gn := range nodes {
		path := yamldoc.Index("grades", i)
		m := r.Fields(gn, path, []string{"grade", "min_score", "eligible", "label"})
		if m == nil {
			allOK = false
			continue
		}
		var g Grade
		name, ok1 := r.Pattern(m.Require("grade"), path+".grade", gradePattern, 8, "valid: upper-case letters, digits, + or -, e.g. AAA or A+")
		if ok1 {
			if line, dup := seen[name]; dup {
				r.Add(m.Get("grade"), path+".grade", "duplicate grade %s; first at line %d", name, line)
				ok1 = false
			}
			seen[name] = m.Get("grade").Line
		}
		g.Name = name
		var ok2 bool
		g.MinScore, ok2 = r.Integer(m.Require("min_score"), path+".min_score", -1_000_000, 1_000_000)
		g.Eligible = true
		if en := m.Get("eligible"); en != nil {
			var eok bool
			g.Eligible, eok = r.Boolean(en, path+".eligible")
			ok2 = ok2 && eok
		}
		if ln := m.Get("label"); ln != nil {
			var lok bool
			g.Label, lok = r.label(ln, path+".label")
			ok2 = ok2 && lok
		}
		if !ok1 || !ok2 {
			allOK = false
			continue
		}
		if k := len(r.p.Grades); k > 0 {
			prev := r.p.Grades[k-1]
			if g.MinScore >= prev.MinScore {
				r.Add(m.Get("min_score"), path+".min_score", "grades go best first: %s's min_score %d must be below %s's %d", g.Name, g.MinScore, prev.Name, prev.MinScore)
				allOK = false
			}
			if g.Eligible && !prev.Eligible {
				r.Add(m.Get("grade"), path+".grade", "%s is eligible but the better grade %s is not", g.Name, prev.Name)
				allOK = false
			}
		}
		r.gradeIdx[g.Name] = len(r.p.Grades)
		r.p.Grades = append(r.p.Grades, g)
		minNodes = append(minNodes, m.Get("min_score"))
	}
	if len(r.p.Grades) > 0 && !slices.ContainsFunc(r.p.Grades, func(g Grade) bool { return g.Eligible }) {
		r.Add(n, "grades", "no grade is eligible: the policy could never lend")
	}
	if !allOK || !r.scorecardOK || len(r.p.Grades) == 0 {
		return
	}
	lo, hi := r.p.minScore, r.p.maxScore
	last := len(r.p.Grades) - 1
	if g := r.p.Grades[last]; g.MinScore > lo {
		r.Add(minNodes[last], yamldoc.Index("grades", last)+".min_score",
			"scores from %d to %d get no grade: the lowest grade must start at or below %d, the lowest possible score", lo, g.MinScore-1, lo)
	}
	for i, g := range r.p.Grades {
		top := "+inf"
		upper := hi + 1
		if i > 0 {
			upper = r.p.Grades[i-1].MinScore - 1
			top = strconv.Itoa(upper)
		}
		if g.MinScore > hi || upper < lo {
			r.Add(minNodes[i], yamldoc.Index("grades", i)+".min_score",
				"unreachable grade %s: its scores %d to %s lie outside the possible scores %d to %d", g.Name, g.MinScore, top, lo, hi)
		}
	}
}

// gradeKey reads a key of a grade-keyed table (base amounts, rates), which
// only eligible grades may have: table names what they would have.
func (r *reader) gradeKey(key *yaml.Node, path, table string) (Grade, bool) {
	i, ok := r.gradeIdx[key.Value]
	if !ok {
		r.Add(key, path, "unknown grade %q", key.Value)
		return Grade{}, false
	}
	g := r.p.Grades[i]
	if !g.Eligible {
		r.Add(key, path, "grade %s is not eligible; it has no %s", g.Name, table)
		return Grade{}, false
	}
	return g, true
}

// --- limit --------------------------------------------------------------------

func (r *reader) limit(n *yaml.Node) {
	m := r.Fields(n, "limit", []string{"base_by_grade", "adjustments", "caps", "minus_existing_debt", "round_down_to", "min_amount"})
	if m == nil {
		return
	}
	l := &r.p.Limit
	l.debtSlot, l.incomeSlot, l.otherLimitSlot = -1, -1, -1
	l.BaseByGrade = map[string]decimal.Decimal{}
	baseAt := map[string]*yaml.Node{}
	if bm := r.Fields(m.Require("base_by_grade"), "limit.base_by_grade", nil); bm != nil && r.gradeIdx != nil {
		for _, name := range bm.Keys() {
			path := "limit.base_by_grade." + name
			if _, ok := r.gradeKey(bm.Key(name), path, "base amount"); !ok {
				continue
			}
			if d, ok := r.money(bm.Get(name), path, true); ok {
				l.BaseByGrade[name] = d
				baseAt[name] = bm.Get(name)
			}
		}
		var better *Grade
		for _, g := range r.p.Grades {
			if !g.Eligible {
				continue
			}
			d, ok := l.BaseByGrade[g.Name]
			if bm.Key(g.Name) == nil {
				r.Add(m.Key("base_by_grade"), "limit.base_by_grade", "no base amount for eligible grade %s", g.Name)
			}
			if ok && better != nil && d.GreaterThan(l.BaseByGrade[better.Name]) {
				r.Add(baseAt[g.Name], "limit.base_by_grade."+g.Name, "¥%s is more than the better grade %s gets (¥%s)", d, better.Name, l.BaseByGrade[better.Name])
			}
			if ok {
				g := g
				better = &g
			}
		}
	}
	r.adjustments(m.Get("adjustments"))

	if cm := r.Fields(m.Require("caps"), "limit.caps", []string{"product_max", "income_multiple", "total_exposure_max"}); cm != nil {
		c := &l.Caps
		if d, ok := r.money(cm.Require("product_max"), "limit.caps.product_max", true); ok {
			c.ProductMax = d
			r.capAboveBases(cm.Get("product_max"), "limit.caps.product_max", d)
		}
		if n := cm.Get("income_multiple"); n != nil {
			c.IncomeMultiple, _ = r.number(n, "limit.caps.income_multiple", decimal.New(1, -2), decimal.NewFromInt(100), 2)
			l.incomeSlot, _ = r.useAt(cm.Key("income_multiple"), "limit.caps.income_multiple", "facts.annual_income")
		}
		if n := cm.Get("total_exposure_max"); n != nil {
			if d, ok := r.money(n, "limit.caps.total_exposure_max", true); ok {
				c.TotalExposureMax = d
				r.capAboveBases(n, "limit.caps.total_exposure_max", d)
			}
			l.otherLimitSlot, _ = r.useAt(cm.Key("total_exposure_max"), "limit.caps.total_exposure_max", "other_banks.total_limit")
		}
	}
	if n := m.Get("minus_existing_debt"); n != nil {
		l.MinusExistingDebt, _ = r.Boolean(n, "limit.minus_existing_debt")
		if l.MinusExistingDebt {
			l.debtSlot, _ = r.useAt(m.Key("minus_existing_debt"), "limit.minus_existing_debt", "facts.existing_debt")
		}
	}
	unitOK := false
	l.RoundDownTo, unitOK = r.money(m.Require("round_down_to"), "limit.round_down_to", true)
	l.MinAmount = l.RoundDownTo
	if n := m.Get("min_amount"); n != nil {
		if d, ok := r.money(n, "limit.min_amount", false); ok {
			switch {
			case l.Caps.ProductMax.Sign() > 0 && d.GreaterThan(l.Caps.ProductMax):
				r.Add(n, "limit.min_amount", "¥%s is above product_max ¥%s: no limit could reach it", d, l.Caps.ProductMax)
			case d.GreaterThan(l.MinAmount):
				l.MinAmount = d
			}
		}
	}
	if unitOK && l.Caps.ProductMax.Sign() > 0 && l.Caps.ProductMax.LessThan(l.RoundDownTo) {
		r.Add(m.Get("round_down_to"), "limit.round_down_to", "¥%s is above product_max ¥%s: every limit would round to 0", l.RoundDownTo, l.Caps.ProductMax)
	}
}

// capAboveBases reports a cap below the base amount of an eligible grade:
// that grade's base could never be granted, so the table would mislead.
func (r *reader) capAboveBases(n *yaml.Node, path string, cap decimal.Decimal) {
	for _, g := range r.p.Grades {
		if d, ok := r.p.Limit.BaseByGrade[g.Name]; ok && cap.LessThan(d) {
			r.Add(n, path, "cap ¥%s is below the base amount ¥%s of grade %s", cap, d, g.Name)
			return
		}
	}
}

var adjustmentKinds = []string{string(PerPointAbove), string(RecommendationBonus), string(Fixed)}

func (r *reader) adjustments(n *yaml.Node) {
	if n == nil {
		return
	}
	nodes, _ := r.List(n, "limit.adjustments", maxAdjustments)
	seen := map[string]int{}
	for i, an := range nodes {
		path := yamldoc.Index("limit.adjustments", i)
		m := r.Fields(an, path, append([]string{"id", "label"}, adjustmentKinds...))
		if m == nil {
			continue
		}
		errs := len(r.Problems)
		var a Adjustment
		a.ID, _ = r.id(m.Require("id"), path+".id", seen)
		a.Label, _ = r.label(m.Require("label"), path+".label")
		var kinds []string
		for _, k := range adjustmentKinds {
			if m.Get(k) != nil {
				kinds = append(kinds, k)
			}
		}
		if len(kinds) != 1 {
			r.Add(an, path, "give exactly one of %s", strings.Join(adjustmentKinds, ", "))
			continue
		}
		a.Kind = AdjustmentKind(kinds[0])
		kp := path + "." + kinds[0]
		kn := m.Get(kinds[0])
		switch a.Kind {
		case PerPointAbove:
			km := r.Fields(kn, kp, []string{"input", "above", "amount", "max"})
			if km == nil {
				continue
			}
			a.slot = -1
			if s, ok := r.Str(km.Require("input"), kp+".input"); ok {
				a.Input = s
				if slot, ok := r.useAt(km.Get("input"), kp+".input", s); ok {
					a.slot = slot
					in := r.p.Inputs[slot]
					if !in.Type.numeric() {
						r.Add(km.Get("input"), kp+".input", "%s is %s; per_point_above needs a number", s, in.Type)
					} else {
						a.Above, _ = r.number(km.Require("above"), kp+".above", in.spec.Min, in.spec.Max, 4)
					}
				}
			}
			a.Amount, _ = r.money(km.Require("amount"), kp+".amount", true)
			if mn := km.Get("max"); mn != nil {
				a.Max, _ = r.money(mn, kp+".max", true)
			}
		case RecommendationBonus:
			km := r.Fields(kn, kp, []string{"share", "max"})
			if km == nil {
				continue
			}
			a.Share, _ = r.number(km.Require("share"), kp+".share", decimal.New(1, -4), one, 4)
			a.Max, _ = r.money(km.Require("max"), kp+".max", true)
			key := m.Key(kinds[0])
			a.recPresent, _ = r.useAt(key, kp, "recommendation.present")
			a.recWorthy, _ = r.useAt(key, kp, "recommendation.creditworthy")
			a.recAmount, _ = r.useAt(key, kp, "recommendation.amount")
		case Fixed:
			km := r.Fields(kn, kp, []string{"when", "amount"})
			if km == nil {
				continue
			}
			a.When, _ = r.condition(km.Require("when"), kp+".when")
			a.Amount, _ = r.number(km.Require("amount"), kp+".amount", maxMoney.Neg(), maxMoney, 2)
		}
		if len(r.Problems) == errs {
			r.p.Limit.Adjustments = append(r.p.Limit.Adjustments, a)
		}
	}
}

// --- rates --------------------------------------------------------------------

func (r *reader) rates(n *yaml.Node) {
	m := r.Fields(n, "rates", []string{"base_rate", "by_grade"})
	if m == nil {
		return
	}
	t := &r.p.Rates
	t.ByGrade = map[string]GradeRate{}
	if bn := m.Get("base_rate"); bn != nil {
		t.BaseRate, _ = r.number(bn, "rates.base_rate", decimal.New(1, -6), rateLimit, 6)
	}
	bm := r.Fields(m.Require("by_grade"), "rates.by_grade", nil)
	if bm == nil || r.gradeIdx == nil {
		return
	}
	rateAt := map[string]*yaml.Node{}
	for _, name := range bm.Keys() {
		path := "rates.by_grade." + name
		if _, ok := r.gradeKey(bm.Key(name), path, "rate"); !ok {
			continue
		}
		gm := r.Fields(bm.Get(name), path, []string{"annual_rate", "spread_bp"})
		if gm == nil {
			continue
		}
		an, sn := gm.Get("annual_rate"), gm.Get("spread_bp")
		if (an == nil) == (sn == nil) {
			r.Add(gm.Node(), path, "give exactly one of annual_rate, spread_bp")
			continue
		}
		var gr GradeRate
		if an != nil {
			d, ok := r.number(an, path+".annual_rate", decimal.New(1, -6), rateLimit, 6)
			if !ok {
				continue
			}
			gr.AnnualRate, gr.Rate = d, d
			rateAt[name] = an
		} else {
			bp, ok := r.Integer(sn, path+".spread_bp", -1000, 2000)
			if !ok {
				continue
			}
			if t.BaseRate.Sign() == 0 {
				r.Add(sn, path+".spread_bp", "a spread needs rates.base_rate")
				continue
			}
			gr.SpreadBP, gr.HasSpread = bp, true
			gr.Rate = t.BaseRate.Add(decimal.New(int64(bp), -4))
			if gr.Rate.Sign() <= 0 || gr.Rate.GreaterThan(rateLimit) {
				r.Add(sn, path+".spread_bp", "gives an annual rate of %s, outside (0, %s]", gr.Rate, maxRate)
				continue
			}
			rateAt[name] = sn
		}
		t.ByGrade[name] = gr
	}
	var better *Grade
	for _, g := range r.p.Grades {
		if !g.Eligible {
			continue
		}
		gr, ok := t.ByGrade[g.Name]
		if bm.Key(g.Name) == nil {
			r.Add(m.Key("by_grade"), "rates.by_grade", "no rate for eligible grade %s", g.Name)
		}
		if ok && better != nil && gr.Rate.LessThan(t.ByGrade[better.Name].Rate) {
			r.Add(rateAt[g.Name], "rates.by_grade."+g.Name, "%s's rate %s is below the better grade %s's %s", g.Name, gr.Rate, better.Name, t.ByGrade[better.Name].Rate)
		}
		if ok {
			g := g
			better = &g
		}
	}
}
