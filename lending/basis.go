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
	// ActAnswer is the bank answering a request the household itself
	// made of it: a human review of the bank's decision (PIPL art. 24),
	// while open. The open request is the basis (BasisRequest); a closed
	// one is as ActMonitor.
	ActAnswer Act = "answer"
)

// BasisKind names the legal ground a delivery rests on.
type BasisKind string

// Bases.
const (
	BasisConsent  BasisKind = "consent"
	BasisContract BasisKind = "contract" // an outstanding balance: post-loan only
	// BasisSupervision is a regulator's: supervision needs no basis of
	// the household's (it is never a bank's).
	BasisSupervision BasisKind = "supervision"
	// BasisRequest is the household's own open request to the bank.
	BasisRequest BasisKind = "request"
)

// Basis is the ground found and the purpose the delivery is recorded
// under (the query record's purpose).
type Basis struct {
	Kind    BasisKind
	Purpose Purpose
}

// Standing is what the rule reads about a household and one bank at an
// instant: whether a consent of the household for that bank is live for
// each purpose, and whether the household owes the bank money on the line
// at issue. StandingOf derives it from the consents; a store that answers
// "is a consent live" in SQL fills it from its own query (whose condition
// the conformance suite holds to Consent.Live).
type Standing struct {
	Bank       string
	Assessment bool // a live consent of Bank for assessment
	PostLoan   bool // a live consent of Bank for post_loan
	// Owes: the household has a drawn balance above zero on Bank's line
	// (the line a delivery is about; for household-wide data, any of
	// Bank's lines).
	Owes bool
	// Requested: the household has an open request to Bank about the
	// data at issue (ActAnswer).
	Requested bool
}

// StandingOf is the household's standing with bank at at, from its
// consents (any bank; others are ignored) and what it has drawn on the
// bank's line(s).
func StandingOf(consents []Consent, bank string, drawn decimal.Decimal, at time.Time) Standing {
	st := Standing{Bank: bank}
	if bank == "" {
		return st
	}
	for _, c := range consents {
		if c.Bank != bank {
			continue
		}
		st.Assessment = st.Assessment || c.Live(PurposeAssessment, at)
		st.PostLoan = st.PostLoan || c.Live(PurposePostLoan, at)
	}
	st.Owes = drawn.IsPositive()
	return st
}

// BasisQuery is what LawfulBasis judges.
type BasisQuery struct {
	Act  Act
	Bank string
	// Purpose is the stated purpose of an ActRead; ignored otherwise.
	Purpose Purpose
	// Consents are the household's consents (any bank; others ignored).
	Consents []Consent
	// Drawn is what the household owes Bank on the line(s) at issue.
	Drawn decimal.Decimal
	At    time.Time
}

// LawfulBasis returns the basis on which q.Bank may receive the
// household's data for q.Act at q.At, or a PermissionDenied fault
// CONSENT_REQUIRED (see Standing.Basis).
func LawfulBasis(q BasisQuery) (Basis, error) {
	return StandingOf(q.Consents, q.Bank, q.Drawn, q.At).Basis(q.Act, q.Purpose)
}

// Basis is the rule: the basis on which st.Bank may receive the
// household's data for act (purpose: the stated purpose of an ActRead),
// or a PermissionDenied fault CONSENT_REQUIRED naming the bank and
// purpose only, never the household. A consent basis is preferred to a
// contract one, and a post_loan consent to an assessment one where either
// serves, so the record names the ground the household itself gave.
func (st Standing) Basis(act Act, purpose Purpose) (Basis, error) {
	live := func(p Purpose) bool {
		if st.Bank == "" {
			return false
		}
		if p == PurposeAssessment {
			return st.Assessment
		}
		return st.PostLoan
	}
	owes := st.Bank != "" && st.Owes
	switch act {
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
	case ActReassess, ActMonitor, ActAnswer:
		purpose = PurposePostLoan
		switch {
		case live(PurposePostLoan):
			return Basis{BasisConsent, PurposePostLoan}, nil
		case live(PurposeAssessment):
			return Basis{BasisConsent, PurposeAssessment}, nil
		case act != ActReassess && owes:
			return Basis{BasisContract, PurposePostLoan}, nil
		case act == ActAnswer && st.Bank != "" && st.Requested:
			return Basis{Kind: BasisRequest}, nil
		}
	default:
		return Basis{}, fault.New(fault.Internal, "UNKNOWN_ACT", "unknown act %q", act)
	}
	return Basis{}, fault.New(fault.PermissionDenied, ReasonConsentRequired,
		"bank %q has no live consent of the household for purpose %q", st.Bank, purpose)
}
