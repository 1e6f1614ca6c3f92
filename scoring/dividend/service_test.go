package dividend_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/dividend"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

const nanyang = "330483102215"

type fixture struct {
	st                                 *sqlstore.Store
	svc                                *dividend.Service
	clock                              atomic.Pointer[time.Time]
	homes                              []*household.Household
	clerk, clerk2, reviewer, reviewer2 *access.Principal
	villager                           *access.Principal // the household homes[0]
	outsider                           *access.Principal // a clerk of another village
}

func (f *fixture) now() time.Time { return *f.clock.Load() }

func (f *fixture) advance(d time.Duration) {
	t := f.now().Add(d)
	f.clock.Store(&t)
}

func (f *fixture) audits(t *testing.T) int64 {
	t.Helper()
	n, err := f.st.QueueLength(context.Background())
	require.NoError(t, err)
	return n
}

const rule1 = `kind: dividend_rule
village: "330483102215"
version: 1
name: 南阳村股份+积分分红
split: {shares_percent: 60, points_percent: 40}
points: {balance: credit}
exclusions: {black_list: points}
public_notice_days: 7
`

// newFixture: five Nanyang households with shares 1..5 (registered
// 2020), points 10, 20, 0, -5 and 30 effective 2026-03-10, the fourth
// black-listed; an active rule (60 % shares, 40 % points); the clock on
// 2026-04-01.
func newFixture(t *testing.T, st *sqlstore.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{st: st}
	start := time.Date(2026, 4, 1, 1, 0, 0, 0, time.UTC) // 09:00 in Shanghai
	f.clock.Store(&start)
	secret, key := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(key)
	kr, err := pii.NewKeyring(secret, "k1", key)
	require.NoError(t, err)
	hh := household.NewService(st.Households(), pii.Sealer{Keyring: kr}, f.now)
	staff := func(id string, role access.Role, village string) *access.Principal {
		return &access.Principal{ID: id, Name: id, Role: role, Scope: access.Scope{Villages: []string{village}}}
	}
	f.clerk = staff("clerk", access.VillageClerk, nanyang)
	f.clerk2 = staff("clerk2", access.VillageClerk, nanyang)
	f.reviewer = staff("reviewer", access.VillageReviewer, nanyang)
	f.reviewer2 = staff("reviewer2", access.VillageReviewer, nanyang)
	f.outsider = staff("outsider", access.VillageClerk, "330483105208")
	pts := []string{"10", "20", "0", "-5", "30"}
	for i := range 5 {
		first17 := fmt.Sprintf("33048319700101%03d", 100+i)
		c, err := idnum.CheckDigit(first17)
		require.NoError(t, err)
		h, err := hh.Create(ctx, f.clerk, household.CreateInput{
			Parent: "villages/" + nanyang, HeadName: fmt.Sprintf("户主%d", i+1), HeadIDNumber: first17 + string(c),
			Group: int32(i%3 + 1), Registered: "2020-01-01", RequestID: fmt.Sprintf("home-%d", i),
			Facts: &household.FactsInput{Members: 3, Labourers: 2, AnnualIncome: "80000", LandAreaMu: "2",
				CollectiveShares: fmt.Sprint(i + 1), ExistingDebt: "0", Source: "test", AsOf: "2026-01-01"},
		})
		require.NoError(t, err)
		f.homes = append(f.homes, h)
		if pts[i] != "0" {
			addPoints(t, st, h, pts[i], "2026-03-10", fmt.Sprintf("e-%d", i))
		}
	}
	black := &evidence.Evidence{ID: "0190a000-0000-7000-8000-000000000004", Village: nanyang, Household: f.homes[3].ID,
		Kind: evidence.BlackList, ValidUntil: "2027-01-01", OccurredOn: "2026-02-01", Note: "违建",
		State: evidence.Posted, SubmittedBy: "clerk", SubmitTime: start, RequestID: "black-4", RequestHash: "h",
		NoticeStart: "2026-02-01", NoticeEnd: "2026-02-08", ProposedAmount: decimal.Zero}
	require.NoError(t, st.Evidence().Write(ctx, func(tx evidence.Writer) error { return tx.InsertEvidence(ctx, black) }))
	f.villager = &access.Principal{ID: "villager", Name: "villager", Role: access.Household, Scope: access.Scope{Household: f.homes[0].ID}}
	f.svc = dividend.NewService(st.Dividends(), f.now)
	_, err = f.svc.UploadRule(ctx, f.clerk, "villages/"+nanyang, []byte(rule1))
	require.NoError(t, err)
	_, err = f.svc.ActivateRule(ctx, f.reviewer, dividend.RuleName(nanyang, 1))
	require.NoError(t, err)
	return f
}

