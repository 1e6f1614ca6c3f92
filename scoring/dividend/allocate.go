package dividend

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"slices"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// This file is the allocation rule: how a pool is split among the
// households on a round's roll. It reads no clock and no store; the same
// input gives the same bytes forever, which is what Verify relies on.
//
// Every household's exact entitlement is a rational number:
//
//	e_i = pool × ( shares% × s_i / S  +  points% × w_i / W ) / 100
//
// where s_i are its counted shares, w_i its counted points (never below
// zero), and S, W their totals over the roll. Caps are applied to the exact
// entitlements by water-filling: a household whose entitlement is above
// the cap gets the cap, and what it would have had above the cap is shared
// among the uncapped households in proportion to their own entitlements,
// repeated until no one is above the cap. Then the one rounding: each
// uncapped household gets the whole fen below its entitlement, and the fen
// left over (fewer than the households) go one each to the households
// with the largest remainders; among equal remainders, to the smaller
// household id. So the amounts add up to the pool exactly, no one is more
// than one fen from their entitlement, and no one is above the cap.
//
// Arithmetic is exact (math/big integers over a common denominator): no
// float, no intermediate rounding.

// MaxPool is the largest pool of one round, in yuan: ¥100,000,000.
var MaxPool = decimal.New(1, 8)

// Holding is what the roll says about one household at the record date:
// the facts and ledger figures the rule reads.
type Holding struct {
	Household string
	// Shares are its collective shares (股份) at the record date.
	Shares decimal.Decimal
	// Points is the balance the rule counts (PointsOf); may be negative.
	Points decimal.Decimal
	// BlackListed: a 黑榜 listing was live at the record date.
	BlackListed bool
}

// Line is one household's result.
type Line struct {
	Holding
	// CountedShares and CountedPoints are the weights used: the shares
	// (zero when the listing costs all) and the points, never below zero
	// (zero when the listing costs the points part).
	CountedShares decimal.Decimal
	CountedPoints decimal.Decimal
	// Excluded names what a listing cost: "" (nothing), LosePoints or
	// LoseAll.
	Excluded BlackList
	// Capped: the household receives the rule's cap.
	Capped bool
	// Amount is what it receives, in fen.
	Amount int64
}

// Input is everything an allocation depends on.
type Input struct {
	Village    string
	RecordDate household.Date
	// Pool is in yuan: positive, whole fen, at most MaxPool.
	Pool     decimal.Decimal
	Rule     *Rule
	Holdings []Holding
}

// Allocation is the result: one line per household on the roll, in
// household id order.
type Allocation struct {
	Village     string
	RecordDate  household.Date
	Pool        int64 // fen
	RuleVersion int
	RuleHash    string
	// TotalShares and TotalPoints are S and W, the counted totals.
	TotalShares decimal.Decimal
	TotalPoints decimal.Decimal
	Lines       []Line
	// Hash is the lower-case hex SHA-256 of Canonical().
	Hash string
}

// CheckPool checks a pool amount in yuan: positive, whole fen, at most
// MaxPool. A bad amount is an Invalid fault naming field.
func CheckPool(field string, d decimal.Decimal) error {
	switch {
	case !d.IsPositive():
		return fault.InvalidField(field, "must be a positive amount in yuan, got %s", d)
	case !d.Equal(d.Truncate(2)):
		return fault.InvalidField(field, "must be in whole fen (at most two decimal places), got %s", d)
	case d.GreaterThan(MaxPool):
		return fault.InvalidField(field, "must be at most %s yuan, got %s", MaxPool, d)
	}
	return nil
}

// Fen converts whole-fen yuan to fen.
func Fen(yuan decimal.Decimal) int64 { return yuan.Shift(2).IntPart() }

// Yuan formats fen as yuan with two decimals, e.g. 123456 → "1234.56".
func Yuan(fen int64) string { return decimal.New(fen, -2).StringFixed(2) }

