package rpc_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// idDisguises writes a valid 身份证号 the ways that slipped past the old
// detector: prefixed, spaced, dashed, full-width, with ideographic spaces.
func idDisguises(t *testing.T) map[string]string {
	id := personID(t, "19680315")
	spaced := id[0:4] + " " + id[4:8] + " " + id[8:12] + " " + id[12:16] + " " + id[16:]
	return map[string]string{
		"plain":       "身份证号 " + id,
		"prefixed":    "ID" + id,
		"spaced":      spaced,
		"dashed":      id[:6] + "-" + id[6:14] + "-" + id[14:],
		"full-width":  strings.Map(func(r rune) rune { return r - '0' + '０' }, id[:17]) + string(rune(id[17])-'0'+'０'),
		"ideographic": id[:6] + "\u3000" + id[6:14] + "\u3000" + id[14:],
	}
}

// Every free-text input refuses a 身份证号 however it is written, with
// INVALID_ARGUMENT naming the field, and writes nothing: the text would
// otherwise be kept verbatim in the permanent audit log.
func TestFreeTextRefusesIDNumbers(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		e.noonTomorrow()
		activateCounty(t, e)
		lend := newLendingFixture(t, e)
		hh, _ := newHousehold(t, e, villageA, false)
		ev, err := e.evidence.SubmitEvidence(e.as("clerk-a"), pointsReq(e, hh, "ZZ-MS-05", 1))
		require.NoError(t, err)
		review, err := e.credit.RequestReview(e.as(lend.hhP), &sanzhiv1.RequestReviewRequest{Decision: lend.line.Decision, Reason: "请人工复核额度"})
		require.NoError(t, err)
		_ = review
		clerk, reviewer, officer, risk := e.as("clerk-a"), e.as("reviewer-a"), e.as("officer"), e.as("risk-1")

		type call func(text string) error
		calls := map[string]call{
			"household.address": func(x string) error {
				r := validCreate(t, villageA)
				r.Household.Address = x
				_, err := e.client.CreateHousehold(clerk, r)
				return err
			},
			"household.facts.source": func(x string) error {
				r := validCreate(t, villageA)
				r.Household.Facts.Source = x
				_, err := e.client.CreateHousehold(clerk, r)
				return err
			},
			"household.head_name": func(x string) error {
				_, err := e.client.UpdateHousehold(clerk, &sanzhiv1.UpdateHouseholdRequest{
					Household: &sanzhiv1.Household{Name: hh, HeadName: x}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"head_name"}}})
				return err
			},
			"evidence.note": func(x string) error {
				r := pointsReq(e, hh, "ZZ-MS-05", 1)
				r.Evidence.Note = x
				_, err := e.evidence.SubmitEvidence(clerk, r)
				return err
			},
			"evidence.witness": func(x string) error {
				r := pointsReq(e, hh, "ZZ-MS-01", 1)
				r.Evidence.Witness = x
				_, err := e.evidence.SubmitEvidence(clerk, r)
				return err
			},
			"evidence.system_source": func(x string) error {
				r := pointsReq(e, hh, "ZZ-MS-05", 1)
				r.Evidence.SystemSource = x
				_, err := e.evidence.SubmitEvidence(clerk, r)
				return err
			},
			"reason (review)": func(x string) error {
				_, err := e.evidence.ReviewEvidence(reviewer, &sanzhiv1.ReviewEvidenceRequest{Name: ev.Name,
					Decision: sanzhiv1.ReviewDecision_REVIEW_DECISION_REJECT, Reason: x})
				return err
			},
			"reason (object)": func(x string) error {
				_, err := e.evidence.ObjectToEvidence(clerk, &sanzhiv1.ObjectToEvidenceRequest{Name: ev.Name, Reason: x})
				return err
			},
			"reason (resolve)": func(x string) error {
				_, err := e.evidence.ResolveDispute(reviewer, &sanzhiv1.ResolveDisputeRequest{Name: ev.Name,
					Outcome: sanzhiv1.DisputeOutcome_DISPUTE_OUTCOME_UPHOLD, Reason: x})
				return err
			},
			"reason (revoke)": func(x string) error {
				_, err := e.evidence.RevokeEvidence(clerk, &sanzhiv1.RevokeEvidenceRequest{Name: ev.Name, Reason: x})
				return err
			},
			"note (redeem)": func(x string) error {
				_, err := e.points.RedeemPoints(clerk, &sanzhiv1.RedeemPointsRequest{Household: hh, Amount: "1", Note: x, RequestId: fmt.Sprintf("r-%d", seq.Add(1))})
				return err
			},
			"note (shop redeem)": func(x string) error {
				_, err := e.shop.Redeem(clerk, &sanzhiv1.RedeemRequest{Household: hh, Good: "rice", Quantity: 1, Note: x, RequestId: fmt.Sprintf("s-%d", seq.Add(1))})
				return err
			},
			"note (arrival)": func(x string) error {
				_, err := e.shop.RecordArrival(clerk, &sanzhiv1.RecordArrivalRequest{Good: "villages/" + villageA + "/goods/rice", Quantity: 1,
					Note: x, RequestId: fmt.Sprintf("a-%d", seq.Add(1))})
				return err
			},
			"good.name_zh": func(x string) error {
				_, err := e.shop.CreateGood(clerk, &sanzhiv1.CreateGoodRequest{Parent: "villages/" + villageA,
					Good: &sanzhiv1.Good{Code: "g", NameZh: x, Unit: "个", Price: "1"}})
				return err
			},
			"use": func(x string) error {
				_, err := e.credit.ReportDrawdown(officer, &sanzhiv1.ReportDrawdownRequest{Line: lend.line.Name,
					TransactionId: fmt.Sprintf("t-%d", seq.Add(1)), Amount: "1", Use: x})
				return err
			},
			"justification (unfreeze)": func(x string) error {
				_, err := e.credit.UnfreezeCreditLine(risk, &sanzhiv1.UnfreezeCreditLineRequest{Name: lend.frozen.Name, Justification: "已核实情况，" + x})
				return err
			},
			"reason (request review)": func(x string) error {
				_, err := e.credit.RequestReview(e.as(lend.hhP), &sanzhiv1.RequestReviewRequest{Decision: lend.line.Decision, Reason: x})
				return err
			},
			"justification (resolve review)": func(x string) error {
				_, err := e.credit.ResolveReview(officer, &sanzhiv1.ResolveReviewRequest{Name: lend.reviewToSettle, Outcome: "uphold",
					Justification: "经复核维持原决定，" + x})
				return err
			},
		}
		fieldOf := func(name string) string { f, _, _ := strings.Cut(name, " ("); return f }
		before := snapshot(t, e, hh)
		n0, err := st.QueueLength(context.Background())
		require.NoError(t, err)
		for name, c := range calls {
			for how, text := range idDisguises(t) {
				err := c(text)
				requireCode(t, err, codes.InvalidArgument, fieldOf(name), "must not contain an ID number")
				assert.NotContains(t, err.Error(), strings.TrimPrefix(text, "身份证号 "), "%s/%s: the number is not echoed", name, how)
			}
		}
		n1, err := st.QueueLength(context.Background())
		require.NoError(t, err)
		assert.Equal(t, n0, n1, "no refused call wrote an audit record")
		assert.Equal(t, before, snapshot(t, e, hh))
	})
}
