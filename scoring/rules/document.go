package rules

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/scoring/household"
)

// This file holds the types of a loaded policy and its canonical form
// (Hash). Parse (parse.go) builds them and is the only place that checks
// them; the engine trusts a *Policy it did not build to be invalid only if
// it was built by hand, which callers must not do.

// Label is a bilingual text: zh-CN for households and village staff, en
// for the regulator's exports and the bank's systems.
type Label struct {
	ZH string `json:"zh-CN"`
	EN string `json:"en"`
}

// Policy is one validated credit policy version of one bank and product.
// Build it with Parse; the zero value is not usable.
type Policy struct {
	Bank          string // e.g. "tongxiang-rcb"
	Product       string // e.g. "sanzhi-xindai"
	Version       int
	EffectiveDate household.Date
	Currency      string // "CNY"
	Name          Label
	// DecisionValidDays is how long a decision stands: ValidUntil = the
	// decision date + this many calendar days. 0 when Line is set.
	DecisionValidDays int
	// Line, when set, gives the line's term and review period instead:
	// ValidUntil = the decision date + TermMonths, and the decision is
	// due for review (the service re-assesses the line) ReviewMonths
	// after it. Exactly one of DecisionValidDays and Line is set.
	Line *LineTerms

	// Inputs are the inputs the policy reads, in document order. A value's
	// index here is its slot in evaluation.
	Inputs          []DeclaredInput
	KnockOuts       []KnockOut
	Scaling         Scaling
	Characteristics []Characteristic
	// Grades are best first, MinScore strictly decreasing.
	Grades []Grade
	Limit  LimitRule
	Rates  RateTable
	// Gate is the activation gate's thresholds (gate.go); the defaults
	// when the document has none.
	Gate Gate
	// Backtest is the bad definition back-testing judges the version by
	// (backtest.go); the recommended one when the document has none.
	Backtest Backtest

	hash               string
	minScore, maxScore int             // lowest and highest possible scorecard sums
	oddsStep           decimal.Decimal // 2^(1/pdo), see odds
	slot               map[string]int  // input name → index in Inputs
}

// LineTerms are a policy's line term (授信期限) and review period (年审),
// in calendar months; ReviewMonths ≤ TermMonths.
type LineTerms struct {
	TermMonths   int
	ReviewMonths int
}

// DeclaredInput is one input a policy reads, with the range it covers.
type DeclaredInput struct {
	Name string
	Type Type
	// Min and Max (numeric inputs) are the range the policy covers: the
	// bins of every characteristic on the input cover it, and a value
	// outside it is scored at the nearest end (Decision.Clamped).
	Min, Max decimal.Decimal
	spec     *InputSpec
	item     bool  // an "item.<CODE>" input
	lo, hi   int64 // int inputs: Min and Max
	// specLo and specHi are the engine's range of an int input.
	specLo, specHi int64
}

// KnockOut is a rule that, when its condition holds, makes a household
// ineligible whatever its score (the 六无 of 三治信农贷, for example).
type KnockOut struct {
	ID     string
	When   *Cond
	Reason Label
}

// Scaling is the points-to-double-odds scaling of the scorecard, stated
// for the risk committee: a score of BaseScore means good:bad odds of
// BaseOdds, and every PDO more points double the odds. In formulas,
//
//	score  = offset + factor·ln(odds),  factor = PDO / ln 2,
//	offset = BaseScore − factor·ln(BaseOdds),
//
// so odds(score) = BaseOdds · 2^((score − BaseScore) / PDO). The engine
// sums the bins' points (which the committee derived with this scaling)
// and uses the scaling only to report the odds a score implies.
type Scaling struct {
	BaseScore int
	BaseOdds  decimal.Decimal
	PDO       int
}

// Monotone states how a characteristic's points must move as its input
// rises; Parse enforces it, so that e.g. more governance points can never
// score fewer points.
type Monotone string

// The monotonicity declarations.
const (
	Increasing Monotone = "increasing"
	Decreasing Monotone = "decreasing"
	NotOrdered Monotone = "none"
)

// Characteristic is one line of the scorecard: an input cut into bins,
// each worth some points.
type Characteristic struct {
	ID       string
	Input    string
	Label    Label
	Monotone Monotone
	// Bins in document order: ascending ranges for numeric inputs; for
	// enum and bool inputs every value appears in exactly one bin.
	Bins []Bin

	slot     int
	typ      Type // the input's
	best     int  // index of the bin reasons compare with
	min, max int  // least and most points of a bin
}

