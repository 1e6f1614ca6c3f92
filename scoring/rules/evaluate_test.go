package rules

import (
	"bytes"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/scoring/household"
)

const on = "2024-03-01"

func steps(d Decision) []string {
	var out []string
	for _, s := range d.LimitSteps {
		out = append(out, s.Step+" "+s.ID+" "+s.Amount.String()+" = "+s.Result.String())
	}
	return out
}

func TestEvaluateTypical(t *testing.T) {
	p := examplePolicy(t)
	in := typical()
	dec := Evaluate(p, in, on)
	assert.True(t, dec.Eligible)
	assert.Empty(t, dec.KnockOuts)
	assert.Empty(t, dec.Declines)
	// 95 + 30 + 20 + 15 + 20 + 45 + 50 + 60 + 15 + 40 + 30 + 30
	assert.Equal(t, 450, dec.Score)
	assert.Equal(t, "40", dec.Odds.String(), "400 means 20:1 and 50 more points double it")
	assert.Equal(t, "A", dec.Grade)
	assert.Equal(t, []string{
		"base A 100000 = 100000",
		"adjustment points_above_base 7500 = 107500",       // 15 points above 100 × ¥500
		"adjustment village_recommendation 16000 = 123500", // a fifth of ¥80,000
		"existing_debt  -30000 = 93500",
		"round 1000 -500 = 93000",
	}, steps(dec))
	assert.Equal(t, "93000", dec.Limit.String())
	assert.Equal(t, "0.0475", dec.Rate.String())
	assert.Equal(t, "2025-03-01", string(dec.ValidUntil), "a year's term")
	assert.Equal(t, "2025-03-01", string(dec.ReviewOn), "reviewed yearly")
	assert.Equal(t, p.Hash(), dec.PolicyHash)
	assert.Equal(t, in.Hash(), dec.InputHash)
	assert.Equal(t, 1, dec.PolicyVersion)

	require.Len(t, dec.Characteristics, 12)
	vp := dec.Characteristics[1]
	assert.Equal(t, ScoredCharacteristic{ID: "virtue_points", Input: "points.virtue", Value: "12", Bin: 2,
		Band: Label{"不低于 10 分且低于 20 分", "at least 10 points and below 20 points"}, Points: 30, BestPoints: 60}, vp)

	var codes []string
	for _, r := range dec.Reasons {
		codes = append(codes, r.Code)
	}
	// Shortfalls 55, 30, 30, 20 (15s left out); ties in document order.
	assert.Equal(t, []string{"governance_points", "virtue_points", "star_rating", "rule_of_law_points"}, codes)
	assert.Equal(t, Label{
		"德治积分 12 分，低于最优档（不低于 30 分），评分少 30 分",
		"Virtue points: 12 points, below the best band (at least 30 points); 30 fewer score points",
	}, dec.Reasons[1].Text)
	assert.Equal(t, Label{
		"星级文明户 村级，低于最优档（县级），评分少 30 分",
		"Civilised-household star rating: village level, below the best band (county level); 30 fewer score points",
	}, dec.Reasons[2].Text)

	byInput := map[string]Counterfactual{}
	for _, c := range dec.Counterfactuals {
		assert.Equal(t, LiftGrade, c.Kind)
		byInput[c.Input] = c
	}
	require.Len(t, byInput, 4)
	v := byInput["points.virtue"]
	assert.Equal(t, "8", v.Change.String())
	assert.Equal(t, "points.credit", v.Also)
	assert.Equal(t, "AA", v.Grade)
	assert.Equal(t, "104000", v.LimitDelta.String())
	assert.Equal(t, Label{"再获得 8 分德治积分可升至 AA 级，额度增加 ¥104,000",
		"8 more virtue points would lift the grade to AA and the limit by ¥104,000"}, v.Text)
	c := byInput["points.credit"]
	assert.Equal(t, "140", c.To.String(), "120 would give 475, still A; 140 gives 505")
	assert.Empty(t, c.Also)
}

