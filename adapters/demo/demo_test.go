package demo_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/access/signin"
	"github.com/sanzhi/sanzhi/adapters/demo"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	examples "github.com/sanzhi/sanzhi/examples/catalogues"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/shop"
)

// sealer is a test Sealer: index = SHA-256 of the number, ciphertext = the
// number bound to the household (not encrypted; tests only).
type sealer struct{}

func (sealer) Seal(householdID string, id idnum.PersonID) (household.SealedID, error) {
	return household.SealedID{KeyID: "test", Ciphertext: []byte(householdID + "|" + id.Raw()), Index: sealer{}.Index(id)}, nil
}

func (sealer) Open(householdID string, s household.SealedID) (idnum.PersonID, error) {
	raw, ok := strings.CutPrefix(string(s.Ciphertext), householdID+"|")
	if !ok {
		return idnum.PersonID{}, errors.New("sealed for another household")
	}
	return idnum.ParsePersonID(raw)
}

func (sealer) Index(id idnum.PersonID) []byte {
	h := sha256.Sum256([]byte(id.Raw()))
	return h[:]
}

// 2026-05-20 00:30 in Shanghai is still 2026-05-19 in UTC: as-of dates
// must be counted from the Shanghai date.
var fixedNow = time.Date(2026, 5, 19, 16, 30, 0, 0, time.UTC)

func clock() time.Time { return fixedNow }

type env struct {
	st   *sqlstore.Store
	svc  *household.Service
	cats *catalogue.Service
}

func open(t testing.TB) env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Migrate(ctx))
	st := db.Store()
	return env{st: st, svc: household.NewService(st.Households(), sealer{}, clock), cats: catalogue.NewService(st.Catalogues(), clock)}
}

// One demo county, seeded on first use, is shared by the tests that only
// read it (seeding takes a few seconds).
var (
	sharedDir  string
	sharedOnce sync.Once
	shared     env
	sharedRes  demo.Result
	sharedErr  error
	sharedTime time.Duration
)

func seededCounty(t *testing.T) (env, demo.Result) {
	t.Helper()
	sharedOnce.Do(func() {
		ctx := context.Background()
		db, err := sqlite.Open(ctx, filepath.Join(sharedDir, "d.db"))
		if err != nil {
			sharedErr = err
			return
		}
		if sharedErr = db.Migrate(ctx); sharedErr != nil {
			return
		}
		st := db.Store()
		shared = env{st: st, svc: household.NewService(st.Households(), sealer{}, clock), cats: catalogue.NewService(st.Catalogues(), clock)}
		start := time.Now()
		sharedRes, sharedErr = demo.Seed(ctx, shared.svc, st, clock)
		sharedTime = time.Since(start)
	})
	require.NoError(t, sharedErr)
	return shared, sharedRes
}

