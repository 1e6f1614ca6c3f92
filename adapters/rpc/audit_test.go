package rpc_test

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

func TestAudit(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		t.Run("EveryWriteLeavesOneEntry", func(t *testing.T) { testEveryWriteLeavesOneEntry(t, e) })
		t.Run("Service", func(t *testing.T) { testAuditService(t, e) })
	})
}

// testEveryWriteLeavesOneEntry walks the authorisation table: every method
// marked as a write must have a call here, and that call must add exactly
// one audit entry, about the resource it changed.
func testEveryWriteLeavesOneEntry(t *testing.T, e *env) {
	ctx := e.as("clerk-a")
	created, err := e.client.CreateHousehold(ctx, validCreate(t, villageA))
	require.NoError(t, err)
	// Evidence needs an active county base: version 1 is activated here,
	// the draft version 2 by the ActivateCatalogue call below.
	activateCounty(t, e)
	draft, err := e.cats.UploadCatalogue(e.as("operator"), &sanzhiv1.UploadCatalogueRequest{
		Parent: "counties/" + county, Document: countyDoc(t, 2)})
	require.NoError(t, err)

	// Evidence in the states the calls below need. Machine-recorded items
	// (ZZ-MS-05) are on notice as soon as they are submitted. The
	// redemption needs effective points: its award is posted first and
	// the clock moved past its notice.
	hh, hhPrincipal := newHousehold(t, e, villageA, true)
	_, err = e.evidence.SubmitEvidence(ctx, pointsReq(e, hh, "ZZ-MS-05", 3))
	require.NoError(t, err)
	e.clock.Advance(time.Duration(noticeDays+1) * 24 * time.Hour)
	pending, err := e.evidence.SubmitEvidence(ctx, pointsReq(e, hh, "ZZ-MS-01", 1))
	require.NoError(t, err)
	toObject, err := e.evidence.SubmitEvidence(ctx, pointsReq(e, hh, "ZZ-MS-05", 1))
	require.NoError(t, err)
	toResolve, err := e.evidence.SubmitEvidence(ctx, pointsReq(e, hh, "ZZ-MS-05", 1))
	require.NoError(t, err)
	_, err = e.evidence.ObjectToEvidence(e.as(hhPrincipal), &sanzhiv1.ObjectToEvidenceRequest{Name: toResolve.Name, Reason: "异议"})
	require.NoError(t, err)
	toRevoke, err := e.evidence.SubmitEvidence(ctx, pointsReq(e, hh, "ZZ-MS-05", 1))
	require.NoError(t, err)
	// Policy versions: 2 a draft to approve, 3 approved to activate.
	const product = "banks/tongxiang-rcb/products/sanzhi-xindai"
	for _, n := range []int{2, 3} {
		_, err := e.policies.UploadPolicy(e.as("risk-1"), &sanzhiv1.UploadPolicyRequest{Parent: product, Document: policyDoc(t, n)})
		require.NoError(t, err)
	}
	_, err = e.policies.ApprovePolicy(e.as("risk-2"), &sanzhiv1.ApprovePolicyRequest{Name: product + "/policies/3"})
	require.NoError(t, err)
	// A webhook with one dead letter to replay.
	hooks := newWebhookFixture(t, e)
	deadLetter := hooks.deadLetter(t, e)
	hooks.stop()
	lend := newLendingFixture(t, e)
	// The shop: rice in stock to redeem and restock, soap to change and
	// take off offer.
	for _, g := range []*sanzhiv1.Good{
		{Code: "rice", NameZh: "大米", Unit: "袋", Price: "1"},
		{Code: "soap", NameZh: "肥皂", Unit: "块", Price: "1"},
	} {
		_, err = e.shop.CreateGood(ctx, &sanzhiv1.CreateGoodRequest{Parent: "villages/" + villageA, Good: g})
		require.NoError(t, err)
	}
	rice, soap := "villages/"+villageA+"/goods/rice", "villages/"+villageA+"/goods/soap"
	_, err = e.shop.RecordArrival(ctx, &sanzhiv1.RecordArrivalRequest{Good: rice, Quantity: 5, RequestId: "audit-stock"})
	require.NoError(t, err)
	// Each call returns the subject it changed and who acted.
	calls := map[string]func() (subject, actor string){
		sanzhiv1.WebhookService_SetWebhook_FullMethodName: func() (string, string) {
			r, err := hooks.client.SetWebhook(e.as("risk-1"), &sanzhiv1.SetWebhookRequest{Bank: "banks/tongxiang-rcb", Url: hooks.srv.URL})
			require.NoError(t, err)
			return r.Webhook.Name, "risk-1"
		},
		sanzhiv1.WebhookService_ReplayDeadLetter_FullMethodName: func() (string, string) {
			d, err := hooks.client.ReplayDeadLetter(e.as("operator"), &sanzhiv1.ReplayDeadLetterRequest{Name: deadLetter})
			require.NoError(t, err)
			return d.Name, "operator"
		},
		sanzhiv1.HouseholdService_CreateHousehold_FullMethodName: func() (string, string) {
			h, err := e.client.CreateHousehold(ctx, validCreate(t, villageA))
			require.NoError(t, err)
			return h.Name, "clerk-a"
		},
		sanzhiv1.HouseholdService_UpdateHousehold_FullMethodName: func() (string, string) {
			h, err := e.client.UpdateHousehold(ctx, &sanzhiv1.UpdateHouseholdRequest{
				Household:  &sanzhiv1.Household{Name: created.Name, Address: "新地址"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"address"}},
			})
			require.NoError(t, err)
			return h.Name, "clerk-a"
		},
		sanzhiv1.CatalogueService_UploadCatalogue_FullMethodName: func() (string, string) {
			c, err := e.cats.UploadCatalogue(e.as("operator"), &sanzhiv1.UploadCatalogueRequest{
				Parent: "counties/" + county, Document: countyDoc(t, 3)})
			require.NoError(t, err)
			return c.Name, "operator"
		},
		sanzhiv1.CatalogueService_ActivateCatalogue_FullMethodName: func() (string, string) {
			c, err := e.cats.ActivateCatalogue(e.as("operator-2"), &sanzhiv1.ActivateCatalogueRequest{Name: draft.Name})
			require.NoError(t, err)
			return c.Name, "operator-2"
		},
		sanzhiv1.EvidenceService_SubmitEvidence_FullMethodName: func() (string, string) {
			ev, err := e.evidence.SubmitEvidence(ctx, pointsReq(e, hh, "ZZ-MS-03", 1))
			require.NoError(t, err)
			return ev.Name, "clerk-a"
		},
		sanzhiv1.EvidenceService_BatchSubmitEvidence_FullMethodName: func() (string, string) {
			res, err := e.evidence.BatchSubmitEvidence(ctx, &sanzhiv1.BatchSubmitEvidenceRequest{
				Parent: "villages/" + villageA, Requests: []*sanzhiv1.SubmitEvidenceRequest{pointsReq(e, hh, "ZZ-MS-03", 1)}})
			require.NoError(t, err)
			require.Len(t, res.Results, 1)
			require.Nil(t, res.Results[0].Status)
			return res.Results[0].Evidence.Name, "clerk-a"
		},
		sanzhiv1.EvidenceService_ReviewEvidence_FullMethodName: func() (string, string) {
			ev, err := e.evidence.ReviewEvidence(e.as("reviewer-a"), &sanzhiv1.ReviewEvidenceRequest{
				Name: pending.Name, Decision: sanzhiv1.ReviewDecision_REVIEW_DECISION_APPROVE})
			require.NoError(t, err)
			return ev.Name, "reviewer-a"
		},
		sanzhiv1.EvidenceService_ObjectToEvidence_FullMethodName: func() (string, string) {
			ev, err := e.evidence.ObjectToEvidence(e.as(hhPrincipal), &sanzhiv1.ObjectToEvidenceRequest{Name: toObject.Name, Reason: "异议"})
			require.NoError(t, err)
			return ev.Name, hhPrincipal
		},
		sanzhiv1.EvidenceService_ResolveDispute_FullMethodName: func() (string, string) {
			ev, err := e.evidence.ResolveDispute(e.as("reviewer-a"), &sanzhiv1.ResolveDisputeRequest{
				Name: toResolve.Name, Outcome: sanzhiv1.DisputeOutcome_DISPUTE_OUTCOME_UPHOLD, Reason: "查实"})
			require.NoError(t, err)
			return ev.Name, "reviewer-a"
		},
		sanzhiv1.EvidenceService_RevokeEvidence_FullMethodName: func() (string, string) {
			ev, err := e.evidence.RevokeEvidence(ctx, &sanzhiv1.RevokeEvidenceRequest{Name: toRevoke.Name, Reason: "录入错误"})
			require.NoError(t, err)
			return ev.Name, "clerk-a"
		},
		sanzhiv1.PolicyService_UploadPolicy_FullMethodName: func() (string, string) {
			v, err := e.policies.UploadPolicy(e.as("risk-1"), &sanzhiv1.UploadPolicyRequest{Parent: product, Document: policyDoc(t, 1)})
			require.NoError(t, err)
			return v.Name, "risk-1"
		},
		sanzhiv1.PolicyService_ApprovePolicy_FullMethodName: func() (string, string) {
			v, err := e.policies.ApprovePolicy(e.as("risk-2"), &sanzhiv1.ApprovePolicyRequest{Name: product + "/policies/2"})
			require.NoError(t, err)
			return v.Name, "risk-2"
		},
		sanzhiv1.PolicyService_ActivatePolicy_FullMethodName: func() (string, string) {
			v, err := e.policies.ActivatePolicy(e.as("risk-1"), &sanzhiv1.ActivatePolicyRequest{Name: product + "/policies/3"})
			require.NoError(t, err)
			return v.Name, "risk-1"
		},
		sanzhiv1.PolicyService_EvaluatePolicyGate_FullMethodName: func() (string, string) {
			r, err := e.policies.EvaluatePolicyGate(e.as("risk-2"), &sanzhiv1.EvaluatePolicyGateRequest{Name: product + "/policies/2"})
			require.NoError(t, err)
			return r.Name, "risk-2"
		},
		// After ApprovePolicy (methods run in name order): version 2 is
		// approved, not active, so it may be the challenger.
		sanzhiv1.PolicyService_StartChallenger_FullMethodName: func() (string, string) {
			c, err := e.policies.StartChallenger(e.as("risk-2"), &sanzhiv1.StartChallengerRequest{Name: product + "/policies/2"})
			require.NoError(t, err)
			return c.Policy, "risk-2"
		},
		sanzhiv1.PolicyService_StopChallenger_FullMethodName: func() (string, string) {
			c, err := e.policies.StopChallenger(e.as("risk-1"), &sanzhiv1.StopChallengerRequest{Parent: product})
			require.NoError(t, err)
			return c.Policy, "risk-1"
		},
		sanzhiv1.PolicyService_SimulatePolicy_FullMethodName: func() (string, string) {
			_, err := e.policies.SimulatePolicy(e.as("regulator"), &sanzhiv1.SimulatePolicyRequest{Name: product + "/policies/2"})
			require.NoError(t, err)
			return product + "/policies/2", "regulator"
		},
		sanzhiv1.ModelRiskService_GetBacktestReport_FullMethodName: func() (string, string) {
			_, err := sanzhiv1.NewModelRiskServiceClient(e.conn).GetBacktestReport(e.as("risk-1"),
				&sanzhiv1.GetBacktestReportRequest{Name: product + "/policies/2"})
			require.NoError(t, err)
			return product + "/policies/2", "risk-1"
		},
		sanzhiv1.ShopService_CreateGood_FullMethodName: func() (string, string) {
			g, err := e.shop.CreateGood(ctx, &sanzhiv1.CreateGoodRequest{Parent: "villages/" + villageA,
				Good: &sanzhiv1.Good{Code: "oil", NameZh: "菜籽油", Unit: "桶", Price: "2"}})
			require.NoError(t, err)
			return g.Name, "clerk-a"
		},
		sanzhiv1.ShopService_UpdateGood_FullMethodName: func() (string, string) {
			g, err := e.shop.UpdateGood(ctx, &sanzhiv1.UpdateGoodRequest{Name: soap, Price: "3"})
			require.NoError(t, err)
			return g.Name, "clerk-a"
		},
		sanzhiv1.ShopService_ArchiveGood_FullMethodName: func() (string, string) {
			g, err := e.shop.ArchiveGood(ctx, &sanzhiv1.ArchiveGoodRequest{Name: soap, Archived: true})
			require.NoError(t, err)
			return g.Name, "clerk-a"
		},
		sanzhiv1.ShopService_RecordArrival_FullMethodName: func() (string, string) {
			r, err := e.shop.RecordArrival(ctx, &sanzhiv1.RecordArrivalRequest{Good: rice, Quantity: 2, RequestId: "audit-arrival"})
			require.NoError(t, err)
			return r.Good.Name, "clerk-a"
		},
		sanzhiv1.ShopService_Redeem_FullMethodName: func() (string, string) {
			r, err := e.shop.Redeem(ctx, &sanzhiv1.RedeemRequest{Household: hh, Good: "rice", Quantity: 1, RequestId: "audit-shop"})
			require.NoError(t, err)
			return r.Receipt.Household, "clerk-a"
		},
		sanzhiv1.PointsService_RedeemPoints_FullMethodName: func() (string, string) {
			_, err := e.points.RedeemPoints(ctx, &sanzhiv1.RedeemPointsRequest{Household: hh, Amount: "1", RequestId: "audit-redeem"})
			require.NoError(t, err)
			return hh, "clerk-a"
		},
	}
	maps.Copy(calls, lend.calls(t, e))
	maps.Copy(calls, exportCalls(t, e))
	maps.Copy(calls, dividendCalls(t, e, hhPrincipal, hh))
	// Version 3's gate report, attached before its activation, which then
	// evaluates nothing and leaves its one entry.
	_, err = e.policies.EvaluatePolicyGate(e.as("risk-1"), &sanzhiv1.EvaluatePolicyGateRequest{Name: product + "/policies/3"})
	require.NoError(t, err)
	writes := rpc.WritingMethods()
	require.NotEmpty(t, writes)
	for _, m := range writes {
		call, ok := calls[m]
		require.True(t, ok, "writing method %s has no audit test: add one", m)
		before, err := e.log.Publish(context.Background())
		require.NoError(t, err)
		subject, actor := call()
		after, err := e.log.Publish(context.Background())
		require.NoError(t, err)
		require.Equal(t, before.Size+1, after.Size, "%s appends exactly one entry", m)
		p, err := e.log.Entry(context.Background(), after.Size-1, after.Size)
		require.NoError(t, err)
		assert.Equal(t, subject, p.Entry.Subject)
		assert.Equal(t, e.ids[actor], p.Entry.Actor)
	}
	// A failed write leaves nothing.
	before, _ := e.log.Publish(context.Background())
	bad := validCreate(t, villageA)
	bad.Household.Group = 0
	_, err = e.client.CreateHousehold(ctx, bad)
	require.Error(t, err)
	_, err = e.cats.ActivateCatalogue(e.as("operator"), &sanzhiv1.ActivateCatalogueRequest{Name: "counties/" + county + "/catalogues/3"})
	requireCode(t, err, codes.FailedPrecondition, "", "")
	_, err = e.points.RedeemPoints(ctx, &sanzhiv1.RedeemPointsRequest{Household: hh, Amount: "1000", RequestId: "audit-overdraw"})
	requireCode(t, err, codes.FailedPrecondition, "", "")
	_, err = e.evidence.RevokeEvidence(ctx, &sanzhiv1.RevokeEvidenceRequest{Name: toRevoke.Name, Reason: "again"})
	requireCode(t, err, codes.FailedPrecondition, "", "")
	_, err = e.shop.Redeem(ctx, &sanzhiv1.RedeemRequest{Household: hh, Good: "rice", Quantity: 1000, RequestId: "audit-shop-stock"})
	requireCode(t, err, codes.FailedPrecondition, "quantity", "in stock")
	after, _ := e.log.Publish(context.Background())
	assert.Equal(t, before.Size, after.Size)
}

