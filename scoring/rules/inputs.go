package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/dectext"
)

// This file is the engine's fixed vocabulary of inputs: every fact a policy
// may read, its type, the range the engine accepts, how to show it to a
// household, and whether a household can act on it (counterfactuals). A
// policy declares the subset it reads (document "inputs"); reading anything
// else is a load error, so the declared list is exactly the data the bank's
// decision uses (PIPL data minimisation, and what a regulator checks).

// Type is the type of an input, and of the literals compared with it.
type Type uint8

// The input types.
const (
	// TypeDecimal is a decimal number (points, yuan, 亩).
	TypeDecimal Type = iota + 1
	// TypeInt is a whole number (days, counts, age).
	TypeInt
	// TypeBool is true or false.
	TypeBool
	// TypeEnum is one of a fixed list of words.
	TypeEnum
)

func (t Type) String() string {
	switch t {
	case TypeDecimal:
		return "decimal"
	case TypeInt:
		return "int"
	case TypeBool:
		return "bool"
	case TypeEnum:
		return "enum"
	}
	return "unknown"
}

// numeric reports whether values of t are ordered numbers.
func (t Type) numeric() bool { return t == TypeDecimal || t == TypeInt }

// Unit says how a numeric input's values are written for people.
type Unit uint8

// The units.
const (
	UnitNone   Unit = iota
	UnitPoints      // 分 / points
	UnitYuan        // ¥
	UnitMu          // 亩 / mu
	UnitShares      // 股 / shares
	UnitDays        // 天 / days
	UnitTimes       // 次 / times
	UnitYears       // 岁 / years (of age)
	UnitPeople      // 人 / people
	UnitStars       // 星 / stars
	UnitMonths      // 个月 / months
)

// StarLevel is the level of a household's 星级文明户 rating.
type StarLevel string

// The star levels, worst first. The empty string means StarNone.
const (
	StarNone    StarLevel = "none"
	StarVillage StarLevel = "village"
	StarTown    StarLevel = "town"
	StarCounty  StarLevel = "county"
)

// Input is the snapshot of one household's facts that a policy is evaluated
// on. The caller (lending) assembles it as of the decision date; the engine
// never reads anything else. Its zero value is a valid household with no
// points, no income and no record.
type Input struct {
	Points         PointsInput
	Star           StarInput
	Blacklisted    bool // on a 黑榜 (black list) now
	Facts          FactsInput
	Repayment      RepaymentInput
	Applicant      ApplicantInput
	Recommendation RecommendationInput
	OtherBanks     OtherBanksInput
	// Items holds, by catalogue item code, the net for-credit points the
	// household has from that item within its validity window (negative
	// for deductions); an absent code is 0. Policies read them as
	// "item.<CODE>".
	Items map[string]decimal.Decimal
}

// PointsInput is the household's governance points (三治积分).
type PointsInput struct {
	// Credit is the credit points total: base plus effective for-credit
	// entries within validity (points.Balances "credit").
	Credit decimal.Decimal
	// The domain subtotals above base: 自治, 法治, 德治. They are parts of
	// Credit, so a change to one moves Credit by the same amount.
	SelfGovernance decimal.Decimal
	RuleOfLaw      decimal.Decimal
	Virtue         decimal.Decimal
}

// StarInput is the household's best live 星级文明户 rating.
type StarInput struct {
	Level StarLevel
	Stars int // 0..5
}

// FactsInput is the household register's facts (household.Facts).
type FactsInput struct {
	IncomePerCapita  decimal.Decimal // yuan a year
	AnnualIncome     decimal.Decimal // yuan, the household's
	Labourers        int
	Members          int
	LandMu           decimal.Decimal // 亩 contracted
	CollectiveShares decimal.Decimal // 股 in the village collective
	ExistingDebt     decimal.Decimal // yuan owed to banks
	DishonestDebtor  bool            // on the court's 失信被执行人 list
}

