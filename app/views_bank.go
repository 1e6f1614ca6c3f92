package app

import (
	"context"
	"strings"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// A bank's officer looks a customer up at the counter by the head's
// 身份证号. What the bank may learn is the lawful-basis rule's
// (credit.Service.LookupCustomer); this file finds the household by the
// number first, and decides what a refusal may say:
//
//   - A malformed number (length, date, check digit) is a field error on
//     id_number, never echoing the number.
//   - No household headed by the number, and a household without a
//     lawful basis for the bank, get the same refusal (CONSENT_REQUIRED,
//     naming the bank and purpose only): a bank without a basis does not
//     learn whether the person is registered at all. Only the refusal of
//     a registered household is a (denied) query record: there is no one
//     else to record it for.
//   - Recording a counter or paper consent (RecordCounterConsent) does
//     tell the bank whether the number is registered: the request must be
//     filed where the household will see it. It is itself audited under
//     the household and shown to it, which may refuse it, so fishing for
//     registrations this way leaves a trail the household and the
//     regulator read.

// parseIDNumber reads a 身份证号 typed at a counter; the violation names
// field and never the number.
func (a *App) parseIDNumber(s, field string) (idnum.PersonID, error) {
	pid, err := idnum.ParsePersonIDAt(strings.ToUpper(strings.TrimSpace(s)), a.Lending.Now().In(household.Shanghai))
	if err != nil {
		return idnum.PersonID{}, fault.InvalidField(field, "is not a valid 18-character 身份证号 (format, date of birth or check digit)")
	}
	return pid, nil
}

// LookupCustomer finds the household headed by idNumber and reads it and
// its lines at bank (a bank id) for purpose, for p, a bank's officer.
// Errors: Invalid naming id_number or purpose; PermissionDenied
// CONSENT_REQUIRED alike for an unregistered number and a household
// without a lawful basis (see the top of this file).
func (a *App) LookupCustomer(ctx context.Context, p *access.Principal, bank, idNumber, purpose string) (*credit.Customer, error) {
	var v fault.Violations
	pid, err := a.parseIDNumber(idNumber, "id_number")
	if err != nil {
		v.Add("id_number", "is not a valid 18-character 身份证号 (format, date of birth or check digit)")
	}
	pu := lending.Purpose(purpose)
	if pu != lending.PurposeAssessment && pu != lending.PurposePostLoan {
		v.Add("purpose", "must be %q or %q", lending.PurposeAssessment, lending.PurposePostLoan)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	h, err := a.Households.ByHead(ctx, pid)
	if fault.Is(err, fault.NotFound) {
		// The very refusal a registered household without consent gets.
		_, refusal := lending.Standing{Bank: bank}.Basis(lending.ActRead, pu)
		return nil, refusal
	}
	if err != nil {
		return nil, err
	}
	return a.Lending.LookupCustomer(ctx, p, resource.Bank(bank), h.Name(), purpose)
}

// BankRequests returns the consents bank recorded itself for the person
// headed by idNumber that still wait for the household (pending, not
// withdrawn): what a refused look-up may show the bank, which knows of
// them already. None when the number is not registered.
func (a *App) BankRequests(ctx context.Context, p *access.Principal, bank, idNumber string) ([]*lending.Consent, error) {
	pid, err := a.parseIDNumber(idNumber, "id_number")
	if err != nil {
		return nil, err
	}
	h, err := a.Households.ByHead(ctx, pid)
	if fault.Is(err, fault.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cs, err := a.Lending.ListConsents(ctx, p, h.Name(), lending.ConsentPending)
	if err != nil {
		return nil, err
	}
	var out []*lending.Consent
	for _, c := range cs {
		if c.Bank == bank && c.RecordedBy != "" {
			out = append(out, c)
		}
	}
	return out, nil
}

// CounterConsent is an authorisation a customer signed at the counter or
// on paper, as the officer records it.
type CounterConsent struct {
	Bank     string // bank id
	IDNumber string // the head's 身份证号
	Channel  string // counter or paper
	Purposes []string
	// FormSHA256 is the SHA-256 of the signed form's scan (64 lower-case
	// hex digits): what a clerk countersigning it checks.
	FormSHA256 string
}

// RecordCounterConsent records the authorisation for the household headed
// by in.IDNumber: pending until the household confirms it or a clerk of
// its village countersigns it (credit.Service.Grant). Violations name
// id_number (malformed, or no household registered with it), channel,
// consent.purposes and authorisation_hash.
func (a *App) RecordCounterConsent(ctx context.Context, p *access.Principal, in CounterConsent) (*lending.Consent, error) {
	var v fault.Violations
	pid, err := a.parseIDNumber(in.IDNumber, "id_number")
	if err != nil {
		v.Add("id_number", "is not a valid 18-character 身份证号 (format, date of birth or check digit)")
	}
	if in.Channel != lending.ChannelCounter && in.Channel != lending.ChannelPaper {
		v.Add("channel", "must be %q or %q", lending.ChannelCounter, lending.ChannelPaper)
	}
	if len(in.Purposes) == 0 {
		v.Add("consent.purposes", "at least one purpose is required")
	}
	if len(in.FormSHA256) != 64 {
		v.Add("authorisation_hash", "attach the scan of the signed form")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	h, err := a.Households.ByHead(ctx, pid)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.InvalidField("id_number", "no household is registered with this 身份证号: ask the person's village clerk")
	}
	if err != nil {
		return nil, err
	}
	return a.Lending.Grant(ctx, p, credit.GrantInput{Household: h.Name(), Bank: resource.Bank(in.Bank),
		Purposes: in.Purposes, Channel: in.Channel, AuthorisationHash: in.FormSHA256})
}

// BankLine is a line as the bank's officer reads it: the line, its
// decision and the limit's working, and the product's name.
type BankLine struct {
	View    *credit.View
	Product rules.Label
	Purpose string
}

// BankLine reads line id of bank for purpose, for p, the bank's officer:
// a read of the household's line under the lawful-basis rule
// (credit.Service.GetLine, a query record). NotFound when the bank has no
// such line.
func (a *App) BankLine(ctx context.Context, p *access.Principal, bank, id, purpose string) (*BankLine, error) {
	var l *credit.Line
	if err := a.Store.Lending().Read(ctx, func(tx credit.Reader) error {
		var err error
		l, err = tx.LineByID(ctx, id)
		return err
	}); err != nil {
		return nil, err
	}
	if l.Bank != bank {
		return nil, fault.New(fault.NotFound, "LINE_NOT_FOUND", "no line %s at bank %s", id, bank)
	}
	v, err := a.Lending.GetLine(ctx, p, credit.ProductName(bank, l.Product), l.Household, purpose, credit.Full)
	if err != nil {
		return nil, err
	}
	out := &BankLine{View: v, Purpose: purpose}
	if pol, err := NewActivePolicies(a.Store.Policies()).Version(ctx, bank, l.Product, v.Decision.PolicyVersion); err == nil {
		out.Product = pol.Name
	}
	return out, nil
}
