package demo

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
	"github.com/sanzhi/sanzhi/scoring/shop"
)

// The evidence history.
//
// A village whose points were recorded from today on would show every
// household at the base of 100: nothing for a credit policy to tell apart.
// So Seed gives each demo village half a year of its committee's work,
// replayed through evidence.Service day by day under a simulated clock:
// the clerk submits what households did (machine records such as
// smart-bin deposits arrive as nightly imports and skip review), the
// reviewer approves or, now and then, rejects, 公示 runs its course,
// villagers object, the 兑换超市 gets its goods and households redeem
// them (shop.go). Every write passes the same
// rules and leaves the same audit record as real work, and the ledger
// never holds an entry effective before the (simulated) day it was
// written. Today's work is clamped to the real now, so nothing is dated
// in the future.
//
// The history of a village starts HistoryDays before today, or the day
// after the catalogue it uses today was activated if that is later: Seed
// activates the demo catalogues of a fresh county at the start of the
// history (see seedCatalogues), and a county seeded before the history
// existed gets a shorter one rather than a back-dated catalogue.
//
// What happens is drawn from a fixed seed per village: the same
// households and the same today give the same evidence (ids and instants
// aside). A village's history is written only while the village has no
// evidence at all.

// HistoryDays is how far back before today the evidence history starts (26
// weeks).
const HistoryDays = 182

// VillageHistory is what Seed recorded in one village's evidence history.
type VillageHistory struct {
	Village string
	// From and To are the first and last simulated days.
	From, To household.Date
	// Evidence counts the evidence submitted, ByKind by kind and ByPhase
	// by phase on To (posted evidence is on_notice or effective).
	Evidence int
	ByKind   map[evidence.Kind]int
	ByPhase  map[evidence.Phase]int
	// Transitions counts the audited evidence transitions: submissions,
	// reviews, objections, resolutions and revocations.
	Transitions int
	// Redemptions counts the 兑换超市 redemptions.
	Redemptions int
}

// simClock is the simulated clock of the history: set, never advancing
// on its own.
type simClock struct{ t time.Time }

func (c *simClock) now() time.Time { return c.t }

// at sets the clock to hh:mm of day d in Asia/Shanghai, but never after
// limit (the real now: today's work is done by now).
func (c *simClock) at(d household.Date, hh, mm int, limit time.Time) {
	t := d.Time()
	t = time.Date(t.Year(), t.Month(), t.Day(), hh, mm, 0, 0, household.Shanghai).UTC()
	if t.After(limit) {
		t = limit
	}
	c.t = t
}

// historyStart is the first day of the history and catalogueTime the
// instant the demo catalogues are activated: 08:00 that day.
func historyStart(t0 time.Time) household.Date {
	return points.AddDays(household.Today(t0), -HistoryDays)
}

func catalogueTime(t0 time.Time) time.Time {
	var c simClock
	c.at(historyStart(t0), 8, 0, t0)
	return c.t
}

// What a household is like, for drawing its acts.
type persona int

const (
	exemplary persona = iota // 积极户: many awards
	regular                  // most households
	passive                  // little beyond sorting their rubbish
	offender                 // minor deductions
	serious                  // serious deductions
)

// The kinds of act a household does, for drawing items.
type actKind int

const (
	routine  actKind = iota // machine-recorded, no review
	civic                   // common reviewed awards
	notable                 // rarer, bigger awards
	minorDed                // small deductions
	majorDed                // serious deductions
	nActKinds
)

// actsPerHalfYear is the mean number of acts of each kind a household of
// each persona does in 26 weeks, in 南阳村 (other villages scale it).
var actsPerHalfYear = [...][nActKinds]float64{
	exemplary: {8, 4.5, 1.2, 0.05, 0},
	regular:   {7, 2.2, 0.3, 0.2, 0},
	passive:   {5, 0.6, 0.05, 0.25, 0},
	offender:  {3, 0.6, 0, 2, 0.3},
	serious:   {2, 0.3, 0, 1.5, 1.2},
}

// menuItem is an item a household may be drawn to do, with its weight
// among its kind and the most units of one submission. Items missing from
// a village's catalogue are skipped.
type menuItem struct {
	code   string
	weight int
	maxQty int32
}

