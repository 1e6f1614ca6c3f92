package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/simulate"
)

// Loan status reports (issue 16): stored as reported, never changed,
// found by the bank's event id, listed newest first per line, and read
// with a household (or a page of them) as its repayment record.

func newStatus(l *credit.Line, seq int, event string, asOf household.Date, dpd int, principal, interest string,
	class lending.Class, defaulted bool) *credit.LoanStatus {
	return &credit.LoanStatus{
		StatusReport: lending.StatusReport{AsOf: asOf, DaysPastDue: dpd, OverduePrincipal: decimal.RequireFromString(principal),
			OverdueInterest: decimal.RequireFromString(interest), Class: class, Defaulted: defaulted},
		LineID: l.ID, Seq: seq, Bank: l.Bank, EventID: event, Village: l.Village, HouseholdID: l.HouseholdID,
		RequestHash: hashOf(seq * 7), RecordedBy: "officer-" + l.Bank, Time: base.Add(time.Duration(seq) * time.Hour),
	}
}

func insertStatuses(s Store, ss ...*credit.LoanStatus) error {
	return writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		for _, st := range ss {
			if err := tx.InsertLoanStatus(ctx, st); err != nil {
				return err
			}
		}
		return nil
	})
}

func assertSameStatus(t *testing.T, want, got *credit.LoanStatus) {
	t.Helper()
	assert.True(t, want.OverduePrincipal.Equal(got.OverduePrincipal), "principal %s vs %s", want.OverduePrincipal, got.OverduePrincipal)
	assert.True(t, want.OverdueInterest.Equal(got.OverdueInterest), "interest %s vs %s", want.OverdueInterest, got.OverdueInterest)
	sameInstant(t, want.Time, got.Time, "time")
	w, g := *want, *got
	w.OverduePrincipal, w.OverdueInterest, w.Time = decimal.Zero, decimal.Zero, time.Time{}
	g.OverduePrincipal, g.OverdueInterest, g.Time = decimal.Zero, decimal.Zero, time.Time{}
	assert.Equal(t, w, g)
}

