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

	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/dividend"
	"github.com/sanzhi/sanzhi/scoring/docver"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// dividendParents are the rule scenarios' villages: the one they work on,
// another of its county (same county_code) and one of another county.
var dividendParents = [3]string{villageA, "330483102202", "330484101201"}

// dividendRules is the dividend rule versions as a docKind.
var dividendRules = docKind[*dividend.RuleVersion]{
	title: "DividendRule", action: "dividend.rule",
	draft: func(p, n int) *dividend.RuleVersion {
		return &dividend.RuleVersion{
			Village: dividendParents[p], Version: n,
			Document:    fmt.Sprintf("kind: dividend_rule\n# 第%d版 股份+积分分红\nversion: %d\n", n, n),
			ContentHash: fmt.Sprintf("%064x", 3000+n), Title: fmt.Sprintf("第%d版分红规则", n),
			State: docver.Draft, UploadedBy: "maker", UploadTime: base.Add(time.Duration(n) * time.Minute),
		}
	},
	read: func(s Store, fn func(versionTx[*dividend.RuleVersion]) error) error {
		return s.Dividends().Read(context.Background(), func(tx dividend.Reader) error { return fn(dividendRuleTx(tx, nil)) })
	},
	write: func(s Store, fn func(versionTx[*dividend.RuleVersion]) error) error {
		return s.Dividends().Write(context.Background(), func(tx dividend.Writer) error { return fn(dividendRuleTx(tx, tx)) })
	},
	same: func(t *testing.T, want, got *dividend.RuleVersion, withDocument bool) {
		t.Helper()
		w, g := *want, *got
		assert.True(t, w.UploadTime.Truncate(time.Microsecond).Equal(g.UploadTime))
		for _, p := range [][2]*time.Time{{w.ActivateTime, g.ActivateTime}, {w.SupersedeTime, g.SupersedeTime}} {
			if p[0] == nil {
				assert.Nil(t, p[1])
			} else if assert.NotNil(t, p[1]) {
				assert.True(t, p[0].Truncate(time.Microsecond).Equal(*p[1]))
			}
		}
		w.UploadTime, g.UploadTime = time.Time{}, time.Time{}
		w.ActivateTime, g.ActivateTime, w.SupersedeTime, g.SupersedeTime = nil, nil, nil, nil
		if !withDocument {
			w.Document = ""
		}
		assert.Equal(t, w, g)
	},
	name: (*dividend.RuleVersion).Name,
	fields: func(v *dividend.RuleVersion) versionFields {
		return versionFields{&v.Version, &v.State, &v.Document, &v.ContentHash, &v.ActivatedBy, &v.ActivateTime, &v.SupersedeTime}
	},
}

func dividendRuleTx(r dividend.Reader, w dividend.Writer) versionTx[*dividend.RuleVersion] {
	ctx := context.Background()
	tx := versionTx[*dividend.RuleVersion]{
		version: func(p, n int) (*dividend.RuleVersion, error) { return r.DividendRule(ctx, dividendParents[p], n) },
		active:  func(p int) (*dividend.RuleVersion, error) { return r.ActiveDividendRule(ctx, dividendParents[p]) },
		list: func(p, before, limit int) ([]*dividend.RuleVersion, error) {
			return r.DividendRules(ctx, dividend.RuleQuery{Village: dividendParents[p], Before: before, Limit: limit})
		},
	}
	if w != nil {
		tx.insert = func(v *dividend.RuleVersion) error { return w.InsertDividendRule(ctx, v) }
		tx.update = func(v *dividend.RuleVersion) error { return w.UpdateDividendRuleState(ctx, v) }
		tx.record = func(rec audit.Record) error { return w.Record(ctx, rec) }
	}
	return tx
}