var menus = [nActKinds][]menuItem{
	routine: {
		{"DZ-ML-01", 12, 6}, // smart bin: the correct deposits of a few weeks
		{"DZ-XF-06", 2, 1},  // 道德讲堂 check-in
		{"ZZ-MS-05", 2, 1},  // training check-in
		{"FZ-PA-13", 1, 1},  // 共享法庭 check-in
	},
	civic: {
		{"ZZ-MS-01", 5, 1}, {"DZ-ML-04", 5, 1}, {"DZ-XF-07", 4, 1}, {"ZZ-GY-01", 4, 4},
		{"ZZ-ML-06", 3, 1}, {"FZ-PA-03", 3, 1}, {"DZ-GY-10", 3, 1}, {"ZZ-MS-03", 2, 1},
		{"ZZ-MS-08", 2, 1}, {"ZZ-XF-10", 1, 1}, {"FZ-PA-04", 1, 1},
		{"NY-MS-01", 3, 1}, {"NY-ML-03", 3, 1}, {"YT-YF-11", 2, 1}, {"NF-GY-01", 3, 1},
	},
	notable: {
		{"ZZ-MS-02", 3, 1}, {"DZ-GY-04", 3, 1}, {"DZ-GY-03", 2, 1}, {"DZ-GY-06", 2, 1},
		{"FZ-PA-02", 2, 1}, {"DZ-ML-03", 2, 1}, {"DZ-XF-02", 1, 1}, {"DZ-XF-01", 1, 1},
		{"ZZ-GY-08", 1, 1}, {"FZ-PA-05", 1, 1}, {"DZ-GY-09", 1, 1}, {"ZZ-MS-04", 1, 1},
		{"DZ-XF-03", 1, 1}, {"YT-YF-03", 1, 1}, {"YT-YF-04", 1, 1}, {"YT-YF-05", 1, 1},
	},
	minorDed: {
		{"DZ-ML-02", 5, 2}, {"FZ-PA-09", 3, 1}, {"DZ-ML-10", 2, 1}, {"NY-ML-02", 3, 1},
		{"DZ-ML-05", 2, 1}, {"YT-YF-09", 2, 1}, {"DZ-XF-09", 1, 1}, {"FZ-ML-09", 1, 1},
	},
	majorDed: {
		{"FZ-ML-07", 3, 1}, {"FZ-PA-10", 2, 1}, {"FZ-PA-07", 2, 1}, {"DZ-XF-04", 2, 1},
		{"FZ-PA-14", 2, 1}, {"DZ-XF-05", 1, 1}, {"FZ-PA-06", 1, 1}, {"ZZ-MS-07", 1, 1},
		{"YT-YF-07", 2, 1}, {"YT-YF-10", 2, 1},
	},
}

// systemSources names the system that recorded a machine-recorded item.
var systemSources = map[string]string{
	"DZ-ML-01": "智能垃圾分类箱",
	"DZ-ML-02": "智能垃圾分类箱巡检记录",
	"DZ-XF-06": "文化礼堂扫码签到",
	"ZZ-MS-05": "三治积分小程序扫码签到",
	"FZ-PA-13": "共享法庭签到系统",
	"ZZ-GY-01": "志愿汇",
	"ZZ-GY-02": "志愿汇",
	"FZ-PA-03": "平安巡防App",
	"FZ-PA-12": "公安户籍与违法犯罪记录核查",
	"ZZ-MS-08": "基层治理四平台",
	"NF-GY-01": "兑换超市值班记录",
}

var rejectReasons = []string{
	"照片无法辨认，请补拍后重新提交",
	"证明人不是本村村民，请更换证明人",
	"与上周记录重复",
	"发生日期与活动签到记录不符",
}

// act is one planned piece of evidence and what happens to it.
type act struct {
	in     evidence.SubmitInput
	submit household.Date
	// review is the day it is reviewed, "" when it needs no review or is
	// still awaiting it today; reject is the rejection reason.
	review household.Date
	reject string
	// An objection, its resolution, a revocation: days and reasons.
	object, resolve, revoke                   household.Date
	objectReason, resolveReason, revokeReason string
	uphold                                    bool

	needsReview bool
	award       bool            // points evidence of an award item
	pts         decimal.Decimal // points evidence: the points asked for
	home        *household.Household
	ev          *evidence.Evidence // as last returned by the service
}

// redemption is a planned visit to the 兑换超市: quantity of demoGoods[good].
type redemption struct {
	day      household.Date
	home     *household.Household
	good     int
	quantity int64
	req      string
}

// villagePlan is the history of one village.
type villagePlan struct {
	v          Village
	cat        *points.Catalogue
	from, to   household.Date
	acts       []*act
	redeems    []*redemption
	redeemed   int
	clerk, rev *access.Principal
}

