// Package storetest is the storage conformance suite: the same tests, run
// by every store implementation (SQLite and PostgreSQL), so the two can
// never drift apart in behaviour.
package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/access/signin"
	"github.com/sanzhi/sanzhi/adapters/delivery"
	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/rekey"
	"github.com/sanzhi/sanzhi/adapters/simrun"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
	"github.com/sanzhi/sanzhi/scoring/dividend"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/evidence/photo"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/shop"
)

// Store is what the suite holds every engine to: the ports the services
// are built on, each as its own package defines it, plus the audit tree
// store (merklelog.Store) and the simulation's population (simrun).
// adapters/sqlstore implements it for SQLite and PostgreSQL.
type Store interface {
	Households() household.Store
	Catalogues() catalogue.Store
	Policies() policies.Store
	Evidence() evidence.Store
	Lending() credit.Store
	Principals() access.Store
	SignIn() signin.Store
	Webhooks() delivery.Store
	Photos() photo.Store
	Shop() shop.Store
	Dividends() dividend.Store
	merklelog.Store
	simrun.Population
	// rekey.Store finds and re-encrypts sealed values (data-key rotation).
	rekey.Store
	// QueueLength returns how many audit records wait to be sequenced.
	QueueLength(ctx context.Context) (int64, error)
	// PopulationCount counts the households q selects.
	PopulationCount(ctx context.Context, q sqlstore.PopulationQuery) (int, error)
	// PolicyProducts lists the products of a bank with a policy version.
	PolicyProducts(ctx context.Context, bank string) ([]string, error)
	// Backlog reads the waiting work /metrics reports.
	Backlog(ctx context.Context) (sqlstore.Backlog, error)
	// Challengers reads champion / challenger's designations and shadows.
	Challengers
	// BacktestDecisions streams a policy version's observation decisions
	// with their outcomes (back-testing).
	BacktestDecisions(ctx context.Context, q sqlstore.BacktestQuery, fn func(*sqlstore.BacktestRow) error) error
}

// Opener returns a fresh, migrated, empty store for one test.
type Opener func(t *testing.T) Store

// Backend is one engine under the suite.
type Backend struct {
	// Open returns a fresh, migrated, empty store for one test.
	Open Opener
	// Intrude returns a fresh store with a raw SQL connection to its
	// database, for the few tests that must act behind the store's back
	// (append-only triggers, rows as stored). nil when the engine has no
	// SQL: those tests must then be named in Skip.
	Intrude func(t *testing.T) Intruder
	// Skip names the tests this engine cannot run, each with the reason.
	// A skipped test is reported as skipped with its reason; a name that
	// is no test of the suite fails the run, so an opt-out cannot outlive
	// its test or hide behind a typo.
	Skip map[string]string
}

// conformance is one test of the suite: fn on a store, or raw on a store
// with a raw connection beside it.
type conformance struct {
	name string
	fn   func(*testing.T, Store)
	raw  func(*testing.T, Intruder)
	// serial tests time how long something waits: they run alone, not
	// beside the others.
	serial bool
}

