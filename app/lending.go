package app

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// lendingReactions are the lending side's writes in the transaction of a
// village-side change: a black-list entry posted, or a household newly
// flagged a dishonest debtor, freezes the household's lines, and the
// freeze commits with the change or not at all.
func lendingReactions(svc *credit.Service) sqlstore.Reactions {
	return sqlstore.Reactions{
		Evidence: func(ctx context.Context, tx credit.Writer, e *evidence.Event) error {
			if e.Type != evidence.EventBlacklisted {
				return nil // a lifted listing re-assesses (the sheet changed); the bank unfreezes
			}
			banks, err := svc.Freeze(ctx, tx, e.Household, credit.FreezeBlacklisted, "evidence "+e.EvidenceID)
			pokeSoon(svc, banks)
			return err
		},
		Facts: func(ctx context.Context, tx credit.Writer, h *household.Household, prev household.Facts) error {
			if !h.Facts.DishonestDebtor || prev.DishonestDebtor {
				return nil
			}
			banks, err := svc.Freeze(ctx, tx, h.ID, credit.FreezeDishonestDebtor, "facts version "+strconv.FormatInt(h.Facts.Version, 10))
			pokeSoon(svc, banks)
			return err
		},
	}
}

// pokeSoon wakes the webhook dispatcher and watchers shortly after a
// freeze written in another service's transaction, which commits after
// the reaction returns: 50 ms covers a commit; should it take longer, the
// dispatcher's poll finds the events anyway.
func pokeSoon(svc *credit.Service, banks []string) {
	if len(banks) > 0 {
		time.AfterFunc(50*time.Millisecond, func() { svc.Poke(banks...) })
	}
}

// ActivePolicies implements credit.Policies: the active version read on
// every call (one indexed read), its parse cached by content hash.
type ActivePolicies struct {
	store    policies.Store
	mu       sync.Mutex
	parsed   map[string]*rules.Policy
	versions map[string]*rules.Policy // by banks/{b}/products/{p}/{n}
}

// NewActivePolicies returns an ActivePolicies over the policy store.
func NewActivePolicies(store policies.Store) *ActivePolicies {
	return &ActivePolicies{store: store, parsed: map[string]*rules.Policy{}, versions: map[string]*rules.Policy{}}
}

// Active implements credit.Policies.
func (a *ActivePolicies) Active(ctx context.Context, bank, product string) (*rules.Policy, error) {
	var v *policies.Version
	err := a.store.Read(ctx, func(tx policies.Reader) error {
		var err error
		v, err = tx.ActivePolicy(ctx, bank, product)
		return err
	})
	if fault.Is(err, fault.NotFound) {
		return nil, fault.New(fault.FailedPrecondition, credit.ReasonNoActivePolicy,
			"%s has no active credit policy", policies.ProductName(bank, product))
	}
	if err != nil {
		return nil, err
	}
	return a.parse(v)
}

// parse returns v's parsed document, cached by content hash.
func (a *ActivePolicies) parse(v *policies.Version) (*rules.Policy, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p, ok := a.parsed[v.ContentHash]; ok {
		return p, nil
	}
	p, err := rules.Parse([]byte(v.Document), nil)
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "POLICY_UNREADABLE", "the policy %s no longer parses", v.Name())
	}
	a.parsed[v.ContentHash] = p
	return p, nil
}

// Version implements credit.Policies. A version's text never changes once
// stored, so it is read once: replaying a decision's explanation on the
// read path (GetCreditLine) costs no round trip after the first.
func (a *ActivePolicies) Version(ctx context.Context, bank, product string, n int) (*rules.Policy, error) {
	key := policies.ProductName(bank, product) + "/" + strconv.Itoa(n)
	a.mu.Lock()
	p, ok := a.versions[key]
	a.mu.Unlock()
	if ok {
		return p, nil
	}
	var v *policies.Version
	if err := a.store.Read(ctx, func(tx policies.Reader) error {
		var err error
		v, err = tx.PolicyVersion(ctx, bank, product, n)
		return err
	}); err != nil {
		return nil, err
	}
	p, err := a.parse(v)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.versions[key] = p
	a.mu.Unlock()
	return p, nil
}

// LendingInputs implements credit.Inputs: the catalogue's base points and
// the data key (the head's date of birth from the 身份证号). The
// household, its points and its standing are read by the assessment in
// its own transaction (credit.Reader.AssessInput).
type LendingInputs struct {
	Keyring *pii.Keyring
	// Catalogues gives the base points a household's balance of today
	// starts from.
	Catalogues *catalogue.Service
}

// BasePoints implements credit.Inputs: what evidence.Service.Points starts
// today's balance from.
func (in LendingInputs) BasePoints(ctx context.Context, village string) (decimal.Decimal, error) {
	if in.Catalogues == nil {
		return decimal.Zero, fault.New(fault.Internal, "NO_CATALOGUES", "the lending inputs have no catalogue service")
	}
	cat, err := in.Catalogues.Effective(ctx, village)
	if err != nil {
		return decimal.Zero, err
	}
	return cat.BasePoints, nil
}

// HeadBirth implements credit.Inputs.
func (in LendingInputs) HeadBirth(h *household.Household) (time.Time, error) {
	return in.birth(h, h.HeadID, "the household head")
}

// MemberBirth implements credit.Inputs: a member's number is sealed like
// the head's, bound to the household.
func (in LendingInputs) MemberBirth(h *household.Household, m *household.Member) (time.Time, error) {
	return in.birth(h, m.ID, "member "+strconv.Itoa(int(m.Number)))
}

func (in LendingInputs) birth(h *household.Household, id household.SealedID, whose string) (time.Time, error) {
	raw, err := in.Keyring.Open(pii.Sealed{KeyID: id.KeyID, Ciphertext: id.Ciphertext}, []byte(h.ID))
	if err != nil {
		return time.Time{}, fault.Wrap(err, fault.Internal, "PII_KEY", "cannot decrypt the ID number of %s", whose)
	}
	pid, err := idnum.ParsePersonID(string(raw))
	if err != nil {
		return time.Time{}, fmt.Errorf("stored 身份证号 of %s of %s: %w", whose, h.Name(), err)
	}
	return pid.BirthDate(), nil
}
