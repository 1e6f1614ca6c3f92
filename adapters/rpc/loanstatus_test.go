package rpc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// Issue 16: banks report how their loans stand, the reports feed every
// policy's repayment inputs, and an assessment names the member applying.
func TestLoanStatus(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := lendingEnv(t, st)
		// The applicant first: the others move the clock.
		t.Run("Applicant", func(t *testing.T) { testApplicantMember(t, e) })
		t.Run("Refusals", func(t *testing.T) { testLoanStatusRefusals(t, e) })
		t.Run("OverdueKnockOut", func(t *testing.T) { testOverdueKnockOut(t, e) })
		// Last: it moves the clock a year on.
		t.Run("YearlyReview", func(t *testing.T) { testYearlyReview(t, e) })
	})
}

// testYearlyReview: under the example policy a line stands a year and is
// reviewed yearly; the re-assessor marks it on its review day and the
// review renews it, while a line whose household withdrew its consent is
// left to expire.
func testYearlyReview(t *testing.T, e *env) {
	ctx := context.Background()
	long := func(hh, hhP, hash string) {
		c, err := e.consents.GrantConsent(e.as("officer"), &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: bankName,
			Purposes: []string{"assessment", "post_loan"}, Channel: "counter", AuthorisationHash: hash,
			ExpireTime: timestamppb.New(e.clock.Now().AddDate(2, 0, 0))})
		require.NoError(t, err)
		_, err = e.consents.ConfirmConsent(e.as(hhP), &sanzhiv1.ConfirmConsentRequest{Name: c.Name})
		require.NoError(t, err)
	}
	var lines []*sanzhiv1.CreditLine
	var hhs []string
	for i, hash := range []string{"a1" + sha[2:], "a2" + sha[2:]} {
		hh, hhP := newHousehold(t, e, villageA, true)
		submitAndApprove(t, e, listingReq(e, hh, sanzhiv1.EvidenceKind_EVIDENCE_KIND_STAR_RATING))
		long(hh, hhP, hash)
		res, err := e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: hh})
		require.NoError(t, err, "household %d", i)
		require.Equal(t, res.Line.ValidUntil, res.Line.ReviewOn)
		lines, hhs = append(lines, res.Line), append(hhs, hh)
	}
	// The second household withdraws its consent.
	cs, err := e.consents.ListConsents(e.as("regulator"), &sanzhiv1.ListConsentsRequest{Parent: hhs[1]})
	require.NoError(t, err)
	for _, c := range cs.Consents {
		_, err := e.consents.RevokeConsent(e.as("officer"), &sanzhiv1.RevokeConsentRequest{Name: c.Name})
		require.NoError(t, err)
	}
	_, err = e.lending.ReassessDue(ctx, 1000)
	require.NoError(t, err)
	n, err := e.lending.MarkReviewsDue(ctx, 1000)
	require.NoError(t, err)
	assert.Zero(t, n, "no review is due yet")

	review, err := time.ParseInLocation(time.DateOnly, lines[0].ReviewOn, household.Shanghai)
	require.NoError(t, err)
	e.clock.Advance(review.Sub(e.clock.Now()) + 12*time.Hour) // noon of the review day
	n, err = e.lending.MarkReviewsDue(ctx, 1000)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, n, 1)
	_, err = e.lending.ReassessDue(ctx, 1000)
	require.NoError(t, err)
	got := getLine(t, e, hhs[0])
	assert.Equal(t, "active", got.Status, "reviewed and renewed")
	assert.Greater(t, got.ReviewOn, lines[0].ReviewOn)
	assert.NotEqual(t, lines[0].Decision, got.Decision)
	n, err = e.lending.MarkReviewsDue(ctx, 1000)
	require.NoError(t, err)
	assert.Zero(t, n, "reviewed once")

	res, err := e.credit.ListCreditLines(e.as("regulator"), &sanzhiv1.ListCreditLinesRequest{Product: product, PageSize: 1000})
	require.NoError(t, err)
	for _, l := range res.Lines {
		if l.Name == lines[1].Name {
			assert.Equal(t, "expired", l.Status, "no consent: not reviewed, expired at the end of its term")
			assert.Equal(t, lines[1].Decision, l.Decision)
		}
	}
}

