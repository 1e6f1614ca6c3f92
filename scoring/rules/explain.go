package rules

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/dectext"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// This file explains a decision to the household and the regulator (PIPL
// art. 24): the principal reasons the score is not better, and what single
// change would improve the outcome.
//
// Reasons follow adverse-action practice: for each characteristic, the
// shortfall is the points of its best bin minus the points it scored; the
// characteristics with a positive shortfall are ranked by it (largest
// first, document order breaking ties) and at most four are given. So the
// list is empty exactly when every characteristic is in its best bin, and
// every reason is tied to a factor that was actually scored.
//
// Counterfactuals change one actionable input (governance points, or
// existing debt; see Direction in inputs.go). A domain subtotal moves the
// credit total with it, since it is part of it. Candidates are the values
// where something can change: the first value of each better bin of a
// characteristic that reads the input (or the total it moves), and the
// thresholds of knock-out conditions on it. They are tried smallest change
// first, within the policy's declared ranges; the first that works is
// re-evaluated in full, so the grade lift is real and the limit change is
// exact. Knock-outs come first: for each knock-out that fired and reads an
// actionable input, the smallest change that clears it. Then, when no
// knock-out fired and the grade is not the best, the smallest change to
// each actionable input that lifts the grade. A household whose inputs
// are invalid gets no counterfactuals. Combinations of changes are not
// searched.

// Counterfactual kinds.
const (
	ClearKnockOut = "clear_knockout"
	LiftGrade     = "lift_grade"
)

// Counterfactual is one change that would improve the decision.
type Counterfactual struct {
	Kind     string // ClearKnockOut or LiftGrade
	KnockOut string // the knock-out cleared (ClearKnockOut)
	// Input changes From → To; Change = To − From (negative for a
	// reduction). Also names an input that moves by the same Change (the
	// credit total, when a domain subtotal changes), or is "".
	Input    string
	From, To decimal.Decimal
	Change   decimal.Decimal
	Also     string
	// The outcome after the change, from a full re-evaluation.
	Grade      string
	Eligible   bool
	Limit      decimal.Decimal
	LimitDelta decimal.Decimal // Limit after − Limit now
	Text       Label
}

// Apply returns in with the counterfactual's change made, the way the
// engine evaluated it.
func (c Counterfactual) Apply(in Input) Input {
	set := func(name string, f func(decimal.Decimal) decimal.Decimal) {
		i, ok := inputIndex[name]
		if !ok {
			return
		}
		s := inputs[i]
		switch {
		case s.dec != nil:
			p := s.dec(&in)
			*p = f(*p)
		case s.num != nil:
			p := s.num(&in)
			*p = int(f(decimal.NewFromInt(int64(*p))).IntPart())
		}
	}
	set(c.Input, func(decimal.Decimal) decimal.Decimal { return c.To })
	if c.Also != "" {
		set(c.Also, func(d decimal.Decimal) decimal.Decimal { return d.Add(c.Change) })
	}
	return in
}

// maxReasons is the number of principal reasons given (adverse-action
// practice).
const maxReasons = 4

// Reason is one principal reason the score is not better.
type Reason struct {
	Code       string `json:"code"` // the characteristic's id
	Input      string `json:"input"`
	Value      string `json:"value"` // as in ScoredCharacteristic
	Points     int    `json:"points"`
	BestPoints int    `json:"best_points"`
	Shortfall  int    `json:"shortfall"` // BestPoints − Points, > 0
	Text       Label  `json:"text"`
}