func TestMain(m *testing.M) {
	// Demo staff passwords are set on every seed; sign-in is not the
	// subject here (access/signin tests the production cost).
	signin.LowerCostForTests()
	dir, err := os.MkdirTemp("", "demo-test-")
	if err != nil {
		panic(err)
	}
	sharedDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// seedsItsOwnCounty marks a test that seeds a whole county besides the
// shared one. Under the race detector a seed takes minutes of CPU and
// the code is sequential, so these run in make test's second pass,
// without -race; under -race they skip.
func seedsItsOwnCounty(t *testing.T) {
	t.Helper()
	if underRace {
		t.Skip("seeds a county of its own: run by `make test` without -race")
	}
	t.Parallel() // they overlap their fsyncs
}

// all lists every household of a village in creation order.
func all(t *testing.T, svc *household.Service, village string) []*household.Household {
	t.Helper()
	var out []*household.Household
	token := ""
	for {
		page, err := svc.List(context.Background(), "villages/"+village, 0, 1000, token)
		require.NoError(t, err)
		out = append(out, page.Items...)
		if page.NextToken == "" {
			return out
		}
		token = page.NextToken
	}
}

func TestVillages(t *testing.T) {
	require.Len(t, demo.Villages, 3)
	seen := map[string]bool{}
	for _, v := range demo.Villages {
		code, err := idnum.ParseVillageCode(v.Code)
		require.NoError(t, err, v.Name)
		assert.Equal(t, demo.County, code.County(), v.Name)
		assert.False(t, seen[v.Code], "duplicate code %s", v.Code)
		seen[v.Code] = true
		assert.NotEmpty(t, v.Town)
		assert.NotEmpty(t, v.Slug)
	}
	assert.Equal(t, "南阳村", demo.Villages[0].Name)
	assert.Equal(t, 434, demo.Villages[0].Households)
	assert.Equal(t, 15, demo.Villages[0].Groups)
}

func TestSeedCounts(t *testing.T) {
	t.Parallel() // seeds the shared county while the other seeding tests seed their own
	e, res := seededCounty(t)
	t.Logf("seeded %d households in %v", res.Households, sharedTime)
	for _, h := range res.History {
		t.Log(h)
	}
	assert.True(t, res.Created)
	total := 0
	for _, v := range demo.Villages {
		hs := all(t, e.svc, v.Code)
		assert.Len(t, hs, v.Households, v.Name)
		total += len(hs)
		groups := map[int32]int{}
		for _, h := range hs {
			groups[h.Group]++
			assert.Equal(t, v.Code, h.Village)
			assert.True(t, strings.HasPrefix(h.Address, v.Name), h.Address)
			assert.True(t, strings.HasPrefix(h.HeadIDMasked, "330483********"), h.HeadIDMasked)
		}
		assert.Len(t, groups, v.Groups, v.Name)
		for g := int32(1); g <= int32(v.Groups); g++ {
			assert.Positive(t, groups[g], "%s group %d is empty", v.Name, g)
		}
	}
	assert.Equal(t, res.Households, total)
	assert.Equal(t, 434+1496+1108, total)
}

func TestNanyangHas434HouseholdsIn15Groups(t *testing.T) {
	e, _ := seededCounty(t)
	hs := all(t, e.svc, "330483102215")
	require.Len(t, hs, 434)
	groups := map[int32]bool{}
	for _, h := range hs {
		groups[h.Group] = true
	}
	assert.Len(t, groups, 15)
	assert.Equal(t, "南阳村1组1号", hs[0].Address)
}

func TestDataIsPlausible(t *testing.T) {
	e, _ := seededCounty(t)
	today := household.Today(fixedNow)
	var n, withDebt, dishonest int
	incomes := []decimal.Decimal{}
	for _, v := range demo.Villages {
		for _, h := range all(t, e.svc, v.Code) {
			n++
			f := h.Facts
			assert.True(t, f.Members >= 1 && f.Members <= 7, "members %d", f.Members)
			assert.LessOrEqual(t, f.Labourers, f.Members)
			assert.True(t, f.AnnualIncome.GreaterThanOrEqual(decimal.NewFromInt(30000)) &&
				f.AnnualIncome.LessThanOrEqual(decimal.NewFromInt(300000)), "income %s", f.AnnualIncome)
			assert.True(t, f.LandAreaMu.LessThanOrEqual(decimal.NewFromInt(12)), "land %s", f.LandAreaMu)
			assert.True(t, f.CollectiveShares.LessThanOrEqual(decimal.NewFromInt(50)), "shares %s", f.CollectiveShares)
			if f.ExistingDebt.IsPositive() {
				withDebt++
				assert.True(t, f.ExistingDebt.GreaterThanOrEqual(decimal.NewFromInt(10000)) &&
					f.ExistingDebt.LessThanOrEqual(decimal.NewFromInt(300000)), "debt %s", f.ExistingDebt)
			}
			if f.DishonestDebtor {
				dishonest++
			}
			assert.Equal(t, "村委会登记", f.Source)
			assert.Less(t, string(f.AsOf), string(today), "as-of must be before today")
			assert.GreaterOrEqual(t, string(h.Registered), "1990-01-01")
			assert.LessOrEqual(t, string(h.Registered), "2020-12-31")
			assert.Equal(t, "demo-clerk-"+slugOf(v.Code), f.RecordedBy)
			incomes = append(incomes, f.AnnualIncome)
		}
	}
	share := func(k int) float64 { return float64(k) / float64(n) }
	assert.InDelta(t, 0.20, share(withDebt), 0.03, "share with debt")
	assert.InDelta(t, 0.01, share(dishonest), 0.008, "share of dishonest debtors")
	// Right skew: the mean is above the median.
	sum := decimal.Zero
	below := 0
	for _, x := range incomes {
		sum = sum.Add(x)
	}
	mean := sum.Div(decimal.NewFromInt(int64(n)))
	for _, x := range incomes {
		if x.LessThan(mean) {
			below++
		}
	}
	assert.Greater(t, share(below), 0.5, "income should be right-skewed (mean %s)", mean.StringFixed(0))
}

func slugOf(code string) string {
	for _, v := range demo.Villages {
		if v.Code == code {
			return v.Slug
		}
	}
	return ""
}

func TestSeedTwiceIsNoop(t *testing.T) {
	e, first := seededCounty(t)
	before := evidenceCounts(t, e)
	res, err := demo.Seed(context.Background(), e.svc, e.st, clock)
	require.NoError(t, err)
	assert.False(t, res.Created)
	assert.Empty(t, res.History, "every village has its history already")
	assert.Equal(t, before, evidenceCounts(t, e), "a second seed adds no evidence")
	require.Len(t, res.Catalogues, 1+len(demo.Villages))
	for _, name := range res.Catalogues {
		c, err := e.cats.Get(context.Background(), name)
		require.NoError(t, err)
		assert.Equal(t, catalogue.Active, c.State, name)
	}
	assert.Equal(t, first.Households, res.Households)
	assert.Equal(t, first.Principals, res.Principals, "the household principal's scope is found again")
	for _, v := range demo.Villages {
		assert.Len(t, all(t, e.svc, v.Code), v.Households, v.Name)
	}
	ps, err := e.st.Principals().ListPrincipals(context.Background())
	require.NoError(t, err)
	assert.Len(t, ps, len(demo.Principals()))
	banks, err := e.st.Principals().Banks(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []*access.Bank{&demo.BankNames}, banks, "the demo bank has its name, once")
}

func TestPrincipalsAuthenticate(t *testing.T) {
	e, res := seededCounty(t)
	ctx := context.Background()
	require.Len(t, res.Principals, len(demo.Principals()))
	keys := map[string]bool{}
	for _, dp := range res.Principals {
		assert.True(t, strings.HasPrefix(dp.Key, access.KeyPrefix), dp.Key)
		assert.False(t, keys[dp.Key], "duplicate key %s", dp.Key)
		keys[dp.Key] = true
		p, err := e.st.Principals().PrincipalByKey(ctx, access.HashKey(dp.Key))
		require.NoError(t, err, dp.Name)
		assert.Equal(t, dp.Name, p.Name)
		assert.Equal(t, dp.Role, p.Role)
		assert.Equal(t, dp.Scope, p.Scope)
		assert.True(t, p.Demo, dp.Name)
		assert.True(t, p.Active())
		assert.NoError(t, p.Validate())
	}
	roles := map[access.Role]int{}
	for _, p := range res.Principals {
		roles[p.Role]++
	}
	assert.Equal(t, map[access.Role]int{
		access.VillageClerk: 3, access.VillageReviewer: 3, access.Household: 1,
		access.BankOfficer: 2, access.BankRisk: 2, access.Regulator: 1, access.Operator: 2,
	}, roles)
}

func TestHouseholdPrincipalIsFirstNanyangHousehold(t *testing.T) {
	e, res := seededCounty(t)
	var hp demo.Principal
	for _, p := range res.Principals {
		if p.Role == access.Household {
			hp = p
		}
	}
	first := all(t, e.svc, demo.Villages[0].Code)[0]
	assert.Equal(t, first.ID, hp.Scope.Household)
	for _, p := range demo.Principals() {
		if p.Role == access.Household {
			assert.Empty(t, p.Scope.Household, "Principals() cannot know the household id")
		}
	}
}

func TestDeterministic(t *testing.T) {
	seedsItsOwnCounty(t)
	a, _ := seededCounty(t)
	b := open(t)
	// A different clock time on the same day: same data.
	later := func() time.Time { return fixedNow.Add(3 * time.Hour) }
	b.svc = household.NewService(b.st.Households(), sealer{}, later)
	_, err := demo.Seed(context.Background(), b.svc, b.st, later)
	require.NoError(t, err)
	for _, v := range demo.Villages {
		ha, hb := all(t, a.svc, v.Code), all(t, b.svc, v.Code)
		require.Equal(t, len(ha), len(hb))
		for i := range ha {
			x, y := ha[i], hb[i]
			require.Equal(t, x.HeadName, y.HeadName, "%s #%d", v.Name, i)
			require.Equal(t, x.HeadIDMasked, y.HeadIDMasked)
			require.Equal(t, x.HeadID.Index, y.HeadID.Index, "same full ID number")
			require.Equal(t, x.Address, y.Address)
			require.Equal(t, x.Group, y.Group)
			require.Equal(t, x.Registered, y.Registered)
			x.Facts.RecordTime, y.Facts.RecordTime = time.Time{}, time.Time{}
			require.Equal(t, x.Facts, y.Facts)
			for j := range x.Members {
				// The sealed form is bound to the household's random id.
				x.Members[j].ID.Ciphertext, y.Members[j].ID.Ciphertext = nil, nil
			}
			require.Equal(t, x.Members, y.Members, "the same members, the same numbers")
		}
		// The same history: the same evidence under the same request ids,
		// for the same households, with the same outcome.
		ea, eb := evidenceDigest(t, a, v.Code), evidenceDigest(t, b, v.Code)
		require.NotEmpty(t, ea)
		require.Equal(t, ea, eb, v.Name)
	}
}

// evidenceDigest describes a village's evidence independently of the ids
// the database assigned: by request id, with the household's address.
func evidenceDigest(t *testing.T, e env, village string) map[string]string {
	t.Helper()
	addr := map[string]string{}
	for _, h := range all(t, e.svc, village) {
		addr[h.ID] = h.Address
	}
	out := map[string]string{}
	for _, x := range allEvidence(t, e, village) {
		out[x.RequestID] = fmt.Sprintf("%s|%s|%s|%d|%s|%d|%s|%s|%t|%s|%s|%s|%s|%s|%s|%v|%s|%s|%s|%s|%s|%s",
			addr[x.Household], x.Kind, x.ItemCode, x.Quantity, x.Level, x.Stars, x.ValidUntil, x.Period, x.Creditworthy,
			x.ProposedAmount, x.OccurredOn, x.Note, x.Witness, x.SystemSource, x.State, x.Attachments,
			x.SubmitTime.In(household.Shanghai).Format(time.DateOnly), x.NoticeStart, x.NoticeEnd,
			x.ReviewedBy, x.ObjectedBy, x.RevokedBy)
	}
	return out
}

// failingStore fails every write after the first n, simulating a seed
// interrupted part-way.
type failingStore struct {
	household.Store
	n atomic.Int64
}

var errCrash = errors.New("crash")

func (f *failingStore) Write(ctx context.Context, fn func(household.Writer) error) error {
	if f.n.Add(-1) < 0 {
		return errCrash
	}
	return f.Store.Write(ctx, fn)
}

func TestInterruptedSeedResumesNextDay(t *testing.T) {
	seedsItsOwnCounty(t)
	e := open(t)
	ctx := context.Background()
	fs := &failingStore{Store: e.st.Households()}
	fs.n.Store(700) // all of 南阳村 and part of 堰头村
	_, err := demo.Seed(ctx, household.NewService(fs, sealer{}, clock), e.st, clock)
	require.ErrorIs(t, err, errCrash)

	// Not seeded yet: the regulator is created last.
	_, err = e.st.Principals().PrincipalByName(ctx, "demo-regulator")
	require.Error(t, err)

	// Resume a day later: as-of dates differ, existing households are kept.
	tomorrow := func() time.Time { return fixedNow.Add(24 * time.Hour) }
	svc := household.NewService(e.st.Households(), sealer{}, tomorrow)
	res, err := demo.Seed(ctx, svc, e.st, tomorrow)
	require.NoError(t, err)
	assert.True(t, res.Created)
	assert.Len(t, res.Catalogues, 1+len(demo.Villages))
	assert.Len(t, res.History, len(demo.Villages), "the history follows the households")
	for _, v := range demo.Villages {
		assert.Len(t, all(t, svc, v.Code), v.Households, v.Name)
	}
	var hp demo.Principal
	for _, p := range res.Principals {
		if p.Role == access.Household {
			hp = p
		}
	}
	assert.Equal(t, all(t, svc, demo.Villages[0].Code)[0].ID, hp.Scope.Household)

	res, err = demo.Seed(ctx, svc, e.st, tomorrow)
	require.NoError(t, err)
	assert.False(t, res.Created)
}

func TestRefusesNonDemoRegulatorName(t *testing.T) {
	e := open(t)
	ctx := context.Background()
	require.NoError(t, e.st.Principals().CreatePrincipal(ctx, &access.Principal{
		ID: "r1", Name: "demo-regulator", Role: access.Regulator, CreateTime: fixedNow,
	}, access.HashKey("sz_real")))
	_, err := demo.Seed(ctx, e.svc, e.st, clock)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a demo principal")
}

// The demo's catalogues are active, each activated by someone other than
// its uploader, and resolve to the content hash stored with them.
func TestCataloguesSeeded(t *testing.T) {
	e, res := seededCounty(t)
	ctx := context.Background()
	want := []string{"counties/" + demo.County + "/catalogues/1"}
	for _, v := range demo.Villages {
		want = append(want, "villages/"+v.Code+"/catalogues/1")
	}
	assert.Equal(t, want, res.Catalogues)

	county, err := e.cats.Get(ctx, "counties/"+demo.County+"/catalogues/active")
	require.NoError(t, err)
	assert.Equal(t, catalogue.Active, county.State)
	assert.Equal(t, "demo-operator", county.UploadedBy)
	assert.Equal(t, "demo-operator-2", county.ActivatedBy)
	assert.GreaterOrEqual(t, county.ItemCount, 40)

	hashes := map[string]bool{}
	for _, v := range demo.Villages {
		got, err := e.cats.Get(ctx, "villages/"+v.Code+"/catalogues/active")
		require.NoError(t, err, v.Name)
		assert.Equal(t, catalogue.Active, got.State)
		assert.Equal(t, "demo-clerk-"+v.Slug, got.UploadedBy)
		assert.Equal(t, "demo-reviewer-"+v.Slug, got.ActivatedBy)
		assert.Equal(t, 1, got.BaseVersion)
		cat, err := e.cats.Effective(ctx, v.Code)
		require.NoError(t, err, v.Name)
		assert.Equal(t, got.ContentHash, cat.Hash, "the stored hash is the effective catalogue's")
		assert.Equal(t, v.Code, cat.Village)
		assert.False(t, hashes[cat.Hash])
		hashes[cat.Hash] = true
	}
}

// A version activated after seeding is kept by the next seed. (It changes
// the shared county in a way the other tests tolerate.)
func TestSeedKeepsALaterActiveCatalogue(t *testing.T) {
	e, _ := seededCounty(t)
	ctx := context.Background()
	v := demo.Villages[1]
	doc, err := e.cats.Get(ctx, "villages/"+v.Code+"/catalogues/1")
	require.NoError(t, err)
	v2 := strings.Replace(doc.Document, "\nversion: 1\n", "\nversion: 2\n", 1)
	require.NotEqual(t, doc.Document, v2)
	clerk := &access.Principal{ID: "demo-clerk-" + v.Slug, Role: access.VillageClerk}
	reviewer := &access.Principal{ID: "demo-reviewer-" + v.Slug, Role: access.VillageReviewer}
	up, err := e.cats.Upload(ctx, clerk, "villages/"+v.Code, []byte(v2))
	require.NoError(t, err)
	_, err = e.cats.Activate(ctx, reviewer, up.Name())
	require.NoError(t, err)

	res, err := demo.Seed(ctx, e.svc, e.st, clock)
	require.NoError(t, err)
	assert.Contains(t, res.Catalogues, up.Name())
	got, err := e.cats.Get(ctx, "villages/"+v.Code+"/catalogues/active")
	require.NoError(t, err)
	assert.Equal(t, 2, got.Version)
}

// evidenceSvc is the evidence service of e's database on the test clock.
func evidenceSvc(e env) *evidence.Service {
	return evidence.NewService(e.st.Evidence(), e.cats, clock)
}

// allEvidence lists every piece of evidence of a village, newest first.
func allEvidence(t *testing.T, e env, village string) []*evidence.Evidence {
	t.Helper()
	ev := evidenceSvc(e)
	var out []*evidence.Evidence
	token := ""
	for {
		page, err := ev.List(context.Background(), evidence.Filter{Parent: "villages/" + village}, 1000, token)
		require.NoError(t, err)
		out = append(out, page.Evidence...)
		if page.NextToken == "" {
			return out
		}
		token = page.NextToken
	}
}

// evidenceCounts counts each demo village's evidence.
func evidenceCounts(t *testing.T, e env) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, v := range demo.Villages {
		out[v.Code] = len(allEvidence(t, e, v.Code))
	}
	return out
}