// addPoints appends a for-credit award (or deduction) to a household's
// ledger, as the evidence workflow would once its 公示 ends.
func addPoints(t *testing.T, st *sqlstore.Store, h *household.Household, pts string, effective household.Date, id string) {
	t.Helper()
	ctx := context.Background()
	p := decimal.RequireFromString(pts)
	kind := points.Award
	if p.IsNegative() {
		kind = points.Deduction
	}
	e := points.Entry{ID: id, Household: h.ID, EvidenceID: "ev-" + id, ItemCode: "DZ-XF-01", Domain: points.Virtue,
		Area: "xiangfeng", Kind: kind, Quantity: 1, Requested: p, Points: p, Capped: decimal.Zero,
		OccurredOn: "2026-03-01", EffectiveOn: effective, ValidUntil: "2028-03-10", ForCredit: true}
	require.NoError(t, st.Evidence().Write(ctx, func(tx evidence.Writer) error {
		sh, err := tx.Sheet(ctx, h.ID)
		if err != nil {
			return err
		}
		sh.Entries = append(sh.Entries, e)
		return tx.AppendEntries(ctx, sh, []points.Entry{e})
	}))
}

func validID(t *testing.T) string {
	c, err := idnum.CheckDigit("33048319700101100")
	require.NoError(t, err)
	return "33048319700101100" + string(c)
}

func input(req string) dividend.CreateInput {
	return dividend.CreateInput{Parent: "villages/" + nanyang, Title: "2025年度股份+积分分红", Pool: "10000.00",
		RecordDate: "2026-03-31", RequestID: req}
}

func reason(err error) string {
	var f *fault.Error
	if !errors.As(err, &f) {
		return fmt.Sprint(err)
	}
	return f.Reason
}