// seedHistory writes the evidence history of every demo village that has
// no evidence yet, up to t0 (the real now).
func seedHistory(ctx context.Context, hs *household.Service, cats *catalogue.Service, store evidence.Store,
	shops shop.Store, principals []Principal, t0 time.Time) ([]VillageHistory, error) {
	hc := historyCatalogues{cats: cats, by: map[string]*points.Catalogue{}}
	ev := evidence.NewService(store, hc, func() time.Time { return t0 })
	actor := map[string]*access.Principal{}
	for _, p := range principals {
		actor[p.Name] = &access.Principal{ID: p.ID, Name: p.Name, Role: p.Role, Scope: p.Scope, Demo: true}
	}
	villager := actor[householdName]
	today := household.Today(t0)
	var plans []*villagePlan
	for vi, v := range Villages {
		page, err := ev.List(ctx, evidence.Filter{Parent: resource.Village(v.Code)}, 1, "")
		if err != nil {
			return nil, err
		}
		if len(page.Evidence) > 0 {
			continue
		}
		p, err := planVillage(ctx, hs, cats, vi, today, t0)
		if err != nil {
			return nil, fmt.Errorf("planning the history of %s: %w", v.Name, err)
		}
		if p == nil {
			continue
		}
		p.clerk, p.rev = actor["demo-clerk-"+v.Slug], actor["demo-reviewer-"+v.Slug]
		hc.by[v.Code] = p.cat
		plans = append(plans, p)
	}
	if len(plans) == 0 {
		return nil, nil
	}
	// Villages share nothing the history writes (households, sheets,
	// request ids are per village), so each is replayed on its own
	// clock, one after the other. (Replaying them concurrently gains
	// about a fifth on PostgreSQL and nothing on SQLite, whose single
	// writer serialises them anyway.)
	for _, p := range plans {
		c := &simClock{}
		if err := replay(ctx, evidence.NewService(store, hc, c.now), shop.NewService(shops, hc, c.now), c, p, villager, t0); err != nil {
			return nil, err
		}
	}
	out := make([]VillageHistory, 0, len(plans))
	for _, p := range plans {
		h := VillageHistory{Village: p.v.Code, From: p.from, To: p.to, ByKind: map[evidence.Kind]int{},
			ByPhase: map[evidence.Phase]int{}, Redemptions: p.redeemed}
		for _, a := range p.acts {
			h.Evidence++
			h.ByKind[a.ev.Kind]++
			h.ByPhase[a.ev.Phase(today)]++
			h.Transitions++
			for _, by := range []string{a.ev.ReviewedBy, a.ev.ObjectedBy, a.ev.ResolvedBy, a.ev.RevokedBy} {
				if by != "" {
					h.Transitions++
				}
			}
		}
		out = append(out, h)
	}
	return out, nil
}

// historyCatalogues is the catalogue port of the history's evidence
// service: the catalogue each village uses throughout its history (the
// one in force today, active since before the history starts, see
// planVillage), without a lookup at every simulated step.
type historyCatalogues struct {
	cats *catalogue.Service
	by   map[string]*points.Catalogue
}

func (h historyCatalogues) Effective(ctx context.Context, village string) (*points.Catalogue, error) {
	if c, ok := h.by[village]; ok {
		return c, nil
	}
	return h.cats.Effective(ctx, village)
}

func (h historyCatalogues) EffectiveAt(ctx context.Context, village string, t time.Time) (*points.Catalogue, error) {
	return h.cats.EffectiveAt(ctx, village, t)
}

// planVillage draws the history of village vi up to today; nil when its
// catalogue leaves no days to simulate.
func planVillage(ctx context.Context, hs *household.Service, cats *catalogue.Service, vi int,
	today household.Date, t0 time.Time) (*villagePlan, error) {
	v := Villages[vi]
	cat, err := cats.EffectiveAt(ctx, v.Code, t0)
	if err != nil {
		return nil, err
	}
	// The history starts once the catalogue in force today was: in a
	// county seeded before the history existed that may be recent.
	from := historyStart(t0)
	since, err := activeSince(ctx, cats, v.Code)
	if err != nil {
		return nil, err
	}
	var first simClock
	if first.at(from, 9, 0, t0); since.After(first.t) {
		from = points.AddDays(household.Today(since), 1)
	}
	if from.After(today) {
		return nil, nil
	}
	homes := map[string]*household.Household{}
	token := ""
	for {
		page, err := hs.List(ctx, resource.Village(v.Code), 0, 1000, token)
		if err != nil {
			return nil, err
		}
		for _, h := range page.Items {
			homes[h.Address] = h
		}
		if token = page.NextToken; token == "" {
			break
		}
	}
	code, _ := strconv.ParseUint(v.Code, 10, 64)
	p := &villagePlan{v: v, cat: cat, from: from, to: today}
	g := &planner{p: p, r: rand.New(rand.NewPCG(0x53414e5a4849+1, code)), today: today,
		days: days(from, today), used: map[string]decimal.Decimal{}}
	g.witnesses()
	// Households in registration order, found by address: the plan does
	// not depend on the ids the database assigned.
	var order []*household.Household
	for _, in := range villageHouseholds(vi, today) {
		if h, ok := homes[in.Address]; ok {
			order = append(order, h)
		}
	}
	if len(order) == 0 {
		return nil, nil
	}
	g.first = order[0]
	g.households(order)
	g.outcomes(vi == 0)
	return p, nil
}