// PointsOf is the points balance rule counts for a household with these
// ledger entries at the end of day: its credit points above the base (in
// the rule's areas, or all), or its redeemable points.
func PointsOf(rule *Rule, entries []points.Entry, day household.Date) decimal.Decimal {
	b := points.Balances(decimal.Zero, entries, day)
	if rule.Balance == Redeemable {
		return b.Redeemable
	}
	if len(rule.Areas) == 0 {
		return b.Credit
	}
	sum := decimal.Zero
	for _, a := range rule.Areas {
		sum = sum.Add(b.ByArea[a])
	}
	return sum
}

// BlackListedOn reports whether a 黑榜 listing among a household's posted
// or revoked non-points evidence was live at the end of day, as the
// 红黑榜 and credit policies read it (evidence.Standing).
func BlackListedOn(listings []*evidence.Evidence, day household.Date) bool {
	return evidence.StandingOf(listings, day).Blacklisted()
}

// Allocate computes the allocation. Errors: Invalid for a bad pool, a
// missing rule, a holding with negative shares or a household twice;
// FailedPrecondition when the roll cannot take the pool: no households
// (NO_HOUSEHOLDS), a shares part with no shares on the roll (NO_SHARES), a
// points part with no counted points (NO_POINTS), or a cap too low for the
// pool (CAP_TOO_LOW).
func Allocate(in Input) (*Allocation, error) {
	if in.Rule == nil {
		return nil, fault.New(fault.Invalid, "DIVIDEND_RULE_MISSING", "an allocation needs a rule")
	}
	if err := CheckPool("pool", in.Pool); err != nil {
		return nil, err
	}
	rule := in.Rule
	out := &Allocation{
		Village: in.Village, RecordDate: in.RecordDate, Pool: Fen(in.Pool),
		RuleVersion: rule.Version, RuleHash: rule.Hash,
		TotalShares: decimal.Zero, TotalPoints: decimal.Zero,
		Lines: make([]Line, len(in.Holdings)),
	}
	for i, h := range in.Holdings {
		l := Line{Holding: h, CountedShares: h.Shares, CountedPoints: decimal.Max(h.Points, decimal.Zero)}
		if h.Shares.IsNegative() {
			return nil, fault.New(fault.Invalid, "NEGATIVE_SHARES", "household %s has %s shares; shares are never negative", h.Household, h.Shares)
		}
		if h.BlackListed {
			switch rule.BlackList {
			case LoseAll:
				l.CountedShares, l.CountedPoints, l.Excluded = decimal.Zero, decimal.Zero, LoseAll
			case LosePoints:
				l.CountedPoints, l.Excluded = decimal.Zero, LosePoints
			}
		}
		if rule.PointsPercent.IsZero() {
			l.CountedPoints = decimal.Zero
		}
		if rule.SharesPercent.IsZero() {
			l.CountedShares = decimal.Zero
		}
		out.Lines[i] = l
	}
	// The input order must not matter: everything below runs in id order.
	slices.SortFunc(out.Lines, func(a, b Line) int { return cmp.Compare(a.Household, b.Household) })
	for i := 1; i < len(out.Lines); i++ {
		if out.Lines[i].Household == out.Lines[i-1].Household {
			return nil, fault.New(fault.Invalid, "DUPLICATE_HOUSEHOLD", "household %s is on the roll twice", out.Lines[i].Household)
		}
	}
	if len(out.Lines) == 0 {
		return nil, fault.New(fault.FailedPrecondition, "NO_HOUSEHOLDS",
			"no household of village %s was registered on %s: there is no one to pay", in.Village, in.RecordDate)
	}
	s, sScale, err := scaled(out.Lines, func(l *Line) decimal.Decimal { return l.CountedShares })
	if err != nil {
		return nil, err
	}
	w, wScale, err := scaled(out.Lines, func(l *Line) decimal.Decimal { return l.CountedPoints })
	if err != nil {
		return nil, err
	}
	S, W := sum(s), sum(w)
	out.TotalShares = decimal.NewFromBigInt(S, -sScale)
	out.TotalPoints = decimal.NewFromBigInt(W, -wScale)
	if rule.SharesPercent.IsPositive() && S.Sign() == 0 {
		return nil, fault.New(fault.FailedPrecondition, "NO_SHARES",
			"no household on the roll holds collective shares that count, so the shares part (%s%%) cannot be paid; check the households' facts or set shares_percent to 0",
			rule.SharesPercent)
	}
	if rule.PointsPercent.IsPositive() && W.Sign() == 0 {
		return nil, fault.New(fault.FailedPrecondition, "NO_POINTS",
			"no household on the roll has counted points above zero on %s, so the points part (%s%%) cannot be paid; set points_percent to 0 or choose other points",
			in.RecordDate, rule.PointsPercent)
	}

	// Each household's weight; e_i = pool × num_i / Σ num.
	sp := big.NewInt(rule.SharesPercent.Shift(2).IntPart()) // hundredths of a per cent
	pp := big.NewInt(rule.PointsPercent.Shift(2).IntPart())
	num := make([]*big.Int, len(out.Lines))
	for i := range out.Lines {
		switch {
		case pp.Sign() == 0:
			num[i] = s[i]
		case sp.Sign() == 0:
			num[i] = w[i]
		default:
			a := new(big.Int).Mul(sp, s[i])
			a.Mul(a, W)
			b := new(big.Int).Mul(pp, w[i])
			b.Mul(b, S)
			num[i] = a.Add(a, b)
		}
	}
	amounts, capped, err := share(out.Pool, rule.Cap, num, out.Lines)
	if err != nil {
		return nil, err
	}
	for i := range out.Lines {
		out.Lines[i].Amount, out.Lines[i].Capped = amounts[i], capped[i]
	}
	sumHash := sha256.Sum256(out.Canonical())
	out.Hash = hex.EncodeToString(sumHash[:])
	return out, nil
}

