package evidence

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

const hhName = "villages/330483102215/households/0192f4f4-2c1e-7a3b-8c4d-5e6f7a8b9c0d"

func reason(t *testing.T, err error) string {
	t.Helper()
	var f *fault.Error
	require.ErrorAs(t, err, &f)
	return f.Reason
}

func TestTransitionRules(t *testing.T) {
	resolved := time.Date(2026, 3, 5, 2, 0, 0, 0, time.UTC)
	revoked := time.Date(2026, 3, 9, 17, 0, 0, 0, time.UTC) // 03-10 in Shanghai
	pending := &Evidence{State: PendingReview, SubmittedBy: "clerk"}
	onNotice := &Evidence{State: Posted, SubmittedBy: "clerk", NoticeStart: "2026-03-01", NoticeEnd: "2026-03-08"}
	heard := &Evidence{State: Posted, SubmittedBy: "clerk", NoticeEnd: "2026-03-08", ObjectedBy: "hh", ResolveTime: &resolved}
	disputed := &Evidence{State: Disputed, SubmittedBy: "clerk", ObjectedBy: "hh", NoticeEnd: "2026-03-08"}
	gone := &Evidence{State: Revoked, RevokeTime: &revoked}

	tests := []struct {
		name   string
		err    error
		reason string
	}{
		{"reviewer is not the submitter", checkReview(pending, "reviewer"), ""},
		{"self review", checkReview(pending, "clerk"), "SELF_REVIEW"},
		{"review of a rejected entry", checkReview(&Evidence{State: Rejected, SubmittedBy: "clerk"}, "reviewer"), "NOT_PENDING_REVIEW"},
		{"review of posted evidence", checkReview(onNotice, "reviewer"), "NOT_PENDING_REVIEW"},
		{"objection during notice", checkObject(onNotice, "hh", "2026-03-07"), ""},
		{"objection on the day notice ends", checkObject(onNotice, "hh", "2026-03-08"), "NOTICE_ENDED"},
		{"objection after notice", checkObject(onNotice, "hh", "2026-04-01"), "NOTICE_ENDED"},
		{"objection to pending evidence", checkObject(pending, "hh", "2026-03-02"), "NOT_ON_NOTICE"},
		{"second objection", checkObject(disputed, "hh2", "2026-03-02"), "ALREADY_DISPUTED"},
		{"objection after a dispute was heard", checkObject(heard, "hh2", "2026-03-06"), "OBJECTION_HEARD"},
		{"submitter objects", checkObject(onNotice, "clerk", "2026-03-02"), "SELF_OBJECTION"},
		{"resolve by a third person", checkResolve(disputed, "reviewer"), ""},
		{"objector resolves", checkResolve(disputed, "hh"), "SELF_RESOLVE"},
		{"submitter resolves", checkResolve(disputed, "clerk"), "SELF_RESOLVE"},
		{"resolve undisputed", checkResolve(onNotice, "reviewer"), "NOT_DISPUTED"},
		{"revoke posted", checkRevoke(onNotice), ""},
		{"revoke twice", checkRevoke(gone), "ALREADY_REVOKED"},
		{"revoke pending", checkRevoke(pending), "NOT_POSTED"},
		{"revoke disputed", checkRevoke(disputed), "DISPUTED"},
		{"revoke rejected", checkRevoke(&Evidence{State: Rejected}), "NOT_POSTED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.reason == "" {
				assert.NoError(t, tc.err)
				return
			}
			require.True(t, fault.Is(tc.err, fault.FailedPrecondition), "got %v", tc.err)
			assert.Equal(t, tc.reason, reason(t, tc.err))
		})
	}
}

func TestPhase(t *testing.T) {
	e := &Evidence{State: Posted, NoticeEnd: "2026-03-08"}
	assert.Equal(t, OnNotice, e.Phase("2026-03-07"))
	assert.Equal(t, Effective, e.Phase("2026-03-08"))
	assert.Equal(t, Phase(Disputed), (&Evidence{State: Disputed}).Phase("2026-03-01"))
}