func (p *Policy) reasons(d *Decision, in *Input) []Reason {
	var out []Reason
	for i, sc := range d.Characteristics {
		if sc.Points >= sc.BestPoints {
			continue
		}
		c := &p.Characteristics[i]
		di := p.Inputs[c.slot]
		v := showValue(di.spec, in)
		best := c.band(c.best, di)
		gap := sc.BestPoints - sc.Points
		g := strconv.Itoa(gap)
		var t Label
		switch c.Monotone {
		case Increasing:
			t = Label{c.Label.ZH + " " + v.ZH + "，低于最优档（" + best.ZH + "），评分少 " + g + " 分",
				c.Label.EN + ": " + v.EN + ", below the best band (" + best.EN + "); " + g + " fewer score points"}
		case Decreasing:
			t = Label{c.Label.ZH + " " + v.ZH + "，高于最优档（" + best.ZH + "），评分少 " + g + " 分",
				c.Label.EN + ": " + v.EN + ", above the best band (" + best.EN + "); " + g + " fewer score points"}
		default:
			t = Label{c.Label.ZH + "：" + v.ZH + "，不在最优档（" + best.ZH + "），评分少 " + g + " 分",
				c.Label.EN + ": " + v.EN + ", not in the best band (" + best.EN + "); " + g + " fewer score points"}
		}
		out = append(out, Reason{Code: c.ID, Input: c.Input, Value: sc.Value, Points: sc.Points,
			BestPoints: sc.BestPoints, Shortfall: gap, Text: t})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Shortfall > out[j].Shortfall })
	if len(out) > maxReasons {
		out = out[:maxReasons]
	}
	return out
}

// --- counterfactuals ----------------------------------------------------------

func (p *Policy) counterfactuals(d *Decision, in *Input, on household.Date, vals []value, g int) []Counterfactual {
	var out []Counterfactual
	fired := map[string]bool{}
	for _, k := range d.KnockOuts {
		fired[k.ID] = true
	}
	for ki := range p.KnockOuts {
		k := &p.KnockOuts[ki]
		if !fired[k.ID] {
			continue
		}
		for _, s := range k.When.slots {
			if p.Inputs[s].spec.Direction == 0 {
				continue
			}
			cleared := func(trial []value) bool { return !k.When.eval(trial) }
			verify := func(after *Decision) bool {
				return !slices.ContainsFunc(after.KnockOuts, func(f FiredKnockOut) bool { return f.ID == k.ID })
			}
			cands := p.candidates(s, in, func(t int) []decimal.Decimal {
				var out []decimal.Decimal
				for _, l := range k.When.thresholds(t) {
					st := p.Inputs[t].spec.Step
					out = append(out, l.Sub(st), l, l.Add(st))
				}
				return out
			})
			if cf, ok := p.tryCandidates(d, in, on, vals, s, cands, cleared, verify); ok {
				cf.Kind, cf.KnockOut = ClearKnockOut, k.ID
				cf.Text = counterfactualText(p, d, &cf, k.Reason)
				out = append(out, cf)
			}
		}
	}
	if len(d.KnockOuts) > 0 || g == 0 {
		return out
	}
	for s := range p.Inputs {
		spec := p.Inputs[s].spec
		if spec.Direction == 0 || !p.scored(s) {
			continue
		}
		lifted := func(trial []value) bool { return p.gradeOf(p.score(trial)) < g }
		verify := func(after *Decision) bool { return p.gradeIndex(after.Grade) < g }
		cands := p.candidates(s, in, p.binEntries)
		if cf, ok := p.tryCandidates(d, in, on, vals, s, cands, lifted, verify); ok {
			cf.Kind = LiftGrade
			cf.Text = counterfactualText(p, d, &cf, Label{})
			out = append(out, cf)
		}
	}
	return out
}

// scored reports whether a characteristic reads slot s, or the input s
// moves with.
func (p *Policy) scored(s int) bool {
	also := p.alsoSlot(s)
	for _, c := range p.Characteristics {
		if c.slot == s || c.slot == also && also >= 0 {
			return true
		}
	}
	return false
}

// alsoSlot is the slot of the input that moves with slot s, or -1.
func (p *Policy) alsoSlot(s int) int {
	if a := p.Inputs[s].spec.Also; a != "" {
		if t, ok := p.slot[a]; ok {
			return t
		}
	}
	return -1
}

func (p *Policy) score(vals []value) int {
	n := 0
	for i := range p.Characteristics {
		c := &p.Characteristics[i]
		n += c.Bins[c.bin(vals[c.slot])].Points
	}
	return n
}

func (p *Policy) gradeIndex(name string) int {
	return slices.IndexFunc(p.Grades, func(g Grade) bool { return g.Name == name })
}

