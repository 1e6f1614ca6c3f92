package rpc_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// Every bad request to the evidence workflow and the points ledger gets a
// clear error and changes nothing: no evidence, no ledger entry, no audit
// record, no balance moves. Each case names the code, and the violated
// field or the ErrorInfo reason.
func TestEvidenceBadInput(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		e.noonTomorrow()
		activateCounty(t, e)
		clerk, reviewer := e.as("clerk-a"), e.as("reviewer-a")
		h1, p1 := newHousehold(t, e, villageA, true)
		hB, pB := newHousehold(t, e, villageB, true)

		// Evidence in every state the cases need.
		ended := submitAndApprove(t, e, pointsReq(e, h1, "ZZ-MS-01", 1))
		revoked := submitAndApprove(t, e, pointsReq(e, h1, "DZ-XF-02", 1))
		e.clock.Advance(8 * 24 * time.Hour) // both notices are over
		_, err := e.evidence.RevokeEvidence(clerk, &sanzhiv1.RevokeEvidenceRequest{Name: revoked.Name, Reason: "录入错误"})
		require.NoError(t, err)
		pending, err := e.evidence.SubmitEvidence(clerk, pointsReq(e, h1, "DZ-XF-01", 1))
		require.NoError(t, err)
		onNotice := submitAndApprove(t, e, pointsReq(e, h1, "DZ-XF-03", 1))
		rejected, err := e.evidence.SubmitEvidence(clerk, pointsReq(e, h1, "DZ-XF-01", 1))
		require.NoError(t, err)
		_, err = e.evidence.ReviewEvidence(reviewer, &sanzhiv1.ReviewEvidenceRequest{
			Name: rejected.Name, Decision: sanzhiv1.ReviewDecision_REVIEW_DECISION_REJECT, Reason: "照片不清楚"})
		require.NoError(t, err)
		byReviewer, err := e.evidence.SubmitEvidence(reviewer, pointsReq(e, h1, "DZ-XF-01", 1))
		require.NoError(t, err)
		onNoticeB, err := e.evidence.SubmitEvidence(e.as("clerk-b"), pointsReq(e, hB, "ZZ-MS-05", 1))
		require.NoError(t, err, "a machine-recorded item in village B")
		young := newYoungHousehold(t, e)

		today := household.Date(e.today())
		yesterday := string(points.AddDays(today, -1))
		tomorrow := string(points.AddDays(today, 1))
		used := pointsReq(e, h1, "ZZ-MS-05", 1)
		_, err = e.evidence.SubmitEvidence(clerk, used)
		require.NoError(t, err)
		missing := h1 + "/evidence/01936a4e-0000-7000-8000-000000000000"

		submit := func(edit func(r *sanzhiv1.SubmitEvidenceRequest)) func() error {
			return func() error {
				r := pointsReq(e, h1, "DZ-XF-01", 1)
				edit(r)
				_, err := e.evidence.SubmitEvidence(clerk, r)
				return err
			}
		}
		listing := func(kind sanzhiv1.EvidenceKind, edit func(ev *sanzhiv1.Evidence)) func() error {
			return func() error {
				r := listingReq(e, h1, kind)
				edit(r.Evidence)
				_, err := e.evidence.SubmitEvidence(clerk, r)
				return err
			}
		}
		recommend := func(amount string, creditworthy bool) func() error {
			return listing(sanzhiv1.EvidenceKind_EVIDENCE_KIND_RECOMMENDATION, func(ev *sanzhiv1.Evidence) {
				ev.Period, ev.Creditworthy, ev.ProposedAmount = "2026", creditworthy, amount
			})
		}
		review := func(as context.Context, name string, d sanzhiv1.ReviewDecision, reason string) func() error {
			return func() error {
				_, err := e.evidence.ReviewEvidence(as, &sanzhiv1.ReviewEvidenceRequest{Name: name, Decision: d, Reason: reason})
				return err
			}
		}
		object := func(as context.Context, name, reason string) func() error {
			return func() error {
				_, err := e.evidence.ObjectToEvidence(as, &sanzhiv1.ObjectToEvidenceRequest{Name: name, Reason: reason})
				return err
			}
		}
		revoke := func(name, reason string) func() error {
			return func() error {
				_, err := e.evidence.RevokeEvidence(clerk, &sanzhiv1.RevokeEvidenceRequest{Name: name, Reason: reason})
				return err
			}
		}
		redeem := func(hh, amount string) func() error {
			return func() error {
				_, err := e.points.RedeemPoints(clerk, &sanzhiv1.RedeemPointsRequest{Household: hh, Amount: amount, RequestId: fmt.Sprintf("shop-%d", seq.Add(1))})
				return err
			}
		}
		pointsAsOf := func(asOf string) func() error {
			return func() error {
				_, err := e.points.GetPoints(clerk, &sanzhiv1.GetPointsRequest{Household: h1, AsOf: asOf})
				return err
			}
		}
		batch := func(n int) func() error {
			return func() error {
				req := &sanzhiv1.BatchSubmitEvidenceRequest{Parent: "villages/" + villageA}
				for range n {
					req.Requests = append(req.Requests, pointsReq(e, h1, "ZZ-MS-05", 1))
				}
				_, err := e.evidence.BatchSubmitEvidence(clerk, req)
				return err
			}
		}
		approve, reject := sanzhiv1.ReviewDecision_REVIEW_DECISION_APPROVE, sanzhiv1.ReviewDecision_REVIEW_DECISION_REJECT

		cases := []struct {
			name   string
			call   func() error
			code   codes.Code
			field  string // for INVALID_ARGUMENT
			reason string // the ErrorInfo reason, when it matters
		}{
			// Submit: items and quantities.
			{"unknown item", submit(func(r *sanzhiv1.SubmitEvidenceRequest) { r.Evidence.ItemCode = "ZZ-XX-99" }), codes.InvalidArgument, "evidence.item_code", ""},
			{"item of another village's catalogue", submit(func(r *sanzhiv1.SubmitEvidenceRequest) { r.Evidence.ItemCode = "NY-MS-01" }), codes.InvalidArgument, "evidence.item_code", ""},
			{"lower-case item code", submit(func(r *sanzhiv1.SubmitEvidenceRequest) { r.Evidence.ItemCode = "dz-xf-01" }), codes.InvalidArgument, "evidence.item_code", ""},
			{"negative quantity", submit(func(r *sanzhiv1.SubmitEvidenceRequest) { r.Evidence.Quantity = -1 }), codes.InvalidArgument, "evidence.quantity", ""},
			{"zero quantity", submit(func(r *sanzhiv1.SubmitEvidenceRequest) { r.Evidence.Quantity = 0 }), codes.InvalidArgument, "evidence.quantity", ""},
			{"quantity beyond the annual cap", func() error {
				_, err := e.evidence.SubmitEvidence(clerk, pointsReq(e, h1, "ZZ-MS-05", 7))
				return err
			}, codes.InvalidArgument, "evidence.quantity", ""},
			// Submit: dates.
			{"occurred tomorrow", submit(func(r *sanzhiv1.SubmitEvidenceRequest) { r.Evidence.OccurredOn = tomorrow }), codes.InvalidArgument, "evidence.occurred_on", ""},
			{"occurred on 30 February", submit(func(r *sanzhiv1.SubmitEvidenceRequest) { r.Evidence.OccurredOn = "2026-02-30" }), codes.InvalidArgument, "evidence.occurred_on", ""},
			{"slashed date", submit(func(r *sanzhiv1.SubmitEvidenceRequest) { r.Evidence.OccurredOn = "2026/03/01" }), codes.InvalidArgument, "evidence.occurred_on", ""},
			{"no date", submit(func(r *sanzhiv1.SubmitEvidenceRequest) { r.Evidence.OccurredOn = "" }), codes.InvalidArgument, "evidence.occurred_on", ""},
			{"older than the catalogue allows", submit(func(r *sanzhiv1.SubmitEvidenceRequest) {
				r.Evidence.OccurredOn = string(points.AddDays(today, -91))
			}), codes.InvalidArgument, "evidence.occurred_on", ""},
			{"before the household was registered", func() error {
				r := pointsReq(e, young, "ZZ-MS-05", 1)
				r.Evidence.OccurredOn = string(points.AddDays(today, -3))
				_, err := e.evidence.SubmitEvidence(clerk, r)
				return err
			}, codes.InvalidArgument, "evidence.occurred_on", ""},
			// Submit: evidence the item requires, and the rest of the form.
			{"witness missing", func() error {
				r := pointsReq(e, h1, "ZZ-MS-01", 1)
				r.Evidence.Witness = ""
				_, err := e.evidence.SubmitEvidence(clerk, r)
				return err
			}, codes.InvalidArgument, "evidence.witness", ""},
			{"document hash missing", submit(func(r *sanzhiv1.SubmitEvidenceRequest) { r.Evidence.Attachments = nil }), codes.InvalidArgument, "evidence.attachments", ""},
			{"malformed hash", submit(func(r *sanzhiv1.SubmitEvidenceRequest) { r.Evidence.Attachments[0].Sha256 = "abc" }), codes.InvalidArgument, "evidence.attachments[0].sha256", ""},
			{"note too long", submit(func(r *sanzhiv1.SubmitEvidenceRequest) { r.Evidence.Note = strings.Repeat("长", 501) }), codes.InvalidArgument, "evidence.note", ""},
			{"kind unspecified", submit(func(r *sanzhiv1.SubmitEvidenceRequest) {
				r.Evidence.Kind = sanzhiv1.EvidenceKind_EVIDENCE_KIND_UNSPECIFIED
			}), codes.InvalidArgument, "evidence.kind", ""},
			{"no request id", submit(func(r *sanzhiv1.SubmitEvidenceRequest) { r.RequestId = "" }), codes.InvalidArgument, "request_id", ""},
			{"no evidence", submit(func(r *sanzhiv1.SubmitEvidenceRequest) { r.Evidence = nil }), codes.InvalidArgument, "evidence", ""},
			{"malformed parent", submit(func(r *sanzhiv1.SubmitEvidenceRequest) { r.Parent = "villages/" + villageA + "/households/42" }), codes.InvalidArgument, "parent", ""},
			{"request id reused for other content", func() error {
				r := proto.Clone(used).(*sanzhiv1.SubmitEvidenceRequest)
				r.Evidence.Quantity = 2
				_, err := e.evidence.SubmitEvidence(clerk, r)
				return err
			}, codes.AlreadyExists, "", "REQUEST_ID_REUSED"},
			{"household that does not exist", submit(func(r *sanzhiv1.SubmitEvidenceRequest) {
				r.Parent = "villages/" + villageA + "/households/01936a4e-0000-7000-8000-000000000000"
			}), codes.NotFound, "", ""},
			{"household of another village", submit(func(r *sanzhiv1.SubmitEvidenceRequest) { r.Parent = hB }), codes.PermissionDenied, "", ""},
			// Submit: ratings, listings, recommendations.
			{"star rating without a level", listing(sanzhiv1.EvidenceKind_EVIDENCE_KIND_STAR_RATING, func(ev *sanzhiv1.Evidence) { ev.Level = 0 }), codes.InvalidArgument, "evidence.level", ""},
			{"six stars", listing(sanzhiv1.EvidenceKind_EVIDENCE_KIND_STAR_RATING, func(ev *sanzhiv1.Evidence) { ev.Stars = 6 }), codes.InvalidArgument, "evidence.stars", ""},
			{"black-list listing already expired", listing(sanzhiv1.EvidenceKind_EVIDENCE_KIND_BLACK_LIST, func(ev *sanzhiv1.Evidence) { ev.ValidUntil = yesterday }), codes.InvalidArgument, "evidence.valid_until", ""},
			{"red-list listing without validity", listing(sanzhiv1.EvidenceKind_EVIDENCE_KIND_RED_LIST, func(ev *sanzhiv1.Evidence) { ev.ValidUntil = "" }), codes.InvalidArgument, "evidence.valid_until", ""},
			{"recommendation of a tenth of a fen", recommend("50000.001", true), codes.InvalidArgument, "evidence.proposed_amount", ""},
			{"recommendation of 1e30 yuan", recommend("1e30", true), codes.InvalidArgument, "evidence.proposed_amount", ""},
			{"negative recommendation", recommend("-5000", true), codes.InvalidArgument, "evidence.proposed_amount", ""},
			{"amount for a household not recommended", recommend("5000", false), codes.InvalidArgument, "evidence.proposed_amount", ""},
			// Review.
			{"self-review", review(reviewer, byReviewer.Name, approve, ""), codes.FailedPrecondition, "", "SELF_REVIEW"},
			{"review of a rejected entry", review(reviewer, rejected.Name, approve, ""), codes.FailedPrecondition, "", "NOT_PENDING_REVIEW"},
			{"review of posted evidence", review(reviewer, onNotice.Name, reject, "再议"), codes.FailedPrecondition, "", "NOT_PENDING_REVIEW"},
			{"rejection without a reason", review(reviewer, pending.Name, reject, ""), codes.InvalidArgument, "reason", ""},
			{"no decision", review(reviewer, pending.Name, sanzhiv1.ReviewDecision_REVIEW_DECISION_UNSPECIFIED, ""), codes.InvalidArgument, "decision", ""},
			{"review of evidence that does not exist", review(reviewer, missing, approve, ""), codes.NotFound, "", ""},
			{"review by a clerk", review(clerk, pending.Name, approve, ""), codes.PermissionDenied, "", ""},
			{"review by another village's reviewer", review(e.as("reviewer-b"), pending.Name, approve, ""), codes.PermissionDenied, "", ""},
			// Object, resolve, revoke.
			{"objection after 公示 ended", object(e.as(p1), ended.Name, "不属实"), codes.FailedPrecondition, "", "NOTICE_ENDED"},
			{"objection to pending evidence", object(e.as(p1), pending.Name, "不属实"), codes.FailedPrecondition, "", "NOT_ON_NOTICE"},
			{"objection without a reason", object(e.as(p1), onNotice.Name, ""), codes.InvalidArgument, "reason", ""},
			{"objection from another village's household", object(e.as(pB), onNotice.Name, "不属实"), codes.PermissionDenied, "", ""},
			{"objection by a village-A household to village B", object(e.as(p1), onNoticeB.Name, "不属实"), codes.PermissionDenied, "", ""},
			{"resolve evidence that is not disputed", func() error {
				_, err := e.evidence.ResolveDispute(reviewer, &sanzhiv1.ResolveDisputeRequest{Name: onNotice.Name, Outcome: sanzhiv1.DisputeOutcome_DISPUTE_OUTCOME_UPHOLD, Reason: "属实"})
				return err
			}, codes.FailedPrecondition, "", "NOT_DISPUTED"},
			{"resolve without an outcome", func() error {
				_, err := e.evidence.ResolveDispute(reviewer, &sanzhiv1.ResolveDisputeRequest{Name: onNotice.Name, Reason: "属实"})
				return err
			}, codes.InvalidArgument, "outcome", ""},
			{"revoke twice", revoke(revoked.Name, "再次撤销"), codes.FailedPrecondition, "", "ALREADY_REVOKED"},
			{"revoke pending evidence", revoke(pending.Name, "撤销"), codes.FailedPrecondition, "", "NOT_POSTED"},
			{"revoke without a reason", revoke(onNotice.Name, ""), codes.InvalidArgument, "reason", ""},
			// Points and redemptions.
			{"redeem more than is redeemable", redeem(h1, "1000"), codes.FailedPrecondition, "", "INSUFFICIENT_POINTS"},
			{"redeem zero", redeem(h1, "0"), codes.InvalidArgument, "amount", ""},
			{"redeem a negative amount", redeem(h1, "-1"), codes.InvalidArgument, "amount", ""},
			{"redeem finer than the catalogue's precision", redeem(h1, "0.25"), codes.InvalidArgument, "amount", ""},
			{"redeem text", redeem(h1, "two"), codes.InvalidArgument, "amount", ""},
			{"redeem for another village's household", redeem(hB, "1"), codes.PermissionDenied, "", ""},
			{"points as of tomorrow", pointsAsOf(tomorrow), codes.InvalidArgument, "as_of", ""},
			{"points as of a malformed day", pointsAsOf("2026-13-01"), codes.InvalidArgument, "as_of", ""},
			// Batches and rankings.
			{"oversized batch", batch(1001), codes.InvalidArgument, "requests", ""},
			{"empty batch", batch(0), codes.InvalidArgument, "requests", ""},
			{"ranking of quarter 5", func() error {
				_, err := e.points.GetVillageRanking(clerk, &sanzhiv1.GetVillageRankingRequest{Parent: "villages/" + villageA, Quarter: "2026Q5"})
				return err
			}, codes.InvalidArgument, "quarter", ""},
		}
		require.GreaterOrEqual(t, len(cases), 40)

		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := snapshot(t, e, h1, hB)
				err := tc.call()
				requireCode(t, err, tc.code, tc.field, "")
				if tc.reason != "" {
					assert.Equal(t, tc.reason, reasonOf(err))
				}
				assert.Equal(t, before, snapshot(t, e, h1, hB), "a refused request changes nothing")
			})
		}
	})
}