// activeSince is when the catalogue village uses now became active: its
// own active version's activation, else the county's.
func activeSince(ctx context.Context, cats *catalogue.Service, village string) (time.Time, error) {
	for _, name := range []string{resource.Village(village), resource.County(village[:6])} {
		c, err := cats.Get(ctx, name+"/catalogues/"+catalogue.ActiveAlias)
		if fault.Is(err, fault.NotFound) {
			continue
		}
		if err != nil {
			return time.Time{}, err
		}
		return *c.ActivateTime, nil
	}
	return time.Time{}, fault.New(fault.NotFound, "NO_ACTIVE_CATALOGUE", "village %s has no catalogue", village)
}

func days(from, to household.Date) int {
	return int(to.Time().Sub(from.Time()).Hours()/24 + 0.5)
}

// planner draws one village's plan.
type planner struct {
	p     *villagePlan
	r     *rand.Rand
	today household.Date
	days  int // from .. today
	n     int // acts drawn, for request ids
	// used is what each household has asked for per item and year, to
	// stay under annual caps.
	used      map[string]decimal.Decimal
	witness   []string
	first     *household.Household // the demo household principal's, in 南阳村
	personas  map[*household.Household]persona
	blacklist map[*household.Household]bool
}

// scale is the village's activity relative to 南阳村, whose committee
// records most (it is the seed articles' model village).
func (g *planner) scale() float64 {
	if g.p.v.Code == Villages[0].Code {
		return 1
	}
	return 0.04
}

func (g *planner) witnesses() {
	ng := &gen{r: g.r}
	for i := range 8 {
		role := []string{"网格员", "村民小组长", "村监委委员", "妇联执委"}[i%4]
		g.witness = append(g.witness, role+ng.name(g.r.IntN(3) > 0, 1960+g.r.IntN(30)))
	}
}

// day returns from + k days.
func (g *planner) day(k int) household.Date { return points.AddDays(g.p.from, k) }

// anyDay draws a day of the history.
func (g *planner) anyDay() household.Date { return g.day(g.r.IntN(g.days + 1)) }

// count draws how many of something a household does: mean on average,
// spread uniformly over 0.2 .. 1.8 × mean.
func (g *planner) count(mean float64) int {
	mean *= float64(g.days) / HistoryDays
	x := mean * (0.2 + 1.6*g.r.Float64())
	n := int(x)
	if g.r.Float64() < x-float64(n) {
		n++
	}
	return n
}

func (g *planner) persona(first bool) persona {
	if first {
		return exemplary // the demo household principal's: a rich history to show
	}
	switch k := g.r.IntN(100); {
	case k < 14:
		return exemplary
	case k < 64:
		return regular
	case k < 86:
		return passive
	case k < 97:
		return offender
	default:
		return serious
	}
}

// annualDay is when the yearly items of this history are assessed: mid
// January if the history holds it, else a fortnight in.
func (g *planner) annualDay() household.Date {
	for _, y := range []int{points.Year(g.today), points.Year(g.today) - 1} {
		d := household.Date(fmt.Sprintf("%04d-01-12", y))
		if !g.p.from.After(d) && !d.After(points.AddDays(g.today, -30)) {
			return d
		}
	}
	return g.day(min(14, g.days))
}

func (g *planner) households(order []*household.Household) {
	g.personas = map[*household.Household]persona{}
	annual := g.annualDay()
	var worst []*household.Household
	for i, h := range order {
		pe := g.persona(i == 0 && g.p.v.Code == Villages[0].Code)
		g.personas[h] = pe
		for k := range nActKinds {
			for range g.count(actsPerHalfYear[pe][k] * g.scale()) {
				g.drawAct(h, k)
			}
		}
		g.yearly(h, pe, annual)
		if pe == serious {
			worst = append(worst, h)
		}
	}
	// One or two 黑榜 listings: serious offenders whose illegal building
	// (or fight) the village then lists.
	g.blacklist = map[*household.Household]bool{}
	g.r.Shuffle(len(worst), func(i, j int) { worst[i], worst[j] = worst[j], worst[i] })
	for _, h := range worst[:min(len(worst), 1+int(g.scale()+0.5))] {
		g.blacklist[h] = true
		d := g.day(g.r.IntN(max(1, g.days/2)))
		code, why := "FZ-ML-07", "违法搭建经多次劝导拒不整改"
		if _, ok := g.p.cat.Item(code); !ok {
			code, why = "FZ-PA-10", "打架斗殴、寻衅滋事"
		}
		if a := g.pointsAct(h, code, 1, d); a != nil {
			d = a.submit
		}
		g.listing(h, evidence.BlackList, points.AddDays(d, 12), "经村民代表会议决定列入黑榜："+why, 12)
	}
	for i, h := range order {
		pe := g.personas[h]
		first := i == 0 && g.p.v.Code == Villages[0].Code
		g.standing(h, pe, first)
	}
	g.redemptions(order)
}

