// Package demo seeds a deterministic demo county: three villages of 桐乡市
// with about 3,000 households and a principal for every role, each with a
// fixed API key.
//
// Every household goes through household.Service.Create as a village clerk
// would register it, so demo data pass exactly the validation real input
// does. The data are generated from a fixed pseudo-random seed: every run
// produces the same households in the same order; only dates that must be
// relative to today (the as-of date of facts) follow the clock.
//
// Demo principals are marked Demo and their keys are public (printed at
// every start); the authenticator accepts them only in demo mode and only
// from loopback peers.
//
// The points catalogues of examples/catalogues go through
// catalogue.Service with the same maker-checker rule as real ones: the
// county base is uploaded by demo-operator and activated by
// demo-operator-2; each village's document is uploaded by its clerk and
// activated by its reviewer.
//
// Each village then gets half a year of evidence history (evidence.go):
// points awarded and deducted, star ratings, red and black list listings,
// the village's credit recommendations and a few redemptions, written
// through evidence.Service under a simulated clock.
//
// 南阳村 has a 股份+积分 dividend rule and two rounds (dividend.go): one
// approved with its payout file ready, one on public notice with the demo
// household's objection open.
//
// The demo bank has a book (lending.go, SeedLending): lines opened up to
// 20 months ago on one household in LendingSample, with drawdowns and
// loan status reports. Its repayment outcomes are synthetic and seeded:
// a line goes bad with the bad rate the active policy's scaling implies
// at the score of the decision that opened it, so the back-test of the
// demo county shows a real, made-up, signal.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	examples "github.com/sanzhi/sanzhi/examples/catalogues"
	policyexamples "github.com/sanzhi/sanzhi/examples/policies"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
	"github.com/sanzhi/sanzhi/scoring/dividend"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/shop"
)

// Village is one demo village.
type Village struct {
	Code       string // 12-digit 统计用区划代码
	Name       string
	Town       string
	Households int
	Groups     int    // 村民小组
	Slug       string // ASCII name used in demo principal names and keys
}

// County is the GB/T 2260 code of 桐乡市, the demo county, and the region
// code of every demo 身份证号.
const County = "330483"

// Bank is the bank id of the demo bank principals: 桐乡农商银行.
const Bank = "tongxiang-rcb"

// BankNames are the demo bank's names, as households read them.
var BankNames = access.Bank{ID: Bank, Name: "桐乡农商银行", NameEN: "Tongxiang Rural Commercial Bank"}

// Product is the demo bank's 三治信农贷 product.
const Product = "sanzhi-xindai"

// Villages are the demo villages, in seeding order.
//
// The codes are illustrative, not official: they have the real shape of a
// 统计用区划代码 (桐乡市 330483, a three-digit town part, a 2xx village
// committee part) but are not looked up in the published table. 南阳村
// (崇福镇) has the 15 村民小组 and 434 households the seed article reports;
// 堰头村 (河山镇) and 农丰村 are sized like typical large villages. The
// 农丰村 of the seed articles is in 海盐县; the demo places a village of
// that name in 桐乡 so that the whole demo is one county.
var Villages = []Village{
	{Code: "330483102215", Name: "南阳村", Town: "崇福镇", Households: 434, Groups: 15, Slug: "nanyang"},
	{Code: "330483105208", Name: "堰头村", Town: "河山镇", Households: 1496, Groups: 20, Slug: "yantou"},
	{Code: "330483104221", Name: "农丰村", Town: "洲泉镇", Households: 1108, Groups: 18, Slug: "nongfeng"},
}

// Principal is a demo principal and its fixed API key.
type Principal struct {
	ID    string
	Name  string
	Role  access.Role
	Key   string // the demo API key, public by design
	Scope access.Scope
}