func suite() []conformance {
	tests := []conformance{
		{name: "HouseholdRoundTrip", fn: testHouseholdRoundTrip},
		{name: "HouseholdNotFound", fn: testHouseholdNotFound},
		{name: "HouseholdUniqueness", fn: testHouseholdUniqueness},
		{name: "HouseholdListPaging", fn: testHouseholdListPaging},
		{name: "FactsVersions", fn: testFactsVersions},
		{name: "MembersRoundTrip", fn: testMembersRoundTrip},
		{name: "MembersAbsent", fn: testMembersAbsent},
		{name: "MembersConstraints", fn: testMembersConstraints},
		{name: "MembersListed", fn: testMembersListed},
		{name: "WriteRollsBackOnError", fn: testWriteRollsBack},
		{name: "ConcurrentWrites", fn: testConcurrentWrites},
		{name: "MoneyExact", fn: testMoneyExact},
		{name: "Principals", fn: testPrincipals},
		{name: "BankNames", fn: testBankNames},
		{name: "PolicyGateReports", fn: testPolicyGateReports},
		{name: "SignIn", fn: testSignIn},
		{name: "AuditRecordCommitsWithItsWrite", fn: testAuditRecord},
		{name: "CatalogueRoundTrip", fn: testCatalogueRoundTrip},
		{name: "PolicyRoundTrip", fn: testPolicyRoundTrip},
		{name: "PolicyProducts", fn: testPolicyProducts},
		{name: "Challengers", fn: testChallengers},
		{name: "EvidenceRoundTrip", fn: testEvidenceRoundTrip},
		{name: "EvidenceByManyRequests", fn: testEvidenceByManyRequests},
		{name: "EvidenceNotFound", fn: testEvidenceNotFound},
		{name: "EvidenceRequestIDIsUnique", fn: testEvidenceRequestUnique},
		{name: "EvidenceSent", fn: testEvidenceSent},
		{name: "EvidenceInsertMany", fn: testEvidenceInsertMany},
		{name: "HouseholdSheet", fn: testHouseholdSheet},
		{name: "EvidenceUpdateVersions", fn: testEvidenceUpdate},
		{name: "EvidenceListFiltersAndPaging", fn: testEvidenceList},
		{name: "SheetRoundTrip", fn: testSheetRoundTrip},
		{name: "SheetTail", fn: testSheetTail},
		{name: "SheetAfterEvidence", fn: testSheetAfterEvidence},
		{name: "SheetVersions", fn: testSheetVersions},
		{name: "LedgerAppendOnly", raw: testLedgerAppendOnly},
		{name: "Totals", fn: testTotals},
		{name: "Events", fn: testEvents},
		{name: "EvidenceWriteRollsBack", fn: testEvidenceWriteRollsBack},
		{name: "Photos", fn: testPhotos},
		{name: "Population", fn: testPopulation},
		{name: "LendingConsents", fn: testLendingConsents},
		{name: "LendingLiveConsentHouseholds", fn: testLiveConsentHouseholds},
		{name: "LendingDecisions", fn: testLendingDecisions},
		{name: "LendingLines", fn: testLendingLines},
		{name: "LendingTransactions", fn: testLendingTransactions},
		{name: "LoanStatuses", fn: testLoanStatuses},
		{name: "LoanStatusInputs", fn: testLoanStatusInputs},
		{name: "BacktestOutcomes", fn: testBacktestOutcomes},
		{name: "BacktestObservationDecision", fn: testBacktestObservationDecision},
		{name: "PolicyGateReference", raw: testPolicyGateReference},
		{name: "LineApplicantAndReview", fn: testLineApplicantAndReview},
		{name: "ReviewsDue", fn: testReviewsDue},
		{name: "LendingReviews", fn: testLendingReviews},
		{name: "LendingRuns", fn: testLendingRuns},
		{name: "LendingQueryLine", raw: testQueryLine},
		{name: "LendingLawfulBasisTwin", raw: testLawfulBasisTwin},
		{name: "LendingSettleConsent", fn: testSettleConsent},
		{name: "LendingLineEvents", fn: testLineEvents},
		{name: "LendingLineEventsBefore", fn: testLineEventsBefore},
		{name: "LendingLockedConcurrentDrawdowns", fn: testLockedConcurrentDrawdowns},
		{name: "LendingReassessDue", fn: testReassessDue},
		{name: "LendingClaimDue", fn: testClaimDue},
		{name: "LendingClaimDueSkipsHeld", fn: testClaimDueSkipsHeld, serial: true},
		{name: "LendingAuditRollsBack", fn: testLendingAuditRollsBack},
		{name: "ReassessCandidates", fn: testReassessCandidates},
		{name: "ReassessWritePage", fn: testReassessWritePage},
		{name: "ReassessLockPageBlocks", fn: testReassessLockPageBlocks, serial: true},
		{name: "AuditSequencing", fn: testAuditSequencing},
		{name: "AuditBatchQueue", fn: testAuditBatchQueue},
		{name: "AuditReadsGrouped", fn: testAuditReadsGrouped},
		{name: "AuditCheckpoints", fn: testAuditCheckpoints},
		{name: "AuditConcurrentIntegrators", fn: testAuditConcurrentIntegrators},
		{name: "AuditTablesAreAppendOnly", raw: testAuditTablesAreAppendOnly},
		{name: "WebhookEndpoints", fn: testWebhookEndpoints},
		{name: "WebhookLease", fn: testWebhookLease},
		{name: "WebhookDueEndpoints", fn: testWebhookDueEndpoints},
		{name: "WebhookDeadLetters", fn: testWebhookDeadLetters},
		{name: "SealedCounts", fn: testSealedCounts},
		{name: "SealedBatch", fn: testSealedBatch},
		{name: "Reseal", fn: testReseal},
		{name: "ResealMany", fn: testResealMany},
		{name: "Backlog", fn: testBacklog},
		{name: "ShopGoods", fn: testShopGoods},
		{name: "ShopStock", fn: testShopStock},
		{name: "ShopReceipts", fn: testShopReceipts},
		{name: "ShopAppendOnly", raw: testShopAppendOnly},
		{name: "ShopRedeem", fn: testShopRedeem},
		{name: "ShopConcurrentLastItems", fn: testShopConcurrentLastItems},
		{name: "ShopConcurrentLastPoints", fn: testShopConcurrentLastPoints},
		{name: "ShopConcurrentMixed", fn: testShopConcurrentMixed},
		{name: "ShopConcurrentWithBareRedemptions", fn: testShopConcurrentWithBareRedemptions},
		{name: "DividendRoundRoundTrip", fn: testDividendRoundRoundTrip},
		{name: "DividendOneLiveRound", fn: testDividendOneLiveRound},
		{name: "DividendObjections", fn: testDividendObjections},
		{name: "DividendLinesNeverChange", raw: testDividendLinesNeverChange},
		{name: "DividendRoll", fn: testDividendRoll},
	}
	// The versioned-document lifecycle, once for each kind of document.
	tests = append(tests, versionScenarios(catalogues)...)
	tests = append(tests, versionScenarios(dividendRules)...)
	return append(tests, versionScenarios(policyVersions)...)
}