// drawAct draws one act of kind k by household h.
func (g *planner) drawAct(h *household.Household, k actKind) {
	var menu []menuItem
	total := 0
	for _, m := range menus[k] {
		if _, ok := g.p.cat.Item(m.code); ok {
			menu = append(menu, m)
			total += m.weight
		}
	}
	if total == 0 {
		return
	}
	w := g.r.IntN(total)
	var m menuItem
	for _, m = range menu {
		if w < m.weight {
			break
		}
		w -= m.weight
	}
	q := int32(1)
	if m.maxQty > 1 {
		q = 1 + g.r.Int32N(m.maxQty)
	}
	g.pointsAct(h, m.code, q, g.anyDay())
}

// yearly draws the items assessed once a year.
func (g *planner) yearly(h *household.Household, pe persona, annual household.Date) {
	on := func(code string, pct int) {
		if g.r.IntN(100) < int(float64(pct)*g.scale()+0.5) {
			g.pointsAct(h, code, 1, points.AddDays(annual, g.r.IntN(10)))
		}
	}
	clean := pe != offender && pe != serious
	compact := map[persona]int{exemplary: 95, regular: 85, passive: 60, offender: 40, serious: 10}[pe]
	on("ZZ-MS-06", compact)
	on("YT-YF-12", compact)
	if clean {
		on("FZ-PA-12", map[persona]int{exemplary: 90, regular: 70, passive: 50}[pe])
	}
	if pe == exemplary {
		on("ZZ-GY-02", 60)
		on("FZ-PA-01", 12)
		on("YT-YF-01", 50)
	} else if clean {
		on("YT-YF-02", 40)
	}
}

// pointsAct plans points evidence of quantity units of item code on day
// d, within the item's annual cap; nil when the cap is reached or the
// item is not in the catalogue.
func (g *planner) pointsAct(h *household.Household, code string, q int32, d household.Date) *act {
	it, ok := g.p.cat.Item(code)
	if !ok {
		return nil
	}
	if d.After(g.today) {
		d = g.today
	}
	if it.HasCap() {
		key := fmt.Sprintf("%s|%s|%d", h.ID, code, points.Year(d))
		room := it.AnnualCap.Sub(g.used[key])
		per := it.Points.Abs()
		for q > 0 && per.Mul(decimal.NewFromInt32(q)).GreaterThan(room) {
			q--
		}
		if q == 0 {
			return nil
		}
		g.used[key] = g.used[key].Add(per.Mul(decimal.NewFromInt32(q)))
	}
	a := g.newAct(h, evidence.SubmitInput{Kind: evidence.Points, ItemCode: code, Quantity: q, OccurredOn: string(d)}, d, it.Review)
	a.award = it.IsAward()
	a.pts = it.Points.Mul(decimal.NewFromInt32(q))
	for _, k := range it.Evidence {
		switch k {
		case points.Witness:
			a.in.Witness = g.witness[g.r.IntN(len(g.witness))]
		case points.PhotoHash:
			a.in.Attachments = append(a.in.Attachments, attachment("photo", a.in.RequestID))
		case points.DocumentHash:
			a.in.Attachments = append(a.in.Attachments, attachment("document", a.in.RequestID))
		case points.SystemRecord:
			a.in.SystemSource = cmp.Or(systemSources[code], "村级数字化治理平台")
		}
	}
	if !it.IsAward() && it.Review {
		a.in.Note = "网格巡查发现，已告知本户"
	}
	return a
}

// newAct plans evidence of in, happening on day d: a machine record is
// imported that night or the next, the clerk enters the rest within a few
// days, and the reviewer gets to it the same day or within two.
func (g *planner) newAct(h *household.Household, in evidence.SubmitInput, d household.Date, review bool) *act {
	g.n++
	in.Parent = h.Name()
	in.RequestID = fmt.Sprintf("demo-ev-%s-%05d", g.p.v.Code, g.n)
	a := &act{in: in, home: h, needsReview: review}
	lag := g.r.IntN(2)
	if review {
		lag = []int{0, 1, 1, 2, 3, 4}[g.r.IntN(6)]
	}
	a.submit = points.AddDays(d, lag)
	if a.submit.After(g.today) {
		a.submit = g.today
	}
	if g.p.from.After(a.submit) {
		a.submit = g.p.from // the replay starts there
	}
	if review {
		a.review = points.AddDays(a.submit, []int{0, 0, 0, 1, 1, 2}[g.r.IntN(6)])
		if a.review.After(g.today) {
			a.review = "" // still awaiting review today
		}
	}
	g.p.acts = append(g.p.acts, a)
	return a
}

func attachment(kind, req string) evidence.Attachment {
	sum := sha256.Sum256([]byte("sanzhi-demo|" + kind + "|" + req))
	return evidence.Attachment{Kind: kind, SHA256: hex.EncodeToString(sum[:])}
}