// The whole round, from the clerk's draft to the bank's file, with every
// refusal on the way: each refused step writes nothing, each step that
// goes through writes one audit record.
func TestRoundWorkflow(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		f := newFixture(t, st)
		ctx := context.Background()

		before := f.audits(t)
		r, err := f.svc.CreateRound(ctx, f.clerk, input("round-1"))
		require.NoError(t, err)
		assert.Equal(t, before+1, f.audits(t))
		assert.Equal(t, dividend.Draft, r.State)
		assert.Equal(t, 5, r.Households)
		assert.Equal(t, "15", r.TotalShares.String(), "shares 1+2+3+4+5")
		assert.Equal(t, "60", r.TotalPoints.String(), "10+20+30; the listed household's and negative points do not count")

		// By hand: 6000 by shares (15), 4000 by points (60).
		// h1: 400 + 666.666… ; h2: 800 + 1333.333… ; h3: 1200;
		// h4: 1600 (listed: no points part); h5: 2000 + 2000.
		// Fen: 106666.67 → floor 106666, rem 2/3; 213333.33 → 213333,
		// rem 1/3. One fen over: to h1 (the larger remainder).
		page, err := f.svc.ListRows(ctx, r.Name(), 0, "")
		require.NoError(t, err)
		got := map[string]int64{}
		var total int64
		for _, row := range page.Rows {
			got[row.HeadName] = row.Amount
			total += row.Amount
		}
		assert.Equal(t, map[string]int64{"户主1": 106667, "户主2": 213333, "户主3": 120000, "户主4": 160000, "户主5": 400000}, got)
		assert.Equal(t, int64(1000000), total, "to the fen")

		// The same request again: the same round, nothing written.
		again, err := f.svc.CreateRound(ctx, f.clerk, input("round-1"))
		require.NoError(t, err)
		assert.Equal(t, r.ID, again.ID)
		other := input("round-1")
		other.Pool = "9999.99"
		_, err = f.svc.CreateRound(ctx, f.clerk, other)
		assert.Equal(t, "REQUEST_ID_REUSED", reason(err))
		_, err = f.svc.CreateRound(ctx, f.clerk, input("round-2"))
		assert.Equal(t, "ROUND_EXISTS", reason(err), "one live round per record date")
		assert.Equal(t, before+1, f.audits(t))

		// Review: not by its creator; then 公示 for the rule's 7 days.
		_, err = f.svc.ReviewRound(ctx, f.clerk, r.Name(), true, "")
		assert.Equal(t, "SELF_REVIEW", reason(err))
		_, err = f.svc.ReviewRound(ctx, f.reviewer, r.Name(), false, "")
		assert.True(t, fault.Is(err, fault.Invalid), "a rejection needs a reason")
		// The household does not see a draft.
		_, err = f.svc.Statement(ctx, f.villager, r.Name(), f.homes[0].Name())
		assert.Equal(t, "ROUND_NOT_PUBLISHED", reason(err))
		r, err = f.svc.ReviewRound(ctx, f.reviewer, r.Name(), true, "")
		require.NoError(t, err)
		assert.Equal(t, dividend.OnNotice, r.State)
		assert.Equal(t, household.Date("2026-04-01"), r.NoticeStart)
		assert.Equal(t, household.Date("2026-04-08"), r.NoticeEnd)
		_, err = f.svc.ReviewRound(ctx, f.reviewer2, r.Name(), true, "")
		assert.Equal(t, "ROUND_NOT_DRAFT", reason(err))
		assert.Equal(t, before+2, f.audits(t))

		// The household's statement, now public.
		stmt, err := f.svc.Statement(ctx, f.villager, r.Name(), f.homes[0].Name())
		require.NoError(t, err)
		assert.Equal(t, int64(106667), stmt.Row.Amount)
		assert.Equal(t, "400", stmt.SharesPart.String())
		assert.Equal(t, "666.67", stmt.PointsPart.String())
		assert.Equal(t, "6000", stmt.SharesPool.String())

		// Objections: the household objects once; not after notice; the
		// approval waits for the notice and for the objection.
		o, err := f.svc.Object(ctx, f.villager, r.Name(), f.homes[0].Name(), "我家股份应为2股")
		require.NoError(t, err)
		assert.Equal(t, dividend.Open, o.State)
		_, err = f.svc.Object(ctx, f.villager, r.Name(), f.homes[0].Name(), "再提一次")
		assert.Equal(t, "ALREADY_OBJECTED", reason(err))
		_, err = f.svc.Object(ctx, f.clerk, r.Name(), f.homes[1].Name(), "")
		assert.True(t, fault.Is(err, fault.Invalid), "an objection needs a reason")
		_, err = f.svc.Object(ctx, f.clerk, r.Name(), "villages/330483105208/households/"+f.homes[1].ID, "x")
		assert.True(t, fault.Is(err, fault.Invalid), "a household of another village")
		_, err = f.svc.ApproveRound(ctx, f.reviewer, r.Name())
		assert.Equal(t, "NOTICE_NOT_ENDED", reason(err))
		f.advance(7 * 24 * time.Hour) // 2026-04-08: notice over
		_, err = f.svc.Object(ctx, f.clerk, r.Name(), f.homes[1].Name(), "晚了")
		assert.Equal(t, "NOTICE_ENDED", reason(err))
		_, err = f.svc.ApproveRound(ctx, f.reviewer, r.Name())
		assert.Equal(t, "OBJECTIONS_OPEN", reason(err))
		_, err = f.svc.ResolveObjection(ctx, f.clerk, o.Name(), false, "核实无误")
		assert.Equal(t, "SELF_RESOLVE", reason(err), "the round's creator does not judge objections to it")
		_, err = f.svc.ResolveObjection(ctx, f.reviewer, o.Name(), false, "")
		assert.True(t, fault.Is(err, fault.Invalid))
		assert.Equal(t, before+3, f.audits(t))
		o, err = f.svc.ResolveObjection(ctx, f.reviewer, o.Name(), false, "股份登记簿为1股，核实无误")
		require.NoError(t, err)
		assert.Equal(t, dividend.Dismissed, o.State)
		_, err = f.svc.ResolveObjection(ctx, f.reviewer2, o.Name(), true, "x")
		assert.Equal(t, "OBJECTION_RESOLVED", reason(err))

		// Approval: not by the creator; then the bank's file.
		_, err = f.svc.Payout(ctx, f.clerk, r.Name())
		assert.Equal(t, "ROUND_NOT_APPROVED", reason(err))
		_, err = f.svc.ApproveRound(ctx, f.clerk, r.Name())
		assert.Equal(t, "SELF_REVIEW", reason(err))
		assert.Equal(t, before+4, f.audits(t))
		r, err = f.svc.ApproveRound(ctx, f.reviewer2, r.Name())
		require.NoError(t, err)
		assert.Equal(t, dividend.Approved, r.State)
		assert.Equal(t, before+5, f.audits(t))

		p, err := f.svc.Payout(ctx, f.clerk, r.Name())
		require.NoError(t, err)
		assert.Equal(t, before+6, f.audits(t), "handing out the file is audited")
		assert.Equal(t, 5, p.Count)
		assert.Equal(t, int64(1000000), p.Total)
		require.True(t, bytes.HasPrefix(p.File, []byte("\xEF\xBB\xBF")), "UTF-8 with a byte order mark")
		recs, err := csv.NewReader(bytes.NewReader(p.File[3:])).ReadAll()
		require.NoError(t, err)
		require.Len(t, recs, 6)
		assert.Equal(t, dividend.PayoutColumns, recs[0])
		sum := decimal.Zero
		for _, rec := range recs[1:] {
			sum = sum.Add(decimal.RequireFromString(rec[4]))
		}
		assert.Equal(t, "10000.00", sum.StringFixed(2), "the file adds up to the pool")
		assert.Contains(t, string(p.File), "\r\n")
		assert.Contains(t, string(p.File), ",户主1,1,1066.67\r\n")

		// Verify: the replay and the ledger give the same bytes.
		v, err := f.svc.Verify(ctx, r.Name())
		require.NoError(t, err)
		assert.True(t, v.Identical)
		assert.True(t, v.LedgerIdentical)
		assert.Equal(t, r.AllocationHash, v.Replayed)
		assert.Zero(t, v.ChangedCount)

		// A correction dated before the record date, recorded later: the
		// replay is still identical, the ledger says what changed.
		addPoints(t, st, f.homes[2], "3", "2026-03-20", "late")
		v, err = f.svc.Verify(ctx, r.Name())
		require.NoError(t, err)
		assert.True(t, v.Identical)
		assert.False(t, v.LedgerIdentical)
		assert.Equal(t, []string{f.homes[2].ID}, v.Changed)
	})
}

