package dividend

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func rule(shares, pts string) *Rule {
	return &Rule{Village: "330483102215", Version: 1, SharesPercent: d(shares), PointsPercent: d(pts),
		Balance: Credit, BlackList: KeepAll, NoticeDays: 7, Hash: "h"}
}

func hold(id, shares, pts string) Holding {
	return Holding{Household: id, Shares: d(shares), Points: d(pts)}
}

func amounts(a *Allocation) map[string]int64 {
	out := map[string]int64{}
	for _, l := range a.Lines {
		out[l.Household] = l.Amount
	}
	return out
}

func alloc(t *testing.T, pool string, r *Rule, hs ...Holding) *Allocation {
	t.Helper()
	a, err := Allocate(Input{Village: "330483102215", RecordDate: "2026-03-31", Pool: d(pool), Rule: r, Holdings: hs})
	require.NoError(t, err)
	require.Equal(t, a.Pool, a.Total(), "the amounts must add up to the pool")
	return a
}

// Hand-computed cases: each figure below was worked out on paper.
func TestAllocateByHand(t *testing.T) {
	t.Run("three equal shares: one fen left, to the smallest id", func(t *testing.T) {
		// ¥100.00 / 3 = 3333.33… fen each; remainders equal; the spare
		// fen goes to "a".
		a := alloc(t, "100", rule("100", "0"), hold("c", "1", "0"), hold("a", "1", "0"), hold("b", "1", "0"))
		assert.Equal(t, map[string]int64{"a": 3334, "b": 3333, "c": 3333}, amounts(a))
		assert.Equal(t, []string{"a", "b", "c"}, []string{a.Lines[0].Household, a.Lines[1].Household, a.Lines[2].Household})
	})
	t.Run("shares and points", func(t *testing.T) {
		// Pool ¥1000 = 100000 fen; 60% by shares (60000), 40% by points
		// (40000). A: 60000×10/40 + 40000×30/40 = 15000 + 30000 = 45000.
		// B: 60000×30/40 + 40000×10/40 = 45000 + 10000 = 55000.
		// C has neither and gets 0.
		a := alloc(t, "1000", rule("60", "40"), hold("A", "10", "30"), hold("B", "30", "10"), hold("C", "0", "0"))
		assert.Equal(t, map[string]int64{"A": 45000, "B": 55000, "C": 0}, amounts(a))
		assert.Equal(t, "40", a.TotalShares.String())
		assert.Equal(t, "40", a.TotalPoints.String())
	})
	t.Run("largest remainder beats id", func(t *testing.T) {
		// 10 fen by weights 1, 2, 4 (of 7): 1.428…, 2.857…, 5.714…
		// Floors 1+2+5 = 8; remainders 3/7, 6/7, 5/7: the two spare fen
		// go to y (6/7) and z (5/7), not to x, the smallest id.
		a := alloc(t, "0.10", rule("100", "0"), hold("x", "1", "0"), hold("y", "2", "0"), hold("z", "4", "0"))
		assert.Equal(t, map[string]int64{"x": 1, "y": 3, "z": 6}, amounts(a))
	})
	t.Run("cap redistributed", func(t *testing.T) {
		// ¥100 by shares 8:1:1 → 8000, 1000, 1000 fen; cap ¥50 = 5000.
		// A gets 5000; the other 5000 go to B and C 1:1.
		r := rule("100", "0")
		r.Cap = d("50")
		a := alloc(t, "100", r, hold("A", "8", "0"), hold("B", "1", "0"), hold("C", "1", "0"))
		assert.Equal(t, map[string]int64{"A": 5000, "B": 2500, "C": 2500}, amounts(a))
		assert.True(t, a.Lines[0].Capped)
		assert.False(t, a.Lines[1].Capped)
	})
	t.Run("cap cascades", func(t *testing.T) {
		// ¥100 by 6:3:1 → 6000, 3000, 1000; cap ¥40: A capped at 4000,
		// 6000 left for B:C = 3:1 → 4500, 1500; B now above the cap:
		// capped at 4000, C gets the last 2000.
		r := rule("100", "0")
		r.Cap = d("40")
		a := alloc(t, "100", r, hold("A", "6", "0"), hold("B", "3", "0"), hold("C", "1", "0"))
		assert.Equal(t, map[string]int64{"A": 4000, "B": 4000, "C": 2000}, amounts(a))
	})
	t.Run("black list costs the points part", func(t *testing.T) {
		// ¥100 half and half. Both hold 1 share; B is listed, so only A's
		// points count: A 2500 + 5000, B 2500.
		r := rule("50", "50")
		r.BlackList = LosePoints
		b := hold("B", "1", "10")
		b.BlackListed = true
		a := alloc(t, "100", r, hold("A", "1", "10"), b)
		assert.Equal(t, map[string]int64{"A": 7500, "B": 2500}, amounts(a))
		assert.Equal(t, LosePoints, a.Lines[1].Excluded)
		assert.True(t, a.Lines[1].CountedPoints.IsZero())
	})
	t.Run("black list costs all", func(t *testing.T) {
		r := rule("50", "50")
		r.BlackList = LoseAll
		b := hold("B", "1", "10")
		b.BlackListed = true
		a := alloc(t, "100", r, hold("A", "1", "10"), b)
		assert.Equal(t, map[string]int64{"A": 10000, "B": 0}, amounts(a))
	})
	t.Run("black list ignored when the rule says none", func(t *testing.T) {
		b := hold("B", "1", "10")
		b.BlackListed = true
		a := alloc(t, "100", rule("50", "50"), hold("A", "1", "10"), b)
		assert.Equal(t, map[string]int64{"A": 5000, "B": 5000}, amounts(a))
		assert.Equal(t, BlackList(""), a.Lines[1].Excluded)
	})
	t.Run("negative points count as zero", func(t *testing.T) {
		a := alloc(t, "100", rule("0", "100"), hold("A", "0", "-5"), hold("B", "0", "2.5"), hold("C", "0", "7.5"))
		assert.Equal(t, map[string]int64{"A": 0, "B": 2500, "C": 7500}, amounts(a))
	})
}