func TestLiveEntrySkipsReversed(t *testing.T) {
	entries := []points.Entry{
		{ID: "a", EvidenceID: "e1", Kind: points.Award},
		{ID: "r", EvidenceID: "e1", Kind: points.Reversal, Reverses: "a"},
		{ID: "b", EvidenceID: "e1", Kind: points.Award},
		{ID: "c", EvidenceID: "e2", Kind: points.Deduction},
	}
	got, ok := liveEntry(entries, "e1")
	require.True(t, ok)
	assert.Equal(t, "b", got.ID)
	got, ok = liveEntry(entries, "e2")
	require.True(t, ok)
	assert.Equal(t, "c", got.ID)
	_, ok = liveEntry(entries[:2], "e1")
	assert.False(t, ok, "the only award was reversed")
}

func TestLiveOn(t *testing.T) {
	revoked := time.Date(2026, 5, 31, 16, 30, 0, 0, time.UTC) // 2026-06-01 in Shanghai
	e := &Evidence{State: Posted, NoticeEnd: "2026-03-08", ValidUntil: "2027-03-08"}
	assert.False(t, e.liveOn("2026-03-07"), "on notice")
	assert.True(t, e.liveOn("2026-03-08"))
	assert.False(t, e.liveOn("2027-03-08"), "ValidUntil is exclusive")
	r := *e
	r.State, r.RevokeTime = Revoked, &revoked
	assert.True(t, r.liveOn("2026-05-31"), "a revocation does not rewrite the days before it")
	assert.False(t, r.liveOn("2026-06-01"))
	o := *e
	o.State = Overturned
	assert.False(t, o.liveOn("2026-04-01"))
}

func TestRankCompetition(t *testing.T) {
	d := decimal.RequireFromString
	rows := Rank([]Total{
		{Household: "c", Points: d("5")},
		{Household: "a", Points: d("12.5")},
		{Household: "d", Points: d("5.0")},
		{Household: "b", Points: d("-3")},
		{Household: "e", Points: d("12.50")},
	})
	var got []string
	var ranks []int
	for _, r := range rows {
		got = append(got, r.Household)
		ranks = append(ranks, r.Rank)
	}
	assert.Equal(t, []string{"a", "e", "c", "d", "b"}, got)
	assert.Equal(t, []int{1, 1, 3, 3, 5}, ranks)
	assert.Empty(t, Rank(nil))
}

func TestStandingPicksLiveFacts(t *testing.T) {
	day := household.Date("2026-06-01")
	live := func(id string, k Kind) *Evidence {
		return &Evidence{ID: id, Kind: k, State: Posted, NoticeEnd: "2026-01-10", ValidUntil: "2027-01-01"}
	}
	town := live("1", StarRating)
	town.Level, town.Stars = LevelTown, 3
	village5 := live("2", StarRating)
	village5.Level, village5.Stars = LevelVillage, 5
	expired := live("3", BlackList)
	expired.ValidUntil = "2026-05-01"
	black := live("4", BlackList)
	recYear := live("5", Recommendation)
	recYear.Period = "2025"
	recQ1 := live("6", Recommendation)
	recQ1.Period = "2026Q1"
	pending := &Evidence{ID: "7", Kind: RedList, State: PendingReview}

	st := standingOf([]*Evidence{village5, town, expired, black, recYear, recQ1, pending}, day)
	require.NotNil(t, st.Star)
	assert.Equal(t, "1", st.Star.ID, "a town rating outranks a village one whatever the stars")
	assert.Equal(t, []*Evidence{black}, st.BlackList)
	assert.True(t, st.Blacklisted())
	assert.Empty(t, st.RedList)
	require.NotNil(t, st.Recommendation)
	assert.Equal(t, "6", st.Recommendation.ID, "2026Q1 is later than 2025")

	none := standingOf([]*Evidence{expired, pending}, day)
	assert.Nil(t, none.Star)
	assert.False(t, none.Blacklisted())
}

func TestPeriodKeyOrder(t *testing.T) {
	order := []string{"2025", "2026Q1", "2026Q2", "2026H1", "2026Q3", "2026Q4", "2026H2", "2026"}
	for i := 1; i < len(order); i++ {
		assert.Less(t, periodKey(order[i-1]), periodKey(order[i]), "%s before %s", order[i-1], order[i])
	}
	assert.Empty(t, periodKey("2026Q5"))
}