// Result is what Seed did.
type Result struct {
	Villages   []Village
	Principals []Principal // with the household principal's scope filled in
	Households int         // demo households present (created now or earlier)
	Created    bool        // false when the county was already seeded
	// Catalogues names the active catalogue versions of the county and
	// the demo villages.
	Catalogues []string
	// History describes the evidence history written by this call, one
	// entry per village that had none (empty when all had).
	History []VillageHistory
	// Policy names the demo bank product's active credit policy.
	Policy string
	// Dividends names the dividend rounds this call seeded in
	// DividendVillage (none when it had a round already).
	Dividends []string
}

// DB is the database Seed writes to besides the households;
// *sqlstore.Store implements it. Seed builds its own catalogue and
// evidence services on it, because the history is written under a
// simulated clock.
type DB interface {
	Principals() access.Store
	Catalogues() catalogue.Store
	Evidence() evidence.Store
	Policies() policies.Store
	Shop() shop.Store
	Dividends() dividend.Store
}

// Gated is a DB whose demo policy activation evaluates the activation
// gate (issue 16 §5) with Gate, as every activation through the app does:
// sanzhid and `sanzhi demo seed` seed through it. Seeded from a bare DB
// (the package's tests, whose households are sealed by a stand-in), the
// activation is recorded with the gate not evaluated.
type Gated struct {
	DB
	Gate policies.GateEvaluator
}

// PolicyGate returns the evaluator.
func (g Gated) PolicyGate() policies.GateEvaluator { return g.Gate }

// Names of principals Seed relies on.
const (
	regulatorName = "demo-regulator"
	householdName = "demo-household"
	operatorName  = "demo-operator"
	// checkerName is a second operator: it activates the county base that
	// operatorName uploads, since no one activates their own upload.
	checkerName = "demo-operator-2"
	// riskCheckerName approves the bank's policy that demo-bank-risk
	// uploads.
	riskCheckerName = "demo-bank-risk-2"
	// officerCheckerName approves another officer's override (four eyes).
	officerCheckerName = "demo-bank-officer-2"
)

// Principals returns the demo principals with their fixed keys, in the
// order they are best listed to a user: village staff, the household, bank
// staff, regulator, operator.
//
// The household principal's Scope.Household is empty here: household ids
// are UUIDv7 assigned at creation, so only Seed knows it (Seed's Result has
// it filled in). It is scoped to the first household of the first village
// (南阳村1组1号).
func Principals() []Principal {
	var ps []Principal
	for _, v := range Villages {
		ps = append(ps,
			Principal{ID: "demo-clerk-" + v.Slug, Name: "demo-clerk-" + v.Slug, Role: access.VillageClerk,
				Key: "sz_demo_clerk_" + v.Slug, Scope: access.Scope{Villages: []string{v.Code}}},
			Principal{ID: "demo-reviewer-" + v.Slug, Name: "demo-reviewer-" + v.Slug, Role: access.VillageReviewer,
				Key: "sz_demo_reviewer_" + v.Slug, Scope: access.Scope{Villages: []string{v.Code}}},
		)
	}
	return append(ps,
		Principal{ID: householdName, Name: householdName, Role: access.Household, Key: "sz_demo_household"},
		Principal{ID: "demo-bank-officer", Name: "demo-bank-officer", Role: access.BankOfficer,
			Key: "sz_demo_bank_officer", Scope: access.Scope{Bank: Bank}},
		// A second officer: an override needs a second officer's approval.
		Principal{ID: officerCheckerName, Name: officerCheckerName, Role: access.BankOfficer,
			Key: "sz_demo_bank_officer_2", Scope: access.Scope{Bank: Bank}},
		Principal{ID: "demo-bank-risk", Name: "demo-bank-risk", Role: access.BankRisk,
			Key: "sz_demo_bank_risk", Scope: access.Scope{Bank: Bank}},
		Principal{ID: riskCheckerName, Name: riskCheckerName, Role: access.BankRisk,
			Key: "sz_demo_bank_risk_2", Scope: access.Scope{Bank: Bank}},
		Principal{ID: regulatorName, Name: regulatorName, Role: access.Regulator, Key: "sz_demo_regulator"},
		Principal{ID: operatorName, Name: operatorName, Role: access.Operator, Key: "sz_demo_operator"},
		Principal{ID: checkerName, Name: checkerName, Role: access.Operator, Key: "sz_demo_operator_2"},
	)
}