// newRound builds a draft round of village with the households' rows.
func newRound(t *testing.T, village string, day household.Date, req string, hs ...*household.Household) (*dividend.Round, []*dividend.Row) {
	t.Helper()
	r := &dividend.Round{
		ID: newID(t), Village: village, Title: "2025年度分红", RecordDate: day, Pool: decimal.RequireFromString("1000.01"),
		RuleVersion: 1, RuleHash: fmt.Sprintf("%064x", 9), State: dividend.Draft, Households: len(hs),
		TotalShares: decimal.RequireFromString("12.5"), TotalPoints: decimal.RequireFromString("30.25"),
		AllocationHash: fmt.Sprintf("%064x", 10), RequestID: req, RequestHash: "rh-" + req,
		CreatedBy: "clerk", CreateTime: base, Version: 1,
	}
	rows := make([]*dividend.Row, len(hs))
	for i, h := range hs {
		rows[i] = &dividend.Row{HeadName: h.HeadName, Group: h.Group, Line: dividend.Line{
			Holding: dividend.Holding{Household: h.ID, Shares: decimal.New(int64(125*(i+1)), -2),
				Points: decimal.New(int64(-3+i), 0), BlackListed: i == 1},
			CountedShares: decimal.New(int64(125*(i+1)), -2), CountedPoints: decimal.New(int64(max(0, -3+i)), 0),
			Excluded: map[bool]dividend.BlackList{true: dividend.LosePoints}[i == 1], Capped: i == 2,
			Amount: int64(10001 * i),
		}}
		if rows[i].Amount > 0 {
			r.Paid++
		}
	}
	slices.SortFunc(rows, func(a, b *dividend.Row) int {
		return map[bool]int{true: -1, false: 1}[a.Household < b.Household]
	})
	return r, rows
}

func writeDividends(s Store, fn func(dividend.Writer) error) error {
	return s.Dividends().Write(context.Background(), fn)
}

func readDividends(t *testing.T, s Store, fn func(dividend.Reader) error) {
	t.Helper()
	require.NoError(t, s.Dividends().Read(context.Background(), fn))
}

func testDividendRoundRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	var hs []*household.Household
	for i := range 4 {
		h := newHousehold(t, villageA, 100+i)
		insert(t, s, h)
		hs = append(hs, h)
	}
	r, rows := newRound(t, villageA, "2026-02-28", "req-1", hs...)
	require.NoError(t, writeDividends(s, func(tx dividend.Writer) error { return tx.InsertRound(ctx, r, rows) }))

	readDividends(t, s, func(tx dividend.Reader) error {
		got, err := tx.Round(ctx, villageA, r.ID)
		require.NoError(t, err)
		assert.True(t, r.CreateTime.Truncate(time.Microsecond).Equal(got.CreateTime))
		assert.Equal(t, "1000.01", got.Pool.StringFixed(2))
		assert.True(t, got.TotalShares.Equal(r.TotalShares) && got.TotalPoints.Equal(r.TotalPoints))
		want := *r
		want.CreateTime, got.CreateTime = time.Time{}, time.Time{}
		want.Pool, got.Pool, want.TotalShares, got.TotalShares, want.TotalPoints, got.TotalPoints =
			decimal.Zero, decimal.Zero, decimal.Zero, decimal.Zero, decimal.Zero, decimal.Zero
		assert.Equal(t, &want, got)

		byReq, err := tx.RoundByRequest(ctx, villageA, "req-1")
		require.NoError(t, err)
		assert.Equal(t, r.ID, byReq.ID)
		live, err := tx.LiveRound(ctx, villageA, "2026-02-28")
		require.NoError(t, err)
		assert.Equal(t, r.ID, live.ID)
		for _, miss := range []func() error{
			func() error { _, err := tx.Round(ctx, villageB, r.ID); return err },
			func() error { _, err := tx.RoundByRequest(ctx, villageA, "req-2"); return err },
			func() error { _, err := tx.LiveRound(ctx, villageA, "2026-02-27"); return err },
			func() error { _, err := tx.RoundRow(ctx, r.ID, newID(t)); return err },
		} {
			assert.True(t, fault.Is(miss(), fault.NotFound))
		}

		// Every row as stored, in household id order, paged.
		var got2 []*dividend.Row
		after := ""
		for {
			page, err := tx.Rows(ctx, dividend.RowQuery{Round: r.ID, After: after, Limit: 3})
			require.NoError(t, err)
			got2 = append(got2, page...)
			if len(page) < 3 {
				break
			}
			after = page[len(page)-1].Household
		}
		require.Len(t, got2, len(rows))
		for i := range rows {
			w, g := rows[i], got2[i]
			assert.True(t, w.Shares.Equal(g.Shares) && w.Points.Equal(g.Points) && w.CountedShares.Equal(g.CountedShares) &&
				w.CountedPoints.Equal(g.CountedPoints), "row %d decimals", i)
			w2, g2 := *w, *g
			w2.Shares, w2.Points, w2.CountedShares, w2.CountedPoints = decimal.Zero, decimal.Zero, decimal.Zero, decimal.Zero
			g2.Shares, g2.Points, g2.CountedShares, g2.CountedPoints = decimal.Zero, decimal.Zero, decimal.Zero, decimal.Zero
			assert.Equal(t, w2, g2)
		}
		paid, err := tx.Rows(ctx, dividend.RowQuery{Round: r.ID, Limit: 10, PaidOnly: true})
		require.NoError(t, err)
		assert.Len(t, paid, 3, "the row of amount 0 is left out")
		one, err := tx.RoundRow(ctx, r.ID, rows[2].Household)
		require.NoError(t, err)
		assert.Equal(t, rows[2].Amount, one.Amount)
		return nil
	})

	// Optimistic update: the workflow fields change, a stale version is
	// refused.
	now := base.Add(time.Hour)
	r.State, r.ReviewedBy, r.ReviewTime, r.NoticeStart, r.NoticeEnd = dividend.OnNotice, "rev", &now, "2026-03-01", "2026-03-08"
	r.OpenObjections = 2
	require.NoError(t, writeDividends(s, func(tx dividend.Writer) error { return tx.UpdateRound(ctx, r) }))
	assert.Equal(t, 2, r.Version)
	stale := *r
	stale.Version = 1
	err := writeDividends(s, func(tx dividend.Writer) error { return tx.UpdateRound(ctx, &stale) })
	assert.True(t, fault.Is(err, fault.FailedPrecondition), "a stale version: %v", err)
	readDividends(t, s, func(tx dividend.Reader) error {
		got, err := tx.Round(ctx, villageA, r.ID)
		require.NoError(t, err)
		assert.Equal(t, dividend.OnNotice, got.State)
		assert.Equal(t, household.Date("2026-03-08"), got.NoticeEnd)
		assert.Equal(t, 2, got.OpenObjections)
		assert.Equal(t, 2, got.Version)
		return nil
	})
}

