package rpc_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// The shipped county base: 7 days of 公示, base 100 points.
const (
	noticeDays = 7
	basePoints = "100"
)

// activateCounty uploads the shipped county base as version 1 and has a
// second operator activate it.
func activateCounty(t testing.TB, e *env) {
	t.Helper()
	base, err := e.cats.UploadCatalogue(e.as("operator"), &sanzhiv1.UploadCatalogueRequest{Parent: "counties/" + county, Document: countyDoc(t, 1)})
	require.NoError(t, err)
	_, err = e.cats.ActivateCatalogue(e.as("operator-2"), &sanzhiv1.ActivateCatalogueRequest{Name: base.Name})
	require.NoError(t, err)
}

// today is the services' business date.
func (e *env) today() string { return string(household.Today(e.clock.Now())) }

// noonTomorrow moves the clock to noon of the next day in Asia/Shanghai,
// so that a test's business day cannot end while it runs.
func (e *env) noonTomorrow() {
	now := e.clock.Now().In(household.Shanghai)
	y, m, d := now.Date()
	e.clock.Advance(time.Date(y, m, d+1, 12, 0, 0, 0, household.Shanghai).Sub(now))
}

// newHousehold registers a household of village as its clerk and returns
// its name and, when withPrincipal, a principal for it (named hh-{id}).
func newHousehold(t testing.TB, e *env, village string, withPrincipal bool) (name, principal string) {
	t.Helper()
	clerk := map[string]string{villageA: "clerk-a", villageB: "clerk-b"}[village]
	h, err := e.client.CreateHousehold(e.as(clerk), validCreate(t, village))
	require.NoError(t, err)
	if withPrincipal {
		_, id, err := household.ParseName(h.Name, "name")
		require.NoError(t, err)
		principal = "hh-" + id
		e.addPrincipal(t, principal, access.Household, access.Scope{Household: id}, false)
	}
	return h.Name, principal
}

const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// pointsReq asks for qty units of a county item for household hh, with
// the evidence the item needs, occurring today.
func pointsReq(e *env, hh, item string, qty int32) *sanzhiv1.SubmitEvidenceRequest {
	ev := &sanzhiv1.Evidence{
		Kind: sanzhiv1.EvidenceKind_EVIDENCE_KIND_POINTS, ItemCode: item, Quantity: qty,
		OccurredOn: e.today(), Note: "测试 " + item,
	}
	switch item {
	case "DZ-XF-01", "DZ-XF-02":
		ev.Attachments = []*sanzhiv1.Attachment{{Kind: sanzhiv1.AttachmentKind_ATTACHMENT_KIND_DOCUMENT, Sha256: sha}}
	case "ZZ-MS-01", "ZZ-MS-03", "DZ-XF-03":
		ev.Witness = "村民小组长 王伟"
	case "ZZ-MS-05", "ZZ-MS-08":
		ev.SystemSource = "扫码签到"
	}
	return &sanzhiv1.SubmitEvidenceRequest{Parent: hh, Evidence: ev, RequestId: fmt.Sprintf("ev-%d", seq.Add(1))}
}

// listingReq asks for a non-points fact about hh, valid for a year.
func listingReq(e *env, hh string, kind sanzhiv1.EvidenceKind) *sanzhiv1.SubmitEvidenceRequest {
	ev := &sanzhiv1.Evidence{
		Kind: kind, OccurredOn: e.today(), Note: "村民代表会议评定",
		ValidUntil: string(points.AddMonths(household.Date(e.today()), 12)),
	}
	if kind == sanzhiv1.EvidenceKind_EVIDENCE_KIND_STAR_RATING {
		ev.Level, ev.Stars = sanzhiv1.StarLevel_STAR_LEVEL_TOWN, 4
	}
	return &sanzhiv1.SubmitEvidenceRequest{Parent: hh, Evidence: ev, RequestId: fmt.Sprintf("ev-%d", seq.Add(1))}
}

