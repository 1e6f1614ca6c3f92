package rpc_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// eventsOf returns the bank's stream's events about line.
func eventsOf(t *testing.T, e *env, who, line string) []*sanzhiv1.CreditLineEvent {
	t.Helper()
	var out []*sanzhiv1.CreditLineEvent
	for _, ev := range watchAs(t, e, who) {
		if ev.Line == line {
			out = append(out, ev)
		}
	}
	return out
}

func watchAs(t *testing.T, e *env, who string) []*sanzhiv1.CreditLineEvent {
	t.Helper()
	return watchUntilIdle(t, e, who)
}

func revokeAll(t *testing.T, e *env, hh, hhP string) {
	t.Helper()
	cs, err := e.consents.ListConsents(e.as(hhP), &sanzhiv1.ListConsentsRequest{Parent: hh})
	require.NoError(t, err)
	require.NotEmpty(t, cs.Consents)
	for _, c := range cs.Consents {
		_, err := e.consents.RevokeConsent(e.as(hhP), &sanzhiv1.RevokeConsentRequest{Name: c.Name})
		require.NoError(t, err)
	}
}

// TestFreezeEventWithoutLawfulBasis (issue 11, finding 2): the household
// revoked every consent and owes the bank nothing; then it is
// black-listed. The bank's stream must not tell it the limit, the reason
// or who: only that its line changed status.
func TestFreezeEventWithoutLawfulBasis(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := lendingEnv(t, st)
		hh, hhP, line := consented(t, e)
		rv, err := e.credit.RequestReview(e.as(hhP), &sanzhiv1.RequestReviewRequest{Decision: line.Decision, Reason: "请复核"})
		require.NoError(t, err)
		revokeAll(t, e, hh, hhP)
		// The household's decisions are its data too: no basis, no list.
		_, err = e.credit.ListDecisions(e.as("officer"), &sanzhiv1.ListDecisionsRequest{Household: hh, Bank: bankName})
		assert.Equal(t, "CONSENT_REQUIRED", reasonOf(err))
		// Its open review request is its own ask of the bank: the bank sees
		// and answers it; once closed, it drops out of the bank's list.
		reviewed := func() bool {
			list, err := e.credit.ListReviews(e.as("officer"), &sanzhiv1.ListReviewsRequest{Parent: product})
			require.NoError(t, err)
			for _, r := range list.Reviews {
				if r.Name == rv.Name {
					return true
				}
			}
			return false
		}
		assert.True(t, reviewed())
		_, err = e.credit.ResolveReview(e.as("officer"), &sanzhiv1.ResolveReviewRequest{Name: rv.Name, Outcome: "uphold",
			Justification: "维持自动决定，已告知农户"})
		require.NoError(t, err)
		assert.False(t, reviewed())
		before := queryOutcomes(t, e, hh)
		submitAndApprove(t, e, listingReq(e, hh, sanzhiv1.EvidenceKind_EVIDENCE_KIND_BLACK_LIST))

		evs := eventsOf(t, e, "officer", line.Name)
		var frozen *sanzhiv1.CreditLineEvent
		for _, ev := range evs {
			// Judged at delivery: the line's earlier events are withheld
			// now too.
			assert.Empty(t, ev.Household, ev.Type)
			assert.Empty(t, ev.Basis, ev.Type)
			hid := strings.TrimPrefix(hh, "villages/"+villageA+"/households/")
			for _, leak := range []string{"blacklisted", line.Limit, villageA, hid, "households/", "limit", "freeze_reason", "decision"} {
				if leak != "" {
					assert.NotContains(t, ev.Payload, leak, "%s event carries %q", ev.Type, leak)
				}
			}
			var body map[string]any
			require.NoError(t, json.Unmarshal([]byte(ev.Payload), &body))
			assert.Equal(t, "no_lawful_basis", body["withheld"])
			if ev.Type == "credit_line.frozen" {
				frozen = ev
			}
		}
		require.NotNil(t, frozen, "the bank still learns its line's status changed")
		assert.Contains(t, frozen.Payload, `"status":"frozen"`)
		// Nothing was delivered with household data: no new query record.
		assert.Equal(t, before, queryOutcomes(t, e, hh))

		// The regulator supervises: its stream is whole.
		reg := eventsOf(t, e, "regulator", line.Name)
		require.NotEmpty(t, reg)
		for _, ev := range reg {
			assert.Equal(t, hh, ev.Household)
			assert.Equal(t, "supervision", ev.Basis)
		}
	})
}