// Seed creates the demo county unless it exists, which it detects by the
// demo regulator principal existing (that principal is created last). A
// seed interrupted part-way is completed by the next call: households are
// created idempotently by request id and principals that already exist
// with their demo key are kept.
//
// The catalogues are seeded at every call, also into a county seeded
// before they existed: each document is uploaded (idempotent for the same
// text) and activated where the county or village has no active version,
// so a version someone activated since is left alone. Into a county
// without any active catalogue, they are activated as of the start of the
// evidence history, HistoryDays before today.
//
// The evidence history is written into each village that has no evidence
// at all, so a second call adds none (and a history interrupted part-way
// is not completed).
//
// now is the clock for the principals' creation time and for "today", from
// which the facts' as-of dates and the history are counted back; svc has
// its own clock, which should agree.
func Seed(ctx context.Context, svc *household.Service, db DB, now func() time.Time) (Result, error) {
	res, err := seedCounty(ctx, svc, db.Principals(), now)
	if err != nil {
		return res, err
	}
	// Named at every call, also in a county seeded before banks had names.
	bank := BankNames
	if err := db.Principals().PutBank(ctx, &bank); err != nil {
		return res, err
	}
	t0 := now().UTC()
	clk := &simClock{t: t0}
	cats := catalogue.NewService(db.Catalogues(), clk.now)
	if res.Catalogues, err = seedCatalogues(ctx, cats, clk, db.Principals(), t0); err != nil {
		return res, err
	}
	res.History, err = seedHistory(ctx, svc, cats, db.Evidence(), db.Shop(), res.Principals, t0)
	if err != nil {
		return res, err
	}
	if err := seedShops(ctx, shop.NewService(db.Shop(), cats, clk.now), res.Principals); err != nil {
		return res, err
	}
	if res.Policy, err = seedPolicy(ctx, db, res.Principals, now); err != nil {
		return res, err
	}
	res.Dividends, err = seedDividends(ctx, db, res.Principals, t0)
	return res, err
}

// seedPolicy gives the demo bank the example 三治信农贷 policy
// (examples/policies): uploaded by its risk manager, approved by a second
// one and activated, unless the product already has an active version.
func seedPolicy(ctx context.Context, db DB, ps []Principal, now func() time.Time) (string, error) {
	t := now().UTC()
	actor := map[string]*access.Principal{}
	for i := range ps {
		if ps[i].Name == "demo-bank-risk" || ps[i].Name == riskCheckerName {
			// A county seeded before the second risk manager existed
			// gets it now.
			if err := ensurePrincipal(ctx, db.Principals(), &ps[i], t); err != nil {
				return "", err
			}
			actor[ps[i].Name] = &access.Principal{ID: ps[i].ID, Name: ps[i].Name, Role: ps[i].Role, Scope: ps[i].Scope, Demo: true}
		}
	}
	svc := policies.NewService(db.Policies(), policies.Check, now)
	if g, ok := db.(interface{ PolicyGate() policies.GateEvaluator }); ok && g.PolicyGate() != nil {
		svc.SetGate(g.PolicyGate())
	}
	if v, err := svc.Get(ctx, policies.ProductName(Bank, Product)+"/policies/active"); err == nil {
		return v.Name(), nil
	} else if !fault.Is(err, fault.NotFound) {
		return "", err
	}
	doc, err := policyexamples.FS.ReadFile(policyexamples.TongxiangFile)
	if err != nil {
		return "", err
	}
	v, err := svc.Upload(ctx, actor["demo-bank-risk"], policies.ProductName(Bank, Product), doc)
	if err != nil {
		return "", fmt.Errorf("uploading the demo policy: %w", err)
	}
	if v.State == policies.Draft {
		if v, err = svc.Approve(ctx, actor[riskCheckerName], v.Name()); err != nil {
			return "", fmt.Errorf("approving the demo policy: %w", err)
		}
	}
	if v, err = svc.Activate(ctx, actor["demo-bank-risk"], v.Name()); err != nil {
		return "", fmt.Errorf("activating the demo policy: %w", err)
	}
	return v.Name(), nil
}