// RunAll runs every conformance test against stores from b, each test on
// its own fresh store, in parallel except those that time a wait.
func RunAll(t *testing.T, b Backend) {
	tests := suite()
	known := make(map[string]bool, len(tests))
	for _, tc := range tests {
		known[tc.name] = true
	}
	for name := range b.Skip {
		if !known[name] {
			t.Errorf("Skip names %q, which is no test of the suite", name)
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if why, ok := b.Skip[tc.name]; ok {
				t.Skipf("this engine opts out: %s", why)
			}
			if !tc.serial {
				t.Parallel()
			}
			if tc.raw != nil {
				if b.Intrude == nil {
					t.Fatal("this test needs raw SQL: give the backend Intrude, or name the test in Skip with the reason")
				}
				tc.raw(t, b.Intrude(t))
				return
			}
			tc.fn(t, b.Open(t))
		})
	}
}

var base = time.Date(2026, 3, 1, 2, 3, 4, 567891000, time.UTC)

const villageA, villageB = "330483102201", "330483103205"

// newHousehold builds a valid household; n varies its identity.
func newHousehold(t *testing.T, village string, n int) *household.Household {
	t.Helper()
	id, err := uuid.NewV7()
	require.NoError(t, err)
	idx := sha256.Sum256(fmt.Appendf(nil, "head-%s-%d", village, n))
	return &household.Household{
		ID: id.String(), Village: village, HeadName: fmt.Sprintf("户主%d", n),
		HeadIDMasked: "330483********123X",
		HeadID:       household.SealedID{KeyID: "k1", Ciphertext: []byte{1, 2, 3, byte(n)}, Index: idx[:]},
		Group:        int32(n%15 + 1), Address: "南阳村", Registered: "2020-01-02",
		CreateTime: base, UpdateTime: base,
		Facts: household.Facts{
			Version: 1, Members: 4, Labourers: 2,
			AnnualIncome: decimal.RequireFromString("86000.50"), LandAreaMu: decimal.RequireFromString("3.2"),
			CollectiveShares: decimal.RequireFromString("10"), ExistingDebt: decimal.Zero,
			Source: "村委会登记", AsOf: "2026-02-28", RecordedBy: "p1", RecordTime: base,
		},
	}
}

