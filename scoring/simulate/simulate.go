// Package simulate runs a draft credit policy (and, to compare, a base
// policy such as the active one) over a whole population of households and
// reports what would change: grade migration, households gaining and
// losing a line, exposure in total and by village, the score distribution
// and how often each knock-out fires.
//
// The package is pure: the caller streams households in (Row, read by the
// store a page at a time), turns each into a Case (Row.Parts plus
// assess.Snapshot), evaluates it (Evaluate, safe to call from several
// goroutines) and adds the Outcome to an Accumulator in a fixed order (by
// household id). Everything is decimal and the report is deterministic:
// the same population, policies and day give the same report byte for
// byte. Memory is the accumulator's counters plus two capped sample lists,
// whatever the population's size.
package simulate

import (
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/assess"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/modelrisk"
	"github.com/sanzhi/sanzhi/scoring/points"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// Row is one household as the store reads it for a simulation: the
// household with its latest facts, its points sheet and its non-points
// evidence (star ratings, red and black list listings, recommendations)
// that is posted or revoked.
type Row struct {
	Household *household.Household
	Entries   []points.Entry
	Listings  []*evidence.Evidence
	// Repayment is the household's repayment record as of the simulated
	// day, from the banks' loan status reports (the store builds it).
	Repayment rules.RepaymentInput
}

// Parts assembles the snapshot parts of the row as of the end of day,
// given the base points of the catalogue the village used that day and
// the head's date of birth (zero when unknown).
func (r *Row) Parts(basePoints decimal.Decimal, headBirth time.Time, day household.Date) assess.Parts {
	return assess.Parts{
		Household:      r.Household,
		ApplicantBirth: headBirth,
		Points:         points.Balances(basePoints, r.Entries, day),
		Standing:       evidence.StandingOf(r.Listings, day),
		Repayment:      r.Repayment,
	}
}

// Case is one household ready to evaluate.
type Case struct {
	Name     string // villages/{village}/households/{id}
	Village  string
	HeadName string
	// HeadID is the head's 身份证号, opened by the caller for this run
	// only: the fairness figures read its sex digit and birth date and
	// keep nothing of it. Zero when unknown (sex and age then count as
	// unknown).
	HeadID idnum.PersonID
	Input  rules.Input
}

// NewCase builds the case of a row: its snapshot as of day.
func NewCase(r *Row, basePoints decimal.Decimal, headBirth time.Time, day household.Date) Case {
	h := r.Household
	return Case{Name: h.Name(), Village: h.Village, HeadName: h.HeadName,
		Input: assess.Snapshot(r.Parts(basePoints, headBirth, day))}
}

// Result is what the simulation keeps of one decision.
type Result struct {
	Eligible  bool
	Score     int
	Grade     string
	Limit     decimal.Decimal
	Rate      decimal.Decimal
	KnockOuts []string
	// Bins are the index of each characteristic's bin, in scorecard
	// order: what a reference population (modelrisk.Tally) counts.
	Bins []int
}

func resultOf(d rules.Decision) Result {
	r := Result{Eligible: d.Eligible, Score: d.Score, Grade: d.Grade, Limit: d.Limit, Rate: d.Rate, Bins: d.Bins}
	for _, k := range d.KnockOuts {
		r.KnockOuts = append(r.KnockOuts, k.ID)
	}
	return r
}

// Outcome is one household's result under the new policy and, when there
// is one, the base policy, both on the same snapshot and day.
type Outcome struct {
	Name     string
	Village  string
	HeadName string
	// HeadID is the Case's; Add reads it for the fairness figures. A
	// caller handing outcomes on (the per-household CSV) must clear it.
	HeadID  idnum.PersonID
	HasBase bool
	Base    Result
	New     Result
}

// Evaluate evaluates the case under newP and, when base is not nil, under
// base, on day. It only reads the policies, so several goroutines may call
// it at once.
func Evaluate(newP, base *rules.Policy, c Case, day household.Date) Outcome {
	o := Outcome{Name: c.Name, Village: c.Village, HeadName: c.HeadName, HeadID: c.HeadID}
	o.New = resultOf(rules.Outcome(newP, c.Input, day))
	if base != nil {
		o.HasBase = true
		o.Base = resultOf(rules.Outcome(base, c.Input, day))
	}
	return o
}

// SampleSize caps the sample lists of households gaining and losing a line.
const SampleSize = 20

// NoGrade labels the base row of the migration matrix when there is no
// base policy.
const NoGrade = "—"

// BinWidth is the width of the score histogram's bins.
const BinWidth = 25

// LimitBands are the lower ends, in yuan, of the limit histogram's bands:
// an eligible household's limit counts in the last band whose lower end
// it reaches. The bands are fixed, not taken from either policy, so that
// the reports of two policies (and of two runs) compare band by band.
var LimitBands = []int64{0, 10000, 30000, 50000, 100000, 200000, 300000}

// limitBand is the index of the band of LimitBands that limit falls in.
func limitBand(limit decimal.Decimal) int {
	i := 0
	for j, lo := range LimitBands {
		if limit.GreaterThanOrEqual(decimal.NewFromInt(lo)) {
			i = j
		}
	}
	return i
}

// Accumulator adds outcomes up. Add them in a fixed order (the store's,
// by household id) for a deterministic sample list.
type Accumulator struct {
	newP, base *rules.Policy
	day        household.Date

	n                   int
	eligBase, eligNew   int
	gained, lost        Change
	expBase, expNew     decimal.Decimal
	migration           map[[2]string]int
	villages            map[string]*VillageRow
	binsBase, binsNew   map[int]int
	limBase, limNew     []int
	knockBase, knockNew map[string]int
	// scoresBase and scoresNew count households by exact score, for the
	// PSI of the new scores against the base's.
	scoresBase, scoresNew map[int]int64
	// fair tallies the new policy's decisions by village, sex and age
	// band; fairErr is its first refusal (a limit or rate out of range,
	// which a valid policy cannot give).
	fair    *modelrisk.Fairness
	fairErr error
}

// NewAccumulator starts a simulation of newP against base (nil for none)
// on day.
func NewAccumulator(newP, base *rules.Policy, day household.Date) *Accumulator {
	a := &Accumulator{newP: newP, base: base, day: day,
		expBase: decimal.Zero, expNew: decimal.Zero,
		migration: map[[2]string]int{}, villages: map[string]*VillageRow{},
		binsBase: map[int]int{}, binsNew: map[int]int{},
		limBase: make([]int, len(LimitBands)), limNew: make([]int, len(LimitBands)),
		knockBase: map[string]int{}, knockNew: map[string]int{},
		scoresBase: map[int]int64{}, scoresNew: map[int]int64{}}
	a.fair, a.fairErr = modelrisk.NewFairness(modelrisk.DefaultConfig(day))
	return a
}

// Err reports a decision the fairness figures could not count (nil for
// any decision of a valid policy).
func (a *Accumulator) Err() error { return a.fairErr }

func (a *Accumulator) addFair(o Outcome) {
	if a.fairErr != nil {
		return
	}
	ap := modelrisk.Applicant{Village: o.Village, ID: o.HeadID, Approved: o.New.Eligible}
	if o.New.Eligible {
		if ap.Limit, a.fairErr = modelrisk.Fen(o.New.Limit); a.fairErr != nil {
			return
		}
		if ap.Rate, a.fairErr = modelrisk.Micro(o.New.Rate); a.fairErr != nil {
			return
		}
	}
	a.fairErr = a.fair.Add(&ap)
}

func bin(score int) int {
	b := score / BinWidth
	if score < 0 && score%BinWidth != 0 {
		b--
	}
	return b * BinWidth
}

// Add counts one household.
func (a *Accumulator) Add(o Outcome) {
	a.n++
	v := a.villages[o.Village]
	if v == nil {
		v = &VillageRow{Village: o.Village, Base: decimal.Zero, New: decimal.Zero}
		a.villages[o.Village] = v
	}
	v.Households++
	baseGrade := NoGrade
	if o.HasBase {
		baseGrade = o.Base.Grade
		a.binsBase[bin(o.Base.Score)]++
		a.scoresBase[o.Base.Score]++
		for _, k := range o.Base.KnockOuts {
			a.knockBase[k]++
		}
		if o.Base.Eligible {
			a.eligBase++
			v.EligibleBase++
			a.expBase = a.expBase.Add(o.Base.Limit)
			a.limBase[limitBand(o.Base.Limit)]++
			v.Base = v.Base.Add(o.Base.Limit)
		}
		switch {
		case o.New.Eligible && !o.Base.Eligible:
			a.gained.add(o)
		case !o.New.Eligible && o.Base.Eligible:
			a.lost.add(o)
		}
	}
	a.migration[[2]string{baseGrade, o.New.Grade}]++
	a.binsNew[bin(o.New.Score)]++
	a.scoresNew[o.New.Score]++
	a.addFair(o)
	for _, k := range o.New.KnockOuts {
		a.knockNew[k]++
	}
	if o.New.Eligible {
		a.eligNew++
		v.EligibleNew++
		a.expNew = a.expNew.Add(o.New.Limit)
		a.limNew[limitBand(o.New.Limit)]++
		v.New = v.New.Add(o.New.Limit)
	}
}

// Households is the number of households added so far.
func (a *Accumulator) Households() int { return a.n }

// Change counts the households that gained (or lost) a line, with the
// first SampleSize of them.
type Change struct {
	Count  int
	Sample []Sample
}

// Sample is one household of a Change.
type Sample struct {
	Name      string
	HeadName  string
	BaseGrade string
	BaseLimit decimal.Decimal
	NewGrade  string
	NewLimit  decimal.Decimal
}

func (c *Change) add(o Outcome) {
	c.Count++
	if len(c.Sample) < SampleSize {
		c.Sample = append(c.Sample, Sample{Name: o.Name, HeadName: o.HeadName,
			BaseGrade: o.Base.Grade, BaseLimit: o.Base.Limit, NewGrade: o.New.Grade, NewLimit: o.New.Limit})
	}
}

// PolicyRef identifies a simulated policy.
type PolicyRef struct {
	Bank, Product string
	Version       int
	Hash          string
}

// VillageRow is one village's exposure and counts.
type VillageRow struct {
	Village      string
	Households   int
	EligibleBase int
	EligibleNew  int
	Base, New    decimal.Decimal
	// Pooled counts the small villages pooled into this row (Aggregate
	// view only); Village is then empty.
	Pooled int
}

// Change is New − Base.
func (v VillageRow) Change() decimal.Decimal { return v.New.Sub(v.Base) }

// Migration is the grade migration matrix: Counts[i][j] households had
// base grade Rows[i] and new grade Cols[j]. Rows is the base policy's
// grades, best first ([NoGrade] without a base); Cols the new policy's.
type Migration struct {
	Rows   []string
	Cols   []string
	Counts [][]int
}

// Bin is one bar of the score histogram: scores Lo..Lo+BinWidth-1.
type Bin struct {
	Lo        int
	Base, New int
}

// LimitBin is one bar of the limit histogram: the eligible households
// whose limit is at least Lo and below the next band's Lo (no upper end
// for the last band; Hi is then zero).
type LimitBin struct {
	Lo, Hi    int64
	Base, New int
}

// KnockOutRow counts the households a knock-out declines under each policy.
type KnockOutRow struct {
	ID        string
	Base, New int
}

// Report is the simulation's result.
type Report struct {
	New      PolicyRef
	Base     *PolicyRef // nil without a base policy
	On       household.Date
	Villages []string // the village filter, empty for all
	// View is what the report was cut for (Report.For); an accumulator's
	// report is Masked-complete, with head names in clear, and must pass
	// through For before it leaves the process.
	View View

	Households   int
	EligibleBase int
	EligibleNew  int
	Gained, Lost Change

	ExposureBase, ExposureNew decimal.Decimal

	Migration Migration
	ByVillage []VillageRow
	Scores    []Bin
	// Limits is the eligible households' limits in LimitBands.
	Limits    []LimitBin
	KnockOuts []KnockOutRow

	// Fairness is the new policy's approval rate, average limit and rate
	// by village, sex and age band of the head, with adverse-impact ratios
	// (scoring/modelrisk). In the Aggregate view groups of fewer than
	// MinCell households are pooled, as the by-village rows are.
	Fairness modelrisk.FairnessReport
	// ScoreShift is the PSI of the new policy's scores against the base
	// policy's over the same households; nil without a base.
	ScoreShift *modelrisk.PSI
}

// LostShare is the share of the population that loses a line (0 without
// a base or households).
func (r *Report) LostShare() float64 {
	if r.Base == nil || r.Households == 0 {
		return 0
	}
	return float64(r.Lost.Count) / float64(r.Households)
}

// ExposureChange is ExposureNew − ExposureBase.
func (r *Report) ExposureChange() decimal.Decimal { return r.ExposureNew.Sub(r.ExposureBase) }

func refOf(p *rules.Policy) PolicyRef {
	return PolicyRef{Bank: p.Bank, Product: p.Product, Version: p.Version, Hash: p.Hash()}
}

func gradeNames(p *rules.Policy) []string {
	out := make([]string, len(p.Grades))
	for i, g := range p.Grades {
		out[i] = g.Name
	}
	return out
}

func knockIDs(p *rules.Policy) []string {
	out := make([]string, len(p.KnockOuts))
	for i, k := range p.KnockOuts {
		out[i] = k.ID
	}
	return out
}

// appendNew appends to list the names of seen not already in it, sorted.
func appendNew(list []string, seen []string) []string {
	have := map[string]bool{}
	for _, s := range list {
		have[s] = true
	}
	var extra []string
	for _, s := range seen {
		if !have[s] {
			have[s] = true
			extra = append(extra, s)
		}
	}
	sort.Strings(extra)
	return append(list, extra...)
}

// Report returns the result so far; villages is the filter the population
// was read with, for the record.
func (a *Accumulator) Report(villages []string) *Report {
	r := &Report{New: refOf(a.newP), On: a.day, Villages: villages, Households: a.n,
		EligibleBase: a.eligBase, EligibleNew: a.eligNew, Gained: a.gained, Lost: a.lost,
		ExposureBase: a.expBase, ExposureNew: a.expNew}
	if a.base != nil {
		ref := refOf(a.base)
		r.Base = &ref
	}

	// Migration: the policies' grades in order, then any other grade seen
	// (none unless a grade was renamed between evaluation and report).
	var seenRows, seenCols []string
	for k := range a.migration {
		seenRows, seenCols = append(seenRows, k[0]), append(seenCols, k[1])
	}
	rows := []string{NoGrade}
	if a.base != nil {
		rows = gradeNames(a.base)
	}
	rows = appendNew(rows, seenRows)
	cols := appendNew(gradeNames(a.newP), seenCols)
	m := Migration{Rows: rows, Cols: cols, Counts: make([][]int, len(rows))}
	for i, b := range rows {
		m.Counts[i] = make([]int, len(cols))
		for j, n := range cols {
			m.Counts[i][j] = a.migration[[2]string{b, n}]
		}
	}
	r.Migration = m

	codes := make([]string, 0, len(a.villages))
	for c := range a.villages {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		r.ByVillage = append(r.ByVillage, *a.villages[c])
	}

	// Histogram: every bin from the lowest to the highest score either
	// policy can give (or any household got), gaps included.
	lo, hi := bin(a.newP.MinScore()), bin(a.newP.MaxScore())
	if a.base != nil {
		lo, hi = min(lo, bin(a.base.MinScore())), max(hi, bin(a.base.MaxScore()))
	}
	for _, m := range []map[int]int{a.binsBase, a.binsNew} {
		for b := range m {
			lo, hi = min(lo, b), max(hi, b)
		}
	}
	for b := lo; b <= hi; b += BinWidth {
		r.Scores = append(r.Scores, Bin{Lo: b, Base: a.binsBase[b], New: a.binsNew[b]})
	}

	for i, lo := range LimitBands {
		b := LimitBin{Lo: lo, Base: a.limBase[i], New: a.limNew[i]}
		if i+1 < len(LimitBands) {
			b.Hi = LimitBands[i+1]
		}
		r.Limits = append(r.Limits, b)
	}

	ids := knockIDs(a.newP)
	if a.base != nil {
		ids = appendNew(ids, knockIDs(a.base))
	}
	var seen []string
	for _, m := range []map[string]int{a.knockBase, a.knockNew} {
		for k := range m {
			seen = append(seen, k)
		}
	}
	for _, id := range appendNew(ids, seen) {
		r.KnockOuts = append(r.KnockOuts, KnockOutRow{ID: id, Base: a.knockBase[id], New: a.knockNew[id]})
	}
	if a.fair != nil {
		r.Fairness = a.fair.Report()
	}
	if a.base != nil {
		psi := modelrisk.ScoreShift(scoreCounts(a.scoresBase), scoreCounts(a.scoresNew), modelrisk.DefaultConfig(a.day))
		r.ScoreShift = &psi
	}
	return r
}

func scoreCounts(m map[int]int64) []ScoreCount {
	out := make([]ScoreCount, 0, len(m))
	for s, n := range m {
		out = append(out, ScoreCount{Score: s, N: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Score < out[j].Score })
	return out
}

// ScoreCount is modelrisk's: how many households had one score.
type ScoreCount = modelrisk.ScoreCount
