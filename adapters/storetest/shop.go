package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
	"github.com/sanzhi/sanzhi/scoring/shop"
)

// fixedCatalogue is the points catalogue the shop service reads for a
// village (its precision and base): a value, as the catalogue service
// would return it; the shop's storage is what is under test.
type fixedCatalogue struct{ precision int32 }

func (c fixedCatalogue) Effective(context.Context, string) (*points.Catalogue, error) {
	return &points.Catalogue{Precision: c.precision, BasePoints: decimal.NewFromInt(100)}, nil
}

func (c fixedCatalogue) EffectiveAt(ctx context.Context, village string, _ time.Time) (*points.Catalogue, error) {
	return c.Effective(ctx, village)
}

var shopClerk = &access.Principal{ID: "clerk-a", Name: "clerk-a", Role: access.VillageClerk,
	Scope: access.Scope{Villages: []string{villageA}}}

// shopService is the shop's service over s at base (2026-03-01 in
// Asia/Shanghai), with whole points.
func shopService(s Store) *shop.Service {
	return shop.NewService(s.Shop(), fixedCatalogue{0}, func() time.Time { return base })
}

func readShop[T any](t *testing.T, s Store, fn func(tx shop.Reader) (T, error)) T {
	t.Helper()
	var out T
	require.NoError(t, s.Shop().Read(context.Background(), func(tx shop.Reader) error {
		var err error
		out, err = fn(tx)
		return err
	}))
	return out
}

func newGood(code string, price string, stock int64) *shop.Good {
	return &shop.Good{Village: villageA, Code: code, NameZH: "物品" + code, NameEN: "Good " + code, Unit: "袋",
		Price: decimal.RequireFromString(price), Stock: stock, CreatedBy: "clerk-a", CreateTime: base, UpdateTime: base}
}

func insertGood(t *testing.T, s Store, g *shop.Good) {
	t.Helper()
	require.NoError(t, s.Shop().Write(context.Background(), func(tx shop.Writer) error { return tx.InsertGood(context.Background(), g) }))
}

// earn gives a household pts redeemable points (an award effective before
// base).
func earn(t *testing.T, s Store, h *household.Household, pts string) {
	t.Helper()
	require.NoError(t, appendToSheet(s, h.ID, award(newID(t), h.ID, pts, "2026-02-01", true)))
}

func testShopGoods(t *testing.T, s Store) {
	ctx := context.Background()
	rice := newGood("rice-5kg", "20", 0)
	rice.NameZH = "大米 5kg"
	oil := newGood("oil", "35.50", 4)
	insertGood(t, s, rice)
	insertGood(t, s, oil)
	assert.Equal(t, 1, rice.Version)

	// A taken code is AlreadyExists and leaves the transaction usable.
	require.NoError(t, s.Shop().Write(ctx, func(tx shop.Writer) error {
		err := tx.InsertGood(ctx, newGood("rice-5kg", "1", 0))
		require.True(t, fault.Is(err, fault.AlreadyExists), "got %v", err)
		_, err = tx.Good(ctx, villageA, "rice-5kg")
		return err
	}))

	got := readShop(t, s, func(tx shop.Reader) (*shop.Good, error) { return tx.Good(ctx, villageA, "oil") })
	assert.Equal(t, "35.5", got.Price.String())
	assert.Equal(t, int64(4), got.Stock)
	assert.Equal(t, "Good oil", got.NameEN)
	assert.True(t, base.Equal(got.CreateTime))
	assert.Equal(t, time.UTC, got.UpdateTime.Location())

	// Another village's good of the same code is another good.
	other := newGood("rice-5kg", "9", 0)
	other.Village = villageB
	insertGood(t, s, other)
	err := s.Shop().Read(ctx, func(tx shop.Reader) error {
		_, err := tx.Good(ctx, villageB, "oil")
		return err
	})
	assert.Equal(t, "GOOD_NOT_FOUND", reasonOf(err))

	// Update: catalogue fields only, versioned; the stock stays.
	got.Price, got.Archived, got.UpdateTime = decimal.RequireFromString("30"), true, base.Add(time.Hour)
	require.NoError(t, s.Shop().Write(ctx, func(tx shop.Writer) error { return tx.UpdateGood(ctx, got) }))
	assert.Equal(t, 2, got.Version)
	stale := *got
	stale.Version = 1
	err = s.Shop().Write(ctx, func(tx shop.Writer) error { return tx.UpdateGood(ctx, &stale) })
	assert.Equal(t, "CONCURRENT_CHANGE", reasonOf(err))
	ghost := newGood("nothing", "1", 0)
	ghost.Version = 1
	err = s.Shop().Write(ctx, func(tx shop.Writer) error { return tx.UpdateGood(ctx, ghost) })
	assert.Equal(t, "GOOD_NOT_FOUND", reasonOf(err))

	offered := readShop(t, s, func(tx shop.Reader) ([]*shop.Good, error) { return tx.Goods(ctx, villageA, false) })
	archived := readShop(t, s, func(tx shop.Reader) ([]*shop.Good, error) { return tx.Goods(ctx, villageA, true) })
	require.Len(t, offered, 1)
	require.Len(t, archived, 1)
	assert.Equal(t, "rice-5kg", offered[0].Code)
	assert.Equal(t, "大米 5kg", offered[0].NameZH)
	assert.Equal(t, "oil", archived[0].Code)
	assert.Equal(t, "30", archived[0].Price.String())
	assert.Equal(t, int64(4), archived[0].Stock, "an update never touches the stock")
}