func TestEvaluateTop(t *testing.T) {
	p := examplePolicy(t)
	in := typical()
	in.Points = PointsInput{Credit: d("160"), SelfGovernance: d("12"), RuleOfLaw: d("10"), Virtue: d("40")}
	in.Star.Level = StarCounty
	in.Facts.IncomePerCapita, in.Facts.AnnualIncome = d("70000"), d("500000")
	in.Facts.ExistingDebt, in.Facts.LandMu, in.Facts.Labourers = d("0"), d("25"), 3
	in.Applicant.Age = 40
	in.Recommendation.Amount = d("200000")
	dec := Evaluate(p, in, on)
	assert.Equal(t, 630, dec.Score)
	assert.Equal(t, "AAA", dec.Grade)
	assert.Equal(t, []string{
		"base AAA 300000 = 300000",
		"adjustment points_above_base 30000 = 330000",
		"adjustment village_recommendation 20000 = 350000", // capped at max
		"adjustment county_star 10000 = 360000",
		"cap product_max 300000 = 300000",
	}, steps(dec))
	assert.Equal(t, "300000", dec.Limit.String())
	assert.Equal(t, "0.0385", dec.Rate.String())
	assert.Empty(t, dec.Reasons, "every characteristic is in its best bin")
	assert.Empty(t, dec.Counterfactuals, "nothing lifts the best grade")
}

func TestEvaluateCaps(t *testing.T) {
	p := examplePolicy(t)
	in := typical()
	in.Facts.AnnualIncome = d("20000")
	dec := Evaluate(p, in, on)
	assert.Equal(t, "cap income_multiple 60000 = 60000", steps(dec)[4])
	assert.Equal(t, "60000", dec.Limit.String())

	in = typical()
	in.OtherBanks.TotalLimit = d("450000")
	dec = Evaluate(p, in, on)
	assert.Equal(t, "cap total_exposure_max 50000 = 50000", steps(dec)[4])
	assert.Equal(t, "50000", dec.Limit.String())

	in.OtherBanks.TotalLimit = d("600000") // no room at all
	dec = Evaluate(p, in, on)
	assert.False(t, dec.Eligible)
	assert.Equal(t, DeclineBelowMinimum, dec.Declines[0].Code)
	assert.True(t, dec.Limit.IsZero())
}

func TestEvaluateMinimumAndGrade(t *testing.T) {
	p := examplePolicy(t)
	in := typical()
	in.Facts.ExistingDebt = d("120000") // 123,500 − 120,000 → ¥3,000, under the ¥10,000 minimum
	dec := Evaluate(p, in, on)
	assert.False(t, dec.Eligible)
	assert.Equal(t, "A", dec.Grade)
	assert.True(t, dec.Limit.IsZero())
	assert.True(t, dec.Rate.IsZero())
	require.Len(t, dec.Declines, 1)
	assert.Equal(t, Decline{DeclineBelowMinimum, Label{"测算额度 ¥3,000 低于最低授信额度 ¥10,000",
		"the computed limit of ¥3,000 is below the minimum line of ¥10,000"}}, dec.Declines[0])
	assert.Equal(t, "minimum  10000 = 0", steps(dec)[len(dec.LimitSteps)-1])

	poor := Input{}
	poor.Points = PointsInput{Credit: d("70"), SelfGovernance: d("-2"), RuleOfLaw: d("-1"), Virtue: d("-5")}
	poor.Facts = FactsInput{IncomePerCapita: d("10000"), AnnualIncome: d("30000"), ExistingDebt: d("200000"), LandMu: d("1"), Labourers: 1}
	poor.Repayment.OverdueDaysMax24m, poor.Repayment.OverdueDaysMax12m = 10, 10
	poor.Applicant.Age = 60
	dec = Evaluate(p, poor, on)
	assert.Equal(t, 85, dec.Score)
	assert.Equal(t, "D", dec.Grade)
	assert.False(t, dec.Eligible)
	assert.Equal(t, DeclineGradeNotEligible, dec.Declines[0].Code)
	assert.Empty(t, dec.LimitSteps)
}

