package rpc_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// TestOfficerOpensReview: through the API a loan officer of the
// decision's bank opens a review (not only the household asks); another
// bank's officer and a risk manager cannot; the bank needs a lawful basis
// to open one; and a review the bank opened is no ask of the household's,
// so once the household withdraws its consent the bank no longer sees it,
// while a household's own open ask stays the bank's to answer.
func TestOfficerOpensReview(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := lendingEnv(t, st)
		_, pA, lineA := consented(t, e)
		rv, err := e.credit.RequestReview(e.as("officer"), &sanzhiv1.RequestReviewRequest{Decision: lineA.Decision,
			Reason: "客户经理复核：收入证明已更新"})
		require.NoError(t, err)
		assert.Equal(t, "open", rv.State)
		_, err = e.credit.RequestReview(e.as("officer-other"), &sanzhiv1.RequestReviewRequest{Decision: lineA.Decision, Reason: "复核"})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, err = e.credit.RequestReview(e.as("risk-1"), &sanzhiv1.RequestReviewRequest{Decision: lineA.Decision, Reason: "复核"})
		requireCode(t, err, codes.PermissionDenied, "", "")
		// The household asking now finds the review already open.
		again, err := e.credit.RequestReview(e.as(pA), &sanzhiv1.RequestReviewRequest{Decision: lineA.Decision, Reason: "请复核"})
		require.NoError(t, err)
		assert.Equal(t, rv.Name, again.Name)

		// B asked itself; C's was opened by the bank. Both withdraw consent.
		hhB, pB, lineB := consented(t, e)
		rvB, err := e.credit.RequestReview(e.as(pB), &sanzhiv1.RequestReviewRequest{Decision: lineB.Decision, Reason: "请人工复核"})
		require.NoError(t, err)
		hhC, pC, lineC := consented(t, e)
		rvC, err := e.credit.RequestReview(e.as("officer"), &sanzhiv1.RequestReviewRequest{Decision: lineC.Decision, Reason: "客户经理复核额度"})
		require.NoError(t, err)
		for hh, p := range map[string]string{hhB: pB, hhC: pC} {
			list, err := e.consents.ListConsents(e.as(p), &sanzhiv1.ListConsentsRequest{Parent: hh})
			require.NoError(t, err)
			for _, c := range list.Consents {
				_, err := e.consents.RevokeConsent(e.as(p), &sanzhiv1.RevokeConsentRequest{Name: c.Name})
				require.NoError(t, err)
			}
		}
		list, err := e.credit.ListReviews(e.as("officer"), &sanzhiv1.ListReviewsRequest{Parent: product, State: "open"})
		require.NoError(t, err)
		names := map[string]bool{}
		for _, r := range list.Reviews {
			names[r.Name] = true
		}
		assert.True(t, names[rv.Name], "A still consents")
		assert.True(t, names[rvB.Name], "B's own open ask is the bank's to answer")
		assert.False(t, names[rvC.Name], "a review the bank opened is no basis of its own")
		// The bank's every product: the same reviews.
		all, err := e.credit.ListReviews(e.as("officer"), &sanzhiv1.ListReviewsRequest{Parent: "banks/tongxiang-rcb", State: "open"})
		require.NoError(t, err)
		assert.Len(t, all.Reviews, len(list.Reviews))
		// Without a lawful basis the bank cannot open one.
		hhD, pD, lineD := consented(t, e)
		dl, err := e.consents.ListConsents(e.as(pD), &sanzhiv1.ListConsentsRequest{Parent: hhD})
		require.NoError(t, err)
		for _, c := range dl.Consents {
			_, err := e.consents.RevokeConsent(e.as(pD), &sanzhiv1.RevokeConsentRequest{Name: c.Name})
			require.NoError(t, err)
		}
		_, err = e.credit.RequestReview(e.as("officer"), &sanzhiv1.RequestReviewRequest{Decision: lineD.Decision, Reason: "复核"})
		requireCode(t, err, codes.PermissionDenied, "", "")
		assert.Equal(t, "CONSENT_REQUIRED", reasonOf(err))
	})
}