// binEntries returns, for every characteristic on slot t, the first value
// of each bin from the household's side: its lowest value for an input
// raised to improve, its highest for one lowered.
func (p *Policy) binEntries(t int) []decimal.Decimal {
	di := p.Inputs[t]
	dir := di.spec.Direction
	var out []decimal.Decimal
	for _, c := range p.Characteristics {
		if c.slot != t {
			continue
		}
		for _, b := range c.Bins {
			switch {
			case di.Type == TypeInt && dir > 0 && b.lo > -1<<62:
				out = append(out, decimal.NewFromInt(b.lo))
			case di.Type == TypeInt && dir < 0 && b.hi < 1<<62:
				out = append(out, decimal.NewFromInt(b.hi))
			case di.Type == TypeDecimal && dir > 0 && !b.Range.LoInf:
				e := b.Range.Lo
				if b.Range.LoOpen {
					e = e.Add(di.spec.Step)
				}
				out = append(out, e)
			case di.Type == TypeDecimal && dir < 0 && !b.Range.HiInf:
				e := b.Range.Hi
				if b.Range.HiOpen {
					e = e.Sub(di.spec.Step)
				}
				out = append(out, e)
			}
		}
	}
	return out
}

// candidates returns the changes to slot s worth trying, smallest first:
// each target value of s (from targets(s)) or of the input s moves with
// (targets(also)), as a change in s's direction.
func (p *Policy) candidates(s int, in *Input, targets func(t int) []decimal.Decimal) []decimal.Decimal {
	dir := p.Inputs[s].spec.Direction
	var changes []decimal.Decimal
	add := func(t int) {
		cur := rawDecimal(p.Inputs[t].spec, in)
		for _, e := range targets(t) {
			ch := e.Sub(cur)
			if ch.Sign() == dir {
				changes = append(changes, ch)
			}
		}
	}
	add(s)
	if a := p.alsoSlot(s); a >= 0 {
		add(a)
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Abs().LessThan(changes[j].Abs()) })
	return slices.CompactFunc(changes, func(a, b decimal.Decimal) bool { return a.Equal(b) })
}

// tryCandidates finds the first change that passes the cheap test works
// on the input values and then the full re-evaluation verify.
func (p *Policy) tryCandidates(d *Decision, in *Input, on household.Date, vals []value, s int, changes []decimal.Decimal,
	works func([]value) bool, verify func(*Decision) bool) (Counterfactual, bool) {
	spec := p.Inputs[s].spec
	also := p.alsoSlot(s)
	from := rawDecimal(spec, in)
	trial := make([]value, len(vals))
	for _, ch := range changes {
		copy(trial, vals)
		if !p.setTrial(trial, s, rawDecimal(spec, in).Add(ch)) {
			continue
		}
		if also >= 0 && !p.setTrial(trial, also, rawDecimal(p.Inputs[also].spec, in).Add(ch)) {
			continue
		}
		if !works(trial) {
			continue
		}
		cf := Counterfactual{Input: spec.Name, From: from, To: from.Add(ch), Change: ch}
		if also >= 0 {
			cf.Also = p.Inputs[also].Name
		}
		after := cf.Apply(*in)
		ad := p.evaluate(&after, on, false)
		if !verify(&ad) {
			continue
		}
		cf.Grade, cf.Eligible, cf.Limit = ad.Grade, ad.Eligible, ad.Limit
		cf.LimitDelta = ad.Limit.Sub(d.Limit)
		return cf, true
	}
	return Counterfactual{}, false
}

// setTrial sets slot s to x when x lies in the declared range.
func (p *Policy) setTrial(vals []value, s int, x decimal.Decimal) bool {
	di := &p.Inputs[s]
	if x.LessThan(di.Min) || x.GreaterThan(di.Max) {
		return false
	}
	if di.Type == TypeInt {
		if !x.IsInteger() {
			return false
		}
		vals[s].i = x.IntPart()
	} else {
		vals[s].d = x
	}
	return true
}