func TestAllocateRefusals(t *testing.T) {
	in := func(pool string, r *Rule, hs ...Holding) error {
		_, err := Allocate(Input{Village: "330483102215", RecordDate: "2026-03-31", Pool: d(pool), Rule: r, Holdings: hs})
		return err
	}
	one := hold("A", "1", "1")
	for _, pool := range []string{"0", "-1", "0.001", "100000000.01"} {
		err := in(pool, rule("50", "50"), one)
		assert.True(t, fault.Is(err, fault.Invalid), "pool %s: %v", pool, err)
	}
	reason := func(err error) string {
		f, ok := err.(*fault.Error)
		if !ok {
			return fmt.Sprint(err)
		}
		return f.Reason
	}
	assert.Equal(t, "NO_HOUSEHOLDS", reason(in("1", rule("50", "50"))))
	assert.Equal(t, "NO_SHARES", reason(in("1", rule("50", "50"), hold("A", "0", "1"))))
	assert.Equal(t, "NO_POINTS", reason(in("1", rule("50", "50"), hold("A", "1", "-1"))))
	assert.Equal(t, "DUPLICATE_HOUSEHOLD", reason(in("1", rule("100", "0"), one, one)))
	assert.Equal(t, "NEGATIVE_SHARES", reason(in("1", rule("100", "0"), hold("A", "-1", "0"))))
	assert.Equal(t, "DIVIDEND_RULE_MISSING", reason(in("1", nil, one)))
	r := rule("100", "0")
	r.Cap = d("10")
	// Two paying households, capped at ¥10 each: ¥20.01 cannot be paid.
	err := in("20.01", r, hold("A", "1", "0"), hold("B", "1", "0"), hold("C", "0", "0"))
	assert.Equal(t, "CAP_TOO_LOW", reason(err))
	assert.Contains(t, err.Error(), "2 households")
	// ¥20 exactly can.
	require.NoError(t, in("20", r, hold("A", "1", "0"), hold("B", "1", "0")))
}

