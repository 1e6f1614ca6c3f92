package evidence_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
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
	catalogues "github.com/sanzhi/sanzhi/examples/catalogues"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

const nanyang = "330483102215"

// fixture is the evidence service over a real store with the example
// catalogues active, a few Nanyang households and a clock the test moves.
type fixture struct {
	st                                   *sqlstore.Store
	svc                                  *evidence.Service
	hh                                   *household.Service
	clock                                atomic.Pointer[time.Time]
	homes                                []string // household resource names
	clerk, reviewer, reviewer2, villager *access.Principal
}

func (f *fixture) now() time.Time { return *f.clock.Load() }

func (f *fixture) advance(d time.Duration) {
	t := f.now().Add(d)
	f.clock.Store(&t)
}

func stores(t *testing.T, fn func(t *testing.T, st *sqlstore.Store)) {
	storetest.Backends(t, fn)
}

func newFixture(t *testing.T, st *sqlstore.Store, homes int) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{st: st}
	start := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC) // 09:00 in Shanghai
	f.clock.Store(&start)
	cats := catalogue.NewService(st.Catalogues(), f.now)
	op1 := &access.Principal{ID: "op1", Role: access.Operator}
	op2 := &access.Principal{ID: "op2", Role: access.Operator}
	county, err := catalogues.FS.ReadFile(catalogues.CountyFile)
	require.NoError(t, err)
	village, err := catalogues.FS.ReadFile(catalogues.VillageFile("nanyang"))
	require.NoError(t, err)
	_, err = cats.Upload(ctx, op1, "counties/330483", county)
	require.NoError(t, err)
	_, err = cats.Activate(ctx, op2, "counties/330483/catalogues/1")
	require.NoError(t, err)
	_, err = cats.Upload(ctx, op1, "villages/"+nanyang, village)
	require.NoError(t, err)
	_, err = cats.Activate(ctx, op2, "villages/"+nanyang+"/catalogues/1")
	require.NoError(t, err)

	secret, key := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(key)
	kr, err := pii.NewKeyring(secret, "k1", key)
	require.NoError(t, err)
	f.hh = household.NewService(st.Households(), pii.Sealer{Keyring: kr}, f.now)
	f.clerk = &access.Principal{ID: "clerk", Role: access.VillageClerk, Scope: access.Scope{Villages: []string{nanyang}}}
	f.reviewer = &access.Principal{ID: "reviewer", Role: access.VillageReviewer, Scope: access.Scope{Villages: []string{nanyang}}}
	f.reviewer2 = &access.Principal{ID: "reviewer2", Role: access.VillageReviewer, Scope: access.Scope{Villages: []string{nanyang}}}
	for i := range homes {
		first17 := fmt.Sprintf("33048319800101%03d", 100+i)
		c, err := idnum.CheckDigit(first17)
		require.NoError(t, err)
		h, err := f.hh.Create(ctx, f.clerk, household.CreateInput{
			Parent: "villages/" + nanyang, HeadName: fmt.Sprintf("户主%d", i), HeadIDNumber: first17 + string(c),
			Group: 1, Registered: "2020-01-01", RequestID: fmt.Sprintf("home-%d", i),
			Facts: &household.FactsInput{Members: 3, Labourers: 2, AnnualIncome: "80000", LandAreaMu: "2", CollectiveShares: "1", ExistingDebt: "0", Source: "test", AsOf: "2026-01-01"},
		})
		require.NoError(t, err)
		f.homes = append(f.homes, h.Name())
	}
	f.villager = &access.Principal{ID: "villager", Role: access.Household, Scope: access.Scope{Household: lastSegment(f.homes[len(f.homes)-1])}}
	f.svc = evidence.NewService(st.Evidence(), cats, f.now)
	return f
}

func lastSegment(name string) string {
	_, id, _ := household.ParseName(name, "")
	return id
}

func smartBin(home, req string) evidence.SubmitInput {
	return evidence.SubmitInput{Parent: home, Kind: evidence.Points, ItemCode: "DZ-ML-01", Quantity: 1,
		OccurredOn: "2026-03-01", SystemSource: "smart-bin-07", RequestID: req}
}

func auditCount(t *testing.T, st *sqlstore.Store) int64 {
	t.Helper()
	n, err := st.QueueLength(context.Background())
	require.NoError(t, err)
	return n
}

