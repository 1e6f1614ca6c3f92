package rpc_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/lending/credit"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

const (
	product   = "banks/tongxiang-rcb/products/sanzhi-xindai"
	bankName  = "banks/tongxiang-rcb"
	otherProd = "banks/other-bank/products/sanzhi-xindai"
)

// activatePolicy makes the example policy version 1 active.
func activatePolicy(t testing.TB, e *env) {
	t.Helper()
	v, err := e.policies.UploadPolicy(e.as("risk-1"), &sanzhiv1.UploadPolicyRequest{Parent: product, Document: policyDoc(t, 1)})
	require.NoError(t, err)
	_, err = e.policies.ApprovePolicy(e.as("risk-2"), &sanzhiv1.ApprovePolicyRequest{Name: v.Name})
	require.NoError(t, err)
	_, err = e.policies.ActivatePolicy(e.as("risk-1"), &sanzhiv1.ActivatePolicyRequest{Name: v.Name})
	require.NoError(t, err)
}

// lendingEnv is an env with the county base and the policy active.
func lendingEnv(t testing.TB, st *sqlstore.Store) *env {
	e := newEnv(t, st)
	e.noonTomorrow()
	activateCounty(t, e)
	activatePolicy(t, e)
	return e
}

// counterConsent has the officer record a counter authorisation of hh for
// both purposes and the household confirm it with its own credential (a
// bank-recorded consent is pending until then).
func counterConsent(t testing.TB, e *env, hh, hhP, hash string) *sanzhiv1.Consent {
	t.Helper()
	c, err := e.consents.GrantConsent(e.as("officer"), &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: bankName,
		Purposes: []string{"assessment", "post_loan"}, Channel: "counter", AuthorisationHash: hash})
	require.NoError(t, err)
	require.Equal(t, sanzhiv1.ConsentState_CONSENT_STATE_PENDING, c.State)
	c, err = e.consents.ConfirmConsent(e.as(hhP), &sanzhiv1.ConfirmConsentRequest{Name: c.Name})
	require.NoError(t, err)
	require.True(t, c.Live)
	return c
}

// consented registers a household of villageA with a principal, gives the
// bank its consent for both purposes (recorded by the officer from a
// counter authorisation, confirmed by the household) and assesses it. It
// returns the household, its principal and the line.
func consented(t testing.TB, e *env) (hh, principal string, line *sanzhiv1.CreditLine) {
	t.Helper()
	hh, principal = newHousehold(t, e, villageA, true)
	// A few points make the household eligible under the example policy.
	submitAndApprove(t, e, listingReq(e, hh, sanzhiv1.EvidenceKind_EVIDENCE_KIND_STAR_RATING))
	counterConsent(t, e, hh, principal, sha)
	res, err := e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: hh})
	require.NoError(t, err)
	return hh, principal, res.Line
}

func TestCredit(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := lendingEnv(t, st)
		t.Run("Tour", func(t *testing.T) { testCreditTour(t, e) })
		t.Run("Consent", func(t *testing.T) { testCreditConsent(t, e) })
		t.Run("BadAmounts", func(t *testing.T) { testCreditBadAmounts(t, e) })
		t.Run("Idempotency", func(t *testing.T) { testCreditIdempotency(t, e) })
		t.Run("ConcurrentDrawdowns", func(t *testing.T) { testCreditConcurrentDrawdowns(t, e) })
		t.Run("FreezeOnBlacklist", func(t *testing.T) { testCreditFreeze(t, e) })
		t.Run("DrawdownRacingFreeze", func(t *testing.T) { testCreditRace(t, e) })
		t.Run("DishonestDebtor", func(t *testing.T) { testCreditDishonest(t, e) })
		t.Run("Review", func(t *testing.T) { testCreditReview(t, e) })
		t.Run("Watch", func(t *testing.T) { testCreditWatch(t, e) })
		t.Run("ReassessDue", func(t *testing.T) { testCreditReassessDue(t, e) })
		t.Run("Portfolio", func(t *testing.T) { testCreditPortfolio(t, e) })
		// Last: it moves the clock past every line's validity.
		t.Run("Expiry", func(t *testing.T) { testCreditExpiry(t, e) })
	})
}