func counterfactualText(p *Policy, d *Decision, cf *Counterfactual, knock Label) Label {
	spec := p.Inputs[p.slot[cf.Input]].spec
	var change Label
	mag := cf.Change.Abs()
	switch {
	case spec.Unit == UnitPoints && cf.Change.Sign() > 0:
		change = Label{"再获得 " + mag.String() + " 分" + spec.Label.ZH, mag.String() + " more " + spec.Label.EN}
	case spec.Unit == UnitYuan && cf.Change.Sign() < 0:
		change = Label{spec.Label.ZH + "减少 " + yuan(mag), "Reducing " + spec.Label.EN + " by " + yuan(mag)}
	default:
		from, to := fmtValue(spec, cf.From), fmtValue(spec, cf.To)
		change = Label{spec.Label.ZH + "从 " + from.ZH + " 变为 " + to.ZH, "Changing " + spec.Label.EN + " from " + from.EN + " to " + to.EN}
	}
	var what Label
	if cf.Kind == ClearKnockOut {
		what = Label{"可消除否决项「" + knock.ZH + "」", " would clear the knock-out “" + knock.EN + "”"}
	} else {
		what = Label{"可升至 " + cf.Grade + " 级", " would lift the grade to " + cf.Grade}
	}
	var tail Label
	switch {
	case !cf.Eligible && cf.Kind == ClearKnockOut && len(d.KnockOuts) > 1:
		tail = Label{"，但仍有其他否决项", ", but other knock-outs remain"}
	case !cf.Eligible:
		tail = Label{"，但仍不符合授信条件", ", but the household would still not be eligible"}
	case !d.Eligible:
		tail = Label{"，可获授信额度 " + yuan(cf.Limit), " and give a credit line of " + yuan(cf.Limit)}
	case cf.LimitDelta.Sign() > 0:
		tail = Label{"，额度增加 " + yuan(cf.LimitDelta), " and the limit by " + yuan(cf.LimitDelta)}
	case cf.LimitDelta.Sign() < 0:
		tail = Label{"，但额度减少 " + yuan(cf.LimitDelta.Abs()), " but lower the limit by " + yuan(cf.LimitDelta.Abs())}
	default:
		tail = Label{"，额度不变", "; the limit would not change"}
	}
	if change.ZH[len(change.ZH)-1] < utf8.RuneSelf {
		change.ZH += " " // "减少 ¥50,000 可升至": Latin text is spaced off
	}
	return Label{change.ZH + what.ZH + tail.ZH, change.EN + what.EN + tail.EN}
}

// --- showing values -------------------------------------------------------------

// rawValue is the input's value as the canonical input writes it.
func rawValue(s *InputSpec, in *Input) string {
	switch {
	case s.dec != nil:
		return s.dec(in).String()
	case s.num != nil:
		return strconv.Itoa(*s.num(in))
	case s.flag != nil:
		return strconv.FormatBool(*s.flag(in))
	}
	if v := *s.str(in); v != "" {
		return v
	}
	return enumNone
}

// rawDecimal is a numeric input's value as a decimal (0 for others).
func rawDecimal(s *InputSpec, in *Input) decimal.Decimal {
	switch {
	case s.dec != nil:
		return *s.dec(in)
	case s.num != nil:
		return decimal.NewFromInt(int64(*s.num(in)))
	}
	return decimal.Zero
}

// showValue writes the household's value of input s for people.
func showValue(s *InputSpec, in *Input) Label {
	switch s.Type {
	case TypeBool:
		return yesNo(*s.flag(in))
	case TypeEnum:
		if i := s.enumIndex(string(*s.str(in))); i >= 0 {
			return s.ValueLabels[i]
		}
		w := string(*s.str(in))
		return Label{w, w}
	}
	return fmtValue(s, rawDecimal(s, in))
}

func yesNo(b bool) Label {
	if b {
		return Label{"是", "yes"}
	}
	return Label{"否", "no"}
}