// newYoungHousehold registers a village-A household yesterday.
func newYoungHousehold(t *testing.T, e *env) string {
	t.Helper()
	req := validCreate(t, villageA)
	req.Household.HeadIdNumber = personID(t, "19900101")
	req.Household.RegisteredDate = string(points.AddDays(household.Date(e.today()), -1))
	h, err := e.client.CreateHousehold(e.as("clerk-a"), req)
	require.NoError(t, err)
	return h.Name
}

// snapshot is everything a refused request must leave alone: the audit
// log, both villages' evidence and both households' balances and entries.
func snapshot(t *testing.T, e *env, households ...string) string {
	t.Helper()
	var b strings.Builder
	n, err := e.st.QueueLength(context.Background())
	require.NoError(t, err)
	head, err := e.st.Head(context.Background())
	require.NoError(t, err)
	fmt.Fprintf(&b, "audit %d+%d\n", head.Size, n)
	for _, v := range []struct{ village, as string }{{villageA, "clerk-a"}, {villageB, "clerk-b"}} {
		list, err := e.evidence.ListEvidence(e.as(v.as), &sanzhiv1.ListEvidenceRequest{Parent: "villages/" + v.village, PageSize: 1000})
		require.NoError(t, err)
		for _, ev := range list.Evidence {
			fmt.Fprintf(&b, "%s %s\n", ev.Name, ev.State)
		}
	}
	for _, h := range households {
		as := "clerk-a"
		if household.VillageOf(h) == villageB {
			as = "clerk-b"
		}
		p, err := e.points.GetPoints(e.as(as), &sanzhiv1.GetPointsRequest{Household: h})
		require.NoError(t, err)
		fmt.Fprintf(&b, "%s credit=%s redeemable=%s entries=%d\n", h, p.Credit, p.Redeemable, len(p.Entries))
	}
	return b.String()
}