func testLoanStatuses(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	la, _ := openLine(t, s, h, bankA, productA)
	lb, _ := openLine(t, s, h, bankB, productA)

	s1 := newStatus(la, 1, "EV-1", "2026-01-31", 0, "0", "0", lending.ClassNormal, false)
	s2 := newStatus(la, 2, "EV-2", "2026-02-28", 20, "1234.56", "7.89", lending.ClassSpecialMention, false)
	s3 := newStatus(la, 3, "EV-3", "2026-02-28", 20, "1234.56", "7.89", lending.ClassSubstandard, false)
	b1 := newStatus(lb, 1, "EV-1", "2026-02-15", 400, "30000", "0.01", lending.ClassLoss, true) // the same event id at another bank
	b1.WrittenOff = true
	require.NoError(t, insertStatuses(s, s1, s2, s3, b1))

	for _, want := range []*credit.LoanStatus{s1, s2, s3, b1} {
		got, err := readLending(s, func(tx credit.Reader) (*credit.LoanStatus, error) {
			return tx.LoanStatus(ctx, want.Bank, want.EventID)
		})
		require.NoError(t, err)
		assertSameStatus(t, want, got)
	}
	_, err := readLending(s, func(tx credit.Reader) (*credit.LoanStatus, error) { return tx.LoanStatus(ctx, bankB, "EV-2") })
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)

	// Newest first, paged by seq.
	seqs := func(before, limit int) []int {
		t.Helper()
		ss, err := readLending(s, func(tx credit.Reader) ([]*credit.LoanStatus, error) {
			return tx.LineStatuses(ctx, la.ID, before, limit)
		})
		require.NoError(t, err)
		var out []int
		for _, st := range ss {
			out = append(out, st.Seq)
		}
		return out
	}
	assert.Equal(t, []int{3, 2, 1}, seqs(0, 10))
	assert.Equal(t, []int{3}, seqs(0, 1))
	assert.Equal(t, []int{2, 1}, seqs(3, 10))
	assert.Empty(t, seqs(1, 10))

	// A repeated event id of the bank, or a line's seq taken twice, is
	// refused and the stored report stays; the transaction goes on (the
	// caller reads the stored report to answer a retry).
	dupEvent := newStatus(la, 4, "EV-2", "2026-03-31", 0, "0", "0", lending.ClassNormal, false)
	dupSeq := newStatus(la, 3, "EV-9", "2026-03-31", 0, "0", "0", lending.ClassNormal, false)
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		for _, d := range []*credit.LoanStatus{dupEvent, dupSeq} {
			if err := tx.InsertLoanStatus(ctx, d); !fault.Is(err, fault.AlreadyExists) {
				return fmt.Errorf("event %s seq %d: want AlreadyExists, got %w", d.EventID, d.Seq, err)
			}
		}
		stored, err := tx.LoanStatus(ctx, bankA, "EV-2")
		if err != nil {
			return err
		}
		if stored.DaysPastDue != 20 {
			return fmt.Errorf("stored report changed: %d days", stored.DaysPastDue)
		}
		return nil
	}))
	assert.Equal(t, []int{3, 2, 1}, seqs(0, 10))

	// The engine itself refuses a negative amount, a bad class and days
	// out of range, and more places than whole fen.
	for i, bad := range []func(*credit.LoanStatus){
		func(st *credit.LoanStatus) { st.OverduePrincipal = decimal.NewFromInt(-1) },
		func(st *credit.LoanStatus) { st.OverdueInterest = decimal.RequireFromString("-0.01") },
		func(st *credit.LoanStatus) { st.Class = "AAA" },
		func(st *credit.LoanStatus) { st.DaysPastDue = -3 },
	} {
		st := newStatus(la, 10+i, fmt.Sprintf("BAD-%d", i), "2026-03-31", 0, "0", "0", lending.ClassNormal, false)
		bad(st)
		assert.Error(t, insertStatuses(s, st), "bad report %d", i)
	}
	frac := newStatus(la, 20, "FRAC", "2026-03-31", 3, "1.001", "0", lending.ClassNormal, false)
	err = insertStatuses(s, frac)
	assert.True(t, fault.Is(err, fault.Invalid), "got %v", err)
	assert.Equal(t, []int{3, 2, 1}, seqs(0, 10), "nothing written")

	// Drawdowns after an instant (a new loan after a settlement);
	// repayments do not count.
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		if err := tx.InsertTransaction(ctx, &credit.Transaction{Bank: bankA, ID: "TX-R", LineID: la.ID, Kind: credit.Repayment,
			Amount: decimal.NewFromInt(5), RequestHash: hashOf(1), DrawnAfter: decimal.Zero, RecordedBy: "o", Time: base.Add(3 * time.Hour)}); err != nil {
			return err
		}
		return tx.InsertTransaction(ctx, &credit.Transaction{Bank: bankA, ID: "TX-D", LineID: la.ID, Kind: credit.Drawdown,
			Amount: decimal.NewFromInt(5), Use: lending.UseAgriculture, RequestHash: hashOf(2), DrawnAfter: decimal.NewFromInt(5),
			RecordedBy: "o", Time: base.Add(2 * time.Hour)})
	}))
	for _, c := range []struct {
		since time.Time
		want  bool
	}{{base, true}, {base.Add(2*time.Hour - time.Microsecond), true}, {base.Add(2 * time.Hour), false}, {base.Add(4 * time.Hour), false}} {
		got, err := readLending(s, func(tx credit.Reader) (bool, error) { return tx.DrawnSince(ctx, la.ID, c.since) })
		require.NoError(t, err)
		assert.Equal(t, c.want, got, "since %v", c.since)
	}
	got, err := readLending(s, func(tx credit.Reader) (bool, error) { return tx.DrawnSince(ctx, lb.ID, base) })
	require.NoError(t, err)
	assert.False(t, got)
}

