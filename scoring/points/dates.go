package points

import (
	"strconv"
	"time"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// Calendar arithmetic on business dates. A household.Date is already a
// calendar date in Asia/Shanghai, so the arithmetic is done on the civil
// date alone (in UTC, where every day has 24 hours); no clock or zone
// conversion is involved.

// civil parses d, which the caller has checked, into a UTC midnight.
func civil(d household.Date) time.Time {
	t, _ := time.Parse(time.DateOnly, string(d))
	return t
}

func fromCivil(t time.Time) household.Date { return household.Date(t.Format(time.DateOnly)) }

// AddDays returns d plus n calendar days (n may be negative). d must be a
// valid date.
func AddDays(d household.Date, n int) household.Date {
	return fromCivil(civil(d).AddDate(0, 0, n))
}

// AddMonths returns d plus n calendar months, clamped to the end of the
// month where the day does not exist: 2024-01-31 + 1 month = 2024-02-29,
// not 2024-03-02 as time.AddDate would give. d must be a valid date.
func AddMonths(d household.Date, n int) household.Date { return d.AddMonths(n) }

// Year returns the calendar year of d (Asia/Shanghai, as every
// household.Date is), the year annual caps are counted in. d must be a
// valid date.
func Year(d household.Date) int {
	y, _ := strconv.Atoi(string(d)[:4])
	return y
}

// dayNumber reads d as YYYYMMDD, or reports that d is not written
// YYYY-MM-DD.
func dayNumber(d household.Date) (int32, bool) {
	if len(d) != 10 || d[4] != '-' || d[7] != '-' {
		return 0, false
	}
	var n int32
	for _, k := range [8]int{0, 1, 2, 3, 5, 6, 8, 9} {
		c := d[k]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int32(c-'0')
	}
	return n, true
}

// checkDate reports a missing or malformed date as a field violation.
func checkDate(v *fault.Violations, field string, d household.Date) bool {
	if d == "" {
		v.Add(field, "required")
		return false
	}
	if _, err := household.ParseDate(string(d)); err != nil {
		v.Add(field, "%q is not a date in YYYY-MM-DD form", string(d))
		return false
	}
	return true
}

// EffectiveOn returns the day an entry whose 公示 starts on noticeStart
// becomes effective: noticeStart plus PublicNoticeDays. The notice runs on
// the calendar days noticeStart .. EffectiveOn-1 inclusive; with 7 days, a
// notice starting 2024-03-01 runs to 03-07 and the entry counts from 03-08.
func (c *Catalogue) EffectiveOn(noticeStart household.Date) (household.Date, error) {
	var v fault.Violations
	if !checkDate(&v, "notice_start", noticeStart) {
		return "", v.Err()
	}
	return AddDays(noticeStart, c.PublicNoticeDays), nil
}

// EarliestOccurrence returns the oldest date an act may have happened on
// for evidence submitted today: today minus MaxBackdateDays.
func (c *Catalogue) EarliestOccurrence(today household.Date) household.Date {
	return AddDays(today, -c.MaxBackdateDays)
}

// CheckOccurred checks the date of an act against the catalogue's limits
// for evidence submitted today: not in the future and not older than
// MaxBackdateDays. (Whether the household existed then is the caller's
// check.) The error is an Invalid fault on field "occurred_on".
func (c *Catalogue) CheckOccurred(occurredOn, today household.Date) error {
	var v fault.Violations
	okOcc := checkDate(&v, "occurred_on", occurredOn)
	okToday := checkDate(&v, "today", today)
	if okOcc && okToday {
		switch earliest := c.EarliestOccurrence(today); {
		case occurredOn.After(today):
			v.Add("occurred_on", "%s is in the future (today is %s)", occurredOn, today)
		case earliest.After(occurredOn):
			v.Add("occurred_on", "%s is more than %d days ago; the catalogue accepts acts from %s on", occurredOn, c.MaxBackdateDays, earliest)
		}
	}
	return v.Err()
}