func insert(t *testing.T, s Store, h *household.Household) {
	t.Helper()
	require.NoError(t, s.Households().Write(context.Background(), func(tx household.Writer) error {
		return tx.InsertHousehold(context.Background(), h, "req-"+h.ID, "hash-"+h.ID)
	}))
}

func get(t *testing.T, s Store, village, id string) (*household.Household, error) {
	t.Helper()
	var h *household.Household
	err := s.Households().Read(context.Background(), func(tx household.Reader) error {
		var err error
		h, err = tx.Household(context.Background(), village, id)
		return err
	})
	return h, err
}

func assertSameHousehold(t *testing.T, want, got *household.Household) {
	t.Helper()
	assert.Equal(t, want.ID, got.ID)
	assert.Equal(t, want.Village, got.Village)
	assert.Equal(t, want.HeadName, got.HeadName)
	assert.Equal(t, want.HeadIDMasked, got.HeadIDMasked)
	assert.Equal(t, want.HeadID, got.HeadID)
	assert.Equal(t, want.Group, got.Group)
	assert.Equal(t, want.Address, got.Address)
	assert.Equal(t, want.Registered, got.Registered)
	assert.True(t, want.CreateTime.Truncate(time.Microsecond).Equal(got.CreateTime), "create time %v vs %v", want.CreateTime, got.CreateTime)
	assert.True(t, want.UpdateTime.Truncate(time.Microsecond).Equal(got.UpdateTime))
	assertSameFacts(t, want.Facts, got.Facts)
}

func assertSameFacts(t *testing.T, want, got household.Facts) {
	t.Helper()
	assert.Equal(t, want.Version, got.Version)
	assert.Equal(t, want.Members, got.Members)
	assert.Equal(t, want.Labourers, got.Labourers)
	for _, m := range []struct {
		name      string
		want, got decimal.Decimal
	}{
		{"annual_income", want.AnnualIncome, got.AnnualIncome},
		{"land_area_mu", want.LandAreaMu, got.LandAreaMu},
		{"collective_shares", want.CollectiveShares, got.CollectiveShares},
		{"existing_debt", want.ExistingDebt, got.ExistingDebt},
	} {
		assert.True(t, m.want.Equal(m.got), "%s: want %s, got %s", m.name, m.want, m.got)
	}
	assert.Equal(t, want.DishonestDebtor, got.DishonestDebtor)
	assert.Equal(t, want.Source, got.Source)
	assert.Equal(t, want.AsOf, got.AsOf)
	assert.Equal(t, want.RecordedBy, got.RecordedBy)
	assert.True(t, want.RecordTime.Truncate(time.Microsecond).Equal(got.RecordTime))
}

func testHouseholdRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	h.Facts.DishonestDebtor = true
	insert(t, s, h)

	got, err := get(t, s, villageA, h.ID)
	require.NoError(t, err)
	assertSameHousehold(t, h, got)
	assert.Equal(t, time.UTC, got.CreateTime.Location())

	err = s.Households().Read(ctx, func(tx household.Reader) error {
		byIdx, err := tx.HouseholdByIndex(ctx, h.HeadID.Index)
		require.NoError(t, err)
		assert.Equal(t, h.ID, byIdx.ID)
		byReq, hash, err := tx.HouseholdByRequest(ctx, villageA, "req-"+h.ID)
		require.NoError(t, err)
		assert.Equal(t, h.ID, byReq.ID)
		assert.Equal(t, "hash-"+h.ID, hash)
		return nil
	})
	require.NoError(t, err)
}

