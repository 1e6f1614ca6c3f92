package lending

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/fault"
)

// The lawful basis (DESIGN §3, PIPL art. 13): a bank may receive data
// about a household only
//
//   - under a live consent of the household for that bank and purpose
//     (art. 13(1)), or
//   - for post-loan monitoring only, while the household owes that bank
//     money on a line (a drawn balance above zero): performing the loan
//     contract the household is party to (art. 13(2)).
//
// LawfulBasis is that rule, written once. Every path that hands a bank
// household data asks it (GetCreditLine, AssessCredit, re-assessment,
// ListCreditLines, ListDecisions, ListReviews, WatchCreditLines and
// webhooks); where a path checks in SQL for speed (the hot read of
// GetCreditLine, the batch re-assessment's population), the storage
// conformance suite holds the SQL to this function.

// Act is what the bank does with the household's data; each act admits
// different bases.
type Act string

const (
	// ActRead is a read for a purpose the bank states (GetCreditLine): a
	// live consent for that purpose; for post_loan also an outstanding
	// balance.
	ActRead Act = "read"
	// ActAssess is a new credit decision at the bank's request
	// (AssessCredit): a live consent for assessment, nothing else. An
	// outstanding balance is no basis: monitoring a loan is not deciding
	// a new one.
	ActAssess Act = "assess"
	// ActReassess is the service re-deciding a line the household already
	// has (its points changed, a new policy version): a live consent of
	// the bank for either purpose — the household agreed to its line being
	// monitored — but not a balance alone: without consent the line stays
	// as it is.
	ActReassess Act = "reassess"
	// ActMonitor is a line shown or pushed to the bank without a stated
	// purpose (portfolio listings, decisions, reviews, line events): a
	// live consent of the bank for either purpose, or an outstanding
	// balance.
	ActMonitor Act = "monitor"
)

// BasisKind names the legal ground a delivery rests on.
type BasisKind string

// Bases.
const (
	BasisConsent  BasisKind = "consent"
	BasisContract BasisKind = "contract" // an outstanding balance: post-loan only
)

// Basis is the ground found and the purpose the delivery is recorded
// under (the query record's purpose).
type Basis struct {
	Kind    BasisKind
	Purpose Purpose
}

// BasisQuery is what LawfulBasis judges.
type BasisQuery struct {
	Act  Act
	Bank string
	// Purpose is the stated purpose of an ActRead; ignored otherwise.
	Purpose Purpose
	// Consents are the household's consents (any bank; others ignored).
	Consents []Consent
	// Drawn is what the household owes Bank now: the sum drawn on its
	// lines at that bank.
	Drawn decimal.Decimal
	At    time.Time
}

// LawfulBasis returns the basis on which q.Bank may receive the
// household's data for q.Act at q.At, or a PermissionDenied fault
// CONSENT_REQUIRED naming the bank and purpose only, never the household.
// A consent basis is preferred to a contract one, and a post_loan consent
// to an assessment one where either serves, so the record names the
// narrowest ground the household itself gave.
func LawfulBasis(q BasisQuery) (Basis, error) {
	live := func(p Purpose) bool {
		if q.Bank == "" {
			return false
		}
		for _, c := range q.Consents {
			if c.Bank == q.Bank && c.Live(p, q.At) {
				return true
			}
		}
		return false
	}
	owes := q.Bank != "" && q.Drawn.IsPositive()
	purpose := q.Purpose
	switch q.Act {
	case ActRead:
		if purpose != PurposeAssessment && purpose != PurposePostLoan {
			return Basis{}, fault.InvalidField("purpose", "must be %q or %q", PurposeAssessment, PurposePostLoan)
		}
		if live(purpose) {
			return Basis{BasisConsent, purpose}, nil
		}
		if purpose == PurposePostLoan && owes {
			return Basis{BasisContract, PurposePostLoan}, nil
		}
	case ActAssess:
		purpose = PurposeAssessment
		if live(PurposeAssessment) {
			return Basis{BasisConsent, PurposeAssessment}, nil
		}
	case ActReassess, ActMonitor:
		purpose = PurposePostLoan
		switch {
		case live(PurposePostLoan):
			return Basis{BasisConsent, PurposePostLoan}, nil
		case live(PurposeAssessment):
			return Basis{BasisConsent, PurposeAssessment}, nil
		case q.Act == ActMonitor && owes:
			return Basis{BasisContract, PurposePostLoan}, nil
		}
	default:
		return Basis{}, fault.New(fault.Internal, "UNKNOWN_ACT", "unknown act %q", q.Act)
	}
	return Basis{}, fault.New(fault.PermissionDenied, ReasonConsentRequired,
		"bank %q has no live consent of the household for purpose %q", q.Bank, purpose)
}