func testAuditService(t *testing.T, e *env) {
	ctx := e.as("clerk-a")
	raw := validCreate(t, villageA)
	h, err := e.client.CreateHousehold(ctx, raw)
	require.NoError(t, err)
	_, err = e.client.CreateHousehold(e.as("clerk-b"), validCreate(t, villageB))
	require.NoError(t, err)

	reg := e.as("regulator")
	cp, err := e.audit.GetCheckpoint(reg, &sanzhiv1.GetCheckpointRequest{Refresh: true})
	require.NoError(t, err)
	require.Positive(t, cp.TreeSize)
	v, err := audit.NewVerifier(cp.VerifierKey)
	require.NoError(t, err)
	opened, err := audit.OpenCheckpoint([]byte(cp.SignedNote), cp.Origin, v)
	require.NoError(t, err)
	assert.Equal(t, cp.RootHash, opened.Root)

	// The clerk finds its village's entries and proves one.
	list, err := e.audit.ListEntries(ctx, &sanzhiv1.ListEntriesRequest{Village: villageA, Action: "household.create"})
	require.NoError(t, err)
	require.NotEmpty(t, list.Entries)
	var mine *sanzhiv1.AuditEntry
	for _, en := range list.Entries {
		assert.True(t, strings.HasPrefix(en.Subject, "villages/"+villageA+"/"))
		if en.Subject == h.Name {
			mine = en
		}
	}
	require.NotNil(t, mine)
	assert.NotContains(t, string(mine.LeafData), raw.Household.HeadIdNumber, "no 身份证号 in a leaf")
	assert.NotContains(t, string(mine.LeafData), raw.Household.HeadName, "no names in a leaf")

	got, err := e.audit.GetEntry(ctx, &sanzhiv1.GetEntryRequest{Name: mine.Name})
	require.NoError(t, err)
	require.NoError(t, audit.VerifyInclusion(opened, got.Seq, got.LeafData, got.InclusionProof))
	var receipt audit.Receipt
	require.NoError(t, json.Unmarshal([]byte(got.Receipt), &receipt))
	_, _, err = audit.VerifyReceipt(receipt, cp.Origin, v)
	require.NoError(t, err, "the receipt checks offline")

	// A later checkpoint is provably an extension of this one.
	_, err = e.client.CreateHousehold(ctx, validCreate(t, villageA))
	require.NoError(t, err)
	later, err := e.audit.GetCheckpoint(reg, &sanzhiv1.GetCheckpointRequest{Refresh: true})
	require.NoError(t, err)
	require.Greater(t, later.TreeSize, cp.TreeSize)
	cons, err := e.audit.GetConsistencyProof(reg, &sanzhiv1.GetConsistencyProofRequest{OldSize: cp.TreeSize, NewSize: later.TreeSize})
	require.NoError(t, err)
	laterCP, err := audit.OpenCheckpoint([]byte(later.SignedNote), later.Origin, v)
	require.NoError(t, err)
	require.NoError(t, audit.VerifyConsistency(opened, laterCP, cons.Hashes))
	cp = later

	// Paging through the whole log as the regulator visits every entry once.
	var seen []uint64
	token := ""
	for range 100 {
		resp, err := e.audit.ListEntries(reg, &sanzhiv1.ListEntriesRequest{PageSize: 2, PageToken: token})
		require.NoError(t, err)
		for _, en := range resp.Entries {
			seen = append(seen, en.Seq)
		}
		if token = resp.NextPageToken; token == "" {
			break
		}
	}
	require.Len(t, seen, int(cp.TreeSize))
	for i, s := range seen {
		assert.Equal(t, uint64(i), s)
	}

	otherVillageEntry := ""
	all, err := e.audit.ListEntries(reg, &sanzhiv1.ListEntriesRequest{Village: villageB})
	require.NoError(t, err)
	require.NotEmpty(t, all.Entries)
	otherVillageEntry = all.Entries[0].Name

	cases := []struct {
		name  string
		call  func() error
		code  codes.Code
		field string
	}{
		{"entry past the checkpoint", func() error {
			_, err := e.audit.GetEntry(reg, &sanzhiv1.GetEntryRequest{Name: "entries/999999"})
			return err
		}, codes.FailedPrecondition, ""},
		{"entry name malformed", func() error {
			_, err := e.audit.GetEntry(reg, &sanzhiv1.GetEntryRequest{Name: "entry/1"})
			return err
		}, codes.InvalidArgument, "name"},
		{"checkpoint at an unpublished size", func() error {
			_, err := e.audit.GetCheckpoint(reg, &sanzhiv1.GetCheckpointRequest{TreeSize: 999999})
			return err
		}, codes.NotFound, ""},
		{"refresh with a size", func() error {
			_, err := e.audit.GetCheckpoint(reg, &sanzhiv1.GetCheckpointRequest{TreeSize: 1, Refresh: true})
			return err
		}, codes.InvalidArgument, "refresh"},
		{"consistency for a shrunken tree", func() error {
			_, err := e.audit.GetConsistencyProof(reg, &sanzhiv1.GetConsistencyProofRequest{OldSize: cp.TreeSize, NewSize: 1})
			return err
		}, codes.InvalidArgument, "old_size"},
		{"consistency past the tree", func() error {
			_, err := e.audit.GetConsistencyProof(reg, &sanzhiv1.GetConsistencyProofRequest{OldSize: 1, NewSize: cp.TreeSize + 100})
			return err
		}, codes.InvalidArgument, "new_size"},
		{"list with a bad token", func() error {
			_, err := e.audit.ListEntries(reg, &sanzhiv1.ListEntriesRequest{PageToken: "zz"})
			return err
		}, codes.InvalidArgument, "page_token"},
		{"list with a bad village", func() error {
			_, err := e.audit.ListEntries(reg, &sanzhiv1.ListEntriesRequest{Village: "12"})
			return err
		}, codes.InvalidArgument, "village"},
		{"clerk reads another village's entry", func() error {
			_, err := e.audit.GetEntry(ctx, &sanzhiv1.GetEntryRequest{Name: otherVillageEntry})
			return err
		}, codes.NotFound, ""},
		// A bank may read checkpoints (to verify its decisions' receipts)
		// but not make the service sign a new one.
		{"bank refreshes the checkpoint", func() error {
			_, err := e.audit.GetCheckpoint(e.as("bank"), &sanzhiv1.GetCheckpointRequest{Refresh: true})
			return err
		}, codes.PermissionDenied, ""},
		{"clerk refreshes the checkpoint", func() error {
			_, err := e.audit.GetCheckpoint(e.as("clerk-a"), &sanzhiv1.GetCheckpointRequest{Refresh: true})
			return err
		}, codes.PermissionDenied, ""},
		{"no credentials", func() error {
			_, err := e.audit.GetCheckpoint(context.Background(), &sanzhiv1.GetCheckpointRequest{})
			return err
		}, codes.Unauthenticated, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { requireCode(t, tc.call(), tc.code, tc.field, "") })
	}
	// A list is filtered to what the caller may read, not refused:
	// another village's list is empty for this clerk.
	other, err := e.audit.ListEntries(ctx, &sanzhiv1.ListEntriesRequest{Village: villageB})
	require.NoError(t, err)
	assert.Empty(t, other.Entries)
	whole, err := e.audit.ListEntries(ctx, &sanzhiv1.ListEntriesRequest{PageSize: 1000})
	require.NoError(t, err)
	require.NotEmpty(t, whole.Entries)
	for _, en := range whole.Entries {
		assert.NotContains(t, en.Subject, villageB)
	}
}
