package lending

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// current is a loan paid on time.
func current(asOf household.Date) StatusReport {
	return StatusReport{AsOf: asOf, OverduePrincipal: dec("0"), OverdueInterest: dec("0"), Class: ClassNormal}
}

// late is a loan dpd days past due with principal overdue, classified c.
func late(asOf household.Date, dpd int, c Class, defaulted bool) StatusReport {
	return StatusReport{AsOf: asOf, DaysPastDue: dpd, OverduePrincipal: dec("5000"), OverdueInterest: dec("120.50"),
		Class: c, Defaulted: defaulted}
}

func TestClassesMatchThePolicyVocabulary(t *testing.T) {
	// The policy language writes the classes worst first, then "none".
	var want []string
	cs := Classes()
	for i := len(cs) - 1; i >= 0; i-- {
		want = append(want, string(cs[i]))
	}
	assert.Equal(t, append(want, "none"), rules.Classifications)
}

func TestCheckAcceptsConsistentReports(t *testing.T) {
	ok := []StatusReport{
		current("2025-05-31"),
		late("2025-05-31", 5, ClassNormal, false),          // a few days' technical delay
		late("2025-05-31", 30, ClassSpecialMention, false), // 关注
		late("2025-05-31", 30, ClassSubstandard, false),    // worse than the floor is the bank's call
		late("2025-05-31", 95, ClassSubstandard, true),
		late("2025-05-31", 300, ClassDoubtful, true),
		late("2025-05-31", 400, ClassLoss, true),
		{AsOf: "2025-05-31", DaysPastDue: 400, OverduePrincipal: dec("5000"), Class: ClassLoss, Defaulted: true, WrittenOff: true},
		{AsOf: "2025-05-31", Class: ClassNormal, Settled: true},
		{AsOf: "2025-05-31", DaysPastDue: 1, OverdueInterest: dec("0.01"), Class: ClassNormal},
	}
	for i, r := range ok {
		assert.NoError(t, r.Check(), "report %d", i)
	}
}

func TestCheckRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		r     StatusReport
		field string
	}{
		{"bad date", func() StatusReport { r := current("2025-02-30"); return r }(), "as_of"},
		{"negative days", StatusReport{AsOf: "2025-05-31", DaysPastDue: -1, Class: ClassNormal}, "days_past_due"},
		{"too many days", StatusReport{AsOf: "2025-05-31", DaysPastDue: MaxDaysPastDue + 1, OverduePrincipal: dec("1"), Class: ClassLoss, Defaulted: true}, "days_past_due"},
		{"negative principal", StatusReport{AsOf: "2025-05-31", DaysPastDue: 3, OverduePrincipal: dec("-1"), OverdueInterest: dec("5"), Class: ClassNormal}, "overdue_principal"},
		{"negative interest", StatusReport{AsOf: "2025-05-31", DaysPastDue: 3, OverduePrincipal: dec("5"), OverdueInterest: dec("-0.01"), Class: ClassNormal}, "overdue_interest"},
		{"fractions of a fen", StatusReport{AsOf: "2025-05-31", DaysPastDue: 3, OverduePrincipal: dec("5.001"), Class: ClassNormal}, "overdue_principal"},
		{"unknown class", StatusReport{AsOf: "2025-05-31", Class: "AAA"}, "classification"},
		{"past due with nothing overdue", StatusReport{AsOf: "2025-05-31", DaysPastDue: 10, Class: ClassSpecialMention}, "overdue_principal"},
		{"overdue with no days", StatusReport{AsOf: "2025-05-31", OverduePrincipal: dec("10"), Class: ClassNormal}, "days_past_due"},
		{"normal at 8 days", late("2025-05-31", 8, ClassNormal, false), "classification"},
		{"special mention at 91 days", late("2025-05-31", 91, ClassSpecialMention, false), "classification"},
		{"substandard at 271 days", late("2025-05-31", 271, ClassSubstandard, true), "classification"},
		{"doubtful at 361 days", late("2025-05-31", 361, ClassDoubtful, true), "classification"},
		{"default while performing", late("2025-05-31", 30, ClassSpecialMention, true), "defaulted"},
		{"loss without default", late("2025-05-31", 400, ClassLoss, false), "classification"},
		{"write-off without loss", StatusReport{AsOf: "2025-05-31", DaysPastDue: 100, OverduePrincipal: dec("9"), Class: ClassSubstandard, Defaulted: true, WrittenOff: true}, "written_off"},
		{"settled with arrears", StatusReport{AsOf: "2025-05-31", DaysPastDue: 3, OverduePrincipal: dec("9"), Class: ClassNormal, Settled: true}, "settled"},
		{"settled and written off", StatusReport{AsOf: "2025-05-31", DaysPastDue: 400, OverduePrincipal: dec("9"), Class: ClassLoss, Defaulted: true, WrittenOff: true, Settled: true}, "settled"},
		{"settled special mention", StatusReport{AsOf: "2025-05-31", Class: ClassSpecialMention, Settled: true}, "settled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireInvalidField(t, tc.r.Check(), tc.field)
		})
	}
}