func testCreditTour(t *testing.T, e *env) {
	hh, hhP, line := consented(t, e)
	t.Logf("line: %+v", line)
	require.True(t, line.Eligible, "declines: %v knock-outs: %v", line.Declines, line.KnockOuts)
	require.Equal(t, "active", line.Status)
	require.Equal(t, line.Limit, line.Available)
	require.NotEmpty(t, line.Reasons)
	for _, r := range line.Reasons {
		assert.NotEmpty(t, r.ZhCn)
		assert.NotEmpty(t, r.En)
	}

	got, err := e.credit.GetCreditLine(e.as("officer"), &sanzhiv1.GetCreditLineRequest{Product: product, Household: hh, Purpose: "post_loan"})
	require.NoError(t, err)
	assert.Equal(t, line.Name, got.Name)
	assert.Equal(t, line.Limit, got.Limit)
	// The default view is basic: the outcome without the reasons (issue
	// 19: a bank's systems poll limits; reasons come on request).
	assert.Equal(t, line.Grade, got.Grade)
	assert.Equal(t, line.Eligible, got.Eligible)
	assert.Empty(t, got.Reasons, "the basic view has no reasons")
	assert.Empty(t, got.LimitSteps, "nor the limit's working")
	full, err := e.credit.GetCreditLine(e.as("officer"), &sanzhiv1.GetCreditLineRequest{Product: product, Household: hh,
		Purpose: "post_loan", View: sanzhiv1.CreditLineView_CREDIT_LINE_VIEW_FULL})
	require.NoError(t, err)
	assert.Equal(t, line.Limit, full.Limit)
	require.Len(t, full.Reasons, len(line.Reasons), "the full view has the reasons the assessment gave")
	for i := range line.Reasons {
		assert.Equal(t, line.Reasons[i].ZhCn, full.Reasons[i].ZhCn)
	}
	assert.NotEmpty(t, full.LimitSteps)
	t.Logf("reply sizes: basic %d bytes, full %d bytes", proto.Size(got), proto.Size(full))
	assert.Less(t, 2*proto.Size(got), proto.Size(full), "the basic view is the small one")
	_, err = e.credit.GetCreditLine(e.as("officer"), &sanzhiv1.GetCreditLineRequest{Product: product, Household: hh,
		Purpose: "post_loan", View: sanzhiv1.CreditLineView(7)})
	requireCode(t, err, codes.InvalidArgument, "view", "")
	list, err := e.credit.ListCreditLines(e.as("officer"), &sanzhiv1.ListCreditLinesRequest{Product: product})
	require.NoError(t, err)
	require.NotEmpty(t, list.Lines)
	assert.Empty(t, list.Lines[0].Reasons, "a listing is basic by default")
	list, err = e.credit.ListCreditLines(e.as("officer"), &sanzhiv1.ListCreditLinesRequest{Product: product,
		View: sanzhiv1.CreditLineView_CREDIT_LINE_VIEW_FULL})
	require.NoError(t, err)
	assert.True(t, func() bool {
		for _, l := range list.Lines {
			if len(l.Reasons)+len(l.KnockOuts)+len(l.Declines) > 0 {
				return true
			}
		}
		return false
	}(), "a full listing explains its lines")

	dd, err := e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{Line: line.Name,
		TransactionId: "tour-1", Amount: "1000.5", Use: "agriculture"})
	require.NoError(t, err)
	assert.Equal(t, "1000.50", dd.DrawnAfter)
	limit := decimal.RequireFromString(line.Limit)
	assert.Equal(t, limit.Sub(decimal.RequireFromString("1000.50")).StringFixed(2), dd.CreditLine.Available)

	rp, err := e.credit.ReportRepayment(e.as("officer"), &sanzhiv1.ReportRepaymentRequest{Line: line.Name,
		TransactionId: "tour-2", Amount: "500.25"})
	require.NoError(t, err)
	assert.Equal(t, "500.25", rp.DrawnAfter)

	// Query records: the household sees who looked and why.
	_, err = e.log.Publish(context.Background())
	require.NoError(t, err)
	recs, err := e.consents.ListQueryRecords(e.as(hhP), &sanzhiv1.ListQueryRecordsRequest{Parent: hh})
	require.NoError(t, err)
	var methods []string
	for _, r := range recs.Records {
		if r.Method == "list_credit_lines" {
			continue
		}
		methods = append(methods, r.Method+"/"+r.Outcome+"/"+r.View)
		assert.Equal(t, e.ids["officer"], r.Actor)
		assert.Equal(t, bankName, r.Bank)
	}
	// Each read names the view it disclosed; the refused view wrote nothing.
	assert.Equal(t, []string{"assess_credit/allowed/", "get_credit_line/allowed/basic", "get_credit_line/allowed/full"}, methods)
	// One record a page: the token carries the household it was issued for.
	first, err := e.consents.ListQueryRecords(e.as(hhP), &sanzhiv1.ListQueryRecordsRequest{Parent: hh, PageSize: 1})
	require.NoError(t, err)
	require.Len(t, first.Records, 1)
	require.NotEmpty(t, first.NextPageToken)
	second, err := e.consents.ListQueryRecords(e.as(hhP), &sanzhiv1.ListQueryRecordsRequest{Parent: hh, PageSize: 1,
		PageToken: first.NextPageToken})
	require.NoError(t, err)
	require.Len(t, second.Records, 1)
	assert.Equal(t, "get_credit_line", second.Records[0].Method)
	other, _ := newHousehold(t, e, villageA, true)
	_, err = e.consents.ListQueryRecords(e.as("regulator"), &sanzhiv1.ListQueryRecordsRequest{Parent: other,
		PageToken: first.NextPageToken})
	requireCode(t, err, codes.InvalidArgument, "page_token", "")
}

// getLine reads hh's line as an officer shows it, with the reasons (the
// full view).
func getLine(t *testing.T, e *env, hh string) *sanzhiv1.CreditLine {
	t.Helper()
	l, err := e.credit.GetCreditLine(e.as("officer"), &sanzhiv1.GetCreditLineRequest{Product: product, Household: hh, Purpose: "post_loan",
		View: sanzhiv1.CreditLineView_CREDIT_LINE_VIEW_FULL})
	require.NoError(t, err)
	return l
}

// queryOutcomes lists the household's query records as method/outcome.
func queryOutcomes(t *testing.T, e *env, hh string) []string {
	t.Helper()
	_, err := e.log.Publish(context.Background())
	require.NoError(t, err)
	recs, err := e.consents.ListQueryRecords(e.as("regulator"), &sanzhiv1.ListQueryRecordsRequest{Parent: hh})
	require.NoError(t, err)
	var out []string
	for _, r := range recs.Records {
		out = append(out, r.Method+"/"+r.Purpose+"/"+r.Outcome)
	}
	return out
}

