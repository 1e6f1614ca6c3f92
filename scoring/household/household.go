// Package household is the register of rural households and the facts about
// them that credit policy reads. It is pure: storage and encryption are
// ports (Store, Sealer) implemented by adapters.
package household

import (
	"regexp"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/fault"
)

// Shanghai is the zone of business dates (a household's register date, the
// as-of date of its facts). Timestamps are stored in UTC.
var Shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// Without tzdata the binary embeds none; fall back to the fixed
		// offset, which China has used without DST since 1991.
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// Household is one registered household. The head's 身份证号 is held only
// sealed (encrypted) plus its masked form.
type Household struct {
	ID           string
	Village      string // 12-digit village code
	HeadName     string
	HeadIDMasked string
	HeadID       SealedID
	Group        int32
	Address      string
	Registered   Date
	Facts        Facts    // the latest version
	Members      []Member // as of Facts.Version, by number; the head is among them
	CreateTime   time.Time
	UpdateTime   time.Time
}

// SealedID is a 身份证号 encrypted at rest: ciphertext under a named key and
// an HMAC blind index for equality look-up.
type SealedID struct {
	KeyID      string
	Ciphertext []byte
	Index      []byte
}

// Facts is one version of the facts about a household that credit reads.
type Facts struct {
	Version          int64
	Members          int32
	Labourers        int32
	AnnualIncome     decimal.Decimal // yuan
	LandAreaMu       decimal.Decimal // 亩
	CollectiveShares decimal.Decimal
	ExistingDebt     decimal.Decimal // yuan, bank debt
	DishonestDebtor  bool            // 失信被执行人
	Source           string
	AsOf             Date
	RecordedBy       string // principal id
	RecordTime       time.Time
}

// Date is a calendar date in Asia/Shanghai, formatted YYYY-MM-DD. The zero
// value is the empty string, meaning "not set".
type Date string

var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// ParseDate checks that s is a real YYYY-MM-DD date.
func ParseDate(s string) (Date, error) {
	if !datePattern.MatchString(s) {
		return "", errBadDate(s)
	}
	if _, err := time.ParseInLocation(time.DateOnly, s, Shanghai); err != nil {
		return "", errBadDate(s)
	}
	return Date(s), nil
}

func errBadDate(s string) error {
	return fault.New(fault.Invalid, "BAD_DATE", "%q is not a date in YYYY-MM-DD form", s)
}

// Time returns the start of the date in Asia/Shanghai.
func (d Date) Time() time.Time {
	t, _ := time.ParseInLocation(time.DateOnly, string(d), Shanghai)
	return t
}

// After reports whether d is later than o (both valid).
func (d Date) After(o Date) bool { return d > o } // YYYY-MM-DD sorts as text

// AddMonths returns the date n calendar months after d (before it when n
// is negative), on the same day of the month or, where that month is
// shorter, its last day: 2024-01-31 plus one month is 2024-02-29, never
// March. A date that does not parse stays as it is.
func (d Date) AddMonths(n int) Date {
	t, err := time.Parse(time.DateOnly, string(d))
	if err != nil {
		return d
	}
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, n, 0)
	last := first.AddDate(0, 1, -1).Day()
	return Date(time.Date(first.Year(), first.Month(), min(t.Day(), last), 0, 0, 0, 0, time.UTC).Format(time.DateOnly))
}

// Today returns now's business date.
func Today(now time.Time) Date { return Date(now.In(Shanghai).Format(time.DateOnly)) }

// maxMoney bounds amounts to what NUMERIC(18,2) holds, far above any
// household's figures, so a typo cannot overflow a column.
var maxMoney = decimal.New(1, 15)

// Validate checks the facts' own consistency and that they are not dated in
// the future. prefix names the field in violations, e.g. "household.facts".
func (f *Facts) Validate(prefix string, today Date, v *fault.Violations) {
	field := func(name string) string { return prefix + "." + name }
	if f.Members < 1 || f.Members > 50 {
		v.Add(field("members"), "must be between 1 and 50, got %d", f.Members)
	}
	if f.Labourers < 0 || f.Labourers > f.Members {
		v.Add(field("labourers"), "must be between 0 and members (%d), got %d", f.Members, f.Labourers)
	}
	money := []struct {
		name string
		val  decimal.Decimal
	}{
		{"annual_income", f.AnnualIncome},
		{"land_area_mu", f.LandAreaMu},
		{"collective_shares", f.CollectiveShares},
		{"existing_bank_debt", f.ExistingDebt},
	}
	for _, m := range money {
		switch {
		case m.val.IsNegative():
			v.Add(field(m.name), "must not be negative, got %s", m.val)
		case m.val.Exponent() < -2 && !m.val.Equal(m.val.Truncate(2)):
			v.Add(field(m.name), "has more than two decimal places: %s", m.val)
		case m.val.GreaterThanOrEqual(maxMoney):
			v.Add(field(m.name), "must be below %s, got %s", maxMoney, m.val)
		}
	}
	if f.Source == "" {
		v.Add(field("source"), "is required")
	}
	if f.AsOf == "" {
		v.Add(field("as_of_date"), "is required")
	} else if f.AsOf.After(today) {
		v.Add(field("as_of_date"), "%s is in the future (today is %s in Asia/Shanghai)", f.AsOf, today)
	}
}