// Many goroutines post the same capped item for one household at once:
// every submission is stored, the cap holds exactly (DZ-ML-01 is 0.5 a
// time, 24 a year: 60 × 0.5 = 30 asked, 24 posted, 6 capped), retries are
// no-ops, and every stored submission left one audit record.
func TestConcurrentSubmissionsRespectTheCap(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		f := newFixture(t, st, 2)
		ctx := context.Background()
		home := f.homes[0]
		before := auditCount(t, st)

		const n = 60
		var wg sync.WaitGroup
		ids := make([]string, n)
		errs := make([]error, 2*n)
		for i := range 2 * n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// every request is sent twice, concurrently
				e, err := f.svc.Submit(ctx, f.clerk, smartBin(home, fmt.Sprintf("bin-%d", i%n)))
				errs[i] = err
				if err == nil && i < n {
					ids[i] = e.ID
				}
			}()
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "submission %d", i)
		}
		page, err := f.svc.List(ctx, evidence.Filter{Parent: home}, 500, "")
		require.NoError(t, err)
		require.Len(t, page.Evidence, n, "a repeated request id adds nothing")
		for _, e := range page.Evidence {
			assert.Equal(t, evidence.Posted, e.State, "a machine-recorded item goes straight to 公示")
		}
		assert.Equal(t, int64(n), auditCount(t, st)-before, "one audit record per stored submission")

		bal, err := f.svc.Points(ctx, home, "")
		require.NoError(t, err)
		assert.Equal(t, "100", bal.Credit.String(), "on notice: nothing counts yet")

		f.advance(7 * 24 * time.Hour) // 公示 is 7 days
		bal, err = f.svc.Points(ctx, home, "")
		require.NoError(t, err)
		assert.Equal(t, "124", bal.Credit.String())
		assert.Equal(t, "24", bal.Redeemable.String())
		var capped decimal.Decimal
		for _, e := range bal.Entries {
			capped = capped.Add(e.Capped)
		}
		assert.Equal(t, "6", capped.String(), "the excess is recorded as capped")
		other, err := f.svc.Points(ctx, f.homes[1], "")
		require.NoError(t, err)
		assert.Equal(t, "100", other.Credit.String(), "another household is untouched")

		// And 30 concurrent redemptions of 1 point from 24 redeemable.
		var ok, short atomic.Int32
		for i := range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.Redeem(ctx, f.clerk, evidence.RedeemInput{Household: home, Amount: "1", RequestID: fmt.Sprintf("shop-%d", i)})
				switch {
				case err == nil:
					ok.Add(1)
				case fault.Is(err, fault.FailedPrecondition):
					short.Add(1)
				default:
					t.Errorf("redeem %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, int32(24), ok.Load())
		assert.Equal(t, int32(6), short.Load())
		bal, err = f.svc.Points(ctx, home, "")
		require.NoError(t, err)
		assert.Equal(t, "0", bal.Redeemable.String(), "never overdrawn")
		assert.Equal(t, "124", bal.Credit.String(), "redemptions never touch credit points")
	})
}

// Two reviewers approve the same evidence at once: exactly one wins and
// exactly one ledger entry is posted.
func TestConcurrentReviewsPostOnce(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		f := newFixture(t, st, 1)
		ctx := context.Background()
		e, err := f.svc.Submit(ctx, f.clerk, evidence.SubmitInput{Parent: f.homes[0], Kind: evidence.Points,
			ItemCode: "DZ-XF-07", Quantity: 1, OccurredOn: "2026-02-20", Witness: "张三", RequestID: "help-1",
			Attachments: []evidence.Attachment{{Kind: "photo", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}})
		require.NoError(t, err)
		require.Equal(t, evidence.PendingReview, e.State)
		var wg sync.WaitGroup
		var wins, lost atomic.Int32
		for _, r := range []*access.Principal{f.reviewer, f.reviewer2, f.reviewer, f.reviewer2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.Review(ctx, r, e.Name(), true, "")
				if err == nil {
					wins.Add(1)
				} else if fault.Is(err, fault.FailedPrecondition) {
					lost.Add(1)
				} else {
					t.Errorf("review: %v", err)
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, int32(1), wins.Load())
		assert.Equal(t, int32(3), lost.Load())
		f.advance(8 * 24 * time.Hour)
		bal, err := f.svc.Points(ctx, f.homes[0], "")
		require.NoError(t, err)
		require.Len(t, bal.Entries, 1)
	})
}