// dayOffset is the business date n days from the services' today.
func (e *env) dayOffset(n int) string {
	return string(household.Today(e.clock.Now().AddDate(0, 0, n)))
}

func statusCount(t *testing.T, e *env, line string) int {
	t.Helper()
	res, err := e.credit.ListLoanStatuses(e.as("regulator"), &sanzhiv1.ListLoanStatusesRequest{Line: line, PageSize: 1000})
	require.NoError(t, err)
	return len(res.LoanStatuses)
}

func testLoanStatusRefusals(t *testing.T, e *env) {
	_, _, line := consented(t, e)
	report := func(who string, r *sanzhiv1.ReportLoanStatusRequest) (*sanzhiv1.LoanStatus, error) {
		return e.credit.ReportLoanStatus(e.as(who), r)
	}
	first := &sanzhiv1.ReportLoanStatusRequest{Line: line.Name, EventId: "ev-1", AsOf: e.today(), Classification: "normal"}
	got, err := report("officer", first)
	require.NoError(t, err)
	assert.Equal(t, line.Name+"/loanStatuses/1", got.Name)
	assert.Equal(t, line.Household, got.Household)
	assert.Equal(t, "0.00", got.OverduePrincipal)
	assert.False(t, got.Replayed)
	again, err := report("officer", first)
	require.NoError(t, err)
	assert.True(t, again.Replayed, "the same event again: the stored report")
	assert.Equal(t, got.Name, again.Name)
	reused := proto.Clone(first).(*sanzhiv1.ReportLoanStatusRequest)
	reused.Classification = "special_mention"
	_, err = report("officer", reused)
	requireCode(t, err, codes.AlreadyExists, "", "")
	assert.Equal(t, "EVENT_ID_REUSED", reasonOf(err))
	require.Equal(t, 1, statusCount(t, e, line.Name))

	// Another bank's line: its officer is refused by the policy, and under
	// its own bank's name the line is as unknown as one that does not
	// exist (the same answer: nothing is learnt). A risk manager does not
	// report loans; nor does the household.
	_, id, _ := strings.Cut(line.Name, "/creditLines/")
	r := proto.Clone(first).(*sanzhiv1.ReportLoanStatusRequest)
	r.EventId = "ev-x"
	_, err = report("officer-other", r)
	requireCode(t, err, codes.PermissionDenied, "", "")
	r.Line = otherProd + "/creditLines/" + id
	_, err = report("officer-other", r)
	requireCode(t, err, codes.NotFound, "", "")
	assert.Equal(t, "LINE_NOT_FOUND", reasonOf(err))
	existing := strings.ReplaceAll(status.Convert(err).Message(), id, "ID")
	r.Line = otherProd + "/creditLines/" + strings.Repeat("0", len(id)-1) + "1"
	_, err = report("officer-other", r)
	requireCode(t, err, codes.NotFound, "", "")
	assert.Equal(t, existing, strings.ReplaceAll(status.Convert(err).Message(), strings.Repeat("0", len(id)-1)+"1", "ID"))
	r.Line = line.Name
	_, err = report("risk-1", r)
	requireCode(t, err, codes.PermissionDenied, "", "")

	// Bad reports: each a field violation, nothing written.
	for _, tc := range []struct {
		name, field string
		edit        func(*sanzhiv1.ReportLoanStatusRequest)
	}{
		{"a date in the future", "as_of", func(r *sanzhiv1.ReportLoanStatusRequest) { r.AsOf = e.dayOffset(1) }},
		{"before the line was opened", "as_of", func(r *sanzhiv1.ReportLoanStatusRequest) { r.AsOf = e.dayOffset(-1) }},
		{"not a date", "as_of", func(r *sanzhiv1.ReportLoanStatusRequest) { r.AsOf = "2026-13-01" }},
		{"negative principal", "overdue_principal", func(r *sanzhiv1.ReportLoanStatusRequest) {
			r.OverduePrincipal, r.OverdueInterest = "-5", "1"
		}},
		{"negative interest", "overdue_interest", func(r *sanzhiv1.ReportLoanStatusRequest) { r.OverdueInterest = "-0.01" }},
		{"fractions of a fen", "overdue_principal", func(r *sanzhiv1.ReportLoanStatusRequest) { r.OverduePrincipal = "1.005" }},
		{"negative days", "days_past_due", func(r *sanzhiv1.ReportLoanStatusRequest) { r.DaysPastDue = -1 }},
		{"overdue with no days", "days_past_due", func(r *sanzhiv1.ReportLoanStatusRequest) { r.OverduePrincipal = "100" }},
		{"late longer than the line exists", "days_past_due", func(r *sanzhiv1.ReportLoanStatusRequest) {
			r.DaysPastDue, r.OverduePrincipal = 5, "100"
		}},
		{"unknown class", "classification", func(r *sanzhiv1.ReportLoanStatusRequest) { r.Classification = "AAA" }},
		{"loss without default", "classification", func(r *sanzhiv1.ReportLoanStatusRequest) { r.Classification = "loss" }},
		{"default while performing", "defaulted", func(r *sanzhiv1.ReportLoanStatusRequest) { r.Defaulted = true }},
		{"write-off of a performing loan", "written_off", func(r *sanzhiv1.ReportLoanStatusRequest) { r.WrittenOff = true }},
		{"an event id with a 身份证号", "event_id", func(r *sanzhiv1.ReportLoanStatusRequest) { r.EventId = personID(t, "19800101") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := proto.Clone(first).(*sanzhiv1.ReportLoanStatusRequest)
			r.EventId = "bad-" + strings.ReplaceAll(tc.name, " ", "-")
			r.EventId = strings.Map(func(c rune) rune {
				if c > 127 {
					return 'x'
				}
				return c
			}, r.EventId)
			tc.edit(r)
			_, err := report("officer", r)
			requireCode(t, err, codes.InvalidArgument, tc.field, "")
			assert.Equal(t, 1, statusCount(t, e, line.Name), "nothing written")
		})
	}

	// A hundred days on: the state machine.
	e.clock.Advance(100 * 24 * time.Hour)
	step := func(event string, asOf string, dpd int32, class string, defaulted bool, edit ...func(*sanzhiv1.ReportLoanStatusRequest)) error {
		r := &sanzhiv1.ReportLoanStatusRequest{Line: line.Name, EventId: event, AsOf: asOf, DaysPastDue: dpd,
			Classification: class, Defaulted: defaulted}
		if dpd > 0 {
			r.OverduePrincipal, r.OverdueInterest = "5000", "120.50"
		}
		for _, f := range edit {
			f(r)
		}
		_, err := report("officer", r)
		return err
	}
	require.NoError(t, step("ev-2", e.dayOffset(-1), 20, "special_mention", false))
	n := statusCount(t, e, line.Name)
	for _, tc := range []struct {
		name, reason string
		err          error
	}{
		{"before the latest report", "STATUS_OUT_OF_ORDER", step("ev-3", e.dayOffset(-2), 0, "normal", false)},
		{"back to 正常 while late", "CLASSIFICATION_TRANSITION", step("ev-4", e.today(), 3, "normal", false)},
	} {
		requireCode(t, tc.err, codes.FailedPrecondition, "", "")
		assert.Equal(t, tc.reason, reasonOf(tc.err), tc.name)
	}
	require.NoError(t, step("ev-5", e.today(), 95, "substandard", true))
	err = step("ev-6", e.today(), 95, "substandard", false)
	requireCode(t, err, codes.FailedPrecondition, "", "")
	assert.Equal(t, "DEFAULT_CURE", reasonOf(err))
	require.NoError(t, step("ev-7", e.today(), 99, "loss", true, func(r *sanzhiv1.ReportLoanStatusRequest) { r.WrittenOff = true }))
	err = step("ev-8", e.today(), 0, "normal", false, func(r *sanzhiv1.ReportLoanStatusRequest) { r.Settled = true })
	requireCode(t, err, codes.FailedPrecondition, "", "")
	assert.Equal(t, "LOAN_STATUS_FINAL", reasonOf(err))
	assert.Equal(t, n+2, statusCount(t, e, line.Name), "only the allowed reports are stored")

	// The history, newest first, a page at a time; the bank's own staff
	// read it, another bank's do not.
	page, err := e.credit.ListLoanStatuses(e.as("risk-1"), &sanzhiv1.ListLoanStatusesRequest{Line: line.Name, PageSize: 2})
	require.NoError(t, err)
	require.Len(t, page.LoanStatuses, 2)
	assert.Equal(t, []string{"ev-7", "ev-5"}, []string{page.LoanStatuses[0].EventId, page.LoanStatuses[1].EventId})
	assert.True(t, page.LoanStatuses[0].WrittenOff)
	assert.Equal(t, "loss", page.LoanStatuses[0].Classification)
	require.NotEmpty(t, page.NextPageToken)
	page, err = e.credit.ListLoanStatuses(e.as("officer"), &sanzhiv1.ListLoanStatusesRequest{Line: line.Name, PageSize: 2,
		PageToken: page.NextPageToken})
	require.NoError(t, err)
	assert.Equal(t, []string{"ev-2", "ev-1"}, []string{page.LoanStatuses[0].EventId, page.LoanStatuses[1].EventId})
	assert.Empty(t, page.NextPageToken)
	_, err = e.credit.ListLoanStatuses(e.as("officer-other"), &sanzhiv1.ListLoanStatusesRequest{Line: line.Name})
	requireCode(t, err, codes.PermissionDenied, "", "")
}