// RepaymentInput is the household's repayment record as the banks report
// it (lending.Record builds it from the loan status reports of every line
// of the household, at every bank, as an aggregate that names no bank).
type RepaymentInput struct {
	OverdueDaysMax24m int // longest overdue spell reported in 24 months, days
	OverdueCount24m   int // calendar months with an amount overdue, in 24 months
	OverdueDaysMax12m int // as OverdueDaysMax24m, in 12 months
	OverdueCount12m   int // as OverdueCount24m, in 12 months
	// Classification is the worst current 五级分类 of the household's
	// lines: one of Classifications, "" (or "none") when no bank has
	// reported a status.
	Classification string
	// Defaulted24m: a line of the household was reported in default (or
	// written off) in 24 months.
	Defaulted24m bool
}

// Classifications are the words of the 五级分类 (five-category loan
// classification) as the policy language writes them, worst first, then
// "none" (no status reported): 损失, 可疑, 次级, 关注, 正常, 无记录.
var Classifications = []string{"loss", "doubtful", "substandard", "special_mention", "normal", "none"}

// ApplicantInput is about the person applying: the household member the
// assessment names (the head unless another member is named).
type ApplicantInput struct {
	Age int
}

// RecommendationInput is the village's recommendation ("一约两会三团"):
// 道德评判团 says creditworthy or not, 百姓议事会 proposes an amount. A
// policy may weigh it; it is never the decision itself.
type RecommendationInput struct {
	Present      bool
	Creditworthy bool
	Amount       decimal.Decimal // yuan; 0 when none was proposed
}

// OtherBanksInput aggregates the household's credit lines at other banks.
type OtherBanksInput struct {
	TotalLimit decimal.Decimal
	TotalDrawn decimal.Decimal
}

// InputSpec describes one input of the engine's vocabulary.
type InputSpec struct {
	// Name is how documents and conditions write it, e.g. "points.virtue".
	Name string
	Type Type
	// Min and Max bound the values the engine accepts (numeric types). A
	// policy's declared range must lie within them; a value outside them
	// makes an input invalid and the decision ineligible.
	Min, Max decimal.Decimal
	// Values are the enum's words, worst first (monotone characteristics
	// on an enum follow this order). ValueLabels shows them to people.
	Values      []string
	ValueLabels []Label
	// Label names the input in reasons and counterfactuals.
	Label Label
	Unit  Unit
	// Direction is +1 when a household can act to raise the input (earn
	// points), -1 when it can act to lower it (repay debt), 0 when it is
	// not actionable. Only actionable inputs get counterfactuals.
	Direction int
	// Step is the smallest change considered (the values' resolution).
	Step decimal.Decimal
	// Also names an input that moves with this one by the same amount:
	// a domain subtotal is part of the credit total.
	Also string
	// Sparse inputs are left out of the canonical form at their zero
	// value (0, false, "none"), and read as zero when absent. Inputs
	// added to the vocabulary after decisions were stored are sparse, so
	// every stored snapshot (which never had them, and so had them at
	// zero) keeps its bytes and its hash, and replays identically.
	Sparse bool

	// Exactly one accessor is set, by Type (enums use str).
	dec  func(*Input) *decimal.Decimal
	num  func(*Input) *int
	flag func(*Input) *bool
	str  func(*Input) *string
}

// zero reports whether in holds s's zero value (see Sparse).
func (s *InputSpec) zero(in *Input) bool {
	switch {
	case s.dec != nil:
		return s.dec(in).IsZero()
	case s.num != nil:
		return *s.num(in) == 0
	case s.flag != nil:
		return !*s.flag(in)
	}
	v := *s.str(in)
	return v == "" || v == enumNone
}

// enumNone is the word of an enum's empty value (no star rating, no loan
// status reported); the empty string reads as it.
const enumNone = "none"

// ItemPrefix starts the name of a per-item input: "item.DZ-XF-01".
const ItemPrefix = "item."