func testDividendOneLiveRound(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	a, rows := newRound(t, villageA, "2026-02-28", "req-a", h)
	require.NoError(t, writeDividends(s, func(tx dividend.Writer) error { return tx.InsertRound(ctx, a, rows) }))
	// A second live round of the record date, or a reused request id, is
	// refused with nothing written.
	b, rows := newRound(t, villageA, "2026-02-28", "req-b", h)
	err := writeDividends(s, func(tx dividend.Writer) error { return tx.InsertRound(ctx, b, rows) })
	assert.True(t, fault.Is(err, fault.AlreadyExists), "%v", err)
	c, rows := newRound(t, villageA, "2026-02-27", "req-a", h)
	err = writeDividends(s, func(tx dividend.Writer) error { return tx.InsertRound(ctx, c, rows) })
	assert.True(t, fault.Is(err, fault.AlreadyExists), "%v", err)
	readDividends(t, s, func(tx dividend.Reader) error {
		list, err := tx.Rounds(ctx, dividend.RoundQuery{Village: villageA, Limit: 10})
		require.NoError(t, err)
		assert.Len(t, list, 1)
		_, err = tx.RoundRow(ctx, b.ID, h.ID)
		assert.True(t, fault.Is(err, fault.NotFound), "no line of the refused round was kept")
		return nil
	})
	// Another village, the same date: fine. The rejected round makes room.
	hb := newHousehold(t, villageB, 2)
	insert(t, s, hb)
	d, rows := newRound(t, villageB, "2026-02-28", "req-a", hb)
	require.NoError(t, writeDividends(s, func(tx dividend.Writer) error { return tx.InsertRound(ctx, d, rows) }))
	a.State = dividend.Rejected
	require.NoError(t, writeDividends(s, func(tx dividend.Writer) error { return tx.UpdateRound(ctx, a) }))
	require.NoError(t, writeDividends(s, func(tx dividend.Writer) error { return tx.InsertRound(ctx, b, rows[:0]) }))

	// Pages newest first.
	var ids []string
	before := ""
	for {
		var page []*dividend.Round
		readDividends(t, s, func(tx dividend.Reader) error {
			var err error
			page, err = tx.Rounds(ctx, dividend.RoundQuery{Village: villageA, Before: before, Limit: 1})
			return err
		})
		if len(page) == 0 {
			break
		}
		ids = append(ids, page[0].ID)
		before = page[0].ID
	}
	assert.Equal(t, []string{b.ID, a.ID}, ids)
}