// submitAndApprove submits req as clerk-a and has reviewer-a approve it.
func submitAndApprove(t testing.TB, e *env, req *sanzhiv1.SubmitEvidenceRequest) *sanzhiv1.Evidence {
	t.Helper()
	ev, err := e.evidence.SubmitEvidence(e.as("clerk-a"), req)
	require.NoError(t, err)
	require.Equal(t, sanzhiv1.EvidenceState_EVIDENCE_STATE_PENDING_REVIEW, ev.State)
	ev, err = e.evidence.ReviewEvidence(e.as("reviewer-a"), &sanzhiv1.ReviewEvidenceRequest{
		Name: ev.Name, Decision: sanzhiv1.ReviewDecision_REVIEW_DECISION_APPROVE})
	require.NoError(t, err)
	require.Equal(t, sanzhiv1.EvidenceState_EVIDENCE_STATE_ON_NOTICE, ev.State)
	return ev
}

func names(list []*sanzhiv1.Evidence) []string {
	var out []string
	for _, e := range list {
		out = append(out, e.Name)
	}
	return out
}

func quarterOf(d string) string {
	var y, m int
	_, _ = fmt.Sscanf(d, "%d-%d", &y, &m)
	return fmt.Sprintf("%dQ%d", y, (m+2)/3)
}

func TestEvidence(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		e.noonTomorrow()
		activateCounty(t, e)
		t.Run("Workflow", func(t *testing.T) { testEvidenceWorkflow(t, e) })
		t.Run("Authorisation", func(t *testing.T) { testEvidenceAuthorisation(t, e) })
		t.Run("RegistrationChanged", func(t *testing.T) { testEvidenceRegistrationChanged(t, e) })
	})
}

// A single submission checks its household's registration date from
// memory, not from a read (evidence.registrations), and the insert checks
// that the date still holds. No RPC changes a registration date, but an
// operator's correction in the database may: the remembered date must
// not outlive it.
func testEvidenceRegistrationChanged(t *testing.T, e *env) {
	ctx := context.Background()
	clerk := e.as("clerk-a")
	register := func(hh string, on household.Date) {
		t.Helper()
		_, id, err := household.ParseName(hh, "name")
		require.NoError(t, err)
		require.NoError(t, e.st.Conn().WriteTx(ctx, func(q sqlstore.Querier) error {
			_, err := q.Exec(ctx, `UPDATE households SET registered_on = $1 WHERE id = $2`, string(on), id)
			return err
		}))
	}
	today := household.Date(e.today())
	submitOn := func(hh string, on household.Date) error {
		req := pointsReq(e, hh, "ZZ-MS-01", 1)
		req.Evidence.OccurredOn = string(on)
		_, err := e.evidence.SubmitEvidence(clerk, req)
		return err
	}

	hh, _ := newHousehold(t, e, villageA, false)
	require.NoError(t, submitOn(hh, points.AddDays(today, -1))) // remembers 2001-05-01
	register(hh, today)
	before := snapshot(t, e, hh)
	requireCode(t, submitOn(hh, points.AddDays(today, -1)), codes.InvalidArgument, "evidence.occurred_on", "")
	assert.Equal(t, before, snapshot(t, e, hh), "a refused submission changes nothing")

	// A date moved earlier lets through what the remembered one refused.
	young := newYoungHousehold(t, e) // registered yesterday
	require.NoError(t, submitOn(young, today))
	requireCode(t, submitOn(young, points.AddDays(today, -2)), codes.InvalidArgument, "evidence.occurred_on", "")
	register(young, "2001-05-01")
	require.NoError(t, submitOn(young, points.AddDays(today, -2)))
}

