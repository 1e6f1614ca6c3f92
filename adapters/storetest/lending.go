package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// The lending port. Callbacks never call require (t.FailNow inside a
// transaction would leave it open); they return errors, asserted outside.

// readLending runs fn in a read transaction and returns what it returned.
func readLending[T any](s Store, fn func(credit.Reader) (T, error)) (T, error) {
	var out T
	err := s.Lending().Read(context.Background(), func(tx credit.Reader) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}

func writeLending(s Store, fn func(ctx context.Context, tx credit.Writer) error) error {
	ctx := context.Background()
	return s.Lending().Write(ctx, func(tx credit.Writer) error { return fn(ctx, tx) })
}

// reasonOf is the fault reason of err, "" when it is not a fault.
func reasonOf(err error) string {
	var f *fault.Error
	if errors.As(err, &f) {
		return f.Reason
	}
	return ""
}

// hashOf is a valid lower-case SHA-256 in hex, varied by n.
func hashOf(n int) string { return fmt.Sprintf("%064x", n) }

func newConsent(t *testing.T, h *household.Household, bank string, grant, expire time.Time, purposes ...lending.Purpose) *lending.Consent {
	t.Helper()
	return &lending.Consent{
		ID: newID(t), Household: h.Name(), Bank: bank, Purposes: purposes,
		GrantTime: grant, Expires: expire, Channel: lending.ChannelApp,
		AuthorisationHash: hashOf(int(grant.Unix())), RecordedBy: "household-" + h.ID[:8],
		State: lending.ConsentGranted,
	}
}

func insertConsents(t *testing.T, s Store, cs ...*lending.Consent) {
	t.Helper()
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		for _, c := range cs {
			if err := tx.InsertConsent(ctx, c); err != nil {
				return err
			}
		}
		return nil
	}))
}

// newDecision builds an automated decision with every field set.
func newDecision(t *testing.T, h *household.Household, bank, product string) *credit.Decision {
	t.Helper()
	return &credit.Decision{
		ID: newID(t), Bank: bank, Product: product, Village: h.Village, HouseholdID: h.ID,
		Kind: credit.Automated, PolicyVersion: 3, PolicyHash: hashOf(3), InputHash: hashOf(4),
		On: "2026-03-01", ValidUntil: "2027-03-01", ReviewOn: "2026-09-01", ApplicantMember: 2,
		Eligible: true, Score: 87, Bins: []int{2, 0, 1}, Grade: "AA",
		Limit: decimal.RequireFromString("123456.78"), Rate: decimal.RequireFromString("0.0435"),
		ExposureCap: decimal.RequireFromString("300000.00"),
		Explanation: credit.Explanation{
			Reasons: []credit.Text{
				{Code: "POINTS_HIGH", ZH: "三治积分 920 分，高于 800 分", EN: "governance points 920, above 800"},
				{Code: "STAR_5", ZH: "五星级文明户", EN: "five-star household"},
			},
			Counterfactuals: []credit.Text{{Code: "MORE_POINTS", ZH: "再得 80 分可提额", EN: "80 more points raise the limit"}},
		},
		Input:     `{"points":"920","stars":5}`,
		DecidedBy: "system", Time: base.Add(123),
	}
}

// newLine builds an active line of d, version 1.
func newLine(t *testing.T, d *credit.Decision) *credit.Line {
	t.Helper()
	return &credit.Line{
		Line: lending.Line{
			ID: newID(t), Bank: d.Bank, Limit: d.Limit, Drawn: decimal.Zero, Rate: d.Rate,
			Status: lending.StatusActive, ValidUntil: d.ValidUntil, ReviewOn: d.ReviewOn, DecisionID: d.ID, Version: 1,
		},
		Product: d.Product, Village: d.Village, HouseholdID: d.HouseholdID, ApplicantMember: d.ApplicantMember,
		ExposureCap: d.ExposureCap, OpenTime: base.Add(456), UpdateTime: base.Add(456),
	}
}

// OpenLine stores a household, a decision and the line it opens, for an
// engine's own tests, and returns the line's and the decision's ids.
func OpenLine(t *testing.T, s Store) (lineID, decisionID string) {
	t.Helper()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	l, d := openLine(t, s, h, bankA, productA)
	return l.ID, d.ID
}

// openLine stores a decision and the line it opens.
func openLine(t *testing.T, s Store, h *household.Household, bank, product string) (*credit.Line, *credit.Decision) {
	t.Helper()
	d := newDecision(t, h, bank, product)
	l := newLine(t, d)
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		if err := tx.InsertDecision(ctx, d); err != nil {
			return err
		}
		return tx.InsertLine(ctx, l)
	}))
	return l, d
}

// sameInstant compares instants at the stored precision and requires UTC.
func sameInstant(t *testing.T, want, got time.Time, what string) {
	t.Helper()
	assert.True(t, want.Truncate(time.Microsecond).Equal(got), "%s: want %v, got %v", what, want, got)
	assert.Equal(t, time.UTC, got.Location(), what)
}

func assertSameConsent(t *testing.T, want, got *lending.Consent) {
	t.Helper()
	w, g := *want, *got
	sameInstant(t, w.GrantTime, g.GrantTime, "grant time")
	sameInstant(t, w.Expires, g.Expires, "expire time")
	if w.RevokeTime == nil {
		assert.Nil(t, g.RevokeTime)
	} else if assert.NotNil(t, g.RevokeTime) {
		sameInstant(t, *w.RevokeTime, *g.RevokeTime, "revoke time")
	}
	if w.ConfirmTime == nil {
		assert.Nil(t, g.ConfirmTime)
	} else if assert.NotNil(t, g.ConfirmTime) {
		sameInstant(t, *w.ConfirmTime, *g.ConfirmTime, "confirm time")
	}
	w.GrantTime, w.Expires, w.RevokeTime, w.ConfirmTime = time.Time{}, time.Time{}, nil, nil
	g.GrantTime, g.Expires, g.RevokeTime, g.ConfirmTime = time.Time{}, time.Time{}, nil, nil
	assert.Equal(t, w, g)
}

func assertSameDecision(t *testing.T, want, got *credit.Decision) {
	t.Helper()
	w, g := *want, *got
	for _, m := range []struct {
		name      string
		want, got decimal.Decimal
	}{{"limit", w.Limit, g.Limit}, {"rate", w.Rate, g.Rate}, {"exposure cap", w.ExposureCap, g.ExposureCap}} {
		assert.True(t, m.want.Equal(m.got), "%s: want %s, got %s", m.name, m.want, m.got)
	}
	sameInstant(t, w.Time, g.Time, "decision time")
	w.Limit, w.Rate, w.ExposureCap, w.Time = decimal.Zero, decimal.Zero, decimal.Zero, time.Time{}
	g.Limit, g.Rate, g.ExposureCap, g.Time = decimal.Zero, decimal.Zero, decimal.Zero, time.Time{}
	assert.Equal(t, w, g)
}

