package rpc_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// dividendRule is version n of a shares-only rule of villageA.
func dividendRule(n int) string {
	return fmt.Sprintf(`kind: dividend_rule
village: "%s"
version: %d
name: 按股分红
split: {shares_percent: 100, points_percent: 0}
public_notice_days: 3
`, villageA, n)
}

// dividendDay is the record date n days before the services' today.
func (e *env) dividendDay(n int) string {
	return string(points.AddDays(household.Today(e.clock.Now()), -n))
}

func newRoundReq(e *env, day int, pool string) *sanzhiv1.CreateRoundRequest {
	return &sanzhiv1.CreateRoundRequest{Parent: "villages/" + villageA, RequestId: fmt.Sprintf("round-%d-%s", day, pool),
		Round: &sanzhiv1.DividendRound{Title: "分红", Pool: pool, RecordDate: e.dividendDay(day)}}
}

// dividendCalls prepares a round in each state the writing calls need and
// returns the calls, each independent of the others' order: the rule
// version 1 active and 2 a draft; a round on notice whose notice has
// ended, one approved, one in draft, one on notice with an open
// objection, one on notice to object to. It moves the clock forward.
func dividendCalls(t *testing.T, e *env, hhPrincipal, hh string) map[string]func() (string, string) {
	d := sanzhiv1.NewDividendServiceClient(e.conn)
	clerk, rev := e.as("clerk-a"), e.as("reviewer-a")
	_, err := d.UploadDividendRule(clerk, &sanzhiv1.UploadDividendRuleRequest{Parent: "villages/" + villageA, Document: dividendRule(1)})
	require.NoError(t, err)
	_, err = d.ActivateDividendRule(rev, &sanzhiv1.ActivateDividendRuleRequest{Name: "villages/" + villageA + "/dividendRules/1"})
	require.NoError(t, err)
	draftRule, err := d.UploadDividendRule(clerk, &sanzhiv1.UploadDividendRuleRequest{Parent: "villages/" + villageA, Document: dividendRule(2)})
	require.NoError(t, err)

	round := func(day int) *sanzhiv1.DividendRound {
		r, err := d.CreateRound(clerk, newRoundReq(e, day, "1000.00"))
		require.NoError(t, err)
		return r
	}
	review := func(r *sanzhiv1.DividendRound) {
		_, err := d.ReviewRound(rev, &sanzhiv1.ReviewRoundRequest{Name: r.Name, Decision: sanzhiv1.RoundDecision_ROUND_DECISION_APPROVE})
		require.NoError(t, err)
	}
	toApprove, toPay := round(1), round(2)
	review(toApprove)
	review(toPay)
	e.clock.Advance(4 * 24 * time.Hour)
	_, err = d.ApproveRound(rev, &sanzhiv1.ApproveRoundRequest{Name: toPay.Name})
	require.NoError(t, err)
	toReview, toObject, toResolve := round(10), round(11), round(12)
	review(toObject)
	review(toResolve)
	objection, err := d.ObjectToAllocation(e.as(hhPrincipal), &sanzhiv1.ObjectToAllocationRequest{Round: toResolve.Name, Household: hh, Reason: "股份不对"})
	require.NoError(t, err)

	return map[string]func() (string, string){
		sanzhiv1.DividendService_UploadDividendRule_FullMethodName: func() (string, string) {
			v, err := d.UploadDividendRule(clerk, &sanzhiv1.UploadDividendRuleRequest{Parent: "villages/" + villageA, Document: dividendRule(3)})
			require.NoError(t, err)
			return v.Name, "clerk-a"
		},
		sanzhiv1.DividendService_ActivateDividendRule_FullMethodName: func() (string, string) {
			v, err := d.ActivateDividendRule(rev, &sanzhiv1.ActivateDividendRuleRequest{Name: draftRule.Name})
			require.NoError(t, err)
			return v.Name, "reviewer-a"
		},
		sanzhiv1.DividendService_CreateRound_FullMethodName: func() (string, string) {
			r, err := d.CreateRound(clerk, newRoundReq(e, 13, "2000.00"))
			require.NoError(t, err)
			return r.Name, "clerk-a"
		},
		sanzhiv1.DividendService_ReviewRound_FullMethodName: func() (string, string) {
			r, err := d.ReviewRound(rev, &sanzhiv1.ReviewRoundRequest{Name: toReview.Name, Decision: sanzhiv1.RoundDecision_ROUND_DECISION_REJECT, Reason: "池子金额待定"})
			require.NoError(t, err)
			return r.Name, "reviewer-a"
		},
		sanzhiv1.DividendService_ObjectToAllocation_FullMethodName: func() (string, string) {
			o, err := d.ObjectToAllocation(e.as(hhPrincipal), &sanzhiv1.ObjectToAllocationRequest{Round: toObject.Name, Household: hh, Reason: "漏算"})
			require.NoError(t, err)
			return o.Name, hhPrincipal
		},
		sanzhiv1.DividendService_ResolveObjection_FullMethodName: func() (string, string) {
			o, err := d.ResolveObjection(rev, &sanzhiv1.ResolveObjectionRequest{Name: objection.Name,
				Outcome: sanzhiv1.ObjectionOutcome_OBJECTION_OUTCOME_DISMISS, Reason: "核实无误"})
			require.NoError(t, err)
			return o.Name, "reviewer-a"
		},
		sanzhiv1.DividendService_ApproveRound_FullMethodName: func() (string, string) {
			r, err := d.ApproveRound(rev, &sanzhiv1.ApproveRoundRequest{Name: toApprove.Name})
			require.NoError(t, err)
			return r.Name, "reviewer-a"
		},
		sanzhiv1.DividendService_ExportPayout_FullMethodName: func() (string, string) {
			_, err := d.ExportPayout(clerk, &sanzhiv1.ExportPayoutRequest{Name: toPay.Name})
			require.NoError(t, err)
			return toPay.Name, "clerk-a"
		},
	}
}