// listing plans a red or black list listing on day d, valid for months.
func (g *planner) listing(h *household.Household, kind evidence.Kind, d household.Date, note string, months int) *act {
	// A listing must count today: decide it at least a notice period
	// and a review before the end of the history.
	if last := points.AddDays(g.today, -(g.p.cat.PublicNoticeDays + 3)); d.After(last) {
		d = last
	}
	if g.p.from.After(d) {
		d = g.p.from
	}
	a := g.newAct(h, evidence.SubmitInput{Kind: kind, OccurredOn: string(d), Note: note,
		ValidUntil: string(points.AddMonths(d, months))}, d, true)
	a.in.Attachments = []evidence.Attachment{attachment("document", a.in.RequestID)}
	a.review = points.AddDays(a.submit, 1)
	return a
}

// standing plans the household's star rating, red list listing and the
// village's recommendation for this year.
func (g *planner) standing(h *household.Household, pe persona, first bool) {
	rating := g.annualDay().Time().AddDate(0, 0, 20)
	ratingDay := household.Date(rating.Format(time.DateOnly))
	starPct := map[persona]int{exemplary: 22, regular: 2}[pe]
	if first || g.r.IntN(100) < starPct {
		level, stars := evidence.LevelVillage, int32(3+g.r.IntN(2))
		if pe == exemplary && (first || g.r.IntN(3) == 0) {
			level, stars = evidence.LevelTown, int32(4+g.r.IntN(2))
		}
		d := points.AddDays(ratingDay, g.r.IntN(5))
		if last := points.AddDays(g.today, -(g.p.cat.PublicNoticeDays + 3)); d.After(last) {
			d = last
		}
		if g.p.from.After(d) {
			d = g.p.from
		}
		a := g.newAct(h, evidence.SubmitInput{Kind: evidence.StarRating, Level: level, Stars: stars, OccurredOn: string(d),
			ValidUntil: string(points.AddMonths(d, 12)), Note: "星级文明户评定"}, d, true)
		a.in.Attachments = []evidence.Attachment{attachment("document", a.in.RequestID)}
		a.review = points.AddDays(a.submit, 1)
	}
	if pe == exemplary && g.r.IntN(100) < 8 {
		g.listing(h, evidence.RedList, g.day(g.r.IntN(max(1, g.days*3/4))), "乡风文明红榜：热心公益、邻里互助", 12)
	}

	// The 道德评判团 and 百姓议事会 sit early in the year (or, for a
	// history that ends before February, in the last weeks).
	year := points.Year(g.today)
	rec := household.Date(fmt.Sprintf("%04d-02-20", year))
	if last := points.AddDays(g.today, -21); rec.After(last) {
		rec = last
	}
	if g.p.from.After(rec) {
		rec = g.p.from
	}
	creditPct := map[persona]int{exemplary: 75, regular: 35, passive: 10, offender: 3}[pe]
	in := evidence.SubmitInput{Kind: evidence.Recommendation, Period: strconv.Itoa(year),
		ValidUntil: fmt.Sprintf("%04d-01-01", year+1)}
	switch {
	case g.blacklist[h] || (pe == serious && g.r.IntN(3) == 0):
		in.Note = "道德评判团评议：暂不列入信用户"
	case first || g.r.IntN(100) < creditPct:
		in.Creditworthy = true
		in.ProposedAmount = g.amount(h, pe, first)
		in.Note = "道德评判团评议为信用户，百姓议事会建议授信额度"
	default:
		return
	}
	d := points.AddDays(rec, g.r.IntN(4))
	in.OccurredOn = string(d)
	a := g.newAct(h, in, d, true)
	a.in.Attachments = []evidence.Attachment{attachment("document", a.in.RequestID)}
	a.review = points.AddDays(a.submit, 1+g.r.IntN(2))
}

// amount proposes a credit line in yuan: more for a higher income and a
// better record.
func (g *planner) amount(h *household.Household, pe persona, first bool) string {
	if first {
		return "100000"
	}
	income := h.Facts.AnnualIncome
	k := g.r.IntN(100)
	if pe == exemplary {
		k += 25
	}
	switch {
	case income.GreaterThanOrEqual(decimal.NewFromInt(150000)) && k >= 50:
		return "200000"
	case income.GreaterThanOrEqual(decimal.NewFromInt(80000)) && k >= 40:
		return "100000"
	case k >= 90:
		return "100000"
	}
	return "50000"
}