var (
	cent       = decimal.New(1, -2)
	one        = decimal.NewFromInt(1)
	maxPoints  = decimal.NewFromInt(100_000)
	maxMoney   = decimal.New(1, 12) // ¥1e12: far above any household, bounds the arithmetic
	maxLand    = decimal.NewFromInt(1_000_000)
	itemCodeRe = regexp.MustCompile(`^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$`)
)

func dec(n int64) decimal.Decimal { return decimal.NewFromInt(n) }

// inputs is the vocabulary, in display order. Decision texts, canonical
// encodings and counterfactual order follow it.
var inputs = []*InputSpec{
	{Name: "points.credit", Type: TypeDecimal, Min: maxPoints.Neg(), Max: maxPoints, Unit: UnitPoints, Direction: 1, Step: cent,
		Label: Label{"三治积分", "governance points"}, dec: func(in *Input) *decimal.Decimal { return &in.Points.Credit }},
	{Name: "points.self_governance", Type: TypeDecimal, Min: maxPoints.Neg(), Max: maxPoints, Unit: UnitPoints, Direction: 1, Step: cent, Also: "points.credit",
		Label: Label{"自治积分", "self-governance points"}, dec: func(in *Input) *decimal.Decimal { return &in.Points.SelfGovernance }},
	{Name: "points.rule_of_law", Type: TypeDecimal, Min: maxPoints.Neg(), Max: maxPoints, Unit: UnitPoints, Direction: 1, Step: cent, Also: "points.credit",
		Label: Label{"法治积分", "rule-of-law points"}, dec: func(in *Input) *decimal.Decimal { return &in.Points.RuleOfLaw }},
	{Name: "points.virtue", Type: TypeDecimal, Min: maxPoints.Neg(), Max: maxPoints, Unit: UnitPoints, Direction: 1, Step: cent, Also: "points.credit",
		Label: Label{"德治积分", "virtue points"}, dec: func(in *Input) *decimal.Decimal { return &in.Points.Virtue }},
	{Name: "star.level", Type: TypeEnum, Values: []string{"none", "village", "town", "county"},
		ValueLabels: []Label{{"无星级", "no star rating"}, {"村级", "village level"}, {"镇级", "town level"}, {"县级", "county level"}},
		Label:       Label{"星级文明户级别", "civilised-household star level"}, str: func(in *Input) *string { return (*string)(&in.Star.Level) }},
	{Name: "star.stars", Type: TypeInt, Min: dec(0), Max: dec(5), Unit: UnitStars, Step: one,
		Label: Label{"星级文明户星数", "civilised-household stars"}, num: func(in *Input) *int { return &in.Star.Stars }},
	{Name: "blacklisted", Type: TypeBool,
		Label: Label{"列入黑榜", "on the village black list"}, flag: func(in *Input) *bool { return &in.Blacklisted }},
	{Name: "facts.income_per_capita", Type: TypeDecimal, Min: dec(0), Max: maxMoney, Unit: UnitYuan, Step: cent,
		Label: Label{"人均年收入", "income per head"}, dec: func(in *Input) *decimal.Decimal { return &in.Facts.IncomePerCapita }},
	{Name: "facts.annual_income", Type: TypeDecimal, Min: dec(0), Max: maxMoney, Unit: UnitYuan, Step: cent,
		Label: Label{"家庭年收入", "household annual income"}, dec: func(in *Input) *decimal.Decimal { return &in.Facts.AnnualIncome }},
	{Name: "facts.labourers", Type: TypeInt, Min: dec(0), Max: dec(50), Unit: UnitPeople, Step: one,
		Label: Label{"劳动力人数", "working members"}, num: func(in *Input) *int { return &in.Facts.Labourers }},
	{Name: "facts.members", Type: TypeInt, Min: dec(0), Max: dec(50), Unit: UnitPeople, Step: one,
		Label: Label{"家庭人口", "household members"}, num: func(in *Input) *int { return &in.Facts.Members }},
	{Name: "facts.land_mu", Type: TypeDecimal, Min: dec(0), Max: maxLand, Unit: UnitMu, Step: cent,
		Label: Label{"承包土地", "contracted land"}, dec: func(in *Input) *decimal.Decimal { return &in.Facts.LandMu }},
	{Name: "facts.collective_shares", Type: TypeDecimal, Min: dec(0), Max: maxLand, Unit: UnitShares, Step: cent,
		Label: Label{"村集体股份", "village collective shares"}, dec: func(in *Input) *decimal.Decimal { return &in.Facts.CollectiveShares }},
	{Name: "facts.existing_debt", Type: TypeDecimal, Min: dec(0), Max: maxMoney, Unit: UnitYuan, Direction: -1, Step: cent,
		Label: Label{"现有银行负债", "existing bank debt"}, dec: func(in *Input) *decimal.Decimal { return &in.Facts.ExistingDebt }},
	{Name: "facts.dishonest_debtor", Type: TypeBool,
		Label: Label{"失信被执行人", "on the court's dishonest-debtor list"}, flag: func(in *Input) *bool { return &in.Facts.DishonestDebtor }},
	{Name: "repayment.overdue_days_max_24m", Type: TypeInt, Min: dec(0), Max: dec(36_500), Unit: UnitDays, Step: one,
		Label: Label{"近24个月最长逾期天数", "longest overdue spell in 24 months"}, num: func(in *Input) *int { return &in.Repayment.OverdueDaysMax24m }},
	{Name: "repayment.overdue_count_24m", Type: TypeInt, Min: dec(0), Max: dec(1_000), Unit: UnitMonths, Step: one,
		Label: Label{"近24个月逾期月份数", "months overdue in 24 months"}, num: func(in *Input) *int { return &in.Repayment.OverdueCount24m }},
	{Name: "repayment.overdue_days_max_12m", Type: TypeInt, Min: dec(0), Max: dec(36_500), Unit: UnitDays, Step: one, Sparse: true,
		Label: Label{"近12个月最长逾期天数", "longest overdue spell in 12 months"}, num: func(in *Input) *int { return &in.Repayment.OverdueDaysMax12m }},
	{Name: "repayment.overdue_count_12m", Type: TypeInt, Min: dec(0), Max: dec(1_000), Unit: UnitMonths, Step: one, Sparse: true,
		Label: Label{"近12个月逾期月份数", "months overdue in 12 months"}, num: func(in *Input) *int { return &in.Repayment.OverdueCount12m }},
	{Name: "repayment.classification", Type: TypeEnum, Values: Classifications, Sparse: true,
		ValueLabels: []Label{{"损失", "loss"}, {"可疑", "doubtful"}, {"次级", "substandard"}, {"关注", "special mention"},
			{"正常", "normal"}, {"无贷款状态记录", "no loan status reported"}},
		Label: Label{"贷款五级分类（当前最差）", "loan classification (worst current)"}, str: func(in *Input) *string { return &in.Repayment.Classification }},
	{Name: "repayment.defaulted_24m", Type: TypeBool, Sparse: true,
		Label: Label{"近24个月有违约记录", "in default in the last 24 months"}, flag: func(in *Input) *bool { return &in.Repayment.Defaulted24m }},
	{Name: "applicant.age", Type: TypeInt, Min: dec(0), Max: dec(150), Unit: UnitYears, Step: one,
		Label: Label{"申请人年龄", "applicant's age"}, num: func(in *Input) *int { return &in.Applicant.Age }},
	{Name: "recommendation.creditworthy", Type: TypeBool,
		Label: Label{"村道德评判团评定守信", "village ethics panel finds creditworthy"}, flag: func(in *Input) *bool { return &in.Recommendation.Creditworthy }},
	{Name: "recommendation.amount", Type: TypeDecimal, Min: dec(0), Max: maxMoney, Unit: UnitYuan, Step: cent,
		Label: Label{"百姓议事会建议额度", "amount proposed by the villagers' council"}, dec: func(in *Input) *decimal.Decimal { return &in.Recommendation.Amount }},
	{Name: "recommendation.present", Type: TypeBool,
		Label: Label{"有村级推荐", "village recommendation given"}, flag: func(in *Input) *bool { return &in.Recommendation.Present }},
	{Name: "other_banks.total_limit", Type: TypeDecimal, Min: dec(0), Max: maxMoney, Unit: UnitYuan, Step: cent,
		Label: Label{"他行授信总额", "credit lines at other banks"}, dec: func(in *Input) *decimal.Decimal { return &in.OtherBanks.TotalLimit }},
	{Name: "other_banks.total_drawn", Type: TypeDecimal, Min: dec(0), Max: maxMoney, Unit: UnitYuan, Step: cent,
		Label: Label{"他行已用额度", "drawn at other banks"}, dec: func(in *Input) *decimal.Decimal { return &in.OtherBanks.TotalDrawn }},
}

