package evidence

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/paging"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// List returns a page of evidence matching f, newest first.
func (s *Service) List(ctx context.Context, f Filter, pageSize int32, pageToken string) (Page, error) {
	var v fault.Violations
	q := ListQuery{Kind: f.Kind, State: f.State, ItemCode: f.ItemCode}
	if strings.Count(f.Parent, "/") == 1 {
		q.Village = household.ParseVillageParent(f.Parent, "parent", &v)
	} else if village, hh, err := household.ParseName(f.Parent, "parent"); err != nil {
		v.Add("parent", "must be villages/{village_code} or villages/{village_code}/households/{household_id}, got %q", f.Parent)
	} else {
		q.Village, q.Household = village, hh
	}
	if f.Kind != "" && !f.Kind.Valid() {
		v.Add("kind", "unknown kind %q", f.Kind)
	}
	if f.State != "" && !validState(f.State) {
		v.Add("state", "unknown state %q", f.State)
	}
	scope := fmt.Sprintf("evidence|%s|%s|%s|%s", f.Parent, f.Kind, f.State, f.ItemCode)
	return s.page(ctx, q, scope, pageSize, pageToken, &v)
}

func validState(st State) bool {
	for _, x := range States {
		if st == x {
			return true
		}
	}
	return false
}

// Board returns the 公示 board of the village named by parent: what is on
// public notice today (until its NoticeEnd) and what is disputed.
func (s *Service) Board(ctx context.Context, parent string, pageSize int32, pageToken string) (Page, household.Date, error) {
	var v fault.Violations
	today := s.Today()
	q := ListQuery{Village: household.ParseVillageParent(parent, "parent", &v), OnNotice: today}
	page, err := s.page(ctx, q, "board|"+parent+"|"+string(today), pageSize, pageToken, &v)
	return page, today, err
}

func (s *Service) page(ctx context.Context, q ListQuery, scope string, pageSize int32, pageToken string, v *fault.Violations) (Page, error) {
	before := paging.Cursor(pageToken, scope, v)
	limit := paging.Limit(pageSize, v)
	if err := v.Err(); err != nil {
		return Page{}, err
	}
	q.Before, q.Limit = before, limit+1
	var items []*Evidence
	err := s.store.Read(ctx, func(tx Reader) error {
		var err error
		items, err = tx.ListEvidence(ctx, q)
		return err
	})
	if err != nil {
		return Page{}, err
	}
	page := Page{Evidence: items}
	if len(items) > limit {
		page.Evidence = items[:limit]
		page.NextToken = paging.Token(scope, items[limit-1].ID)
	}
	return page, nil
}

// asOf parses an as-of date: empty means today; a day after today is
// refused, because only a finished day's answer is final.
func asOf(field, s string, today household.Date) (household.Date, error) {
	if s == "" {
		return today, nil
	}
	d, err := household.ParseDate(s)
	if err != nil {
		return "", fault.InvalidField(field, "%q is not a date in YYYY-MM-DD form", s)
	}
	if d.After(today) {
		return "", fault.InvalidField(field, "%s is in the future (today is %s in Asia/Shanghai); points are known only up to today", d, today)
	}
	return d, nil
}

// endOf is the last instant of day d in Asia/Shanghai, or now when d is
// today.
func endOf(d household.Date, now time.Time) time.Time {
	end := d.Time().AddDate(0, 0, 1).Add(-time.Microsecond)
	if end.After(now) {
		return now
	}
	return end
}

// Points returns the household's balances as of the end of day asOf
// (empty: today). For a day before today the answer is final: the ledger
// is append-only and no entry is ever appended effective on a day already
// past, and the base is that of the catalogue the village used that day.
func (s *Service) Points(ctx context.Context, householdName, asOfDate string) (points.Balance, error) {
	now := s.clock()
	village, id, err := household.ParseName(householdName, "household")
	if err != nil {
		return points.Balance{}, err
	}
	day, err := asOf("as_of", asOfDate, household.Today(now))
	if err != nil {
		return points.Balance{}, err
	}
	sh, err := s.store.HouseholdSheet(ctx, village, id)
	if err != nil {
		return points.Balance{}, err
	}
	var cat *points.Catalogue
	if day == household.Today(now) {
		cat, err = s.cats.Effective(ctx, village)
	} else {
		cat, err = s.cats.EffectiveAt(ctx, village, endOf(day, now))
	}
	if err != nil {
		return points.Balance{}, err
	}
	return points.Balances(cat.BasePoints, sh.Entries, day), nil
}

// Redemption is the outcome of Redeem: the entry and the balance after it.
type Redemption struct {
	Entry   points.Entry
	Balance points.Balance
	// Duplicate is true when the request id had been redeemed already:
	// nothing new was written.
	Duplicate bool
}

var redemptionNS = uuid.MustParse("6f0d3c1e-54a3-4c4e-9b8e-2a1f7c5d9e60")