func testCreditConsent(t *testing.T, e *env) {
	hh, hhP := newHousehold(t, e, villageA, true)
	get := func(who, prod, purpose string) error {
		_, err := e.credit.GetCreditLine(e.as(who), &sanzhiv1.GetCreditLineRequest{Product: prod, Household: hh, Purpose: purpose})
		return err
	}
	// No consent at all: refused, and the attempt is on record.
	requireCode(t, get("officer", product, "assessment"), codes.PermissionDenied, "", "")
	assert.Equal(t, "CONSENT_REQUIRED", reasonOf(get("officer", product, "assessment")))
	_, err := e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: hh})
	assert.Equal(t, "CONSENT_REQUIRED", reasonOf(err))
	assert.Equal(t, []string{"get_credit_line/assessment/denied", "get_credit_line/assessment/denied", "assess_credit/assessment/denied"},
		queryOutcomes(t, e, hh))

	// The household grants an assessment-only consent in the app, ending
	// in an hour.
	c, err := e.consents.GrantConsent(e.as(hhP), &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: bankName,
		Purposes: []string{"assessment"}, Channel: "app", AuthorisationHash: sha,
		ExpireTime: timestamppb.New(e.clock.Now().Add(time.Hour))})
	require.NoError(t, err)
	assert.True(t, c.Live)
	// Recording the same authorisation again is the same consent.
	again, err := e.consents.GrantConsent(e.as(hhP), &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: bankName,
		Purposes: []string{"assessment"}, Channel: "app", AuthorisationHash: sha,
		ExpireTime: timestamppb.New(e.clock.Now().Add(time.Hour))})
	require.NoError(t, err)
	assert.Equal(t, c.Name, again.Name)
	_, err = e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: hh})
	require.NoError(t, err)
	require.NoError(t, get("officer", product, "assessment"))
	// Post-loan reading is another purpose.
	assert.Equal(t, "CONSENT_REQUIRED", reasonOf(get("officer", product, "post_loan")))
	// Another bank has no consent; and a bank cannot ask about another
	// bank's product at all.
	assert.Equal(t, "CONSENT_REQUIRED", reasonOf(get("officer-other", otherProd, "assessment")))
	requireCode(t, get("officer", otherProd, "assessment"), codes.PermissionDenied, "", "")
	assert.Equal(t, "OUT_OF_SCOPE", reasonOf(get("officer", otherProd, "assessment")))
	// A household cannot grant through the counter channel, nor for
	// another household; a bank officer cannot record an app consent, nor
	// one for another bank.
	_, err = e.consents.GrantConsent(e.as(hhP), &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: bankName,
		Purposes: []string{"assessment"}, Channel: "counter", AuthorisationHash: sha})
	requireCode(t, err, codes.InvalidArgument, "channel", "app")
	other, _ := newHousehold(t, e, villageA, false)
	_, err = e.consents.GrantConsent(e.as(hhP), &sanzhiv1.GrantConsentRequest{Parent: other, Bank: bankName,
		Purposes: []string{"assessment"}, Channel: "app", AuthorisationHash: sha})
	requireCode(t, err, codes.PermissionDenied, "", "")
	_, err = e.consents.GrantConsent(e.as("officer"), &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: bankName,
		Purposes: []string{"assessment"}, Channel: "app", AuthorisationHash: sha})
	requireCode(t, err, codes.InvalidArgument, "channel", "")
	_, err = e.consents.GrantConsent(e.as("officer"), &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: "banks/other-bank",
		Purposes: []string{"assessment"}, Channel: "counter", AuthorisationHash: sha})
	requireCode(t, err, codes.PermissionDenied, "", "")
	_, err = e.consents.GrantConsent(e.as(hhP), &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: bankName,
		Purposes: []string{"marketing"}, Channel: "app", AuthorisationHash: sha})
	requireCode(t, err, codes.InvalidArgument, "purposes[0]", "")

	// The consent expires mid-session: the next read is refused.
	e.clock.Advance(61 * time.Minute)
	assert.Equal(t, "CONSENT_REQUIRED", reasonOf(get("officer", product, "assessment")))

	// A fresh consent, then the household revokes it: refused at once.
	c2, err := e.consents.GrantConsent(e.as(hhP), &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: bankName,
		Purposes: []string{"assessment", "post_loan"}, Channel: "app",
		AuthorisationHash: "aa" + sha[2:]})
	require.NoError(t, err)
	require.NoError(t, get("officer", product, "post_loan"))
	rev, err := e.consents.RevokeConsent(e.as(hhP), &sanzhiv1.RevokeConsentRequest{Name: c2.Name})
	require.NoError(t, err)
	assert.False(t, rev.Live)
	assert.NotNil(t, rev.RevokeTime)
	assert.Equal(t, "CONSENT_REQUIRED", reasonOf(get("officer", product, "post_loan")))
	// A revoked authorisation cannot be recorded again.
	_, err = e.consents.GrantConsent(e.as(hhP), &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: bankName,
		Purposes: []string{"assessment", "post_loan"}, Channel: "app", AuthorisationHash: "aa" + sha[2:]})
	requireCode(t, err, codes.FailedPrecondition, "", "")

	// The bank sees only consents given to it; the household all of its own.
	list, err := e.consents.ListConsents(e.as("officer-other"), &sanzhiv1.ListConsentsRequest{Parent: hh})
	require.NoError(t, err)
	assert.Empty(t, list.Consents)
	list, err = e.consents.ListConsents(e.as(hhP), &sanzhiv1.ListConsentsRequest{Parent: hh})
	require.NoError(t, err)
	assert.Len(t, list.Consents, 2)
	// Query records are the household's and the regulator's, not a bank's.
	_, err = e.consents.ListQueryRecords(e.as("officer"), &sanzhiv1.ListQueryRecordsRequest{Parent: hh})
	requireCode(t, err, codes.PermissionDenied, "", "")
}

func testCreditBadAmounts(t *testing.T, e *env) {
	hh, _, line := consented(t, e)
	for _, amount := range []string{"-1", "0", "0.00", "0.001", "1e30", "1E3", "100000000.01", "abc", "", " 10", "1,000"} {
		_, err := e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{Line: line.Name,
			TransactionId: "bad-" + fmt.Sprint(len(amount)), Amount: amount, Use: "agriculture"})
		requireCode(t, err, codes.InvalidArgument, "amount", "")
		_, err = e.credit.ReportRepayment(e.as("officer"), &sanzhiv1.ReportRepaymentRequest{Line: line.Name,
			TransactionId: "bad-r", Amount: amount})
		requireCode(t, err, codes.InvalidArgument, "amount", "")
	}
	// Bad line names, uses and transaction ids.
	_, err := e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{Line: "lines/1",
		TransactionId: "x", Amount: "1", Use: "agriculture"})
	requireCode(t, err, codes.InvalidArgument, "line", "")
	_, err = e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{Line: line.Name,
		TransactionId: "x", Amount: "1", Use: "yacht"})
	requireCode(t, err, codes.InvalidArgument, "use", "")
	_, err = e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{Line: line.Name,
		TransactionId: "has space", Amount: "1", Use: "agriculture"})
	requireCode(t, err, codes.InvalidArgument, "transaction_id", "")
	// Refused by the rules: forbidden use, above available, repayment
	// above drawn; a line of this bank under another product is not found.
	_, err = e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{Line: line.Name,
		TransactionId: "house", Amount: "1", Use: "housing_purchase"})
	requireCode(t, err, codes.FailedPrecondition, "", "")
	assert.Equal(t, "USE_FORBIDDEN", reasonOf(err))
	over := decimal.RequireFromString(line.Limit).Add(decimal.New(1, -2)).StringFixed(2)
	_, err = e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{Line: line.Name,
		TransactionId: "over", Amount: over, Use: "agriculture"})
	assert.Equal(t, "INSUFFICIENT_AVAILABLE", reasonOf(err))
	_, err = e.credit.ReportRepayment(e.as("officer"), &sanzhiv1.ReportRepaymentRequest{Line: line.Name,
		TransactionId: "repay-nothing", Amount: "0.01"})
	assert.Equal(t, "REPAYMENT_EXCEEDS_DRAWN", reasonOf(err))
	_, err = e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{
		Line: "banks/tongxiang-rcb/products/other/creditLines/" + line.Name[len(line.Name)-36:], TransactionId: "wrong-product",
		Amount: "1", Use: "agriculture"})
	requireCode(t, err, codes.NotFound, "", "")
	// Another bank's officer cannot touch the line.
	_, err = e.credit.ReportDrawdown(e.as("officer-other"), &sanzhiv1.ReportDrawdownRequest{Line: line.Name,
		TransactionId: "theirs", Amount: "1", Use: "agriculture"})
	requireCode(t, err, codes.PermissionDenied, "", "")
	// Nothing changed.
	after := getLine(t, e, hh)
	assert.Equal(t, "0.00", after.Drawn)
	assert.Equal(t, line.Version, after.Version)
}

