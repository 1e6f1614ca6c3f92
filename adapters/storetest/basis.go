package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// testLawfulBasisTwin holds the SQL that answers "may the bank have this
// household's data" for speed (the hot read's statement, the batch
// re-assessment's population and its page lock) to the rule written once
// in lending (Consent.Live, LawfulBasis), case by case: consent states,
// instants at either end of a consent, revocations, other banks and
// purposes, and a drawn balance with and without consent. It reads the
// queued audit records raw, to see the basis each read was recorded with.
func testLawfulBasisTwin(t *testing.T, ib Intruder) {
	s := ib.Store
	ctx := context.Background()
	year := base.AddDate(1, 0, 0)
	type variant struct {
		name     string
		consents func(h *household.Household) []*lending.Consent
		drawn    string
	}
	with := func(edit func(*lending.Consent), purposes ...lending.Purpose) func(h *household.Household) []*lending.Consent {
		return func(h *household.Household) []*lending.Consent {
			c := newConsent(t, h, bankA, base.Add(-time.Hour), year, purposes...)
			if edit != nil {
				edit(c)
			}
			return []*lending.Consent{c}
		}
	}
	both := []lending.Purpose{lending.PurposeAssessment, lending.PurposePostLoan}
	variants := []variant{
		{"granted both", with(nil, both...), "0"},
		{"granted assessment", with(nil, lending.PurposeAssessment), "0"},
		{"granted post-loan", with(nil, lending.PurposePostLoan), "0"},
		{"pending", with(func(c *lending.Consent) { c.State, c.Channel = lending.ConsentPending, lending.ChannelCounter }, both...), "0"},
		{"refused", with(func(c *lending.Consent) { c.State, c.Channel = lending.ConsentRefused, lending.ChannelPaper }, both...), "0"},
		{"revoked before", with(func(c *lending.Consent) { c.RevokeTime, c.RevokedBy = at(-time.Minute), "hh" }, both...), "0"},
		{"revoked at the instant", with(func(c *lending.Consent) { c.RevokeTime, c.RevokedBy = at(0), "hh" }, both...), "0"},
		{"revoked after", with(func(c *lending.Consent) { c.RevokeTime, c.RevokedBy = at(time.Minute), "hh" }, both...), "0"},
		{"expires at the instant", with(func(c *lending.Consent) { c.Expires = base }, both...), "0"},
		{"granted at the instant", with(func(c *lending.Consent) { c.GrantTime = base }, both...), "0"},
		{"not yet granted", with(func(c *lending.Consent) { c.GrantTime = base.Add(time.Microsecond) }, both...), "0"},
		{"other bank", with(func(c *lending.Consent) { c.Bank = bankB }, both...), "0"},
		{"nothing, owes", func(*household.Household) []*lending.Consent { return nil }, "100"},
		{"pending, owes", with(func(c *lending.Consent) { c.State, c.Channel = lending.ConsentPending, lending.ChannelCounter }, both...), "0.01"},
		{"revoked, owes", with(func(c *lending.Consent) { c.RevokeTime, c.RevokedBy = at(-time.Minute), "hh" }, both...), "5"},
		{"assessment, owes", with(nil, lending.PurposeAssessment), "5"},
	}
	type row struct {
		v        variant
		h        *household.Household
		consents []lending.Consent
		drawn    decimal.Decimal
	}
	var rows []row
	for i, v := range variants {
		h := newHousehold(t, villageA, 900+i)
		insert(t, s, h)
		cs := v.consents(h)
		insertConsents(t, s, cs...)
		l, _ := openLine(t, s, h, bankA, productA)
		drawn := decimal.RequireFromString(v.drawn)
		if drawn.IsPositive() {
			next := *l
			next.Drawn, next.Version = drawn, l.Version+1
			require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
				return tx.UpdateLine(ctx, &next, l.Version)
			}))
		}
		var vals []lending.Consent
		for _, c := range cs {
			vals = append(vals, *c)
		}
		rows = append(rows, row{v, h, vals, drawn})
	}

	live, err := readLending(s, func(tx credit.Reader) ([]credit.HouseholdRef, error) {
		return tx.LiveConsentHouseholds(ctx, bankA, base, "", 1000)
	})
	require.NoError(t, err)
	count, err := readLending(s, func(tx credit.Reader) (int64, error) {
		return tx.CountLiveConsentHouseholds(ctx, bankA, base)
	})
	require.NoError(t, err)
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.h.ID)
	}
	slices.Sort(ids)
	var locked []string
	require.NoError(t, s.Lending().Locked(ctx, func(tx credit.Writer) error {
		var err error
		locked, _, err = tx.LockPage(ctx, bankA, base, ids)
		return err
	}))
	var want int64
	for _, r := range rows {
		// The population of a re-assessment: ActReassess (consent of
		// either purpose; a balance is not enough).
		_, err := lending.LawfulBasis(lending.BasisQuery{Act: lending.ActReassess, Bank: bankA, Consents: r.consents,
			Drawn: r.drawn, At: base})
		in := err == nil
		if in {
			want++
		}
		assert.Equal(t, in, slices.ContainsFunc(live, func(x credit.HouseholdRef) bool { return x.ID == r.h.ID }),
			"LiveConsentHouseholds: %s", r.v.name)
		assert.Equal(t, in, slices.Contains(locked, r.h.ID), "LockPage: %s", r.v.name)

		// The hot read: ActRead for each purpose.
		for _, p := range []lending.Purpose{lending.PurposeAssessment, lending.PurposePostLoan} {
			b, wantErr := lending.LawfulBasis(lending.BasisQuery{Act: lending.ActRead, Bank: bankA, Purpose: p,
				Consents: r.consents, Drawn: r.drawn, At: base})
			before := queueLength(t, s)
			rec := audit.Record{Time: base, Actor: "officer", Action: credit.ActionQuery, Subject: r.h.Name(),
				Payload: map[string]string{"purpose": string(p)}}
			_, _, err := s.Lending().QueryLine(ctx, credit.LineQuery{Bank: bankA, Product: productA, Village: villageA,
				Household: r.h.ID, Purpose: p, At: base}, rec)
			if wantErr != nil {
				assert.Equal(t, lending.ReasonConsentRequired, reasonOf(err), "QueryLine %s: %s", p, r.v.name)
				assert.Equal(t, before, queueLength(t, s), "QueryLine %s: %s: nothing recorded", p, r.v.name)
				continue
			}
			if assert.NoError(t, err, "QueryLine %s: %s", p, r.v.name) {
				recs := queued(t, ib)
				assert.Equal(t, string(b.Kind), recs[len(recs)-1].Payload["basis"], "QueryLine %s: %s", p, r.v.name)
			}
		}
	}
	assert.Equal(t, want, count, "CountLiveConsentHouseholds")
}