func seedCounty(ctx context.Context, svc *household.Service, principals access.Store, now func() time.Time) (Result, error) {
	res := Result{Villages: Villages}
	for _, v := range Villages {
		res.Households += v.Households
	}
	ps := Principals()

	reg, err := principals.PrincipalByName(ctx, regulatorName)
	switch {
	case err == nil:
		if !reg.Demo {
			return res, fmt.Errorf("a principal named %s exists but is not a demo principal: refusing to seed the demo county into this database", regulatorName)
		}
		hp, err := principals.PrincipalByName(ctx, householdName)
		if err != nil {
			return res, fmt.Errorf("the demo county is seeded but its household principal is missing: %w", err)
		}
		for i := range ps {
			if ps[i].Name == householdName {
				ps[i].Scope.Household = hp.Scope.Household
			}
		}
		res.Principals = ps
		return res, nil
	case !fault.Is(err, fault.NotFound):
		return res, err
	}

	t := now().UTC()
	byName := map[string]*Principal{}
	for i := range ps {
		byName[ps[i].Name] = &ps[i]
	}
	create := func(name string) error {
		return ensurePrincipal(ctx, principals, byName[name], t)
	}

	for _, v := range Villages {
		if err := create("demo-clerk-" + v.Slug); err != nil {
			return res, err
		}
		if err := create("demo-reviewer-" + v.Slug); err != nil {
			return res, err
		}
	}

	var first *household.Household
	today := household.Today(t)
	for vi, v := range Villages {
		clerk := byName["demo-clerk-"+v.Slug]
		actor := &access.Principal{ID: clerk.ID, Name: clerk.Name, Role: clerk.Role, Scope: clerk.Scope, Demo: true, CreateTime: t}
		for _, hh := range villageHouseholds(vi, today) {
			h, err := svc.Create(ctx, actor, hh)
			if fault.Is(err, fault.AlreadyExists) {
				// An interrupted seed on another day registered it with an
				// older as-of date: the household is there, keep it.
				h, err = svc.Lookup(ctx, hh.Parent, hh.HeadIDNumber)
			}
			if err != nil {
				return res, fmt.Errorf("seeding %s (%s): %w", v.Name, hh.RequestID, err)
			}
			if first == nil {
				first = h
			}
		}
	}

	byName[householdName].Scope.Household = first.ID
	for _, name := range []string{householdName, "demo-bank-officer", officerCheckerName, "demo-bank-risk", riskCheckerName, operatorName, checkerName, regulatorName} {
		if err := create(name); err != nil {
			return res, err
		}
	}
	res.Principals = ps
	res.Created = true
	return res, nil
}