// Every village has half a year of evidence of every kind, with the
// outcomes real work has, and something on 公示 today.
func TestEvidenceHistory(t *testing.T) {
	e, res := seededCounty(t)
	ctx := context.Background()
	ev := evidenceSvc(e)
	today := household.Today(fixedNow)
	require.Len(t, res.History, len(demo.Villages))
	counts := evidenceCounts(t, e)
	for i, v := range demo.Villages {
		h := res.History[i]
		assert.Equal(t, v.Code, h.Village)
		assert.Equal(t, points.AddDays(today, -demo.HistoryDays), h.From, v.Name)
		assert.Equal(t, today, h.To, v.Name)
		assert.Equal(t, counts[v.Code], h.Evidence, v.Name)
		for _, k := range evidence.Kinds {
			assert.Positive(t, h.ByKind[k], "%s has no %s evidence", v.Name, k)
		}
		for _, ph := range []evidence.Phase{evidence.Effective, evidence.OnNotice, evidence.Phase(evidence.Rejected)} {
			assert.Positive(t, h.ByPhase[ph], "%s has no %s evidence", v.Name, ph)
		}
		assert.Positive(t, h.Redemptions, v.Name)

		board, day, err := ev.Board(ctx, "villages/"+v.Code, 10, "")
		require.NoError(t, err)
		assert.Equal(t, today, day)
		assert.NotEmpty(t, board.Evidence, "nothing on 公示 in %s today", v.Name)
	}
	nanyang := res.History[0]
	perHousehold := float64(nanyang.Evidence) / float64(demo.Villages[0].Households)
	assert.True(t, perHousehold >= 10 && perHousehold <= 25, "南阳村: %.1f evidence a household", perHousehold)
	for _, h := range res.History[1:] {
		assert.Less(t, float64(h.Evidence)/float64(demo.Villages[1].Households), perHousehold, "other villages record less")
	}
	// Disputes where the demo household principal lives: one upheld
	// (posted again), one overturned, one still open; a revocation in
	// 堰头村.
	assert.Equal(t, 1, nanyang.ByPhase[evidence.Phase(evidence.Overturned)])
	assert.Equal(t, 1, nanyang.ByPhase[evidence.Phase(evidence.Disputed)])
	assert.Positive(t, nanyang.ByPhase[evidence.Phase(evidence.PendingReview)], "some evidence awaits review today")
	assert.Equal(t, 1, res.History[1].ByPhase[evidence.Phase(evidence.Revoked)])
	var upheld, objected int
	for _, x := range allEvidence(t, e, demo.Villages[0].Code) {
		if x.ObjectedBy != "" {
			objected++
			assert.Equal(t, "demo-household", x.ObjectedBy)
			assert.NotEqual(t, x.SubmittedBy, x.ResolvedBy)
		}
		if x.ObjectedBy != "" && x.State == evidence.Posted {
			upheld++
			assert.True(t, x.Upheld)
		}
		if x.ReviewedBy != "" {
			assert.Equal(t, "demo-reviewer-nanyang", x.ReviewedBy)
		}
		assert.Equal(t, "demo-clerk-nanyang", x.SubmittedBy)
		assert.False(t, x.OccurredOn.After(household.Today(x.SubmitTime)), "occurred after it was submitted: %s", x.Name())
		assert.True(t, x.SubmitTime.Before(fixedNow) || x.SubmitTime.Equal(fixedNow), "submitted in the future: %s", x.SubmitTime)
	}
	assert.Equal(t, 3, objected)
	assert.Equal(t, 1, upheld)
}

