package rules

import (
	"bytes"
	"encoding/json"
	"math/big"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/dectext"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// This file is the evaluation: how a policy turns an Input into a
// Decision. In order:
//
//  1. Inputs. Each declared input is read from the snapshot. A value the
//     engine does not accept (negative income, an unknown star level) is
//     an input problem: the decision is declined (INPUT_INVALID). A value
//     outside the policy's declared range is scored at the nearest end of
//     it and listed in Decision.Clamped; knock-outs, adjustments and caps
//     see the actual value.
//  2. Knock-outs. Every knock-out whose condition holds is listed. Any one
//     makes the household ineligible with limit 0; score and grade are
//     still computed and reported, for the explanation.
//  3. Score. Each characteristic's value falls in exactly one bin; the
//     score is the sum of the bins' points. The grade is the first (best)
//     grade whose min_score the score reaches. Implied odds follow from
//     the declared scaling.
//  4. Limit, for an eligible grade with no knock-out: base amount of the
//     grade, plus each adjustment, minus existing debt (when declared),
//     floored at 0, then each cap in turn (product_max, income_multiple ×
//     annual income, total_exposure_max − other banks' limits), then
//     rounded down to a whole multiple of round_down_to. A limit below
//     min_amount is no limit: declined (LIMIT_BELOW_MINIMUM). Every step
//     is recorded in Decision.LimitSteps. All arithmetic is decimal and
//     exact; the only rounding is the declared one.
//  5. Rate: the grade's rate, for an eligible decision.
//  6. ValidUntil: the decision date plus decision_valid_days, or plus
//     line.term_months; ReviewOn: plus line.review_months.
//  7. Explanation (explain.go): reasons and counterfactuals.
//
// Evaluate reads no clock and does no I/O: the same policy, input and
// date give the same Decision, byte for byte (Decision.Canonical).

// value is one input's value during evaluation: d for decimals; i for
// ints, bools (0/1) and enums (index into the vocabulary).
type value struct {
	d decimal.Decimal
	i int64
}

// Decision is the outcome of evaluating a policy for one household on one
// day, with everything needed to explain and replay it.
type Decision struct {
	Bank          string
	Product       string
	PolicyVersion int
	PolicyHash    string // Policy.Hash of the policy evaluated
	InputHash     string // Input.Hash of the snapshot evaluated
	On            household.Date
	ValidUntil    household.Date // On + decision_valid_days (or line.term_months); "" when On is not a date
	// ReviewOn is when the decision is due for review (On +
	// line.review_months): the service re-assesses the line then. ""
	// under a policy without a line block.
	ReviewOn household.Date

	// Eligible is true when the household gets a line: no knock-out, an
	// eligible grade, valid inputs and a limit of at least min_amount.
	Eligible bool
	// KnockOuts are the knock-outs that fired, in document order.
	KnockOuts []FiredKnockOut
	// Declines are the other reasons the household is not eligible.
	Declines []Decline

	Score int
	// Odds are the good:bad odds the score implies under the policy's
	// scaling, to 4 significant digits.
	Odds  decimal.Decimal
	Grade string
	// Characteristics are every scorecard line, in document order.
	Characteristics []ScoredCharacteristic
	// Bins are the index of the bin each characteristic fell in, in
	// scorecard order: set by Outcome as well as Evaluate (back-testing
	// stores them with the decision). Every characteristic is scored,
	// knocked out or not, so a decision of a policy with a scorecard has
	// all of them.
	Bins []int

	// Limit is the credit line in yuan: 0 unless Eligible.
	Limit      decimal.Decimal
	LimitSteps []LimitStep
	// Rate is the annual interest rate as a fraction (0.0435 = 4.35%);
	// 0 unless Eligible.
	Rate decimal.Decimal

	// Reasons are the principal reasons the score is not better: at most
	// four characteristics below their best bin, largest shortfall first.
	Reasons []Reason
	// Counterfactuals are the smallest single changes to actionable
	// inputs that would clear a knock-out or lift the grade.
	Counterfactuals []Counterfactual
	// Clamped lists inputs outside the policy's declared range, which
	// were scored at the nearest end of it.
	Clamped []string
}

// FiredKnockOut is a knock-out that applied.
type FiredKnockOut struct {
	ID     string `json:"id"`
	Reason Label  `json:"reason"`
}

// Decline codes: why a household without a knock-out is not eligible.
const (
	DeclineInputInvalid     = "INPUT_INVALID"
	DeclineGradeNotEligible = "GRADE_NOT_ELIGIBLE"
	DeclineBelowMinimum     = "LIMIT_BELOW_MINIMUM"
)

// Decline is one reason, other than a knock-out, that a household is not
// eligible.
type Decline struct {
	Code string `json:"code"`
	Text Label  `json:"text"`
}

// ScoredCharacteristic is one scorecard line of a decision.
type ScoredCharacteristic struct {
	ID    string
	Input string
	// Value is the household's value as in the canonical input ("12.5",
	// "3", "true", "county").
	Value string
	// Bin is the index of the bin the value fell in; Band describes it.
	Bin    int
	Band   Label
	Points int
	// BestPoints is what the characteristic's best bin scores.
	BestPoints int
}

// Limit steps, in the order they are applied.
const (
	StepBase         = "base"
	StepAdjustment   = "adjustment"
	StepExistingDebt = "existing_debt"
	StepFloor        = "floor"
	StepCap          = "cap"
	StepRound        = "round"
	StepMinimum      = "minimum"
)

// LimitStep is one step of the limit's working: Amount is what the step
// added (negative when it took away) or, for a cap, the cap's value;
// Result is the running amount after it.
type LimitStep struct {
	Step   string
	ID     string // the grade, adjustment id or cap name
	Amount decimal.Decimal
	Result decimal.Decimal
}

// Evaluate applies policy p to the household snapshot in on date on. It
// is pure and total: every input gives a Decision (invalid inputs give an
// ineligible one that says why).
func Evaluate(p *Policy, in Input, on household.Date) Decision {
	return p.evaluate(&in, on, true)
}

// Outcome is Evaluate without the explanation: eligibility, knock-outs,
// declines, score, grade, limit and its steps, rate and validity, but no
// input hash, scorecard lines, odds, reasons or counterfactuals. A
// simulation over a whole population needs only these, and the
// explanation is most of Evaluate's cost. The outcome fields are exactly
// Evaluate's.
func Outcome(p *Policy, in Input, on household.Date) Decision {
	return p.evaluate(&in, on, false)
}

// evaluate computes the decision; explain adds the input hash, the
// scorecard lines, odds, reasons and counterfactuals (off when checking a
// counterfactual, which needs only the outcome: knock-outs, score, grade,
// eligibility and limit).
func (p *Policy) evaluate(in *Input, on household.Date, explain bool) Decision {
	d := Decision{Bank: p.Bank, Product: p.Product, PolicyVersion: p.Version, PolicyHash: p.hash, On: on}
	if explain {
		d.InputHash = in.Hash()
	}
	var buf [32]value
	vals := buf[:0]
	if len(p.Inputs) > len(buf) {
		vals = make([]value, 0, len(p.Inputs))
	}
	vals, problems := p.values(in, vals, &d.Clamped)

	// Knock-outs.
	for _, k := range p.KnockOuts {
		if k.When.eval(vals) {
			d.KnockOuts = append(d.KnockOuts, FiredKnockOut{ID: k.ID, Reason: k.Reason})
		}
	}

	// Score and grade.
	if explain {
		d.Characteristics = make([]ScoredCharacteristic, len(p.Characteristics))
	}
	if len(p.Characteristics) > 0 {
		d.Bins = make([]int, len(p.Characteristics))
	}
	for i := range p.Characteristics {
		c := &p.Characteristics[i]
		b := c.bin(vals[c.slot])
		d.Bins[i] = b
		d.Score += c.Bins[b].Points
		if explain {
			d.Characteristics[i] = ScoredCharacteristic{ID: c.ID, Input: c.Input, Value: rawValue(p.Inputs[c.slot].spec, in),
				Bin: b, Band: c.band(b, p.Inputs[c.slot]), Points: c.Bins[b].Points, BestPoints: c.max}
		}
	}
	g := p.gradeOf(d.Score)
	d.Grade = p.Grades[g].Name

	// Validity.
	if day, err := household.ParseDate(string(on)); err == nil {
		if p.Line != nil {
			d.ValidUntil = day.AddMonths(p.Line.TermMonths)
			d.ReviewOn = day.AddMonths(p.Line.ReviewMonths)
		} else {
			t, _ := time.Parse(time.DateOnly, string(day))
			d.ValidUntil = household.Date(t.AddDate(0, 0, p.DecisionValidDays).Format(time.DateOnly))
		}
	} else {
		problems = append(problems, Label{"决策日期 " + quote(string(on)) + " 不是 YYYY-MM-DD 格式的日期", "decision date " + quote(string(on)) + " is not a YYYY-MM-DD date"})
	}

	// Eligibility and limit.
	for _, pr := range problems {
		d.Declines = append(d.Declines, Decline{DeclineInputInvalid, Label{"输入数据有误：" + pr.ZH, "invalid input: " + pr.EN}})
	}
	grade := p.Grades[g]
	if !grade.Eligible {
		d.Declines = append(d.Declines, Decline{DeclineGradeNotEligible, Label{
			"信用等级 " + grade.Name + " 不符合授信条件", "grade " + grade.Name + " is not eligible for credit"}})
	}
	d.Limit = decimal.Zero
	d.Rate = decimal.Zero
	if len(d.KnockOuts) == 0 && len(d.Declines) == 0 {
		limit, steps := p.limit(grade.Name, vals, explain)
		d.LimitSteps = steps
		if limit.LessThan(p.Limit.MinAmount) {
			d.LimitSteps = append(d.LimitSteps, LimitStep{Step: StepMinimum, Amount: p.Limit.MinAmount, Result: decimal.Zero})
			d.Declines = append(d.Declines, Decline{DeclineBelowMinimum, Label{
				"测算额度 " + yuan(limit) + " 低于最低授信额度 " + yuan(p.Limit.MinAmount),
				"the computed limit of " + yuan(limit) + " is below the minimum line of " + yuan(p.Limit.MinAmount)}})
		} else {
			d.Eligible = true
			d.Limit = limit
			d.Rate = p.Rates.ByGrade[grade.Name].Rate
		}
	}

	if explain {
		d.Odds = p.odds(d.Score)
		d.Reasons = p.reasons(&d, in)
		if len(problems) == 0 {
			d.Counterfactuals = p.counterfactuals(&d, in, on, vals, g)
		}
	}
	return d
}

func quote(s string) string { return "“" + s + "”" }

// values reads the declared inputs into vals as they are, noting in
// clamped those outside the declared range (which bin scores at the
// nearest end) and returning input problems. Only the scorecard clamps:
// knock-outs, adjustments and caps see the household's actual values, so
// a declared range can never hide a knock-out.
func (p *Policy) values(in *Input, vals []value, clamped *[]string) ([]value, []Label) {
	var problems []Label
	for k := range p.Inputs {
		di := &p.Inputs[k]
		s := di.spec
		var v value
		switch {
		case s.dec != nil:
			x := *s.dec(in)
			if x.LessThan(s.Min) || x.GreaterThan(s.Max) {
				problems = append(problems, rangeProblem(s, x.String()))
			}
			if x.LessThan(di.Min) || x.GreaterThan(di.Max) {
				*clamped = append(*clamped, di.Name)
			}
			v.d = x
		case s.num != nil:
			n := int64(*s.num(in))
			if n < di.specLo || n > di.specHi {
				problems = append(problems, rangeProblem(s, strconv.FormatInt(n, 10)))
			}
			if n < di.lo || n > di.hi {
				*clamped = append(*clamped, di.Name)
			}
			v.i = n
		case s.flag != nil:
			if *s.flag(in) {
				v.i = 1
			}
		default:
			idx := s.enumIndex(string(*s.str(in)))
			if idx < 0 {
				w := string(*s.str(in))
				problems = append(problems, Label{
					s.Label.ZH + " " + quote(w) + " 不是有效值",
					s.Label.EN + " " + quote(w) + " is not one of " + joinWords(s.Values),
				})
				idx = 0 // scored as the first value; the decision is declined anyway
			}
			v.i = int64(idx)
		}
		vals = append(vals, v)
	}
	return vals, problems
}

func rangeProblem(s *InputSpec, v string) Label {
	return Label{
		s.Label.ZH + " " + v + " 超出可接受范围（" + s.Min.String() + " 至 " + s.Max.String() + "）",
		s.Label.EN + " " + v + " is outside the accepted range " + s.Min.String() + " to " + s.Max.String(),
	}
}

// bin returns the index of the bin v falls in. Parse guarantees that the
// bins are ascending and contiguous and cover the declared range, so a
// value no bin holds lies below the first (scored there) or above the
// last (scored there): that is the clamping to the declared range.
func (c *Characteristic) bin(v value) int {
	for i := range c.Bins {
		b := &c.Bins[i]
		var hit bool
		switch c.typ {
		case TypeEnum, TypeBool:
			hit = v1(v.i, b.set)
		case TypeInt:
			hit = v.i >= b.lo && v.i <= b.hi
		default:
			hit = b.Range.contains(v.d)
		}
		if hit {
			return i
		}
	}
	first := &c.Bins[0]
	switch c.typ {
	case TypeInt:
		if v.i < first.lo {
			return 0
		}
	case TypeDecimal:
		if !first.Range.LoInf && v.d.Cmp(first.Range.Lo) <= 0 {
			return 0
		}
	}
	return len(c.Bins) - 1
}

// gradeOf returns the index of the grade of score.
func (p *Policy) gradeOf(score int) int {
	for i, g := range p.Grades {
		if score >= g.MinScore {
			return i
		}
	}
	return len(p.Grades) - 1 // Parse makes the lowest grade cover the lowest score
}

// limit computes the limit of an eligible grade (before the min_amount
// test) and, when record is set, its working.
func (p *Policy) limit(grade string, vals []value, record bool) (decimal.Decimal, []LimitStep) {
	l := &p.Limit
	amt := l.BaseByGrade[grade]
	var steps []LimitStep
	step := func(s LimitStep) {
		if record {
			steps = append(steps, s)
		}
	}
	if record {
		steps = make([]LimitStep, 0, 4+len(l.Adjustments))
	}
	step(LimitStep{Step: StepBase, ID: grade, Amount: amt, Result: amt})
	for i := range l.Adjustments {
		a := &l.Adjustments[i]
		x := a.amount(vals, p)
		if x.IsZero() {
			continue
		}
		amt = amt.Add(x)
		step(LimitStep{Step: StepAdjustment, ID: a.ID, Amount: x, Result: amt})
	}
	if l.MinusExistingDebt {
		if debt := vals[l.debtSlot].d; debt.Sign() > 0 {
			amt = amt.Sub(debt)
			step(LimitStep{Step: StepExistingDebt, Amount: debt.Neg(), Result: amt})
		}
	}
	if amt.Sign() < 0 {
		step(LimitStep{Step: StepFloor, Amount: amt.Neg(), Result: decimal.Zero})
		amt = decimal.Zero
	}
	capAt := func(id string, c decimal.Decimal) {
		if amt.GreaterThan(c) {
			amt = c
			step(LimitStep{Step: StepCap, ID: id, Amount: c, Result: amt})
		}
	}
	capAt("product_max", l.Caps.ProductMax)
	if l.Caps.IncomeMultiple.Sign() > 0 {
		capAt("income_multiple", l.Caps.IncomeMultiple.Mul(vals[l.incomeSlot].d))
	}
	if l.Caps.TotalExposureMax.Sign() > 0 {
		room := l.Caps.TotalExposureMax.Sub(vals[l.otherLimitSlot].d)
		if room.Sign() < 0 {
			room = decimal.Zero
		}
		capAt("total_exposure_max", room)
	}
	// Round down to a whole multiple of the unit. QuoRem is exact: no
	// division precision is involved.
	q, _ := amt.QuoRem(l.RoundDownTo, 0)
	if rounded := q.Mul(l.RoundDownTo); !rounded.Equal(amt) {
		step(LimitStep{Step: StepRound, ID: l.RoundDownTo.String(), Amount: rounded.Sub(amt), Result: rounded})
		amt = rounded
	}
	return amt, steps
}

// amount is what the adjustment adds for vals.
func (a *Adjustment) amount(vals []value, p *Policy) decimal.Decimal {
	switch a.Kind {
	case PerPointAbove:
		v := vals[a.slot]
		x := v.d
		if p.Inputs[a.slot].Type == TypeInt {
			x = decimal.NewFromInt(v.i)
		}
		over := x.Sub(a.Above)
		if over.Sign() <= 0 {
			return decimal.Zero
		}
		amt := over.Mul(a.Amount)
		if a.Max.Sign() > 0 && amt.GreaterThan(a.Max) {
			amt = a.Max
		}
		return amt.Round(2) // to the fen: a fractional point pays pro rata
	case RecommendationBonus:
		if vals[a.recPresent].i == 0 || vals[a.recWorthy].i == 0 {
			return decimal.Zero
		}
		amt := vals[a.recAmount].d.Mul(a.Share).Round(2)
		if amt.GreaterThan(a.Max) {
			amt = a.Max
		}
		return amt
	case Fixed:
		if a.When.eval(vals) {
			return a.Amount
		}
	}
	return decimal.Zero
}

// prepareOdds precomputes 2^(1/pdo) to 40 places, once per policy, so
// that odds need only multiplications. Everything is decimal arithmetic
// on big integers, so the result is the same on every machine.
func (p *Policy) prepareOdds() {
	ln2, _ := decimal.NewFromInt(2).Ln(40)
	x := ln2.DivRound(decimal.NewFromInt(int64(p.Scaling.PDO)), 40)
	p.oddsStep, _ = x.ExpTaylor(40)
	for i := range p.Inputs {
		di := &p.Inputs[i]
		if di.Type == TypeInt {
			di.lo, di.hi = di.Min.IntPart(), di.Max.IntPart()
			di.specLo, di.specHi = di.spec.Min.IntPart(), di.spec.Max.IntPart()
		}
	}
}

// odds returns BaseOdds · 2^((score − BaseScore)/PDO) to 4 significant
// digits. With score − BaseScore = q·PDO + r (0 ≤ r < PDO) it is
// BaseOdds · 2^q · (2^(1/PDO))^r: whole doublings are exact (2^-q is
// 5^q·10^-q), so a score a whole number of PDOs from the base gives
// exact odds.
func (p *Policy) odds(score int) decimal.Decimal {
	k, pdo := score-p.Scaling.BaseScore, p.Scaling.PDO
	q, r := k/pdo, k%pdo
	if r < 0 {
		q, r = q-1, r+pdo
	}
	res := p.Scaling.BaseOdds
	if q >= 0 {
		res = res.Mul(decimal.NewFromBigInt(new(big.Int).Lsh(big.NewInt(1), uint(q)), 0))
	} else {
		res = res.Mul(decimal.NewFromBigInt(new(big.Int).Exp(big.NewInt(5), big.NewInt(int64(-q)), nil), int32(q)))
	}
	f := p.oddsStep
	for r > 0 {
		if r&1 == 1 {
			res = res.Mul(f).Truncate(40)
		}
		f = f.Mul(f).Truncate(40)
		r >>= 1
	}
	return significant(res, 4)
}

// significant rounds d to n significant digits.
func significant(d decimal.Decimal, n int) decimal.Decimal {
	if d.IsZero() {
		return decimal.Zero
	}
	magnitude := d.NumDigits() + int(d.Exponent()) // digits before the point
	return d.Round(int32(n - magnitude))
}

const decisionFormat = "sanzhi.policy.decision/v1"

// Canonical returns the decision's canonical encoding: compact JSON with
// fields in a fixed order, decimals as strings in shortest form and lists
// in the order the engine produced them. Evaluating the same policy on
// the same input and date gives the same bytes, which is what replay
// checks.
func (d Decision) Canonical() []byte {
	type cStep struct {
		Step   string `json:"step"`
		ID     string `json:"id,omitempty"`
		Amount string `json:"amount"`
		Result string `json:"result"`
	}
	type cChar struct {
		ID         string `json:"id"`
		Input      string `json:"input"`
		Value      string `json:"value"`
		Bin        int    `json:"bin"`
		Band       Label  `json:"band"`
		Points     int    `json:"points"`
		BestPoints int    `json:"best_points"`
	}
	type cCF struct {
		Kind       string `json:"kind"`
		KnockOut   string `json:"knockout,omitempty"`
		Input      string `json:"input"`
		From       string `json:"from"`
		To         string `json:"to"`
		Change     string `json:"change"`
		Also       string `json:"also,omitempty"`
		Grade      string `json:"grade"`
		Eligible   bool   `json:"eligible"`
		Limit      string `json:"limit"`
		LimitDelta string `json:"limit_delta"`
		Text       Label  `json:"text"`
	}
	type cDecision struct {
		Format          string          `json:"format"`
		Bank            string          `json:"bank"`
		Product         string          `json:"product"`
		PolicyVersion   int             `json:"policy_version"`
		PolicyHash      string          `json:"policy_hash"`
		InputHash       string          `json:"input_hash"`
		On              string          `json:"on"`
		ValidUntil      string          `json:"valid_until"`
		ReviewOn        string          `json:"review_on,omitempty"`
		Eligible        bool            `json:"eligible"`
		KnockOuts       []FiredKnockOut `json:"knockouts"`
		Declines        []Decline       `json:"declines"`
		Score           int             `json:"score"`
		Odds            string          `json:"odds"`
		Grade           string          `json:"grade"`
		Characteristics []cChar         `json:"characteristics"`
		Limit           string          `json:"limit"`
		LimitSteps      []cStep         `json:"limit_steps"`
		Rate            string          `json:"rate"`
		Reasons         []Reason        `json:"reasons"`
		Counterfactuals []cCF           `json:"counterfactuals"`
		Clamped         []string        `json:"clamped"`
	}
	cd := cDecision{
		Format: decisionFormat, Bank: d.Bank, Product: d.Product, PolicyVersion: d.PolicyVersion,
		PolicyHash: d.PolicyHash, InputHash: d.InputHash, On: string(d.On), ValidUntil: string(d.ValidUntil),
		ReviewOn: string(d.ReviewOn), Eligible: d.Eligible, KnockOuts: orEmpty(d.KnockOuts), Declines: orEmpty(d.Declines), Score: d.Score,
		Odds: dectext.String(d.Odds), Grade: d.Grade, Characteristics: []cChar{}, Limit: dectext.String(d.Limit),
		LimitSteps: []cStep{}, Rate: dectext.String(d.Rate), Reasons: orEmpty(d.Reasons), Counterfactuals: []cCF{},
		Clamped: orEmpty(d.Clamped),
	}
	for _, c := range d.Characteristics {
		cd.Characteristics = append(cd.Characteristics, cChar(c))
	}
	for _, s := range d.LimitSteps {
		cd.LimitSteps = append(cd.LimitSteps, cStep{s.Step, s.ID, dectext.String(s.Amount), dectext.String(s.Result)})
	}
	for _, c := range d.Counterfactuals {
		cd.Counterfactuals = append(cd.Counterfactuals, cCF{c.Kind, c.KnockOut, c.Input, c.From.String(), c.To.String(),
			c.Change.String(), c.Also, c.Grade, c.Eligible, c.Limit.String(), c.LimitDelta.String(), c.Text})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cd); err != nil {
		panic("policy: canonical decision: " + err.Error()) // strings, ints and bools always encode
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