// testOverdueKnockOut: a bank reports a household in arrears; the report
// marks the household, the re-assessor decides its line again, and the
// example policy's "bad credit record" knock-out fires — also when the bank
// asks for a fresh assessment. A household no bank reported is untouched.
func testOverdueKnockOut(t *testing.T, e *env) {
	ctx := context.Background()
	hh, _, line := consented(t, e)
	other, _, otherLine := consented(t, e)
	require.True(t, line.Eligible, "knock-outs %v declines %v", line.KnockOuts, line.Declines)
	require.True(t, otherLine.Eligible)
	e.clock.Advance(100 * 24 * time.Hour)
	_, err := e.lending.ReassessDue(ctx, 1000) // whatever earlier tests left marked
	require.NoError(t, err)
	before := getLine(t, e, hh)

	_, err = e.credit.ReportLoanStatus(e.as("officer"), &sanzhiv1.ReportLoanStatusRequest{Line: line.Name,
		EventId: "arrears-1", AsOf: e.today(), DaysPastDue: 95, OverduePrincipal: "8000", OverdueInterest: "310.25",
		Classification: "substandard", Defaulted: true})
	require.NoError(t, err)
	n, err := e.lending.ReassessDue(ctx, 1000)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the report marked its household, and only it")

	got := getLine(t, e, hh)
	assert.False(t, got.Eligible)
	assert.Equal(t, "0.00", got.Limit)
	assert.Equal(t, "0.00", got.Available)
	assert.NotEqual(t, before.Decision, got.Decision, "decided again")
	var fired []string
	for _, k := range got.KnockOuts {
		fired = append(fired, k.Code)
	}
	assert.Contains(t, fired, "bad_credit_record")
	res, err := e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: hh})
	require.NoError(t, err)
	assert.False(t, res.Decision.Eligible)
	assert.Equal(t, "bad_credit_record", res.Decision.KnockOuts[0].Code)
	// The scorecard's repayment characteristic reads it too: the bank is
	// told why the score is not better.
	var reasons []string
	for _, r := range res.Decision.Reasons {
		reasons = append(reasons, r.Code)
	}
	assert.Contains(t, reasons, "repayment_record")

	assert.True(t, getLine(t, e, other).Eligible, "no report, no change")
}