// Credit points differ from household to household, in every domain,
// and the village's other facts (ratings, listings, recommendations) are
// there for a policy to read.
func TestCreditPointsSpread(t *testing.T) {
	e, res := seededCounty(t)
	ctx := context.Background()
	ev := evidenceSvc(e)
	base := decimal.NewFromInt(100)
	hs := all(t, e.svc, demo.Villages[0].Code)
	lo, hi := base, base
	distinct := map[string]bool{}
	domains, areas := map[points.Domain]bool{}, map[string]bool{}
	var above, below, black, star, creditworthy, notCreditworthy, redeemed int
	for _, h := range hs {
		b, err := ev.Points(ctx, h.Name(), "")
		require.NoError(t, err)
		require.True(t, b.Base.Equal(base))
		lo, hi = decimal.Min(lo, b.Credit), decimal.Max(hi, b.Credit)
		distinct[b.Credit.String()] = true
		switch b.Credit.Cmp(base) {
		case 1:
			above++
		case -1:
			below++
		}
		for d, x := range b.ByDomain {
			domains[d] = domains[d] || !x.IsZero()
		}
		for a, x := range b.ByArea {
			areas[a] = areas[a] || !x.IsZero()
		}
		assert.False(t, b.Redeemable.IsNegative() && b.Redeemed.IsPositive(), "redeemed more than earned: %s", h.Name())
		if b.Redeemed.IsPositive() {
			redeemed++
		}

		st, err := ev.Standing(ctx, h.Name(), "")
		require.NoError(t, err)
		if st.Blacklisted() {
			black++
		}
		if st.Star != nil {
			star++
			assert.Contains(t, []evidence.Level{evidence.LevelVillage, evidence.LevelTown}, st.Star.Level)
			assert.True(t, st.Star.Stars >= 3 && st.Star.Stars <= 5)
		}
		if r := st.Recommendation; r != nil {
			assert.Equal(t, "2026", r.Period)
			if r.Creditworthy {
				creditworthy++
				assert.Contains(t, []string{"50000", "100000", "200000"}, r.ProposedAmount.String())
			} else {
				notCreditworthy++
			}
		}
	}
	t.Logf("南阳村 credit points %s..%s, %d distinct; %d above and %d below the base; %d blacklisted, %d with a star, %d+%d recommended (creditworthy+not)",
		lo, hi, len(distinct), above, below, black, star, creditworthy, notCreditworthy)
	assert.True(t, lo.LessThan(base) && hi.GreaterThan(base), "%s..%s", lo, hi)
	assert.GreaterOrEqual(t, len(distinct), 40)
	assert.Greater(t, above, len(hs)*2/3, "most households earned something")
	assert.Greater(t, below, 5, "a minority lost points")
	assert.Less(t, below, len(hs)/5)
	assert.Len(t, domains, 3)
	for _, d := range points.Domains {
		assert.True(t, domains[d], "no points in domain %s", d)
	}
	for _, a := range []string{"minsheng", "xiangfeng", "meili", "gongyi", "pingan"} {
		assert.True(t, areas[a], "no points in area %s", a)
	}
	assert.True(t, black >= 1 && black <= 3, "blacklisted: %d", black)
	assert.True(t, star >= 5 && star < len(hs)/10, "stars: %d", star)
	assert.InDelta(t, 0.30, float64(creditworthy)/float64(len(hs)), 0.08, "share recommended as creditworthy")
	assert.Positive(t, notCreditworthy)
	assert.Positive(t, redeemed)

	// The demo household principal's household has a history to show.
	var hp string
	for _, p := range res.Principals {
		if p.Role == access.Household {
			hp = p.Scope.Household
		}
	}
	first := "villages/" + demo.Villages[0].Code + "/households/" + hp
	b, err := ev.Points(ctx, first, "")
	require.NoError(t, err)
	assert.True(t, b.Credit.GreaterThan(base), "%s", b.Credit)
	st, err := ev.Standing(ctx, first, "")
	require.NoError(t, err)
	require.NotNil(t, st.Star)
	assert.Equal(t, evidence.LevelTown, st.Star.Level)
	require.NotNil(t, st.Recommendation)
	assert.True(t, st.Recommendation.Creditworthy)

	// A balance as of the start of the history reads the catalogue then
	// in force: it was activated before the first simulated day.
	start := res.History[0].From
	b, err = ev.Points(ctx, first, string(start))
	require.NoError(t, err)
	assert.True(t, b.Credit.Equal(base), "nothing counts on the first day: %s", b.Credit)
}