func testShopStock(t *testing.T, s Store) {
	ctx := context.Background()
	insertGood(t, s, newGood("soap", "3", 0))
	arrive := func(q int64, req string) (*shop.Arrival, error) {
		a := &shop.Arrival{ID: newID(t), Village: villageA, Code: "soap", Quantity: q, Note: "送货单 17", RequestID: req,
			RequestHash: hashOf(int(q)), RecordedBy: "clerk-a", Time: base, Day: "2026-03-01"}
		err := s.Shop().Write(ctx, func(tx shop.Writer) error { return tx.AddStock(ctx, a) })
		return a, err
	}
	a, err := arrive(5, "r1")
	require.NoError(t, err)
	assert.Equal(t, int64(5), a.StockAfter)
	a2, err := arrive(2, "r2")
	require.NoError(t, err)
	assert.Equal(t, int64(7), a2.StockAfter)
	_, err = arrive(shop.MaxStock, "r3")
	assert.Equal(t, "STOCK_LIMIT", reasonOf(err))

	found := readShop(t, s, func(tx shop.Reader) (*shop.Arrival, error) { return tx.ArrivalByRequest(ctx, villageA, "r2") })
	require.NotNil(t, found)
	assert.Equal(t, a2.ID, found.ID)
	assert.Equal(t, "送货单 17", found.Note)
	assert.Equal(t, household.Date("2026-03-01"), found.Day)
	none := readShop(t, s, func(tx shop.Reader) (*shop.Arrival, error) { return tx.ArrivalByRequest(ctx, villageA, "r3") })
	assert.Nil(t, none, "a refused arrival left nothing")
	list := readShop(t, s, func(tx shop.Reader) ([]*shop.Arrival, error) {
		return tx.Arrivals(ctx, villageA, "", "2026-03-01", "2026-03-31")
	})
	require.Len(t, list, 2)
	assert.Equal(t, int64(5), list[0].Quantity)
	assert.Empty(t, readShop(t, s, func(tx shop.Reader) ([]*shop.Arrival, error) {
		return tx.Arrivals(ctx, villageA, "soap", "2026-02-01", "2026-02-28")
	}))

	// TakeStock: exactly what is there, then nothing more; a refused take
	// changes nothing and leaves the transaction usable.
	require.NoError(t, s.Shop().Write(ctx, func(tx shop.Writer) error {
		left, err := tx.TakeStock(ctx, villageA, "soap", 8)
		assert.Equal(t, "INSUFFICIENT_STOCK", reasonOf(err))
		assert.Equal(t, int64(7), left)
		left, err = tx.TakeStock(ctx, villageA, "soap", 7)
		require.NoError(t, err)
		assert.Equal(t, int64(0), left)
		_, err = tx.TakeStock(ctx, villageA, "soap", 1)
		assert.Equal(t, "INSUFFICIENT_STOCK", reasonOf(err))
		_, err = tx.TakeStock(ctx, villageA, "none", 1)
		assert.Equal(t, "GOOD_NOT_FOUND", reasonOf(err))
		return nil
	}))
	g := readShop(t, s, func(tx shop.Reader) (*shop.Good, error) { return tx.Good(ctx, villageA, "soap") })
	assert.Equal(t, int64(0), g.Stock)
}

