package rpc_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// TestBankRecordedConsent: the attacker is a bank officer who records a
// "counter" consent for a household that never signed anything, with a
// made-up hash. It must authorise nothing until the household confirms it
// with its own credential, or a clerk of the household's village
// countersigns having seen the signed form (whose hash must match).
func TestBankRecordedConsent(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := lendingEnv(t, st)
		hh, hhP := newHousehold(t, e, villageA, true)
		submitAndApprove(t, e, listingReq(e, hh, sanzhiv1.EvidenceKind_EVIDENCE_KIND_STAR_RATING))
		forged := "f0" + sha[2:]
		c, err := e.consents.GrantConsent(e.as("officer"), &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: bankName,
			Purposes: []string{"assessment", "post_loan"}, Channel: "counter", AuthorisationHash: forged})
		require.NoError(t, err)
		assert.Equal(t, sanzhiv1.ConsentState_CONSENT_STATE_PENDING, c.State)
		assert.False(t, c.Live)

		// Pending authorises nothing: no read, no assessment, no listing.
		for _, purpose := range []string{"assessment", "post_loan"} {
			_, err = e.credit.GetCreditLine(e.as("officer"), &sanzhiv1.GetCreditLineRequest{Product: product, Household: hh, Purpose: purpose})
			assert.Equal(t, "CONSENT_REQUIRED", reasonOf(err), purpose)
		}
		_, err = e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: hh})
		assert.Equal(t, "CONSENT_REQUIRED", reasonOf(err))
		// Recording it again changes nothing.
		again, err := e.consents.GrantConsent(e.as("officer"), &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: bankName,
			Purposes: []string{"assessment", "post_loan"}, Channel: "counter", AuthorisationHash: forged})
		require.NoError(t, err)
		assert.Equal(t, sanzhiv1.ConsentState_CONSENT_STATE_PENDING, again.State)

		// The household sees the request waiting for it.
		pend, err := e.consents.ListConsents(e.as(hhP), &sanzhiv1.ListConsentsRequest{Parent: hh, State: sanzhiv1.ConsentState_CONSENT_STATE_PENDING})
		require.NoError(t, err)
		require.Len(t, pend.Consents, 1)
		assert.Equal(t, c.Name, pend.Consents[0].Name)
		granted, err := e.consents.ListConsents(e.as(hhP), &sanzhiv1.ListConsentsRequest{Parent: hh, State: sanzhiv1.ConsentState_CONSENT_STATE_GRANTED})
		require.NoError(t, err)
		assert.Empty(t, granted.Consents)

		// Nobody else settles it: not the bank, not another household, not
		// the clerk of another village, not a clerk with the forged hash.
		_, err = e.consents.ConfirmConsent(e.as("officer"), &sanzhiv1.ConfirmConsentRequest{Name: c.Name})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, otherP := newHousehold(t, e, villageA, true)
		_, err = e.consents.ConfirmConsent(e.as(otherP), &sanzhiv1.ConfirmConsentRequest{Name: c.Name})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, err = e.consents.RefuseConsent(e.as(otherP), &sanzhiv1.RefuseConsentRequest{Name: c.Name})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, err = e.consents.CountersignConsent(e.as("clerk-b"), &sanzhiv1.CountersignConsentRequest{Name: c.Name, AuthorisationHash: forged})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, err = e.consents.CountersignConsent(e.as("officer"), &sanzhiv1.CountersignConsentRequest{Name: c.Name, AuthorisationHash: forged})
		requireCode(t, err, codes.PermissionDenied, "", "")
		// The clerk of the village hashes the form the household really
		// signed: it is not the one the bank recorded.
		_, err = e.consents.CountersignConsent(e.as("clerk-a"), &sanzhiv1.CountersignConsentRequest{Name: c.Name, AuthorisationHash: sha})
		requireCode(t, err, codes.FailedPrecondition, "", "")
		assert.Equal(t, "AUTHORISATION_MISMATCH", reasonOf(err))
		_, err = e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: hh})
		assert.Equal(t, "CONSENT_REQUIRED", reasonOf(err), "still pending")

		// The household confirms with its own credential: granted, live.
		ok, err := e.consents.ConfirmConsent(e.as(hhP), &sanzhiv1.ConfirmConsentRequest{Name: c.Name})
		require.NoError(t, err)
		assert.Equal(t, sanzhiv1.ConsentState_CONSENT_STATE_GRANTED, ok.State)
		assert.True(t, ok.Live)
		assert.Equal(t, e.ids[hhP], ok.ConfirmedBy)
		assert.NotNil(t, ok.ConfirmTime)
		_, err = e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: hh})
		require.NoError(t, err)
		// Settled once: confirming, refusing or countersigning again is refused.
		_, err = e.consents.ConfirmConsent(e.as(hhP), &sanzhiv1.ConfirmConsentRequest{Name: c.Name})
		requireCode(t, err, codes.FailedPrecondition, "", "")
		assert.Equal(t, "CONSENT_NOT_PENDING", reasonOf(err))
		_, err = e.consents.RefuseConsent(e.as(hhP), &sanzhiv1.RefuseConsentRequest{Name: c.Name})
		assert.Equal(t, "CONSENT_NOT_PENDING", reasonOf(err))

		// A village clerk countersigns a paper form whose hash matches.
		hh2, hh2P := newHousehold(t, e, villageA, true)
		paper, err := e.consents.GrantConsent(e.as("officer"), &sanzhiv1.GrantConsentRequest{Parent: hh2, Bank: bankName,
			Purposes: []string{"assessment"}, Channel: "paper", AuthorisationHash: sha})
		require.NoError(t, err)
		_, err = e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: hh2})
		assert.Equal(t, "CONSENT_REQUIRED", reasonOf(err))
		signed, err := e.consents.CountersignConsent(e.as("reviewer-a"), &sanzhiv1.CountersignConsentRequest{Name: paper.Name, AuthorisationHash: sha})
		require.NoError(t, err)
		assert.Equal(t, sanzhiv1.ConsentState_CONSENT_STATE_GRANTED, signed.State)
		assert.Equal(t, e.ids["reviewer-a"], signed.ConfirmedBy)
		_, err = e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: hh2})
		require.NoError(t, err)

		// The household refuses another request: refused for good.
		req, err := e.consents.GrantConsent(e.as("officer"), &sanzhiv1.GrantConsentRequest{Parent: hh2, Bank: bankName,
			Purposes: []string{"post_loan"}, Channel: "counter", AuthorisationHash: "0c" + sha[2:]})
		require.NoError(t, err)
		no, err := e.consents.RefuseConsent(e.as(hh2P), &sanzhiv1.RefuseConsentRequest{Name: req.Name})
		require.NoError(t, err)
		assert.Equal(t, sanzhiv1.ConsentState_CONSENT_STATE_REFUSED, no.State)
		assert.False(t, no.Live)
		_, err = e.consents.ConfirmConsent(e.as(hh2P), &sanzhiv1.ConfirmConsentRequest{Name: req.Name})
		assert.Equal(t, "CONSENT_NOT_PENDING", reasonOf(err))
		_, err = e.consents.CountersignConsent(e.as("clerk-a"), &sanzhiv1.CountersignConsentRequest{Name: req.Name, AuthorisationHash: "0c" + sha[2:]})
		assert.Equal(t, "CONSENT_NOT_PENDING", reasonOf(err))
		_, err = e.consents.GrantConsent(e.as("officer"), &sanzhiv1.GrantConsentRequest{Parent: hh2, Bank: bankName,
			Purposes: []string{"post_loan"}, Channel: "counter", AuthorisationHash: "0c" + sha[2:]})
		assert.Equal(t, "CONSENT_REFUSED", reasonOf(err))
		// Post-loan reading of hh2 rests on the refused request only: refused.
		_, err = e.credit.GetCreditLine(e.as("officer"), &sanzhiv1.GetCreditLineRequest{Product: product, Household: hh2, Purpose: "post_loan"})
		assert.Equal(t, "CONSENT_REQUIRED", reasonOf(err))

		// A request the bank withdraws waits for no one, and cannot be
		// confirmed any more.
		wd, err := e.consents.GrantConsent(e.as("officer"), &sanzhiv1.GrantConsentRequest{Parent: hh2, Bank: bankName,
			Purposes: []string{"post_loan"}, Channel: "paper", AuthorisationHash: "0d" + sha[2:]})
		require.NoError(t, err)
		_, err = e.consents.RevokeConsent(e.as("officer"), &sanzhiv1.RevokeConsentRequest{Name: wd.Name})
		require.NoError(t, err)
		waiting, err := e.consents.ListConsents(e.as(hh2P), &sanzhiv1.ListConsentsRequest{Parent: hh2, State: sanzhiv1.ConsentState_CONSENT_STATE_PENDING})
		require.NoError(t, err)
		assert.Empty(t, waiting.Consents)
		_, err = e.consents.ConfirmConsent(e.as(hh2P), &sanzhiv1.ConfirmConsentRequest{Name: wd.Name})
		assert.Equal(t, "CONSENT_NOT_PENDING", reasonOf(err))

		// A consent the household grants itself stays immediate.
		hh3, hh3P := newHousehold(t, e, villageA, true)
		app, err := e.consents.GrantConsent(e.as(hh3P), &sanzhiv1.GrantConsentRequest{Parent: hh3, Bank: bankName,
			Purposes: []string{"assessment"}, Channel: "app", AuthorisationHash: sha})
		require.NoError(t, err)
		assert.Equal(t, sanzhiv1.ConsentState_CONSENT_STATE_GRANTED, app.State)
		assert.True(t, app.Live)
		_, err = e.consents.ConfirmConsent(e.as(hh3P), &sanzhiv1.ConfirmConsentRequest{Name: app.Name})
		assert.Equal(t, "CONSENT_NOT_PENDING", reasonOf(err))
	})
}