func assertSameLine(t *testing.T, want, got *credit.Line) {
	t.Helper()
	w, g := *want, *got
	for _, m := range []struct {
		name      string
		want, got decimal.Decimal
	}{{"limit", w.Limit, g.Limit}, {"drawn", w.Drawn, g.Drawn}, {"rate", w.Rate, g.Rate}, {"exposure cap", w.ExposureCap, g.ExposureCap}} {
		assert.True(t, m.want.Equal(m.got), "%s: want %s, got %s", m.name, m.want, m.got)
	}
	sameInstant(t, w.OpenTime, g.OpenTime, "open time")
	sameInstant(t, w.UpdateTime, g.UpdateTime, "update time")
	assert.Equal(t, credit.HouseholdRef{Village: w.Village, ID: w.HouseholdID}.Name(), g.Household)
	w.Household = g.Household
	w.Limit, w.Drawn, w.Rate, w.ExposureCap = decimal.Zero, decimal.Zero, decimal.Zero, decimal.Zero
	g.Limit, g.Drawn, g.Rate, g.ExposureCap = decimal.Zero, decimal.Zero, decimal.Zero, decimal.Zero
	w.OpenTime, w.UpdateTime, g.OpenTime, g.UpdateTime = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	assert.Equal(t, w, g)
}

func lineIDs(ls []*credit.Line) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.ID
	}
	return out
}