func testCreditIdempotency(t *testing.T, e *env) {
	hh, _, line := consented(t, e)
	dd := func(id, amount string) (*sanzhiv1.LineTransaction, error) {
		return e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{Line: line.Name,
			TransactionId: id, Amount: amount, Use: "livestock"})
	}
	first, err := dd("loan-77", "2000")
	require.NoError(t, err)
	assert.False(t, first.Replayed)
	again, err := dd("loan-77", "2000.00")
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	assert.Equal(t, first.DrawnAfter, again.DrawnAfter)
	assert.True(t, first.Time.AsTime().Equal(again.Time.AsTime()))
	_, err = dd("loan-77", "2500")
	requireCode(t, err, codes.AlreadyExists, "", "")
	assert.Equal(t, "TRANSACTION_ID_REUSED", reasonOf(err))
	assert.Equal(t, "2000.00", getLine(t, e, hh).Drawn)
	// A repayment under the same id is a different transaction.
	_, err = e.credit.ReportRepayment(e.as("officer"), &sanzhiv1.ReportRepaymentRequest{Line: line.Name,
		TransactionId: "loan-77", Amount: "2000"})
	requireCode(t, err, codes.AlreadyExists, "", "")
}

// testCreditConcurrentDrawdowns fires 100 drawdowns of a 50th of the
// limit at one line at once: exactly 50 succeed, the rest are refused for
// want of available, and drawn never passes the limit.
func testCreditConcurrentDrawdowns(t *testing.T, e *env) {
	hh, _, line := consented(t, e)
	limit := decimal.RequireFromString(line.Limit)
	part := limit.Div(decimal.NewFromInt(50)).RoundDown(2)
	require.True(t, part.IsPositive())
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	var other []error
	for i := range 100 {
		wg.Go(func() {
			_, err := e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{Line: line.Name,
				TransactionId: fmt.Sprintf("conc-%d", i), Amount: part.StringFixed(2), Use: "agriculture"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case reasonOf(err) == "INSUFFICIENT_AVAILABLE":
				refused++
			default:
				other = append(other, err)
			}
		})
	}
	wg.Wait()
	require.Empty(t, other)
	got := getLine(t, e, hh)
	drawn := decimal.RequireFromString(got.Drawn)
	assert.True(t, drawn.LessThanOrEqual(limit), "drawn %s, limit %s", drawn, limit)
	assert.Equal(t, part.Mul(decimal.NewFromInt(int64(ok))).StringFixed(2), got.Drawn)
	assert.Equal(t, limit.Sub(drawn).StringFixed(2), got.Available)
	assert.Equal(t, 50, ok, "a 50th of the limit fits exactly 50 times")
	assert.Equal(t, 50, refused)
}

func testCreditFreeze(t *testing.T, e *env) {
	hh, _, line := consented(t, e)
	_, err := e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{Line: line.Name,
		TransactionId: "pre-freeze", Amount: "100", Use: "business"})
	require.NoError(t, err)
	// A black-list entry posted: the line is frozen in the same
	// transaction.
	submitAndApprove(t, e, listingReq(e, hh, sanzhiv1.EvidenceKind_EVIDENCE_KIND_BLACK_LIST))
	got := getLine(t, e, hh)
	assert.Equal(t, "frozen", got.Status)
	assert.Equal(t, "blacklisted", got.FreezeReason)
	assert.Equal(t, "0.00", got.Available)
	_, err = e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{Line: line.Name,
		TransactionId: "post-freeze", Amount: "1", Use: "business"})
	requireCode(t, err, codes.FailedPrecondition, "", "")
	assert.Equal(t, "LINE_FROZEN", reasonOf(err))
	// Repaying a frozen line is always allowed.
	_, err = e.credit.ReportRepayment(e.as("officer"), &sanzhiv1.ReportRepaymentRequest{Line: line.Name,
		TransactionId: "repay-frozen", Amount: "100"})
	require.NoError(t, err)
	// Re-assessment keeps the freeze (and now knocks the household out).
	res, err := e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: hh})
	require.NoError(t, err)
	assert.Equal(t, "frozen", res.Line.Status)
	// Only the bank's risk staff lift a freeze, with a justification.
	_, err = e.credit.UnfreezeCreditLine(e.as("officer"), &sanzhiv1.UnfreezeCreditLineRequest{Name: line.Name, Justification: "已核实，误报解除"})
	requireCode(t, err, codes.PermissionDenied, "", "")
	_, err = e.credit.UnfreezeCreditLine(e.as("risk-1"), &sanzhiv1.UnfreezeCreditLineRequest{Name: line.Name, Justification: "短"})
	requireCode(t, err, codes.InvalidArgument, "justification", "")
	un, err := e.credit.UnfreezeCreditLine(e.as("risk-1"), &sanzhiv1.UnfreezeCreditLineRequest{Name: line.Name,
		Justification: "黑榜经村民代表会议复议撤销，已核实"})
	require.NoError(t, err)
	assert.Equal(t, "active", un.Status)
	_, err = e.credit.UnfreezeCreditLine(e.as("risk-1"), &sanzhiv1.UnfreezeCreditLineRequest{Name: line.Name,
		Justification: "黑榜经村民代表会议复议撤销，已核实"})
	assert.Equal(t, "LINE_NOT_FROZEN", reasonOf(err))
}

// testCreditRace races a burst of drawdowns against the black-list
// approval that freezes the line: each drawdown either committed before
// the freeze (its event comes first in the bank's stream) or is refused
// LINE_FROZEN; the line's drawn amount is exactly the drawdowns that
// succeeded.
func testCreditRace(t *testing.T, e *env) {
	hh, _, line := consented(t, e)
	ev, err := e.evidence.SubmitEvidence(e.as("clerk-a"), listingReq(e, hh, sanzhiv1.EvidenceKind_EVIDENCE_KIND_BLACK_LIST))
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	succeeded, refused := 0, 0
	var unexpected []error
	start := make(chan struct{})
	for i := range 20 {
		wg.Go(func() {
			<-start
			if i%2 == 1 {
				time.Sleep(time.Duration(i) * time.Millisecond)
			}
			_, err := e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{Line: line.Name,
				TransactionId: fmt.Sprintf("race-%d", i), Amount: "1", Use: "agriculture"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				succeeded++
			case reasonOf(err) == "LINE_FROZEN":
				refused++
			default:
				unexpected = append(unexpected, err)
			}
		})
	}
	close(start)
	_, err = e.evidence.ReviewEvidence(e.as("reviewer-a"), &sanzhiv1.ReviewEvidenceRequest{
		Name: ev.Name, Decision: sanzhiv1.ReviewDecision_REVIEW_DECISION_APPROVE})
	wg.Wait()
	require.NoError(t, err)
	require.Empty(t, unexpected)
	require.Equal(t, 20, succeeded+refused)
	got := getLine(t, e, hh)
	assert.Equal(t, "frozen", got.Status)
	assert.Equal(t, decimal.NewFromInt(int64(succeeded)).StringFixed(2), got.Drawn)
	// After the freeze every drawdown is refused.
	_, err = e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{Line: line.Name,
		TransactionId: "race-after", Amount: "1", Use: "agriculture"})
	assert.Equal(t, "LINE_FROZEN", reasonOf(err))
	// The event stream orders them: nothing drawn after the freeze.
	frozenAt, lastDrawdown, drawdowns := int64(-1), int64(-1), 0
	for _, ev := range watchAll(t, e) {
		if ev.Line != line.Name {
			continue
		}
		switch ev.Type {
		case "credit_line.frozen":
			frozenAt = ev.Seq
		case "credit_line.drawdown":
			lastDrawdown = ev.Seq
			drawdowns++
		}
	}
	require.Positive(t, frozenAt)
	assert.Less(t, lastDrawdown, frozenAt)
	assert.Equal(t, succeeded, drawdowns)
	t.Logf("%d drawdowns before the freeze, %d refused after it", succeeded, refused)
}

