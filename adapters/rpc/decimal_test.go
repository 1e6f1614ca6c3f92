package rpc

import (
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// TestDecimalText checks decimalText against decimal.String on the edges
// (zeros at every scale, trailing zeros, leading zeros of a fraction, the
// int64 limits) and on random values.
func TestDecimalText(t *testing.T) {
	cases := []decimal.Decimal{
		decimal.Zero, decimal.New(0, -2), decimal.New(0, 3), decimal.New(5, 0), decimal.New(-5, 0),
		decimal.New(250, -2), decimal.New(-250, -2), decimal.New(5, -3), decimal.New(-5, -3),
		decimal.New(100, -2), decimal.New(-100, -2), decimal.New(1000, -1), decimal.New(12, 2),
		decimal.New(999_999_999_999_999_999, -18), decimal.New(-999_999_999_999_999_999, -9),
		decimal.New(1_000_000_000_000_000_000, -2), decimal.New(9_223_372_036_854_775_807, -4),
		decimal.New(-9_223_372_036_854_775_808, -4), decimal.New(7, -19), decimal.New(7, -30),
		decimal.RequireFromString("123456789012345678901234.5600"), decimal.RequireFromString("-0.0100"),
	}
	rng := rand.New(rand.NewPCG(20261205, 2))
	for range 5000 {
		c := rng.Int64N(2e12) - 1e12
		if rng.IntN(3) == 0 {
			c = rng.Int64()
		}
		cases = append(cases, decimal.New(c, int32(rng.IntN(26)-22)))
	}
	for _, d := range cases {
		require.Equal(t, d.String(), decimalText(d), "coefficient %s, exponent %d", d.Coefficient(), d.Exponent())
	}
}