func TestParseOverdue(t *testing.T) {
	for in, want := range map[string]string{"": "0", "0": "0", "12.5": "12.5", "100000000": "100000000"} {
		d, err := ParseOverdue("overdue_principal", in)
		require.NoError(t, err, in)
		assert.Equal(t, want, d.String())
	}
	for _, bad := range []string{"-1", "1.001", "1e3", "abc", "100000000.01", " 5"} {
		_, err := ParseOverdue("overdue_interest", bad)
		requireInvalidField(t, err, "overdue_interest")
	}
}

func TestTransitions(t *testing.T) {
	d := household.Date("2025-06-30")
	for _, tc := range []struct {
		name       string
		prev, next StatusReport
		drawn      bool
		reason     string // "" allowed
	}{
		{"downgrade", current(d), late(d, 95, ClassSubstandard, true), false, ""},
		{"downgrade straight to loss", late(d, 30, ClassSpecialMention, false), late(d, 400, ClassLoss, true), false, ""},
		{"upgrade to normal, repaid", late(d, 30, ClassSpecialMention, false), current(d), false, ""},
		{"upgrade to normal, still late", late(d, 30, ClassSpecialMention, false), late(d, 3, ClassNormal, false), false, ReasonClassTransition},
		{"out of non-performing, repaid", late(d, 95, ClassSubstandard, false), StatusReport{AsOf: d, Class: ClassSpecialMention}, false, ""},
		{"out of non-performing, still late", late(d, 95, ClassSubstandard, false), late(d, 20, ClassSpecialMention, false), false, ReasonClassTransition},
		{"within non-performing", late(d, 300, ClassDoubtful, true), late(d, 100, ClassSubstandard, true), false, ""},
		{"out of loss", late(d, 400, ClassLoss, true), late(d, 300, ClassDoubtful, true), false, ReasonClassTransition},
		{"loss stays loss", late(d, 400, ClassLoss, true), late(d, 430, ClassLoss, true), false, ""},
		{"default cured, repaid", late(d, 95, ClassSubstandard, true), StatusReport{AsOf: d, Class: ClassSubstandard}, false, ""},
		{"default cured, still late", late(d, 95, ClassSubstandard, true), late(d, 95, ClassSubstandard, false), false, ReasonDefaultCure},
		{"settled from loss", late(d, 400, ClassLoss, true), StatusReport{AsOf: d, Class: ClassNormal, Settled: true}, false, ""},
		{"after a write-off", StatusReport{AsOf: d, DaysPastDue: 400, OverduePrincipal: dec("1"), Class: ClassLoss, Defaulted: true, WrittenOff: true},
			StatusReport{AsOf: d, Class: ClassNormal, Settled: true}, true, ReasonStatusFinal},
		{"after settlement", StatusReport{AsOf: d, Class: ClassNormal, Settled: true}, current(d), false, ReasonStatusFinal},
		{"a new loan after settlement", StatusReport{AsOf: d, Class: ClassNormal, Settled: true}, late(d, 10, ClassSpecialMention, false), true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.prev.Check(), "prev")
			require.NoError(t, tc.next.Check(), "next")
			err := CheckTransition(&tc.prev, &tc.next, tc.drawn)
			if tc.reason == "" {
				require.NoError(t, err)
				return
			}
			requireFault(t, err, fault.FailedPrecondition, tc.reason)
		})
	}
	n := late(d, 400, ClassLoss, true)
	assert.NoError(t, CheckTransition(nil, &n, false), "any consistent first report")
}

