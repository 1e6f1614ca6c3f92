package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

func newID(t *testing.T) string {
	t.Helper()
	id, err := uuid.NewV7()
	require.NoError(t, err)
	return id.String()
}

// newEvidence builds pending points evidence of h; n varies its request id.
func newEvidence(t *testing.T, h *household.Household, n int) *evidence.Evidence {
	t.Helper()
	return &evidence.Evidence{
		ID: newID(t), Village: h.Village, Household: h.ID, Kind: evidence.Points,
		ItemCode: "V01", Quantity: 1, CatalogueHash: fmt.Sprintf("%064x", 7),
		ProposedAmount: decimal.Zero, OccurredOn: "2026-02-27", Note: "打扫村道",
		State: evidence.PendingReview, SubmittedBy: "clerk", SubmitTime: base,
		RequestID: fmt.Sprintf("req-%d", n), RequestHash: fmt.Sprintf("hash-%d", n),
	}
}

func insertEvidence(t *testing.T, s Store, e *evidence.Evidence) {
	t.Helper()
	require.NoError(t, s.Evidence().Write(context.Background(), func(tx evidence.Writer) error {
		return tx.InsertEvidence(context.Background(), e)
	}))
	require.Equal(t, 1, e.Version)
}

func getEvidence(t *testing.T, s Store, village, householdID, id string) (*evidence.Evidence, error) {
	t.Helper()
	var e *evidence.Evidence
	err := s.Evidence().Read(context.Background(), func(tx evidence.Reader) error {
		var err error
		e, err = tx.Evidence(context.Background(), village, householdID, id)
		return err
	})
	return e, err
}

func assertSameEvidence(t *testing.T, want, got *evidence.Evidence) {
	t.Helper()
	w, g := *want, *got
	assert.True(t, w.ProposedAmount.Equal(g.ProposedAmount), "proposed amount: want %s, got %s", w.ProposedAmount, g.ProposedAmount)
	assert.True(t, w.SubmitTime.Truncate(time.Microsecond).Equal(g.SubmitTime), "submit time %v vs %v", w.SubmitTime, g.SubmitTime)
	assert.Equal(t, time.UTC, g.SubmitTime.Location())
	for _, p := range []struct {
		name      string
		want, got *time.Time
	}{
		{"review", w.ReviewTime, g.ReviewTime}, {"object", w.ObjectTime, g.ObjectTime},
		{"resolve", w.ResolveTime, g.ResolveTime}, {"revoke", w.RevokeTime, g.RevokeTime},
	} {
		if p.want == nil {
			assert.Nil(t, p.got, p.name)
			continue
		}
		if assert.NotNil(t, p.got, p.name) {
			assert.True(t, p.want.Truncate(time.Microsecond).Equal(*p.got), "%s time %v vs %v", p.name, *p.want, *p.got)
			assert.Equal(t, time.UTC, p.got.Location(), p.name)
		}
	}
	// Everything else compares exactly.
	w.ProposedAmount, g.ProposedAmount = decimal.Zero, decimal.Zero
	w.SubmitTime, g.SubmitTime = time.Time{}, time.Time{}
	w.ReviewTime, w.ObjectTime, w.ResolveTime, w.RevokeTime = nil, nil, nil, nil
	g.ReviewTime, g.ObjectTime, g.ResolveTime, g.RevokeTime = nil, nil, nil, nil
	assert.Equal(t, w, g)
}

func at(d time.Duration) *time.Time {
	t := base.Add(d)
	return &t
}

func testEvidenceRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)

	// Every field set, times carrying nanoseconds (kept to the microsecond).
	full := &evidence.Evidence{
		ID: newID(t), Village: villageA, Household: h.ID, Kind: evidence.Recommendation,
		ItemCode: "X09", Quantity: 3, CatalogueHash: fmt.Sprintf("%064x", 42),
		Level: evidence.LevelTown, Stars: 4, ValidUntil: "2027-01-01",
		Period: "2026H1", Creditworthy: true, ProposedAmount: decimal.RequireFromString("50000.05"),
		OccurredOn: "2026-02-27", Note: "道德评判团：守信；百姓议事会建议 5 万元",
		Attachments: []evidence.Attachment{
			{Kind: "photo", SHA256: fmt.Sprintf("%064x", 1)},
			{Kind: "document", SHA256: fmt.Sprintf("%064x", 2)},
		},
		Witness: "王五", SystemSource: "grid-app", State: evidence.Revoked,
		SubmittedBy: "clerk", SubmitTime: base, RequestID: "req-full", RequestHash: "hash-full",
		ReviewedBy: "reviewer", ReviewTime: at(time.Hour + 123), ReviewReason: "属实",
		NoticeStart: "2026-03-02", NoticeEnd: "2026-03-09",
		ObjectedBy: "villager", ObjectTime: at(2 * time.Hour), ObjectReason: "有异议",
		ResolvedBy: "committee", ResolveTime: at(3 * time.Hour), ResolveReason: "维持", Upheld: true,
		RevokedBy: "reviewer", RevokeTime: at(4 * time.Hour), RevokeReason: "录入错误",
	}
	// Nothing optional set: no times, no dates beyond occurred_on, no
	// attachments, zero amount.
	bare := newEvidence(t, h, 2)

	insertEvidence(t, s, full)
	insertEvidence(t, s, bare)

	got, err := getEvidence(t, s, villageA, h.ID, full.ID)
	require.NoError(t, err)
	assertSameEvidence(t, full, got)
	assert.Equal(t, 1, got.Version)
	assert.Equal(t, "50000.05", got.ProposedAmount.StringFixed(2))

	got, err = getEvidence(t, s, villageA, h.ID, bare.ID)
	require.NoError(t, err)
	assertSameEvidence(t, bare, got)
	assert.Nil(t, got.Attachments)
	assert.Empty(t, got.ValidUntil)
	assert.Empty(t, got.NoticeStart)
	assert.Empty(t, got.NoticeEnd)

	// Assertions inside a transaction return rather than require: a
	// FailNow there would leave the transaction, and its connection, open.
	require.NoError(t, s.Evidence().Read(ctx, func(tx evidence.Reader) error {
		byReq, err := tx.EvidenceByRequests(ctx, villageA, []string{"req-full", "req-2", "req-missing"})
		if err != nil {
			return err
		}
		if assert.Len(t, byReq, 2) && assert.Contains(t, byReq, "req-full") && assert.Contains(t, byReq, "req-2") {
			assertSameEvidence(t, full, byReq["req-full"])
			assertSameEvidence(t, bare, byReq["req-2"])
		}

		none, err := tx.EvidenceByRequests(ctx, villageB, []string{"req-full"})
		if err != nil {
			return err
		}
		assert.Empty(t, none, "request ids are per village")
		if none, err = tx.EvidenceByRequests(ctx, villageA, nil); err != nil {
			return err
		}
		assert.Empty(t, none)

		hh, err := tx.Household(ctx, villageA, h.ID)
		if err != nil {
			return err
		}
		assert.Equal(t, h.HeadName, hh.HeadName)
		return nil
	}))
}