// exact is the reference: each household's entitlement as a rational,
// computed the slow, obvious way (water-filling with big.Rat).
func exact(pool int64, r *Rule, lines []Line) []*big.Rat {
	n := len(lines)
	S, W := new(big.Rat), new(big.Rat)
	for _, l := range lines {
		S.Add(S, l.CountedShares.Rat())
		W.Add(W, l.CountedPoints.Rat())
	}
	base := make([]*big.Rat, n)
	for i, l := range lines {
		e := new(big.Rat)
		if S.Sign() > 0 {
			x := new(big.Rat).Mul(r.SharesPercent.Rat(), l.CountedShares.Rat())
			e.Add(e, x.Quo(x, S))
		}
		if W.Sign() > 0 {
			x := new(big.Rat).Mul(r.PointsPercent.Rat(), l.CountedPoints.Rat())
			e.Add(e, x.Quo(x, W))
		}
		e.Mul(e, new(big.Rat).SetFrac64(pool, 100))
		base[i] = e
	}
	out := make([]*big.Rat, n)
	for i := range out {
		out[i] = new(big.Rat).Set(base[i])
	}
	if r.Cap.IsZero() {
		return out
	}
	C := new(big.Rat).SetInt64(Fen(r.Cap))
	capped := make([]bool, n)
	for {
		changed := false
		left := new(big.Rat).SetInt64(pool)
		free := new(big.Rat)
		for i := range out {
			if capped[i] {
				left.Sub(left, C)
			} else {
				free.Add(free, base[i])
			}
		}
		for i := range out {
			if capped[i] {
				out[i].Set(C)
				continue
			}
			if free.Sign() == 0 {
				out[i].SetInt64(0)
				continue
			}
			out[i].Mul(base[i], left)
			out[i].Quo(out[i], free)
			if out[i].Cmp(C) > 0 {
				capped[i], changed = true, true
			}
		}
		if !changed {
			return out
		}
	}
}

// randomCase draws a pool, a rule and a roll.
func randomCase(rng *rand.Rand) Input {
	n := 1 + rng.IntN(60)
	if rng.IntN(10) == 0 {
		n = 1 + rng.IntN(600)
	}
	sp := rng.IntN(10001) // hundredths of a per cent
	switch rng.IntN(5) {
	case 0:
		sp = 0
	case 1:
		sp = 10000
	}
	r := rule(decimal.New(int64(sp), -2).String(), decimal.New(int64(10000-sp), -2).String())
	r.BlackList = []BlackList{KeepAll, LosePoints, LoseAll}[rng.IntN(3)]
	pool := 1 + rng.Int64N(10_000_000)
	if rng.IntN(4) == 0 {
		pool = 1 + rng.Int64N(int64(n)*3) // a few fen each: rounding matters
	}
	hs := make([]Holding, n)
	for i := range hs {
		hs[i] = Holding{
			Household:   fmt.Sprintf("hh-%05d", rng.IntN(100000)*1000+i), // unique, unordered
			Shares:      decimal.New(int64(rng.IntN(5001)), -int32(rng.IntN(3))),
			Points:      decimal.New(int64(rng.IntN(4001)-1000), -int32(rng.IntN(2))),
			BlackListed: rng.IntN(15) == 0,
		}
		if rng.IntN(8) == 0 {
			hs[i].Shares = decimal.Zero
		}
		if rng.IntN(5) == 0 {
			hs[i].Points = decimal.New(int64(rng.IntN(3)), 0) // ties
			hs[i].Shares = decimal.New(int64(rng.IntN(3)), 0)
		}
	}
	if rng.IntN(3) == 0 {
		// A cap somewhere around the average, sometimes too low.
		avg := pool / int64(n)
		r.Cap = decimal.New(max(1, avg/2+rng.Int64N(avg*3+1)), -2)
	}
	return Input{Village: "330483102215", RecordDate: household.Date("2026-03-31"),
		Pool: decimal.New(pool, -2), Rule: r, Holdings: hs}
}

