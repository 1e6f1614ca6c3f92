package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// The bulk port of batch re-assessment: ReassessCandidates, LockPage and
// WritePage. As elsewhere, callbacks return errors and never assert.

// testReassessCandidates: the bank's live-consent households, each once, in
// id order, page after page, with facts, sheet, listings and every line.
func testReassessCandidates(t *testing.T, s Store) {
	ctx := context.Background()
	now := base
	year := base.AddDate(1, 0, 0)
	type want struct {
		entries  []points.Entry
		listings []string
		lines    []string
	}
	wants := map[string]*want{}
	var live []string
	for n := 1; n <= 7; n++ {
		village := map[bool]string{true: villageA, false: villageB}[n%2 == 1]
		h := newHousehold(t, village, n)
		insert(t, s, h)
		w := &want{}
		switch n {
		case 1, 2, 5, 7:
			insertConsents(t, s, newConsent(t, h, bankA, now.Add(-time.Hour), year, lending.PurposeAssessment))
			live = append(live, h.ID)
			wants[h.ID] = w
		case 3: // revoked
			c := newConsent(t, h, bankA, now.Add(-time.Hour), year, lending.PurposeAssessment)
			c.RevokeTime = &now
			insertConsents(t, s, c)
		case 4: // another bank only
			insertConsents(t, s, newConsent(t, h, bankB, now.Add(-time.Hour), year, lending.PurposePostLoan))
		}
		if n == 5 { // a second live consent: still listed once
			c := newConsent(t, h, bankA, now.Add(-time.Minute), year, lending.PurposePostLoan)
			c.AuthorisationHash = hashOf(99)
			insertConsents(t, s, c)
		}
		if n%2 == 1 {
			es := []points.Entry{award(fmt.Sprintf("re-%d", n), h.ID, "7.5", "2026-02-20", true)}
			require.NoError(t, appendToSheet(s, h.ID, es...))
			w.entries = es
			star := newEvidence(t, h, 5000+n)
			star.Kind, star.ItemCode, star.Quantity, star.CatalogueHash = evidence.StarRating, "", 0, ""
			star.Level, star.Stars, star.ValidUntil = evidence.LevelVillage, 3, "2027-12-31"
			star.State, star.NoticeStart, star.NoticeEnd = evidence.Posted, "2026-02-01", "2026-02-08"
			insertEvidence(t, s, star)
			insertEvidence(t, s, newEvidence(t, h, 6000+n)) // pending points evidence: not read
			w.listings = []string{star.ID}
		}
		// Lines at both banks, on live and other households alike.
		if n <= 4 {
			l, _ := openLine(t, s, h, bankB, productA)
			w.lines = append(w.lines, l.ID)
		}
		if n == 2 || n == 3 {
			l, _ := openLine(t, s, h, bankA, productB)
			w.lines = append(w.lines, l.ID)
		}
		slices.Sort(w.lines)
	}
	slices.Sort(live)

	var got []*credit.Candidate
	after := ""
	for range 10 {
		page, err := readLending(s, func(tx credit.Reader) ([]*credit.Candidate, error) {
			return tx.ReassessCandidates(ctx, bankA, now, after, 2)
		})
		require.NoError(t, err)
		got = append(got, page...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].Household.ID
	}
	var ids []string
	for _, c := range got {
		ids = append(ids, c.Household.ID)
	}
	require.Equal(t, live, ids, "live households of the bank, each once, in id order")
	for _, c := range got {
		w := wants[c.Household.ID]
		assert.NotEmpty(t, c.Household.HeadName)
		assert.Equal(t, int64(1), c.Household.Facts.Version)
		assert.Equal(t, "86000.50", c.Household.Facts.AnnualIncome.StringFixed(2))
		assertSameEntries(t, w.entries, c.Entries)
		var listings, lines []string
		for _, e := range c.Listings {
			listings = append(listings, e.ID)
		}
		for _, l := range c.Lines {
			assert.Equal(t, c.Household.ID, l.HouseholdID)
			assert.Equal(t, credit.HouseholdRef{Village: l.Village, ID: l.HouseholdID}.Name(), l.Household)
			lines = append(lines, l.ID)
		}
		assert.Equal(t, w.listings, listings, "posted and revoked listings only")
		assert.Equal(t, w.lines, lines, "every line, all banks, in id order")
	}

	none, err := readLending(s, func(tx credit.Reader) ([]*credit.Candidate, error) {
		return tx.ReassessCandidates(ctx, bankA, now, live[len(live)-1], 5)
	})
	require.NoError(t, err)
	assert.Empty(t, none)
}