func testEvidenceByManyRequests(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	var reqs []string
	require.NoError(t, s.Evidence().Write(ctx, func(tx evidence.Writer) error {
		for i := range 450 { // more than one query's worth of ids
			e := newEvidence(t, h, i)
			reqs = append(reqs, e.RequestID)
			if err := tx.InsertEvidence(ctx, e); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, s.Evidence().Read(ctx, func(tx evidence.Reader) error {
		got, err := tx.EvidenceByRequests(ctx, villageA, append(reqs, "nope"))
		if err != nil {
			return err
		}
		assert.Len(t, got, 450)
		for _, r := range reqs {
			if assert.Contains(t, got, r) {
				assert.Equal(t, r, got[r].RequestID)
			}
		}
		return nil
	}))
}

func testEvidenceNotFound(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	other := newHousehold(t, villageA, 2)
	insert(t, s, h)
	insert(t, s, other)
	e := newEvidence(t, h, 1)
	insertEvidence(t, s, e)

	for _, c := range []struct{ name, village, household, id string }{
		{"another village", villageB, h.ID, e.ID},
		{"another household", villageA, other.ID, e.ID},
		{"unknown id", villageA, h.ID, newID(t)},
	} {
		_, err := getEvidence(t, s, c.village, c.household, c.id)
		assert.True(t, fault.Is(err, fault.NotFound), "%s: got %v", c.name, err)
	}
	require.NoError(t, s.Evidence().Read(ctx, func(tx evidence.Reader) error {
		_, err := tx.Household(ctx, villageB, h.ID)
		assert.True(t, fault.Is(err, fault.NotFound), "a household of another village, got %v", err)
		return nil
	}))

	ghost := newEvidence(t, h, 9)
	err := s.Evidence().Write(ctx, func(tx evidence.Writer) error {
		ghost.Version = 1
		return tx.UpdateEvidence(ctx, ghost)
	})
	assert.True(t, fault.Is(err, fault.NotFound), "updating missing evidence, got %v", err)

	moved := *e
	moved.Household = other.ID
	err = s.Evidence().Write(ctx, func(tx evidence.Writer) error { return tx.UpdateEvidence(ctx, &moved) })
	assert.True(t, fault.Is(err, fault.NotFound), "evidence is updated only under its own household, got %v", err)

	err = s.Evidence().Write(ctx, func(tx evidence.Writer) error {
		sh := &evidence.Sheet{Household: "no-such-household"}
		entry := award("x1", sh.Household, "1", "2026-03-10", true)
		sh.Entries = []points.Entry{entry}
		return tx.AppendEntries(ctx, sh, sh.Entries)
	})
	assert.True(t, fault.Is(err, fault.NotFound), "appending to a missing household, got %v", err)
}

func testEvidenceRequestUnique(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	hb := newHousehold(t, villageB, 1)
	insert(t, s, h)
	insert(t, s, hb)
	first := newEvidence(t, h, 1)
	insertEvidence(t, s, first)

	again := newEvidence(t, h, 1) // same request id, new evidence id
	third := newEvidence(t, h, 3)
	require.NoError(t, s.Evidence().Write(ctx, func(tx evidence.Writer) error {
		err := tx.InsertEvidence(ctx, again)
		assert.True(t, fault.Is(err, fault.AlreadyExists), "a request id is used once per village, got %v", err)
		// The transaction is still usable: read the first, write another.
		byReq, err := tx.EvidenceByRequests(ctx, villageA, []string{again.RequestID})
		if err != nil {
			return err
		}
		if assert.Contains(t, byReq, again.RequestID) {
			assert.Equal(t, first.ID, byReq[again.RequestID].ID)
		}
		return tx.InsertEvidence(ctx, third)
	}))
	_, err := getEvidence(t, s, villageA, h.ID, third.ID)
	require.NoError(t, err, "the write after the conflict committed")
	_, err = getEvidence(t, s, villageA, h.ID, again.ID)
	assert.True(t, fault.Is(err, fault.NotFound), "the conflicting insert left nothing, got %v", err)

	sameID := newEvidence(t, h, 4)
	sameID.ID = first.ID
	err = s.Evidence().Write(ctx, func(tx evidence.Writer) error { return tx.InsertEvidence(ctx, sameID) })
	assert.True(t, fault.Is(err, fault.AlreadyExists), "an evidence id is used once, got %v", err)

	// The same request id in another village is another request.
	insertEvidence(t, s, newEvidence(t, hb, 1))
}

// SendEvidence may go out with the commit: a taken request id, or a
// household not as the caller gave it, then fails the whole transaction,
// with EVIDENCE_NOT_SENT, and keeps none of it.
func testEvidenceSent(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	first := newEvidence(t, h, 1)
	require.NoError(t, s.Evidence().Write(ctx, func(tx evidence.Writer) error {
		if err := tx.SendEvidence(ctx, first, h.Registered); err != nil {
			return err
		}
		assert.Equal(t, 1, first.Version, "set at once")
		return tx.Record(ctx, audit.Record{Time: time.Now(), Actor: "clerk", Action: "evidence.submit", Subject: first.Name()})
	}))
	got, err := getEvidence(t, s, villageA, h.ID, first.ID)
	require.NoError(t, err)
	assert.Equal(t, first.RequestID, got.RequestID)
	assert.Equal(t, 1, got.Version)

	// notSent sends e, with another row before it in the transaction,
	// and expects neither kept.
	notSent := func(what string, e *evidence.Evidence, village string, registered household.Date) {
		t.Helper()
		other := newEvidence(t, h, 2)
		e.Village = village
		err := s.Evidence().Write(ctx, func(tx evidence.Writer) error {
			if err := tx.InsertEvidence(ctx, other); err != nil {
				return err
			}
			if err := tx.SendEvidence(ctx, e, registered); err != nil {
				return err
			}
			return tx.Record(ctx, audit.Record{Time: time.Now(), Actor: "clerk", Action: "evidence.submit", Subject: e.Name()})
		})
		require.True(t, fault.Is(err, fault.FailedPrecondition), "%s, got %v", what, err)
		var f *fault.Error
		require.ErrorAs(t, err, &f)
		assert.Equal(t, evidence.ReasonNotSent, f.Reason, what)
		for _, x := range []*evidence.Evidence{other, e} {
			_, err = getEvidence(t, s, x.Village, h.ID, x.ID)
			assert.True(t, fault.Is(err, fault.NotFound), "%s: nothing of the transaction is kept, got %v", what, err)
		}
	}
	notSent("a taken request id", newEvidence(t, h, 1), villageA, h.Registered)
	notSent("a household registered on another date", newEvidence(t, h, 3), villageA, "2020-01-03")
	notSent("a household of another village", newEvidence(t, h, 3), villageB, h.Registered)

	// A taken evidence id is the id's own conflict.
	sameID := newEvidence(t, h, 3)
	sameID.ID = first.ID
	err = s.Evidence().Write(ctx, func(tx evidence.Writer) error { return tx.SendEvidence(ctx, sameID, h.Registered) })
	require.True(t, fault.Is(err, fault.AlreadyExists), "a taken evidence id, got %v", err)
	var f *fault.Error
	require.ErrorAs(t, err, &f)
	assert.Equal(t, "EVIDENCE_EXISTS", f.Reason)
}

func testEvidenceUpdate(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	e := newEvidence(t, h, 1)
	insertEvidence(t, s, e)
	stale := *e

	e.State = evidence.Posted
	e.CatalogueHash = fmt.Sprintf("%064x", 8)
	e.ReviewedBy, e.ReviewTime, e.ReviewReason = "reviewer", at(time.Hour), "ok"
	e.NoticeStart, e.NoticeEnd = "2026-03-02", "2026-03-09"
	require.NoError(t, s.Evidence().Write(ctx, func(tx evidence.Writer) error { return tx.UpdateEvidence(ctx, e) }))
	assert.Equal(t, 2, e.Version)
	got, err := getEvidence(t, s, villageA, h.ID, e.ID)
	require.NoError(t, err)
	assertSameEvidence(t, e, got)

	// Only workflow fields are written.
	e.State = evidence.Disputed
	e.ObjectedBy, e.ObjectTime, e.ObjectReason = "villager", at(2*time.Hour), "不实"
	submitted := *e
	e.Note, e.Quantity, e.RequestID = "changed", 99, "other"
	require.NoError(t, s.Evidence().Write(ctx, func(tx evidence.Writer) error { return tx.UpdateEvidence(ctx, e) }))
	assert.Equal(t, 3, e.Version)
	got, err = getEvidence(t, s, villageA, h.ID, e.ID)
	require.NoError(t, err)
	submitted.Version = 3
	assertSameEvidence(t, &submitted, got)

	// Resolution and revocation.
	*e = submitted
	e.State = evidence.Revoked
	e.ResolvedBy, e.ResolveTime, e.ResolveReason, e.Upheld = "committee", at(3*time.Hour), "维持", true
	e.RevokedBy, e.RevokeTime, e.RevokeReason = "reviewer", at(4*time.Hour), "撤销"
	require.NoError(t, s.Evidence().Write(ctx, func(tx evidence.Writer) error { return tx.UpdateEvidence(ctx, e) }))
	assert.Equal(t, 4, e.Version)
	got, err = getEvidence(t, s, villageA, h.ID, e.ID)
	require.NoError(t, err)
	assertSameEvidence(t, e, got)

	// Clearing a time and dates writes NULL back.
	e.ReviewTime, e.NoticeStart, e.NoticeEnd = nil, "", ""
	require.NoError(t, s.Evidence().Write(ctx, func(tx evidence.Writer) error { return tx.UpdateEvidence(ctx, e) }))
	got, err = getEvidence(t, s, villageA, h.ID, e.ID)
	require.NoError(t, err)
	assert.Nil(t, got.ReviewTime)
	assert.Empty(t, got.NoticeEnd)

	// A writer still holding version 1 loses.
	stale.State = evidence.Rejected
	err = s.Evidence().Write(ctx, func(tx evidence.Writer) error { return tx.UpdateEvidence(ctx, &stale) })
	require.Error(t, err)
	var f *fault.Error
	require.ErrorAs(t, err, &f)
	assert.Equal(t, fault.FailedPrecondition, f.Kind)
	assert.Equal(t, "CONCURRENT_CHANGE", f.Reason)
	assert.Equal(t, 1, stale.Version, "a failed update leaves the version alone")
	got, err = getEvidence(t, s, villageA, h.ID, e.ID)
	require.NoError(t, err)
	assert.Equal(t, evidence.Revoked, got.State)
	assert.Equal(t, 5, got.Version)
}

func listEvidence(t *testing.T, s Store, q evidence.ListQuery) []string {
	t.Helper()
	var ids []string
	require.NoError(t, s.Evidence().Read(context.Background(), func(tx evidence.Reader) error {
		page, err := tx.ListEvidence(context.Background(), q)
		if err != nil {
			return err
		}
		for _, e := range page {
			assert.Equal(t, q.Village, e.Village)
			ids = append(ids, e.ID)
		}
		return nil
	}))
	return ids
}

func testEvidenceList(t *testing.T, s Store) {
	h1, h2 := newHousehold(t, villageA, 1), newHousehold(t, villageA, 2)
	hb := newHousehold(t, villageB, 1)
	for _, h := range []*household.Household{h1, h2, hb} {
		insert(t, s, h)
	}
	const day = household.Date("2026-03-10")
	type spec struct {
		h         *household.Household
		kind      evidence.Kind
		item      string
		state     evidence.State
		noticeEnd household.Date
	}
	specs := []spec{
		{h1, evidence.Points, "V01", evidence.PendingReview, ""},
		{h1, evidence.Points, "V02", evidence.Posted, "2026-03-11"},   // on notice
		{h2, evidence.Points, "V01", evidence.Posted, day},            // ends today: effective
		{h2, evidence.RedList, "", evidence.Posted, "2026-03-09"},     // effective
		{h1, evidence.BlackList, "", evidence.Disputed, "2026-03-01"}, // disputed: on the board
		{h2, evidence.Points, "V01", evidence.Rejected, ""},
		{h1, evidence.Points, "V01", evidence.Posted, "2026-04-01"}, // on notice
		{h2, evidence.StarRating, "", evidence.Revoked, "2026-03-20"},
		{hb, evidence.Points, "V01", evidence.Posted, "2026-03-11"}, // other village
	}
	var all []*evidence.Evidence
	for i, sp := range specs {
		e := newEvidence(t, sp.h, i)
		e.Kind, e.ItemCode, e.State = sp.kind, sp.item, sp.state
		if sp.noticeEnd != "" {
			e.NoticeStart, e.NoticeEnd = "2026-02-28", sp.noticeEnd
		}
		insertEvidence(t, s, e)
		all = append(all, e)
	}
	// want returns the ids of specs matching keep, newest (largest id) first.
	want := func(keep func(i int, e *evidence.Evidence) bool) []string {
		var ids []string
		for i, e := range all {
			if e.Village == villageA && keep(i, e) {
				ids = append(ids, e.ID)
			}
		}
		slices.Sort(ids)
		slices.Reverse(ids)
		return ids
	}

	everything := want(func(int, *evidence.Evidence) bool { return true })
	require.Len(t, everything, 8)
	var paged []string
	before := ""
	for range 10 {
		page := listEvidence(t, s, evidence.ListQuery{Village: villageA, Before: before, Limit: 3})
		assert.LessOrEqual(t, len(page), 3)
		paged = append(paged, page...)
		if len(page) < 3 {
			break
		}
		before = page[len(page)-1]
	}
	assert.Equal(t, everything, paged, "pages come newest first, each piece once")

	assert.Equal(t, want(func(_ int, e *evidence.Evidence) bool { return e.Household == h1.ID }),
		listEvidence(t, s, evidence.ListQuery{Village: villageA, Household: h1.ID, Limit: 100}))
	assert.Equal(t, want(func(_ int, e *evidence.Evidence) bool { return e.Kind == evidence.Points }),
		listEvidence(t, s, evidence.ListQuery{Village: villageA, Kind: evidence.Points, Limit: 100}))
	assert.Equal(t, want(func(_ int, e *evidence.Evidence) bool { return e.State == evidence.Posted }),
		listEvidence(t, s, evidence.ListQuery{Village: villageA, State: evidence.Posted, Limit: 100}))
	assert.Equal(t, want(func(_ int, e *evidence.Evidence) bool {
		return e.ItemCode == "V01" && e.Household == h2.ID && e.State == evidence.Rejected
	}), listEvidence(t, s, evidence.ListQuery{Village: villageA, Household: h2.ID, ItemCode: "V01", State: evidence.Rejected, Limit: 100}))
	assert.Empty(t, listEvidence(t, s, evidence.ListQuery{Village: villageA, Household: hb.ID, Limit: 100}),
		"a household of another village has nothing here")

	board := want(func(i int, _ *evidence.Evidence) bool { return i == 1 || i == 4 || i == 6 })
	assert.Equal(t, board, listEvidence(t, s, evidence.ListQuery{Village: villageA, OnNotice: day, Limit: 100}))
	assert.Equal(t, board, listEvidence(t, s, evidence.ListQuery{Village: villageA, OnNotice: day, State: evidence.Rejected, Limit: 100}),
		"State is ignored on the board")
	assert.Equal(t, want(func(i int, _ *evidence.Evidence) bool { return i == 1 || i == 6 }),
		listEvidence(t, s, evidence.ListQuery{Village: villageA, OnNotice: day, Kind: evidence.Points, Limit: 100}))
	assert.Equal(t, want(func(i int, _ *evidence.Evidence) bool { return i == 4 || i == 6 }),
		listEvidence(t, s, evidence.ListQuery{Village: villageA, OnNotice: "2026-03-11", Limit: 100}))
	assert.Equal(t, board[1:], listEvidence(t, s, evidence.ListQuery{Village: villageA, OnNotice: day, Before: board[0], Limit: 100}))
}

// award returns a valid award (or, for negative pts, deduction) entry.
func award(id, householdID, pts string, effective household.Date, forCredit bool) points.Entry {
	p := decimal.RequireFromString(pts)
	kind := points.Award
	if p.Sign() < 0 {
		kind = points.Deduction
	}
	return points.Entry{
		ID: id, Household: householdID, EvidenceID: "ev-" + id, ItemCode: "V01", Domain: points.Virtue,
		Area: "孝老爱亲", Kind: kind, Quantity: 1, Requested: p, Points: p, Capped: decimal.Zero,
		OccurredOn: "2026-01-05", EffectiveOn: effective, ValidUntil: "2028-01-01", ForCredit: forCredit,
	}
}

func reversal(t *testing.T, id string, of points.Entry, on household.Date) points.Entry {
	t.Helper()
	r, err := points.Reverse(of, on)
	require.NoError(t, err)
	r.ID = id
	return r
}

func redemption(t *testing.T, id, householdID, amount string, on household.Date) points.Entry {
	t.Helper()
	r, err := points.NewRedemption(decimal.RequireFromString(amount), on, 2)
	require.NoError(t, err)
	r.ID, r.Household = id, householdID
	return r
}

func readSheet(t *testing.T, s Store, householdID string) *evidence.Sheet {
	t.Helper()
	var sh *evidence.Sheet
	require.NoError(t, s.Evidence().Read(context.Background(), func(tx evidence.Reader) error {
		var err error
		sh, err = tx.Sheet(context.Background(), householdID)
		return err
	}))
	return sh
}

// appendToSheet reads the household's sheet and appends entries, in one
// transaction.
func appendToSheet(s Store, householdID string, entries ...points.Entry) error {
	ctx := context.Background()
	return s.Evidence().Write(ctx, func(tx evidence.Writer) error {
		sh, err := tx.Sheet(ctx, householdID)
		if err != nil {
			return err
		}
		sh.Entries = append(sh.Entries, entries...)
		return tx.AppendEntries(ctx, sh, entries)
	})
}

// prependToSheet reads the household's sheet and puts entry first, in one
// transaction: new entries that do not end the sheet, as a caller that
// orders the sheet itself may write.
func prependToSheet(s Store, householdID string, entry points.Entry) error {
	ctx := context.Background()
	return s.Evidence().Write(ctx, func(tx evidence.Writer) error {
		sh, err := tx.Sheet(ctx, householdID)
		if err != nil {
			return err
		}
		sh.Entries = append([]points.Entry{entry}, sh.Entries...)
		return tx.AppendEntries(ctx, sh, []points.Entry{entry})
	})
}

func assertSameEntries(t *testing.T, want, got []points.Entry) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		w, g := want[i], got[i]
		for _, d := range []struct {
			name      string
			want, got decimal.Decimal
		}{{"requested", w.Requested, g.Requested}, {"points", w.Points, g.Points}, {"capped", w.Capped, g.Capped}} {
			assert.True(t, d.want.Equal(d.got), "entry %d %s: want %s, got %s", i, d.name, d.want, d.got)
			assert.Equal(t, withScale(d.want), withScale(d.got), "entry %d %s keeps its scale", i, d.name)
		}
		w.Requested, w.Points, w.Capped = decimal.Zero, decimal.Zero, decimal.Zero
		g.Requested, g.Points, g.Capped = decimal.Zero, decimal.Zero, decimal.Zero
		assert.Equal(t, w, g, "entry %d", i)
	}
}

// withScale writes d with as many decimal places as it carries ("-2.50").
func withScale(d decimal.Decimal) string { return d.StringFixed(max(0, -d.Exponent())) }

func testSheetRoundTrip(t *testing.T, s Store) {
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)

	empty := readSheet(t, s, h.ID)
	assert.Equal(t, h.ID, empty.Household)
	assert.Equal(t, 0, empty.Version)
	assert.Empty(t, empty.Entries)

	a := award("e-9", h.ID, "2.50", "2026-03-10", true)
	d := award("e-3", h.ID, "-2.50", "2026-03-11", true)
	d.Requested, d.Capped = decimal.RequireFromString("-5.00"), decimal.RequireFromString("2.50")
	d.Quantity = 2
	n := award("e-5", h.ID, "-10", "2026-03-12", false)
	n.ItemCode, n.Domain, n.Area = "L07", points.RuleOfLaw, ""
	first := []points.Entry{a, d, n}
	require.NoError(t, appendToSheet(s, h.ID, first...))

	sh := readSheet(t, s, h.ID)
	assert.Equal(t, 1, sh.Version)
	assert.Equal(t, villageA, sh.Village)
	assertSameEntries(t, first, sh.Entries)
	assert.Equal(t, "-2.50", sh.Entries[1].Points.StringFixed(2))

	second := []points.Entry{
		reversal(t, "e-1", a, "2026-03-20"),
		redemption(t, "e-7", h.ID, "0.75", "2026-03-21"),
	}
	require.NoError(t, appendToSheet(s, h.ID, second...))
	sh = readSheet(t, s, h.ID)
	assert.Equal(t, 2, sh.Version)
	assertSameEntries(t, append(first, second...), sh.Entries)
	assert.Equal(t, points.Reversal, sh.Entries[3].Kind)
	assert.Equal(t, "e-9", sh.Entries[3].Reverses)
	assert.Equal(t, points.Award, sh.Entries[3].ReversedKind)
	assert.Empty(t, sh.Entries[4].ValidUntil)

	// The sheet and the ledger agree: the balance computed from the sheet
	// is exact.
	b := points.Balances(decimal.NewFromInt(100), sh.Entries, "2026-03-31")
	assert.Equal(t, "97.5", b.Credit.String(), "100 + 2.50 − 2.50 − 2.50 (reversal)")
	assert.Equal(t, "0.75", b.Redeemed.String())

	// New entries that do not end the sheet (a caller that orders the
	// sheet itself) are stored where the caller put them.
	early := award("e-0", h.ID, "1", "2026-03-01", true)
	require.NoError(t, prependToSheet(s, h.ID, early))
	sh = readSheet(t, s, h.ID)
	assert.Equal(t, 3, sh.Version)
	assertSameEntries(t, append([]points.Entry{early}, append(first, second...)...), sh.Entries)
}