var inputIndex = func() map[string]int {
	m := make(map[string]int, len(inputs))
	for i, s := range inputs {
		m[s.Name] = i
	}
	return m
}()

// Inputs returns the engine's vocabulary in display order (for `sanzhi
// policy` documentation and for callers assembling an Input).
func Inputs() []InputSpec {
	out := make([]InputSpec, len(inputs))
	for i, s := range inputs {
		out[i] = *s
	}
	return out
}

// itemSpec is the spec of a per-item input "item.<CODE>". The household
// cannot act on one item in a way a counterfactual should suggest, so it is
// not actionable.
func itemSpec(code string) *InputSpec {
	return &InputSpec{
		Name: ItemPrefix + code, Type: TypeDecimal, Min: maxPoints.Neg(), Max: maxPoints, Unit: UnitPoints, Step: cent,
		Label: Label{"积分项目 " + code, "points item " + code},
		dec: func(in *Input) *decimal.Decimal {
			d := in.Items[code] // zero when absent; never written through
			return &d
		},
	}
}

// lookupInput finds name in the vocabulary; item inputs need a valid code.
func lookupInput(name string) (*InputSpec, bool) {
	if i, ok := inputIndex[name]; ok {
		return inputs[i], true
	}
	if code, ok := strings.CutPrefix(name, ItemPrefix); ok && len(code) <= 32 && itemCodeRe.MatchString(code) {
		return itemSpec(code), true
	}
	return nil, false
}