// The quarter's ranking has households ahead of others.
func TestRankingThisQuarter(t *testing.T) {
	e, _ := seededCounty(t)
	today := household.Today(fixedNow)
	month := today.Time().Month()
	quarter := fmt.Sprintf("%sQ%d", today[:4], (int(month)-1)/3+1)
	for _, v := range demo.Villages {
		r, err := evidenceSvc(e).Ranking(context.Background(), "villages/"+v.Code, quarter)
		require.NoError(t, err)
		assert.False(t, r.Final)
		require.Len(t, r.Rows, v.Households, v.Name)
		ranks := map[int]bool{}
		for _, row := range r.Rows {
			ranks[row.Rank] = true
		}
		assert.Equal(t, 1, r.Rows[0].Rank)
		assert.True(t, r.Rows[0].Points.IsPositive(), v.Name)
		assert.GreaterOrEqual(t, len(ranks), 5, v.Name)
		if v.Code == demo.Villages[0].Code {
			assert.GreaterOrEqual(t, len(ranks), 25, v.Name)
		}
	}
}

// Every transition of the history left its audit record: one
// evidence.submit per piece of evidence, one record per review,
// objection, resolution and revocation, one shop.redeem per redemption.
func TestHistoryIsAudited(t *testing.T) {
	e, res := seededCounty(t)
	ctx := context.Background()
	got := map[string]int{}
	require.NoError(t, e.st.Conn().ReadTx(ctx, func(q sqlstore.Querier) error {
		rows, err := q.Query(ctx, `SELECT action, COUNT(*) FROM audit_queue
			WHERE action LIKE 'evidence.%' OR action = 'shop.redeem' GROUP BY action`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var action string
			var n int
			if err := rows.Scan(&action, &n); err != nil {
				return err
			}
			got[action] = n
		}
		return rows.Err()
	}))
	want := map[string]int{}
	transitions, redemptions := 0, 0
	for i, v := range demo.Villages {
		transitions += res.History[i].Transitions
		redemptions += res.History[i].Redemptions
		for _, x := range allEvidence(t, e, v.Code) {
			want["evidence.submit"]++
			for action, by := range map[string]string{"evidence.review": x.ReviewedBy, "evidence.object": x.ObjectedBy,
				"evidence.resolve": x.ResolvedBy, "evidence.revoke": x.RevokedBy} {
				if by != "" {
					want[action]++
				}
			}
		}
	}
	want["shop.redeem"] = redemptions
	assert.Equal(t, want, got)
	assert.Equal(t, transitions+redemptions, got["evidence.submit"]+got["evidence.review"]+got["evidence.object"]+
		got["evidence.resolve"]+got["evidence.revoke"]+got["shop.redeem"])
}