// Bin is one band of a characteristic.
type Bin struct {
	// Range is the band of a numeric input.
	Range Interval
	// Values are the words of an enum or bool input ("true", "false")
	// this bin takes, in vocabulary order.
	Values []string
	Points int
	// Label, when set, describes the bin to people instead of the
	// generated text.
	Label Label

	lo, hi int64  // int inputs: Range as closed whole-number bounds
	set    uint64 // enum and bool inputs: bit per value index (false=0, true=1)
}

// Interval is a range of numbers, written "[lo, hi)" in documents: a
// square bracket includes the end, a round one excludes it, and "-inf" or
// "+inf" leave it open.
type Interval struct {
	Lo, Hi         decimal.Decimal
	LoInf, HiInf   bool
	LoOpen, HiOpen bool // the end itself is excluded
}

// String writes the interval as documents do, in shortest form.
func (iv Interval) String() string {
	var b bytes.Buffer
	if iv.LoOpen || iv.LoInf {
		b.WriteByte('(')
	} else {
		b.WriteByte('[')
	}
	if iv.LoInf {
		b.WriteString("-inf")
	} else {
		b.WriteString(iv.Lo.String())
	}
	b.WriteString(", ")
	if iv.HiInf {
		b.WriteString("+inf")
	} else {
		b.WriteString(iv.Hi.String())
	}
	if iv.HiOpen || iv.HiInf {
		b.WriteByte(')')
	} else {
		b.WriteByte(']')
	}
	return b.String()
}

// contains reports whether d lies in the interval.
func (iv Interval) contains(d decimal.Decimal) bool {
	if !iv.LoInf {
		c := d.Cmp(iv.Lo)
		if c < 0 || c == 0 && iv.LoOpen {
			return false
		}
	}
	if !iv.HiInf {
		c := d.Cmp(iv.Hi)
		if c > 0 || c == 0 && iv.HiOpen {
			return false
		}
	}
	return true
}

// Grade is a band of scores. A score gets the first grade (best first)
// whose MinScore it reaches.
type Grade struct {
	Name     string
	MinScore int
	// Eligible false means the grade gets no credit (e.g. D).
	Eligible bool
	Label    Label // optional
}

// LimitRule computes the credit limit of an eligible household; see
// limit in evaluate.go for the order of the steps.
type LimitRule struct {
	// BaseByGrade is the starting amount of each eligible grade, yuan.
	BaseByGrade map[string]decimal.Decimal
	Adjustments []Adjustment
	Caps        Caps
	// MinusExistingDebt deducts facts.existing_debt before the caps.
	MinusExistingDebt bool
	// RoundDownTo is the unit the limit is a whole multiple of (> 0).
	RoundDownTo decimal.Decimal
	// MinAmount: a limit below it is no limit (the household is declined
	// with LIMIT_BELOW_MINIMUM). At least RoundDownTo.
	MinAmount decimal.Decimal

	debtSlot, incomeSlot, otherLimitSlot int // -1 when not read
}

// AdjustmentKind says how an adjustment computes its amount.
type AdjustmentKind string

// The adjustment kinds.
const (
	// PerPointAbove adds Amount for every unit of Input above Above
	// (fractions pro rata), at most Max when Max > 0.
	PerPointAbove AdjustmentKind = "per_point_above"
	// RecommendationBonus adds Share × recommendation.amount, at most Max,
	// when the village recommends the household as creditworthy.
	RecommendationBonus AdjustmentKind = "recommendation_bonus"
	// Fixed adds Amount (which may be negative) when When holds.
	Fixed AdjustmentKind = "fixed"
)

// Adjustment changes the base amount.
type Adjustment struct {
	ID     string
	Label  Label
	Kind   AdjustmentKind
	Input  string          // per_point_above
	Above  decimal.Decimal // per_point_above
	Amount decimal.Decimal // per_point_above (per unit), fixed
	Share  decimal.Decimal // recommendation_bonus
	Max    decimal.Decimal // per_point_above, recommendation_bonus; 0: none
	When   *Cond           // fixed

	slot                             int // per_point_above
	recPresent, recWorthy, recAmount int // recommendation_bonus
}

// Caps bound the limit. Zero means the cap is not set; ProductMax is
// always set.
type Caps struct {
	ProductMax decimal.Decimal
	// IncomeMultiple k: limit ≤ k × facts.annual_income.
	IncomeMultiple decimal.Decimal
	// TotalExposureMax X: limit + other_banks.total_limit ≤ X.
	TotalExposureMax decimal.Decimal
}