func testHouseholdNotFound(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)

	_, err := get(t, s, villageB, h.ID)
	assert.True(t, fault.Is(err, fault.NotFound), "a household of another village must be NotFound, got %v", err)
	_, err = get(t, s, villageA, uuid.NewString())
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	err = s.Households().Read(ctx, func(tx household.Reader) error {
		_, err := tx.HouseholdByIndex(ctx, []byte("nope"))
		assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
		_, _, err = tx.HouseholdByRequest(ctx, villageA, "no-such-request")
		assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
		return nil
	})
	require.NoError(t, err)
	err = s.Households().Write(ctx, func(tx household.Writer) error {
		ghost := newHousehold(t, villageA, 2)
		return tx.UpdateHousehold(ctx, ghost)
	})
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
}

func testHouseholdUniqueness(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)

	sameHead := newHousehold(t, villageB, 2)
	sameHead.HeadID.Index = h.HeadID.Index
	err := s.Households().Write(ctx, func(tx household.Writer) error {
		return tx.InsertHousehold(ctx, sameHead, "other", "x")
	})
	assert.True(t, fault.Is(err, fault.AlreadyExists), "same head twice must be AlreadyExists, got %v", err)

	sameReq := newHousehold(t, villageA, 3)
	err = s.Households().Write(ctx, func(tx household.Writer) error {
		return tx.InsertHousehold(ctx, sameReq, "req-"+h.ID, "x")
	})
	assert.True(t, fault.Is(err, fault.AlreadyExists), "same request id twice must be AlreadyExists, got %v", err)

	// The same request id in another village is a different request.
	otherVillage := newHousehold(t, villageB, 4)
	require.NoError(t, s.Households().Write(ctx, func(tx household.Writer) error {
		return tx.InsertHousehold(ctx, otherVillage, "req-"+h.ID, "x")
	}))
}

func testHouseholdListPaging(t *testing.T, s Store) {
	ctx := context.Background()
	var want []string
	for i := range 23 {
		h := newHousehold(t, villageA, i)
		h.Group = int32(i%3 + 1)
		insert(t, s, h)
		want = append(want, h.ID)
	}
	insert(t, s, newHousehold(t, villageB, 100))

	var got []string
	after := ""
	for {
		var page []*household.Household
		require.NoError(t, s.Households().Read(ctx, func(tx household.Reader) error {
			var err error
			page, err = tx.Households(ctx, household.ListQuery{Village: villageA, AfterID: after, Limit: 10})
			return err
		}))
		for _, h := range page {
			got = append(got, h.ID)
			assert.Equal(t, villageA, h.Village)
		}
		if len(page) < 10 {
			break
		}
		after = page[len(page)-1].ID
	}
	assert.Equal(t, want, got, "ids come back in creation order, each once")

	var g2 []*household.Household
	require.NoError(t, s.Households().Read(ctx, func(tx household.Reader) error {
		var err error
		g2, err = tx.Households(ctx, household.ListQuery{Village: villageA, Group: 2, Limit: 100})
		return err
	}))
	assert.Len(t, g2, 8) // i%3 == 1 for i in 0..22
	for _, h := range g2 {
		assert.Equal(t, int32(2), h.Group)
	}
}