// testReassessWritePage: LockPage returns the page's lines and live
// households; WritePage writes decisions, new and updated lines (never
// drawn), consecutive events and the run's progress, compare-and-set on
// the cursor and on each line's version, all or nothing.
func testReassessWritePage(t *testing.T, s Store) {
	ctx := context.Background()
	now := base
	year := base.AddDate(1, 0, 0)
	var hs []*household.Household
	for n := 1; n <= 3; n++ {
		h := newHousehold(t, villageA, n)
		insert(t, s, h)
		insertConsents(t, s, newConsent(t, h, bankA, now.Add(-time.Hour), year, lending.PurposeAssessment))
		hs = append(hs, h)
	}
	slices.SortFunc(hs, func(a, b *household.Household) int { return strings.Compare(a.ID, b.ID) })
	outsider := newHousehold(t, villageA, 9) // no consent
	insert(t, s, outsider)

	// hs[0]: an active line with money drawn; hs[1]: none; hs[2]: frozen.
	drawnLine, _ := openLine(t, s, hs[0], bankA, productA)
	drawn := *drawnLine
	drawn.Drawn, drawn.Version = decimal.RequireFromString("100.00"), 2
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.UpdateLine(ctx, &drawn, 1) }))
	frozen, _ := openLine(t, s, hs[2], bankA, productA)
	fz := *frozen
	fz.Line = lending.Freeze(fz.Line, "blacklisted")
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.UpdateLine(ctx, &fz, 1) }))
	other, _ := openLine(t, s, hs[1], bankB, productA) // another bank's line, read and locked too

	run := &credit.Run{ID: newID(t), Bank: bankA, Product: productA, PolicyVersion: 2, State: credit.RunRunning,
		Total: 3, StartedBy: "risk", StartTime: base, UpdateTime: base}
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.InsertRun(ctx, run) }))

	ids := []string{hs[0].ID, hs[1].ID, hs[2].ID, outsider.ID}
	var live []string
	var locked []*credit.Line
	require.NoError(t, s.Lending().Locked(ctx, func(tx credit.Writer) error {
		var err error
		live, locked, err = tx.LockPage(ctx, bankA, now, ids)
		return err
	}))
	assert.Equal(t, []string{hs[0].ID, hs[1].ID, hs[2].ID}, live, "the outsider has no consent")
	wantLocked := []*credit.Line{&drawn, other, &fz}
	slices.SortFunc(wantLocked, func(a, b *credit.Line) int {
		if c := strings.Compare(a.HouseholdID, b.HouseholdID); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	require.Equal(t, lineIDs(wantLocked), lineIDs(locked), "(household, id) order")
	for i := range locked {
		assert.Equal(t, wantLocked[i].Version, locked[i].Version)
	}

	// Plans as the service makes them.
	plan := func(h *household.Household, cur *credit.Line, limit string) *credit.Plan {
		d := newDecision(t, h, bankA, productA)
		d.Limit = decimal.RequireFromString(limit)
		p := &credit.Plan{Decision: d, Opened: cur == nil}
		if cur == nil {
			p.Line = newLine(t, d)
		} else {
			next := *cur
			next.Limit, next.DecisionID, next.Version, next.UpdateTime = d.Limit, d.ID, cur.Version+1, base.Add(time.Hour)
			next.Drawn = decimal.Zero // must not be written
			p.Line, p.PrevVersion = &next, cur.Version
		}
		p.Event = &credit.LineEvent{Bank: bankA, ID: newID(t), Type: credit.EventLineUpdated, LineID: p.Line.ID,
			Village: h.Village, HouseholdID: h.ID, Payload: []byte(`{"n":1}`), Time: base}
		return p
	}
	plans := []*credit.Plan{plan(hs[0], &drawn, "5000.00"), plan(hs[1], nil, "6000.00"), plan(hs[2], &fz, "0")}
	plans[2].Line.Status = lending.StatusFrozen
	// A line with no review date (NULL) beside lines with one, and an
	// applicant other than the head.
	plans[1].Line.ReviewOn, plans[1].Line.ApplicantMember = "", 3
	next := *run
	next.Cursor, next.Done, next.UpdateTime = outsider.ID, 4, base.Add(time.Minute)
	writePage := func(p *credit.Page) error {
		return s.Lending().Locked(ctx, func(tx credit.Writer) error { return tx.WritePage(ctx, p) })
	}
	require.NoError(t, writePage(&credit.Page{Run: &next, PrevCursor: "", Plans: plans}))
	for i, p := range plans {
		assert.Equal(t, int64(i+1), p.Event.Seq, "consecutive seqs")
	}

	for _, p := range plans {
		d, err := readLending(s, func(tx credit.Reader) (*credit.Decision, error) { return tx.Decision(ctx, p.Decision.ID) })
		require.NoError(t, err)
		assertSameDecision(t, p.Decision, d)
	}
	line := func(h *household.Household) *credit.Line {
		l, err := readLending(s, func(tx credit.Reader) (*credit.Line, error) { return tx.Line(ctx, bankA, productA, h.ID) })
		require.NoError(t, err)
		return l
	}
	l0 := line(hs[0])
	assert.Equal(t, "5000.00", l0.Limit.StringFixed(2))
	assert.Equal(t, "100.00", l0.Drawn.StringFixed(2), "drawn is never written")
	assert.Equal(t, 3, l0.Version)
	assert.Equal(t, plans[0].Decision.ID, l0.DecisionID)
	require.NotEmpty(t, plans[0].Line.ReviewOn)
	assert.Equal(t, plans[0].Line.ReviewOn, l0.ReviewOn, "review date")
	assert.Equal(t, plans[0].Line.ApplicantMember, l0.ApplicantMember)
	sameInstant(t, drawn.OpenTime, l0.OpenTime, "open time kept")
	sameInstant(t, base.Add(time.Hour), l0.UpdateTime, "update time")
	assertSameLine(t, plans[1].Line, line(hs[1]))
	l2 := line(hs[2])
	assert.Equal(t, lending.StatusFrozen, l2.Status)
	assert.Equal(t, "blacklisted", l2.FreezeReason)
	evs, err := readLending(s, func(tx credit.Reader) ([]*credit.LineEvent, error) { return tx.LineEvents(ctx, bankA, 0, 10) })
	require.NoError(t, err)
	require.Len(t, evs, 3)
	for i, e := range evs {
		assert.Equal(t, plans[i].Event.ID, e.ID)
		assert.Equal(t, `{"n":1}`, string(e.Payload))
	}
	gotRun, err := readLending(s, func(tx credit.Reader) (*credit.Run, error) { return tx.Run(ctx, run.ID) })
	require.NoError(t, err)
	assert.Equal(t, outsider.ID, gotRun.Cursor)
	assert.Equal(t, int64(4), gotRun.Done)
	assert.Equal(t, credit.RunRunning, gotRun.State)

	decisions := func() int {
		n := 0
		for _, h := range hs {
			ds, err := readLending(s, func(tx credit.Reader) ([]*credit.Decision, error) {
				return tx.Decisions(ctx, h.ID, bankA, "", 100)
			})
			require.NoError(t, err)
			n += len(ds)
		}
		return n
	}
	stored := decisions()

	// A page that is fine but for the run: another process moved the
	// cursor. Nothing of it is kept.
	again := plan(hs[2], l2, "0")
	again.Line.Status = lending.StatusFrozen
	err = writePage(&credit.Page{Run: &next, PrevCursor: "", Plans: []*credit.Plan{again}})
	assert.Equal(t, credit.ReasonRunChanged, reasonOf(err), "got %v", err)
	assert.True(t, fault.Is(err, fault.FailedPrecondition))
	assert.Equal(t, l2.Version, line(hs[2]).Version)

	// A stale line version, or a line that exists already: nothing of the
	// page is kept, the run's move included.
	moved := next
	moved.Cursor, moved.Done = "ffffffff", 5
	for name, bad := range map[string]*credit.Plan{
		"stale version": plan(hs[0], &drawn, "7000.00"),
		"line exists":   plan(hs[1], nil, "7000.00"),
	} {
		fresh := plan(hs[2], l2, "0")
		fresh.Line.Status = lending.StatusFrozen
		err := writePage(&credit.Page{Run: &moved, PrevCursor: next.Cursor, Plans: []*credit.Plan{fresh, bad}})
		assert.Equal(t, credit.ReasonConcurrentChange, reasonOf(err), "%s: got %v", name, err)
		assert.Equal(t, 3, line(hs[0]).Version, name)
		assert.Equal(t, l2.Version, line(hs[2]).Version, name)
	}
	// A line naming a decision that is not stored, opened or updated:
	// nothing of the page is kept.
	for name, bad := range map[string]*credit.Plan{
		"opened": plan(outsider, nil, "100.00"),
		"updated": func() *credit.Plan {
			p := plan(hs[2], l2, "0")
			p.Line.Status = lending.StatusFrozen
			return p
		}(),
	} {
		bad.Line.DecisionID = newID(t)
		err := writePage(&credit.Page{Run: &moved, PrevCursor: next.Cursor, Plans: []*credit.Plan{bad}})
		assert.Error(t, err, name)
		assert.Equal(t, l2.Version, line(hs[2]).Version, name)
		_, err = readLending(s, func(tx credit.Reader) (*credit.Line, error) { return tx.Line(ctx, bankA, productA, outsider.ID) })
		assert.True(t, fault.Is(err, fault.NotFound), "%s: got %v", name, err)
	}
	assert.Equal(t, stored, decisions(), "rolled back decisions are gone")
	gotRun, err = readLending(s, func(tx credit.Reader) (*credit.Run, error) { return tx.Run(ctx, run.ID) })
	require.NoError(t, err)
	assert.Equal(t, outsider.ID, gotRun.Cursor, "the run did not move")

	// Turn runs between the lines and the events; its error ends the
	// page.
	stop := errors.New("the page before failed")
	turned := 0
	waiting := plan(hs[2], l2, "0")
	waiting.Line.Status = lending.StatusFrozen
	err = writePage(&credit.Page{Run: &moved, PrevCursor: next.Cursor, Plans: []*credit.Plan{waiting},
		Turn: func(context.Context) error { turned++; return stop }})
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 1, turned)
	assert.Zero(t, waiting.Event.Seq, "no seq taken before the turn")
	assert.Equal(t, l2.Version, line(hs[2]).Version)

	// A page without plans only moves the run, and may end it.
	end := next
	end.State, end.UpdateTime = credit.RunDone, base.Add(2*time.Minute)
	require.NoError(t, writePage(&credit.Page{Run: &end, PrevCursor: next.Cursor}))
	gotRun, err = readLending(s, func(tx credit.Reader) (*credit.Run, error) { return tx.Run(ctx, run.ID) })
	require.NoError(t, err)
	assert.Equal(t, credit.RunDone, gotRun.State)
	err = writePage(&credit.Page{Run: &end, PrevCursor: next.Cursor})
	assert.Equal(t, credit.ReasonRunChanged, reasonOf(err), "an ended run does not move: got %v", err)
	ghost := end
	ghost.ID = newID(t)
	err = writePage(&credit.Page{Run: &ghost})
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
}