func TestEvaluateKnockOuts(t *testing.T) {
	p := examplePolicy(t)
	base := Evaluate(p, typical(), on)
	for _, tc := range []struct {
		name string
		edit func(*Input)
		want []string // fired ids; nil: none
	}{
		{"dishonest debtor", func(in *Input) { in.Facts.DishonestDebtor = true }, []string{"dishonest_debtor"}},
		{"overdue 91 days", func(in *Input) { in.Repayment.OverdueDaysMax24m = 91 }, []string{"bad_credit_record"}},
		{"overdue 90 days", func(in *Input) { in.Repayment.OverdueDaysMax24m = 90 }, nil},
		{"overdue 6 times", func(in *Input) { in.Repayment.OverdueCount24m = 6 }, []string{"bad_credit_record"}},
		{"overdue 5 months", func(in *Input) { in.Repayment.OverdueCount24m = 5 }, nil},
		{"a loan now 次级", func(in *Input) { in.Repayment.Classification = "substandard" }, []string{"bad_credit_record"}},
		{"a loan now 损失", func(in *Input) { in.Repayment.Classification = "loss" }, []string{"bad_credit_record"}},
		{"a loan now 关注", func(in *Input) { in.Repayment.Classification = "special_mention" }, nil},
		{"loans all 正常", func(in *Input) { in.Repayment.Classification = "normal" }, nil},
		{"a default in 24 months", func(in *Input) { in.Repayment.Defaulted24m = true }, []string{"bad_credit_record"}},
		{"black list", func(in *Input) { in.Blacklisted = true }, []string{"black_list"}},
		{"sentenced", func(in *Input) { in.Items = map[string]decimal.Decimal{"FZ-PA-08": d("-30")} }, []string{"criminal_record"}},
		{"gambling", func(in *Input) { in.Items = map[string]decimal.Decimal{"FZ-PA-06": d("-20")} }, []string{"gambling_drugs"}},
		{"usury", func(in *Input) { in.Items = map[string]decimal.Decimal{"FZ-PA-15": d("-20")} }, []string{"usury"}},
		{"other items do not matter", func(in *Input) { in.Items = map[string]decimal.Decimal{"FZ-PA-11": d("-20")} }, nil},
		{"points 59.99", func(in *Input) { in.Points.Credit = d("59.99") }, []string{"village_compact"}},
		{"points 60", func(in *Input) { in.Points.Credit = d("60") }, nil},
		{"debt", func(in *Input) { in.Facts.ExistingDebt = d("500000.01") }, []string{"over_borrowing"}},
		{"drawn elsewhere", func(in *Input) { in.OtherBanks.TotalDrawn = d("300001") }, []string{"over_borrowing"}},
		{"age 17", func(in *Input) { in.Applicant.Age = 17 }, []string{"age"}},
		{"age 18", func(in *Input) { in.Applicant.Age = 18 }, nil},
		{"age 65", func(in *Input) { in.Applicant.Age = 65 }, nil},
		{"age 66", func(in *Input) { in.Applicant.Age = 66 }, []string{"age"}},
		{"several", func(in *Input) { in.Blacklisted, in.Facts.DishonestDebtor = true, true }, []string{"dishonest_debtor", "black_list"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := typical()
			tc.edit(&in)
			dec := Evaluate(p, in, on)
			var ids []string
			for _, k := range dec.KnockOuts {
				ids = append(ids, k.ID)
			}
			assert.Equal(t, tc.want, ids)
			if tc.want == nil {
				assert.True(t, dec.Eligible)
				return
			}
			assert.False(t, dec.Eligible)
			assert.True(t, dec.Limit.IsZero())
			assert.True(t, dec.Rate.IsZero())
			assert.Empty(t, dec.LimitSteps)
			assert.NotEmpty(t, dec.KnockOuts[0].Reason.ZH)
			assert.NotEmpty(t, dec.Grade, "score and grade are still reported")
			if tc.name == "dishonest debtor" || tc.name == "black list" {
				assert.Equal(t, base.Score, dec.Score, "a knock-out does not change the score")
			}
		})
	}
}

func TestEvaluateKnockOutCounterfactuals(t *testing.T) {
	p := examplePolicy(t)
	in := typical()
	in.Points.Credit = d("50")
	dec := Evaluate(p, in, on)
	require.Len(t, dec.Counterfactuals, 1)
	cf := dec.Counterfactuals[0]
	assert.Equal(t, ClearKnockOut, cf.Kind)
	assert.Equal(t, "village_compact", cf.KnockOut)
	assert.Equal(t, "60", cf.To.String())
	assert.True(t, cf.Eligible)
	assert.Equal(t, Label{
		"再获得 10 分三治积分可消除否决项「三治积分低于60分（多次违反村规民约）」，可获授信额度 ¥16,000",
		"10 more governance points would clear the knock-out “Governance points below 60 (repeated breaches of the village compact)” and give a credit line of ¥16,000",
	}, cf.Text)

	in.Blacklisted = true // not actionable: no counterfactual of its own
	dec = Evaluate(p, in, on)
	require.Len(t, dec.Counterfactuals, 1)
	assert.False(t, dec.Counterfactuals[0].Eligible)
	assert.Contains(t, dec.Counterfactuals[0].Text.ZH, "但仍有其他否决项")
	assert.Contains(t, dec.Counterfactuals[0].Text.EN, "but other knock-outs remain")

	in = typical()
	in.Facts.ExistingDebt = d("600000")
	dec = Evaluate(p, in, on)
	require.Len(t, dec.Counterfactuals, 1)
	cf = dec.Counterfactuals[0]
	assert.Equal(t, "over_borrowing", cf.KnockOut)
	assert.Equal(t, "-100000", cf.Change.String(), "500,000.01 would still be over; 500,000 is not")
	assert.Equal(t, Label{
		"现有银行负债减少 ¥100,000 可消除否决项「现有负债过高（过度借贷）」，但仍不符合授信条件",
		"Reducing existing bank debt by ¥100,000 would clear the knock-out “Existing borrowing is too high (over-borrowing)”, but the household would still not be eligible",
	}, cf.Text)
}