// testSheetTail posts to one household many times, one entry a posting:
// the store keeps the newest lines apart from the rest of the sheet and
// folds them in now and then (sqlstore's tail), and every reader must see
// every entry in order throughout, across folds and a whole rewrite.
func testSheetTail(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	// tail reports how much of the sheet waits in the tail.
	c, ok := s.(interface{ Conn() sqlstore.Conn })
	require.True(t, ok, "the engines of this suite are sqlstore's")
	tail := func() int {
		var n int
		require.NoError(t, c.Conn().ReadOne(ctx, func(q sqlstore.Querier) error {
			return q.QueryRow(ctx, `SELECT length(tail) FROM household_points WHERE household_id = $1`, h.ID).Scan(&n)
		}))
		return n
	}
	var want []points.Entry
	check := func(step string) {
		t.Helper()
		assertSameEntries(t, want, readSheet(t, s, h.ID).Entries)
		sh, err := s.Evidence().HouseholdSheet(ctx, villageA, h.ID)
		require.NoError(t, err, step)
		assertSameEntries(t, want, sh.Entries)
	}
	sawTail, sawFold := false, false
	last := 0
	for i := range 30 {
		e := award(fmt.Sprintf("t-%02d", i), h.ID, "1", "2026-03-10", true)
		require.NoError(t, appendToSheet(s, h.ID, e))
		want = append(want, e)
		check(e.ID)
		n := tail()
		sawTail = sawTail || n > 0
		sawFold = sawFold || n < last
		last = n
	}
	assert.True(t, sawTail, "postings waited in the tail")
	assert.True(t, sawFold, "the tail was folded into the sheet")
	// A posting that does not end the sheet rewrites it whole, the tail's
	// entries included, and empties the tail.
	early := award("t-early", h.ID, "1", "2026-03-01", true)
	require.NoError(t, prependToSheet(s, h.ID, early))
	want = append([]points.Entry{early}, want...)
	check("rewrite")
	assert.Zero(t, tail(), "a rewrite leaves nothing in the tail")
	e := award("t-after", h.ID, "1", "2026-03-11", true)
	require.NoError(t, appendToSheet(s, h.ID, e))
	want = append(want, e)
	check("after the rewrite")
	assert.Equal(t, 32, readSheet(t, s, h.ID).Version)
}