// watchAll reads the bank's event stream from the start until it has
// caught up.
func watchAll(t *testing.T, e *env) []*sanzhiv1.CreditLineEvent {
	t.Helper()
	return watchUntilIdle(t, e, "officer")
}

// watchUntilIdle reads the bank's event stream as who, from the start,
// until it has caught up.
func watchUntilIdle(t *testing.T, e *env, who string) []*sanzhiv1.CreditLineEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(e.as(who), time.Minute)
	defer cancel()
	stream, err := e.credit.WatchCreditLines(ctx, &sanzhiv1.WatchCreditLinesRequest{Bank: bankName})
	require.NoError(t, err)
	events := make(chan *sanzhiv1.CreditLineEvent)
	go func() {
		defer close(events)
		for {
			ev, err := stream.Recv()
			if err != nil {
				return
			}
			events <- ev
		}
	}()
	// The stream never says it has caught up: it is taken to have done so
	// once it has been idle for a while. Idle, not a fixed deadline, so a
	// busy machine (the race detector, CI) does not cut the backlog short;
	// and every caller's bank has events, so the first is awaited longer
	// (a loaded make test once took over 3 s to open the stream).
	const first, idle = 30 * time.Second, 3 * time.Second
	var out []*sanzhiv1.CreditLineEvent
	timer := time.NewTimer(first)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return out
			}
			out = append(out, ev)
			timer.Reset(idle)
		case <-timer.C:
			cancel()
			for range events { // let the receiver end
			}
			return out
		}
	}
}

func testCreditDishonest(t *testing.T, e *env) {
	hh, _, line := consented(t, e)
	facts := validFacts()
	facts.DishonestDebtor = true
	_, err := e.client.UpdateHousehold(e.as("clerk-a"), &sanzhiv1.UpdateHouseholdRequest{
		Household:  &sanzhiv1.Household{Name: hh, Facts: facts},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"facts"}}})
	require.NoError(t, err)
	got := getLine(t, e, hh)
	assert.Equal(t, "frozen", got.Status)
	assert.Equal(t, "dishonest_debtor", got.FreezeReason)
	assert.Equal(t, line.Name, got.Name)
}

