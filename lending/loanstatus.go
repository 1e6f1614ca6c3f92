package lending

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// Loan status: how the money lent on a line stands, as the bank reports it
// (issue 16). This file is the whole rule: what one report must say
// (Check), which report may follow which (CheckTransition, the state
// machine), when a report may be dated (CheckDate), and what the reports
// of a household's lines tell a credit policy (Record).
//
// A report says, as of a day: how many days the oldest unpaid amount is
// past due, how much principal and interest are overdue, the loan's
// 五级分类 (five-category classification), and whether the loan is in
// default, written off (核销) or settled (结清).
//
// One report on its own (Check) — the floors follow 《商业银行金融资产风险
// 分类办法》(2023) arts. 11-14:
//
//   - days past due is 0 exactly when nothing is overdue;
//   - more than 7 days past due is at least 关注 (a few days' technical
//     delay may stay 正常), more than 90 at least 次级, more than 270 at
//     least 可疑, more than 360 损失;
//   - in default means non-performing (次级, 可疑 or 损失), and 损失 is
//     only ever reported for a loan in default;
//   - written off is a loan in default classified 损失;
//   - settled is a loan with nothing overdue, 正常, neither in default nor
//     written off.
//
// One report after another on the same line (CheckTransition):
//
//   - written off is final: nothing follows it;
//   - settled is final for that loan: the next report needs a drawdown on
//     the line after the settlement (a new loan on the revolving line),
//     and is then judged as a line's first report;
//   - a worse classification may always follow (a downgrade);
//   - a better one (an upgrade) only so: never out of 损失 (such a loan is
//     written off or settled), and to 正常, or out of non-performing into
//     关注 or 正常, only when nothing is past due (days past due 0);
//   - a default is cured (in default, then not) only when nothing is past
//     due;
//   - settlement may follow any state that is not final (full repayment
//     cures everything).
//
// Dates (CheckDate): a report is dated on or before today (Asia/Shanghai),
// not before the line was opened, is not past due for longer than the line
// has existed, and is not dated before the line's latest report (reports
// come in date order; a later report on the same day replaces the earlier
// one as the line's current status).

// Class is a loan's 五级分类.
type Class string

// The classes, best first.
const (
	ClassNormal         Class = "normal"          // 正常
	ClassSpecialMention Class = "special_mention" // 关注
	ClassSubstandard    Class = "substandard"     // 次级
	ClassDoubtful       Class = "doubtful"        // 可疑
	ClassLoss           Class = "loss"            // 损失
)

var classWords = []struct {
	c      Class
	zh, en string
}{
	{ClassNormal, "正常", "normal"},
	{ClassSpecialMention, "关注", "special mention"},
	{ClassSubstandard, "次级", "substandard"},
	{ClassDoubtful, "可疑", "doubtful"},
	{ClassLoss, "损失", "loss"},
}

// Classes lists the classes, best first.
func Classes() []Class {
	out := make([]Class, len(classWords))
	for i, w := range classWords {
		out[i] = w.c
	}
	return out
}

// rank is 0 for 正常 up to 4 for 损失, -1 for an unknown class.
func (c Class) rank() int {
	for i, w := range classWords {
		if w.c == c {
			return i
		}
	}
	return -1
}

// Known reports whether c is one of the five classes.
func (c Class) Known() bool { return c.rank() >= 0 }

// NonPerforming reports whether c is 不良: 次级, 可疑 or 损失.
func (c Class) NonPerforming() bool { return c.rank() >= ClassSubstandard.rank() }

// Worse reports whether c is a worse class than o.
func (c Class) Worse(o Class) bool { return c.rank() > o.rank() }

// Words returns c's name in Chinese and English.
func (c Class) Words() (zh, en string) {
	if i := c.rank(); i >= 0 {
		return classWords[i].zh, classWords[i].en
	}
	return string(c), string(c)
}

// named is "次级 (substandard)".
func (c Class) named() string {
	zh, en := c.Words()
	return zh + " (" + en + ")"
}

// floor is the best class a loan d days past due may have.
func floor(dpd int) Class {
	switch {
	case dpd > 360:
		return ClassLoss
	case dpd > 270:
		return ClassDoubtful
	case dpd > 90:
		return ClassSubstandard
	case dpd > 7:
		return ClassSpecialMention
	}
	return ClassNormal
}

// MaxDaysPastDue bounds days past due (a hundred years).
const MaxDaysPastDue = 36_500

// StatusReport is what a bank reports about the loan on a line as of a day.
type StatusReport struct {
	AsOf             household.Date
	DaysPastDue      int
	OverduePrincipal decimal.Decimal // yuan, whole fen, ≥ 0
	OverdueInterest  decimal.Decimal // yuan, whole fen, ≥ 0
	Class            Class
	Defaulted        bool
	WrittenOff       bool
	Settled          bool
}

