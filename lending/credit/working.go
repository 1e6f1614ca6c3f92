package credit

import (
	"strings"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/scoring/rules"
)

// Why a limit is what it is. A decision keeps the policy's working of its
// limit (Explanation.LimitSteps); Working turns it into what the bank is
// shown: each step in words, the step that binds marked, and the figures
// that rest on the household's lines at other banks withheld.
//
// What the bank must not learn is the household's limits and balances at
// other banks (DESIGN §3: it has no basis for them). The total-exposure
// cap's step is "the cap less the other banks' limits": its value would
// give the other banks' total away to a bank that knows its own cap, and
// so would every unrounded running amount after it. So from the first
// step that reads other banks' figures (that cap, or an adjustment on an
// other_banks.* input) on, amounts and running amounts are withheld; the
// last step's result, the decision's own outcome, is shown. The limit
// itself, held to the cap, necessarily bounds the other banks' total to
// within the rounding unit: that is the line, and the bank must know it.

// Step kinds beyond the policy's (rules.Step*).
const (
	// StepOverride is an officer's override of the automated limit.
	StepOverride = "override"
	// CapTotalExposure is the cap across banks (rules' cap id).
	CapTotalExposure = "total_exposure_max"
)

// WorkingStep is one step of a limit's working as a bank is shown it.
type WorkingStep struct {
	Step string // rules.StepBase … rules.StepMinimum, or StepOverride
	ID   string // the grade, adjustment id, cap name or rounding unit
	// Amount is what the step added (negative: took away) or, for a cap
	// or the minimum, the cap's or minimum's value; Result the running
	// amount after the step.
	Amount, Result decimal.Decimal
	// AmountWithheld and ResultWithheld: the figure rests on the
	// household's lines at other banks and is not shown.
	AmountWithheld, ResultWithheld bool
	// Binding marks the step that decided the outcome: the last cap or
	// floor that lowered the amount, the minimum that declined it, or an
	// override.
	Binding bool
	// Text says what the step is, in plain words.
	Text Text
}

// Working is d's limit working as its bank is shown it; pol, the policy
// version d was decided under, names the adjustments in its own words
// (nil: they are named by id). A decision without a working (a knock-out,
// an ineligible grade) has none.
func Working(d *Decision, pol *rules.Policy) []WorkingStep {
	var out []WorkingStep
	tainted := false
	for _, s := range d.Explanation.LimitSteps {
		w := WorkingStep{Step: s.Step, ID: s.ID, Amount: parseDec(s.Amount), Result: parseDec(s.Result)}
		w.Text = stepText(s, pol)
		if readsOtherBanks(s, pol) {
			tainted = true
		}
		if tainted {
			w.AmountWithheld = s.Step != rules.StepMinimum // the minimum is the policy's own figure
			w.ResultWithheld = true
		}
		out = append(out, w)
	}
	if d.Kind == Override {
		out = append(out, WorkingStep{Step: StepOverride, Result: d.Limit,
			Text: Text{Code: StepOverride, ZH: "经人工复核调整额度", EN: "set by an officer's override after a review"}})
	}
	if len(out) == 0 {
		return nil
	}
	// The last step's result is the outcome itself.
	out[len(out)-1].ResultWithheld = false
	markBinding(out)
	return out
}

// markBinding marks the step that decided the outcome.
func markBinding(ws []WorkingStep) {
	last := len(ws) - 1
	switch ws[last].Step {
	case StepOverride, rules.StepMinimum:
		ws[last].Binding = true
		return
	}
	for i := last; i >= 0; i-- {
		if ws[i].Step == rules.StepCap || ws[i].Step == rules.StepFloor {
			ws[i].Binding = true
			return
		}
	}
}

// readsOtherBanks reports whether step s rests on the household's lines at
// other banks.
func readsOtherBanks(s StoredStep, pol *rules.Policy) bool {
	if s.Step == rules.StepCap && s.ID == CapTotalExposure {
		return true
	}
	if s.Step != rules.StepAdjustment {
		return false
	}
	a := adjustment(pol, s.ID)
	// Without the policy an adjustment's input is unknown: withhold.
	return a == nil || strings.HasPrefix(a.Input, "other_banks.")
}

func adjustment(pol *rules.Policy, id string) *rules.Adjustment {
	if pol == nil {
		return nil
	}
	for i := range pol.Limit.Adjustments {
		if pol.Limit.Adjustments[i].ID == id {
			return &pol.Limit.Adjustments[i]
		}
	}
	return nil
}

// stepText says what a step is, in zh-CN and en.
func stepText(s StoredStep, pol *rules.Policy) Text {
	t := func(zh, en string) Text { return Text{Code: s.Step + ":" + s.ID, ZH: zh, EN: en} }
	switch s.Step {
	case rules.StepBase:
		return t("信用等级 "+s.ID+" 的基础额度", "base amount of grade "+s.ID)
	case rules.StepAdjustment:
		if a := adjustment(pol, s.ID); a != nil && a.Label.ZH != "" {
			return t(adjustmentKind(a.Kind).ZH+"："+a.Label.ZH, adjustmentKind(a.Kind).EN+": "+a.Label.EN)
		}
		return t("额度调整（"+s.ID+"）", "adjustment ("+s.ID+")")
	case rules.StepExistingDebt:
		return t("扣减现有银行负债", "less existing bank debt")
	case rules.StepFloor:
		return t("额度不低于零", "no less than zero")
	case rules.StepCap:
		switch s.ID {
		case "product_max":
			return t("产品上限", "product maximum")
		case "income_multiple":
			k := ""
			if pol != nil {
				k = pol.Limit.Caps.IncomeMultiple.String()
			}
			return t("收入倍数上限（家庭年收入的 "+k+" 倍）", "income multiple cap ("+k+" × household annual income)")
		case CapTotalExposure:
			return t("跨行总授信上限（含在其他银行的授信；涉及他行的数额不显示）",
				"total exposure cap across banks (counts lines at other banks; figures resting on them are not shown)")
		}
		return t("上限（"+s.ID+"）", "cap ("+s.ID+")")
	case rules.StepRound:
		return t("向下取整到 "+s.ID+" 元的整数倍", "rounded down to a multiple of ¥"+s.ID)
	case rules.StepMinimum:
		return t("低于最低授信额度，不予授信", "below the minimum line: no line")
	}
	return t(s.Step, s.Step)
}

// adjustmentKind names the kind of an adjustment.
func adjustmentKind(k rules.AdjustmentKind) Text {
	switch k {
	case rules.RecommendationBonus:
		return Text{ZH: "村推荐加成", EN: "village recommendation bonus"}
	case rules.PerPointAbove:
		return Text{ZH: "按分加额", EN: "amount per point"}
	case rules.Fixed:
		return Text{ZH: "固定加额", EN: "fixed addition"}
	}
	return Text{ZH: "额度调整", EN: "adjustment"}
}

func parseDec(s string) decimal.Decimal {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero
	}
	return d
}