func testCreditReview(t *testing.T, e *env) {
	hh, hhP, line := consented(t, e)
	// The household asks for a human review of the automated decision.
	rv, err := e.credit.RequestReview(e.as(hhP), &sanzhiv1.RequestReviewRequest{Decision: line.Decision, Reason: "我家今年新建了大棚，收入会增加"})
	require.NoError(t, err)
	assert.Equal(t, "open", rv.State)
	// Another household cannot ask about this decision.
	_, otherP := newHousehold(t, e, villageA, true)
	_, err = e.credit.RequestReview(e.as(otherP), &sanzhiv1.RequestReviewRequest{Decision: line.Decision, Reason: "?"})
	requireCode(t, err, codes.NotFound, "", "")
	list, err := e.credit.ListReviews(e.as("officer"), &sanzhiv1.ListReviewsRequest{Parent: product, State: "open"})
	require.NoError(t, err)
	require.NotEmpty(t, list.Reviews)

	// Out of bounds: above the product maximum; and no justification.
	_, err = e.credit.ResolveReview(e.as("officer"), &sanzhiv1.ResolveReviewRequest{Name: rv.Name, Outcome: "override",
		Limit: "300000.01", Justification: "大棚收入经实地核实，提高额度"})
	requireCode(t, err, codes.FailedPrecondition, "", "")
	assert.Equal(t, "OVERRIDE_OUT_OF_BOUNDS", reasonOf(err))
	_, err = e.credit.ResolveReview(e.as("officer"), &sanzhiv1.ResolveReviewRequest{Name: rv.Name, Outcome: "override",
		Limit: "50000", Justification: "ok"})
	requireCode(t, err, codes.InvalidArgument, "justification", "")
	// Another bank cannot resolve it.
	_, err = e.credit.ResolveReview(e.as("officer-other"), &sanzhiv1.ResolveReviewRequest{Name: rv.Name, Outcome: "uphold",
		Justification: "大棚收入经实地核实，提高额度"})
	requireCode(t, err, codes.PermissionDenied, "", "")

	// Four-eyes: the officer's override is only a proposal. Nothing about
	// the line or the decisions changes until a second person approves.
	prop, err := e.credit.ResolveReview(e.as("officer"), &sanzhiv1.ResolveReviewRequest{Name: rv.Name, Outcome: "override",
		Limit: "50000", Justification: "大棚收入经实地核实，提高额度"})
	require.NoError(t, err)
	assert.Equal(t, "open", prop.Review.State)
	assert.Equal(t, "50000.00", prop.Review.ProposedLimit)
	assert.Equal(t, e.ids["officer"], prop.Review.ProposedBy)
	assert.Nil(t, prop.Decision)
	assert.Equal(t, line.Limit, getLine(t, e, hh).Limit, "a proposal alone changes no line")
	still, err := e.credit.ListDecisions(e.as("regulator"), &sanzhiv1.ListDecisionsRequest{Household: hh})
	require.NoError(t, err)
	require.Len(t, still.Decisions, 1, "a proposal alone takes no decision")
	// The maker cannot approve their own proposal, nor propose a second.
	_, err = e.credit.ApproveOverride(e.as("officer"), &sanzhiv1.ApproveOverrideRequest{Name: rv.Name, Limit: "50000"})
	requireCode(t, err, codes.FailedPrecondition, "", "")
	assert.Equal(t, "MAKER_CHECKER", reasonOf(err))
	_, err = e.credit.ResolveReview(e.as("officer"), &sanzhiv1.ResolveReviewRequest{Name: rv.Name, Outcome: "override",
		Limit: "60000", Justification: "大棚收入经实地核实，再提高额度"})
	assert.Equal(t, "OVERRIDE_PROPOSED", reasonOf(err))
	// Another bank cannot approve; the checker must approve what was proposed.
	_, err = e.credit.ApproveOverride(e.as("risk-other"), &sanzhiv1.ApproveOverrideRequest{Name: rv.Name, Limit: "50000"})
	requireCode(t, err, codes.PermissionDenied, "", "")
	_, err = e.credit.ApproveOverride(e.as("risk-1"), &sanzhiv1.ApproveOverrideRequest{Name: rv.Name, Limit: "60000"})
	assert.Equal(t, "PROPOSAL_CHANGED", reasonOf(err))
	assert.Equal(t, line.Limit, getLine(t, e, hh).Limit)

	res, err := e.credit.ApproveOverride(e.as("risk-1"), &sanzhiv1.ApproveOverrideRequest{Name: rv.Name, Limit: "50000.00"})
	require.NoError(t, err)
	assert.Equal(t, "overridden", res.Review.State)
	assert.Equal(t, e.ids["risk-1"], res.Review.ResolvedBy)
	assert.Equal(t, "50000.00", res.Line.Limit)
	assert.Equal(t, "override", res.Decision.Kind)
	assert.Equal(t, e.ids["officer"], res.Decision.DecidedBy)
	assert.Equal(t, line.Decision, res.Decision.Overrides)
	_, err = e.credit.ResolveReview(e.as("officer"), &sanzhiv1.ResolveReviewRequest{Name: rv.Name, Outcome: "uphold",
		Justification: "大棚收入经实地核实，提高额度"})
	assert.Equal(t, "REVIEW_CLOSED", reasonOf(err))
	_, err = e.credit.ApproveOverride(e.as("risk-2"), &sanzhiv1.ApproveOverrideRequest{Name: rv.Name, Limit: "50000"})
	assert.Equal(t, "REVIEW_CLOSED", reasonOf(err))

	// The regulator sees both decisions side by side.
	ds, err := e.credit.ListDecisions(e.as("regulator"), &sanzhiv1.ListDecisionsRequest{Household: hh})
	require.NoError(t, err)
	require.Len(t, ds.Decisions, 2)
	assert.Equal(t, "override", ds.Decisions[0].Kind)
	assert.Equal(t, "大棚收入经实地核实，提高额度", ds.Decisions[0].Justification)
	assert.Equal(t, "automated", ds.Decisions[1].Kind)
	// A bank lists only its own decisions, and must say so.
	_, err = e.credit.ListDecisions(e.as("officer"), &sanzhiv1.ListDecisionsRequest{Household: hh})
	requireCode(t, err, codes.PermissionDenied, "", "")
	mine, err := e.credit.ListDecisions(e.as("officer"), &sanzhiv1.ListDecisionsRequest{Household: hh, Bank: bankName})
	require.NoError(t, err)
	assert.Len(t, mine.Decisions, 2)
	// Decisions page by token, and a token pages only the filter it was
	// issued for.
	first, err := e.credit.ListDecisions(e.as("regulator"), &sanzhiv1.ListDecisionsRequest{Household: hh, PageSize: 1})
	require.NoError(t, err)
	require.Len(t, first.Decisions, 1)
	require.NotEmpty(t, first.NextPageToken)
	second, err := e.credit.ListDecisions(e.as("regulator"), &sanzhiv1.ListDecisionsRequest{Household: hh, PageSize: 1,
		PageToken: first.NextPageToken})
	require.NoError(t, err)
	require.Len(t, second.Decisions, 1)
	assert.Equal(t, ds.Decisions[1].Name, second.Decisions[0].Name)
	_, err = e.credit.ListDecisions(e.as("officer"), &sanzhiv1.ListDecisionsRequest{Household: hh, Bank: bankName,
		PageToken: first.NextPageToken})
	requireCode(t, err, codes.InvalidArgument, "page_token", "")
	// The token is checked before the household: a bad one says so first.
	_, err = e.credit.ListReviews(e.as("officer"), &sanzhiv1.ListReviewsRequest{Parent: product, PageToken: first.NextPageToken})
	requireCode(t, err, codes.InvalidArgument, "page_token", "")
}

func testCreditWatch(t *testing.T, e *env) {
	_, _, line := consented(t, e)
	all := watchAll(t, e)
	require.NotEmpty(t, all)
	for i := 1; i < len(all); i++ {
		require.Equal(t, all[i-1].Seq+1, all[i].Seq, "the bank's events are numbered without gaps")
	}
	last := all[len(all)-1]
	// Resume from the last seq: only what comes after.
	ctx, cancel := context.WithTimeout(e.as("officer"), 30*time.Second)
	defer cancel()
	stream, err := e.credit.WatchCreditLines(ctx, &sanzhiv1.WatchCreditLinesRequest{Bank: bankName, AfterSeq: last.Seq})
	require.NoError(t, err)
	_, err = e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{Line: line.Name,
		TransactionId: "watched", Amount: "10", Use: "education"})
	require.NoError(t, err)
	ev, err := stream.Recv()
	require.NoError(t, err)
	assert.Equal(t, last.Seq+1, ev.Seq)
	assert.Equal(t, "credit_line.drawdown", ev.Type)
	assert.Equal(t, line.Name, ev.Line)
	assert.Contains(t, ev.Payload, `"transaction_id":"watched"`)
	// Another bank cannot watch this one.
	other, err := e.credit.WatchCreditLines(e.as("officer-other"), &sanzhiv1.WatchCreditLinesRequest{Bank: bankName})
	require.NoError(t, err)
	_, err = other.Recv()
	requireCode(t, err, codes.PermissionDenied, "", "")
}

func testCreditExpiry(t *testing.T, e *env) {
	hh, _, line := consented(t, e)
	valid, err := time.ParseInLocation("2006-01-02", line.ValidUntil, time.FixedZone("CST", 8*3600))
	require.NoError(t, err)
	e.clock.Advance(valid.Sub(e.clock.Now()) + time.Hour)
	got := getLine(t, e, hh)
	assert.Equal(t, "expired", got.Status)
	assert.Equal(t, "0.00", got.Available)
	_, err = e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{Line: line.Name,
		TransactionId: "late", Amount: "1", Use: "agriculture"})
	assert.Equal(t, "LINE_EXPIRED", reasonOf(err))
	// A fresh assessment renews it.
	res, err := e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: hh})
	require.NoError(t, err)
	assert.Equal(t, "active", res.Line.Status)
}