// A household read for an assessment carries its members and the reports
// of its lines at every bank (none of another household's); a
// re-assessment page and a simulation's population carry them too.
func testLoanStatusInputs(t *testing.T, s Store) {
	ctx := context.Background()
	h := withMembers(newHousehold(t, villageA, 1), 3)
	other := newHousehold(t, villageA, 2)
	insert(t, s, h)
	insert(t, s, other)
	la, _ := openLine(t, s, h, bankA, productA)
	lb, _ := openLine(t, s, h, bankB, productA)
	lo, _ := openLine(t, s, other, bankA, productA)
	require.NoError(t, insertStatuses(s,
		newStatus(la, 1, "A-1", "2026-01-31", 0, "0", "0", lending.ClassNormal, false),
		newStatus(lo, 1, "O-1", "2026-01-31", 200, "100", "0", lending.ClassDoubtful, true),
		newStatus(lb, 1, "B-1", "2026-02-10", 95, "5000", "12.5", lending.ClassSubstandard, true),
		newStatus(la, 2, "A-2", "2026-02-28", 20, "800", "0", lending.ClassSpecialMention, false),
	))
	wantH := []lending.LineStatus{}
	for _, l := range []*credit.Line{la, lb} {
		ss, err := readLending(s, func(tx credit.Reader) ([]*credit.LoanStatus, error) { return tx.LineStatuses(ctx, l.ID, 0, 10) })
		require.NoError(t, err)
		for i := len(ss) - 1; i >= 0; i-- {
			wantH = append(wantH, lending.LineStatus{Line: l.ID, StatusReport: ss[i].StatusReport})
		}
	}
	if lb.ID < la.ID { // by line, then in the order recorded
		wantH = append(wantH[2:], wantH[:2]...)
	}
	sameStatuses := func(want, got []lending.LineStatus) {
		t.Helper()
		require.Len(t, got, len(want))
		for i := range want {
			assert.Equal(t, want[i].Line, got[i].Line, "report %d", i)
			assert.Equal(t, want[i].AsOf, got[i].AsOf, "report %d", i)
			assert.True(t, want[i].Overdue().Equal(got[i].Overdue()), "report %d", i)
			w, g := want[i], got[i]
			w.OverduePrincipal, w.OverdueInterest, g.OverduePrincipal, g.OverdueInterest = decimal.Zero, decimal.Zero, decimal.Zero, decimal.Zero
			assert.Equal(t, w, g, "report %d", i)
		}
	}

	c, err := readLending(s, func(tx credit.Reader) (*credit.Candidate, error) { return tx.AssessInput(ctx, villageA, h.ID) })
	require.NoError(t, err)
	sameStatuses(wantH, c.Statuses)
	assert.Equal(t, h.Members, c.Household.Members)
	rec := lending.Record(c.Statuses, "2026-03-01")
	assert.Equal(t, 95, rec.OverdueDaysMax12m)
	assert.True(t, rec.Defaulted24m)
	assert.Equal(t, "substandard", rec.Classification)

	c, err = readLending(s, func(tx credit.Reader) (*credit.Candidate, error) { return tx.AssessInput(ctx, villageA, other.ID) })
	require.NoError(t, err)
	require.Len(t, c.Statuses, 1)
	assert.Equal(t, lo.ID, c.Statuses[0].Line)
	assert.Equal(t, []household.Member(nil), c.Household.Members, "no member rows stored for it")

	// A re-assessment page of bank A's consenting households.
	at := base.Add(time.Hour)
	insertConsents(t, s, newConsent(t, h, bankA, base, base.AddDate(1, 0, 0), lending.PurposeAssessment),
		newConsent(t, other, bankA, base, base.AddDate(1, 0, 0), lending.PurposeAssessment))
	cands, err := readLending(s, func(tx credit.Reader) ([]*credit.Candidate, error) {
		return tx.ReassessCandidates(ctx, bankA, at, "", 10)
	})
	require.NoError(t, err)
	require.Len(t, cands, 2)
	for _, cand := range cands {
		if cand.Household.ID == h.ID {
			sameStatuses(wantH, cand.Statuses)
			assert.Equal(t, h.Members, cand.Household.Members)
		} else {
			require.Len(t, cand.Statuses, 1)
			assert.Equal(t, lo.ID, cand.Statuses[0].Line)
			assert.Equal(t, 200, cand.Statuses[0].DaysPastDue)
		}
	}

	// The simulation's population: each row's record as of its day, and
	// none without a day.
	rows := map[string]*simulate.Row{}
	require.NoError(t, s.Population(ctx, sqlstore.PopulationQuery{Day: "2026-03-01"}, func(r *simulate.Row) error {
		rows[r.Household.ID] = r
		return nil
	}))
	assert.Equal(t, rec, rows[h.ID].Repayment)
	assert.Equal(t, "doubtful", rows[other.ID].Repayment.Classification)
	require.NoError(t, s.Population(ctx, sqlstore.PopulationQuery{}, func(r *simulate.Row) error {
		assert.Zero(t, r.Repayment, r.Household.ID)
		return nil
	}))
}