func TestParseInputViolations(t *testing.T) {
	today := household.Date("2026-06-01")
	ok := SubmitInput{Parent: hhName, Kind: Points, ItemCode: "DZ-ML-01", Quantity: 1, OccurredOn: "2026-05-30", RequestID: "r1"}
	_, err := parseInput(ok, today)
	require.NoError(t, err)

	tests := []struct {
		name  string
		edit  func(*SubmitInput)
		field string
	}{
		{"bad parent", func(in *SubmitInput) { in.Parent = "villages/330483102215" }, "parent"},
		{"unknown kind", func(in *SubmitInput) { in.Kind = "gold_star" }, "kind"},
		{"no item", func(in *SubmitInput) { in.ItemCode = "" }, "item_code"},
		{"zero quantity", func(in *SubmitInput) { in.Quantity = 0 }, "quantity"},
		{"negative quantity", func(in *SubmitInput) { in.Quantity = -3 }, "quantity"},
		{"future date", func(in *SubmitInput) { in.OccurredOn = "2026-06-02" }, "occurred_on"},
		{"impossible date", func(in *SubmitInput) { in.OccurredOn = "2026-02-30" }, "occurred_on"},
		{"missing date", func(in *SubmitInput) { in.OccurredOn = "" }, "occurred_on"},
		{"slashed date", func(in *SubmitInput) { in.OccurredOn = "2026/05/30" }, "occurred_on"},
		{"no request id", func(in *SubmitInput) { in.RequestID = "" }, "request_id"},
		{"bad hash", func(in *SubmitInput) { in.Attachments = []Attachment{{Kind: "photo", SHA256: "abc"}} }, "attachments[0].sha256"},
		{"bad attachment kind", func(in *SubmitInput) {
			in.Attachments = []Attachment{{Kind: "video", SHA256: "0000000000000000000000000000000000000000000000000000000000000000"}}
		}, "attachments[0].kind"},
		{"valid_until on points", func(in *SubmitInput) { in.ValidUntil = "2027-01-01" }, "valid_until"},
		{"stars on points", func(in *SubmitInput) { in.Stars = 3 }, "stars"},
		{"star without level", func(in *SubmitInput) {
			*in = SubmitInput{Parent: hhName, Kind: StarRating, Stars: 3, ValidUntil: "2027-01-01", OccurredOn: "2026-05-01", RequestID: "x"}
		}, "level"},
		{"six stars", func(in *SubmitInput) {
			*in = SubmitInput{Parent: hhName, Kind: StarRating, Level: LevelTown, Stars: 6, ValidUntil: "2027-01-01", OccurredOn: "2026-05-01", RequestID: "x"}
		}, "stars"},
		{"listing valid_until in the past", func(in *SubmitInput) {
			*in = SubmitInput{Parent: hhName, Kind: BlackList, ValidUntil: "2026-01-01", OccurredOn: "2026-05-01", RequestID: "x"}
		}, "valid_until"},
		{"recommendation bad period", func(in *SubmitInput) {
			*in = SubmitInput{Parent: hhName, Kind: Recommendation, Period: "2026Q5", Creditworthy: true, ProposedAmount: "50000", ValidUntil: "2027-01-01", OccurredOn: "2026-05-01", RequestID: "x"}
		}, "period"},
		{"recommendation amount in tenths of fen", func(in *SubmitInput) {
			*in = SubmitInput{Parent: hhName, Kind: Recommendation, Period: "2026", Creditworthy: true, ProposedAmount: "50000.001", ValidUntil: "2027-01-01", OccurredOn: "2026-05-01", RequestID: "x"}
		}, "proposed_amount"},
		{"recommendation absurd amount", func(in *SubmitInput) {
			*in = SubmitInput{Parent: hhName, Kind: Recommendation, Period: "2026", Creditworthy: true, ProposedAmount: "1e30", ValidUntil: "2027-01-01", OccurredOn: "2026-05-01", RequestID: "x"}
		}, "proposed_amount"},
		{"not creditworthy with an amount", func(in *SubmitInput) {
			*in = SubmitInput{Parent: hhName, Kind: Recommendation, Period: "2026", ProposedAmount: "100", ValidUntil: "2027-01-01", OccurredOn: "2026-05-01", RequestID: "x"}
		}, "proposed_amount"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.edit(&in)
			_, err := parseInput(in, today)
			require.True(t, fault.Is(err, fault.Invalid), "got %v", err)
			var f *fault.Error
			require.ErrorAs(t, err, &f)
			var fields []string
			for _, v := range f.Violations {
				fields = append(fields, v.Field)
			}
			assert.Contains(t, fields, tc.field)
		})
	}
}