// share splits pool fen in proportion to num under a cap (yuan, zero for
// none), as the file's comment describes. lines give the tie-break (their
// order is household id order).
func share(pool int64, capYuan decimal.Decimal, num []*big.Int, lines []Line) ([]int64, []bool, error) {
	n := len(num)
	amounts, capped := make([]int64, n), make([]bool, n)
	R := big.NewInt(pool)
	D := sum(num)

	if capYuan.IsPositive() {
		C := big.NewInt(Fen(capYuan))
		// Largest weights first: if the largest is not above the cap at
		// the current scale, no one is; capping one only raises the scale
		// of the rest.
		order := indexes(n)
		slices.SortStableFunc(order, func(a, b int) int { return num[b].Cmp(num[a]) })
		var lhs, rhs big.Int
		for _, i := range order {
			if num[i].Sign() == 0 {
				break
			}
			if lhs.Mul(R, num[i]).Cmp(rhs.Mul(C, D)) <= 0 {
				break
			}
			capped[i], amounts[i] = true, C.Int64()
			R.Sub(R, C)
			D.Sub(D, num[i])
		}
		if D.Sign() == 0 && R.Sign() > 0 {
			paying := 0
			for _, x := range num {
				if x.Sign() > 0 {
					paying++
				}
			}
			return nil, nil, fault.New(fault.FailedPrecondition, "CAP_TOO_LOW",
				"the household cap of %s yuan pays the %d households that share the pool at most %s yuan, less than the pool of %s yuan; raise the cap or lower the pool",
				capYuan.StringFixed(2), paying, Yuan(C.Int64()*int64(paying)), Yuan(pool))
		}
	}

	// Whole fen below each entitlement, then the leftover fen by largest
	// remainder, ties to the smaller household id.
	rem := make([]*big.Int, n)
	left := new(big.Int).Set(R)
	var q big.Int
	for i := range num {
		if capped[i] || num[i].Sign() == 0 {
			continue
		}
		r := new(big.Int)
		q.QuoRem(new(big.Int).Mul(R, num[i]), D, r)
		amounts[i] = q.Int64()
		rem[i] = r
		left.Sub(left, &q)
	}
	if left.Sign() > 0 {
		order := make([]int, 0, n)
		for i := range num {
			if rem[i] != nil && rem[i].Sign() > 0 {
				order = append(order, i)
			}
		}
		slices.SortFunc(order, func(a, b int) int {
			if c := rem[b].Cmp(rem[a]); c != 0 {
				return c
			}
			return cmp.Compare(lines[a].Household, lines[b].Household)
		})
		k := left.Int64()
		if k > int64(len(order)) {
			// Impossible: remainders are fractions below one fen that add
			// up to k. Refuse rather than pay a wrong sum.
			return nil, nil, fault.New(fault.Internal, "ALLOCATION_ROUNDING", "%d fen left over for %d remainders", k, len(order))
		}
		for _, i := range order[:k] {
			amounts[i]++
		}
	}
	return amounts, capped, nil
}