// Final reports whether nothing may follow r on the same loan.
func (r *StatusReport) Final() bool { return r.WrittenOff || r.Settled }

// Overdue is the amount overdue.
func (r *StatusReport) Overdue() decimal.Decimal { return r.OverduePrincipal.Add(r.OverdueInterest) }

// Fault reasons of status reports (FailedPrecondition).
const (
	// ReasonStatusFinal: the line's loan was written off, or settled with
	// no drawdown since.
	ReasonStatusFinal = "LOAN_STATUS_FINAL"
	// ReasonClassTransition: the classification may not move so.
	ReasonClassTransition = "CLASSIFICATION_TRANSITION"
	// ReasonDefaultCure: a default cleared while something is past due.
	ReasonDefaultCure = "DEFAULT_CURE"
	// ReasonStatusOutOfOrder: dated before the line's latest report.
	ReasonStatusOutOfOrder = "STATUS_OUT_OF_ORDER"
)

// bad appends a violation of field with its words in Chinese (zh) for
// the officer at a counter and in English (format) for the bank's systems.
func bad(v *fault.Violations, field, zh, format string, args ...any) {
	*v = append(*v, fault.Violation{Field: field, Description: fmt.Sprintf(format, args...), ZH: zh})
}

// invalid is one violation as an Invalid fault.
func invalid(field, zh, format string, args ...any) error {
	var v fault.Violations
	bad(&v, field, zh, format, args...)
	return v.Err()
}

// overdueSyntax is an amount ≥ 0 in plain notation (a minus sign is
// reported as negative).
var overdueSyntax = regexp.MustCompile(`^-?[0-9]{1,30}(\.[0-9]{1,30})?$`)

// ParseOverdue reads an overdue amount in yuan given as text: "" is 0;
// otherwise plain decimal notation, not negative, whole fen, at most
// MaxAmount. A bad amount is an Invalid fault naming field.
func ParseOverdue(field, s string) (decimal.Decimal, error) {
	if strings.TrimSpace(s) == "" {
		return decimal.Zero, nil
	}
	if !overdueSyntax.MatchString(s) {
		return decimal.Zero, invalid(field, "请填写以元为单位的金额，如 1234.56", "must be an amount in yuan such as 1234.56, got %q", truncate(s))
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, invalid(field, "请填写以元为单位的金额，如 1234.56", "must be an amount in yuan such as 1234.56, got %q", truncate(s))
	}
	switch {
	case d.IsNegative():
		return decimal.Zero, invalid(field, "金额不能为负数", "must not be negative, got %s", d)
	case !d.Equal(d.Truncate(2)):
		return decimal.Zero, invalid(field, "金额最多两位小数（到分）", "must be in whole fen (at most two decimal places), got %s", d)
	case d.GreaterThan(MaxAmount):
		return decimal.Zero, invalid(field, "金额不能超过 "+MaxAmount.String()+" 元", "must be at most %s, got %s", MaxAmount, d)
	}
	return d, nil
}

