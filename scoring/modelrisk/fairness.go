package modelrisk

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/idnum"
)

// This file is the fairness part: approval rate, average limit and
// average rate by village, sex and age band, and each group's
// adverse-impact ratio against the most favoured group of its dimension.

// Applicant is one decision as the fairness measures read it.
type Applicant struct {
	Village string
	// ID is the applicant's 身份证号, unsealed by the caller for this
	// computation only: its sex digit and birth date are read here and
	// nothing of it is kept. The zero ID counts as sex and age unknown.
	ID       idnum.PersonID
	Approved bool
	// Limit is the line granted, in fen, and Rate the annual rate in
	// millionths (43500 is 4.35%): both 0 unless Approved. Whole numbers
	// keep the sums exact and cheap (Fen and Micro convert).
	Limit, Rate int64
}

// Fen converts an amount in yuan to whole fen; an amount with a fraction
// of a fen, or too large for the sums, is an error.
func Fen(yuan decimal.Decimal) (int64, error) {
	f := yuan.Shift(2)
	if !f.IsInteger() || f.Sign() < 0 || f.GreaterThan(decimal.NewFromInt(maxFen)) {
		return 0, fmt.Errorf("modelrisk: the limit %s is not a whole number of fen between 0 and %d yuan", yuan, maxFen/100)
	}
	return f.IntPart(), nil
}

// Micro converts an annual rate (0.0435) to millionths (43500); policies
// state rates to at most six places.
func Micro(rate decimal.Decimal) (int64, error) {
	m := rate.Shift(6)
	if !m.IsInteger() || m.Sign() < 0 || m.GreaterThan(decimal.NewFromInt(maxMicro)) {
		return 0, fmt.Errorf("modelrisk: the rate %s is not a whole number of millionths between 0 and 10", rate)
	}
	return m.IntPart(), nil
}

// maxFen (¥1e12, the largest amount a policy may state) and maxMicro
// (1000%) bound one decision's figures; the sums check for overflow too.
const (
	maxFen   = 100_000_000_000_000
	maxMicro = 10_000_000
)

// The fairness dimensions.
const (
	ByVillage = "village"
	BySex     = "sex"
	ByAge     = "age"
)

// Unknown is the group of applicants whose sex or age cannot be read: no
// ID, or a birth date after the report's date.
const Unknown = "unknown"

var errOverflow = errors.New("modelrisk: the sums of limits or rates overflow")

type groupSums struct{ n, approved, limit, rate int64 }

// fits reports whether a's figures can be added without overflow.
func (g *groupSums) fits(a *Applicant) bool {
	return a.Limit <= math.MaxInt64-g.limit && a.Rate <= math.MaxInt64-g.rate
}

func (g *groupSums) add(a *Applicant) {
	g.n++
	if a.Approved {
		g.approved++
		g.limit += a.Limit
		g.rate += a.Rate
	}
}

func (g *groupSums) fitsSums(o groupSums) bool {
	return o.limit <= math.MaxInt64-g.limit && o.rate <= math.MaxInt64-g.rate
}

func (g *groupSums) merge(o groupSums) {
	g.n, g.approved, g.limit, g.rate = g.n+o.n, g.approved+o.approved, g.limit+o.limit, g.rate+o.rate
}

// Fairness tallies applicants by group. It is used inside a Tally, and on
// its own by the policy simulation, whose population has no outcomes.
type Fairness struct {
	cfg           Config
	n             int64
	bands         []int
	asY, asM, asD int
	village       map[string]*groupSums
	sex           [3]groupSums // indexed by idnum.Sex
	age           []groupSums  // the bands, then Unknown
}

// NewFairness returns an empty tally for cfg (which must pass Check).
func NewFairness(cfg Config) (*Fairness, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	f := &Fairness{cfg: cfg, bands: append([]int(nil), cfg.AgeBands...), village: map[string]*groupSums{}}
	f.age = make([]groupSums, len(f.bands)+2)
	s := string(cfg.AsOf)
	f.asY, _ = strconv.Atoi(s[0:4])
	f.asM, _ = strconv.Atoi(s[5:7])
	f.asD, _ = strconv.Atoi(s[8:10])
	return f, nil
}