// In a county whose catalogues were activated a month ago (seeded before
// the history existed), the history starts the day after: no catalogue
// is back-dated over days another one may have answered for.
func TestHistoryStartsAfterTheCatalogue(t *testing.T) {
	seedsItsOwnCounty(t)
	e := open(t)
	ctx := context.Background()
	activated := fixedNow.AddDate(0, 0, -30)
	cats := catalogue.NewService(e.st.Catalogues(), func() time.Time { return activated })
	load := func(parent, file, maker, checker string) {
		doc, err := examples.FS.ReadFile(file)
		require.NoError(t, err)
		v, err := cats.Upload(ctx, &access.Principal{ID: maker}, parent, doc)
		require.NoError(t, err)
		_, err = cats.Activate(ctx, &access.Principal{ID: checker}, v.Name())
		require.NoError(t, err)
	}
	load("counties/"+demo.County, examples.CountyFile, "demo-operator", "demo-operator-2")
	for _, v := range demo.Villages {
		load("villages/"+v.Code, examples.VillageFile(v.Slug), "demo-clerk-"+v.Slug, "demo-reviewer-"+v.Slug)
	}

	res, err := demo.Seed(ctx, e.svc, e.st, clock)
	require.NoError(t, err)
	require.Len(t, res.History, len(demo.Villages))
	for i, v := range demo.Villages {
		h := res.History[i]
		assert.Equal(t, points.AddDays(household.Today(activated), 1), h.From, v.Name)
		assert.Positive(t, h.Evidence, v.Name)
		got, err := e.cats.Get(ctx, "villages/"+v.Code+"/catalogues/active")
		require.NoError(t, err)
		assert.Equal(t, activated.UTC(), got.ActivateTime.UTC(), "left as it was")
	}
}