func testEvidenceWorkflow(t *testing.T, e *env) {
	clerk, reviewer := e.as("clerk-a"), e.as("reviewer-a")
	h1, p1 := newHousehold(t, e, villageA, true)
	h2, _ := newHousehold(t, e, villageA, false)
	h3, p3 := newHousehold(t, e, villageA, true)
	today := e.today()
	end := string(points.AddDays(household.Date(today), noticeDays))

	// An award item that needs review waits for a second person.
	req := pointsReq(e, h1, "DZ-XF-01", 1)
	award, err := e.evidence.SubmitEvidence(clerk, req)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(award.Name, h1+"/evidence/"))
	assert.Equal(t, h1, award.Household)
	assert.Equal(t, sanzhiv1.EvidenceState_EVIDENCE_STATE_PENDING_REVIEW, award.State)
	assert.Equal(t, e.ids["clerk-a"], award.SubmittedBy)
	assert.Len(t, award.CatalogueHash, 64)
	assert.Empty(t, award.NoticeEnd)
	records := submitRecords(t, e.st)
	again, err := e.evidence.SubmitEvidence(clerk, req)
	require.NoError(t, err, "a retried submission is idempotent")
	assert.Equal(t, award.Name, again.Name)
	// The retry met the taken request id at its commit (SendEvidence) and
	// was run again looking it up: it wrote nothing, not even a record.
	changed := proto.Clone(req).(*sanzhiv1.SubmitEvidenceRequest)
	changed.Evidence.Note = "另一条说明"
	_, err = e.evidence.SubmitEvidence(clerk, changed)
	requireCode(t, err, codes.AlreadyExists, "", "")
	assert.Equal(t, "REQUEST_ID_REUSED", errorReason(err))
	assert.Equal(t, records, submitRecords(t, e.st), "neither repeat wrote a record")

	// A reviewer may not approve its own submission.
	own, err := e.evidence.SubmitEvidence(reviewer, pointsReq(e, h2, "DZ-XF-02", 1))
	require.NoError(t, err)
	_, err = e.evidence.ReviewEvidence(reviewer, &sanzhiv1.ReviewEvidenceRequest{Name: own.Name, Decision: sanzhiv1.ReviewDecision_REVIEW_DECISION_APPROVE})
	requireCode(t, err, codes.FailedPrecondition, "", "")
	_, err = e.evidence.ReviewEvidence(reviewer, &sanzhiv1.ReviewEvidenceRequest{
		Name: own.Name, Decision: sanzhiv1.ReviewDecision_REVIEW_DECISION_REJECT, Reason: "材料不全"})
	requireCode(t, err, codes.FailedPrecondition, "", "")

	approved, err := e.evidence.ReviewEvidence(reviewer, &sanzhiv1.ReviewEvidenceRequest{
		Name: award.Name, Decision: sanzhiv1.ReviewDecision_REVIEW_DECISION_APPROVE})
	require.NoError(t, err)
	assert.Equal(t, sanzhiv1.EvidenceState_EVIDENCE_STATE_ON_NOTICE, approved.State)
	assert.Equal(t, today, approved.NoticeStart)
	assert.Equal(t, end, approved.NoticeEnd)
	assert.Equal(t, e.ids["reviewer-a"], approved.ReviewedBy)
	require.NotNil(t, approved.ReviewTime)

	// On notice, the points do not count yet.
	bal, err := e.points.GetPoints(clerk, &sanzhiv1.GetPointsRequest{Household: h1})
	require.NoError(t, err)
	assert.Equal(t, h1, bal.Household)
	assert.Equal(t, today, bal.AsOf)
	assert.Equal(t, basePoints, bal.Base)
	assert.Equal(t, basePoints, bal.Credit)
	assert.Equal(t, "0", bal.Redeemable)
	assert.Empty(t, bal.Entries)
	require.Len(t, bal.ByDomain, 3)

	// A machine-recorded item needs no review: straight to 公示.
	sys, err := e.evidence.SubmitEvidence(clerk, pointsReq(e, h2, "ZZ-MS-05", 2))
	require.NoError(t, err)
	assert.Equal(t, sanzhiv1.EvidenceState_EVIDENCE_STATE_ON_NOTICE, sys.State)
	assert.Equal(t, end, sys.NoticeEnd)
	assert.Empty(t, sys.ReviewedBy)

	// Objection during 公示, then the dispute upheld.
	upheld := submitAndApprove(t, e, pointsReq(e, h2, "ZZ-MS-01", 1))
	disputed, err := e.evidence.ObjectToEvidence(e.as(p3), &sanzhiv1.ObjectToEvidenceRequest{Name: upheld.Name, Reason: "当天未参加会议"})
	require.NoError(t, err, "a household of the village objects")
	assert.Equal(t, sanzhiv1.EvidenceState_EVIDENCE_STATE_DISPUTED, disputed.State)
	assert.Equal(t, e.ids[p3], disputed.ObjectedBy)

	// Objection, then the dispute overturned.
	overturned := submitAndApprove(t, e, pointsReq(e, h3, "ZZ-MS-03", 1))
	_, err = e.evidence.ObjectToEvidence(e.as(p1), &sanzhiv1.ObjectToEvidenceRequest{Name: overturned.Name, Reason: "无人见证"})
	require.NoError(t, err)

	// The notice board shows what is on notice and what is disputed.
	board, err := e.evidence.GetNoticeBoard(e.as(p1), &sanzhiv1.GetNoticeBoardRequest{Parent: "villages/" + villageA})
	require.NoError(t, err, "the village's households read its board")
	assert.Equal(t, today, board.Today)
	assert.ElementsMatch(t, []string{award.Name, sys.Name, upheld.Name, overturned.Name}, names(board.Evidence))
	for _, ev := range board.Evidence {
		if ev.Name == upheld.Name || ev.Name == overturned.Name {
			assert.Equal(t, sanzhiv1.EvidenceState_EVIDENCE_STATE_DISPUTED, ev.State)
		} else {
			assert.Equal(t, sanzhiv1.EvidenceState_EVIDENCE_STATE_ON_NOTICE, ev.State)
		}
	}
	assert.NotContains(t, names(board.Evidence), own.Name, "pending evidence is not on the board")

	res, err := e.evidence.ResolveDispute(reviewer, &sanzhiv1.ResolveDisputeRequest{
		Name: upheld.Name, Outcome: sanzhiv1.DisputeOutcome_DISPUTE_OUTCOME_UPHOLD, Reason: "签到表为证"})
	require.NoError(t, err)
	assert.Equal(t, sanzhiv1.EvidenceState_EVIDENCE_STATE_ON_NOTICE, res.State)
	assert.True(t, res.Upheld)
	assert.Equal(t, end, res.NoticeEnd)
	res, err = e.evidence.ResolveDispute(reviewer, &sanzhiv1.ResolveDisputeRequest{
		Name: overturned.Name, Outcome: sanzhiv1.DisputeOutcome_DISPUTE_OUTCOME_OVERTURN, Reason: "证人未到场"})
	require.NoError(t, err)
	assert.Equal(t, sanzhiv1.EvidenceState_EVIDENCE_STATE_OVERTURNED, res.State)
	assert.False(t, res.Upheld)
	assert.Equal(t, e.ids["reviewer-a"], res.ResolvedBy)

	// Revoking posted evidence; twice is refused.
	revoked := submitAndApprove(t, e, pointsReq(e, h1, "ZZ-MS-01", 1))
	rv, err := e.evidence.RevokeEvidence(clerk, &sanzhiv1.RevokeEvidenceRequest{Name: revoked.Name, Reason: "录入错误"})
	require.NoError(t, err)
	assert.Equal(t, sanzhiv1.EvidenceState_EVIDENCE_STATE_REVOKED, rv.State)
	assert.Equal(t, "录入错误", rv.RevokeReason)
	_, err = e.evidence.RevokeEvidence(clerk, &sanzhiv1.RevokeEvidenceRequest{Name: revoked.Name, Reason: "again"})
	requireCode(t, err, codes.FailedPrecondition, "", "")

	// A batch: a new row, a bad row (reported, skipped) and a repeat.
	// Rows are checked one by one (not by the request's constraints), so a
	// malformed row does not sink the batch.
	badHash := pointsReq(e, h3, "DZ-XF-02", 1)
	badHash.Evidence.Attachments[0].Sha256 = "not-a-hash"
	batchReq := &sanzhiv1.BatchSubmitEvidenceRequest{Parent: "villages/" + villageA, Requests: []*sanzhiv1.SubmitEvidenceRequest{
		pointsReq(e, h3, "ZZ-MS-05", 1), pointsReq(e, h3, "NO-SUCH-01", 1), req, badHash,
	}}
	dry := proto.Clone(batchReq).(*sanzhiv1.BatchSubmitEvidenceRequest)
	dry.DryRun = true
	dr, err := e.evidence.BatchSubmitEvidence(clerk, dry)
	require.NoError(t, err)
	require.Len(t, dr.Results, 4)
	assert.Nil(t, dr.Results[0].Status)
	_, err = e.evidence.GetEvidence(clerk, &sanzhiv1.GetEvidenceRequest{Name: dr.Results[0].Evidence.Name})
	requireCode(t, err, codes.NotFound, "", "")
	batch, err := e.evidence.BatchSubmitEvidence(clerk, batchReq)
	require.NoError(t, err)
	require.Len(t, batch.Results, 4)
	for i, r := range batch.Results {
		assert.Equal(t, int32(i), r.Row)
	}
	assert.Nil(t, batch.Results[0].Status)
	assert.Equal(t, sanzhiv1.EvidenceState_EVIDENCE_STATE_ON_NOTICE, batch.Results[0].Evidence.State)
	assert.False(t, batch.Results[0].Duplicate)
	bad := batch.Results[1]
	assert.Nil(t, bad.Evidence)
	require.NotNil(t, bad.Status)
	assert.Equal(t, int32(codes.InvalidArgument), bad.Status.Code)
	assert.Equal(t, "INVALID_ARGUMENT", bad.Status.Reason)
	require.NotEmpty(t, bad.Status.FieldViolations)
	assert.Equal(t, "evidence.item_code", bad.Status.FieldViolations[0].Field)
	assert.True(t, batch.Results[2].Duplicate)
	assert.Equal(t, award.Name, batch.Results[2].Evidence.Name)
	require.NotNil(t, batch.Results[3].Status)
	require.NotEmpty(t, batch.Results[3].Status.FieldViolations)
	assert.Equal(t, "evidence.attachments[0].sha256", batch.Results[3].Status.FieldViolations[0].Field)

	// Lists: a household's evidence, filtered by day-dependent state.
	list, err := e.evidence.ListEvidence(clerk, &sanzhiv1.ListEvidenceRequest{Parent: h1})
	require.NoError(t, err)
	assert.Equal(t, []string{revoked.Name, award.Name}, names(list.Evidence), "newest first")
	list, err = e.evidence.ListEvidence(e.as(p1), &sanzhiv1.ListEvidenceRequest{
		Parent: h1, State: sanzhiv1.EvidenceState_EVIDENCE_STATE_ON_NOTICE})
	require.NoError(t, err, "a household lists its own evidence")
	assert.Equal(t, []string{award.Name}, names(list.Evidence))
	list, err = e.evidence.ListEvidence(clerk, &sanzhiv1.ListEvidenceRequest{
		Parent: "villages/" + villageA, Kind: sanzhiv1.EvidenceKind_EVIDENCE_KIND_POINTS, ItemCode: "ZZ-MS-05"})
	require.NoError(t, err)
	assert.Equal(t, []string{batch.Results[0].Evidence.Name, sys.Name}, names(list.Evidence))
	got, err := e.evidence.GetEvidence(e.as(p1), &sanzhiv1.GetEvidenceRequest{Name: award.Name})
	require.NoError(t, err)
	assert.Equal(t, approved.NoticeEnd, got.NoticeEnd)

	// Standing: a star rating and a black-list listing count once their
	// notice ends.
	star := submitAndApprove(t, e, listingReq(e, h1, sanzhiv1.EvidenceKind_EVIDENCE_KIND_STAR_RATING))
	black := submitAndApprove(t, e, listingReq(e, h3, sanzhiv1.EvidenceKind_EVIDENCE_KIND_BLACK_LIST))
	standing, err := e.points.GetStanding(e.as(p1), &sanzhiv1.GetStandingRequest{Household: h1})
	require.NoError(t, err)
	assert.Nil(t, standing.Star, "on notice: not yet")

	// Past the end of notice, the points count: credit = base + points.
	e.clock.Advance(time.Duration(noticeDays+1) * 24 * time.Hour)
	later := e.today()
	got, err = e.evidence.GetEvidence(clerk, &sanzhiv1.GetEvidenceRequest{Name: award.Name})
	require.NoError(t, err)
	assert.Equal(t, sanzhiv1.EvidenceState_EVIDENCE_STATE_EFFECTIVE, got.State)
	bal, err = e.points.GetPoints(e.as(p1), &sanzhiv1.GetPointsRequest{Household: h1})
	require.NoError(t, err, "a household reads its own points")
	assert.Equal(t, later, bal.AsOf)
	assert.Equal(t, "110", bal.Credit, "base 100 + DZ-XF-01's 10; the revoked item nets 0")
	assert.Equal(t, "10", bal.Earned)
	assert.Equal(t, "10", bal.Redeemable)
	for _, d := range bal.ByDomain {
		if d.Domain == sanzhiv1.PointsDomain_POINTS_DOMAIN_VIRTUE {
			assert.Equal(t, "10", d.Points)
			assert.Equal(t, "德治", d.LabelZh)
		}
	}
	var fromAward *sanzhiv1.LedgerEntry
	for _, en := range bal.Entries {
		if en.Evidence == award.Name {
			fromAward = en
		}
	}
	require.NotNil(t, fromAward, "the entries explain the credit figure")
	assert.Equal(t, sanzhiv1.LedgerEntryKind_LEDGER_ENTRY_KIND_AWARD, fromAward.Kind)
	assert.Equal(t, "10", fromAward.Points)
	assert.Equal(t, end, fromAward.EffectiveOn)
	past, err := e.points.GetPoints(clerk, &sanzhiv1.GetPointsRequest{Household: h1, AsOf: today})
	require.NoError(t, err)
	assert.Equal(t, basePoints, past.Credit, "an answer as of a past day does not change")

	bal2, err := e.points.GetPoints(clerk, &sanzhiv1.GetPointsRequest{Household: h2})
	require.NoError(t, err)
	assert.Equal(t, "104", bal2.Credit, "ZZ-MS-05 ×2 and the upheld ZZ-MS-01")
	bal3, err := e.points.GetPoints(clerk, &sanzhiv1.GetPointsRequest{Household: h3})
	require.NoError(t, err)
	assert.Equal(t, "101", bal3.Credit, "the overturned item never counts")

	standing, err = e.points.GetStanding(e.as(p1), &sanzhiv1.GetStandingRequest{Household: h1})
	require.NoError(t, err)
	require.NotNil(t, standing.Star)
	assert.Equal(t, star.Name, standing.Star.Name)
	assert.Equal(t, sanzhiv1.StarLevel_STAR_LEVEL_TOWN, standing.Star.Level)
	assert.False(t, standing.Blacklisted)
	standing, err = e.points.GetStanding(reviewer, &sanzhiv1.GetStandingRequest{Household: h3})
	require.NoError(t, err)
	assert.True(t, standing.Blacklisted)
	assert.Equal(t, []string{black.Name}, names(standing.BlackList))

	// Redemption: within the redeemable balance, idempotent, never beyond.
	redeem := &sanzhiv1.RedeemPointsRequest{Household: h1, Amount: "4", Note: "洗衣液 2 瓶", RequestId: "shop-1"}
	r, err := e.points.RedeemPoints(clerk, redeem)
	require.NoError(t, err)
	assert.False(t, r.Duplicate)
	assert.Equal(t, sanzhiv1.LedgerEntryKind_LEDGER_ENTRY_KIND_REDEMPTION, r.Entry.Kind)
	assert.Equal(t, "-4", r.Entry.Points)
	assert.Empty(t, r.Entry.Evidence)
	assert.Equal(t, "6", r.Balance.Redeemable)
	assert.Equal(t, "110", r.Balance.Credit, "redemption never touches credit")
	r2, err := e.points.RedeemPoints(clerk, redeem)
	require.NoError(t, err)
	assert.True(t, r2.Duplicate)
	assert.Equal(t, r.Entry.Id, r2.Entry.Id)
	_, err = e.points.RedeemPoints(clerk, &sanzhiv1.RedeemPointsRequest{Household: h1, Amount: "7", RequestId: "shop-2"})
	requireCode(t, err, codes.FailedPrecondition, "", "")
	require.Equal(t, "INSUFFICIENT_POINTS", reasonOf(err))

	// The quarter's ranking, highest first.
	quarter := quarterOf(end)
	rank, err := e.points.GetVillageRanking(e.as(p3), &sanzhiv1.GetVillageRankingRequest{Parent: "villages/" + villageA, Quarter: quarter})
	require.NoError(t, err, "the village's households read its ranking")
	assert.Equal(t, quarter, rank.Quarter)
	assert.False(t, rank.Final)
	require.Len(t, rank.Rows, 3)
	assert.Equal(t, []string{h1, h2, h3}, []string{rank.Rows[0].Household, rank.Rows[1].Household, rank.Rows[2].Household})
	assert.Equal(t, []string{"10", "4", "1"}, []string{rank.Rows[0].Points, rank.Rows[1].Points, rank.Rows[2].Points})
	assert.Equal(t, []int32{1, 2, 3}, []int32{rank.Rows[0].Rank, rank.Rows[1].Rank, rank.Rows[2].Rank})
	assert.Equal(t, "沈建国", rank.Rows[0].HeadName)
	assert.Equal(t, int32(3), rank.Rows[0].Group)
}