// testSheetAfterEvidence reads a household's sheet in write transactions
// that read a piece of its evidence first, as a review does (a store may
// read the sheet along with the evidence): the sheet read is the stored
// one, before any sheet, small or large, and after an append in the same
// transaction.
func testSheetAfterEvidence(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	e := newEvidence(t, h, 1)
	require.NoError(t, s.Evidence().Write(ctx, func(tx evidence.Writer) error { return tx.InsertEvidence(ctx, e) }))
	var want []points.Entry
	// post reads the evidence, then the sheet, which it checks, then
	// appends n entries and reads the sheet again.
	post := func(n int) {
		t.Helper()
		var added []points.Entry
		for range n {
			added = append(added, award(newID(t), h.ID, "1", "2026-03-10", true))
		}
		require.NoError(t, s.Evidence().Write(ctx, func(tx evidence.Writer) error {
			if _, err := tx.Evidence(ctx, villageA, h.ID, e.ID); err != nil {
				return err
			}
			sh, err := tx.Sheet(ctx, h.ID)
			if err != nil {
				return err
			}
			assert.Equal(t, len(want), len(sh.Entries))
			assertSameEntries(t, want, sh.Entries)
			sh.Entries = append(sh.Entries, added...)
			if err := tx.AppendEntries(ctx, sh, added); err != nil {
				return err
			}
			again, err := tx.Sheet(ctx, h.ID)
			if err != nil {
				return err
			}
			assertSameEntries(t, append(append([]points.Entry(nil), want...), added...), again.Entries)
			return nil
		}))
		want = append(want, added...)
		assertSameEntries(t, want, readSheet(t, s, h.ID).Entries)
	}
	post(1) // onto no sheet
	post(2) // onto a small one
	// Evidence read, the sheet appended to as read before the
	// transaction, then read: the append is in it.
	cur, added := readSheet(t, s, h.ID), award(newID(t), h.ID, "1", "2026-03-10", true)
	require.NoError(t, s.Evidence().Write(ctx, func(tx evidence.Writer) error {
		if _, err := tx.Evidence(ctx, villageA, h.ID, e.ID); err != nil {
			return err
		}
		cur.Entries = append(cur.Entries, added)
		if err := tx.AppendEntries(ctx, cur, []points.Entry{added}); err != nil {
			return err
		}
		sh, err := tx.Sheet(ctx, h.ID)
		if err != nil {
			return err
		}
		want = append(want, added)
		assertSameEntries(t, want, sh.Entries)
		return nil
	}))
	post(300) // a sheet of about 60 KB now, beyond what comes along with evidence
	post(1)
}

