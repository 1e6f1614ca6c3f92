package dectext

import (
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// edges are values at each boundary of the fast path: zeros at every
// scale, trailing zeros, leading zeros of a fraction, halves that round
// away from zero, 18 and 19 digits, the int64 limits and beyond them.
var edges = []decimal.Decimal{
	decimal.Zero, decimal.New(0, -2), decimal.New(0, 3), decimal.New(5, 0), decimal.New(-5, 0),
	decimal.New(250, -2), decimal.New(-250, -2), decimal.New(5, -3), decimal.New(-5, -3),
	decimal.New(100, -2), decimal.New(-100, -2), decimal.New(1000, -1), decimal.New(12, 2),
	decimal.New(125, -3), decimal.New(-125, -3), decimal.New(135, -3), decimal.New(-4999, -3),
	decimal.New(995, -3), decimal.New(-995, -3), decimal.New(49999, -7), decimal.New(5, -7),
	decimal.New(999_999_999_999_999_999, -18), decimal.New(-999_999_999_999_999_999, -9),
	decimal.New(999_999_999_999_999_999, 0), decimal.New(99_999_999_999_999_999, 1),
	decimal.New(1_000_000_000_000_000_000, -2), decimal.New(9_223_372_036_854_775_807, -4),
	decimal.New(-9_223_372_036_854_775_808, -4), decimal.New(7, -19), decimal.New(7, -30),
	decimal.New(5, -37), decimal.New(123, 17), decimal.New(123, 19),
	decimal.RequireFromString("123456789012345678901234.5600"), decimal.RequireFromString("-0.0100"),
}

func randomDecimals(n int) []decimal.Decimal {
	rng := rand.New(rand.NewPCG(20261206, 3))
	ds := append([]decimal.Decimal(nil), edges...)
	for range n {
		c := rng.Int64N(2e12) - 1e12
		switch rng.IntN(4) {
		case 0:
			c = rng.Int64()
			if rng.IntN(2) == 0 {
				c = -c
			}
		case 1:
			c = rng.Int64N(2000) - 1000
		}
		ds = append(ds, decimal.New(c, int32(rng.IntN(30)-24)))
	}
	return ds
}

// TestString checks String and Append against decimal.String.
func TestString(t *testing.T) {
	for _, d := range randomDecimals(20000) {
		require.Equal(t, d.String(), String(d), "coefficient %s, exponent %d", d.Coefficient(), d.Exponent())
		require.Equal(t, "x"+d.String(), string(Append([]byte("x"), d)))
	}
}

// TestFixed checks Fixed and AppendFixed against decimal.StringFixed for
// every number of places the fast path takes and a few it leaves to the
// library.
func TestFixed(t *testing.T) {
	for _, d := range randomDecimals(5000) {
		for places := int32(-3); places <= 21; places++ {
			require.Equal(t, d.StringFixed(places), Fixed(d, places),
				"coefficient %s, exponent %d, places %d", d.Coefficient(), d.Exponent(), places)
		}
		require.Equal(t, "x"+d.StringFixed(2), string(AppendFixed([]byte("x"), d, 2)))
	}
}

// FuzzText compares both with the library on any coefficient and scale.
func FuzzText(f *testing.F) {
	f.Add(int64(125), int32(-3), int32(2))
	f.Add(int64(-9_223_372_036_854_775_808), int32(-4), int32(6))
	f.Fuzz(func(t *testing.T, c int64, e, places int32) {
		e, places = e%40, places%25
		d := decimal.New(c, e)
		require.Equal(t, d.String(), String(d))
		require.Equal(t, d.StringFixed(places), Fixed(d, places))
	})
}

func BenchmarkFixed(b *testing.B) {
	d := decimal.New(1234567, -4)
	b.Run("dectext", func(b *testing.B) {
		for b.Loop() {
			_ = Fixed(d, 2)
		}
	})
	b.Run("decimal", func(b *testing.B) {
		for b.Loop() {
			_ = d.StringFixed(2)
		}
	})
}