// The API's answers: bad input names its field, refusals their reason,
// and a round goes through to a payout file whose total is the pool.
func TestDividendAPI(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		e.noonTomorrow()
		d := sanzhiv1.NewDividendServiceClient(e.conn)
		clerk, rev := e.as("clerk-a"), e.as("reviewer-a")
		var homes []string
		for range 3 {
			h, _ := newHousehold(t, e, villageA, false)
			homes = append(homes, h)
		}
		hh, hhPrincipal := newHousehold(t, e, villageA, true)
		homes = append(homes, hh)

		// No rule yet.
		_, err := d.CreateRound(clerk, newRoundReq(e, 1, "100.00"))
		requireCode(t, err, codes.FailedPrecondition, "", "")
		assert.Equal(t, "NO_ACTIVE_RULE", reasonOf(err))
		// A rule whose parts do not add up to 100: every problem on its line.
		lint, err := d.LintDividendRule(clerk, &sanzhiv1.LintDividendRuleRequest{Document: "kind: dividend_rule\nsplit: {shares_percent: 50, points_percent: 40}\n"})
		require.NoError(t, err)
		assert.False(t, lint.Valid)
		var split bool
		for _, p := range lint.Problems {
			split = split || (p.Path == "split" && p.Line == 2)
		}
		assert.True(t, split, "%v", lint.Problems)
		_, err = d.UploadDividendRule(clerk, &sanzhiv1.UploadDividendRuleRequest{Parent: "villages/" + villageA,
			Document: dividendRule(1)[:len(dividendRule(1))-len("public_notice_days: 3\n")]})
		requireCode(t, err, codes.InvalidArgument, "document", "public_notice_days")
		_, err = d.UploadDividendRule(clerk, &sanzhiv1.UploadDividendRuleRequest{Parent: "villages/" + villageA, Document: dividendRule(1)})
		require.NoError(t, err)
		_, err = d.ActivateDividendRule(clerk, &sanzhiv1.ActivateDividendRuleRequest{Name: "villages/" + villageA + "/dividendRules/1"})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, err = d.ActivateDividendRule(rev, &sanzhiv1.ActivateDividendRuleRequest{Name: "villages/" + villageA + "/dividendRules/1"})
		require.NoError(t, err)

		// Bad input, each named.
		for field, req := range map[string]*sanzhiv1.CreateRoundRequest{
			"round.pool":        newRoundReq(e, 1, "-5"),
			"round.record_date": {Parent: "villages/" + villageA, RequestId: "x", Round: &sanzhiv1.DividendRound{Title: "t", Pool: "1", RecordDate: e.dividendDay(-1)}},
			"round.title":       {Parent: "villages/" + villageA, RequestId: "y", Round: &sanzhiv1.DividendRound{Pool: "1", RecordDate: e.dividendDay(1)}},
		} {
			_, err := d.CreateRound(clerk, req)
			requireCode(t, err, codes.InvalidArgument, field, "")
		}
		_, err = d.CreateRound(clerk, newRoundReq(e, 1, "100.005"))
		requireCode(t, err, codes.InvalidArgument, "round.pool", "whole fen")
		// Another village's clerk, or the reviewer, may not create one here.
		_, err = d.CreateRound(e.as("clerk-b"), newRoundReq(e, 1, "100.00"))
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, err = d.CreateRound(rev, newRoundReq(e, 1, "100.00"))
		requireCode(t, err, codes.PermissionDenied, "", "")

		r, err := d.CreateRound(clerk, newRoundReq(e, 1, "100.00"))
		require.NoError(t, err)
		assert.Equal(t, sanzhiv1.DividendRoundState_DIVIDEND_ROUND_STATE_DRAFT, r.State)
		assert.GreaterOrEqual(t, r.Households, int32(4))
		list, err := d.ListAllocations(clerk, &sanzhiv1.ListAllocationsRequest{Parent: r.Name})
		require.NoError(t, err)
		assert.Len(t, list.Allocations, int(r.Households))
		// The household's own statement only once it is on notice; never
		// another household's.
		_, err = d.GetStatement(e.as(hhPrincipal), &sanzhiv1.GetStatementRequest{Round: r.Name, Household: hh})
		requireCode(t, err, codes.FailedPrecondition, "", "")
		_, err = d.GetStatement(e.as(hhPrincipal), &sanzhiv1.GetStatementRequest{Round: r.Name, Household: homes[0]})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, err = d.ReviewRound(rev, &sanzhiv1.ReviewRoundRequest{Name: r.Name, Decision: sanzhiv1.RoundDecision_ROUND_DECISION_APPROVE})
		require.NoError(t, err)
		stmt, err := d.GetStatement(e.as(hhPrincipal), &sanzhiv1.GetStatementRequest{Round: r.Name, Household: hh})
		require.NoError(t, err)
		assert.Equal(t, "100", stmt.SharesPercent)
		assert.Equal(t, hh, stmt.Allocation.Household)
		_, err = d.ExportPayout(clerk, &sanzhiv1.ExportPayoutRequest{Name: r.Name})
		requireCode(t, err, codes.FailedPrecondition, "", "")
		e.clock.Advance(4 * 24 * time.Hour)
		_, err = d.ApproveRound(rev, &sanzhiv1.ApproveRoundRequest{Name: r.Name})
		require.NoError(t, err)
		p, err := d.ExportPayout(clerk, &sanzhiv1.ExportPayoutRequest{Name: r.Name})
		require.NoError(t, err)
		assert.Equal(t, "100.00", p.Total, "the file pays the pool to the fen")
		assert.True(t, bytes.HasPrefix(p.Content, []byte("\xEF\xBB\xBF序号,户编号,户主姓名")))
		v, err := d.VerifyRound(e.as("regulator"), &sanzhiv1.VerifyRoundRequest{Name: r.Name})
		require.NoError(t, err)
		assert.True(t, v.Identical)
		assert.True(t, v.LedgerIdentical)
		assert.Equal(t, r.AllocationHash, v.ReplayedHash)
		_, err = d.VerifyRound(e.as("clerk-b"), &sanzhiv1.VerifyRoundRequest{Name: r.Name})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, err = d.GetRound(context.Background(), &sanzhiv1.GetRoundRequest{Name: r.Name})
		requireCode(t, err, codes.Unauthenticated, "", "")
	})
}