// TestEventDeliveriesAreQueryRecords: under a consent every event goes
// whole and is a query record; a household that revoked its consent but
// owes the bank money is still monitored (contract basis, post-loan only).
func TestEventDeliveriesAreQueryRecords(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := lendingEnv(t, st)
		hh, hhP, line := consented(t, e)
		evs := eventsOf(t, e, "officer", line.Name)
		require.Len(t, evs, 1)
		assert.Equal(t, "consent", evs[0].Basis)
		assert.Equal(t, hh, evs[0].Household)
		assert.Contains(t, evs[0].Payload, line.Limit)
		assert.Contains(t, queryOutcomes(t, e, hh), "watch_credit_lines/post_loan/allowed")

		_, err := e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{Line: line.Name,
			TransactionId: "owed", Amount: "100", Use: "agriculture"})
		require.NoError(t, err)
		revokeAll(t, e, hh, hhP)
		submitAndApprove(t, e, listingReq(e, hh, sanzhiv1.EvidenceKind_EVIDENCE_KIND_BLACK_LIST))
		var frozen *sanzhiv1.CreditLineEvent
		for _, ev := range eventsOf(t, e, "officer", line.Name) {
			assert.Equal(t, "contract", ev.Basis, ev.Type)
			if ev.Type == "credit_line.frozen" {
				frozen = ev
			}
		}
		require.NotNil(t, frozen)
		assert.Contains(t, frozen.Payload, "blacklisted")
		// GetCreditLine for post_loan rests on the same balance; for
		// assessment it does not.
		got, err := e.credit.GetCreditLine(e.as("officer"), &sanzhiv1.GetCreditLineRequest{Product: product, Household: hh, Purpose: "post_loan"})
		require.NoError(t, err)
		assert.Equal(t, "frozen", got.Status)
		_, err = e.credit.GetCreditLine(e.as("officer"), &sanzhiv1.GetCreditLineRequest{Product: product, Household: hh, Purpose: "assessment"})
		assert.Equal(t, "CONSENT_REQUIRED", reasonOf(err))
		// Nor is a balance a basis for a new decision.
		_, err = e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: hh})
		assert.Equal(t, "CONSENT_REQUIRED", reasonOf(err))
		// Repaid in full: the contract basis ends, and with it the data.
		_, err = e.credit.ReportRepayment(e.as("officer"), &sanzhiv1.ReportRepaymentRequest{Line: line.Name,
			TransactionId: "repaid", Amount: "100"})
		require.NoError(t, err)
		for _, ev := range eventsOf(t, e, "officer", line.Name) {
			assert.Empty(t, ev.Basis, ev.Type)
			assert.NotContains(t, ev.Payload, "blacklisted")
		}
		_, err = e.credit.GetCreditLine(e.as("officer"), &sanzhiv1.GetCreditLineRequest{Product: product, Household: hh, Purpose: "post_loan"})
		assert.Equal(t, "CONSENT_REQUIRED", reasonOf(err))
		recs := queryOutcomes(t, e, hh)
		assert.Contains(t, recs, "get_credit_line/post_loan/allowed")
		assert.Contains(t, recs, "watch_credit_lines/post_loan/allowed")
		// The household sees the basis of each delivery.
		_, err = e.log.Publish(context.Background())
		require.NoError(t, err)
		all, err := e.consents.ListQueryRecords(e.as(hhP), &sanzhiv1.ListQueryRecordsRequest{Parent: hh})
		require.NoError(t, err)
		bases := map[string]bool{}
		for _, r := range all.Records {
			if r.Outcome == "allowed" {
				bases[r.Basis] = true
			}
		}
		assert.True(t, bases["consent"], "deliveries under the consent: %v", bases)
		assert.True(t, bases["contract"], "deliveries under the balance: %v", bases)
	})
}
