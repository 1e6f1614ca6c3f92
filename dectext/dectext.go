// Package dectext writes decimals as text, as shopspring/decimal's String
// and StringFixed do, without math/big's formatting when the coefficient
// fits an int64, as every amount, rate and points figure here does.
//
// Why: a batch re-assessment formats a dozen figures per household (its
// input's canonical form, its outcome hash, its line event, its row), and
// big.Int.Text with the strings decimal joins around it was 7 % of the
// run's CPU; GetPoints writes three figures per ledger entry. The output
// is byte for byte the library's; values outside the fast path go to it.
package dectext

import (
	"strconv"

	"github.com/shopspring/decimal"
)

// maxDigits is the most digits an int64 holds for every value of that
// length.
const maxDigits = 18

var pow10 = [maxDigits + 1]int64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
	1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// String is d.String(): trailing zeros of the fraction trimmed, never
// scientific notation.
func String(d decimal.Decimal) string {
	var buf [48]byte
	return string(Append(buf[:0], d))
}

// Append appends d.String() to b.
func Append(b []byte, d decimal.Decimal) []byte {
	e := d.Exponent()
	if e > 0 || e < -maxDigits || d.NumDigits() > maxDigits {
		return append(b, d.String()...)
	}
	return appendScaled(b, d.CoefficientInt64(), int(-e), true)
}

// Fixed is d.StringFixed(places): rounded half away from zero to places
// digits after the point, padded with zeros to exactly that many.
func Fixed(d decimal.Decimal, places int32) string {
	var buf [48]byte
	return string(AppendFixed(buf[:0], d, places))
}

// AppendFixed appends d.StringFixed(places) to b.
func AppendFixed(b []byte, d decimal.Decimal, places int32) []byte {
	e := d.Exponent()
	if places < 0 || places > maxDigits || e > maxDigits || e < -2*maxDigits {
		return append(b, d.StringFixed(places)...)
	}
	n := d.NumDigits()
	if n > maxDigits {
		return append(b, d.StringFixed(places)...)
	}
	c := d.CoefficientInt64()
	switch k := int(e + places); {
	case k > 0:
		// Fewer places than asked: exact, padded with zeros.
		if n+k > maxDigits {
			return append(b, d.StringFixed(places)...)
		}
		c *= pow10[k]
	case k < 0:
		// As decimal.Round: truncate to one digit more than asked, add
		// half a unit away from zero, truncate that digit.
		if -k-1 > maxDigits {
			c = 0
		} else {
			c /= pow10[-k-1]
		}
		if c < 0 {
			c -= 5
		} else {
			c += 5
		}
		c /= 10
	}
	return appendScaled(b, c, int(places), false)
}

// appendScaled appends c×10^-places, |c| < 10^18, with its trailing
// fractional zeros dropped if trim.
func appendScaled(b []byte, c int64, places int, trim bool) []byte {
	if c == 0 && trim {
		return append(b, '0')
	}
	if c < 0 {
		b = append(b, '-')
		c = -c
	}
	var digits [20]byte
	ds := strconv.AppendInt(digits[:0], c, 10)
	if trim {
		for places > 0 && ds[len(ds)-1] == '0' {
			ds, places = ds[:len(ds)-1], places-1
		}
	}
	switch {
	case places == 0:
		return append(b, ds...)
	case len(ds) > places:
		b = append(b, ds[:len(ds)-places]...)
		b = append(b, '.')
		return append(b, ds[len(ds)-places:]...)
	default:
		b = append(b, '0', '.')
		for range places - len(ds) {
			b = append(b, '0')
		}
		return append(b, ds...)
	}
}