// redemptions plans a few visits to the 兑换超市 by households with points
// to spend by then; what they take is settled on the day against the
// balance and the shelf.
func (g *planner) redemptions(order []*household.Household) {
	if g.days < 30 {
		return
	}
	byHome := map[*household.Household][]*act{}
	for _, a := range g.p.acts {
		if a.in.Kind == evidence.Points {
			byHome[a.home] = append(byHome[a.home], a)
		}
	}
	// since is the first day h's planned points add up to at least 5,
	// "" when they never do.
	since := func(h *household.Household) household.Date {
		type step struct {
			on  household.Date
			pts decimal.Decimal
		}
		var steps []step
		for _, a := range byHome[h] {
			posted := a.review
			if !a.needsReview {
				posted = a.submit
			}
			if posted != "" {
				steps = append(steps, step{points.AddDays(posted, g.p.cat.PublicNoticeDays), a.pts})
			}
		}
		slices.SortFunc(steps, func(x, y step) int { return cmp.Compare(x.on, y.on) })
		sum := decimal.Zero
		for _, s := range steps {
			if sum = sum.Add(s.pts); sum.GreaterThanOrEqual(decimal.NewFromInt(5)) {
				return s.on
			}
		}
		return ""
	}
	var eligible []*household.Household
	from := map[*household.Household]household.Date{}
	for _, h := range order {
		if d := since(h); d != "" && !d.After(g.today) {
			eligible = append(eligible, h)
			from[h] = laterDay(d, g.day(g.days/3))
		}
	}
	if len(eligible) == 0 {
		return
	}
	n := 16
	if g.p.v.Code == Villages[0].Code {
		n = 12
	}
	for i := range n {
		h := eligible[g.r.IntN(len(eligible))]
		if i == 0 && g.p.v.Code == Villages[0].Code && from[order[0]] != "" {
			h = order[0]
		}
		// Two draws of five, as many as before the goods (a quantity and
		// a good), so that what is drawn after them stays as it was.
		g.p.redeems = append(g.p.redeems, &redemption{
			day:      points.AddDays(from[h], g.r.IntN(days(from[h], g.today)+1)),
			home:     h,
			quantity: []int64{1, 1, 2, 1, 2}[g.r.IntN(5)],
			good:     g.r.IntN(len(demoGoods)),
			req:      fmt.Sprintf("demo-redeem-%s-%03d", g.p.v.Code, i+1),
		})
	}
}

func laterDay(a, b household.Date) household.Date {
	if a.After(b) {
		return a
	}
	return b
}

// outcomes picks the evidence that does not simply go through: a few
// rejections and, where the demo household principal lives (it is the
// villager who objects), disputes; one revocation.
func (g *planner) outcomes(withDisputes bool) {
	picked := map[*act]bool{}
	// A points act reviewed on a day in [lo, hi], of one of the items
	// codes if there is one (else of any), by a household other than the
	// objector's; nil when there is none.
	pick := func(award bool, lo, hi household.Date, codes ...string) *act {
		var c, all []*act
		for _, a := range g.p.acts {
			if a.in.Kind == evidence.Points && a.review != "" && a.award == award && !picked[a] &&
				!lo.After(a.review) && !a.review.After(hi) && a.home != g.first {
				all = append(all, a)
				if slices.Contains(codes, a.in.ItemCode) {
					c = append(c, a)
				}
			}
		}
		if len(c) == 0 {
			c = all
		}
		if len(c) == 0 {
			return nil
		}
		a := c[g.r.IntN(len(c))]
		picked[a] = true
		return a
	}
	from, early := g.p.from, points.AddDays(g.today, -12)
	if withDisputes {
		// Upheld: a neighbour doubts a volunteering record; the sign-in
		// sheet bears it out.
		if a := pick(true, from, early, "ZZ-GY-01"); a != nil {
			a.object, a.objectReason = points.AddDays(a.review, 2), "该户当天并未参加此项活动"
			a.resolve, a.uphold, a.resolveReason = points.AddDays(a.review, 4), true, "经核实签到记录与证明人陈述，原记录属实，予以维持"
		}
		// Overturned: a deduction for rubbish that was not theirs.
		if a := pick(false, from, early, "DZ-ML-02", "NY-ML-02"); a != nil {
			a.object, a.objectReason = points.AddDays(a.review, 1), "照片中的垃圾并非本户投放"
			a.resolve, a.resolveReason = points.AddDays(a.review, 3), "经查看监控，确非本户所为，撤销扣分"
		}
		// Still disputed today.
		if a := pick(true, points.AddDays(g.today, -3), points.AddDays(g.today, -2), "ZZ-GY-01"); a != nil {
			a.object, a.objectReason = points.AddDays(g.today, -1), "该户所报志愿时长与实际不符"
		}
	} else if g.p.v.Code == Villages[1].Code {
		// A record entered twice, revoked once found.
		if a := pick(true, from, points.AddDays(g.today, -40)); a != nil {
			a.revoke, a.revokeReason = points.AddDays(a.review, 20), "经核查为重复录入，予以撤销"
		}
	}
	for range 3 {
		if a := pick(g.r.IntN(3) > 0, from, g.today); a != nil {
			a.reject = rejectReasons[g.r.IntN(len(rejectReasons))]
		}
	}
}