func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

func testEvidenceAuthorisation(t *testing.T, e *env) {
	h1, p1 := newHousehold(t, e, villageA, true)
	h2, p2 := newHousehold(t, e, villageA, true)
	hB, pB := newHousehold(t, e, villageB, true)
	onNotice := submitAndApprove(t, e, pointsReq(e, h2, "ZZ-MS-01", 1))

	cases := []struct {
		name string
		call func() error
	}{
		{"clerk of another village submits", func() error {
			_, err := e.evidence.SubmitEvidence(e.as("clerk-b"), pointsReq(e, h1, "ZZ-MS-01", 1))
			return err
		}},
		{"clerk of another village submits a batch", func() error {
			_, err := e.evidence.BatchSubmitEvidence(e.as("clerk-b"), &sanzhiv1.BatchSubmitEvidenceRequest{
				Parent: "villages/" + villageA, Requests: []*sanzhiv1.SubmitEvidenceRequest{pointsReq(e, h1, "ZZ-MS-01", 1)}})
			return err
		}},
		{"reviewer of another village reviews", func() error {
			_, err := e.evidence.ReviewEvidence(e.as("reviewer-b"), &sanzhiv1.ReviewEvidenceRequest{
				Name: onNotice.Name, Decision: sanzhiv1.ReviewDecision_REVIEW_DECISION_APPROVE})
			return err
		}},
		{"clerk reviews", func() error {
			_, err := e.evidence.ReviewEvidence(e.as("clerk-a"), &sanzhiv1.ReviewEvidenceRequest{
				Name: onNotice.Name, Decision: sanzhiv1.ReviewDecision_REVIEW_DECISION_APPROVE})
			return err
		}},
		{"clerk of another village revokes", func() error {
			_, err := e.evidence.RevokeEvidence(e.as("clerk-b"), &sanzhiv1.RevokeEvidenceRequest{Name: onNotice.Name, Reason: "x"})
			return err
		}},
		{"household of another village objects", func() error {
			_, err := e.evidence.ObjectToEvidence(e.as(pB), &sanzhiv1.ObjectToEvidenceRequest{Name: onNotice.Name, Reason: "不实"})
			return err
		}},
		{"household revokes", func() error {
			_, err := e.evidence.RevokeEvidence(e.as(p1), &sanzhiv1.RevokeEvidenceRequest{Name: onNotice.Name, Reason: "x"})
			return err
		}},
		{"household reads another household's evidence", func() error {
			_, err := e.evidence.GetEvidence(e.as(p1), &sanzhiv1.GetEvidenceRequest{Name: onNotice.Name})
			return err
		}},
		{"household lists its village's evidence", func() error {
			_, err := e.evidence.ListEvidence(e.as(p1), &sanzhiv1.ListEvidenceRequest{Parent: "villages/" + villageA})
			return err
		}},
		{"household lists another household's evidence", func() error {
			_, err := e.evidence.ListEvidence(e.as(p1), &sanzhiv1.ListEvidenceRequest{Parent: h2})
			return err
		}},
		{"household reads another household's points", func() error {
			_, err := e.points.GetPoints(e.as(p1), &sanzhiv1.GetPointsRequest{Household: h2})
			return err
		}},
		{"household reads another household's standing", func() error {
			_, err := e.points.GetStanding(e.as(p1), &sanzhiv1.GetStandingRequest{Household: h2})
			return err
		}},
		{"household reads another village's board", func() error {
			_, err := e.evidence.GetNoticeBoard(e.as(pB), &sanzhiv1.GetNoticeBoardRequest{Parent: "villages/" + villageA})
			return err
		}},
		{"household reads another village's ranking", func() error {
			_, err := e.points.GetVillageRanking(e.as(pB), &sanzhiv1.GetVillageRankingRequest{
				Parent: "villages/" + villageA, Quarter: quarterOf(e.today())})
			return err
		}},
		{"clerk of another village reads the board", func() error {
			_, err := e.evidence.GetNoticeBoard(e.as("clerk-b"), &sanzhiv1.GetNoticeBoardRequest{Parent: "villages/" + villageA})
			return err
		}},
		{"clerk of another village reads points", func() error {
			_, err := e.points.GetPoints(e.as("clerk-b"), &sanzhiv1.GetPointsRequest{Household: h1})
			return err
		}},
		{"clerk of another village redeems", func() error {
			_, err := e.points.RedeemPoints(e.as("clerk-b"), &sanzhiv1.RedeemPointsRequest{Household: h1, Amount: "1", RequestId: "x"})
			return err
		}},
		{"reviewer redeems", func() error {
			_, err := e.points.RedeemPoints(e.as("reviewer-a"), &sanzhiv1.RedeemPointsRequest{Household: h1, Amount: "1", RequestId: "x"})
			return err
		}},
		{"bank reads points", func() error {
			_, err := e.points.GetPoints(e.as("bank"), &sanzhiv1.GetPointsRequest{Household: h1})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { requireCode(t, tc.call(), codes.PermissionDenied, "", "") })
	}

	// And what each may do.
	_, err := e.points.GetPoints(e.as(p2), &sanzhiv1.GetPointsRequest{Household: h2})
	require.NoError(t, err)
	_, err = e.points.GetPoints(e.as("regulator"), &sanzhiv1.GetPointsRequest{Household: hB})
	require.NoError(t, err)
	_, err = e.evidence.GetNoticeBoard(e.as("regulator"), &sanzhiv1.GetNoticeBoardRequest{Parent: "villages/" + villageA})
	require.NoError(t, err)
	_, err = e.evidence.GetNoticeBoard(e.as("clerk-b"), &sanzhiv1.GetNoticeBoardRequest{Parent: "villages/" + villageB})
	require.NoError(t, err)
	_, err = e.evidence.GetNoticeBoard(e.as(pB), &sanzhiv1.GetNoticeBoardRequest{Parent: "villages/" + villageB})
	require.NoError(t, err)
	// Staff record a villager's objection.
	obj, err := e.evidence.ObjectToEvidence(e.as("reviewer-a"), &sanzhiv1.ObjectToEvidenceRequest{Name: onNotice.Name, Reason: "村民口头异议"})
	require.NoError(t, err)
	assert.Equal(t, sanzhiv1.EvidenceState_EVIDENCE_STATE_DISPUTED, obj.State)
	assert.Equal(t, e.ids["reviewer-a"], obj.ObjectedBy)
	_, err = e.evidence.GetEvidence(e.as(p2), &sanzhiv1.GetEvidenceRequest{Name: onNotice.Name})
	require.NoError(t, err, "a household reads its own evidence")
}

// submitRecords counts the evidence.submit records, queued or already in
// the log.
func submitRecords(t *testing.T, st *sqlstore.Store) int {
	t.Helper()
	ctx := context.Background()
	var n int
	require.NoError(t, st.Conn().ReadOne(ctx, func(q sqlstore.Querier) error {
		return q.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM audit_queue WHERE action = 'evidence.submit')
			+ (SELECT COUNT(*) FROM audit_leaves WHERE action = 'evidence.submit')`).Scan(&n)
	}))
	return n
}
