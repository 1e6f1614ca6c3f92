package points

import "github.com/shopspring/decimal"

// total sums decimals the way repeated decimal.Add would, to the same
// value and the same exponent (the smallest of the addends'), without
// allocating while the sum fits an int64 at that exponent. Balances adds
// up to five figures per entry, and each decimal.Add allocates a big.Int:
// for a household of 1,000 entries that was most of GetPoints' CPU.
//
// The zero total is zero at exponent 0, as decimal.Zero is.
type total struct {
	coef int64 // the fast part: coef × 10^exp
	exp  int32
	rest decimal.Decimal // what did not fit the fast part, summed exactly
}

// fastDigits bounds the digits of a fast part and of an addend taken into
// it, so that a sum of two never overflows an int64 (whose 19 digits hold
// any sum of two 18-digit numbers).
const fastDigits = 18

func (t *total) add(d decimal.Decimal) {
	if !t.addFast(d.CoefficientInt64(), d.Exponent(), d.NumDigits()) {
		t.rest = t.rest.Add(d)
	}
}

func (t *total) sub(d decimal.Decimal) {
	if !t.addFast(-d.CoefficientInt64(), d.Exponent(), d.NumDigits()) {
		t.rest = t.rest.Sub(d)
	}
}

// addFast adds c × 10^e (c of digits digits) to the fast part, reporting
// false, and changing nothing, when the result might not fit.
func (t *total) addFast(c int64, e int32, digits int) bool {
	if digits > fastDigits || e > 0 || e < -fastDigits {
		return false
	}
	coef := t.coef
	switch {
	case e < t.exp:
		// Bring the sum to the finer exponent first, as decimal.Add does.
		var ok bool
		if coef, ok = scale(coef, t.exp-e); !ok {
			return false
		}
	case e > t.exp:
		var ok bool
		if c, ok = scale(c, e-t.exp); !ok {
			return false
		}
	}
	if !fits(coef) || !fits(c) {
		return false
	}
	t.coef, t.exp = coef+c, min(t.exp, e)
	return true
}

// value is the sum as a decimal.
func (t *total) value() decimal.Decimal {
	return decimal.New(t.coef, t.exp).Add(t.rest)
}

var pow10 = func() [fastDigits + 1]int64 {
	var p [fastDigits + 1]int64
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// scale multiplies c by 10^k, reporting false when the product would
// leave the fast range.
func scale(c int64, k int32) (int64, bool) {
	if k < 0 || k > fastDigits {
		return 0, false
	}
	limit := pow10[fastDigits] / pow10[k]
	if c >= limit || c <= -limit {
		return 0, false
	}
	return c * pow10[k], true
}

// fits reports whether c has at most fastDigits digits.
func fits(c int64) bool {
	return c < pow10[fastDigits] && c > -pow10[fastDigits]
}