func testSheetVersions(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)

	// Two writers both read the empty sheet; the second loses.
	e1 := award("a1", h.ID, "1", "2026-03-10", true)
	e2 := award("a2", h.ID, "2", "2026-03-10", true)
	require.NoError(t, appendToSheet(s, h.ID, e1))
	err := s.Evidence().Write(ctx, func(tx evidence.Writer) error {
		stale := &evidence.Sheet{Household: h.ID, Entries: []points.Entry{e2}}
		return tx.AppendEntries(ctx, stale, stale.Entries)
	})
	require.Error(t, err)
	var f *fault.Error
	require.ErrorAs(t, err, &f)
	assert.Equal(t, fault.FailedPrecondition, f.Kind)
	assert.Equal(t, "CONCURRENT_CHANGE", f.Reason)

	require.NoError(t, appendToSheet(s, h.ID, e2))
	// A sheet read at version 1 is stale once version 2 is stored.
	err = s.Evidence().Write(ctx, func(tx evidence.Writer) error {
		e3 := award("a3", h.ID, "3", "2026-03-10", true)
		stale := &evidence.Sheet{Household: h.ID, Version: 1, Entries: []points.Entry{e1, e3}}
		// PostgreSQL sends the writes with the commit (sqlstore.Deferrer),
		// so the refusal may come from AppendEntries or from the commit.
		return tx.AppendEntries(ctx, stale, []points.Entry{e3})
	})
	assert.True(t, fault.Is(err, fault.FailedPrecondition), "got %v", err)
	assert.Equal(t, "CONCURRENT_CHANGE", reasonOf(err))

	sh := readSheet(t, s, h.ID)
	assert.Equal(t, 2, sh.Version)
	assertSameEntries(t, []points.Entry{e1, e2}, sh.Entries)

	// A sheet at the stored version that has lost an entry the store holds
	// is refused too: appending to the stored text would keep it.
	err = s.Evidence().Write(ctx, func(tx evidence.Writer) error {
		e3 := award("a3", h.ID, "3", "2026-03-10", true)
		short := &evidence.Sheet{Household: h.ID, Version: 2, Entries: []points.Entry{e2, e3}}
		return tx.AppendEntries(ctx, short, []points.Entry{e3})
	})
	assert.True(t, fault.Is(err, fault.FailedPrecondition), "got %v", err)
	assert.Equal(t, "CONCURRENT_CHANGE", reasonOf(err))
	assertSameEntries(t, []points.Entry{e1, e2}, readSheet(t, s, h.ID).Entries)
	totals := readTotals(t, s, villageA, "2026-01-01", "2026-12-31")
	require.Len(t, totals, 1)
	assert.Equal(t, "3", totals[0].Points.String(), "the losing writers appended nothing to the ledger")

	// Entries the store would keep forever are checked.
	r1, r2 := reversal(t, "b4", e1, "2026-03-20"), reversal(t, "b5", e1, "2026-03-21")
	for name, bad := range map[string]func(*evidence.Sheet) []points.Entry{
		"no id": func(sh *evidence.Sheet) []points.Entry {
			e := award("", h.ID, "1", "2026-03-10", true)
			sh.Entries = append(sh.Entries, e)
			return []points.Entry{e}
		},
		"not in the sheet": func(sh *evidence.Sheet) []points.Entry {
			return []points.Entry{award("b1", h.ID, "1", "2026-03-10", true)}
		},
		"another household": func(sh *evidence.Sheet) []points.Entry {
			e := award("b2", "someone-else", "1", "2026-03-10", true)
			sh.Entries = append(sh.Entries, e)
			return []points.Entry{e}
		},
		"invalid": func(sh *evidence.Sheet) []points.Entry {
			e := award("b3", h.ID, "1", "2026-03-10", true)
			e.Kind = points.Deduction // positive points
			sh.Entries = append(sh.Entries, e)
			return []points.Entry{e}
		},
		"reversed twice": func(sh *evidence.Sheet) []points.Entry {
			sh.Entries = append(sh.Entries, r1, r2)
			return []points.Entry{r1, r2}
		},
		"id taken": func(sh *evidence.Sheet) []points.Entry {
			e := award(e1.ID, h.ID, "1", "2026-03-10", true)
			sh.Entries = append(sh.Entries, e)
			return []points.Entry{e}
		},
	} {
		err := s.Evidence().Write(ctx, func(tx evidence.Writer) error {
			sh, err := tx.Sheet(ctx, h.ID)
			if err != nil {
				return fmt.Errorf("reading the sheet: %w", err)
			}
			return tx.AppendEntries(ctx, sh, bad(sh))
		})
		assert.Error(t, err, name)
		assert.NotContains(t, fmt.Sprint(err), "reading the sheet", name)
	}
	assert.Equal(t, 2, readSheet(t, s, h.ID).Version, "no refused append was stored")
}