// Add counts one applicant.
func (f *Fairness) Add(a *Applicant) error {
	if a.Village == "" {
		return errors.New("modelrisk: a decision has no village")
	}
	if a.Limit < 0 || a.Rate < 0 || a.Rate > maxMicro || a.Limit > maxFen {
		return fmt.Errorf("modelrisk: a decision's limit (%d fen) or rate (%d millionths) is out of range", a.Limit, a.Rate)
	}
	if !a.Approved && (a.Limit != 0 || a.Rate != 0) {
		return errors.New("modelrisk: a declined decision has a limit or a rate")
	}
	if f.n >= maxDecisions {
		return fmt.Errorf("modelrisk: a tally holds at most %d decisions", maxDecisions)
	}
	v, seen := f.village[a.Village]
	if !seen {
		v = &groupSums{}
	}
	sex, age := &f.sex[a.ID.Sex()], &f.age[f.ageBand(a.ID)]
	if !v.fits(a) || !sex.fits(a) || !age.fits(a) {
		return errOverflow
	}
	if !seen {
		f.village[a.Village] = v
	}
	v.add(a)
	sex.add(a)
	age.add(a)
	f.n++
	return nil
}

// ageBand returns the index of the applicant's age band on the report's
// date: whole years, a birthday counting from its day; the last index
// (Unknown) without an ID or for a birth after the date.
func (f *Fairness) ageBand(id idnum.PersonID) int {
	unknown := len(f.age) - 1
	if id.IsZero() {
		return unknown
	}
	by, bm, bd := id.BirthDate().Date()
	age := f.asY - by
	if f.asM < int(bm) || f.asM == int(bm) && f.asD < bd {
		age-- // the birthday is still to come that year
	}
	if age < 0 {
		return unknown
	}
	i := 0
	for i < len(f.bands) && age >= f.bands[i] {
		i++
	}
	return i
}

// Merge adds o's counts (a tally of other applicants, same bands) into f.
func (f *Fairness) Merge(o *Fairness) error {
	if !slices.Equal(f.bands, o.bands) || f.asY != o.asY || f.asM != o.asM || f.asD != o.asD {
		return errors.New("modelrisk: cannot merge fairness tallies of different age bands or dates")
	}
	if f.n+o.n > maxDecisions {
		return fmt.Errorf("modelrisk: a tally holds at most %d decisions", maxDecisions)
	}
	// Check every sum first, so that a failed merge changes nothing.
	for k, g := range o.village {
		if v := f.village[k]; v != nil && !v.fitsSums(*g) {
			return errOverflow
		}
	}
	for i := range f.sex {
		if !f.sex[i].fitsSums(o.sex[i]) {
			return errOverflow
		}
	}
	for i := range f.age {
		if !f.age[i].fitsSums(o.age[i]) {
			return errOverflow
		}
	}
	f.n += o.n
	for k, g := range o.village {
		v := f.village[k]
		if v == nil {
			v = &groupSums{}
			f.village[k] = v
		}
		v.merge(*g)
	}
	for i := range f.sex {
		f.sex[i].merge(o.sex[i])
	}
	for i := range f.age {
		f.age[i].merge(o.age[i])
	}
	return nil
}

// FairnessReport is the fairness figures: one table per dimension.
type FairnessReport struct {
	Dimensions []Dimension
	// AdverseImpact and MinGroup are the thresholds applied.
	AdverseImpact float64
	MinGroup      int
}

// Dimension is one way of grouping applicants.
type Dimension struct {
	Name string // ByVillage, BySex or ByAge
	// MostFavoured is the key of the group with the highest approval rate
	// among those of at least MinGroup decisions (Unknown excluded); ""
	// when there is none or no such group approved anyone, in which case
	// no ratio is computed.
	MostFavoured string
	Groups       []Group
}