// Check applies the rules of one report on its own; every problem is a
// field violation (Invalid). Field names are those of the API:
// as_of, days_past_due, overdue_principal, overdue_interest,
// classification, defaulted, written_off, settled.
func (r *StatusReport) Check() error {
	var v fault.Violations
	if _, err := household.ParseDate(string(r.AsOf)); err != nil {
		bad(&v, "as_of", "请填写 YYYY-MM-DD 格式的日期", "must be a date in YYYY-MM-DD form, got %q", truncate(string(r.AsOf)))
	}
	for _, a := range []struct {
		field string
		d     decimal.Decimal
	}{{"overdue_principal", r.OverduePrincipal}, {"overdue_interest", r.OverdueInterest}} {
		switch {
		case a.d.IsNegative():
			bad(&v, a.field, "金额不能为负数", "must not be negative, got %s", a.d)
		case !a.d.Equal(a.d.Truncate(2)):
			bad(&v, a.field, "金额最多两位小数（到分）", "must be in whole fen (at most two decimal places), got %s", a.d)
		case a.d.GreaterThan(MaxAmount):
			bad(&v, a.field, "金额不能超过 "+MaxAmount.String()+" 元", "must be at most %s, got %s", MaxAmount, a.d)
		}
	}
	dpdOK := r.DaysPastDue >= 0 && r.DaysPastDue <= MaxDaysPastDue
	if !dpdOK {
		bad(&v, "days_past_due", fmt.Sprintf("逾期天数应在 0 到 %d 之间", MaxDaysPastDue), "must be between 0 and %d, got %d", MaxDaysPastDue, r.DaysPastDue)
	}
	if !r.Class.Known() {
		bad(&v, "classification", "五级分类应为正常、关注、次级、可疑或损失",
			"must be one of normal (正常), special_mention (关注), substandard (次级), doubtful (可疑), loss (损失), got %q", truncate(string(r.Class)))
	}
	if err := v.Err(); err != nil {
		return err // the rest compares these fields
	}
	overdue := r.Overdue().IsPositive()
	switch {
	case r.DaysPastDue > 0 && !overdue:
		bad(&v, "overdue_principal", "有逾期天数时须填写逾期本金或利息", "an amount overdue (principal or interest) is required when days_past_due is %d", r.DaysPastDue)
	case r.DaysPastDue == 0 && overdue:
		bad(&v, "days_past_due", "有逾期金额时逾期天数须大于 0", "must be above 0 when %s is overdue", r.Overdue().StringFixed(2))
	}
	if f := floor(r.DaysPastDue); f.Worse(r.Class) {
		fz, _ := f.Words()
		bad(&v, "classification", fmt.Sprintf("逾期 %d 天的贷款至少应分为%s类", r.DaysPastDue, fz),
			"a loan %d days past due is classified at least %s, not %s", r.DaysPastDue, f.named(), r.Class.named())
	}
	if r.Defaulted && !r.Class.NonPerforming() {
		bad(&v, "defaulted", "违约贷款须分为次级、可疑或损失类", "a loan in default is non-performing: classified 次级, 可疑 or 损失, not %s", r.Class.named())
	}
	if r.Class == ClassLoss && !r.Defaulted {
		bad(&v, "classification", "损失类须同时报送违约", "损失 (loss) is reported only for a loan in default: set defaulted")
	}
	if r.WrittenOff && (!r.Defaulted || r.Class != ClassLoss) {
		bad(&v, "written_off", "只有违约的损失类贷款才能核销", "only a loan in default classified 损失 (loss) is written off")
	}
	if r.Settled {
		switch {
		case r.WrittenOff:
			bad(&v, "settled", "结清和核销不能同时报送", "a loan is either settled or written off, not both")
		case r.Defaulted || r.DaysPastDue > 0 || overdue || r.Class != ClassNormal:
			bad(&v, "settled", "结清的贷款须无逾期、为正常类且未违约", "a settled loan has nothing overdue, is 正常 (normal) and not in default")
		}
	}
	return v.Err()
}

// CheckTransition applies the state machine: whether next may follow
// prev, the line's latest report (nil: none). drawnSince says whether the
// bank reported a drawdown on the line after prev was recorded (a new loan
// after a settlement). A refusal is a FailedPrecondition fault.
func CheckTransition(prev *StatusReport, next *StatusReport, drawnSince bool) error {
	if prev == nil {
		return nil
	}
	switch {
	case prev.WrittenOff:
		return fault.New(fault.FailedPrecondition, ReasonStatusFinal,
			"the loan on this line was written off (as of %s): no status follows a write-off", prev.AsOf)
	case prev.Settled && !drawnSince:
		return fault.New(fault.FailedPrecondition, ReasonStatusFinal,
			"the loan on this line was settled (as of %s): a new status needs a new drawdown on the line first", prev.AsOf)
	case prev.Settled:
		return nil // a new loan: judged as the line's first report
	case next.Settled:
		return nil // repaid in full: cures everything
	}
	if prev.Class.Worse(next.Class) { // an upgrade
		switch {
		case prev.Class == ClassLoss:
			return fault.New(fault.FailedPrecondition, ReasonClassTransition,
				"a loan classified 损失 (loss) is not upgraded to %s: it is settled or written off", next.Class.named())
		case next.Class == ClassNormal && next.DaysPastDue > 0:
			return fault.New(fault.FailedPrecondition, ReasonClassTransition,
				"a loan goes back to 正常 (normal) only when nothing is past due; it is %d days past due", next.DaysPastDue)
		case prev.Class.NonPerforming() && !next.Class.NonPerforming() && next.DaysPastDue > 0:
			return fault.New(fault.FailedPrecondition, ReasonClassTransition,
				"a non-performing loan (%s) is upgraded to %s only when nothing is past due; it is %d days past due",
				prev.Class.named(), next.Class.named(), next.DaysPastDue)
		}
	}
	if prev.Defaulted && !next.Defaulted && next.DaysPastDue > 0 {
		return fault.New(fault.FailedPrecondition, ReasonDefaultCure,
			"a default is cured only when nothing is past due; the loan is %d days past due", next.DaysPastDue)
	}
	return nil
}