// TestOverrideUpholdDropsProposal: the checker's "no" is upholding the
// decision; the proposal never takes effect.
func TestOverrideUpholdDropsProposal(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := lendingEnv(t, st)
		hh, hhP, line := consented(t, e)
		rv, err := e.credit.RequestReview(e.as(hhP), &sanzhiv1.RequestReviewRequest{Decision: line.Decision, Reason: "请复核"})
		require.NoError(t, err)
		_, err = e.credit.ResolveReview(e.as("officer"), &sanzhiv1.ResolveReviewRequest{Name: rv.Name, Outcome: "override",
			Limit: "0", Justification: "拟收回授信，待第二人审批"})
		require.NoError(t, err)
		up, err := e.credit.ResolveReview(e.as("risk-1"), &sanzhiv1.ResolveReviewRequest{Name: rv.Name, Outcome: "uphold",
			Justification: "不同意收回，维持自动决定"})
		require.NoError(t, err)
		assert.Equal(t, "upheld", up.Review.State)
		_, err = e.credit.ApproveOverride(e.as("risk-2"), &sanzhiv1.ApproveOverrideRequest{Name: rv.Name, Limit: "0"})
		assert.Equal(t, "REVIEW_CLOSED", reasonOf(err))
		assert.Equal(t, line.Limit, getLine(t, e, hh).Limit)
		// No review at all: nothing to approve.
		_, err = e.credit.ApproveOverride(e.as("risk-2"), &sanzhiv1.ApproveOverrideRequest{Name: product + "/reviews/nope", Limit: "0"})
		requireCode(t, err, codes.NotFound, "", "")
	})
}