// queued is the audit queue as stored, read raw, in queue order.
func queued(t *testing.T, b Intruder) []audit.Record {
	t.Helper()
	ctx := context.Background()
	var out []audit.Record
	require.NoError(t, b.Store.Conn().ReadOne(ctx, func(q sqlstore.Querier) error {
		out = nil
		rows, err := q.Query(ctx, `SELECT time, actor, action, subject, request_hash, result_hash, payload
			FROM audit_queue ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r audit.Record
			var at any
			var payload string
			if err := rows.Scan(&at, &r.Actor, &r.Action, &r.Subject, &r.RequestHash, &r.ResultHash, &payload); err != nil {
				return err
			}
			switch v := at.(type) {
			case time.Time: // PostgreSQL
				r.Time = v.UTC()
			case string: // SQLite
				if r.Time, err = time.Parse(time.RFC3339Nano, v); err != nil {
					return err
				}
			default:
				return fmt.Errorf("audit time scanned as %T", at)
			}
			if err := json.Unmarshal([]byte(payload), &r.Payload); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	}))
	return out
}

// queueLength counts the records waiting in the audit queue.
func queueLength(t *testing.T, s Store) int64 {
	t.Helper()
	n, err := s.QueueLength(context.Background())
	require.NoError(t, err)
	return n
}

func testLendingConsents(t *testing.T, s Store) {
	ctx := context.Background()
	missing := newID(t)
	h := newHousehold(t, villageA, 1)
	other := newHousehold(t, villageA, 2)
	insert(t, s, h)
	insert(t, s, other)

	// Inserted out of grant order; every field set on the revoked one.
	later := newConsent(t, h, bankA, base.Add(time.Hour+789), base.AddDate(1, 0, 0), lending.PurposeAssessment, lending.PurposePostLoan)
	revoked := newConsent(t, h, bankB, base.Add(-time.Hour), base.AddDate(0, 6, 0), lending.PurposePostLoan)
	revoked.Channel, revoked.RecordedBy = lending.ChannelCounter, "officer-b"
	revoked.RevokeTime, revoked.RevokedBy = at(30*time.Minute+1), "household-x"
	othersConsent := newConsent(t, other, bankA, base, base.AddDate(1, 0, 0), lending.PurposeAssessment)
	insertConsents(t, s, later, revoked, othersConsent)

	for _, want := range []*lending.Consent{later, revoked} {
		got, err := readLending(s, func(tx credit.Reader) (*lending.Consent, error) { return tx.Consent(ctx, want.ID) })
		require.NoError(t, err)
		assertSameConsent(t, want, got)
	}
	all, err := readLending(s, func(tx credit.Reader) ([]*lending.Consent, error) { return tx.Consents(ctx, h.ID) })
	require.NoError(t, err)
	require.Len(t, all, 2, "every bank's consents of the household, and only its")
	assertSameConsent(t, revoked, all[0]) // oldest grant first
	assertSameConsent(t, later, all[1])

	_, err = readLending(s, func(tx credit.Reader) (*lending.Consent, error) { return tx.Consent(ctx, missing) })
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	assert.Equal(t, "CONSENT_NOT_FOUND", reasonOf(err))

	dup := *later
	dup.Bank = bankB
	err = writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.InsertConsent(ctx, &dup) })
	assert.True(t, fault.Is(err, fault.AlreadyExists), "a consent id is stored once, got %v", err)

	// Revoking sets time and revoker once; a second revocation keeps the first.
	first := base.Add(2 * time.Hour)
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		return tx.RevokeConsent(ctx, later.ID, first, "household-1")
	}))
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		return tx.RevokeConsent(ctx, later.ID, first.Add(time.Hour), "someone-else")
	}))
	got, err := readLending(s, func(tx credit.Reader) (*lending.Consent, error) { return tx.Consent(ctx, later.ID) })
	require.NoError(t, err)
	want := *later
	want.RevokeTime, want.RevokedBy = &first, "household-1"
	assertSameConsent(t, &want, got)

	err = writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		return tx.RevokeConsent(ctx, missing, first, "x")
	})
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
}

func testLiveConsentHouseholds(t *testing.T, s Store) {
	ctx := context.Background()
	now := base
	year := base.AddDate(1, 0, 0)
	var want []credit.HouseholdRef
	add := func(n int, village string, live bool, consents ...func(*household.Household) *lending.Consent) {
		h := newHousehold(t, village, n)
		insert(t, s, h)
		for _, c := range consents {
			insertConsents(t, s, c(h))
		}
		if live {
			want = append(want, credit.HouseholdRef{Village: village, ID: h.ID})
		}
	}
	consent := func(bank string, grant, expire time.Time, revoke *time.Time) func(*household.Household) *lending.Consent {
		return func(h *household.Household) *lending.Consent {
			c := newConsent(t, h, bank, grant, expire, lending.PurposeAssessment)
			c.RevokeTime = revoke
			return c
		}
	}
	add(1, villageA, true, consent(bankA, now.Add(-time.Hour), year, nil))
	add(2, villageA, true, consent(bankA, now.Add(-time.Hour), year, nil), consent(bankA, now, year, nil)) // listed once
	add(3, villageA, false, consent(bankA, now.AddDate(-1, 0, 0), now, nil))                               // expires at the instant
	add(4, villageA, false, consent(bankA, now.Add(-time.Hour), year, &now))                               // revoked at the instant
	add(5, villageB, true, consent(bankA, now, year, nil))                                                 // granted at the instant
	add(6, villageB, false, consent(bankB, now.Add(-time.Hour), year, nil))                                // another bank
	add(7, villageB, false, consent(bankA, now.Add(time.Second), year, nil))                               // not yet granted
	add(8, villageA, true, consent(bankA, now.Add(-time.Hour), year, at(time.Second)))                     // revoked later
	add(9, villageA, false)                                                                                // no consent
	slices.SortFunc(want, func(a, b credit.HouseholdRef) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})

	var got []credit.HouseholdRef
	after := ""
	for range 10 {
		page, err := readLending(s, func(tx credit.Reader) ([]credit.HouseholdRef, error) {
			return tx.LiveConsentHouseholds(ctx, bankA, now, after, 2)
		})
		require.NoError(t, err)
		got = append(got, page...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].ID
	}
	assert.Equal(t, want, got, "live households of the bank, each once, in id order, with their village")

	none, err := readLending(s, func(tx credit.Reader) ([]credit.HouseholdRef, error) {
		return tx.LiveConsentHouseholds(ctx, "no-such-bank", now, "", 10)
	})
	require.NoError(t, err)
	assert.Empty(t, none)
}

func testLendingDecisions(t *testing.T, s Store) {
	ctx := context.Background()
	missing := newID(t)
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)

	auto := newDecision(t, h, bankA, productA)
	override := newDecision(t, h, bankA, productA)
	override.Kind, override.Overrides, override.Justification = credit.Override, auto.ID, "村委会证明收入已恢复"
	override.Eligible, override.Score, override.Grade = false, 0, ""
	override.Explanation = credit.Explanation{
		KnockOuts: []credit.Text{{Code: "DISHONEST", ZH: "失信被执行人", EN: "dishonest judgment debtor"}},
		Declines:  []credit.Text{{Code: "INCOME_LOW", ZH: "收入不足", EN: "income too low"}},
	}
	override.Limit, override.Rate, override.ExposureCap = decimal.Zero, decimal.RequireFromString("0.1"), decimal.Zero
	other := newDecision(t, h, bankB, productA)
	bare := newDecision(t, h, bankA, productB)
	bare.Explanation = credit.Explanation{}
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		for _, d := range []*credit.Decision{auto, override, other, bare} {
			if err := tx.InsertDecision(ctx, d); err != nil {
				return err
			}
		}
		return nil
	}))

	for _, want := range []*credit.Decision{auto, override, bare} {
		got, err := readLending(s, func(tx credit.Reader) (*credit.Decision, error) { return tx.Decision(ctx, want.ID) })
		require.NoError(t, err)
		assertSameDecision(t, want, got)
		if want == auto {
			assert.Equal(t, "123456.78", got.Limit.StringFixed(2))
			assert.True(t, decimal.RequireFromString("0.0435").Equal(got.Rate), "rate %s", got.Rate)
			assert.Equal(t, "300000.00", got.ExposureCap.StringFixed(2))
		}
	}

	ids := func(ds []*credit.Decision) []string {
		out := make([]string, len(ds))
		for i, d := range ds {
			out[i] = d.ID
		}
		return out
	}
	list := func(bank, before string, limit int) []string {
		ds, err := readLending(s, func(tx credit.Reader) ([]*credit.Decision, error) {
			return tx.Decisions(ctx, h.ID, bank, before, limit)
		})
		require.NoError(t, err)
		return ids(ds)
	}
	assert.Equal(t, []string{bare.ID, other.ID, override.ID, auto.ID}, list("", "", 10), "newest first")
	assert.Equal(t, []string{bare.ID, override.ID, auto.ID}, list(bankA, "", 10))
	assert.Equal(t, []string{bare.ID, override.ID}, list(bankA, "", 2))
	assert.Equal(t, []string{auto.ID}, list(bankA, override.ID, 2))
	assert.Empty(t, list(bankA, auto.ID, 2))

	_, err := readLending(s, func(tx credit.Reader) (*credit.Decision, error) { return tx.Decision(ctx, missing) })
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)

	err = writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.InsertDecision(ctx, auto) })
	assert.True(t, fault.Is(err, fault.AlreadyExists), "a decision is stored once, got %v", err)

	// A third decimal place would be rounded by NUMERIC and kept by
	// SQLite's text: refused on both.
	fen := newDecision(t, h, bankA, productA)
	fen.Limit = decimal.RequireFromString("100.005")
	err = writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.InsertDecision(ctx, fen) })
	assert.True(t, fault.Is(err, fault.Invalid), "got %v", err)
}

func testLendingLines(t *testing.T, s Store) {
	ctx := context.Background()
	missing := newID(t)
	h := newHousehold(t, villageA, 1)
	h2 := newHousehold(t, villageB, 2)
	insert(t, s, h)
	insert(t, s, h2)

	l1, d1 := openLine(t, s, h, bankA, productA)
	l2, _ := openLine(t, s, h2, bankA, productA)
	l3, _ := openLine(t, s, h, bankB, productA)
	l4, _ := openLine(t, s, h, bankA, productB)

	got, err := readLending(s, func(tx credit.Reader) (*credit.Line, error) { return tx.LineByID(ctx, l1.ID) })
	require.NoError(t, err)
	assertSameLine(t, l1, got)
	assert.Equal(t, h.Name(), got.Household)
	got, err = readLending(s, func(tx credit.Reader) (*credit.Line, error) { return tx.Line(ctx, bankA, productA, h.ID) })
	require.NoError(t, err)
	assertSameLine(t, l1, got)

	_, err = readLending(s, func(tx credit.Reader) (*credit.Line, error) { return tx.Line(ctx, bankB, productB, h.ID) })
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	assert.Equal(t, "LINE_NOT_FOUND", reasonOf(err))
	_, err = readLending(s, func(tx credit.Reader) (*credit.Line, error) { return tx.LineByID(ctx, missing) })
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)

	// One line per household, bank and product; an id once.
	again := newLine(t, d1)
	err = writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.InsertLine(ctx, again) })
	assert.True(t, fault.Is(err, fault.AlreadyExists), "got %v", err)
	sameID := newLine(t, d1)
	sameID.ID, sameID.Product = l1.ID, "another-product"
	err = writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.InsertLine(ctx, sameID) })
	assert.True(t, fault.Is(err, fault.AlreadyExists), "got %v", err)

	// An update stores every mutable field where the version matches.
	d2 := newDecision(t, h, bankA, productA)
	upd := *l1
	upd.Limit, upd.Drawn, upd.Rate = decimal.RequireFromString("80000.10"), decimal.RequireFromString("2500.05"), decimal.RequireFromString("0.051")
	upd.ExposureCap = decimal.RequireFromString("250000")
	upd.Status, upd.FreezeReason, upd.ValidUntil = lending.StatusFrozen, "贷后检查：疑似挪用", "2027-06-30"
	upd.DecisionID, upd.UpdateTime, upd.Version = d2.ID, base.Add(time.Hour+1), 2
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		if err := tx.InsertDecision(ctx, d2); err != nil {
			return err
		}
		return tx.UpdateLine(ctx, &upd, 1)
	}))
	got, err = readLending(s, func(tx credit.Reader) (*credit.Line, error) { return tx.LineByID(ctx, l1.ID) })
	require.NoError(t, err)
	assertSameLine(t, &upd, got)
	assert.Equal(t, "2500.05", got.Drawn.StringFixed(2))

	stale := upd
	stale.Drawn, stale.Version = decimal.NewFromInt(1), 3
	err = writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.UpdateLine(ctx, &stale, 1) })
	assert.True(t, fault.Is(err, fault.FailedPrecondition), "a stale version is refused (no Aborted kind), got %v", err)
	assert.Equal(t, "CONCURRENT_CHANGE", reasonOf(err))
	ghost := upd
	ghost.ID = newID(t)
	err = writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.UpdateLine(ctx, &ghost, 2) })
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)

	// drawn never goes negative, on either engine.
	negative := upd
	negative.Drawn, negative.Version = decimal.NewFromInt(-1), 3
	err = writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.UpdateLine(ctx, &negative, 2) })
	assert.Error(t, err)
	got, err = readLending(s, func(tx credit.Reader) (*credit.Line, error) { return tx.LineByID(ctx, l1.ID) })
	require.NoError(t, err)
	assertSameLine(t, &upd, got)

	// A line names a stored decision, inserted or updated (PostgreSQL
	// checks it once per statement since its migration 00023, SQLite by
	// its foreign key): refused, nothing kept.
	orphan := newLine(t, newDecision(t, h2, bankB, productB))
	err = writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.InsertLine(ctx, orphan) })
	assert.Error(t, err, "a line whose decision is not stored")
	_, err = readLending(s, func(tx credit.Reader) (*credit.Line, error) { return tx.LineByID(ctx, orphan.ID) })
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	renamed := upd
	renamed.DecisionID, renamed.Version = newID(t), 3
	err = writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.UpdateLine(ctx, &renamed, 2) })
	assert.Error(t, err, "an update naming a decision that is not stored")
	got, err = readLending(s, func(tx credit.Reader) (*credit.Line, error) { return tx.LineByID(ctx, l1.ID) })
	require.NoError(t, err)
	assertSameLine(t, &upd, got)

	lines, err := readLending(s, func(tx credit.Reader) ([]*credit.Line, error) { return tx.HouseholdLines(ctx, h.ID) })
	require.NoError(t, err)
	assert.Equal(t, []string{l1.ID, l3.ID, l4.ID}, lineIDs(lines), "every bank's lines of the household, in id order")

	list := func(q credit.ListQuery) []string {
		ls, err := readLending(s, func(tx credit.Reader) ([]*credit.Line, error) { return tx.Lines(ctx, q) })
		require.NoError(t, err)
		return lineIDs(ls)
	}
	assert.Equal(t, []string{l1.ID, l2.ID, l4.ID}, list(credit.ListQuery{Bank: bankA, Limit: 10}))
	assert.Equal(t, []string{l1.ID, l2.ID}, list(credit.ListQuery{Bank: bankA, Product: productA, Limit: 10}))
	assert.Equal(t, []string{l2.ID}, list(credit.ListQuery{Bank: bankA, Village: villageB, Limit: 10}))
	assert.Equal(t, []string{l2.ID, l4.ID}, list(credit.ListQuery{Bank: bankA, Status: lending.StatusActive, Limit: 10}))
	assert.Equal(t, []string{l1.ID}, list(credit.ListQuery{Bank: bankA, Status: lending.StatusFrozen, Limit: 10}))
	assert.Equal(t, []string{l1.ID, l2.ID}, list(credit.ListQuery{Bank: bankA, Limit: 2}))
	assert.Equal(t, []string{l4.ID}, list(credit.ListQuery{Bank: bankA, AfterID: l2.ID, Limit: 2}))
	assert.Equal(t, []string{l3.ID}, list(credit.ListQuery{Bank: bankB, Limit: 10}))
}

func testLendingTransactions(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	la, _ := openLine(t, s, h, bankA, productA)
	lb, _ := openLine(t, s, h, bankB, productA)

	draw := &credit.Transaction{Bank: bankA, ID: "TX-0001", LineID: la.ID, Kind: credit.Drawdown,
		Amount: decimal.RequireFromString("5000.50"), Use: lending.UseAgriculture, RequestHash: hashOf(9),
		DrawnAfter: decimal.RequireFromString("5000.50"), RecordedBy: "officer-a", Time: base.Add(789)}
	repay := &credit.Transaction{Bank: bankA, ID: "TX-0002", LineID: la.ID, Kind: credit.Repayment,
		Amount: decimal.RequireFromString("0.50"), RequestHash: hashOf(10),
		DrawnAfter: decimal.RequireFromString("5000"), RecordedBy: "officer-a", Time: base.Add(time.Hour)}
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		if err := tx.InsertTransaction(ctx, draw); err != nil {
			return err
		}
		return tx.InsertTransaction(ctx, repay)
	}))

	for _, want := range []*credit.Transaction{draw, repay} {
		got, err := readLending(s, func(tx credit.Reader) (*credit.Transaction, error) { return tx.Transaction(ctx, bankA, want.ID) })
		require.NoError(t, err)
		assert.True(t, want.Amount.Equal(got.Amount), "amount %s vs %s", want.Amount, got.Amount)
		assert.True(t, want.DrawnAfter.Equal(got.DrawnAfter), "drawn after %s vs %s", want.DrawnAfter, got.DrawnAfter)
		sameInstant(t, want.Time, got.Time, "time")
		w, g := *want, *got
		w.Amount, w.DrawnAfter, w.Time = decimal.Zero, decimal.Zero, time.Time{}
		g.Amount, g.DrawnAfter, g.Time = decimal.Zero, decimal.Zero, time.Time{}
		assert.Equal(t, w, g)
	}

	// A repeated (bank, id) is refused and the stored one stays; the
	// same id at another bank is another transaction.
	retry := *draw
	retry.Amount, retry.DrawnAfter = decimal.NewFromInt(7), decimal.NewFromInt(7)
	err := writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		err := tx.InsertTransaction(ctx, &retry)
		if !fault.Is(err, fault.AlreadyExists) {
			return fmt.Errorf("want AlreadyExists, got %w", err)
		}
		// The transaction goes on after the conflict: the caller reads
		// the stored result to answer the retry.
		stored, err := tx.Transaction(ctx, bankA, draw.ID)
		if err != nil {
			return err
		}
		if !stored.Amount.Equal(draw.Amount) {
			return fmt.Errorf("stored amount %s changed", stored.Amount)
		}
		return nil
	})
	require.NoError(t, err)
	otherBank := *draw
	otherBank.Bank, otherBank.LineID = bankB, lb.ID
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		return tx.InsertTransaction(ctx, &otherBank)
	}))
	got, err := readLending(s, func(tx credit.Reader) (*credit.Transaction, error) { return tx.Transaction(ctx, bankA, draw.ID) })
	require.NoError(t, err)
	assert.Equal(t, "5000.50", got.Amount.StringFixed(2))

	_, err = readLending(s, func(tx credit.Reader) (*credit.Transaction, error) { return tx.Transaction(ctx, bankB, repay.ID) })
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)

	// Amounts are positive on either engine.
	zero := *repay
	zero.ID, zero.Amount = "TX-0003", decimal.Zero
	err = writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.InsertTransaction(ctx, &zero) })
	assert.Error(t, err)
}

func testLendingReviews(t *testing.T, s Store) {
	ctx := context.Background()
	missing := newID(t)
	h1 := newHousehold(t, villageA, 1)
	h2 := newHousehold(t, villageA, 2)
	insert(t, s, h1)
	insert(t, s, h2)
	d1 := newDecision(t, h1, bankA, productA)
	d2 := newDecision(t, h2, bankA, productA)
	d3 := newDecision(t, h1, bankB, productA)
	outcome := newDecision(t, h1, bankA, productA)
	review := func(d *credit.Decision, n int) *credit.Review {
		return &credit.Review{ID: newID(t), DecisionID: d.ID, Bank: d.Bank, Village: d.Village, HouseholdID: d.HouseholdID,
			Reason: fmt.Sprintf("申请人工复核 %d：积分未计入", n), State: credit.ReviewOpen, RequestedBy: "household",
			RequestTime: base.Add(time.Duration(n) * time.Minute)}
	}
	r1, r2, r3 := review(d1, 1), review(d2, 2), review(d3, 3)
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		for _, d := range []*credit.Decision{d1, d2, d3, outcome} {
			if err := tx.InsertDecision(ctx, d); err != nil {
				return err
			}
		}
		for _, r := range []*credit.Review{r1, r2, r3} {
			if err := tx.InsertReview(ctx, r); err != nil {
				return err
			}
		}
		return nil
	}))

	resolved := *r1
	resolved.State, resolved.ResolvedBy, resolved.ResolveTime = credit.ReviewOverridden, "officer", at(time.Hour+7)
	resolved.Resolution, resolved.OutcomeDecision = "核实后调整额度", outcome.ID
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.UpdateReview(ctx, &resolved) }))
	// An override proposed on r2, waiting for its second person.
	proposed := *r2
	proposed.ProposedLimit, proposed.ProposedBy, proposed.ProposeTime = decimal.RequireFromString("1234.5"), "officer", at(time.Hour+9)
	proposed.ProposalJustification = "复核后拟调整额度"
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.UpdateReview(ctx, &proposed) }))
	tooFine := proposed
	tooFine.ProposedLimit = decimal.RequireFromString("1.001")
	err := writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.UpdateReview(ctx, &tooFine) })
	assert.True(t, fault.Is(err, fault.Invalid), "a proposed limit finer than a fen: %v", err)

	for _, want := range []*credit.Review{&resolved, &proposed} {
		got, err := readLending(s, func(tx credit.Reader) (*credit.Review, error) { return tx.Review(ctx, want.ID) })
		require.NoError(t, err)
		sameInstant(t, want.RequestTime, got.RequestTime, "request time")
		if want.ResolveTime == nil {
			assert.Nil(t, got.ResolveTime)
		} else if assert.NotNil(t, got.ResolveTime) {
			sameInstant(t, *want.ResolveTime, *got.ResolveTime, "resolve time")
		}
		if want.ProposeTime == nil {
			assert.Nil(t, got.ProposeTime)
		} else if assert.NotNil(t, got.ProposeTime) {
			sameInstant(t, *want.ProposeTime, *got.ProposeTime, "propose time")
		}
		assert.True(t, want.ProposedLimit.Equal(got.ProposedLimit), "proposed limit %s, got %s", want.ProposedLimit, got.ProposedLimit)
		w, g := *want, *got
		w.RequestTime, w.ResolveTime, g.RequestTime, g.ResolveTime = time.Time{}, nil, time.Time{}, nil
		w.ProposeTime, g.ProposeTime, w.ProposedLimit, g.ProposedLimit = nil, nil, decimal.Zero, decimal.Zero
		assert.Equal(t, w, g)
	}

	list := func(q credit.ReviewQuery) []string {
		rs, err := readLending(s, func(tx credit.Reader) ([]*credit.Review, error) { return tx.Reviews(ctx, q) })
		require.NoError(t, err)
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.ID
		}
		return out
	}
	assert.Equal(t, []string{r2.ID, r1.ID}, list(credit.ReviewQuery{Bank: bankA, Limit: 10}), "newest first")
	assert.Equal(t, []string{r2.ID}, list(credit.ReviewQuery{Bank: bankA, State: credit.ReviewOpen, Limit: 10}))
	assert.Equal(t, []string{r3.ID, r1.ID}, list(credit.ReviewQuery{HouseholdID: h1.ID, Limit: 10}))
	assert.Equal(t, []string{r1.ID}, list(credit.ReviewQuery{HouseholdID: h1.ID, Bank: bankA, Limit: 10}))
	assert.Equal(t, []string{r3.ID}, list(credit.ReviewQuery{HouseholdID: h1.ID, Limit: 1}))
	assert.Equal(t, []string{r1.ID}, list(credit.ReviewQuery{HouseholdID: h1.ID, Before: r3.ID, Limit: 1}))

	_, err = readLending(s, func(tx credit.Reader) (*credit.Review, error) { return tx.Review(ctx, missing) })
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	ghost := resolved
	ghost.ID = newID(t)
	err = writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.UpdateReview(ctx, &ghost) })
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
}

func testLendingRuns(t *testing.T, s Store) {
	ctx := context.Background()
	missing := newID(t)
	run := func(product string) *credit.Run {
		return &credit.Run{ID: newID(t), Bank: bankA, Product: product, PolicyVersion: 4, State: credit.RunRunning,
			StartedBy: "operator", StartTime: base, UpdateTime: base}
	}
	r1, r2, r3 := run(productA), run(productA), run(productB)
	insertRun := func(r *credit.Run) error {
		return writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.InsertRun(ctx, r) })
	}
	require.NoError(t, insertRun(r1))
	err := insertRun(r2)
	assert.True(t, fault.Is(err, fault.AlreadyExists), "one running run per bank product, got %v", err)
	require.NoError(t, insertRun(r3), "another product runs beside it")
	assert.True(t, fault.Is(insertRun(r1), fault.AlreadyExists), "a run id once")

	done := *r1
	done.State, done.Cursor, done.Done, done.Total = credit.RunDone, newID(t), 1234, 1234
	done.UpdateTime, done.Error = base.Add(time.Hour+3), ""
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.UpdateRun(ctx, &done) }))
	got, err := readLending(s, func(tx credit.Reader) (*credit.Run, error) { return tx.Run(ctx, r1.ID) })
	require.NoError(t, err)
	sameInstant(t, done.StartTime, got.StartTime, "start time")
	sameInstant(t, done.UpdateTime, got.UpdateTime, "update time")
	w, g := done, *got
	w.StartTime, w.UpdateTime, g.StartTime, g.UpdateTime = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	assert.Equal(t, w, g)

	require.NoError(t, insertRun(r2), "the product may run again once the first is done")
	failed := *r3
	failed.State, failed.Error, failed.Done, failed.Total = credit.RunFailed, "policy 4 rejected the input", 10, 99
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.UpdateRun(ctx, &failed) }))
	got, err = readLending(s, func(tx credit.Reader) (*credit.Run, error) { return tx.Run(ctx, r3.ID) })
	require.NoError(t, err)
	assert.Equal(t, credit.RunFailed, got.State)
	assert.Equal(t, "policy 4 rejected the input", got.Error)
	assert.Equal(t, int64(99), got.Total)

	_, err = readLending(s, func(tx credit.Reader) (*credit.Run, error) { return tx.Run(ctx, missing) })
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	ghost := done
	ghost.ID = newID(t)
	err = writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.UpdateRun(ctx, &ghost) })
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
}

// testQueryLine reads the queued audit records raw, as stored: the record
// a query commits must be exactly the one it was given.
func testQueryLine(t *testing.T, b Intruder) {
	s := b.Store
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	line, dec := openLine(t, s, h, bankA, productA)

	q := credit.LineQuery{Bank: bankA, Product: productA, Village: villageA, Household: h.ID,
		Purpose: lending.PurposePostLoan, At: base}
	rec := audit.Record{Time: base.Add(321), Actor: "officer-7", Action: "credit_line.get",
		Subject: h.Name() + "/creditLines/" + bankA, RequestHash: hashOf(77), ResultHash: hashOf(78),
		Payload: map[string]string{"purpose": "post_loan", "bank": bankA}}
	query := func(q credit.LineQuery, rec audit.Record) (*credit.Line, *credit.Decision, error) {
		return s.Lending().QueryLine(ctx, q, rec)
	}
	denied := func(q credit.LineQuery, why string) {
		t.Helper()
		l, d, err := query(q, rec)
		assert.True(t, fault.Is(err, fault.PermissionDenied), "%s: got %v", why, err)
		assert.Equal(t, lending.ReasonConsentRequired, reasonOf(err), why)
		assert.Nil(t, l, why)
		assert.Nil(t, d, why)
		assert.Zero(t, queueLength(t, s), "%s: nothing is written without a live consent", why)
	}

	denied(q, "no consent at all")

	year := base.AddDate(1, 0, 0)
	otherBank := newConsent(t, h, bankB, base.Add(-time.Hour), year, lending.PurposePostLoan)
	assessmentOnly := newConsent(t, h, bankA, base.Add(-time.Hour), year, lending.PurposeAssessment)
	expired := newConsent(t, h, bankA, base.AddDate(-1, 0, 0), base, lending.PurposePostLoan)
	revoked := newConsent(t, h, bankA, base.Add(-3*time.Hour), year, lending.PurposePostLoan)
	revoked.RevokeTime, revoked.RevokedBy = at(-time.Hour), "household"
	notYet := newConsent(t, h, bankA, base.Add(time.Microsecond), year, lending.PurposePostLoan)
	// A purpose that LIKE's '_' would match if it were not escaped.
	lookalike := newConsent(t, h, bankA, base.Add(-time.Hour), year, "postXloan")
	insertConsents(t, s, otherBank, assessmentOnly, expired, revoked, notYet, lookalike)

	denied(q, "consents of another bank, another purpose, expired at the instant, revoked, not yet granted")

	// Before the revocation (and before the expiry), a consent was live.
	earlier := q
	earlier.At = base.Add(-2 * time.Hour)
	l, d, err := query(earlier, rec)
	require.NoError(t, err)
	assertSameLine(t, line, l)
	assertSameDecision(t, dec, d)
	recs := queued(t, b)
	require.Len(t, recs, 1, "one query, one record")

	// A record that fails validation fails the query and writes nothing.
	leaky := rec
	leaky.Payload = map[string]string{"id": "33048319600119123X"}
	_, _, err = query(earlier, leaky)
	assert.Error(t, err)
	assert.Len(t, queued(t, b), 1)

	// A household of another village is not this one.
	wrongVillage := earlier
	wrongVillage.Village = villageB
	l, _, err = query(wrongVillage, rec)
	assert.Error(t, err)
	assert.Nil(t, l)

	// Now live: line and decision, and exactly one record with the
	// record's fields.
	live := newConsent(t, h, bankA, base.Add(-time.Minute), year, lending.PurposeAssessment, lending.PurposePostLoan)
	insertConsents(t, s, live)
	before := len(queued(t, b))
	l, d, err = query(q, rec)
	require.NoError(t, err)
	assertSameLine(t, line, l)
	assertSameDecision(t, dec, d)
	recs = queued(t, b)
	require.Len(t, recs, before+1)
	got := recs[len(recs)-1]
	sameInstant(t, rec.Time, got.Time, "record time")
	got.Time = rec.Time
	want := rec
	want.Payload = map[string]string{"purpose": "post_loan", "bank": bankA, "basis": "consent"}
	assert.Equal(t, want, got, "the record, with the basis the read rested on")
	assert.Equal(t, map[string]string{"purpose": "post_loan", "bank": bankA}, rec.Payload, "the caller's record is left alone")

	// Live, but no such line: the query happened, so it is recorded.
	noLine := q
	noLine.Product = productB
	l, d, err = query(noLine, rec)
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	assert.Equal(t, "LINE_NOT_FOUND", reasonOf(err))
	assert.Nil(t, l)
	assert.Nil(t, d)
	assert.Len(t, queued(t, b), before+2)

	// An assessment query is covered by the same consent; a record
	// without payload is queued with the basis only.
	assess := q
	assess.Purpose = lending.PurposeAssessment
	bare := rec
	bare.Payload, bare.RequestHash, bare.ResultHash = nil, "", ""
	_, _, err = query(assess, bare)
	require.NoError(t, err)
	recs = queued(t, b)
	require.Len(t, recs, before+3)
	assert.Equal(t, map[string]string{"basis": "consent"}, recs[len(recs)-1].Payload)
}

func testLineEvents(t *testing.T, s Store) {
	ctx := context.Background()
	event := func(bank string, n int) *credit.LineEvent {
		return &credit.LineEvent{Bank: bank, ID: newID(t), Type: credit.EventDrawdown, LineID: "line-" + bank,
			Village: villageA, HouseholdID: "h-1", Payload: fmt.Appendf(nil, `{"n":%d,"note":"第%d笔"}`, n, n),
			Time: base.Add(time.Duration(n) * time.Second)}
	}
	appendEvents := func(evs ...*credit.LineEvent) error {
		return writeLending(s, func(ctx context.Context, tx credit.Writer) error {
			for _, ev := range evs {
				if err := tx.AppendLineEvent(ctx, ev); err != nil {
					return err
				}
			}
			return nil
		})
	}
	a1, a2, a3 := event(bankA, 1), event(bankA, 2), event(bankA, 3)
	b1, b2 := event(bankB, 4), event(bankB, 5)
	require.NoError(t, appendEvents(a1))
	require.NoError(t, appendEvents(b1))
	require.NoError(t, appendEvents(a2, b2, a3)) // several in one transaction
	for _, c := range []struct {
		ev  *credit.LineEvent
		seq int64
	}{{a1, 1}, {a2, 2}, {a3, 3}, {b1, 1}, {b2, 2}} {
		assert.Equal(t, c.seq, c.ev.Seq, "per-bank seq of %s", c.ev.Bank)
	}

	// A failed append rolls its seq back with it: no gap.
	dup := event(bankA, 6)
	dup.ID = a1.ID
	err := appendEvents(dup)
	assert.True(t, fault.Is(err, fault.AlreadyExists), "got %v", err)
	a4 := event(bankA, 7)
	require.NoError(t, appendEvents(a4))
	assert.Equal(t, int64(4), a4.Seq)

	read := func(bank string, after int64, limit int) []*credit.LineEvent {
		evs, err := readLending(s, func(tx credit.Reader) ([]*credit.LineEvent, error) {
			return tx.LineEvents(ctx, bank, after, limit)
		})
		require.NoError(t, err)
		return evs
	}
	page := read(bankA, 0, 2)
	require.Len(t, page, 2)
	for i, want := range []*credit.LineEvent{a1, a2} {
		sameInstant(t, want.Time, page[i].Time, "event time")
		w, g := *want, *page[i]
		w.Time, g.Time = time.Time{}, time.Time{}
		assert.Equal(t, w, g)
	}
	page = read(bankA, 2, 10)
	require.Len(t, page, 2)
	assert.Equal(t, []int64{3, 4}, []int64{page[0].Seq, page[1].Seq})
	assert.Empty(t, read(bankA, 4, 10))
	page = read(bankB, 0, 10)
	require.Len(t, page, 2)
	assert.Equal(t, []string{b1.ID, b2.ID}, []string{page[0].ID, page[1].ID})
	assert.Empty(t, read("no-such-bank", 0, 10))
}

// testLockedConcurrentDrawdowns: fifty concurrent read-modify-writes of one
// line under Locked all succeed and none is lost, on both engines (on
// PostgreSQL they queue on the row lock at READ COMMITTED).
func testLockedConcurrentDrawdowns(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	line, _ := openLine(t, s, h, bankA, productA)
	other, _ := openLine(t, s, h, bankB, productA)

	const n = 50
	eventIDs := make([]string, n) // made here: newID may call t.FailNow
	for i := range eventIDs {
		eventIDs[i] = newID(t)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Lending().Locked(ctx, func(tx credit.Writer) error {
				lines, err := tx.LockHouseholdLines(ctx, h.ID)
				if err != nil {
					return err
				}
				if len(lines) != 2 || lines[0].ID != line.ID || lines[1].ID != other.ID {
					return fmt.Errorf("locked %d lines, want both in id order", len(lines))
				}
				l := lines[0]
				prev := l.Version
				l.Drawn = l.Drawn.Add(decimal.NewFromInt(1))
				l.Version++
				l.UpdateTime = base.Add(time.Duration(i) * time.Second)
				if err := tx.UpdateLine(ctx, l, prev); err != nil {
					return err
				}
				ev := &credit.LineEvent{Bank: bankA, ID: eventIDs[i], Type: credit.EventDrawdown, LineID: l.ID,
					Village: villageA, HouseholdID: h.ID, Payload: []byte(`{}`), Time: base}
				if err := tx.AppendLineEvent(ctx, ev); err != nil {
					return err
				}
				return tx.Record(ctx, audit.Record{Time: base, Actor: "officer", Action: "credit_line.draw", Subject: h.Name()})
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := readLending(s, func(tx credit.Reader) (*credit.Line, error) { return tx.LineByID(ctx, line.ID) })
	require.NoError(t, err)
	assert.Equal(t, "50", got.Drawn.String(), "no drawdown lost")
	assert.Equal(t, 1+n, got.Version)

	evs, err := readLending(s, func(tx credit.Reader) ([]*credit.LineEvent, error) { return tx.LineEvents(ctx, bankA, 0, 100) })
	require.NoError(t, err)
	require.Len(t, evs, n)
	for i, ev := range evs {
		assert.Equal(t, int64(i+1), ev.Seq, "seqs 1..n without gaps")
	}
	assert.Equal(t, int64(n), queueLength(t, s), "Locked commits the records it was given")
}

// testReassessDue: the migration's triggers mark a household with an open
// line due when its points sheet or facts change, once however many
// changes follow; MarkDue and ClearDue manage the marks directly.
func testReassessDue(t *testing.T, s Store) {
	ctx := context.Background()
	withLine := newHousehold(t, villageA, 1)
	noLine := newHousehold(t, villageA, 2)
	closed := newHousehold(t, villageA, 3)
	for _, h := range []*household.Household{withLine, noLine, closed} {
		insert(t, s, h)
	}
	openLine(t, s, withLine, bankA, productA)
	closedLine, _ := openLine(t, s, closed, bankA, productA)
	c := *closedLine
	c.Status, c.Version = lending.StatusClosed, 2
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error { return tx.UpdateLine(ctx, &c, 1) }))

	due := func(limit int) []string {
		ids, err := readLending(s, func(tx credit.Reader) ([]string, error) { return tx.DueHouseholds(ctx, limit) })
		require.NoError(t, err)
		return ids
	}
	newFacts := func(h *household.Household) error {
		return s.Households().Write(ctx, func(tx household.Writer) error {
			f := h.Facts
			f.Version++
			f.AnnualIncome = f.AnnualIncome.Add(decimal.NewFromInt(1000))
			if err := tx.InsertFacts(ctx, h.ID, f); err != nil {
				return err
			}
			h.Facts = f
			return tx.UpdateHousehold(ctx, h)
		})
	}
	assert.Empty(t, due(10), "opening a line marks nothing")

	// Sheet created, then updated twice, then facts: one mark.
	for i := range 3 {
		require.NoError(t, appendToSheet(s, withLine.ID, award(fmt.Sprintf("due-a%d", i), withLine.ID, "5", "2026-03-10", true)))
	}
	require.NoError(t, newFacts(withLine))
	require.NoError(t, appendToSheet(s, noLine.ID, award("due-b", noLine.ID, "5", "2026-03-10", true)))
	require.NoError(t, newFacts(noLine))
	require.NoError(t, appendToSheet(s, closed.ID, award("due-c", closed.ID, "5", "2026-03-10", true)))
	require.NoError(t, newFacts(closed))
	assert.Equal(t, []string{withLine.ID}, due(10), "one mark for the household with an open line")

	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		return tx.ClearDue(ctx, []string{withLine.ID, noLine.ID})
	}))
	assert.Empty(t, due(10))
	require.NoError(t, newFacts(withLine))
	assert.Equal(t, []string{withLine.ID}, due(10), "a change after clearing marks again")

	// Marks by hand: oldest first, a second mark keeps the first time.
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		if err := tx.ClearDue(ctx, []string{withLine.ID}); err != nil {
			return err
		}
		if err := tx.ClearDue(ctx, nil); err != nil {
			return err
		}
		if err := tx.MarkDue(ctx, noLine.ID, base.Add(2*time.Hour)); err != nil {
			return err
		}
		if err := tx.MarkDue(ctx, closed.ID, base.Add(time.Hour)); err != nil {
			return err
		}
		return tx.MarkDue(ctx, noLine.ID, base)
	}))
	assert.Equal(t, []string{closed.ID, noLine.ID}, due(10))
	assert.Equal(t, []string{closed.ID}, due(1))
}

// testLendingAuditRollsBack: records written in Write and Locked commit
// with the transaction and roll back with it.
func testLendingAuditRollsBack(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	line, _ := openLine(t, s, h, bankA, productA)
	rec := audit.Record{Time: base, Actor: "officer", Action: "consent.create", Subject: h.Name()}
	boom := errors.New("boom")

	c := newConsent(t, h, bankA, base, base.AddDate(1, 0, 0), lending.PurposeAssessment)
	err := writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		if err := tx.InsertConsent(ctx, c); err != nil {
			return err
		}
		if err := tx.Record(ctx, rec); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, err = readLending(s, func(tx credit.Reader) (*lending.Consent, error) { return tx.Consent(ctx, c.ID) })
	assert.True(t, fault.Is(err, fault.NotFound), "the consent rolled back, got %v", err)
	assert.Zero(t, queueLength(t, s), "and its record with it")

	draw := func(tx credit.Writer, r audit.Record) error {
		lines, err := tx.LockHouseholdLines(ctx, h.ID)
		if err != nil {
			return err
		}
		if len(lines) != 1 {
			return fmt.Errorf("locked %d lines", len(lines))
		}
		l := lines[0]
		prev := l.Version
		l.Drawn, l.Version = l.Drawn.Add(decimal.NewFromInt(100)), prev+1
		if err := tx.UpdateLine(ctx, l, prev); err != nil {
			return err
		}
		return tx.Record(ctx, r)
	}
	err = s.Lending().Locked(ctx, func(tx credit.Writer) error {
		if err := draw(tx, rec); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	leaky := rec
	leaky.Subject = "33048319600119123X"
	err = s.Lending().Locked(ctx, func(tx credit.Writer) error { return draw(tx, leaky) })
	assert.Error(t, err, "an invalid record fails the transaction")
	got, err := readLending(s, func(tx credit.Reader) (*credit.Line, error) { return tx.LineByID(ctx, line.ID) })
	require.NoError(t, err)
	assert.True(t, got.Drawn.IsZero(), "both drawdowns rolled back, drawn %s", got.Drawn)
	assert.Equal(t, 1, got.Version)
	assert.Zero(t, queueLength(t, s))

	require.NoError(t, s.Lending().Locked(ctx, func(tx credit.Writer) error { return draw(tx, rec) }))
	assert.Equal(t, int64(1), queueLength(t, s), "a committed Locked transaction keeps its record")
	got, err = readLending(s, func(tx credit.Reader) (*credit.Line, error) { return tx.LineByID(ctx, line.ID) })
	require.NoError(t, err)
	assert.Equal(t, "100", got.Drawn.String())
}