// enumIndex returns the position of v among s.Values (the empty string
// is "none"), or -1.
func (s *InputSpec) enumIndex(v string) int {
	if v == "" {
		v = enumNone
	}
	return slices.Index(s.Values, v)
}

// --- canonical form of an Input ------------------------------------------

const inputFormat = "sanzhi.policy.input/v1"

// Canonical returns the snapshot's canonical encoding, the bytes Hash is
// computed over and that a decision record stores for replay: compact JSON
// {"format": ..., "inputs": {name: value}} with every vocabulary input
// (a Sparse one only when it is not zero), keys sorted, decimals as
// strings in shortest form ("12.5", never "12.50"), ints as numbers, bools
// as booleans, an empty enum (star level, classification) as "none", and
// item inputs as "item.<CODE>" for every non-zero item (an absent and a
// zero item mean the same). It is the encoding json.Marshal gives for that
// object, written by hand because every decision hashes its input.
// DecodeInput reverses it.
func (in Input) Canonical() []byte {
	var items []string
	for code, d := range in.Items {
		if !d.IsZero() {
			items = append(items, code)
		}
	}
	sort.Strings(items)
	b := make([]byte, 0, 1024)
	b = append(b, `{"format":"`+inputFormat+`","inputs":{`...)
	i, j := 0, 0
	for i < len(sortedInputs) || j < len(items) {
		if j == len(items) || i < len(sortedInputs) && sortedInputs[i].Name < ItemPrefix+items[j] {
			s := sortedInputs[i]
			i++
			if s.Sparse && s.zero(&in) {
				continue
			}
			if b[len(b)-1] != '{' {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, s.Name...)
			b = append(b, `":`...)
			switch {
			case s.dec != nil:
				b = append(b, '"')
				b = dectext.Append(b, *s.dec(&in))
				b = append(b, '"')
			case s.num != nil:
				b = strconv.AppendInt(b, int64(*s.num(&in)), 10)
			case s.flag != nil:
				b = strconv.AppendBool(b, *s.flag(&in))
			default:
				v := *s.str(&in)
				if v == "" {
					v = enumNone
				}
				b = appendJSONString(b, v)
			}
			continue
		}
		code := items[j]
		j++
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = appendJSONString(b, ItemPrefix+code)
		b = append(b, ':', '"')
		b = dectext.Append(b, in.Items[code])
		b = append(b, '"')
	}
	return append(b, "}}"...)
}

