package lending

import (
	"slices"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// Status is the state of a credit line.
type Status string

const (
	// StatusActive lines may be drawn while the day is before ValidUntil.
	StatusActive Status = "active"
	// StatusFrozen lines (a knock-out event, e.g. a black-list entry) may
	// only be repaid, until deliberately unfrozen.
	StatusFrozen Status = "frozen"
	// StatusExpired lines passed ValidUntil; they may only be repaid, until
	// a fresh decision renews them.
	StatusExpired Status = "expired"
	// StatusClosed is final: nothing changes a closed line.
	StatusClosed Status = "closed"
)

// Fault reasons of line operations (all FailedPrecondition).
const (
	ReasonLineFrozen            = "LINE_FROZEN"
	ReasonLineExpired           = "LINE_EXPIRED"
	ReasonLineClosed            = "LINE_CLOSED"
	ReasonInsufficientAvailable = "INSUFFICIENT_AVAILABLE"
	ReasonUseForbidden          = "USE_FORBIDDEN"
	ReasonRepaymentExceedsDrawn = "REPAYMENT_EXCEEDS_DRAWN"
	ReasonTotalExposureExceeded = "TOTAL_EXPOSURE_EXCEEDED"
	ReasonBankMismatch          = "BANK_MISMATCH"
	ReasonLineHasBalance        = "LINE_HAS_BALANCE"
)

// Line is the credit line of one household at one bank. Money is in yuan;
// Rate is an annual fraction (0.0435 = 4.35%).
type Line struct {
	ID         string
	Household  string // villages/{village_code}/households/{household_id}
	Bank       string
	Limit      decimal.Decimal
	Drawn      decimal.Decimal
	Rate       decimal.Decimal
	Status     Status
	ValidUntil household.Date // first day on which the line is expired
	// ReviewOn is the day the decision behind the line is due for review
	// (the policy's line.review_months); "" when the policy has none.
	ReviewOn     household.Date
	DecisionID   string // the decision last applied
	FreezeReason string // why the line is frozen; "" unless frozen
	Version      int    // incremented by every change
}

// Available is Limit − Drawn, or 0 when a reassessment lowered the limit
// below what is already drawn. It ignores status: use StatusOn to know
// whether the line may be drawn at all.
func (l Line) Available() decimal.Decimal {
	a := l.Limit.Sub(l.Drawn)
	if a.IsNegative() {
		return decimal.Zero
	}
	return a
}

// StatusOn is the line's effective status on day. Closed and frozen lines
// stay so whatever the date (a freeze is the stronger fact and is lifted
// only deliberately); an active line is expired on and after ValidUntil,
// and a line with no ValidUntil is treated as expired (fail closed).
func (l Line) StatusOn(day household.Date) Status {
	switch l.Status {
	case StatusClosed, StatusFrozen, StatusExpired:
		return l.Status
	}
	if l.ValidUntil == "" || day >= l.ValidUntil { // YYYY-MM-DD sorts as text
		return StatusExpired
	}
	return l.Status
}

// CanApply reports whether decision d may be applied to l: the line must
// not be closed, and the decision must be of the line's bank (a line with
// no bank yet takes the decision's).
func CanApply(l Line, d rules.Decision) error {
	if l.Status == StatusClosed {
		return fault.New(fault.FailedPrecondition, ReasonLineClosed, "the credit line is closed; open a new line")
	}
	if l.Bank != "" && d.Bank != l.Bank {
		return fault.New(fault.FailedPrecondition, ReasonBankMismatch,
			"decision of bank %q cannot be applied to a line at bank %q", d.Bank, l.Bank)
	}
	return nil
}

// Apply opens (from the zero Line) or updates a line from decision d,
// recorded as decisionID. Callers should check CanApply first; Apply
// returns a closed line, or a line of another bank, unchanged.
//
// An eligible decision sets Limit, Rate and ValidUntil from d. An ineligible
// one sets Limit to 0 (nothing more can be drawn; Available is 0) but keeps
// Drawn, since money lent stays owed, and keeps the previous Rate, which
// still describes the outstanding balance; ValidUntil and ReviewOn still
// move to d's.
// Either way an expired line becomes active again (it was judged afresh),
// while a frozen line stays frozen: a freeze is lifted only by Unfreeze,
// never implicitly by a decision that may predate the event behind it.
func Apply(l Line, d rules.Decision, decisionID string) Line {
	if CanApply(l, d) != nil {
		return l
	}
	if l.Bank == "" {
		l.Bank = d.Bank
	}
	if d.Eligible {
		l.Limit = d.Limit
		l.Rate = d.Rate
	} else {
		l.Limit = decimal.Zero
	}
	l.ValidUntil = d.ValidUntil
	l.ReviewOn = d.ReviewOn
	l.DecisionID = decisionID
	if l.Status != StatusFrozen {
		l.Status = StatusActive
	}
	l.Version++
	return l
}

// Use is the declared use of a drawdown.
type Use string

// Declared uses.
const (
	UseAgriculture     Use = "agriculture"
	UseLivestock       Use = "livestock"
	UseBusiness        Use = "business"
	UseConsumption     Use = "consumption"
	UseEducation       Use = "education"
	UseMedical         Use = "medical"
	UseHousingPurchase Use = "housing_purchase"
	UseSecurities      Use = "securities"
	UseRelending       Use = "relending"
)

// Uses lists every declared use.
func Uses() []Use {
	return []Use{UseAgriculture, UseLivestock, UseBusiness, UseConsumption, UseEducation,
		UseMedical, UseHousingPurchase, UseSecurities, UseRelending}
}

// Rules are the bank-configurable rules of drawdowns.
type Rules struct {
	// ForbiddenUses may not be financed from a line.
	ForbiddenUses []Use
}

// DefaultRules forbids buying housing, securities and relending, which
// inclusive rural credit must not finance. It returns a fresh value each
// call, so no caller can change another's rules.
func DefaultRules() Rules {
	return Rules{ForbiddenUses: []Use{UseHousingPurchase, UseSecurities, UseRelending}}
}

// Drawdown is Rules.Drawdown under DefaultRules.
func Drawdown(l Line, amount decimal.Decimal, use Use, day household.Date) (Line, error) {
	return DefaultRules().Drawdown(l, amount, use, day)
}

// Drawdown draws amount from l on day for the declared use. Checks, in
// order: amount (Invalid "amount"), use and day well formed (Invalid "use",
// "day"), then FailedPrecondition for a line that is not active on day
// (LINE_FROZEN, LINE_EXPIRED, LINE_CLOSED), a forbidden use
// (USE_FORBIDDEN) and an amount above Available (INSUFFICIENT_AVAILABLE).
// On any failure l is returned unchanged.
func (r Rules) Drawdown(l Line, amount decimal.Decimal, use Use, day household.Date) (Line, error) {
	if err := checkMoney("amount", amount); err != nil {
		return l, err
	}
	if !slices.Contains(Uses(), use) {
		return l, fault.InvalidField("use", "unknown use %q", use)
	}
	if _, err := household.ParseDate(string(day)); err != nil {
		return l, fault.InvalidField("day", "must be a date in YYYY-MM-DD form, got %q", day)
	}
	if err := requireActive(l, day); err != nil {
		return l, err
	}
	if slices.Contains(r.ForbiddenUses, use) {
		return l, fault.New(fault.FailedPrecondition, ReasonUseForbidden, "a credit line may not finance %s", use)
	}
	if avail := l.Available(); amount.GreaterThan(avail) {
		return l, fault.New(fault.FailedPrecondition, ReasonInsufficientAvailable,
			"drawdown of %s exceeds the available %s", amount.StringFixed(2), avail.StringFixed(2))
	}
	l.Drawn = l.Drawn.Add(amount)
	l.Version++
	return l, nil
}

func requireActive(l Line, day household.Date) error {
	switch l.StatusOn(day) {
	case StatusActive:
		return nil
	case StatusFrozen:
		return fault.New(fault.FailedPrecondition, ReasonLineFrozen, "the credit line is frozen")
	case StatusClosed:
		return fault.New(fault.FailedPrecondition, ReasonLineClosed, "the credit line is closed")
	default:
		return fault.New(fault.FailedPrecondition, ReasonLineExpired, "the credit line expired on %s", l.ValidUntil)
	}
}

// Repayment reduces Drawn by amount. It is allowed whatever the status (a
// frozen or expired household must still be able to repay); amount above
// Drawn is FailedPrecondition REPAYMENT_EXCEEDS_DRAWN. On failure l is
// returned unchanged.
func Repayment(l Line, amount decimal.Decimal) (Line, error) {
	if err := checkMoney("amount", amount); err != nil {
		return l, err
	}
	if amount.GreaterThan(l.Drawn) {
		return l, fault.New(fault.FailedPrecondition, ReasonRepaymentExceedsDrawn,
			"repayment of %s exceeds the drawn %s", amount.StringFixed(2), l.Drawn.StringFixed(2))
	}
	l.Drawn = l.Drawn.Sub(amount)
	l.Version++
	return l, nil
}

// Freeze freezes l for reason. It is idempotent: a frozen line keeps its
// first reason and version, and a closed line stays closed.
func Freeze(l Line, reason string) Line {
	if l.Status == StatusFrozen || l.Status == StatusClosed {
		return l
	}
	l.Status = StatusFrozen
	l.FreezeReason = reason
	l.Version++
	return l
}

// Unfreeze lifts a freeze; the line is active again (and StatusOn reports
// it expired if its ValidUntil has passed). Other lines are unchanged.
func Unfreeze(l Line) Line {
	if l.Status != StatusFrozen {
		return l
	}
	l.Status = StatusActive
	l.FreezeReason = ""
	l.Version++
	return l
}

// Close closes l for good; a line with money drawn cannot be closed
// (LINE_HAS_BALANCE). Closing a closed line is a no-op.
func Close(l Line) (Line, error) {
	if l.Status == StatusClosed {
		return l, nil
	}
	if l.Drawn.IsPositive() {
		return l, fault.New(fault.FailedPrecondition, ReasonLineHasBalance,
			"the credit line still has %s drawn", l.Drawn.StringFixed(2))
	}
	l.Status = StatusClosed
	l.Version++
	return l, nil
}

// CheckTotalExposure enforces the cross-bank cap (无过度融资): what the
// household has drawn at other banks plus this line's drawn amount after
// the operation may not exceed cap. A zero cap means no cap; reaching the
// cap exactly is allowed. Negative figures are Invalid.
func CheckTotalExposure(otherBanksDrawn, thisLineDrawnAfter, cap decimal.Decimal) error {
	var v fault.Violations
	if otherBanksDrawn.IsNegative() {
		v.Add("other_banks_drawn", "must not be negative, got %s", otherBanksDrawn)
	}
	if thisLineDrawnAfter.IsNegative() {
		v.Add("this_line_drawn", "must not be negative, got %s", thisLineDrawnAfter)
	}
	if cap.IsNegative() {
		v.Add("total_exposure_cap", "must not be negative, got %s", cap)
	}
	if err := v.Err(); err != nil {
		return err
	}
	if cap.IsZero() {
		return nil
	}
	if total := otherBanksDrawn.Add(thisLineDrawnAfter); total.GreaterThan(cap) {
		// No figures: the bank asking must not learn what the household
		// owes other banks, nor (by subtraction from the cap) the sum.
		return fault.New(fault.FailedPrecondition, ReasonTotalExposureExceeded,
			"the drawdown would take the household's total drawn across banks above the cap its credit policy sets")
	}
	return nil
}