func testShopReceipts(t *testing.T, s Store) {
	ctx := context.Background()
	h1, h2 := newHousehold(t, villageA, 1), newHousehold(t, villageA, 2)
	insert(t, s, h1)
	insert(t, s, h2)
	insertGood(t, s, newGood("rice", "20", 10))
	earn(t, s, h1, "100")
	earn(t, s, h2, "100")

	var ids []string
	receipt := func(h *household.Household, req string, day household.Date) *shop.Receipt {
		entry := redemption(t, newID(t), h.ID, "20", day)
		require.NoError(t, appendToSheet(s, h.ID, entry))
		id, err := uuid.NewV7()
		require.NoError(t, err)
		ids = append(ids, id.String())
		return &shop.Receipt{ID: id.String(), Village: villageA, Household: h.ID, Code: "rice", NameZH: "大米", Unit: "袋",
			Quantity: 1, Price: decimal.RequireFromString("20"), Points: decimal.RequireFromString("20"),
			RedeemableAfter: decimal.RequireFromString("80.50"), StockAfter: 9, EntryID: entry.ID, Note: "春节",
			RequestID: req, RequestHash: hashOf(1), Clerk: "clerk-a", Time: base, Day: day}
	}
	r1 := receipt(h1, "q1", "2026-02-27")
	r2 := receipt(h1, "q2", "2026-03-01")
	r3 := receipt(h2, "q1", "2026-03-01") // a request id is per household
	for _, r := range []*shop.Receipt{r1, r2, r3} {
		require.NoError(t, s.Shop().Write(ctx, func(tx shop.Writer) error { return tx.InsertReceipt(ctx, r) }))
	}
	again := *r1
	again.ID = newID(t)
	err := s.Shop().Write(ctx, func(tx shop.Writer) error { return tx.InsertReceipt(ctx, &again) })
	assert.True(t, fault.Is(err, fault.AlreadyExists), "same household and request id: %v", err)

	got := readShop(t, s, func(tx shop.Reader) (*shop.Receipt, error) { return tx.Receipt(ctx, villageA, h1.ID, r2.ID) })
	assert.Equal(t, r2.EntryID, got.EntryID)
	assert.Equal(t, "80.50", exactOf(got.RedeemableAfter), "scale kept")
	assert.Equal(t, household.Date("2026-03-01"), got.Day)
	assert.Equal(t, "春节", got.Note)
	assert.True(t, base.Equal(got.Time))
	err = s.Shop().Read(ctx, func(tx shop.Reader) error {
		_, err := tx.Receipt(ctx, villageA, h2.ID, r2.ID)
		return err
	})
	assert.Equal(t, "RECEIPT_NOT_FOUND", reasonOf(err), "found only under its own household")
	byReq := readShop(t, s, func(tx shop.Reader) (*shop.Receipt, error) { return tx.ReceiptByRequest(ctx, h2.ID, "q1") })
	assert.Equal(t, r3.ID, byReq.ID)
	assert.Nil(t, readShop(t, s, func(tx shop.Reader) (*shop.Receipt, error) { return tx.ReceiptByRequest(ctx, h2.ID, "q2") }))

	list := func(q shop.ReceiptQuery) []string {
		q.Village = villageA
		rs := readShop(t, s, func(tx shop.Reader) ([]*shop.Receipt, error) { return tx.Receipts(ctx, q) })
		out := []string{}
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	assert.Equal(t, []string{r3.ID, r2.ID, r1.ID}, list(shop.ReceiptQuery{Limit: 10}), "newest first")
	assert.Equal(t, []string{r2.ID, r1.ID}, list(shop.ReceiptQuery{Household: h1.ID, Limit: 10}))
	assert.Equal(t, []string{r3.ID, r2.ID}, list(shop.ReceiptQuery{From: "2026-03-01", To: "2026-03-31", Limit: 10}))
	assert.Equal(t, []string{r1.ID}, list(shop.ReceiptQuery{From: "2026-02-01", To: "2026-02-28", Limit: 10}))
	assert.Equal(t, []string{r2.ID}, list(shop.ReceiptQuery{Before: r3.ID, Limit: 1}))

	// A receipt must name a ledger entry that exists.
	orphan := *r1
	orphan.ID, orphan.RequestID, orphan.EntryID = newID(t), "q9", newID(t)
	err = s.Shop().Write(ctx, func(tx shop.Writer) error { return tx.InsertReceipt(ctx, &orphan) })
	assert.Error(t, err)
}

func exactOf(d decimal.Decimal) string { return withScale(d) }

func testShopAppendOnly(t *testing.T, b Intruder) {
	s := b.Store
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	insertGood(t, s, newGood("rice", "20", 3))
	earn(t, s, h, "50")
	_, err := shopService(s).Redeem(context.Background(), shopClerk, shop.RedeemInput{Household: h.Name(), Good: "rice", Quantity: 1, RequestID: "x"})
	require.NoError(t, err)
	_, _, _, err = shopService(s).RecordArrival(context.Background(), shopClerk,
		shop.ArrivalInput{Good: shop.GoodName(villageA, "rice"), Quantity: 2, RequestID: "y"})
	require.NoError(t, err)
	for _, stmt := range []string{
		`UPDATE shop_receipts SET quantity = 2`,
		`DELETE FROM shop_receipts`,
		`UPDATE shop_arrivals SET quantity = 1`,
		`DELETE FROM shop_arrivals`,
	} {
		assert.ErrorContains(t, b.Try(stmt), "append-only", stmt)
	}
	assert.Error(t, b.Try(`UPDATE shop_goods SET stock = -1`), "stock is never below zero")
}

// testShopRedeem: a redemption through the service changes the stock, the
// ledger, the receipts and the audit queue together; each refusal changes
// none of them; a retried request id redeems once.
func testShopRedeem(t *testing.T, s Store) {
	ctx := context.Background()
	svc := shopService(s)
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	insertGood(t, s, newGood("rice", "20", 3))
	earn(t, s, h, "50")

	type state struct {
		stock    int64
		version  int
		receipts int
		queue    int64
	}
	now := func() state {
		g := readShop(t, s, func(tx shop.Reader) (*shop.Good, error) { return tx.Good(ctx, villageA, "rice") })
		rs := readShop(t, s, func(tx shop.Reader) ([]*shop.Receipt, error) {
			return tx.Receipts(ctx, shop.ReceiptQuery{Village: villageA, Limit: 100})
		})
		return state{g.Stock, readSheet(t, s, h.ID).Version, len(rs), queueLength(t, s)}
	}
	before := now()
	in := shop.RedeemInput{Household: h.Name(), Good: "rice", Quantity: 2, Note: "春节", RequestID: "counter-1"}
	r, err := svc.Redeem(ctx, shopClerk, in)
	require.NoError(t, err)
	assert.False(t, r.Duplicate)
	assert.Equal(t, "40", r.Receipt.Points.String())
	assert.Equal(t, "10", r.Balance.Redeemable.String())
	assert.Equal(t, "150", r.Balance.Credit.String(), "credit points untouched: base 100 + 50 earned")
	assert.Equal(t, int64(1), r.Receipt.StockAfter)
	after := now()
	assert.Equal(t, state{1, before.version + 1, 1, before.queue + 1}, after)
	sh := readSheet(t, s, h.ID)
	last := sh.Entries[len(sh.Entries)-1]
	assert.Equal(t, points.Redemption, last.Kind)
	assert.Equal(t, r.Receipt.EntryID, last.ID)
	assert.Equal(t, "-40", last.Points.String())

	// The same request again: the first receipt, nothing taken.
	dup, err := svc.Redeem(ctx, shopClerk, in)
	require.NoError(t, err)
	assert.True(t, dup.Duplicate)
	assert.Equal(t, r.Receipt.ID, dup.Receipt.ID)
	assert.Equal(t, after, now())
	// The same request id for something else: refused.
	other := in
	other.Quantity = 1
	_, err = svc.Redeem(ctx, shopClerk, other)
	assert.Equal(t, "REQUEST_ID_REUSED", reasonOf(err))

	for _, tc := range []struct {
		in     shop.RedeemInput
		reason string
	}{
		{shop.RedeemInput{Household: h.Name(), Good: "rice", Quantity: 2, RequestID: "more-than-stock"}, "INSUFFICIENT_STOCK"},
		{shop.RedeemInput{Household: h.Name(), Good: "rice", Quantity: 0, RequestID: "zero"}, "INVALID_ARGUMENT"},
		{shop.RedeemInput{Household: h.Name(), Good: "oil", Quantity: 1, RequestID: "no-such-good"}, "GOOD_NOT_FOUND"},
		{shop.RedeemInput{Household: newHousehold(t, villageA, 9).Name(), Good: "rice", Quantity: 1, RequestID: "no-household"}, "HOUSEHOLD_NOT_FOUND"},
	} {
		_, err := svc.Redeem(ctx, shopClerk, tc.in)
		assert.Equal(t, tc.reason, reasonOf(err), tc.in.RequestID)
		assert.Equal(t, after, now(), "%s wrote nothing", tc.in.RequestID)
	}
	// More than the balance: 10 points left, rice costs 20.
	_, err = svc.Redeem(ctx, shopClerk, shop.RedeemInput{Household: h.Name(), Good: "rice", Quantity: 1, RequestID: "more-than-points"})
	assert.Equal(t, "INSUFFICIENT_POINTS", reasonOf(err))
	assert.Equal(t, after, now(), "nothing written")
}

// testShopConcurrentLastItems: n households redeem the last items of a
// good at once; exactly the stock's worth succeed, the rest are told
// INSUFFICIENT_STOCK, and stock, ledgers and receipts agree.
func testShopConcurrentLastItems(t *testing.T, s Store) {
	ctx := context.Background()
	const n, stock = 16, 5
	insertGood(t, s, newGood("rice", "10", stock))
	hs := make([]*household.Household, n)
	for i := range hs {
		hs[i] = newHousehold(t, villageA, i+1)
		insert(t, s, hs[i])
		earn(t, s, hs[i], "30")
	}
	queue := queueLength(t, s)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = shopService(s).Redeem(ctx, shopClerk,
				shop.RedeemInput{Household: hs[i].Name(), Good: "rice", Quantity: 1, RequestID: fmt.Sprintf("last-%d", i)})
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		if err == nil {
			won++
			continue
		}
		require.Equal(t, "INSUFFICIENT_STOCK", reasonOf(err), "household %d: %v", i, err)
	}
	assert.Equal(t, stock, won, "exactly the stock's worth succeed")
	assertShopAgrees(t, s, map[string]int64{"rice": stock}, hs, "30")
	assert.Equal(t, queue+int64(won), queueLength(t, s), "one audit record per redemption, none for a refusal")
}

