package lending

import (
	"errors"
	"regexp"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/fault"
)

// MaxAmount is the largest single amount accepted: ¥100,000,000.
var MaxAmount = decimal.New(1, 8)

// amountSyntax accepts plain decimal notation only: no exponent, no sign
// other than a leading minus (reported as "must be positive"), no spaces.
var amountSyntax = regexp.MustCompile(`^-?[0-9]{1,30}(\.[0-9]{1,30})?$`)

// CheckAmount parses a money amount in yuan given as text and checks it:
// plain decimal notation, positive, at most two decimal places (whole fen)
// and at most MaxAmount. A bad amount is an Invalid fault naming field.
func CheckAmount(field, amount string) (decimal.Decimal, error) {
	if !amountSyntax.MatchString(amount) {
		return decimal.Decimal{}, fault.InvalidField(field, "must be an amount in yuan such as 1234.56, got %q", truncate(amount))
	}
	d, err := decimal.NewFromString(amount)
	if err != nil {
		return decimal.Decimal{}, fault.InvalidField(field, "must be an amount in yuan such as 1234.56, got %q", truncate(amount))
	}
	if err := checkMoney(field, d); err != nil {
		return decimal.Decimal{}, err
	}
	return d, nil
}

// checkMoney applies CheckAmount's value rules to a decimal.
func checkMoney(field string, d decimal.Decimal) error {
	switch {
	case !d.IsPositive():
		return fault.InvalidField(field, "must be positive, got %s", d)
	case !d.Equal(d.Truncate(2)):
		return fault.InvalidField(field, "must be in whole fen (at most two decimal places), got %s", d)
	case d.GreaterThan(MaxAmount):
		return fault.InvalidField(field, "must be at most %s, got %s", MaxAmount, d)
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// asFault is errors.As for *fault.Error.
func asFault(err error, f **fault.Error) bool { return errors.As(err, f) }