// testLedgerAppendOnly plays an insider with plain DML rights (raw SQL):
// the ledger refuses every UPDATE and DELETE.
func testLedgerAppendOnly(t *testing.T, b Intruder) {
	s := b.Store
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	require.NoError(t, appendToSheet(s, h.ID, award("a1", h.ID, "5", "2026-03-10", true)))

	for _, stmt := range []string{
		`UPDATE ledger_entries SET points = requested`,
		`UPDATE ledger_entries SET for_credit = for_credit`,
		`DELETE FROM ledger_entries`,
	} {
		assert.ErrorContains(t, b.Try(stmt), "append-only", stmt)
	}
	totals := readTotals(t, s, villageA, "2026-01-01", "2026-12-31")
	require.Len(t, totals, 1)
	assert.Equal(t, "5", totals[0].Points.String())
}

func readTotals(t *testing.T, s Store, village string, from, to household.Date) []evidence.Total {
	t.Helper()
	var out []evidence.Total
	require.NoError(t, s.Evidence().Read(context.Background(), func(tx evidence.Reader) error {
		var err error
		out, err = tx.Totals(context.Background(), village, from, to)
		return err
	}))
	return out
}

func testTotals(t *testing.T, s Store) {
	var hs []*household.Household
	for i := range 3 {
		// Head names sort opposite to ids, so the order is checked.
		h := newHousehold(t, villageA, 2-i)
		insert(t, s, h)
		hs = append(hs, h)
	}
	hb := newHousehold(t, villageB, 1)
	insert(t, s, hb)
	h0, h1, h2 := hs[0], hs[1], hs[2]

	// h0: 0.1 + 0.2 in range (exactly 0.3); the rest is out of range, not
	// for credit, or a redemption.
	require.NoError(t, appendToSheet(s, h0.ID,
		award("h0-1", h0.ID, "0.1", "2026-03-01", true), // first day: in
		award("h0-2", h0.ID, "0.2", "2026-03-31", true), // last day: in
		award("h0-3", h0.ID, "7", "2026-04-01", true),   // after
		award("h0-4", h0.ID, "8", "2026-02-28", true),   // before
		award("h0-5", h0.ID, "-9", "2026-03-15", false), // not for credit
		redemption(t, "h0-6", h0.ID, "0.05", "2026-03-16"),
	))
	// A reversed redemption counts nowhere either, even one wrongly
	// flagged for credit (points.Balances counts it only as redeemed).
	flagged := reversal(t, "h0-8", redemption(t, "h0-6b", h0.ID, "0.05", "2026-03-16"), "2026-03-17")
	flagged.ForCredit = true
	require.NoError(t, appendToSheet(s, h0.ID,
		reversal(t, "h0-7", redemption(t, "h0-6", h0.ID, "0.05", "2026-03-16"), "2026-03-17"), flagged))
	// h1: a deduction, its reversal, and an award.
	ded := award("h1-1", h1.ID, "-1.5", "2026-03-05", true)
	require.NoError(t, appendToSheet(s, h1.ID, ded, award("h1-2", h1.ID, "2.25", "2026-03-06", true)))
	require.NoError(t, appendToSheet(s, h1.ID, reversal(t, "h1-3", ded, "2026-03-07")))
	// h2: nothing. hb: another village.
	require.NoError(t, appendToSheet(s, hb.ID, award("hb-1", hb.ID, "100", "2026-03-05", true)))

	got := readTotals(t, s, villageA, "2026-03-01", "2026-03-31")
	want := []evidence.Total{
		{Household: h0.ID, HeadName: h0.HeadName, Group: h0.Group, Points: decimal.RequireFromString("0.3")},
		{Household: h1.ID, HeadName: h1.HeadName, Group: h1.Group, Points: decimal.RequireFromString("2.25")},
		{Household: h2.ID, HeadName: h2.HeadName, Group: h2.Group, Points: decimal.Zero},
	}
	slices.SortFunc(want, func(a, b evidence.Total) int {
		if a.Household < b.Household {
			return -1
		}
		return 1
	})
	require.Len(t, got, len(want))
	for i := range want {
		assert.Equal(t, want[i].Household, got[i].Household, "household id order")
		assert.Equal(t, want[i].HeadName, got[i].HeadName)
		assert.Equal(t, want[i].Group, got[i].Group)
		assert.True(t, want[i].Points.Equal(got[i].Points), "%s: want %s, got %s", got[i].HeadName, want[i].Points, got[i].Points)
	}
	for _, g := range got {
		if g.Household == h0.ID {
			assert.Equal(t, "0.3", g.Points.String(), "decimal-exact, never 0.30000000000000004")
		}
	}

	// Only the reversal of h1 is in this window: it counts on its own day.
	one := readTotals(t, s, villageA, "2026-03-07", "2026-03-07")
	require.Len(t, one, 3)
	for _, g := range one {
		wantPts := "0"
		if g.Household == h1.ID {
			wantPts = "1.5"
		}
		assert.Equal(t, wantPts, g.Points.String(), g.HeadName)
	}
	assert.Empty(t, readTotals(t, s, "330483999999", "2026-01-01", "2026-12-31"), "a village without households")
}