func TestCheckDate(t *testing.T) {
	at := func(asOf household.Date) *StatusReport { r := current(asOf); return &r }
	assert.NoError(t, CheckDate(at("2025-06-10"), "2025-06-10", "2025-01-05", "2025-05-31"))
	assert.NoError(t, CheckDate(at("2025-01-05"), "2025-06-10", "2025-01-05", ""))
	assert.NoError(t, CheckDate(at("2025-05-31"), "2025-06-10", "2025-01-05", "2025-05-31"), "a second report on a day")
	requireInvalidField(t, CheckDate(at("2025-06-11"), "2025-06-10", "2025-01-05", ""), "as_of")
	requireInvalidField(t, CheckDate(at("2025-01-04"), "2025-06-10", "2025-01-05", ""), "as_of")
	requireFault(t, CheckDate(at("2025-05-30"), "2025-06-10", "2025-01-05", "2025-05-31"), fault.FailedPrecondition, ReasonStatusOutOfOrder)
	// 2025-01-05 to 2025-04-05 is 90 days: a loan on the line can be 90
	// days past due then, not 91.
	l := late("2025-04-05", 90, ClassSpecialMention, false)
	assert.NoError(t, CheckDate(&l, "2025-06-10", "2025-01-05", ""))
	l = late("2025-04-05", 91, ClassSubstandard, false)
	requireInvalidField(t, CheckDate(&l, "2025-06-10", "2025-01-05", ""), "days_past_due")
}

func TestRecord(t *testing.T) {
	on := household.Date("2025-06-15")
	none := Record(nil, on)
	assert.Equal(t, rules.RepaymentInput{}, none, "no reports: a clean zero record")

	reports := []LineStatus{
		// Line a: 95 days late as of 2025-03-31 (so late since 2024-12-27:
		// December to March), then repaid.
		{"a", late("2025-03-31", 95, ClassSubstandard, true)},
		{"a", current("2025-04-30")},
		// Line b, at another bank: 20 days late in May 2025, then the same
		// day reported again, classified worse.
		{"b", late("2025-05-31", 20, ClassSpecialMention, false)},
		{"b", late("2025-05-31", 20, ClassSubstandard, false)},
		// Older than 24 months, and a report after the day: both ignored.
		{"c", late("2023-06-15", 200, ClassDoubtful, true)},
		{"c", late("2025-06-20", 400, ClassLoss, true)},
	}
	r := Record(reports, on)
	assert.Equal(t, 95, r.OverdueDaysMax24m)
	assert.Equal(t, 95, r.OverdueDaysMax12m)
	// Dec 2024, Jan, Feb, Mar 2025 (line a) and May 2025 (line b).
	assert.Equal(t, 5, r.OverdueCount24m)
	assert.Equal(t, 5, r.OverdueCount12m)
	assert.True(t, r.Defaulted24m)
	// a's latest is 正常, b's is the later report of its day (次级), c's
	// latest on the day is the 2023 one (可疑): the worst is 可疑.
	assert.Equal(t, "doubtful", r.Classification)

	// A year later the 2025 arrears have left the 12-month window, and
	// months of a spell before the window do not count.
	later := Record(reports[:4], "2026-04-15")
	assert.Equal(t, 20, later.OverdueDaysMax12m)
	assert.Equal(t, 1, later.OverdueCount12m, "May 2025 only")
	assert.Equal(t, 95, later.OverdueDaysMax24m)
	assert.Equal(t, 5, later.OverdueCount24m)
	assert.Equal(t, "substandard", later.Classification)

	// A long spell reported once counts every month it spans in the
	// window, and no more than the window holds.
	long := Record([]LineStatus{{"a", late("2025-06-15", 1000, ClassLoss, true)}}, on)
	assert.Equal(t, 13, long.OverdueCount12m, "June 2024 to June 2025")
	assert.Equal(t, 25, long.OverdueCount24m)
	assert.Equal(t, "loss", long.Classification)
}