// The demo bank's example policy is active: uploaded by one risk manager,
// approved by another.
func TestSeedActivatesThePolicy(t *testing.T) {
	e, res := seededCounty(t)
	require.Equal(t, "banks/tongxiang-rcb/products/sanzhi-xindai/policies/1", res.Policy)
	v, err := policies.NewService(e.st.Policies(), policies.Check, clock).Get(context.Background(), res.Policy)
	require.NoError(t, err)
	assert.Equal(t, policies.Active, v.State)
	assert.Equal(t, "demo-bank-risk", v.UploadedBy)
	assert.Equal(t, "demo-bank-risk-2", v.ApprovedBy)
	again, err := demo.Seed(context.Background(), e.svc, e.st, clock)
	require.NoError(t, err)
	assert.Equal(t, res.Policy, again.Policy, "a second seed keeps the active version")
}

// Every demo village's 兑换超市 has its goods, and its stock is what was
// delivered less what the history's households took: one receipt per
// redemption, each with its ledger entry.
func TestShops(t *testing.T) {
	e, res := seededCounty(t)
	ctx := context.Background()
	sh := shop.NewService(e.st.Shop(), e.cats, clock)
	for i, v := range demo.Villages {
		goods, err := sh.Goods(ctx, "villages/"+v.Code, false)
		require.NoError(t, err)
		require.Len(t, goods, 5, v.Name)
		var receipts []*shop.Receipt
		token := ""
		for {
			page, err := sh.Receipts(ctx, "villages/"+v.Code, "", 1000, token)
			require.NoError(t, err)
			receipts = append(receipts, page.Receipts...)
			if token = page.NextToken; token == "" {
				break
			}
		}
		assert.Len(t, receipts, res.History[i].Redemptions, v.Name)
		assert.Positive(t, len(receipts), v.Name)
		var delivered, taken, stock int64
		for _, g := range goods {
			stock += g.Stock
			assert.Positive(t, g.Price.Sign(), g.Code)
		}
		arrivals := 0
		require.NoError(t, e.st.Shop().Read(ctx, func(tx shop.Reader) error {
			as, err := tx.Arrivals(ctx, v.Code, "", "2000-01-01", household.Today(fixedNow))
			for _, a := range as {
				delivered += a.Quantity
			}
			arrivals = len(as)
			return err
		}))
		assert.Equal(t, 8, arrivals, "%s: five first deliveries and three restocks", v.Name)
		for _, r := range receipts {
			taken += r.Quantity
			assert.GreaterOrEqual(t, r.RedeemableAfter.Sign(), 0)
		}
		assert.Equal(t, delivered-taken, stock, "%s: stock agrees with deliveries and receipts", v.Name)
	}
}