// testShopConcurrentLastPoints: one household redeems from many counters
// at once until its points run out; exactly what its balance covers
// succeeds.
func testShopConcurrentLastPoints(t *testing.T, s Store) {
	ctx := context.Background()
	const n = 16
	// A good each: no good's lock orders them, only the household's.
	initial := map[string]int64{}
	for i := range n {
		code := fmt.Sprintf("good-%d", i)
		insertGood(t, s, newGood(code, "10", 100))
		initial[code] = 100
	}
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	earn(t, s, h, "50")
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = shopService(s).Redeem(ctx, shopClerk,
				shop.RedeemInput{Household: h.Name(), Good: fmt.Sprintf("good-%d", i), Quantity: 1, RequestID: fmt.Sprintf("pts-%d", i)})
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		if err == nil {
			won++
			continue
		}
		require.Equal(t, "INSUFFICIENT_POINTS", reasonOf(err), "redemption %d: %v", i, err)
	}
	assert.Equal(t, 5, won, "50 points buy five 10-point goods")
	assertShopAgrees(t, s, initial, []*household.Household{h}, "50")
}

// testShopConcurrentWithBareRedemptions: goods at the counter and the
// bare points redemption (PointsService.RedeemPoints, a SERIALIZABLE write
// with the sheet's version check) spend one household's points at once.
// The two paths guard the same balance: it never goes below zero, and
// every point spent has its ledger entry. A bare redemption may give up on
// contention (UNAVAILABLE, retry later) rather than wait; when none does,
// exactly what the balance covers succeeds.
func testShopConcurrentWithBareRedemptions(t *testing.T, s Store) {
	ctx := context.Background()
	const n = 8
	for i := range n {
		insertGood(t, s, newGood(fmt.Sprintf("good-%d", i), "10", 10))
	}
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	earn(t, s, h, "50")
	ev := evidence.NewService(s.Evidence(), fixedCatalogue{0}, func() time.Time { return base })
	errs := make([]error, 2*n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 2 * n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if i%2 == 0 {
				_, errs[i] = shopService(s).Redeem(ctx, shopClerk, shop.RedeemInput{Household: h.Name(),
					Good: fmt.Sprintf("good-%d", i/2), Quantity: 1, RequestID: fmt.Sprintf("goods-%d", i)})
				return
			}
			_, errs[i] = ev.Redeem(ctx, shopClerk, evidence.RedeemInput{Household: h.Name(), Amount: "10", RequestID: fmt.Sprintf("bare-%d", i)})
		}()
	}
	close(start)
	wg.Wait()
	won, gaveUp := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case reasonOf(err) == "CONTENTION" && i%2 == 1:
			gaveUp++
		default:
			require.Equal(t, "INSUFFICIENT_POINTS", reasonOf(err), "redemption %d: %v", i, err)
		}
	}
	b := points.Balances(decimal.NewFromInt(100), readSheet(t, s, h.ID).Entries, "2026-03-01")
	assert.GreaterOrEqual(t, b.Redeemable.Sign(), 0, "never below zero")
	assert.Equal(t, decimal.NewFromInt(50-10*int64(won)).String(), b.Redeemable.String(), "every success spent 10")
	t.Logf("%d redemptions succeeded, %d bare ones gave up on contention", won, gaveUp)
	if gaveUp == 0 {
		assert.Equal(t, 5, won, "50 points, 10 a time")
	}
	initial := map[string]int64{}
	for i := range n {
		initial[fmt.Sprintf("good-%d", i)] = 10
	}
	receipts := readShop(t, s, func(tx shop.Reader) ([]*shop.Receipt, error) {
		return tx.Receipts(ctx, shop.ReceiptQuery{Village: villageA, Limit: 100})
	})
	spent := decimal.Zero
	for _, r := range receipts {
		spent = spent.Add(r.Points)
	}
	assert.True(t, b.Redeemed.GreaterThanOrEqual(spent), "the receipts are among what was redeemed")
	for code, stock := range initial {
		g := readShop(t, s, func(tx shop.Reader) (*shop.Good, error) { return tx.Good(ctx, villageA, code) })
		taken := int64(0)
		for _, r := range receipts {
			if r.Code == code {
				taken += r.Quantity
			}
		}
		assert.Equal(t, stock-taken, g.Stock, code)
	}
}