// replay runs village plan p day by day through ev, whose clock is clk.
func replay(ctx context.Context, ev *evidence.Service, sh *shop.Service, clk *simClock, p *villagePlan, villager *access.Principal, t0 time.Time) error {
	type dayWork struct {
		submit, object, resolve, revoke, review []*act
		redeem                                  []*redemption
		stock, restock                          bool // the 兑换超市's deliveries
	}
	work := map[household.Date]*dayWork{}
	at := func(d household.Date) *dayWork {
		w, ok := work[d]
		if !ok {
			w = &dayWork{}
			work[d] = w
		}
		return w
	}
	for _, a := range p.acts {
		at(a.submit).submit = append(at(a.submit).submit, a)
		if a.review != "" {
			at(a.review).review = append(at(a.review).review, a)
		}
		if a.object != "" {
			at(a.object).object = append(at(a.object).object, a)
		}
		if a.resolve != "" {
			at(a.resolve).resolve = append(at(a.resolve).resolve, a)
		}
		if a.revoke != "" {
			at(a.revoke).revoke = append(at(a.revoke).revoke, a)
		}
	}
	for _, r := range p.redeems {
		at(r.day).redeem = append(at(r.day).redeem, r)
	}
	at(p.from).stock = true
	if half := points.AddDays(p.from, days(p.from, p.to)/2); half.After(p.from) {
		at(half).restock = true
	}
	fail := func(d household.Date, what, req string, err error) error {
		return fmt.Errorf("demo history of %s on %s: %s %s: %w", p.v.Name, d, what, req, err)
	}
	for d := p.from; !d.After(p.to); d = points.AddDays(d, 1) {
		w, ok := work[d]
		if !ok {
			continue
		}
		// Early: the 兑换超市's goods arrive.
		if w.stock || w.restock {
			clk.at(d, 8, 30, t0)
			if err := stockGoods(ctx, sh, p.clerk, p.v.Code, w.restock); err != nil {
				return fail(d, "stocking", "the 兑换超市", err)
			}
		}
		// Morning: the clerk's entries and the night's machine records,
		// in small batches (the SQLite store parses a batch's multi-row
		// INSERT in time that grows with its square).
		clk.at(d, 9, 0, t0)
		for start := 0; start < len(w.submit); start += submitChunk {
			chunk := w.submit[start:min(start+submitChunk, len(w.submit))]
			in := make([]evidence.SubmitInput, len(chunk))
			for i, a := range chunk {
				in[i] = a.in
			}
			res, err := ev.SubmitBatch(ctx, p.clerk, resource.Village(p.v.Code), in, false)
			if err != nil {
				return fail(d, "submitting", fmt.Sprintf("%d rows", len(in)), err)
			}
			for i, r := range res {
				if r.Err == nil && r.Duplicate {
					r.Err = errors.New("the request id was used already")
				}
				if r.Err != nil {
					return fail(d, "submitting", chunk[i].in.RequestID, r.Err)
				}
				chunk[i].ev = r.Evidence
			}
		}
		steps := []struct {
			hh   int
			list []*act
			what string
			fn   func(a *act) (*evidence.Evidence, error)
		}{
			{10, w.object, "objecting to", func(a *act) (*evidence.Evidence, error) {
				return ev.Object(ctx, villager, a.ev.Name(), a.objectReason)
			}},
			{11, w.resolve, "resolving", func(a *act) (*evidence.Evidence, error) {
				return ev.Resolve(ctx, p.rev, a.ev.Name(), a.uphold, a.resolveReason)
			}},
			{14, w.revoke, "revoking", func(a *act) (*evidence.Evidence, error) {
				return ev.Revoke(ctx, p.rev, a.ev.Name(), a.revokeReason)
			}},
			{16, w.review, "reviewing", func(a *act) (*evidence.Evidence, error) {
				return ev.Review(ctx, p.rev, a.ev.Name(), a.reject == "", a.reject)
			}},
		}
		for _, st := range steps {
			clk.at(d, st.hh, 0, t0)
			for _, a := range st.list {
				e, err := st.fn(a)
				if err != nil {
					return fail(d, st.what, a.in.RequestID, err)
				}
				a.ev = e
			}
		}
		// Evening: the 兑换超市, against what the household has by now.
		clk.at(d, 17, 0, t0)
		for _, r := range w.redeem {
			bal, err := ev.Points(ctx, r.home.Name(), "")
			if err != nil {
				return fail(d, "reading the balance for", r.req, err)
			}
			took, err := visit(ctx, sh, bal, p.clerk, r)
			if err != nil {
				return fail(d, "redeeming", r.req, err)
			}
			if took {
				p.redeemed++
			}
		}
	}
	return nil
}

// String summarises the history in one line.
func (h VillageHistory) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s..%s: %d evidence (", h.Village, h.From, h.To, h.Evidence)
	for i, k := range slices.Sorted(maps.Keys(h.ByKind)) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, h.ByKind[k])
	}
	b.WriteString("; ")
	for i, ph := range slices.Sorted(maps.Keys(h.ByPhase)) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", ph, h.ByPhase[ph])
	}
	fmt.Fprintf(&b, "), %d transitions, %d redemptions", h.Transitions, h.Redemptions)
	return b.String()
}

// submitChunk is the rows of one SubmitBatch call: measured fastest on
// SQLite.
const submitChunk = 10