func testFactsVersions(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	for v := int64(2); v <= 5; v++ {
		f := h.Facts
		f.Version = v
		f.AnnualIncome = decimal.NewFromInt(1000 * v)
		f.RecordTime = base.Add(time.Duration(v) * time.Hour)
		require.NoError(t, s.Households().Write(ctx, func(tx household.Writer) error {
			if err := tx.InsertFacts(ctx, h.ID, f); err != nil {
				return err
			}
			h.Facts = f
			h.UpdateTime = f.RecordTime
			return tx.UpdateHousehold(ctx, h)
		}))
	}
	got, err := get(t, s, villageA, h.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(5), got.Facts.Version)
	assert.True(t, decimal.NewFromInt(5000).Equal(got.Facts.AnnualIncome))

	var hist []household.Facts
	require.NoError(t, s.Households().Read(ctx, func(tx household.Reader) error {
		var err error
		hist, err = tx.FactsHistory(ctx, h.ID, 4, 2)
		return err
	}))
	require.Len(t, hist, 2)
	assert.Equal(t, int64(3), hist[0].Version)
	assert.Equal(t, int64(2), hist[1].Version)

	err = s.Households().Write(ctx, func(tx household.Writer) error {
		return tx.InsertFacts(ctx, h.ID, h.Facts) // version 5 again
	})
	assert.True(t, fault.Is(err, fault.AlreadyExists), "a facts version is written once, got %v", err)
}