// testShopConcurrentMixed: households and goods at random, a request id
// sent twice at once among them; whatever wins, nothing is below zero and
// everything agrees.
func testShopConcurrentMixed(t *testing.T, s Store) {
	ctx := context.Background()
	goods := map[string]int64{"rice": 7, "oil": 4, "soap": 12}
	for code, stock := range goods {
		insertGood(t, s, newGood(code, map[string]string{"rice": "20", "oil": "35", "soap": "5"}[code], stock))
	}
	hs := make([]*household.Household, 6)
	for i := range hs {
		hs[i] = newHousehold(t, villageA, i+1)
		insert(t, s, hs[i])
		earn(t, s, hs[i], "60")
	}
	const n = 40
	var wg sync.WaitGroup
	errs := make([]error, n)
	dups := make([]bool, n)
	codes := []string{"rice", "oil", "soap"}
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req := fmt.Sprintf("mix-%d", i)
			if i == n-1 {
				req = "mix-0" // the first request sent again, at the same time
			}
			in := shop.RedeemInput{Household: hs[i%len(hs)].Name(), Good: codes[i%3], Quantity: int64(i%3 + 1), RequestID: req}
			if i == n-1 {
				in.Household, in.Good, in.Quantity = hs[0].Name(), codes[0], 1
			}
			var r shop.Redemption
			r, errs[i] = shopService(s).Redeem(ctx, shopClerk, in)
			dups[i] = r.Duplicate
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			require.Contains(t, []string{"INSUFFICIENT_STOCK", "INSUFFICIENT_POINTS"}, reasonOf(err), "redemption %d: %v", i, err)
		}
	}
	if errs[0] == nil && errs[n-1] == nil {
		assert.True(t, dups[0] != dups[n-1], "of two sends of one request id exactly one redeems")
	}
	assertShopAgrees(t, s, goods, hs, "60")
}