// Group is one group's figures.
type Group struct {
	Key                 string // village code, "female"/"male", "<30"/"30-39"/"70+", or Unknown
	Decisions, Approved int64
	ApprovalRate        float64 // Approved / Decisions
	// AvgLimit (yuan, to the fen) and AvgRate (a fraction, six places) are
	// over the approved decisions; zero when there are none.
	AvgLimit, AvgRate decimal.Decimal
	// LimitFen and RateMicro are the sums AvgLimit and AvgRate come from
	// (fen, millionths), so that a caller pooling small groups (the
	// simulation's aggregate view) can average them exactly.
	LimitFen, RateMicro int64
	// AdverseImpact is ApprovalRate over the most favoured group's; valid
	// when HasRatio.
	AdverseImpact float64
	HasRatio      bool
	// Small: fewer than MinGroup decisions, so never flagged.
	Small bool
	// Flagged: not Small, not Unknown, and AdverseImpact below the
	// threshold.
	Flagged bool
}

// Report computes the fairness figures.
func (f *Fairness) Report() FairnessReport {
	cfg := f.cfg
	r := FairnessReport{AdverseImpact: cfg.AdverseImpact, MinGroup: cfg.MinGroup}
	keys := make([]string, 0, len(f.village))
	for k := range f.village {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var vs []keyed
	for _, k := range keys {
		vs = append(vs, keyed{k, *f.village[k]})
	}
	r.Dimensions = append(r.Dimensions, dimension(ByVillage, vs, cfg))
	r.Dimensions = append(r.Dimensions, dimension(BySex, []keyed{
		{idnum.SexFemale.String(), f.sex[idnum.SexFemale]},
		{idnum.SexMale.String(), f.sex[idnum.SexMale]},
		{Unknown, f.sex[idnum.SexUnknown]},
	}, cfg))
	var as []keyed
	for i, g := range f.age {
		as = append(as, keyed{f.bandKey(i), g})
	}
	r.Dimensions = append(r.Dimensions, dimension(ByAge, as, cfg))
	return r
}

func (f *Fairness) bandKey(i int) string {
	switch {
	case i == len(f.age)-1:
		return Unknown
	case len(f.bands) == 0:
		return "all"
	case i == 0:
		return "<" + strconv.Itoa(f.bands[0])
	case i == len(f.bands):
		return strconv.Itoa(f.bands[i-1]) + "+"
	default:
		return strconv.Itoa(f.bands[i-1]) + "-" + strconv.Itoa(f.bands[i]-1)
	}
}

type keyed struct {
	key string
	g   groupSums
}

// dimension builds one table. Groups with no decisions are left out.
// The most favoured group is found by comparing approval rates as exact
// fractions (a·d > c·b), so ties go to the first in key order.
func dimension(name string, groups []keyed, cfg Config) Dimension {
	d := Dimension{Name: name}
	best := -1
	for i, k := range groups {
		if k.key == Unknown || k.g.n < int64(cfg.MinGroup) || k.g.approved == 0 {
			continue
		}
		if best < 0 || k.g.approved*groups[best].g.n > groups[best].g.approved*k.g.n {
			best = i
		}
	}
	var refA, refN int64
	if best >= 0 {
		d.MostFavoured = groups[best].key
		refA, refN = groups[best].g.approved, groups[best].g.n
	}
	for _, k := range groups {
		if k.g.n == 0 {
			continue
		}
		g := Group{Key: k.key, Decisions: k.g.n, Approved: k.g.approved, ApprovalRate: rate(k.g.approved, k.g.n),
			AvgLimit: decimal.Zero, AvgRate: decimal.Zero, Small: k.g.n < int64(cfg.MinGroup),
			LimitFen: k.g.limit, RateMicro: k.g.rate}
		if k.g.approved > 0 {
			n := decimal.NewFromInt(k.g.approved)
			g.AvgLimit = decimal.New(k.g.limit, -2).DivRound(n, 2)
			g.AvgRate = decimal.New(k.g.rate, -6).DivRound(n, 6)
		}
		if best >= 0 {
			g.HasRatio = true
			// (a/n)/(A/N) as one division of exact integers, so a ratio of
			// exactly four fifths is 0.8 and not flagged by rounding.
			g.AdverseImpact = float64(k.g.approved*refN) / float64(k.g.n*refA)
			g.Flagged = !g.Small && k.key != Unknown && g.AdverseImpact < cfg.AdverseImpact
		}
		d.Groups = append(d.Groups, g)
	}
	return d
}

func rate(k, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}