// seedCatalogues uploads the example catalogues and activates each where
// its county or village has no active version, and returns the names of
// the active versions.
//
// cats runs on clk. Into a county with no active catalogue at all, the
// documents are uploaded and activated at the start of the evidence
// history (catalogueTime), so that the history finds them in force; no
// past answer changes, since no catalogue was in force before. Anything
// activated into a county that already had a catalogue is activated now
// (t), never back-dated.
func seedCatalogues(ctx context.Context, cats *catalogue.Service, clk *simClock, principals access.Store, t time.Time) ([]string, error) {
	byName := map[string]Principal{}
	for _, p := range Principals() {
		byName[p.Name] = p
	}
	// A county seeded before catalogues existed lacks the second operator.
	checker := byName[checkerName]
	if err := ensurePrincipal(ctx, principals, &checker, t); err != nil {
		return nil, err
	}
	actor := func(name string) *access.Principal {
		p := byName[name]
		return &access.Principal{ID: p.ID, Name: p.Name, Role: p.Role, Scope: p.Scope, Demo: true, CreateTime: t}
	}
	docs := []struct {
		parent, file, maker, checker string
	}{{resource.County(County), examples.CountyFile, operatorName, checkerName}}
	for _, v := range Villages {
		docs = append(docs, struct{ parent, file, maker, checker string }{
			resource.Village(v.Code), examples.VillageFile(v.Slug), "demo-clerk-" + v.Slug, "demo-reviewer-" + v.Slug})
	}
	var active []string
	clk.t = catalogueTime(t)
	for i, d := range docs {
		if i == 0 {
			_, err := cats.Get(ctx, d.parent+"/catalogues/"+catalogue.ActiveAlias)
			switch {
			case err == nil:
				clk.t = t
			case !fault.Is(err, fault.NotFound):
				return nil, err
			}
		}
		doc, err := examples.FS.ReadFile(d.file)
		if err != nil {
			return nil, fmt.Errorf("demo catalogue %s: %w", d.file, err)
		}
		v, err := cats.Upload(ctx, actor(d.maker), d.parent, doc)
		switch {
		case fault.Is(err, fault.AlreadyExists):
			// Someone stored other text under the example's version
			// number in this database: keep theirs.
			v = nil
		case err != nil:
			return nil, fmt.Errorf("uploading demo catalogue %s: %w", d.file, err)
		}
		cur, err := cats.Get(ctx, d.parent+"/catalogues/"+catalogue.ActiveAlias)
		switch {
		case err == nil:
		case fault.Is(err, fault.NotFound) && v != nil:
			if cur, err = cats.Activate(ctx, actor(d.checker), v.Name()); err != nil {
				return nil, fmt.Errorf("activating demo catalogue %s: %w", v.Name(), err)
			}
		case fault.Is(err, fault.NotFound):
			continue
		default:
			return nil, err
		}
		active = append(active, cur.Name())
	}
	return active, nil
}

// ensurePrincipal creates the demo principal dp, or accepts it when it
// already exists as this demo principal with this key.
func ensurePrincipal(ctx context.Context, store access.Store, dp *Principal, t time.Time) error {
	p := &access.Principal{ID: dp.ID, Name: dp.Name, Role: dp.Role, Scope: dp.Scope, Demo: true, CreateTime: t}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("demo principal %s: %w", dp.Name, err)
	}
	err := store.CreatePrincipal(ctx, p, access.HashKey(dp.Key))
	if !fault.Is(err, fault.AlreadyExists) {
		return err
	}
	got, kerr := store.PrincipalByKey(ctx, access.HashKey(dp.Key))
	if kerr == nil && got.Name == dp.Name && got.Demo && got.Role == dp.Role {
		return nil
	}
	return fmt.Errorf("cannot create demo principal %s: %w", dp.Name, err)
}

// villageHouseholds returns the registration requests of village v, in
// order (by group, then house number). Only the as-of dates depend on
// today.
func villageHouseholds(vi int, today household.Date) []household.CreateInput {
	v := Villages[vi]
	code, _ := strconv.ParseUint(v.Code, 10, 64)
	g := &gen{r: rand.New(rand.NewPCG(0x53414e5a4849, code)), used: map[string]bool{}, code: code, memberIDs: map[string]bool{}}
	sizes := groupSizes(g.r, v.Households, v.Groups)
	out := make([]household.CreateInput, 0, v.Households)
	n := 0
	for grp, size := range sizes {
		house := 0
		for range size {
			n++
			house += 1 + g.skip()
			out = append(out, g.household(vi, int32(grp+1), house, n, today))
		}
	}
	return out
}

// groupSizes splits n households over groups 村民小组 of uneven size
// (weights 80..120), every group non-empty.
func groupSizes(r *rand.Rand, n, groups int) []int {
	w := make([]int, groups)
	total := 0
	for i := range w {
		w[i] = 80 + r.IntN(41)
		total += w[i]
	}
	sizes := make([]int, groups)
	left := n
	for i := range w {
		sizes[i] = n * w[i] / total
		left -= sizes[i]
	}
	for i := 0; left > 0; i = (i + 1) % groups {
		sizes[i]++
		left--
	}
	return sizes
}