// sortedInputs is the vocabulary sorted by name, the canonical key order.
var sortedInputs = func() []*InputSpec {
	out := slices.Clone(inputs)
	slices.SortFunc(out, func(a, b *InputSpec) int { return strings.Compare(a.Name, b.Name) })
	return out
}()

// appendJSONString appends s as encoding/json writes it.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // rare: only text a caller put in a star level or item code
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Hash returns the hex SHA-256 of Canonical.
func (in Input) Hash() string {
	sum := sha256.Sum256(in.Canonical())
	return hex.EncodeToString(sum[:])
}

// DecodeInput parses a canonical encoding (from Canonical) back into an
// Input, so that a stored decision can be replayed. It is strict: an
// unknown format or input name, a value of the wrong type, or a missing
// vocabulary input is an error. Values are not range-checked here; the
// evaluation reports them.
func DecodeInput(b []byte) (Input, error) {
	if in, ok := decodeCanonical(b); ok {
		return in, nil
	}
	return decodeJSON(b)
}

// decodeJSON is DecodeInput's general path.
func decodeJSON(b []byte) (Input, error) {
	var doc struct {
		Format string                     `json:"format"`
		Inputs map[string]json.RawMessage `json:"inputs"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return Input{}, fmt.Errorf("policy input: %w", err)
	}
	if doc.Format != inputFormat {
		return Input{}, fmt.Errorf("policy input: format %q, want %q", doc.Format, inputFormat)
	}
	var in Input
	names := make([]string, 0, len(doc.Inputs))
	for k := range doc.Inputs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		raw := doc.Inputs[name]
		if code, ok := strings.CutPrefix(name, ItemPrefix); ok {
			d, err := decodeDecimal(raw)
			if err != nil || !itemCodeRe.MatchString(code) {
				return Input{}, fmt.Errorf("policy input: %s: not a catalogue item with a decimal value", name)
			}
			if in.Items == nil {
				in.Items = map[string]decimal.Decimal{}
			}
			in.Items[code] = d
			continue
		}
		i, ok := inputIndex[name]
		if !ok {
			return Input{}, fmt.Errorf("policy input: unknown input %q", name)
		}
		if err := inputs[i].decode(&in, raw); err != nil {
			return Input{}, fmt.Errorf("policy input: %s: %w", name, err)
		}
	}
	for _, s := range inputs {
		if _, ok := doc.Inputs[s.Name]; !ok && !s.Sparse {
			return Input{}, fmt.Errorf("policy input: %s is missing", s.Name)
		}
	}
	return in, nil
}

func decodeDecimal(raw json.RawMessage) (decimal.Decimal, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return decimal.Decimal{}, err
	}
	if !decimalText.MatchString(s) {
		return decimal.Decimal{}, fmt.Errorf("%q is not a decimal", s)
	}
	return decimal.NewFromString(s)
}

func (s *InputSpec) decode(in *Input, raw json.RawMessage) error {
	switch {
	case s.dec != nil:
		d, err := decodeDecimal(raw)
		if err != nil {
			return err
		}
		*s.dec(in) = d
	case s.num != nil:
		var n int
		if err := json.Unmarshal(raw, &n); err != nil {
			return err
		}
		*s.num(in) = n
	case s.flag != nil:
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return err
		}
		*s.flag(in) = b
	default:
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		*s.str(in) = v
	}
	return nil
}
