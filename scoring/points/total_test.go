package points

import (
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// TestTotalMatchesDecimalAdd checks that a total gives the value and the
// exponent repeated decimal.Add and Sub give, across the fast part's edges:
// coefficients near 18 digits, exponents from -20 to +3, sums that leave
// the fast range and come back.
func TestTotalMatchesDecimalAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(20261205, 1))
	coef := func() int64 {
		switch rng.IntN(4) {
		case 0:
			return rng.Int64N(1000) - 500
		case 1:
			return rng.Int64N(2e18) - 1e18 // 18 and 19 digits
		case 2:
			return 999_999_999_999_999_999 - rng.Int64N(3)
		default:
			return rng.Int64N(2e12) - 1e12
		}
	}
	for round := range 2000 {
		var tot total
		want := decimal.Zero
		for range 1 + rng.IntN(40) {
			d := decimal.New(coef(), int32(rng.IntN(24)-20))
			if rng.IntN(6) == 0 {
				d = decimal.RequireFromString("123456789012345678901234567890.123") // never fast
			}
			if rng.IntN(3) == 0 {
				tot.sub(d)
				want = want.Sub(d)
			} else {
				tot.add(d)
				want = want.Add(d)
			}
		}
		got := tot.value()
		require.True(t, want.Equal(got), "round %d: got %s, want %s", round, got, want)
		require.Equal(t, want.Exponent(), got.Exponent(), "round %d: exponent of %s", round, want)
	}
}

func TestTotalZero(t *testing.T) {
	var tot total
	require.Equal(t, decimal.Zero.String(), tot.value().String())
	require.Equal(t, int32(0), tot.value().Exponent())
	tot.add(decimal.RequireFromString("2.50"))
	tot.sub(decimal.RequireFromString("2.5"))
	require.Equal(t, "0", tot.value().String())
	require.Equal(t, int32(-2), tot.value().Exponent(), "the finest addend's scale, as decimal.Add keeps it")
}

// TestTotalOverflow adds the largest fast coefficient until an int64 would
// have overflowed many times over.
func TestTotalOverflow(t *testing.T) {
	var tot total
	want := decimal.Zero
	d := decimal.New(999_999_999_999_999_999, -2)
	for range 50 {
		tot.add(d)
		want = want.Add(d)
	}
	require.Equal(t, want.String(), tot.value().String())
	for range 120 {
		tot.sub(d)
		want = want.Sub(d)
	}
	require.Equal(t, want.String(), tot.value().String())
}

// TestBalancesBaseKept: with nothing counted, Credit is the base itself,
// exponent included, as it was before Balances summed through a total.
func TestBalancesBaseKept(t *testing.T) {
	base := decimal.New(1, 2) // 1E+2
	b := Balances(base, nil, "2026-12-05")
	require.Equal(t, base.Exponent(), b.Credit.Exponent())
	require.True(t, base.Equal(b.Credit))
}