// CheckDate says whether report r may be dated as it is: not after today
// (Asia/Shanghai) and not before the line was opened (Invalid, field
// as_of), not past due for longer than the line has existed (Invalid,
// days_past_due), and not before the line's latest report, latest (""
// when none) (FailedPrecondition STATUS_OUT_OF_ORDER).
func CheckDate(r *StatusReport, today, opened, latest household.Date) error {
	asOf := r.AsOf
	switch {
	case asOf > today:
		return invalid("as_of", "截至日期不能晚于今天（"+string(today)+"）", "must not be in the future: today is %s (Asia/Shanghai), got %s", today, asOf)
	case asOf < opened:
		return invalid("as_of", "截至日期不能早于授信开立日（"+string(opened)+"）", "must not be before the line was opened (%s), got %s", opened, asOf)
	case r.DaysPastDue > daysBetween(opened, asOf):
		return invalid("days_past_due", fmt.Sprintf("授信于 %s 开立，截至 %s 逾期不能超过 %d 天", opened, asOf, daysBetween(opened, asOf)),
			"the line was opened on %s: as of %s nothing on it is more than %d days past due, got %d",
			opened, asOf, daysBetween(opened, asOf), r.DaysPastDue)
	case latest != "" && asOf < latest:
		return fault.New(fault.FailedPrecondition, ReasonStatusOutOfOrder,
			"a status as of %s is already reported on this line: report statuses in date order", latest)
	}
	return nil
}

// daysBetween is the number of days from a to b (both valid dates).
func daysBetween(a, b household.Date) int {
	return int(b.Time().Sub(a.Time()).Round(time.Hour).Hours() / 24)
}

// LineStatus is one report as stored with the line it is about, in the
// order the reports were recorded.
type LineStatus struct {
	Line string // the line's id
	StatusReport
}

// Record is what a household's repayment record tells a credit policy on
// day on (rules.RepaymentInput), from the reports of all its lines at
// every bank (in the order they were recorded; reports dated after on are
// ignored). It is an aggregate: no bank, no line, no amount.
//
//   - longest overdue spell in 12 and 24 months: the most days past due of
//     a report dated in the window (after on minus 12 or 24 months);
//   - months overdue in 12 and 24 months: the calendar months in the
//     window during which some amount was past due, across lines, counted
//     once each. A report d days past due as of day a says an amount was
//     past due on every day from a−d+1 to a, so a single report 95 days
//     past due spans four months however rarely the bank reports;
//   - classification: the worst class of each line's latest report (the
//     later one on a day recorded twice), "none" when no line has one;
//   - in default in 24 months: a report dated in the window in default or
//     written off.
func Record(reports []LineStatus, on household.Date) rules.RepaymentInput {
	var out rules.RepaymentInput
	w12, w24 := on.AddMonths(-12), on.AddMonths(-24)
	months12, months24 := map[string]bool{}, map[string]bool{}
	latest := map[string]*StatusReport{}
	var lines []string
	for i := range reports {
		r := &reports[i]
		if r.AsOf > on {
			continue
		}
		if prev, ok := latest[r.Line]; !ok || r.AsOf >= prev.AsOf {
			if !ok {
				lines = append(lines, r.Line)
			}
			latest[r.Line] = &r.StatusReport
		}
		if r.AsOf <= w24 {
			continue
		}
		out.OverdueDaysMax24m = max(out.OverdueDaysMax24m, r.DaysPastDue)
		out.Defaulted24m = out.Defaulted24m || r.Defaulted || r.WrittenOff
		if r.AsOf > w12 {
			out.OverdueDaysMax12m = max(out.OverdueDaysMax12m, r.DaysPastDue)
		}
		if r.DaysPastDue > 0 {
			overdueMonths(r.AsOf, r.DaysPastDue, w24, months24)
			overdueMonths(r.AsOf, r.DaysPastDue, w12, months12)
		}
	}
	out.OverdueCount24m, out.OverdueCount12m = len(months24), len(months12)
	worst := -1
	for _, l := range lines {
		worst = max(worst, latest[l].Class.rank())
	}
	if worst >= 0 {
		out.Classification = string(classWords[worst].c)
	}
	return out
}

// overdueMonths adds to set the months ("2006-01") of the days from
// asOf−dpd+1 to asOf that fall after after.
func overdueMonths(asOf household.Date, dpd int, after household.Date, set map[string]bool) {
	end := asOf.Time()
	start := end.AddDate(0, 0, -(dpd - 1))
	if first := after.Time().AddDate(0, 0, 1); start.Before(first) {
		start = first
	}
	if start.After(end) {
		return
	}
	for m := start.AddDate(0, 0, 1-start.Day()); !m.After(end); m = m.AddDate(0, 1, 0) {
		set[fmt.Sprintf("%04d-%02d", m.Year(), int(m.Month()))] = true
	}
}