// A line and its decision keep the applicant member and the review day
// through insert, update and a re-assessment page's upsert.
func testLineApplicantAndReview(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	l, d := openLine(t, s, h, bankA, productA)
	got, err := readLending(s, func(tx credit.Reader) (*credit.Line, error) { return tx.LineByID(ctx, l.ID) })
	require.NoError(t, err)
	assert.Equal(t, int32(2), got.ApplicantMember)
	assert.Equal(t, household.Date("2026-09-01"), got.ReviewOn)
	gd, err := readLending(s, func(tx credit.Reader) (*credit.Decision, error) { return tx.Decision(ctx, d.ID) })
	require.NoError(t, err)
	assert.Equal(t, int32(2), gd.ApplicantMember)
	assert.Equal(t, household.Date("2026-09-01"), gd.ReviewOn)

	// Updated to the head and no review (a policy under
	// decision_valid_days): NULL, read back as "".
	next := *got
	next.ApplicantMember, next.ReviewOn, next.Version = 1, "", got.Version+1
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		return tx.UpdateLine(ctx, &next, got.Version)
	}))
	got, err = readLending(s, func(tx credit.Reader) (*credit.Line, error) { return tx.LineByID(ctx, l.ID) })
	require.NoError(t, err)
	assert.Equal(t, int32(1), got.ApplicantMember)
	assert.Empty(t, got.ReviewOn)

	// A decision made before members existed (applicant 0 in memory) is
	// stored as the head's.
	d0 := newDecision(t, h, bankA, productA)
	d0.ApplicantMember, d0.ReviewOn = 0, ""
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.InsertDecision(ctx, d0) }))
	gd, err = readLending(s, func(tx credit.Reader) (*credit.Decision, error) { return tx.Decision(ctx, d0.ID) })
	require.NoError(t, err)
	assert.Equal(t, int32(1), gd.ApplicantMember)
	assert.Empty(t, gd.ReviewOn)
}

// The lines whose review day has come, of households whose line's bank
// has a live consent: what the re-assessor marks for a yearly review.
func testReviewsDue(t *testing.T, s Store) {
	ctx := context.Background()
	at := base.Add(time.Hour)
	today := household.Date("2026-03-01")
	type lineCase struct {
		review  household.Date
		status  lending.Status
		consent string // the bank of the household's live consent, "" none
		want    bool
	}
	cases := []lineCase{
		{"2026-02-28", lending.StatusActive, bankA, true},
		{"2026-03-01", lending.StatusFrozen, bankA, true}, // due today; a frozen line is reviewed too
		{"2026-03-02", lending.StatusActive, bankA, false},
		{"", lending.StatusActive, bankA, false}, // no review period
		{"2026-01-01", lending.StatusClosed, bankA, false},
		{"2026-01-01", lending.StatusActive, bankB, false}, // consent of another bank only
		{"2026-01-01", lending.StatusActive, "", false},
	}
	var want []string
	for i, c := range cases {
		h := newHousehold(t, villageA, i+1)
		insert(t, s, h)
		d := newDecision(t, h, bankA, productA)
		d.ReviewOn = c.review
		l := newLine(t, d)
		l.Status = c.status
		require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
			if err := tx.InsertDecision(ctx, d); err != nil {
				return err
			}
			return tx.InsertLine(ctx, l)
		}))
		if c.consent != "" {
			insertConsents(t, s, newConsent(t, h, c.consent, base, base.AddDate(1, 0, 0), lending.PurposePostLoan))
		}
		if c.want {
			want = append(want, h.ID)
		}
	}
	slices.Sort(want)
	got, err := readLending(s, func(tx credit.Reader) ([]string, error) { return tx.ReviewsDue(ctx, today, at, 10) })
	require.NoError(t, err)
	assert.Equal(t, want, got)
	got, err = readLending(s, func(tx credit.Reader) ([]string, error) { return tx.ReviewsDue(ctx, today, at, 1) })
	require.NoError(t, err)
	assert.Equal(t, want[:1], got)
	// A year on, the consents have expired: nothing to review.
	got, err = readLending(s, func(tx credit.Reader) ([]string, error) {
		return tx.ReviewsDue(ctx, "2027-03-02", base.AddDate(1, 0, 1), 10)
	})
	require.NoError(t, err)
	assert.Empty(t, got)
}