type gen struct {
	r *rand.Rand
	// used holds the 17-digit ID number stems the village has drawn.
	used map[string]bool
	// code and memberIDs seed and de-duplicate the members (family).
	code      uint64
	memberIDs map[string]bool
}

// skip occasionally leaves a house number unused (demolished, merged).
func (g *gen) skip() int {
	if g.r.IntN(10) == 0 {
		return 1 + g.r.IntN(2)
	}
	return 0
}

func (g *gen) household(vi int, group int32, house, n int, today household.Date) household.CreateInput {
	v := Villages[vi]
	male := g.r.IntN(100) < 82 // most registered heads are men
	birth := g.birthDate()
	members := g.members()
	labourers := g.labourers(members, birth)
	head := g.name(male, birth.Year())
	return household.CreateInput{
		Parent:       resource.Village(v.Code),
		HeadName:     head,
		HeadIDNumber: g.idNumber(vi, birth, male),
		Members:      family(vi, g.code, n, head, birth, male, members, labourers, g.memberIDs),
		Group:        group,
		Address:      fmt.Sprintf("%s%d组%d号", v.Name, group, house),
		Registered:   g.registered(birth),
		Facts: &household.FactsInput{
			Members:          members,
			Labourers:        labourers,
			AnnualIncome:     g.income(labourers),
			LandAreaMu:       g.land(),
			CollectiveShares: g.shares(members),
			ExistingDebt:     g.debt(),
			DishonestDebtor:  g.r.IntN(100) == 0,
			Source:           "村委会登记",
			AsOf:             asOf(today, 1+g.r.IntN(120)),
		},
		RequestID: fmt.Sprintf("demo-%s-%d", v.Code, n),
	}
}

var (
	// Common surnames in 桐乡 (嘉兴), most frequent first; weights are rough.
	surnames = []struct {
		s string
		w int
	}{
		{"沈", 14}, {"张", 9}, {"徐", 8}, {"朱", 7}, {"陆", 7}, {"钱", 6}, {"王", 6}, {"吴", 6},
		{"李", 5}, {"周", 5}, {"金", 5}, {"姚", 4}, {"顾", 4}, {"陈", 4}, {"杨", 3}, {"蔡", 3},
		{"范", 3}, {"俞", 2}, {"孙", 2}, {"马", 2}, {"费", 2}, {"屠", 2}, {"褚", 1}, {"凌", 1},
		{"计", 1}, {"施", 1}, {"郁", 1}, {"丁", 1},
	}
	surnameTotal = func() int {
		t := 0
		for _, s := range surnames {
			t += s.w
		}
		return t
	}()

	// Given-name characters by generation: the older ones for heads born
	// before 1965.
	maleOld    = []rune("根福林宝荣金生祥炳水法兴明才松德章昌泉坤")
	maleYoung  = []rune("伟强军建国明华勇杰斌峰磊涛海平新利辉俊良")
	femaleOld  = []rune("英凤娥珍秀妹宝金花琴菊梅月仙林芬娟彩")
	femaleYoun = []rune("芳丽娟燕萍红霞敏静婷雪琴慧玲佳艳洁")
)

func (g *gen) name(male bool, year int) string {
	k := g.r.IntN(surnameTotal)
	var s string
	for _, c := range surnames {
		if k < c.w {
			s = c.s
			break
		}
		k -= c.w
	}
	chars := maleYoung
	switch {
	case male && year < 1965:
		chars = maleOld
	case !male && year < 1965:
		chars = femaleOld
	case !male:
		chars = femaleYoun
	}
	first := g.r.IntN(len(chars))
	given := string(chars[first])
	if g.r.IntN(10) < 7 {
		// A second, different character (叠字 names are rare for heads).
		given += string(chars[(first+1+g.r.IntN(len(chars)-1))%len(chars)])
	}
	return s + given
}

var (
	birthFirst = time.Date(1945, 1, 1, 0, 0, 0, 0, time.UTC)
	birthLast  = time.Date(1998, 12, 31, 0, 0, 0, 0, time.UTC)
)