// fmtValue writes a number with its unit.
func fmtValue(s *InputSpec, d decimal.Decimal) Label {
	n := d.String()
	plural := func(one, many string) string {
		if d.Equal(decimal.NewFromInt(1)) {
			return n + " " + one
		}
		return n + " " + many
	}
	switch s.Unit {
	case UnitPoints:
		return Label{n + " 分", plural("point", "points")}
	case UnitYuan:
		y := yuan(d)
		return Label{y, y}
	case UnitMu:
		return Label{n + " 亩", n + " mu"}
	case UnitShares:
		return Label{n + " 股", plural("share", "shares")}
	case UnitDays:
		return Label{n + " 天", plural("day", "days")}
	case UnitTimes:
		return Label{n + " 次", plural("time", "times")}
	case UnitYears:
		return Label{n + " 岁", plural("year", "years")}
	case UnitPeople:
		return Label{n + " 人", plural("person", "people")}
	case UnitStars:
		return Label{n + " 星", plural("star", "stars")}
	case UnitMonths:
		return Label{n + " 个月", plural("month", "months")}
	}
	return Label{n, n}
}

// yuan writes an amount as ¥1,234 or ¥1,234.50.
func yuan(d decimal.Decimal) string {
	sign := ""
	if d.Sign() < 0 {
		sign, d = "-", d.Neg()
	}
	s := dectext.Fixed(d, 2)
	if d.IsInteger() {
		s = dectext.Fixed(d, 0)
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return sign + "¥" + b.String()
}

func joinWords(ws []string) string { return strings.Join(ws, ", ") }

// band describes bin i of the characteristic for people, e.g. 不低于 30
// 分且低于 50 分 / at least 30 points and below 50 points. An end at or
// beyond the declared range is left out: [0, 90] days of a range starting
// at 0 reads "at most 90 days".
func (c *Characteristic) band(i int, di DeclaredInput) Label {
	b := &c.Bins[i]
	if b.Label != (Label{}) {
		return b.Label
	}
	s := di.spec
	if c.typ == TypeBool || c.typ == TypeEnum {
		var zh, en []string
		for _, w := range b.Values {
			l := Label{w, w}
			if c.typ == TypeBool {
				l = yesNo(w == "true")
			} else if k := s.enumIndex(w); k >= 0 {
				l = s.ValueLabels[k]
			}
			zh, en = append(zh, l.ZH), append(en, l.EN)
		}
		return Label{strings.Join(zh, "、"), strings.Join(en, " or ")}
	}
	var lo, hi *Label
	if c.typ == TypeInt {
		if b.lo == b.hi {
			return fmtValue(s, decimal.NewFromInt(b.lo))
		}
		if b.lo > di.lo {
			v := fmtValue(s, decimal.NewFromInt(b.lo))
			lo = &Label{"不低于 " + v.ZH, "at least " + v.EN}
		}
		if b.hi < di.hi {
			v := fmtValue(s, decimal.NewFromInt(b.hi))
			hi = &Label{"不高于 " + v.ZH, "at most " + v.EN}
		}
	} else {
		iv := b.Range
		if !iv.LoInf && iv.Lo.Cmp(di.Min) > 0 || !iv.LoInf && iv.Lo.Equal(di.Min) && iv.LoOpen {
			v := fmtValue(s, iv.Lo)
			if iv.LoOpen {
				lo = &Label{"高于 " + v.ZH, "above " + v.EN}
			} else {
				lo = &Label{"不低于 " + v.ZH, "at least " + v.EN}
			}
		}
		if !iv.HiInf && iv.Hi.Cmp(di.Max) < 0 || !iv.HiInf && iv.Hi.Equal(di.Max) && iv.HiOpen {
			v := fmtValue(s, iv.Hi)
			if iv.HiOpen {
				hi = &Label{"低于 " + v.ZH, "below " + v.EN}
			} else {
				hi = &Label{"不高于 " + v.ZH, "at most " + v.EN}
			}
		}
	}
	switch {
	case lo != nil && hi != nil:
		sep := "且"
		if lo.ZH[len(lo.ZH)-1] < utf8.RuneSelf {
			sep = " 且" // after ¥40,000, as Chinese typesetting spaces Latin text
		}
		return Label{lo.ZH + sep + hi.ZH, lo.EN + " and " + hi.EN}
	case lo != nil:
		return *lo
	case hi != nil:
		return *hi
	}
	return Label{"任意值", "any value"}
}
