package rpc

import (
	"strconv"

	"github.com/shopspring/decimal"
)

// decimalText is d.String() (trailing zeros trimmed, never scientific)
// without math/big's formatting when d's coefficient fits an int64, as
// every figure of the points ledger does: GetPoints writes three per entry,
// and big.Int.Text was a fifth of its handler's CPU.
func decimalText(d decimal.Decimal) string {
	e := d.Exponent()
	if e > 0 || e < -18 || d.NumDigits() > 18 {
		return d.String()
	}
	c := d.CoefficientInt64()
	if e == 0 || c == 0 {
		return strconv.FormatInt(c, 10)
	}
	var buf [48]byte
	out := buf[:0]
	if c < 0 {
		out = append(out, '-')
		c = -c
	}
	var digits [20]byte
	ds := strconv.AppendInt(digits[:0], c, 10)
	places := int(-e)
	// Trailing zeros of the fraction go, as decimal.String drops them.
	for places > 0 && ds[len(ds)-1] == '0' {
		ds, places = ds[:len(ds)-1], places-1
	}
	if places == 0 {
		return string(append(out, ds...))
	}
	if len(ds) > places {
		out = append(out, ds[:len(ds)-places]...)
		out = append(out, '.')
		out = append(out, ds[len(ds)-places:]...)
	} else {
		out = append(out, '0', '.')
		for range places - len(ds) {
			out = append(out, '0')
		}
		out = append(out, ds...)
	}
	return string(out)
}
