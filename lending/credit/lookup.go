package credit

import (
	"context"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// MethodLookup is the query-record method of a bank's look-up of a
// customer (a household, found by its head's 身份证号).
const MethodLookup = "lookup_customer"

// Customer is what a bank's look-up of a household shows it: the
// household and its lines at the bank, each with its decision.
type Customer struct {
	Household *household.Household
	Basis     lending.Basis
	Views     []*View // the bank's lines of the household, in id order
}

// LookupCustomer is a bank reading a household it has found (by its
// head's 身份证号, see app.LookupCustomer) for the stated purpose: the
// household and every line of the bank's with it. It holds to the
// lawful-basis rule as GetLine does (lending.ActRead: a live consent of
// the bank for the purpose, or for post_loan a balance owed on one of the
// bank's lines). The look-up is a query record naming its basis, written
// in the read's transaction; a refused one is a denied query record, and
// the refusal is PermissionDenied CONSENT_REQUIRED naming no household.
func (s *Service) LookupCustomer(ctx context.Context, p *access.Principal, bankName, householdName, purpose string) (*Customer, error) {
	bank, err := ParseBank(bankName, "bank")
	if err != nil {
		return nil, err
	}
	village, hid, err := household.ParseName(householdName, "household")
	if err != nil {
		return nil, err
	}
	pu := lending.Purpose(purpose)
	if pu != lending.PurposeAssessment && pu != lending.PurposePostLoan {
		return nil, fault.InvalidField("purpose", "must be %q or %q", lending.PurposeAssessment, lending.PurposePostLoan)
	}
	if p == nil || !isBankRole(p.Role) || p.Scope.Bank != bank {
		// The policy lets only a bank's own staff ask; said again here so
		// that no transport can skip it.
		return nil, fault.New(fault.PermissionDenied, reasonOutOfScope, "a bank looks up its own customers only")
	}
	now := s.clock()
	var out *Customer
	err = s.store.Write(ctx, func(tx Writer) error {
		h, err := tx.Household(ctx, village, hid)
		if err != nil {
			return err
		}
		consents, drawn, err := householdStanding(ctx, tx, bank, hid, now)
		if err != nil {
			return err
		}
		b, err := lending.LawfulBasis(lending.BasisQuery{Act: lending.ActRead, Bank: bank, Purpose: pu,
			Consents: consents, Drawn: drawn, At: now})
		if err != nil {
			return err
		}
		lines, err := tx.HouseholdLines(ctx, hid)
		if err != nil {
			return err
		}
		out = &Customer{Household: h, Basis: b}
		today := household.Today(now)
		for _, l := range lines {
			if l.Bank != bank {
				continue // another bank's: not this bank's to see
			}
			d, err := tx.Decision(ctx, l.DecisionID)
			if err != nil {
				return err
			}
			out.Views = append(out.Views, view(l, d, today))
		}
		return tx.Record(ctx, basisRecord(queryRecord(p, householdName, bank, "", purpose, MethodLookup, OutcomeAllowed, now), b))
	})
	if isConsentRequired(err) {
		return nil, s.denied(ctx, p, householdName, bank, "", purpose, MethodLookup, err)
	}
	if err != nil {
		return nil, err
	}
	return out, s.explainedViews(ctx, out.Views, nil)
}