// Redeem spends points at the village's 兑换超市. It lowers only the
// redeemable balance and refuses to overdraw it. Repeating a request id
// returns the first result; the entry's ID is derived from the household
// and request id, so a retry finds it.
func (s *Service) Redeem(ctx context.Context, p *access.Principal, in RedeemInput) (Redemption, error) {
	now := s.clock()
	today := household.Today(now)
	var v fault.Violations
	village, id, err := household.ParseName(in.Household, "household")
	if err != nil {
		v.Add("household", "must be villages/{village_code}/households/{household_id}, got %q", in.Household)
	}
	amount, aerr := decimal.NewFromString(strings.TrimSpace(in.Amount))
	switch {
	case in.Amount == "":
		v.Add("amount", "is required")
	case aerr != nil:
		v.Add("amount", "%q is not a decimal number of points", in.Amount)
	case amount.Sign() <= 0:
		v.Add("amount", "must be positive, got %s", amount)
	case amount.GreaterThan(decimal.NewFromInt(1_000_000)):
		v.Add("amount", "%s points is more than any household can hold", amount)
	}
	if utf8.RuneCountInString(strings.TrimSpace(in.Note)) > MaxReason {
		v.Add("note", "must be at most %d characters", MaxReason)
	} else if m := idnum.FreeTextProblem("备注", "note", in.Note); m != "" {
		v.Add("note", "%s", m)
	}
	if in.RequestID == "" || len(in.RequestID) > 100 {
		v.Add("request_id", "is required, at most 100 bytes")
	} else if m := idnum.FreeTextProblem("请求号", "request_id", in.RequestID); m != "" {
		v.Add("request_id", "%s", m)
	}
	if err := v.Err(); err != nil {
		return Redemption{}, err
	}
	cat, err := s.cats.Effective(ctx, village)
	if err != nil {
		return Redemption{}, err
	}
	entry, err := points.NewRedemption(amount, today, cat.Precision)
	if err != nil {
		return Redemption{}, err
	}
	entry.ID = uuid.NewSHA1(redemptionNS, []byte(id+"\x00"+in.RequestID)).String()
	reqHash := audit.HashBytes([]byte("points.redeem\x00" + in.Household + "\x00" + amount.String() + "\x00" + strings.TrimSpace(in.Note)))
	var out Redemption
	err = s.store.Write(ctx, func(tx Writer) error {
		if _, err := tx.Household(ctx, village, id); err != nil {
			return err
		}
		sh, err := tx.Sheet(ctx, id)
		if err != nil {
			return err
		}
		sh.Household, sh.Village = id, village
		for _, x := range sh.Entries {
			if x.ID == entry.ID {
				if !x.Points.Equal(entry.Points) {
					return fault.New(fault.AlreadyExists, "REQUEST_ID_REUSED",
						"request id %q was already used for a redemption of %s points", in.RequestID, x.Points.Neg())
				}
				out = Redemption{Entry: x, Balance: points.Balances(cat.BasePoints, sh.Entries, today), Duplicate: true}
				return nil
			}
		}
		if err := points.Balances(cat.BasePoints, sh.Entries, today).CanRedeem(amount); err != nil {
			return err
		}
		var unbatched *ledgerBatch
		if err := unbatched.append(ctx, tx, sh, nil, entry); err != nil {
			return err
		}
		out = Redemption{Entry: sh.Entries[len(sh.Entries)-1], Balance: points.Balances(cat.BasePoints, sh.Entries, today)}
		return tx.Record(ctx, audit.Record{
			Time: now, Actor: p.ID, Action: "points.redeem", Subject: in.Household,
			RequestHash: reqHash,
			ResultHash:  audit.HashBytes([]byte(entry.ID + "\x00" + entry.Points.String() + "\x00" + out.Balance.Redeemable.String())),
			Payload: map[string]string{
				"village": village, "household": id, "entry": entry.ID,
				"points": amount.String(), "redeemable_after": out.Balance.Redeemable.String(),
			},
		})
	})
	return out, err
}

// Standing is what the village has established about a household, besides
// points, as of one day: the facts a bank's policy may read.
type Standing struct {
	AsOf household.Date
	// Star is the live star rating of the highest level (then most stars,
	// then latest), nil when none.
	Star *Evidence
	// RedList and BlackList are the live listings.
	RedList   []*Evidence
	BlackList []*Evidence
	// Recommendation is the live recommendation of the latest period, nil
	// when none.
	Recommendation *Evidence
}

// Blacklisted reports whether a black-list listing is live.
func (st Standing) Blacklisted() bool { return len(st.BlackList) > 0 }

// Standing returns the household's standing as of the end of day asOf
// (empty: today).
func (s *Service) Standing(ctx context.Context, householdName, asOfDate string) (Standing, error) {
	village, id, err := household.ParseName(householdName, "household")
	if err != nil {
		return Standing{}, err
	}
	day, err := asOf("as_of", asOfDate, s.Today())
	if err != nil {
		return Standing{}, err
	}
	var all []*Evidence
	err = s.store.Read(ctx, func(tx Reader) error {
		if _, err := tx.Household(ctx, village, id); err != nil {
			return err
		}
		for _, k := range []Kind{StarRating, RedList, BlackList, Recommendation} {
			before := ""
			for {
				list, err := tx.ListEvidence(ctx, ListQuery{Village: village, Household: id, Kind: k, Before: before, Limit: 200})
				if err != nil {
					return err
				}
				all = append(all, list...)
				if len(list) < 200 {
					break
				}
				before = list[len(list)-1].ID
			}
		}
		return nil
	})
	if err != nil {
		return Standing{}, err
	}
	return standingOf(all, day), nil
}