func testWriteRollsBack(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	boom := errors.New("boom")
	err := s.Households().Write(ctx, func(tx household.Writer) error {
		if err := tx.InsertHousehold(ctx, h, "r", "x"); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, err = get(t, s, villageA, h.ID)
	assert.True(t, fault.Is(err, fault.NotFound), "a failed transaction leaves nothing behind, got %v", err)
}

func testConcurrentWrites(t *testing.T, s Store) {
	ctx := context.Background()
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := newHousehold(t, villageA, i)
			errs <- s.Households().Write(ctx, func(tx household.Writer) error {
				return tx.InsertHousehold(ctx, h, fmt.Sprint("req", i), "x")
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	var all []*household.Household
	require.NoError(t, s.Households().Read(ctx, func(tx household.Reader) error {
		var err error
		all, err = tx.Households(ctx, household.ListQuery{Village: villageA, Limit: 100})
		return err
	}))
	assert.Len(t, all, n)
}

func testMoneyExact(t *testing.T, s Store) {
	h := newHousehold(t, villageA, 1)
	h.Facts.AnnualIncome = decimal.RequireFromString("999999999999999.99")
	h.Facts.ExistingDebt = decimal.RequireFromString("0.10")
	h.Facts.LandAreaMu = decimal.RequireFromString("0.01")
	insert(t, s, h)
	got, err := get(t, s, villageA, h.ID)
	require.NoError(t, err)
	assert.Equal(t, "999999999999999.99", got.Facts.AnnualIncome.StringFixed(2))
	assert.Equal(t, "0.10", got.Facts.ExistingDebt.StringFixed(2))
	assert.Equal(t, "0.01", got.Facts.LandAreaMu.String())
}

func testPrincipals(t *testing.T, s Store) {
	ctx := context.Background()
	ps := s.Principals()
	clerk := &access.Principal{ID: uuid.NewString(), Name: "clerk-a", Role: access.VillageClerk,
		Scope: access.Scope{Villages: []string{villageA, villageB}}, CreateTime: base}
	bank := &access.Principal{ID: uuid.NewString(), Name: "bank-1", Role: access.BankOfficer,
		Scope: access.Scope{Bank: "tx-rcb"}, Demo: true, CreateTime: base.Add(time.Second)}
	require.NoError(t, ps.CreatePrincipal(ctx, clerk, []byte("hash-clerk")))
	require.NoError(t, ps.CreatePrincipal(ctx, bank, []byte("hash-bank")))

	err := ps.CreatePrincipal(ctx, &access.Principal{ID: uuid.NewString(), Name: "clerk-a", Role: access.Regulator, CreateTime: base}, []byte("h3"))
	assert.True(t, fault.Is(err, fault.AlreadyExists), "duplicate name, got %v", err)

	got, err := ps.PrincipalByKey(ctx, []byte("hash-clerk"))
	require.NoError(t, err)
	assert.Equal(t, clerk.Name, got.Name)
	assert.Equal(t, access.VillageClerk, got.Role)
	assert.Equal(t, []string{villageA, villageB}, got.Scope.Villages)
	assert.True(t, got.Active())
	assert.False(t, got.Demo)

	got, err = ps.PrincipalByName(ctx, "bank-1")
	require.NoError(t, err)
	assert.Equal(t, "tx-rcb", got.Scope.Bank)
	assert.True(t, got.Demo)

	_, err = ps.PrincipalByKey(ctx, []byte("nope"))
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)

	revoked := base.Add(time.Hour)
	require.NoError(t, ps.RevokePrincipal(ctx, "clerk-a", revoked))
	require.NoError(t, ps.RevokePrincipal(ctx, "clerk-a", revoked.Add(time.Hour)))
	got, err = ps.PrincipalByKey(ctx, []byte("hash-clerk"))
	require.NoError(t, err)
	require.NotNil(t, got.RevokeTime)
	assert.True(t, revoked.Equal(*got.RevokeTime), "revoking twice keeps the first time")
	assert.True(t, fault.Is(ps.RevokePrincipal(ctx, "ghost", revoked), fault.NotFound))

	all, err := ps.ListPrincipals(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2)
}

// testBankNames: a bank's names are kept by its id, listed by id, and
// naming it again replaces them; a bank without a name is refused.
func testBankNames(t *testing.T, s Store) {
	ctx := context.Background()
	ps := s.Principals()
	none, err := ps.Banks(ctx)
	require.NoError(t, err)
	assert.Empty(t, none)
	require.NoError(t, ps.PutBank(ctx, &access.Bank{ID: "tx-rcb", Name: "桐乡农商银行"}))
	require.NoError(t, ps.PutBank(ctx, &access.Bank{ID: "nx-rcb", Name: "南浔农商行", NameEN: "Nanxun RCB"}))
	require.NoError(t, ps.PutBank(ctx, &access.Bank{ID: "nx-rcb", Name: "南浔农商银行", NameEN: "Nanxun Rural Commercial Bank"}))
	for _, bad := range []*access.Bank{{ID: "tx-rcb", Name: "  "}, {ID: "Bad Id", Name: "某银行"}} {
		assert.True(t, fault.Is(ps.PutBank(ctx, bad), fault.Invalid), "%+v", bad)
	}
	got, err := ps.Banks(ctx)
	require.NoError(t, err)
	assert.Equal(t, []*access.Bank{
		{ID: "nx-rcb", Name: "南浔农商银行", NameEN: "Nanxun Rural Commercial Bank"},
		{ID: "tx-rcb", Name: "桐乡农商银行"},
	}, got)
}

func testAuditRecord(t *testing.T, s Store) {
	ctx := context.Background()
	rec := audit.Record{Time: base, Actor: "p1", Action: "household.create", Subject: resource.Household(villageA, "x")}
	h := newHousehold(t, villageA, 1)
	require.NoError(t, s.Households().Write(ctx, func(tx household.Writer) error {
		if err := tx.InsertHousehold(ctx, h, "r1", "x"); err != nil {
			return err
		}
		return tx.Record(ctx, rec)
	}))
	n, err := s.QueueLength(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)

	// A record carrying a 身份证号 fails the whole transaction: neither the
	// change nor the record is kept.
	leaky := rec
	leaky.Payload = map[string]string{"id": "33048319600119123X"}
	h2 := newHousehold(t, villageA, 2)
	err = s.Households().Write(ctx, func(tx household.Writer) error {
		if err := tx.InsertHousehold(ctx, h2, "r2", "x"); err != nil {
			return err
		}
		return tx.Record(ctx, leaky)
	})
	require.Error(t, err)
	_, err = get(t, s, villageA, h2.ID)
	assert.True(t, fault.Is(err, fault.NotFound), "the change rolled back with its record")
	n, err = s.QueueLength(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)

	// A rolled-back write leaves no record either.
	_ = s.Households().Write(ctx, func(tx household.Writer) error {
		if err := tx.Record(ctx, rec); err != nil {
			return err
		}
		return errors.New("boom")
	})
	n, err = s.QueueLength(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
}