// birthDate draws a birth date in 1945-1998, skewed towards older heads.
func (g *gen) birthDate() time.Time {
	days := int(birthLast.Sub(birthFirst).Hours() / 24)
	d := min(g.r.IntN(days+1), g.r.IntN(days+1))
	return birthFirst.AddDate(0, 0, d)
}

// idNumber returns a 身份证号 issued in 桐乡 with a valid check digit,
// unique across the demo county: the sequence code's first digit is the
// village's index (so villages never collide), and a stem drawn twice
// within a village is redrawn.
// The last sequence digit is odd for men and even for women, as in GB 11643.
func (g *gen) idNumber(vi int, birth time.Time, male bool) string {
	for {
		sex := 2 * g.r.IntN(5)
		if male {
			sex++
		}
		stem := fmt.Sprintf("%s%s%d%d%d", County, birth.Format("20060102"), vi, g.r.IntN(10), sex)
		if g.used[stem] {
			continue
		}
		g.used[stem] = true
		check, err := idnum.CheckDigit(stem)
		if err != nil {
			panic(err) // the stem is 17 digits by construction
		}
		return stem + string(check)
	}
}

// registered draws the registration date: 1990-2020, when the head was at
// least 20.
func (g *gen) registered(birth time.Time) string {
	from := time.Date(max(1990, birth.Year()+20), 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2020, 12, 31, 0, 0, 0, 0, time.UTC)
	days := int(to.Sub(from).Hours() / 24)
	return from.AddDate(0, 0, g.r.IntN(days+1)).Format(time.DateOnly)
}

// members draws the household size, 1-7, mostly 2-5.
func (g *gen) members() int32 {
	weights := []int{6, 20, 24, 22, 16, 8, 4} // per cent, sizes 1..7
	k := g.r.IntN(100)
	for i, w := range weights {
		if k < w {
			return int32(i + 1)
		}
		k -= w
	}
	return 7
}

// labourers draws how many members work: fewer in elderly households.
func (g *gen) labourers(members int32, birth time.Time) int32 {
	if birth.Year() < 1955 && members <= 2 {
		return int32(g.r.IntN(int(members) + 1))
	}
	if g.r.IntN(20) == 0 {
		return 0
	}
	return min(members, int32(1+g.r.IntN(4)))
}

// income draws the annual household income in yuan, 30,000-300,000, right
// skewed (median near 110,000), to the 10 yuan. Integer arithmetic only, so
// every platform draws the same amounts.
func (g *gen) income(labourers int32) string {
	const scale = 1_000_000
	var tens int
	if labourers == 0 {
		tens = 3_000 + 4_000*g.r.IntN(scale)/scale // pensions, rents: 30,000-70,000
	} else {
		u := min(g.r.IntN(scale), g.r.IntN(scale))
		if labourers >= 3 {
			u = max(u, min(g.r.IntN(scale), g.r.IntN(scale)))
		}
		tens = 3_000 + 27_000*u/scale
	}
	return decimal.New(int64(tens)*10, 0).String()
}

// land draws the contracted land in 亩, 0-12 to one decimal; about one
// household in six has transferred (流转) all of it.
func (g *gen) land() string {
	if g.r.IntN(6) == 0 {
		return "0"
	}
	return decimal.New(int64(1+g.r.IntN(120)), -1).String()
}

// shares draws the collective economic shares (股份经济合作社), 0-50,
// roughly per member.
func (g *gen) shares(members int32) string {
	if g.r.IntN(20) == 0 {
		return "0"
	}
	return strconv.Itoa(min(50, int(members)*(3+g.r.IntN(5))))
}

// debt draws existing bank debt: none for about 80% of households, else
// 10,000-300,000 to the thousand, skewed low.
func (g *gen) debt() string {
	if g.r.IntN(5) != 0 {
		return "0"
	}
	k := min(g.r.IntN(291), g.r.IntN(291))
	return strconv.Itoa((10 + k) * 1000)
}

// asOf is the date days before today.
func asOf(today household.Date, days int) string {
	return today.Time().AddDate(0, 0, -days).Format(time.DateOnly)
}