// standingOf picks the live facts out of a household's non-points
// evidence.
func standingOf(all []*Evidence, day household.Date) Standing {
	st := Standing{AsOf: day}
	for _, e := range all {
		if !e.liveOn(day) {
			continue
		}
		switch e.Kind {
		case StarRating:
			if st.Star == nil || betterStar(e, st.Star) {
				st.Star = e
			}
		case RedList:
			st.RedList = append(st.RedList, e)
		case BlackList:
			st.BlackList = append(st.BlackList, e)
		case Recommendation:
			if st.Recommendation == nil || periodKey(e.Period) > periodKey(st.Recommendation.Period) ||
				(periodKey(e.Period) == periodKey(st.Recommendation.Period) && e.ID > st.Recommendation.ID) {
				st.Recommendation = e
			}
		}
	}
	return st
}

func betterStar(a, b *Evidence) bool {
	if a.Level.Rank() != b.Level.Rank() {
		return a.Level.Rank() > b.Level.Rank()
	}
	if a.Stars != b.Stars {
		return a.Stars > b.Stars
	}
	return a.ID > b.ID
}

// periodKey orders periods by the day they end and, among periods ending
// the same day, the longer (more considered) one last: 2026Q2 < 2026H1 <
// 2026Q3 < 2026Q4 < 2026H2 < 2026.
func periodKey(p string) string {
	m := periodRE.FindStringSubmatch(p)
	if m == nil {
		return ""
	}
	end := map[string]string{"Q1": "03-31", "Q2": "06-30a", "H1": "06-30b", "Q3": "09-30", "Q4": "12-31a", "H2": "12-31b", "": "12-31c"}[m[2]]
	return m[1] + "-" + end
}

// RankRow is one household in the village ranking.
type RankRow struct {
	Total
	// Rank is 1-based; tied households share a rank and the next rank
	// skips ("1224" competition ranking), so a household's rank is one
	// more than the number of households strictly ahead of it.
	Rank int
}

// Ranking is a village's 排名 for one quarter: every household by the net
// for-credit points that became effective during the quarter.
type Ranking struct {
	Village string
	Quarter string
	From    household.Date
	To      household.Date
	// Final is true once the quarter has ended; before that the ranking
	// is provisional.
	Final bool
	Rows  []RankRow
}

var quarterRE = regexp.MustCompile(`^(20[0-9]{2})Q([1-4])$`)

// Rank orders totals by points, highest first, ties by household id so
// the order is stable, and assigns competition ranks.
func Rank(totals []Total) []RankRow {
	rows := make([]RankRow, len(totals))
	for i, t := range totals {
		rows[i] = RankRow{Total: t}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if c := rows[i].Points.Cmp(rows[j].Points); c != 0 {
			return c > 0
		}
		return rows[i].Household < rows[j].Household
	})
	for i := range rows {
		if i > 0 && rows[i].Points.Equal(rows[i-1].Points) {
			rows[i].Rank = rows[i-1].Rank
		} else {
			rows[i].Rank = i + 1
		}
	}
	return rows
}

// Ranking computes the quarterly ranking of the village named by parent
// for quarter ("2026Q3"), from the ledger.
func (s *Service) Ranking(ctx context.Context, parent, quarter string) (Ranking, error) {
	var v fault.Violations
	village := household.ParseVillageParent(parent, "parent", &v)
	m := quarterRE.FindStringSubmatch(quarter)
	if m == nil {
		v.Add("quarter", "must look like 2026Q3, got %q", quarter)
	}
	if err := v.Err(); err != nil {
		return Ranking{}, err
	}
	year, _ := strconv.Atoi(m[1])
	q, _ := strconv.Atoi(m[2])
	from := household.Date(fmt.Sprintf("%04d-%02d-01", year, 3*q-2))
	to := points.AddDays(points.AddMonths(from, 3), -1)
	today := s.Today()
	if from.After(today) {
		return Ranking{}, fault.InvalidField("quarter", "%s has not started yet (today is %s)", quarter, today)
	}
	// An unfinished quarter counts what is effective so far, not points
	// still on notice.
	upTo := to
	if to.After(today) {
		upTo = today
	}
	var totals []Total
	err := s.store.Read(ctx, func(tx Reader) error {
		var err error
		totals, err = tx.Totals(ctx, village, from, upTo)
		return err
	})
	if err != nil {
		return Ranking{}, err
	}
	return Ranking{Village: village, Quarter: quarter, From: from, To: to, Final: today.After(to), Rows: Rank(totals)}, nil
}