// lendingFixture prepares what the audit test's lending calls need, on a
// product of its own so that the policy calls of that test are untouched.
type lendingFixture struct {
	product                  string
	hh, hhP                  string
	line, frozen             *sanzhiv1.CreditLine
	toRevoke, reviewToSettle string
	// Pending consents a bank recorded, and a review with an override
	// proposed and waiting for its second person.
	toConfirm, toRefuse, toCountersign string
	proposed, proposedLimit            string
}

func newLendingFixture(t *testing.T, e *env) *lendingFixture {
	t.Helper()
	f := &lendingFixture{product: "banks/tongxiang-rcb/products/audit-xindai"}
	doc := policyDoc(t, 1)
	doc = replaceOnce(t, doc, "\nproduct: sanzhi-xindai\n", "\nproduct: audit-xindai\n")
	v, err := e.policies.UploadPolicy(e.as("risk-1"), &sanzhiv1.UploadPolicyRequest{Parent: f.product, Document: doc})
	require.NoError(t, err)
	_, err = e.policies.ApprovePolicy(e.as("risk-2"), &sanzhiv1.ApprovePolicyRequest{Name: v.Name})
	require.NoError(t, err)
	_, err = e.policies.ActivatePolicy(e.as("risk-1"), &sanzhiv1.ActivatePolicyRequest{Name: v.Name})
	require.NoError(t, err)
	open := func(hh, hhP string) *sanzhiv1.CreditLine {
		counterConsent(t, e, hh, hhP, sha)
		res, err := e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: f.product, Household: hh})
		require.NoError(t, err)
		return res.Line
	}
	f.hh, f.hhP = newHousehold(t, e, villageA, true)
	f.line = open(f.hh, f.hhP)
	_, err = e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{Line: f.line.Name,
		TransactionId: "audit-fixture", Amount: "100", Use: "agriculture"})
	require.NoError(t, err)
	c, err := e.consents.GrantConsent(e.as(f.hhP), &sanzhiv1.GrantConsentRequest{Parent: f.hh, Bank: bankName,
		Purposes: []string{"assessment"}, Channel: "app", AuthorisationHash: "bb" + sha[2:]})
	require.NoError(t, err)
	f.toRevoke = c.Name
	fh, fhP := newHousehold(t, e, villageA, true)
	f.frozen = open(fh, fhP)
	submitAndApprove(t, e, listingReq(e, fh, sanzhiv1.EvidenceKind_EVIDENCE_KIND_BLACK_LIST))
	rv, err := e.credit.RequestReview(e.as(fhP), &sanzhiv1.RequestReviewRequest{Decision: f.frozen.Decision, Reason: "请人工复核"})
	require.NoError(t, err)
	f.reviewToSettle = rv.Name
	pending := func(hash string) string {
		c, err := e.consents.GrantConsent(e.as("officer"), &sanzhiv1.GrantConsentRequest{Parent: f.hh, Bank: bankName,
			Purposes: []string{"post_loan"}, Channel: "paper", AuthorisationHash: hash})
		require.NoError(t, err)
		return c.Name
	}
	f.toConfirm, f.toRefuse, f.toCountersign = pending("d1"+sha[2:]), pending("d2"+sha[2:]), pending("d3"+sha[2:])
	oh, ohP := newHousehold(t, e, villageA, true)
	submitAndApprove(t, e, listingReq(e, oh, sanzhiv1.EvidenceKind_EVIDENCE_KIND_STAR_RATING))
	ol := open(oh, ohP)
	rv, err = e.credit.RequestReview(e.as(ohP), &sanzhiv1.RequestReviewRequest{Decision: ol.Decision, Reason: "请人工复核额度"})
	require.NoError(t, err)
	f.proposedLimit = "1000.00"
	_, err = e.credit.ResolveReview(e.as("officer"), &sanzhiv1.ResolveReviewRequest{Name: rv.Name, Outcome: "override",
		Limit: f.proposedLimit, Justification: "复核后下调额度，待第二人批准"})
	require.NoError(t, err)
	f.proposed = rv.Name
	return f
}