func TestEvaluateDebtCounterfactual(t *testing.T) {
	p := examplePolicy(t)
	in := typical()
	in.Facts.ExistingDebt = d("200000") // debt bin worth 10, score 410: B
	dec := Evaluate(p, in, on)
	require.Equal(t, "B", dec.Grade)
	var debt *Counterfactual
	for i := range dec.Counterfactuals {
		if dec.Counterfactuals[i].Input == "facts.existing_debt" {
			debt = &dec.Counterfactuals[i]
		}
	}
	require.NotNil(t, debt)
	assert.Equal(t, "150000", debt.To.String(), "the top of the next better bin, (50000, 150000]")
	assert.Equal(t, "A", debt.Grade)
	assert.Equal(t, Label{"现有银行负债减少 ¥50,000 可升至 A 级，但仍不符合授信条件",
		"Reducing existing bank debt by ¥50,000 would lift the grade to A, but the household would still not be eligible"}, debt.Text)
}

func TestEvaluateInvalidInputs(t *testing.T) {
	p := examplePolicy(t)
	for _, tc := range []struct {
		name string
		edit func(*Input)
		date string
		want string
	}{
		{"negative income", func(in *Input) { in.Facts.AnnualIncome = d("-1") }, on, "家庭年收入 -1 超出可接受范围"},
		{"unknown star level", func(in *Input) { in.Star.Level = "gold" }, on, "“gold” 不是有效值"},
		{"age beyond the engine's range", func(in *Input) { in.Applicant.Age = 200 }, on, "申请人年龄 200 超出"},
		{"bad date", func(*Input) {}, "2024-13-01", "决策日期"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := typical()
			tc.edit(&in)
			dec := Evaluate(p, in, household.Date(tc.date))
			assert.False(t, dec.Eligible)
			assert.True(t, dec.Limit.IsZero())
			require.NotEmpty(t, dec.Declines)
			assert.Equal(t, DeclineInputInvalid, dec.Declines[0].Code)
			assert.Contains(t, dec.Declines[0].Text.ZH, tc.want)
			assert.Empty(t, dec.Counterfactuals)
		})
	}
	dec := Evaluate(p, typical(), "2024-13-01")
	assert.Empty(t, dec.ValidUntil)
}

func TestEvaluateClampsToDeclaredRange(t *testing.T) {
	p := examplePolicy(t)
	in := typical()
	in.Points.Credit = d("5000") // declared up to 2000
	dec := Evaluate(p, in, on)
	assert.Equal(t, []string{"points.credit"}, dec.Clamped)
	assert.Equal(t, 150, dec.Characteristics[0].Points, "scored in the top bin")
	assert.Equal(t, "5000", dec.Characteristics[0].Value, "the actual value is reported")
	in.Points.Credit = d("-600") // declared from -500
	dec = Evaluate(p, in, on)
	assert.Equal(t, []string{"points.credit"}, dec.Clamped)
	assert.Equal(t, 0, dec.Characteristics[0].Points)
	assert.Equal(t, "village_compact", dec.KnockOuts[0].ID, "knock-outs see the actual value")
}

func TestValidUntil(t *testing.T) {
	p := examplePolicy(t)
	// The example's line: a term of twelve months, reviewed yearly.
	for on, want := range map[household.Date]household.Date{"2024-02-15": "2025-02-15", "2024-02-29": "2025-02-28",
		"2024-12-31": "2025-12-31", "2023-03-31": "2024-03-31"} {
		d := Evaluate(p, typical(), on)
		assert.Equal(t, want, d.ValidUntil, on)
		assert.Equal(t, want, d.ReviewOn, on)
	}
	// A policy under decision_valid_days counts days and has no review.
	days, err := Parse([]byte(smallYAML), nil)
	require.NoError(t, err)
	assert.Equal(t, "2024-03-16", string(Evaluate(days, typical(), "2024-02-15").ValidUntil), "2024 is a leap year")
	assert.Empty(t, Evaluate(days, typical(), "2024-02-15").ReviewOn)
}