func testDividendObjections(t *testing.T, s Store) {
	ctx := context.Background()
	h1, h2 := newHousehold(t, villageA, 1), newHousehold(t, villageA, 2)
	insert(t, s, h1)
	insert(t, s, h2)
	r, rows := newRound(t, villageA, "2026-02-28", "req", h1, h2)
	require.NoError(t, writeDividends(s, func(tx dividend.Writer) error { return tx.InsertRound(ctx, r, rows) }))
	obj := func(h *household.Household) *dividend.Objection {
		return &dividend.Objection{ID: newID(t), Round: r.ID, Village: villageA, Household: h.ID, Reason: "股份数不对",
			ObjectedBy: "hh", ObjectTime: base, State: dividend.Open}
	}
	o1 := obj(h1)
	require.NoError(t, writeDividends(s, func(tx dividend.Writer) error { return tx.InsertObjection(ctx, o1) }))
	// One open objection per household.
	err := writeDividends(s, func(tx dividend.Writer) error { return tx.InsertObjection(ctx, obj(h1)) })
	assert.True(t, fault.Is(err, fault.FailedPrecondition), "%v", err)
	o2 := obj(h2)
	require.NoError(t, writeDividends(s, func(tx dividend.Writer) error { return tx.InsertObjection(ctx, o2) }))
	// Only a household on the roll may object.
	stranger := newHousehold(t, villageA, 3)
	insert(t, s, stranger)
	err = writeDividends(s, func(tx dividend.Writer) error { return tx.InsertObjection(ctx, obj(stranger)) })
	assert.Error(t, err, "an objection of a household not on the roll")

	now := base.Add(time.Hour)
	o1.State, o1.ResolvedBy, o1.ResolveTime, o1.ResolveReason = dividend.Dismissed, "rev", &now, "核实无误"
	require.NoError(t, writeDividends(s, func(tx dividend.Writer) error { return tx.UpdateObjection(ctx, o1) }))
	// Resolved, the household may object again.
	o3 := obj(h1)
	require.NoError(t, writeDividends(s, func(tx dividend.Writer) error { return tx.InsertObjection(ctx, o3) }))

	readDividends(t, s, func(tx dividend.Reader) error {
		all, err := tx.Objections(ctx, r.ID, "")
		require.NoError(t, err)
		require.Len(t, all, 3)
		mine, err := tx.Objections(ctx, r.ID, h1.ID)
		require.NoError(t, err)
		require.Len(t, mine, 2)
		assert.Equal(t, o1.ID, mine[0].ID, "oldest first")
		got, err := tx.Objection(ctx, r.ID, o1.ID)
		require.NoError(t, err)
		assert.Equal(t, dividend.Dismissed, got.State)
		assert.Equal(t, "核实无误", got.ResolveReason)
		assert.True(t, now.Truncate(time.Microsecond).Equal(*got.ResolveTime))
		_, err = tx.Objection(ctx, r.ID, newID(t))
		assert.True(t, fault.Is(err, fault.NotFound))
		return nil
	})
}

func testDividendLinesNeverChange(t *testing.T, b Intruder) {
	ctx := context.Background()
	s := b.Store
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	r, rows := newRound(t, villageA, "2026-02-28", "req", h)
	require.NoError(t, s.Dividends().Write(ctx, func(tx dividend.Writer) error { return tx.InsertRound(ctx, r, rows) }))
	for _, stmt := range []string{`UPDATE dividend_lines SET amount = amount + 1`, `DELETE FROM dividend_lines`} {
		assert.ErrorContains(t, b.Try(stmt), "never change", stmt)
	}
}