func testEvents(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)

	evs := []*evidence.Event{
		{ID: newID(t), Type: evidence.EventBlacklisted, Village: villageA, Household: h.ID, EvidenceID: newID(t),
			EffectiveOn: "2026-03-09", Time: base.Add(123)},
		{ID: newID(t), Type: evidence.EventBlacklistLifted, Village: villageA, Household: h.ID, EvidenceID: newID(t),
			EffectiveOn: "2026-03-12", Time: base.Add(time.Hour)},
		{ID: newID(t), Type: evidence.EventBlacklisted, Village: villageB, Household: "h-b", Time: base.Add(2 * time.Hour)},
	}
	require.NoError(t, s.Evidence().Write(ctx, func(tx evidence.Writer) error {
		for _, ev := range evs[:2] {
			if err := tx.AppendEvent(ctx, ev); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, s.Evidence().Write(ctx, func(tx evidence.Writer) error { return tx.AppendEvent(ctx, evs[2]) }))
	assert.Positive(t, evs[0].Seq)
	assert.Greater(t, evs[1].Seq, evs[0].Seq)
	assert.Greater(t, evs[2].Seq, evs[1].Seq)

	dup := *evs[0]
	err := s.Evidence().Write(ctx, func(tx evidence.Writer) error { return tx.AppendEvent(ctx, &dup) })
	assert.True(t, fault.Is(err, fault.AlreadyExists), "an event id is written once, got %v", err)

	read := func(after int64, limit int) []evidence.Event {
		var out []evidence.Event
		require.NoError(t, s.Evidence().Read(ctx, func(tx evidence.Reader) error {
			var err error
			out, err = tx.Events(ctx, after, limit)
			return err
		}))
		return out
	}
	all := read(0, 10)
	require.Len(t, all, 3)
	for i, got := range all {
		want := *evs[i]
		assert.True(t, want.Time.Truncate(time.Microsecond).Equal(got.Time), "time %v vs %v", want.Time, got.Time)
		assert.Equal(t, time.UTC, got.Time.Location())
		want.Time, got.Time = time.Time{}, time.Time{}
		assert.Equal(t, want, got)
	}
	next := read(evs[0].Seq, 1)
	require.Len(t, next, 1)
	assert.Equal(t, evs[1].ID, next[0].ID)
	assert.Empty(t, read(evs[2].Seq, 10))
}

func testEvidenceWriteRollsBack(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	e := newEvidence(t, h, 1)
	boom := errors.New("boom")
	err := s.Evidence().Write(ctx, func(tx evidence.Writer) error {
		if err := tx.InsertEvidence(ctx, e); err != nil {
			return err
		}
		entry := award("r1", h.ID, "4", "2026-03-10", true)
		sh := &evidence.Sheet{Household: h.ID, Entries: []points.Entry{entry}}
		if err := tx.AppendEntries(ctx, sh, sh.Entries); err != nil {
			return err
		}
		ev := &evidence.Event{ID: newID(t), Type: evidence.EventBlacklisted, Village: villageA, Household: h.ID, Time: base}
		if err := tx.AppendEvent(ctx, ev); err != nil {
			return err
		}
		if err := tx.Record(ctx, audit.Record{Time: base, Actor: "p1", Action: "evidence.submit", Subject: e.Name()}); err != nil {
			return err
		}
		// Everything is visible inside the transaction...
		sh2, err := tx.Sheet(ctx, h.ID)
		if err != nil {
			return err
		}
		assert.Equal(t, 1, sh2.Version)
		evs, err := tx.Events(ctx, 0, 10)
		if err != nil {
			return err
		}
		assert.Len(t, evs, 1)
		return boom
	})
	require.ErrorIs(t, err, boom)

	// ...and nothing after it.
	_, err = getEvidence(t, s, villageA, h.ID, e.ID)
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	sh := readSheet(t, s, h.ID)
	assert.Equal(t, 0, sh.Version)
	assert.Empty(t, sh.Entries)
	totals := readTotals(t, s, villageA, "2026-01-01", "2026-12-31")
	require.Len(t, totals, 1)
	assert.True(t, totals[0].Points.IsZero(), "the ledger row rolled back, got %s", totals[0].Points)
	require.NoError(t, s.Evidence().Read(ctx, func(tx evidence.Reader) error {
		evs, err := tx.Events(ctx, 0, 10)
		assert.Empty(t, evs)
		return err
	}))
	n, err := s.QueueLength(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)

	// The same writes then commit, the entry id included.
	require.NoError(t, appendToSheet(s, h.ID, award("r1", h.ID, "4", "2026-03-10", true)))
	insertEvidence(t, s, e)
}

// testEvidenceInsertMany stores a batch in multi-row statements (more rows
// than one statement takes), skipping taken request ids without failing.
func testEvidenceInsertMany(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	taken := newEvidence(t, h, 7)
	insertEvidence(t, s, taken)

	var batch []*evidence.Evidence
	for n := range 450 {
		batch = append(batch, newEvidence(t, h, 1000+n))
	}
	dup := newEvidence(t, h, 7) // request id taken
	batch = append(batch[:300], append([]*evidence.Evidence{dup}, batch[300:]...)...)
	var stored map[string]bool
	require.NoError(t, s.Evidence().Write(ctx, func(tx evidence.Writer) error {
		var err error
		stored, err = tx.InsertEvidences(ctx, batch)
		return err
	}))
	assert.Len(t, stored, 450)
	assert.False(t, stored[dup.ID], "a taken request id is skipped")
	assert.Zero(t, dup.Version)
	for _, e := range batch {
		if e == dup {
			continue
		}
		require.True(t, stored[e.ID])
		assert.Equal(t, 1, e.Version)
	}
	got, err := getEvidence(t, s, villageA, h.ID, batch[449].ID)
	require.NoError(t, err)
	assertSameEvidence(t, batch[449], got)
	all := listEvidence(t, s, evidence.ListQuery{Village: villageA, Limit: 1000})
	assert.Len(t, all, 451)
}

// testHouseholdSheet reads a sheet in one statement: empty before any
// entry, the entries after, NotFound for a missing household or one of
// another village.
func testHouseholdSheet(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	sh, err := s.Evidence().HouseholdSheet(ctx, villageA, h.ID)
	require.NoError(t, err)
	assert.Zero(t, sh.Version)
	assert.Empty(t, sh.Entries)

	a := award(newID(t), h.ID, "2.5", "2026-03-08", true)
	require.NoError(t, appendToSheet(s, h.ID, a))
	sh, err = s.Evidence().HouseholdSheet(ctx, villageA, h.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, sh.Version)
	assertSameEntries(t, []points.Entry{a}, sh.Entries)

	// Read again: a store may serve entries it decoded before, and they
	// must be the same; a caller appending to what it got changes nothing
	// another reader sees.
	again, err := s.Evidence().HouseholdSheet(ctx, villageA, h.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, again.Version)
	assertSameEntries(t, []points.Entry{a}, again.Entries)
	grown := append(again.Entries, award(newID(t), h.ID, "9", "2026-03-09", true))
	assert.Len(t, grown, 2)
	again, err = s.Evidence().HouseholdSheet(ctx, villageA, h.ID)
	require.NoError(t, err)
	assertSameEntries(t, []points.Entry{a}, again.Entries)

	// A write is seen by the next read. (The sheet is written by a write
	// transaction that knows nothing of what reads keep, as another
	// instance of the service would write it.)
	b := award(newID(t), h.ID, "-1", "2026-03-10", true)
	require.NoError(t, appendToSheet(s, h.ID, b))
	sh, err = s.Evidence().HouseholdSheet(ctx, villageA, h.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, sh.Version)
	assertSameEntries(t, []points.Entry{a, b}, sh.Entries)

	_, err = s.Evidence().HouseholdSheet(ctx, villageB, h.ID)
	assert.True(t, fault.Is(err, fault.NotFound), "another village's household: %v", err)
	_, err = s.Evidence().HouseholdSheet(ctx, villageA, newID(t))
	assert.True(t, fault.Is(err, fault.NotFound), "no such household: %v", err)
}