// TestAllocateProperties: for random pools, rules and rolls, the amounts
// are never negative, add up to the pool exactly, never exceed the cap,
// are within one fen of the exact entitlement, and do not depend on the
// order the households are read in.
func TestAllocateProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 2026))
	checked, refused := 0, 0
	for iter := range 3000 {
		in := randomCase(rng)
		a, err := Allocate(in)
		if err != nil {
			// Only the documented refusals of an unpayable roll.
			f, ok := err.(*fault.Error)
			require.True(t, ok, "case %d: %v", iter, err)
			require.Contains(t, []string{"NO_SHARES", "NO_POINTS", "CAP_TOO_LOW"}, f.Reason, "case %d: %v", iter, err)
			refused++
			continue
		}
		checked++
		require.Equal(t, a.Pool, a.Total(), "case %d: sum", iter)
		want := exact(a.Pool, in.Rule, a.Lines)
		for i, l := range a.Lines {
			require.GreaterOrEqual(t, l.Amount, int64(0), "case %d", iter)
			if in.Rule.Cap.IsPositive() {
				require.LessOrEqual(t, l.Amount, Fen(in.Rule.Cap), "case %d: cap", iter)
			}
			diff := new(big.Rat).Sub(new(big.Rat).SetInt64(l.Amount), want[i])
			require.True(t, diff.Abs(diff).Cmp(big.NewRat(1, 1)) < 0,
				"case %d: %s gets %d fen, entitled to %s", iter, l.Household, l.Amount, want[i].FloatString(4))
			if l.CountedShares.IsZero() && l.CountedPoints.IsZero() {
				require.Zero(t, l.Amount, "case %d: nothing counted, nothing paid", iter)
			}
		}
		// Order invariance: the same roll shuffled gives the same bytes.
		shuffled := slices.Clone(in.Holdings)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		in2 := in
		in2.Holdings = shuffled
		b, err := Allocate(in2)
		require.NoError(t, err)
		require.Equal(t, a.Hash, b.Hash, "case %d: order changed the result", iter)
		require.Equal(t, string(a.Canonical()), string(b.Canonical()))
	}
	// The generator must exercise both paths, or the test proves little.
	assert.Greater(t, checked, 2000)
	assert.Greater(t, refused, 10)
}

func TestCanonicalChangesWithAnyInput(t *testing.T) {
	base := Input{Village: "330483102215", RecordDate: "2026-03-31", Pool: d("100"), Rule: rule("50", "50"),
		Holdings: []Holding{hold("A", "1", "2"), hold("B", "3", "4")}}
	a, err := Allocate(base)
	require.NoError(t, err)
	mutate := map[string]func(*Input){
		"pool":        func(in *Input) { in.Pool = d("100.01") },
		"record date": func(in *Input) { in.RecordDate = "2026-03-30" },
		"shares":      func(in *Input) { in.Holdings = []Holding{hold("A", "1.5", "2"), hold("B", "3", "4")} },
		"rule hash":   func(in *Input) { r := *in.Rule; r.Hash = "other"; in.Rule = &r },
	}
	for name, m := range mutate {
		in := base
		m(&in)
		b, err := Allocate(in)
		require.NoError(t, err)
		assert.NotEqual(t, a.Hash, b.Hash, name)
	}
	// Equal decimals written differently are the same input.
	in := base
	in.Holdings = []Holding{hold("A", "1.00", "2.0"), hold("B", "3", "4")}
	b, err := Allocate(in)
	require.NoError(t, err)
	assert.Equal(t, a.Hash, b.Hash)
}

func TestYuanAndFen(t *testing.T) {
	assert.Equal(t, "1234.56", Yuan(123456))
	assert.Equal(t, "0.07", Yuan(7))
	assert.Equal(t, int64(123456), Fen(d("1234.56")))
}