// scaled returns the values get reads from lines as integers over a common
// power of ten, and that power.
func scaled(lines []Line, get func(*Line) decimal.Decimal) ([]*big.Int, int32, error) {
	var scale int32
	for i := range lines {
		if e := get(&lines[i]).Exponent(); -e > scale {
			scale = -e
		}
	}
	if scale > 18 {
		return nil, 0, fault.New(fault.Invalid, "TOO_PRECISE", "a holding has more than 18 decimal places")
	}
	out := make([]*big.Int, len(lines))
	for i := range lines {
		out[i] = get(&lines[i]).Shift(scale).BigInt()
	}
	return out, scale, nil
}

func sum(xs []*big.Int) *big.Int {
	t := new(big.Int)
	for _, x := range xs {
		t.Add(t, x)
	}
	return t
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// canonicalHeader names the format of Canonical; a change of format is a
// new header, so an old hash is never compared with a new format.
const canonicalHeader = "sanzhi dividend allocation v1\n"

// Canonical is the allocation as bytes: a header, the round's inputs, then
// one line per household in id order (id, shares, points, black-listed,
// excluded, capped, amount in fen), tab-separated, decimals in their
// shortest form. Its SHA-256 is Hash; an approved round stores it.
func (a *Allocation) Canonical() []byte {
	var b bytes.Buffer
	b.Grow(64 + 96*len(a.Lines))
	b.WriteString(canonicalHeader)
	b.WriteString("village\t" + a.Village + "\n")
	b.WriteString("record_date\t" + string(a.RecordDate) + "\n")
	b.WriteString("pool_fen\t" + strconv.FormatInt(a.Pool, 10) + "\n")
	b.WriteString("rule\t" + strconv.Itoa(a.RuleVersion) + "\t" + a.RuleHash + "\n")
	b.WriteString("households\t" + strconv.Itoa(len(a.Lines)) + "\n")
	for _, l := range a.Lines {
		b.WriteString(l.Household)
		b.WriteByte('\t')
		b.WriteString(l.Shares.String())
		b.WriteByte('\t')
		b.WriteString(l.Points.String())
		b.WriteByte('\t')
		b.WriteString(strconv.FormatBool(l.BlackListed))
		b.WriteByte('\t')
		if l.Excluded == "" {
			b.WriteByte('-')
		} else {
			b.WriteString(string(l.Excluded))
		}
		b.WriteByte('\t')
		b.WriteString(strconv.FormatBool(l.Capped))
		b.WriteByte('\t')
		b.WriteString(strconv.FormatInt(l.Amount, 10))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Total is the sum of the amounts, in fen: the pool, always.
func (a *Allocation) Total() int64 {
	var t int64
	for _, l := range a.Lines {
		t += l.Amount
	}
	return t
}