func TestOdds(t *testing.T) {
	p := examplePolicy(t)
	for score, want := range map[int]string{400: "20", 450: "40", 350: "10", 425: "28.28", 25: "0.1105", 630: "485", 0: "0.07813", 399: "19.72", 401: "20.28"} {
		assert.Equal(t, want, p.odds(score).String(), "score %d", score)
	}
}

func TestYuan(t *testing.T) {
	for in, want := range map[string]string{"0": "¥0", "999": "¥999", "1000": "¥1,000", "1234567.5": "¥1,234,567.50",
		"-50000": "-¥50,000", "300000": "¥300,000"} {
		assert.Equal(t, want, yuan(d(in)))
	}
}

func TestInputCanonical(t *testing.T) {
	in := typical()
	in.Items = map[string]decimal.Decimal{"FZ-PA-08": d("-30.0"), "DZ-XF-01": d("0")}
	b := in.Canonical()
	assert.Contains(t, string(b), `"item.FZ-PA-08":"-30"`)
	assert.NotContains(t, string(b), "DZ-XF-01", "a zero item is the same as none")
	assert.Contains(t, string(b), `"star.level":"village"`)
	assert.Contains(t, string(b), `"facts.labourers":2`)

	// Normalised: trailing zeros and zero items do not change the hash.
	same := in
	same.Points.Credit = d("115.00")
	same.Items = map[string]decimal.Decimal{"FZ-PA-08": d("-30")}
	assert.Equal(t, in.Hash(), same.Hash())
	same.Points.Credit = d("115.01")
	assert.NotEqual(t, in.Hash(), same.Hash())
	assert.Equal(t, Input{}.Hash(), Input{Star: StarInput{Level: StarNone}}.Hash(), "empty level is none")

	back, err := DecodeInput(b)
	require.NoError(t, err)
	assert.Equal(t, b, back.Canonical())

	for _, bad := range []string{
		`not json`,
		`{"format":"other/v1","inputs":{}}`,
		string(bytes.Replace(b, []byte(`"applicant.age"`), []byte(`"applicant.shoe"`), 1)),
		string(bytes.Replace(b, []byte(`"applicant.age":45`), []byte(`"applicant.age":"45"`), 1)),
		string(bytes.Replace(b, []byte(`"points.credit":"115"`), []byte(`"points.credit":"1e3"`), 1)),
		string(bytes.Replace(b, []byte(`"applicant.age":45,`), nil, 1)),
	} {
		_, err := DecodeInput([]byte(bad))
		assert.Error(t, err, bad)
	}
}

// Replaying a decision from the stored canonical input gives the same
// bytes; evaluation does not touch the input.
func TestReplay(t *testing.T) {
	p := examplePolicy(t)
	in := typical()
	in.Items = map[string]decimal.Decimal{"FZ-PA-08": d("-30")}
	first := Evaluate(p, in, on).Canonical()
	assert.Equal(t, first, Evaluate(p, in, on).Canonical())
	stored, err := DecodeInput(in.Canonical())
	require.NoError(t, err)
	again := mustParse(t, string(exampleBytes(t)), nil)
	assert.Equal(t, first, Evaluate(again, stored, on).Canonical())
	assert.Equal(t, d("-30"), in.Items["FZ-PA-08"])
	assert.Len(t, in.Items, 1)
}

// A value beyond bins with finite ends is scored in the nearest bin.
func TestEvaluateClampsBeyondFiniteBins(t *testing.T) {
	p := mustParse(t, mutate(t, smallYAML, `"[120, +inf)"`, `"[120, 1000]"`), nil)
	for _, tc := range []struct {
		credit  string
		bin     int
		clamped bool
	}{{"-5", 0, true}, {"0", 0, false}, {"1000", 2, false}, {"1000.01", 2, true}, {"5000", 2, true}} {
		in := Input{}
		in.Points.Credit = d(tc.credit)
		dec := Evaluate(p, in, on)
		assert.Equal(t, tc.bin, dec.Characteristics[0].Bin, tc.credit)
		assert.Equal(t, tc.clamped, len(dec.Clamped) == 1, tc.credit)
	}
}