// testApplicantMember: a household whose head is past the policy's age is
// assessed through a working-age member; the choice sticks to the line.
func testApplicantMember(t *testing.T, e *env) {
	ctx := context.Background()
	req := validCreate(t, villageA)
	req.Household.HeadIdNumber = personID(t, "19550310") // past 65
	req.Household.Members = []*sanzhiv1.HouseholdMember{
		{Relation: sanzhiv1.HouseholdRelation_HOUSEHOLD_RELATION_HEAD, LabourStatus: sanzhiv1.LabourStatus_LABOUR_STATUS_NOT_LABOURER},
		{Name: "沈志强", Relation: sanzhiv1.HouseholdRelation_HOUSEHOLD_RELATION_CHILD, IdNumber: personID(t, "19850612"),
			LabourStatus: sanzhiv1.LabourStatus_LABOUR_STATUS_LABOURER},
	}
	h, err := e.client.CreateHousehold(e.as("clerk-a"), req)
	require.NoError(t, err)
	_, id, err := household.ParseName(h.Name, "name")
	require.NoError(t, err)
	hhP := "hh-" + id
	e.addPrincipal(t, hhP, access.Household, access.Scope{Household: id}, false)
	submitAndApprove(t, e, listingReq(e, h.Name, sanzhiv1.EvidenceKind_EVIDENCE_KIND_STAR_RATING))
	counterConsent(t, e, h.Name, hhP, sha)

	knockOuts := func(d *sanzhiv1.Decision) []string {
		var out []string
		for _, k := range d.KnockOuts {
			out = append(out, k.Code)
		}
		return out
	}
	head, err := e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: h.Name})
	require.NoError(t, err)
	assert.Equal(t, int32(1), head.Decision.ApplicantMember, "no member named: the head")
	assert.Equal(t, []string{"age"}, knockOuts(head.Decision))

	decisions := func() int {
		ds, err := e.credit.ListDecisions(e.as("regulator"), &sanzhiv1.ListDecisionsRequest{Household: h.Name})
		require.NoError(t, err)
		return len(ds.Decisions)
	}
	n := decisions()
	_, err = e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: h.Name, ApplicantMember: 7})
	requireCode(t, err, codes.InvalidArgument, "applicant_member", "no member 7")
	_, err = e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: h.Name, ApplicantMember: -1})
	requireCode(t, err, codes.InvalidArgument, "applicant_member", "")
	assert.Equal(t, n, decisions(), "nothing written")

	son, err := e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: h.Name, ApplicantMember: 2})
	require.NoError(t, err)
	assert.True(t, son.Decision.Eligible, "knock-outs %v declines %v", son.Decision.KnockOuts, son.Decision.Declines)
	assert.Equal(t, int32(2), son.Decision.ApplicantMember)
	assert.Equal(t, int32(2), son.Line.ApplicantMember)
	// The household's own figures do not change with the applicant.
	assert.Equal(t, head.Decision.InputHash != son.Decision.InputHash, true, "the age differs")
	assert.NotEmpty(t, son.Line.ReviewOn, "the example policy reviews lines yearly")
	assert.Equal(t, son.Line.ValidUntil, son.Line.ReviewOn)

	// A re-assessment (the household's points changed) keeps the member,
	// and so does the bank's fresh assessment naming no one.
	_, err = e.lending.ReassessDue(ctx, 1000)
	require.NoError(t, err)
	submitAndApprove(t, e, pointsReq(e, h.Name, "ZZ-MS-01", 1))
	_, err = e.lending.ReassessDue(ctx, 1000)
	require.NoError(t, err)
	ds, err := e.credit.ListDecisions(e.as("regulator"), &sanzhiv1.ListDecisionsRequest{Household: h.Name})
	require.NoError(t, err)
	assert.Equal(t, e.lendingActor(), ds.Decisions[0].DecidedBy)
	assert.Equal(t, int32(2), ds.Decisions[0].ApplicantMember)
	assert.True(t, ds.Decisions[0].Eligible)
	again, err := e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: h.Name})
	require.NoError(t, err)
	assert.Equal(t, int32(2), again.Decision.ApplicantMember)
	assert.True(t, again.Decision.Eligible)
}