// Reviewers approve eight pieces of one household's evidence at once. On
// PostgreSQL these run guarded (READ COMMITTED): all but one lose the
// race on the household's sheet and must be run again by the store, not
// refused, and the annual cap must hold across them (DZ-XF-07: 2 points,
// 10 a year, in the county catalogue).
func TestConcurrentReviewsOfOneHousehold(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		f := newFixture(t, st, 1)
		ctx := context.Background()
		const n = 8
		names := make([]string, n)
		for i := range names {
			e, err := f.svc.Submit(ctx, f.clerk, evidence.SubmitInput{Parent: f.homes[0], Kind: evidence.Points,
				ItemCode: "DZ-XF-07", Quantity: 1, OccurredOn: "2026-02-20", Witness: "张三", RequestID: fmt.Sprintf("help-%d", i),
				Attachments: []evidence.Attachment{{Kind: "photo", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}})
			require.NoError(t, err)
			require.Equal(t, evidence.PendingReview, e.State)
			names[i] = e.Name()
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{}) // all at once, so that they race
		for i, name := range names {
			r := []*access.Principal{f.reviewer, f.reviewer2}[i%2]
			wg.Go(func() {
				<-start
				_, errs[i] = f.svc.Review(ctx, r, name, true, "")
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "review %d", i)
		}
		f.advance(8 * 24 * time.Hour)
		bal, err := f.svc.Points(ctx, f.homes[0], "")
		require.NoError(t, err)
		require.Len(t, bal.Entries, n, "one entry per approval")
		var posted, capped decimal.Decimal
		for _, e := range bal.Entries {
			posted, capped = posted.Add(e.Points), capped.Add(e.Capped)
		}
		assert.Equal(t, "10", posted.String(), "the annual cap holds")
		assert.Equal(t, "6", capped.String(), "16 asked for, 10 posted")
		assert.Equal(t, "110", bal.Credit.String())
	})
}

// The whole life of one piece of evidence, with the balance checked at
// every step and for past days after the fact.
func TestWorkflowAndReplay(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		f := newFixture(t, st, 2)
		ctx := context.Background()
		home := f.homes[0]
		photo := []evidence.Attachment{{Kind: "photo", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}
		help := func(req string) *evidence.Evidence {
			e, err := f.svc.Submit(ctx, f.clerk, evidence.SubmitInput{Parent: home, Kind: evidence.Points,
				ItemCode: "DZ-XF-07", Quantity: 1, OccurredOn: "2026-02-20", Witness: "张三", RequestID: req, Attachments: photo})
			require.NoError(t, err)
			return e
		}
		item := "DZ-XF-07"
		cat, err := catalogue.NewService(st.Catalogues(), f.now).Effective(ctx, nanyang)
		require.NoError(t, err)
		it, ok := cat.Item(item)
		require.True(t, ok)

		a := help("a")
		_, err = f.svc.Review(ctx, f.clerk, a.Name(), true, "")
		require.True(t, fault.Is(err, fault.FailedPrecondition), "self review: %v", err)
		a, err = f.svc.Review(ctx, f.reviewer, a.Name(), true, "")
		require.NoError(t, err)
		assert.Equal(t, household.Date("2026-03-02"), a.NoticeStart)
		assert.Equal(t, household.Date("2026-03-09"), a.NoticeEnd)
		board, today, err := f.svc.Board(ctx, "villages/"+nanyang, 50, "")
		require.NoError(t, err)
		assert.Equal(t, household.Date("2026-03-02"), today)
		require.Len(t, board.Evidence, 1)

		// a villager objects on day 3: disputed, and the points never count
		f.advance(2 * 24 * time.Hour)
		a, err = f.svc.Object(ctx, f.villager, a.Name(), "那天他不在村里")
		require.NoError(t, err)
		assert.Equal(t, evidence.Disputed, a.State)
		f.advance(10 * 24 * time.Hour) // 03-14, past the notice
		bal, err := f.svc.Points(ctx, home, "")
		require.NoError(t, err)
		assert.Equal(t, "100", bal.Credit.String(), "disputed points do not count")

		// uphold: counts from today
		a, err = f.svc.Resolve(ctx, f.reviewer, a.Name(), true, "邻居作证属实")
		require.NoError(t, err)
		assert.Equal(t, evidence.Posted, a.State)
		assert.Equal(t, household.Date("2026-03-14"), a.NoticeEnd)
		bal, err = f.svc.Points(ctx, home, "")
		require.NoError(t, err)
		assert.True(t, bal.Credit.Equal(decimal.NewFromInt(100).Add(it.Points)), "credit %s", bal.Credit)

		// revoke a week later: the reversal counts from that day only
		f.advance(7 * 24 * time.Hour) // 03-21
		_, err = f.svc.Revoke(ctx, f.clerk, a.Name(), "材料有误")
		require.NoError(t, err)
		_, err = f.svc.Revoke(ctx, f.clerk, a.Name(), "again")
		require.True(t, fault.Is(err, fault.FailedPrecondition), "revoke twice: %v", err)
		now, err := f.svc.Points(ctx, home, "")
		require.NoError(t, err)
		assert.Equal(t, "100", now.Credit.String())
		past, err := f.svc.Points(ctx, home, "2026-03-20")
		require.NoError(t, err)
		assert.True(t, past.Credit.Equal(decimal.NewFromInt(100).Add(it.Points)), "a past day keeps its answer: %s", past.Credit)
		_, err = f.svc.Points(ctx, home, "2026-03-22")
		require.True(t, fault.Is(err, fault.Invalid), "future as_of: %v", err)

		// a rejected submission never reaches the ledger
		b := help("b")
		_, err = f.svc.Review(ctx, f.reviewer, b.Name(), false, "")
		require.True(t, fault.Is(err, fault.Invalid), "a rejection needs a reason")
		b, err = f.svc.Review(ctx, f.reviewer, b.Name(), false, "照片不清楚")
		require.NoError(t, err)
		assert.Equal(t, evidence.Rejected, b.State)
		_, err = f.svc.Review(ctx, f.reviewer2, b.Name(), true, "")
		require.True(t, fault.Is(err, fault.FailedPrecondition), "review of a rejected entry")

		// the ranking of March: nobody gained anything net
		r, err := f.svc.Ranking(ctx, "villages/"+nanyang, "2026Q1")
		require.NoError(t, err)
		require.Len(t, r.Rows, 2)
		assert.False(t, r.Final)
		for _, row := range r.Rows {
			assert.Equal(t, 1, row.Rank)
			assert.True(t, row.Points.IsZero())
		}
	})
}