func (f *lendingFixture) calls(t *testing.T, e *env) map[string]func() (string, string) {
	return map[string]func() (string, string){
		sanzhiv1.ConsentService_GrantConsent_FullMethodName: func() (string, string) {
			c, err := e.consents.GrantConsent(e.as(f.hhP), &sanzhiv1.GrantConsentRequest{Parent: f.hh, Bank: bankName,
				Purposes: []string{"post_loan"}, Channel: "app", AuthorisationHash: "cc" + sha[2:]})
			require.NoError(t, err)
			return c.Name, f.hhP
		},
		sanzhiv1.ConsentService_ConfirmConsent_FullMethodName: func() (string, string) {
			c, err := e.consents.ConfirmConsent(e.as(f.hhP), &sanzhiv1.ConfirmConsentRequest{Name: f.toConfirm})
			require.NoError(t, err)
			return c.Name, f.hhP
		},
		sanzhiv1.ConsentService_RefuseConsent_FullMethodName: func() (string, string) {
			c, err := e.consents.RefuseConsent(e.as(f.hhP), &sanzhiv1.RefuseConsentRequest{Name: f.toRefuse})
			require.NoError(t, err)
			return c.Name, f.hhP
		},
		sanzhiv1.ConsentService_CountersignConsent_FullMethodName: func() (string, string) {
			c, err := e.consents.CountersignConsent(e.as("clerk-a"), &sanzhiv1.CountersignConsentRequest{Name: f.toCountersign,
				AuthorisationHash: "d3" + sha[2:]})
			require.NoError(t, err)
			return c.Name, "clerk-a"
		},
		sanzhiv1.CreditService_ApproveOverride_FullMethodName: func() (string, string) {
			res, err := e.credit.ApproveOverride(e.as("risk-1"), &sanzhiv1.ApproveOverrideRequest{Name: f.proposed, Limit: f.proposedLimit})
			require.NoError(t, err)
			return res.Review.Name, "risk-1"
		},
		sanzhiv1.ConsentService_RevokeConsent_FullMethodName: func() (string, string) {
			c, err := e.consents.RevokeConsent(e.as(f.hhP), &sanzhiv1.RevokeConsentRequest{Name: f.toRevoke})
			require.NoError(t, err)
			return c.Name, f.hhP
		},
		sanzhiv1.CreditService_AssessCredit_FullMethodName: func() (string, string) {
			_, err := e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: f.product, Household: f.hh})
			require.NoError(t, err)
			return f.hh, "officer"
		},
		sanzhiv1.CreditService_ReportDrawdown_FullMethodName: func() (string, string) {
			_, err := e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{Line: f.line.Name,
				TransactionId: "audit-dd", Amount: "10", Use: "agriculture"})
			require.NoError(t, err)
			return f.line.Name, "officer"
		},
		sanzhiv1.CreditService_ReportRepayment_FullMethodName: func() (string, string) {
			_, err := e.credit.ReportRepayment(e.as("officer"), &sanzhiv1.ReportRepaymentRequest{Line: f.line.Name,
				TransactionId: "audit-rp", Amount: "10"})
			require.NoError(t, err)
			return f.line.Name, "officer"
		},
		sanzhiv1.CreditService_ReportLoanStatus_FullMethodName: func() (string, string) {
			_, err := e.credit.ReportLoanStatus(e.as("officer"), &sanzhiv1.ReportLoanStatusRequest{Line: f.line.Name,
				EventId: "audit-ls", AsOf: e.today(), Classification: "normal"})
			require.NoError(t, err)
			return f.line.Name, "officer"
		},
		sanzhiv1.CreditService_UnfreezeCreditLine_FullMethodName: func() (string, string) {
			_, err := e.credit.UnfreezeCreditLine(e.as("risk-1"), &sanzhiv1.UnfreezeCreditLineRequest{Name: f.frozen.Name,
				Justification: "黑榜已撤销，经核实解除冻结"})
			require.NoError(t, err)
			return f.frozen.Name, "risk-1"
		},
		sanzhiv1.CreditService_RequestReview_FullMethodName: func() (string, string) {
			rv, err := e.credit.RequestReview(e.as(f.hhP), &sanzhiv1.RequestReviewRequest{Decision: f.line.Decision, Reason: "请说明原因"})
			require.NoError(t, err)
			return rv.Name, f.hhP
		},
		sanzhiv1.CreditService_ResolveReview_FullMethodName: func() (string, string) {
			res, err := e.credit.ResolveReview(e.as("officer"), &sanzhiv1.ResolveReviewRequest{Name: f.reviewToSettle,
				Outcome: "uphold", Justification: "黑榜属实，维持自动决定"})
			require.NoError(t, err)
			return res.Review.Name, "officer"
		},
		sanzhiv1.AuditService_ReplayDecision_FullMethodName: func() (string, string) {
			r, err := e.audit.ReplayDecision(e.as("regulator"), &sanzhiv1.ReplayDecisionRequest{Decision: f.line.Decision})
			require.NoError(t, err)
			return r.Decision, "regulator"
		},
		sanzhiv1.CreditService_StartReassessment_FullMethodName: func() (string, string) {
			r, err := e.credit.StartReassessment(e.as("risk-1"), &sanzhiv1.StartReassessmentRequest{Product: f.product})
			require.NoError(t, err)
			return r.Name, "risk-1"
		},
	}
}

// testCreditReassessDue: approving points changes the household's sheet,
// which marks it for re-assessment once however many changes; the
// re-assessor then assesses its line again.
func testCreditReassessDue(t *testing.T, e *env) {
	ctx := context.Background()
	_, err := e.lending.ReassessDue(ctx, 1000) // whatever earlier tests left marked
	require.NoError(t, err)
	hh, _, _ := consented(t, e)
	decisions := func() []*sanzhiv1.Decision {
		ds, err := e.credit.ListDecisions(e.as("regulator"), &sanzhiv1.ListDecisionsRequest{Household: hh})
		require.NoError(t, err)
		return ds.Decisions
	}
	require.Len(t, decisions(), 1)
	for range 3 {
		submitAndApprove(t, e, pointsReq(e, hh, "ZZ-MS-01", 1))
	}
	n, err := e.lending.ReassessDue(ctx, 1000)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "three changes, one mark")
	ds := decisions()
	require.Len(t, ds, 2)
	assert.Equal(t, "automated", ds[0].Kind)
	assert.Equal(t, e.lendingActor(), ds[0].DecidedBy)
	n, err = e.lending.ReassessDue(ctx, 1000)
	require.NoError(t, err)
	assert.Zero(t, n, "the mark was cleared")
}

// lendingActor is the actor of the service's own decisions.
func (e *env) lendingActor() string { return credit.ActorService }

// testCreditPortfolio: a bank lists its lines page by page; each listed
// line is a query record of its household, and a household that revoked
// its consent drops out of the bank's listing (not the regulator's).
func testCreditPortfolio(t *testing.T, e *env) {
	hh, hhP, line := consented(t, e)
	var all []*sanzhiv1.CreditLine
	token := ""
	for {
		page, err := e.credit.ListCreditLines(e.as("officer"), &sanzhiv1.ListCreditLinesRequest{Product: product, PageSize: 3, PageToken: token})
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.Lines), 3)
		all = append(all, page.Lines...)
		if page.NextPageToken == "" {
			break
		}
		token = page.NextPageToken
	}
	names := map[string]bool{}
	for _, l := range all {
		require.False(t, names[l.Name], "no line twice")
		names[l.Name] = true
	}
	assert.True(t, names[line.Name])
	assert.Contains(t, queryOutcomes(t, e, hh), "list_credit_lines/post_loan/allowed")
	// A token of another filter is refused.
	_, err := e.credit.ListCreditLines(e.as("officer"), &sanzhiv1.ListCreditLinesRequest{Product: product, Status: "frozen", PageToken: token})
	if token != "" {
		requireCode(t, err, codes.InvalidArgument, "page_token", "")
	}
	// The household revokes every consent it gave: the bank no longer lists it.
	cs, err := e.consents.ListConsents(e.as(hhP), &sanzhiv1.ListConsentsRequest{Parent: hh})
	require.NoError(t, err)
	for _, c := range cs.Consents {
		_, err := e.consents.RevokeConsent(e.as(hhP), &sanzhiv1.RevokeConsentRequest{Name: c.Name})
		require.NoError(t, err)
	}
	listed := func(who string) bool {
		page, err := e.credit.ListCreditLines(e.as(who), &sanzhiv1.ListCreditLinesRequest{Product: product, PageSize: 1000})
		require.NoError(t, err)
		for _, l := range page.Lines {
			if l.Name == line.Name {
				return true
			}
		}
		return false
	}
	assert.False(t, listed("officer"))
	assert.True(t, listed("regulator"))
	// Another bank's officer cannot list this bank's portfolio.
	_, err = e.credit.ListCreditLines(e.as("officer-other"), &sanzhiv1.ListCreditLinesRequest{Product: product})
	requireCode(t, err, codes.PermissionDenied, "", "")
}