func TestCreateRoundRefusals(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		f := newFixture(t, st)
		ctx := context.Background()
		before := f.audits(t)
		bad := map[string]func(*dividend.CreateInput){
			"negative pool":       func(in *dividend.CreateInput) { in.Pool = "-100" },
			"zero pool":           func(in *dividend.CreateInput) { in.Pool = "0" },
			"sub-fen pool":        func(in *dividend.CreateInput) { in.Pool = "100.001" },
			"pool too large":      func(in *dividend.CreateInput) { in.Pool = "100000000.01" },
			"pool not a number":   func(in *dividend.CreateInput) { in.Pool = "1e5" },
			"record date future":  func(in *dividend.CreateInput) { in.RecordDate = "2026-04-02" },
			"record date garbage": func(in *dividend.CreateInput) { in.RecordDate = "2026-02-30" },
			"no title":            func(in *dividend.CreateInput) { in.Title = " " },
			"ID number in title":  func(in *dividend.CreateInput) { in.Title = validID(t) + "分红" },
			"no request id":       func(in *dividend.CreateInput) { in.RequestID = "" },
			"bad parent":          func(in *dividend.CreateInput) { in.Parent = "villages/12" },
		}
		for name, m := range bad {
			in := input("bad-" + name)
			m(&in)
			_, err := f.svc.CreateRound(ctx, f.clerk, in)
			assert.True(t, fault.Is(err, fault.Invalid), "%s: %v", name, err)
		}
		in := input("other-version")
		in.RuleVersion = 2
		_, err := f.svc.CreateRound(ctx, f.clerk, in)
		assert.Equal(t, "RULE_NOT_ACTIVE", reason(err))
		// A village without a rule.
		in = input("no-rule")
		in.Parent = "villages/330483105208"
		_, err = f.svc.CreateRound(ctx, f.outsider, in)
		assert.Equal(t, "NO_ACTIVE_RULE", reason(err))
		// A record date before anyone was registered: no one to pay.
		in = input("empty-roll")
		in.RecordDate = "2019-12-31"
		_, err = f.svc.CreateRound(ctx, f.clerk, in)
		assert.Equal(t, "NO_HOUSEHOLDS", reason(err))
		// Before the points took effect: the points part has no one.
		in = input("no-points")
		in.RecordDate = "2026-03-09"
		_, err = f.svc.CreateRound(ctx, f.clerk, in)
		assert.Equal(t, "NO_POINTS", reason(err))

		assert.Equal(t, before, f.audits(t), "nothing was written")
		page, err := f.svc.ListRounds(ctx, "villages/"+nanyang, 0, "")
		require.NoError(t, err)
		assert.Empty(t, page.Rounds)
	})
}