// A black-list listing raises an event when posted and another when
// revoked; the household's standing follows.
func TestBlackListEvents(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		f := newFixture(t, st, 1)
		ctx := context.Background()
		home := f.homes[0]
		e, err := f.svc.Submit(ctx, f.clerk, evidence.SubmitInput{Parent: home, Kind: evidence.BlackList,
			ValidUntil: "2027-03-01", OccurredOn: "2026-02-27", Note: "酒后滋事", RequestID: "black-1"})
		require.NoError(t, err)
		_, err = f.svc.Review(ctx, f.reviewer, e.Name(), true, "")
		require.NoError(t, err)
		var events []evidence.Event
		require.NoError(t, st.Evidence().Read(ctx, func(r evidence.Reader) error {
			events, err = r.Events(ctx, 0, 10)
			return err
		}))
		require.Len(t, events, 1)
		assert.Equal(t, evidence.EventBlacklisted, events[0].Type)
		assert.Equal(t, e.ID, events[0].EvidenceID)

		f.advance(7 * 24 * time.Hour)
		sd, err := f.svc.Standing(ctx, home, "")
		require.NoError(t, err)
		assert.True(t, sd.Blacklisted())

		f.advance(24 * time.Hour)
		_, err = f.svc.Revoke(ctx, f.reviewer, e.Name(), "已改正")
		require.NoError(t, err)
		require.NoError(t, st.Evidence().Read(ctx, func(r evidence.Reader) error {
			events, err = r.Events(ctx, events[0].Seq, 10)
			return err
		}))
		require.Len(t, events, 1)
		assert.Equal(t, evidence.EventBlacklistLifted, events[0].Type)
		sd, err = f.svc.Standing(ctx, home, "")
		require.NoError(t, err)
		assert.False(t, sd.Blacklisted())
		day := points.AddDays(household.Today(f.now()), -1)
		sd, err = f.svc.Standing(ctx, home, string(day))
		require.NoError(t, err)
		assert.True(t, sd.Blacklisted(), "the day before the revocation keeps its answer")
	})
}