// RateTable gives each eligible grade its annual interest rate.
type RateTable struct {
	// BaseRate is the reference rate spreads are added to (e.g. the
	// 1-year LPR); zero when no grade uses a spread.
	BaseRate decimal.Decimal
	ByGrade  map[string]GradeRate
}

// GradeRate is one grade's rate: a fixed annual rate, or a spread in
// basis points over BaseRate.
type GradeRate struct {
	AnnualRate decimal.Decimal // set when the document gives annual_rate
	SpreadBP   int             // set when HasSpread
	HasSpread  bool
	// Rate is the resulting annual rate, a fraction (0.0435 = 4.35%).
	Rate decimal.Decimal
}

// Hash returns the hex SHA-256 of Canonical: the policy version's
// identity, which every decision records.
func (p *Policy) Hash() string { return p.hash }

// MinScore and MaxScore return the lowest and highest sums the scorecard
// can give.
func (p *Policy) MinScore() int { return p.minScore }
func (p *Policy) MaxScore() int { return p.maxScore }

const policyFormat = "sanzhi.policy/v1"

// Canonical returns the canonical encoding Hash is computed over: compact
// JSON of everything that affects a decision or its explanation (labels
// included), with fields in a fixed order, inputs sorted by name,
// grade-keyed tables in grade order, decimals in shortest form and
// conditions in their canonical text. Comments, key order, spacing and
// YAML style do not change it.
func (p *Policy) Canonical() []byte {
	type cInput struct {
		Name string `json:"name"`
		Type string `json:"type"`
		Min  string `json:"min,omitempty"`
		Max  string `json:"max,omitempty"`
	}
	type cKnock struct {
		ID     string `json:"id"`
		When   string `json:"when"`
		Reason Label  `json:"reason"`
	}
	type cBin struct {
		Range  string   `json:"range,omitempty"`
		Values []string `json:"values,omitempty"`
		Points int      `json:"points"`
		Label  *Label   `json:"label,omitempty"`
	}
	type cChar struct {
		ID       string `json:"id"`
		Input    string `json:"input"`
		Label    Label  `json:"label"`
		Monotone string `json:"monotone"`
		Bins     []cBin `json:"bins"`
	}
	type cGrade struct {
		Grade    string `json:"grade"`
		MinScore int    `json:"min_score"`
		Eligible bool   `json:"eligible"`
		Label    *Label `json:"label,omitempty"`
		Base     string `json:"base,omitempty"`
		Rate     string `json:"rate,omitempty"`
		Spread   *int   `json:"spread_bp,omitempty"`
	}
	type cAdj struct {
		ID     string `json:"id"`
		Label  Label  `json:"label"`
		Kind   string `json:"kind"`
		Input  string `json:"input,omitempty"`
		Above  string `json:"above,omitempty"`
		Amount string `json:"amount,omitempty"`
		Share  string `json:"share,omitempty"`
		Max    string `json:"max,omitempty"`
		When   string `json:"when,omitempty"`
	}
	type cLimit struct {
		Adjustments       []cAdj `json:"adjustments"`
		ProductMax        string `json:"product_max"`
		IncomeMultiple    string `json:"income_multiple,omitempty"`
		TotalExposureMax  string `json:"total_exposure_max,omitempty"`
		MinusExistingDebt bool   `json:"minus_existing_debt"`
		RoundDownTo       string `json:"round_down_to"`
		MinAmount         string `json:"min_amount"`
	}
	// A policy without a line block encodes as it did before the block
	// existed, so its hash (which decisions pin) is unchanged.
	type cLine struct {
		TermMonths   int `json:"term_months"`
		ReviewMonths int `json:"review_months"`
	}
	type cPolicy struct {
		Format            string   `json:"format"`
		Bank              string   `json:"bank"`
		Product           string   `json:"product"`
		Version           int      `json:"version"`
		EffectiveDate     string   `json:"effective_date"`
		Currency          string   `json:"currency"`
		Name              Label    `json:"name"`
		DecisionValidDays int      `json:"decision_valid_days"`
		Line              *cLine   `json:"line,omitempty"`
		Inputs            []cInput `json:"inputs"`
		KnockOuts         []cKnock `json:"knockouts"`
		BaseScore         int      `json:"base_score"`
		BaseOdds          string   `json:"base_odds"`
		PDO               int      `json:"pdo"`
		Characteristics   []cChar  `json:"characteristics"`
		Grades            []cGrade `json:"grades"`
		BaseRate          string   `json:"base_rate,omitempty"`
		Limit             cLimit   `json:"limit"`
	}
	str := func(d decimal.Decimal) string {
		if d.IsZero() {
			return ""
		}
		return d.String()
	}
	label := func(l Label) *Label {
		if l == (Label{}) {
			return nil
		}
		return &l
	}
	cp := cPolicy{
		Format: policyFormat, Bank: p.Bank, Product: p.Product, Version: p.Version,
		EffectiveDate: string(p.EffectiveDate), Currency: p.Currency, Name: p.Name,
		DecisionValidDays: p.DecisionValidDays, Inputs: []cInput{}, KnockOuts: []cKnock{},
		BaseScore: p.Scaling.BaseScore, BaseOdds: p.Scaling.BaseOdds.String(), PDO: p.Scaling.PDO,
		Characteristics: []cChar{}, Grades: []cGrade{}, BaseRate: str(p.Rates.BaseRate),
	}
	if p.Line != nil {
		cp.Line = &cLine{TermMonths: p.Line.TermMonths, ReviewMonths: p.Line.ReviewMonths}
	}
	for _, in := range p.Inputs {
		ci := cInput{Name: in.Name, Type: in.Type.String()}
		if in.Type.numeric() {
			ci.Min, ci.Max = in.Min.String(), in.Max.String()
		}
		cp.Inputs = append(cp.Inputs, ci)
	}
	sort.Slice(cp.Inputs, func(i, j int) bool { return cp.Inputs[i].Name < cp.Inputs[j].Name })
	for _, k := range p.KnockOuts {
		cp.KnockOuts = append(cp.KnockOuts, cKnock{k.ID, k.When.String(), k.Reason})
	}
	for _, c := range p.Characteristics {
		cc := cChar{ID: c.ID, Input: c.Input, Label: c.Label, Monotone: string(c.Monotone), Bins: []cBin{}}
		for _, b := range c.Bins {
			cb := cBin{Values: b.Values, Points: b.Points, Label: label(b.Label)}
			if len(b.Values) == 0 {
				cb.Range = b.Range.String()
			}
			cc.Bins = append(cc.Bins, cb)
		}
		cp.Characteristics = append(cp.Characteristics, cc)
	}
	for _, g := range p.Grades {
		cg := cGrade{Grade: g.Name, MinScore: g.MinScore, Eligible: g.Eligible, Label: label(g.Label),
			Base: str(p.Limit.BaseByGrade[g.Name])}
		if r, ok := p.Rates.ByGrade[g.Name]; ok {
			if r.HasSpread {
				s := r.SpreadBP
				cg.Spread = &s
			} else {
				cg.Rate = r.AnnualRate.String()
			}
		}
		cp.Grades = append(cp.Grades, cg)
	}
	l := p.Limit
	cp.Limit = cLimit{Adjustments: []cAdj{}, ProductMax: l.Caps.ProductMax.String(), IncomeMultiple: str(l.Caps.IncomeMultiple),
		TotalExposureMax: str(l.Caps.TotalExposureMax), MinusExistingDebt: l.MinusExistingDebt,
		RoundDownTo: l.RoundDownTo.String(), MinAmount: l.MinAmount.String()}
	for _, a := range l.Adjustments {
		ca := cAdj{ID: a.ID, Label: a.Label, Kind: string(a.Kind), Input: a.Input, Above: str(a.Above),
			Amount: str(a.Amount), Share: str(a.Share), Max: str(a.Max)}
		if a.Kind == PerPointAbove {
			ca.Above = a.Above.String() // 0 is a meaningful threshold
		}
		if a.When != nil {
			ca.When = a.When.String()
		}
		cp.Limit.Adjustments = append(cp.Limit.Adjustments, ca)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cp); err != nil {
		panic("policy: canonical encoding: " + err.Error()) // plain structs of strings always encode
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func (p *Policy) seal() {
	sum := sha256.Sum256(p.Canonical())
	p.hash = hex.EncodeToString(sum[:])
}

// String names the policy version for logs: "tongxiang-rcb/sanzhi-xindai v3".
func (p *Policy) String() string {
	return p.Bank + "/" + p.Product + " v" + strconv.Itoa(p.Version)
}