// assertShopAgrees checks that each good's stock is its initial stock less
// the receipts' quantities, never below zero; that each household's ledger
// has exactly one redemption per receipt, of the receipt's points; and that
// its redeemable balance is what it earned less its receipts, never below
// zero, with credit points untouched.
func assertShopAgrees(t *testing.T, s Store, initial map[string]int64, hs []*household.Household, earned string) {
	t.Helper()
	ctx := context.Background()
	receipts := readShop(t, s, func(tx shop.Reader) ([]*shop.Receipt, error) {
		return tx.Receipts(ctx, shop.ReceiptQuery{Village: villageA, Limit: 1000})
	})
	taken := map[string]int64{}
	spent := map[string]decimal.Decimal{}
	byEntry := map[string]*shop.Receipt{}
	for _, r := range receipts {
		taken[r.Code] += r.Quantity
		spent[r.Household] = spent[r.Household].Add(r.Points)
		byEntry[r.EntryID] = r
		require.True(t, r.Points.Equal(shop.Cost(r.Price, r.Quantity)))
	}
	for code, stock := range initial {
		g := readShop(t, s, func(tx shop.Reader) (*shop.Good, error) { return tx.Good(ctx, villageA, code) })
		assert.GreaterOrEqual(t, g.Stock, int64(0), code)
		assert.Equal(t, stock-taken[code], g.Stock, "%s: stock agrees with the receipts", code)
	}
	for _, h := range hs {
		sh := readSheet(t, s, h.ID)
		redemptions := 0
		for _, e := range sh.Entries {
			if e.Kind != points.Redemption {
				continue
			}
			redemptions++
			r := byEntry[e.ID]
			require.NotNil(t, r, "ledger entry %s has its receipt", e.ID)
			assert.Equal(t, h.ID, r.Household)
			assert.True(t, e.Points.Neg().Equal(r.Points))
		}
		n := 0
		for _, r := range receipts {
			if r.Household == h.ID {
				n++
			}
		}
		assert.Equal(t, n, redemptions, "one ledger redemption per receipt")
		b := points.Balances(decimal.NewFromInt(100), sh.Entries, "2026-03-01")
		want := decimal.RequireFromString(earned).Sub(spent[h.ID])
		assert.True(t, b.Redeemable.Equal(want), "redeemable %s, want %s", b.Redeemable, want)
		assert.GreaterOrEqual(t, b.Redeemable.Sign(), 0)
		assert.True(t, b.Credit.Equal(decimal.NewFromInt(100).Add(decimal.RequireFromString(earned))), "credit untouched")
	}
	// The sheets are the ledger: every receipt's entry is in its
	// household's sheet (checked above from the sheet's side too).
	var stored int
	require.NoError(t, s.Evidence().Read(ctx, func(tx evidence.Reader) error {
		for _, h := range hs {
			sh, err := tx.Sheet(ctx, h.ID)
			if err != nil {
				return err
			}
			for _, e := range sh.Entries {
				if byEntry[e.ID] != nil {
					stored++
				}
			}
		}
		return nil
	}))
	assert.Equal(t, len(receipts), stored)
}