// testDividendRoll: who is on the roll at a day, with which facts, points
// and listings.
func testDividendRoll(t *testing.T, s Store) {
	ctx := context.Background()
	early := newHousehold(t, villageA, 1) // registered 2020, facts v1 as of 2026-02-28, v2 as of 2026-03-20
	insert(t, s, early)
	v2 := early.Facts
	v2.Version, v2.AsOf, v2.CollectiveShares = 2, "2026-03-20", decimal.RequireFromString("12.5")
	require.NoError(t, s.Households().Write(ctx, func(tx household.Writer) error { return tx.InsertFacts(ctx, early.ID, v2) }))
	late := newHousehold(t, villageA, 2) // facts first recorded after the day: its first version counts
	late.Facts.AsOf, late.Facts.CollectiveShares = "2026-04-01", decimal.RequireFromString("7")
	insert(t, s, late)
	newcomer := newHousehold(t, villageA, 3) // registered after the day: not on the roll
	newcomer.Registered = "2026-03-16"
	insert(t, s, newcomer)
	other := newHousehold(t, villageB, 4) // another village
	insert(t, s, other)

	require.NoError(t, appendToSheet(s, early.ID, award("d1", early.ID, "5", "2026-03-10", true)))
	black := newEvidence(t, late, 10)
	black.Kind, black.ItemCode, black.Quantity, black.CatalogueHash = evidence.BlackList, "", 0, ""
	black.ValidUntil, black.State, black.NoticeStart, black.NoticeEnd = "2027-06-30", evidence.Posted, "2026-03-01", "2026-03-08"
	insertEvidence(t, s, black)
	pending := newEvidence(t, early, 11) // not posted: not read
	pending.Kind, pending.ItemCode, pending.Quantity, pending.CatalogueHash = evidence.BlackList, "", 0, ""
	pending.ValidUntil = "2027-06-30"
	insertEvidence(t, s, pending)

	var got []*dividend.RollRow
	require.NoError(t, s.Dividends().Roll(ctx, villageA, "2026-03-15", func(r *dividend.RollRow) error {
		got = append(got, r)
		return nil
	}))
	want := []string{early.ID, late.ID}
	slices.Sort(want)
	require.Len(t, got, 2)
	assert.Equal(t, want, []string{got[0].Household, got[1].Household}, "in id order; the newcomer and the other village are not on the roll")
	for _, r := range got {
		switch r.Household {
		case early.ID:
			assert.Equal(t, "10", r.Shares.String(), "v1 is in force on the 15th, v2 only from the 20th")
			assert.Equal(t, early.HeadName, r.HeadName)
			assert.Equal(t, early.Group, r.Group)
			require.Len(t, r.Entries, 1)
			assert.Equal(t, "5", r.Entries[0].Points.String())
			assert.Empty(t, r.BlackLists, "a pending listing is not read")
		case late.ID:
			assert.Equal(t, "7", r.Shares.String(), "facts first recorded later: the first version")
			assert.Empty(t, r.Entries)
			require.Len(t, r.BlackLists, 1)
			assert.True(t, dividend.BlackListedOn(r.BlackLists, "2026-03-15"))
		}
	}
	// On the 20th the second facts version counts; the newcomer is not on
	// the roll until the 16th.
	var shares []string
	require.NoError(t, s.Dividends().Roll(ctx, villageA, "2026-03-20", func(r *dividend.RollRow) error {
		if r.Household == early.ID {
			shares = append(shares, r.Shares.String())
		}
		return nil
	}))
	assert.Equal(t, []string{"12.5"}, shares)
	n := 0
	require.NoError(t, s.Dividends().Roll(ctx, villageA, "2026-03-16", func(*dividend.RollRow) error { n++; return nil }))
	assert.Equal(t, 3, n)
	// An error from fn stops the walk.
	stop := fmt.Errorf("stop")
	err := s.Dividends().Roll(ctx, villageA, "2026-03-16", func(*dividend.RollRow) error { return stop })
	assert.ErrorIs(t, err, stop)
}