func TestRuleLifecycle(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		f := newFixture(t, st)
		ctx := context.Background()
		v2 := strings.NewReplacer("version: 1", "version: 2", "shares_percent: 60", "shares_percent: 70",
			"points_percent: 40", "points_percent: 30").Replace(rule1)
		before := f.audits(t)
		_, err := f.svc.UploadRule(ctx, f.clerk, "villages/"+nanyang, []byte(strings.Replace(v2, "points_percent: 30", "points_percent: 20", 1)))
		assert.Equal(t, "DIVIDEND_RULE_INVALID", reason(err))
		_, err = f.svc.UploadRule(ctx, f.clerk, "villages/330483105208", []byte(v2))
		assert.True(t, fault.Is(err, fault.Invalid), "the document is another village's")
		rv, err := f.svc.UploadRule(ctx, f.clerk, "villages/"+nanyang, []byte(v2))
		require.NoError(t, err)
		assert.Equal(t, "draft", string(rv.State))
		_, err = f.svc.UploadRule(ctx, f.clerk, "villages/"+nanyang, []byte(v2+"# 改\n"))
		assert.True(t, fault.Is(err, fault.AlreadyExists), "versions never change")
		_, err = f.svc.ActivateRule(ctx, f.clerk, rv.Name())
		assert.Equal(t, "MAKER_CHECKER", reason(err))
		// A round of a draft version is refused.
		in := input("draft-rule")
		in.RuleVersion = 2
		_, err = f.svc.CreateRound(ctx, f.clerk, in)
		assert.Equal(t, "RULE_NOT_ACTIVE", reason(err))
		rv, err = f.svc.ActivateRule(ctx, f.reviewer, rv.Name())
		require.NoError(t, err)
		assert.Equal(t, "active", string(rv.State))
		old, err := f.svc.GetRule(ctx, dividend.RuleName(nanyang, 1))
		require.NoError(t, err)
		assert.Equal(t, "superseded", string(old.State))
		active, err := f.svc.GetRule(ctx, "villages/"+nanyang+"/dividendRules/active")
		require.NoError(t, err)
		assert.Equal(t, 2, active.Version)
		assert.Equal(t, before+2, f.audits(t))
		r, err := f.svc.CreateRound(ctx, f.clerk, in)
		require.NoError(t, err)
		assert.Equal(t, 2, r.RuleVersion)
	})
}