// testSettleConsent: a pending consent is settled once, compare-and-set.
func testSettleConsent(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	c := newConsent(t, h, bankA, base, base.AddDate(1, 0, 0), lending.PurposeAssessment)
	c.State, c.Channel = lending.ConsentPending, lending.ChannelCounter
	r := newConsent(t, h, bankA, base.Add(time.Second), base.AddDate(1, 0, 0), lending.PurposeAssessment)
	r.State, r.Channel, r.RevokeTime, r.RevokedBy = lending.ConsentPending, lending.ChannelPaper, at(time.Hour), "bank"
	insertConsents(t, s, c, r)
	got, err := readLending(s, func(tx credit.Reader) (*lending.Consent, error) { return tx.Consent(ctx, c.ID) })
	require.NoError(t, err)
	assertSameConsent(t, c, got)

	settle := func(id string, to lending.ConsentState) error {
		return writeLending(s, func(ctx context.Context, tx credit.Writer) error {
			return tx.SettleConsent(ctx, id, to, base.Add(time.Minute), "clerk-1")
		})
	}
	require.NoError(t, settle(c.ID, lending.ConsentGranted))
	got, err = readLending(s, func(tx credit.Reader) (*lending.Consent, error) { return tx.Consent(ctx, c.ID) })
	require.NoError(t, err)
	assert.Equal(t, lending.ConsentGranted, got.State)
	assert.Equal(t, "clerk-1", got.ConfirmedBy)
	require.NotNil(t, got.ConfirmTime)
	sameInstant(t, base.Add(time.Minute), *got.ConfirmTime, "confirm time")

	err = settle(c.ID, lending.ConsentRefused)
	assert.True(t, fault.Is(err, fault.FailedPrecondition), "settled once: %v", err)
	assert.Equal(t, credit.ReasonConsentNotPending, reasonOf(err))
	err = settle(r.ID, lending.ConsentGranted)
	assert.Equal(t, credit.ReasonConsentNotPending, reasonOf(err), "a revoked request cannot be confirmed")
	err = settle(newID(t), lending.ConsentGranted)
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
}