// testReassessLockPageBlocks: a line locked by a page is locked for a
// household's own money transaction too, which waits for the page to
// commit and then sees its write.
func testReassessLockPageBlocks(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	l, _ := openLine(t, s, h, bankA, productA)
	locked := make(chan struct{})
	var wg sync.WaitGroup
	var pageErr error
	var committed time.Time
	wg.Go(func() {
		pageErr = s.Lending().Locked(ctx, func(tx credit.Writer) error {
			_, lines, err := tx.LockPage(ctx, bankA, base, []string{h.ID})
			if err != nil {
				return err
			}
			if len(lines) != 1 {
				return fmt.Errorf("locked %d lines, want 1", len(lines))
			}
			select {
			case <-locked:
			default:
				close(locked)
			}
			time.Sleep(150 * time.Millisecond)
			next := *lines[0]
			next.Limit, next.Version = decimal.RequireFromString("1.00"), lines[0].Version+1
			committed = time.Now()
			return tx.UpdateLine(ctx, &next, lines[0].Version)
		})
	})
	<-locked
	var seen *credit.Line
	err := s.Lending().Locked(ctx, func(tx credit.Writer) error {
		lines, err := tx.LockHouseholdLines(ctx, h.ID)
		if err != nil {
			return err
		}
		if len(lines) != 1 {
			return fmt.Errorf("locked %d lines, want 1", len(lines))
		}
		seen = lines[0]
		return nil
	})
	wg.Wait()
	require.NoError(t, pageErr)
	require.NoError(t, err)
	assert.False(t, committed.IsZero())
	assert.Equal(t, l.Version+1, seen.Version, "the household's lock waited for the page and read its write")
	assert.Equal(t, "1.00", seen.Limit.StringFixed(2))
}