// An objection upheld withdraws the round; it never pays, and a new round
// of the same record date may be created.
func TestUpheldObjectionWithdraws(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		f := newFixture(t, st)
		ctx := context.Background()
		r, err := f.svc.CreateRound(ctx, f.clerk, input("r"))
		require.NoError(t, err)
		_, err = f.svc.Object(ctx, f.villager, r.Name(), f.homes[0].Name(), "早了")
		assert.Equal(t, "ROUND_NOT_ON_NOTICE", reason(err))
		_, err = f.svc.ReviewRound(ctx, f.reviewer, r.Name(), true, "")
		require.NoError(t, err)
		o, err := f.svc.Object(ctx, f.clerk2, r.Name(), f.homes[2].Name(), "户主3家漏登了股份")
		require.NoError(t, err)
		_, err = f.svc.ResolveObjection(ctx, f.clerk2, o.Name(), true, "x")
		assert.Equal(t, "SELF_RESOLVE", reason(err), "the objector does not judge")
		o, err = f.svc.ResolveObjection(ctx, f.reviewer2, o.Name(), true, "股份漏登，更正后重算")
		require.NoError(t, err)
		assert.Equal(t, dividend.Upheld, o.State)
		r, err = f.svc.GetRound(ctx, r.Name())
		require.NoError(t, err)
		assert.Equal(t, dividend.Withdrawn, r.State)
		f.advance(8 * 24 * time.Hour)
		_, err = f.svc.ApproveRound(ctx, f.reviewer, r.Name())
		assert.Equal(t, "ROUND_NOT_ON_NOTICE", reason(err))
		_, err = f.svc.Payout(ctx, f.clerk, r.Name())
		assert.Equal(t, "ROUND_NOT_APPROVED", reason(err))
		_, err = f.svc.CreateRound(ctx, f.clerk, input("r2"))
		require.NoError(t, err, "the withdrawn round makes room")
		objs, err := f.svc.ListObjections(ctx, r.Name())
		require.NoError(t, err)
		require.Len(t, objs, 1)
	})
}

// Approval replays the stored inputs: a round whose stored hash no longer
// matches them is not approved.
func TestApproveRefusesATamperedRound(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		f := newFixture(t, st)
		ctx := context.Background()
		r, err := f.svc.CreateRound(ctx, f.clerk, input("r"))
		require.NoError(t, err)
		_, err = f.svc.ReviewRound(ctx, f.reviewer, r.Name(), true, "")
		require.NoError(t, err)
		f.advance(8 * 24 * time.Hour)
		require.NoError(t, st.Conn().WriteTx(ctx, func(q sqlstore.Querier) error {
			_, err := q.Exec(ctx, `UPDATE dividend_rounds SET allocation_hash = $1 WHERE id = $2`, strings.Repeat("0", 64), r.ID)
			return err
		}))
		_, err = f.svc.ApproveRound(ctx, f.reviewer, r.Name())
		assert.Equal(t, "ALLOCATION_MISMATCH", reason(err))
		v, err := f.svc.Verify(ctx, r.Name())
		require.NoError(t, err)
		assert.False(t, v.Identical)
	})
}
