package points

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func award(points, annualCap string) Item {
	it := Item{
		Code: "ZZ-MS-01", Domain: SelfGovernance, Area: "minsheng", Points: d(points), Unit: "次",
		Review: true, Evidence: []EvidenceKind{Witness}, ValidityMonths: 24, ForCredit: true,
	}
	if annualCap != "" {
		it.AnnualCap = d(annualCap)
	}
	return it
}

func TestPostCaps(t *testing.T) {
	tests := []struct {
		name                     string
		item                     Item
		quantity                 int32
		posted                   string
		wantKind                 Kind
		wantReq, wantPts, wantCp string
	}{
		{"no cap", award("2", ""), 7, "40", Award, "14", "14", "0"},
		{"under the cap", award("2", "10"), 3, "0", Award, "6", "6", "0"},
		{"exactly reaching the cap", award("2", "10"), 2, "6", Award, "4", "4", "0"},
		{"partially capped", award("2", "10"), 3, "6", Award, "6", "4", "2"},
		{"fully capped", award("2", "10"), 3, "10", Award, "6", "0", "6"},
		{"cap lowered below what was posted", award("2", "10"), 1, "12", Award, "2", "0", "2"},
		{"decimal points partially capped", award("0.5", "24"), 3, "23", Award, "1.5", "1", "0.5"},
		{"deduction under the cap", award("-5", "30"), 2, "-10", Deduction, "-10", "-10", "0"},
		{"deduction partially capped", award("-5", "12"), 1, "-10", Deduction, "-5", "-2", "3"},
		{"deduction fully capped", award("-20", "40"), 1, "-40", Deduction, "-20", "0", "20"},
		{"deduction without cap", award("-20", ""), 3, "-100", Deduction, "-60", "-60", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Post(tt.item, tt.quantity, "2024-03-01", "2024-03-09", d(tt.posted))
			require.NoError(t, err)
			assert.Equal(t, tt.wantKind, e.Kind)
			assert.Equal(t, tt.wantReq, e.Requested.String(), "requested")
			assert.Equal(t, tt.wantPts, e.Points.String(), "points")
			assert.Equal(t, tt.wantCp, e.Capped.String(), "capped")
			assert.Equal(t, tt.quantity, e.Quantity)
			// the invariant the cap promises
			if tt.item.HasCap() {
				sum := d(tt.posted).Add(e.Points).Abs()
				assert.True(t, sum.LessThanOrEqual(tt.item.AnnualCap) || e.Points.IsZero(), "|sum| %s exceeds cap", sum)
			}
			assert.NoError(t, e.Validate())
		})
	}
}

func TestPostCopiesItemAndDates(t *testing.T) {
	it := award("2", "10")
	it.ForCredit = false
	it.Domain, it.Area, it.Code = RuleOfLaw, "pingan", "FZ-PA-11"
	e, err := Post(it, 1, "2024-01-15", "2024-01-31", decimal.Zero)
	require.NoError(t, err)
	assert.Equal(t, "FZ-PA-11", e.ItemCode)
	assert.Equal(t, RuleOfLaw, e.Domain)
	assert.Equal(t, "pingan", e.Area)
	assert.False(t, e.ForCredit)
	assert.Equal(t, household.Date("2024-01-15"), e.OccurredOn)
	assert.Equal(t, household.Date("2024-01-31"), e.EffectiveOn)
	assert.Equal(t, household.Date("2026-01-31"), e.ValidUntil, "24 months")
	assert.Empty(t, e.ID, "the caller assigns ids")

	it.ValidityMonths = 1
	e, err = Post(it, 1, "2024-01-15", "2024-01-31", decimal.Zero)
	require.NoError(t, err)
	assert.Equal(t, household.Date("2024-02-29"), e.ValidUntil, "clamped to the end of February")
}

func TestPostErrors(t *testing.T) {
	tests := []struct {
		name       string
		item       Item
		quantity   int32
		occ, eff   household.Date
		posted     string
		wantKind   fault.Kind
		wantReason string
		wantField  string
		wantMsg    string
	}{
		{"quantity 0", award("2", "10"), 0, "2024-03-01", "2024-03-08", "0", fault.Invalid, "", "quantity", "must be at least 1, got 0"},
		{"negative quantity", award("2", "10"), -3, "2024-03-01", "2024-03-08", "0", fault.Invalid, "", "quantity", "must be at least 1, got -3"},
		{"one submission beyond the cap", award("2", "10"), 6, "2024-03-01", "2024-03-08", "0", fault.Invalid, "", "quantity", "6 × 2 = 12 points is more than ZZ-MS-01's annual cap of 10"},
		{"one deduction beyond the cap", award("-20", "40"), 3, "2024-03-01", "2024-03-08", "0", fault.Invalid, "", "quantity", "3 × 20 = 60 points is more than ZZ-MS-01's annual cap of 40"},
		{"no cap, quantity beyond the bound", award("1", ""), MaxQuantity + 1, "2024-03-01", "2024-03-08", "0", fault.Invalid, "", "quantity", "must be at most 1000"},
		{"bad occurred date", award("2", "10"), 1, "2024-02-30", "2024-03-08", "0", fault.Invalid, "", "occurred_on", "not a date"},
		{"missing effective date", award("2", "10"), 1, "2024-03-01", "", "0", fault.Invalid, "", "effective_on", "required"},
		{"effective before occurred", award("2", "10"), 1, "2024-03-08", "2024-03-01", "0", fault.Invalid, "", "effective_on", "2024-03-01 is before the act's date 2024-03-08"},
		{"no item", Item{}, 1, "2024-03-01", "2024-03-08", "0", fault.Invalid, "ITEM_INVALID", "", ""},
		{"posted sum of the wrong sign", award("2", "10"), 1, "2024-03-01", "2024-03-08", "-4", fault.FailedPrecondition, "POSTED_SIGN_MISMATCH", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Post(tt.item, tt.quantity, tt.occ, tt.eff, d(tt.posted))
			require.Error(t, err)
			assert.Equal(t, tt.wantKind, fault.KindOf(err))
			var f *fault.Error
			require.ErrorAs(t, err, &f)
			if tt.wantReason != "" {
				assert.Equal(t, tt.wantReason, f.Reason)
			}
			if tt.wantField != "" {
				require.NotEmpty(t, f.Violations)
				assert.Equal(t, tt.wantField, f.Violations[0].Field)
				assert.Contains(t, f.Violations[0].Description, tt.wantMsg)
			}
		})
	}
}

func TestCheckQuantity(t *testing.T) {
	assert.NoError(t, CheckQuantity(award("2", "10"), 5))
	assert.Error(t, CheckQuantity(award("2", "10"), 6))
	assert.Error(t, CheckQuantity(award("2", "10"), 0))
	assert.NoError(t, CheckQuantity(award("2", ""), MaxQuantity))
}

// The cap year is the Asia/Shanghai calendar year of the act: 16:30 UTC on
// 31 December is already 1 January in Shanghai.
func TestPostCapYearBoundary(t *testing.T) {
	it := award("2", "10")
	var ledger []Entry
	e, err := Post(it, 5, "2024-12-30", "2025-01-06", decimal.Zero)
	require.NoError(t, err)
	e.ID = "e1"
	ledger = append(ledger, e)

	tests := []struct {
		name    string
		now     time.Time
		wantOcc household.Date
		wantPts string
	}{
		{"still 2024 in Shanghai: capped", time.Date(2024, 12, 31, 15, 59, 0, 0, time.UTC), "2024-12-31", "0"},
		{"already 2025 in Shanghai: fresh cap", time.Date(2024, 12, 31, 16, 30, 0, 0, time.UTC), "2025-01-01", "4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			occ := household.Today(tt.now)
			require.Equal(t, tt.wantOcc, occ)
			posted := PostedInYear(ledger, it.Code, Year(occ))
			e, err := Post(it, 2, occ, AddDays(occ, 7), posted)
			require.NoError(t, err)
			assert.Equal(t, tt.wantPts, e.Points.String())
		})
	}
}

func TestPostedInYear(t *testing.T) {
	entries := []Entry{
		{ID: "a", ItemCode: "X", Kind: Award, Points: d("4"), OccurredOn: "2024-12-31", EffectiveOn: "2025-01-07"},
		{ID: "b", ItemCode: "X", Kind: Award, Points: d("2"), OccurredOn: "2025-01-01", EffectiveOn: "2025-01-08"},
		{ID: "c", ItemCode: "X", Kind: Reversal, Points: d("-2"), OccurredOn: "2025-01-01", EffectiveOn: "2025-02-01", Reverses: "b"},
		{ID: "d", ItemCode: "X", Kind: Award, Points: d("3"), OccurredOn: "2025-06-01", EffectiveOn: "2025-06-08"},
		{ID: "e", ItemCode: "Y", Kind: Award, Points: d("9"), OccurredOn: "2025-06-01", EffectiveOn: "2025-06-08"},
		{ID: "f", Kind: Redemption, Points: d("-5"), OccurredOn: "2025-06-01", EffectiveOn: "2025-06-01"},
	}
	assert.Equal(t, "4", PostedInYear(entries, "X", 2024).String())
	assert.Equal(t, "3", PostedInYear(entries, "X", 2025).String(), "the reversal frees its room")
	assert.Equal(t, "9", PostedInYear(entries, "Y", 2025).String())
	assert.Equal(t, "0", PostedInYear(entries, "X", 2023).String())
}

func TestReverse(t *testing.T) {
	orig, err := Post(award("-5", "30"), 2, "2024-03-01", "2024-03-08", decimal.Zero)
	require.NoError(t, err)
	orig.ID, orig.Household, orig.EvidenceID = "e1", "h1", "ev1"

	r, err := Reverse(orig, "2024-05-01")
	require.NoError(t, err)
	assert.Equal(t, Reversal, r.Kind)
	assert.Equal(t, "10", r.Points.String())
	assert.Equal(t, "10", r.Requested.String())
	assert.True(t, r.Capped.IsZero())
	assert.Equal(t, "e1", r.Reverses)
	assert.Equal(t, Deduction, r.ReversedKind)
	assert.Equal(t, "h1", r.Household)
	assert.Equal(t, "ev1", r.EvidenceID)
	assert.Equal(t, orig.ItemCode, r.ItemCode)
	assert.Equal(t, orig.Domain, r.Domain)
	assert.Equal(t, orig.Area, r.Area)
	assert.Equal(t, orig.ForCredit, r.ForCredit)
	assert.Equal(t, orig.OccurredOn, r.OccurredOn, "same cap year")
	assert.Equal(t, household.Date("2024-05-01"), r.EffectiveOn)
	assert.Equal(t, orig.ValidUntil, r.ValidUntil, "cancels in every window")
	assert.Empty(t, r.ID)
	r.ID = "e2"
	assert.NoError(t, r.Validate())
	assert.Equal(t, "0", PostedInYear([]Entry{orig, r}, orig.ItemCode, 2024).String())

	early, err := Reverse(orig, "2024-03-05")
	require.NoError(t, err)
	assert.Equal(t, household.Date("2024-03-08"), early.EffectiveOn, "never before the original counts")

	red, err := NewRedemption(d("3"), "2024-06-01", 1)
	require.NoError(t, err)
	red.ID = "r1"
	rr, err := Reverse(red, "2024-06-02")
	require.NoError(t, err)
	assert.Equal(t, Redemption, rr.ReversedKind)
	assert.Equal(t, "3", rr.Points.String())

	tests := []struct {
		name  string
		e     Entry
		on    household.Date
		field string
	}{
		{"a reversal", r, "2024-06-01", "reverses"},
		{"no id", Entry{Kind: Award, Points: d("2")}, "2024-06-01", "reverses"},
		{"unknown kind", Entry{ID: "x", Kind: "bonus"}, "2024-06-01", "reverses"},
		{"bad date", orig, "2024-13-01", "on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Reverse(tt.e, tt.on)
			require.Error(t, err)
			var f *fault.Error
			require.ErrorAs(t, err, &f)
			assert.Equal(t, fault.Invalid, f.Kind)
			assert.Equal(t, tt.field, f.Violations[0].Field)
		})
	}
}

func TestNewRedemption(t *testing.T) {
	e, err := NewRedemption(d("12.5"), "2024-06-01", 1)
	require.NoError(t, err)
	assert.Equal(t, Redemption, e.Kind)
	assert.Equal(t, "-12.5", e.Points.String())
	assert.Equal(t, household.Date("2024-06-01"), e.EffectiveOn)
	assert.False(t, e.ForCredit)
	e.ID = "r"
	assert.NoError(t, e.Validate())

	for _, tt := range []struct {
		name, amount string
		on           household.Date
		msg          string
	}{
		{"zero", "0", "2024-06-01", "must be positive"},
		{"negative", "-1", "2024-06-01", "must be positive"},
		{"beyond precision", "1.25", "2024-06-01", "has 2 decimal places, catalogue precision is 1"},
		{"bad date", "1", "June 1", "not a date"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRedemption(d(tt.amount), tt.on, 1)
			require.Error(t, err)
			assert.Equal(t, fault.Invalid, fault.KindOf(err))
			var f *fault.Error
			require.ErrorAs(t, err, &f)
			assert.Contains(t, f.Violations[0].Description, tt.msg)
		})
	}
}

func TestEntryValidate(t *testing.T) {
	good, err := Post(award("2", "10"), 3, "2024-03-01", "2024-03-08", d("6"))
	require.NoError(t, err)
	tests := []struct {
		name  string
		edit  func(e *Entry)
		field string
	}{
		{"unknown kind", func(e *Entry) { e.Kind = "bonus" }, "kind"},
		{"capped does not add up", func(e *Entry) { e.Capped = d("1") }, "capped"},
		{"points beyond requested", func(e *Entry) { e.Points = d("7"); e.Capped = d("1") }, "points"},
		{"award with negative request", func(e *Entry) { e.Requested = d("-6"); e.Points = d("0"); e.Capped = d("6") }, "requested"},
		{"no validity", func(e *Entry) { e.ValidUntil = "" }, "valid_until"},
		{"valid until before effective", func(e *Entry) { e.ValidUntil = "2024-03-08" }, "valid_until"},
		{"effective before occurred", func(e *Entry) { e.EffectiveOn = "2024-02-01" }, "effective_on"},
		{"no item", func(e *Entry) { e.ItemCode = "" }, "item_code"},
		{"reversal without target", func(e *Entry) { e.Kind = Reversal; e.ReversedKind = Award }, "reverses"},
		{"redemption adding points", func(e *Entry) {
			*e = Entry{Kind: Redemption, Points: d("3"), OccurredOn: "2024-03-01", EffectiveOn: "2024-03-01"}
		}, "points"},
	}
	require.NoError(t, good.Validate())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := good
			tt.edit(&e)
			err := e.Validate()
			require.Error(t, err)
			var f *fault.Error
			require.ErrorAs(t, err, &f)
			fields := make([]string, len(f.Violations))
			for i, v := range f.Violations {
				fields[i] = v.Field
			}
			assert.Contains(t, fields, tt.field)
		})
	}
}

// ledger builds a household's entries for the balance tests.
type ledger struct {
	t       *testing.T
	entries []Entry
}

func (l *ledger) post(id string, it Item, qty int32, occ, eff household.Date) Entry {
	l.t.Helper()
	e, err := Post(it, qty, occ, eff, PostedInYear(l.entries, it.Code, Year(occ)))
	require.NoError(l.t, err)
	e.ID, e.Household = id, "h1"
	l.entries = append(l.entries, e)
	return e
}

func (l *ledger) reverse(id string, e Entry, on household.Date) Entry {
	l.t.Helper()
	r, err := Reverse(e, on)
	require.NoError(l.t, err)
	r.ID = id
	l.entries = append(l.entries, r)
	return r
}

func (l *ledger) redeem(id, amount string, on household.Date) Entry {
	l.t.Helper()
	r, err := NewRedemption(d(amount), on, 1)
	require.NoError(l.t, err)
	r.ID = id
	l.entries = append(l.entries, r)
	return r
}

func item(code string, domain Domain, area, points, annualCap string, months int, forCredit bool) Item {
	it := award(points, annualCap)
	it.Code, it.Domain, it.Area, it.ValidityMonths, it.ForCredit = code, domain, area, months, forCredit
	return it
}

var (
	council  = item("ZZ-MS-01", SelfGovernance, "minsheng", "2", "10", 24, true)
	littered = item("DZ-ML-05", Virtue, "meili", "-5", "30", 12, true)
	mediated = item("FZ-PA-02", RuleOfLaw, "pingan", "3", "15", 24, true)
	petition = item("FZ-PA-11", RuleOfLaw, "pingan", "-5", "20", 24, false)
)

func TestBalancesValidityWindow(t *testing.T) {
	l := &ledger{t: t}
	l.post("a", council, 3, "2024-03-01", "2024-03-08")  // +6, until 2026-03-08
	l.post("b", littered, 1, "2024-04-01", "2024-04-08") // -5, until 2025-04-08

	tests := []struct {
		asOf       household.Date
		wantCredit string
		wantEarned string
		wantIDs    []string
	}{
		{"2024-03-07", "100", "0", nil},                // before anything is effective
		{"2024-03-08", "106", "6", []string{"a"}},      // EffectiveOn is inclusive
		{"2024-04-08", "101", "1", []string{"a", "b"}}, //
		{"2025-04-07", "101", "1", []string{"a", "b"}}, // last day of b's window
		{"2025-04-08", "106", "1", []string{"a"}},      // ValidUntil is exclusive; history keeps b
		{"2026-03-07", "106", "1", []string{"a"}},      //
		{"2026-03-08", "100", "1", nil},                // everything expired
		{"", "100", "0", nil},                          // no date: nothing counts
	}
	for _, tt := range tests {
		t.Run(string(tt.asOf), func(t *testing.T) {
			b := Balances(d("100"), l.entries, tt.asOf)
			assert.Equal(t, tt.wantCredit, b.Credit.String(), "credit")
			assert.Equal(t, tt.wantEarned, b.Earned.String(), "earned")
			assert.Equal(t, tt.wantEarned, b.Redeemable.String(), "redeemable without redemptions")
			assert.Equal(t, tt.wantIDs, ids(b.Entries))
			assert.Equal(t, tt.asOf, b.AsOf)
		})
	}
}

func ids(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestBalancesReversal(t *testing.T) {
	l := &ledger{t: t}
	a := l.post("a", mediated, 2, "2024-03-01", "2024-03-08") // +6
	l.reverse("r", a, "2024-06-01")

	tests := []struct {
		asOf       household.Date
		wantCredit string
		wantIDs    []string
	}{
		{"2024-05-31", "106", []string{"a"}},
		{"2024-06-01", "100", []string{"a", "r"}}, // the reversal counts from its own EffectiveOn
		{"2026-03-07", "100", []string{"a", "r"}},
		{"2026-03-08", "100", nil}, // both expire together
	}
	for _, tt := range tests {
		t.Run(string(tt.asOf), func(t *testing.T) {
			b := Balances(d("100"), l.entries, tt.asOf)
			assert.Equal(t, tt.wantCredit, b.Credit.String())
			assert.Equal(t, tt.wantIDs, ids(b.Entries))
		})
	}
	b := Balances(d("100"), l.entries, "2027-01-01")
	assert.Equal(t, "0", b.Earned.String(), "reversed in the history too")
}

func TestBalancesNotForCredit(t *testing.T) {
	l := &ledger{t: t}
	l.post("a", council, 2, "2024-03-01", "2024-03-08")
	p := l.post("p", petition, 1, "2024-03-02", "2024-03-09")
	b := Balances(d("100"), l.entries, "2024-04-01")
	assert.Equal(t, "104", b.Credit.String())
	assert.Equal(t, "4", b.Redeemable.String())
	assert.Equal(t, "4", b.Earned.String())
	assert.Equal(t, "-5", b.NotForCredit.String())
	assert.Equal(t, []string{"a"}, ids(b.Entries))
	_, inDomain := b.ByDomain[RuleOfLaw]
	assert.False(t, inDomain, "not in the subtotals either")

	l.reverse("pr", p, "2024-05-01")
	b = Balances(d("100"), l.entries, "2024-06-01")
	assert.Equal(t, "0", b.NotForCredit.String())
	assert.Equal(t, "104", b.Credit.String())
}

func TestBalancesRedemption(t *testing.T) {
	l := &ledger{t: t}
	l.post("a", council, 5, "2024-03-01", "2024-03-08")  // +10
	l.post("m", mediated, 1, "2024-03-02", "2024-03-09") // +3
	before := Balances(d("100"), l.entries, "2024-04-01")
	red := l.redeem("r1", "8", "2024-04-01")
	after := Balances(d("100"), l.entries, "2024-04-01")

	assert.Equal(t, "113", after.Credit.String(), "spending never lowers credit")
	assert.Equal(t, before.Credit.String(), after.Credit.String())
	assert.Equal(t, before.ByDomain, after.ByDomain)
	assert.Equal(t, before.Entries, after.Entries)
	assert.Equal(t, "13", after.Earned.String())
	assert.Equal(t, "8", after.Redeemed.String())
	assert.Equal(t, "5", after.Redeemable.String())
	assert.Equal(t, "13", Balances(d("100"), l.entries, "2024-03-31").Redeemable.String(), "not yet spent the day before")

	l.reverse("r1x", red, "2024-04-02")
	b := Balances(d("100"), l.entries, "2024-04-02")
	assert.Equal(t, "0", b.Redeemed.String())
	assert.Equal(t, "13", b.Redeemable.String())
	assert.Equal(t, "113", b.Credit.String())

	// Validity does not apply to what may be spent: after expiry the
	// credit returns to base but the history stays redeemable.
	late := Balances(d("100"), l.entries, "2026-06-01")
	assert.Equal(t, "100", late.Credit.String())
	assert.Equal(t, "13", late.Redeemable.String())
}

func TestBalancesSubtotalsAndDeterminism(t *testing.T) {
	l := &ledger{t: t}
	l.post("a", council, 2, "2024-03-01", "2024-03-08")  // +4 self_governance/minsheng
	l.post("b", littered, 1, "2024-03-01", "2024-03-08") // -5 virtue/meili
	l.post("c", mediated, 1, "2024-03-03", "2024-03-10") // +3 rule_of_law/pingan
	l.post("d", council, 1, "2024-03-02", "2024-03-08")  // +2
	b := Balances(d("100"), l.entries, "2024-04-01")
	assert.Equal(t, "104", b.Credit.String())
	assert.Equal(t, map[Domain]string{SelfGovernance: "6", Virtue: "-5", RuleOfLaw: "3"}, strs(b.ByDomain))
	assert.Equal(t, map[string]string{"minsheng": "6", "meili": "-5", "pingan": "3"}, strs(b.ByArea))
	assert.Equal(t, []string{"a", "b", "d", "c"}, ids(b.Entries), "by effective date, then occurrence, then id")

	// Input order does not matter.
	rev := make([]Entry, len(l.entries))
	for i, e := range l.entries {
		rev[len(rev)-1-i] = e
	}
	assert.Equal(t, b, Balances(d("100"), rev, "2024-04-01"))
}

func strs[K comparable](m map[K]decimal.Decimal) map[K]string {
	out := map[K]string{}
	for k, v := range m {
		out[k] = v.String()
	}
	return out
}

func TestBalancesNegativeRedeemable(t *testing.T) {
	l := &ledger{t: t}
	l.post("w", item("DZ-XF-04", Virtue, "xiangfeng", "-20", "40", 36, true), 1, "2024-05-01", "2024-05-08")
	b := Balances(d("100"), l.entries, "2024-06-01")
	assert.Equal(t, "80", b.Credit.String())
	assert.Equal(t, "-20", b.Redeemable.String(), "below base: nothing to spend")
	assert.Error(t, b.CanRedeem(d("1")))
}

func TestCanRedeem(t *testing.T) {
	b := Balance{AsOf: "2024-06-01", Redeemable: d("12.5")}
	tests := []struct {
		amount     string
		wantKind   fault.Kind
		wantReason string
	}{
		{"12.5", 0, ""},
		{"1", 0, ""},
		{"12.6", fault.FailedPrecondition, "INSUFFICIENT_POINTS"},
		{"0", fault.Invalid, "INVALID_ARGUMENT"},
		{"-1", fault.Invalid, "INVALID_ARGUMENT"},
	}
	for _, tt := range tests {
		t.Run(tt.amount, func(t *testing.T) {
			err := b.CanRedeem(d(tt.amount))
			if tt.wantReason == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			var f *fault.Error
			require.ErrorAs(t, err, &f)
			assert.Equal(t, tt.wantKind, f.Kind)
			assert.Equal(t, tt.wantReason, f.Reason)
		})
	}
	err := b.CanRedeem(d("20"))
	assert.EqualError(t, err, "redeeming 20 would overdraw: 12.5 points redeemable as of 2024-06-01")
}

// Property: adding redemptions (and reversals of them) never changes
// credit, its subtotals or its entries, for any asOf; it lowers Redeemable
// by exactly the net amount redeemed by then.
func TestPropertyRedemptionsNeverTouchCredit(t *testing.T) {
	rng := rand.New(rand.NewPCG(20240601, 3))
	items := []Item{council, littered, mediated, petition,
		item("DZ-ML-01", Virtue, "meili", "0.5", "24", 12, true),
		item("DZ-XF-04", Virtue, "xiangfeng", "-20", "", 36, true)}
	start := civil("2023-01-01")
	day := func(n int) household.Date { return fromCivil(start.AddDate(0, 0, n)) }

	for round := 0; round < 200; round++ {
		l := &ledger{t: t}
		for i := 0; i < 1+rng.IntN(25); i++ {
			it := items[rng.IntN(len(items))]
			occ := day(rng.IntN(900))
			qty := int32(1 + rng.IntN(3))
			if it.HasCap() && it.Points.Mul(decimal.NewFromInt32(qty)).Abs().GreaterThan(it.AnnualCap) {
				qty = 1
			}
			e := l.post("e"+strconv.Itoa(i), it, qty, occ, AddDays(occ, rng.IntN(15)))
			if rng.IntN(5) == 0 {
				l.reverse("x"+strconv.Itoa(i), e, AddDays(e.EffectiveOn, rng.IntN(400)-30))
			}
		}
		earnedOnly := append([]Entry(nil), l.entries...)

		type red struct {
			on     household.Date
			amount decimal.Decimal
		}
		var reds []red
		for i := 0; i < rng.IntN(8); i++ {
			amount := decimal.New(int64(1+rng.IntN(200)), -1) // 0.1 .. 20.0
			r := l.redeem("r"+strconv.Itoa(i), amount.String(), day(rng.IntN(1200)))
			reds = append(reds, red{r.EffectiveOn, amount})
			if rng.IntN(4) == 0 {
				x := l.reverse("rx"+strconv.Itoa(i), r, AddDays(r.EffectiveOn, rng.IntN(60)))
				reds = append(reds, red{x.EffectiveOn, amount.Neg()})
			}
		}
		rng.Shuffle(len(l.entries), func(i, j int) { l.entries[i], l.entries[j] = l.entries[j], l.entries[i] })

		for k := 0; k < 40; k++ {
			asOf := day(rng.IntN(1600) - 100)
			without := Balances(d("100"), earnedOnly, asOf)
			with := Balances(d("100"), l.entries, asOf)
			require.True(t, without.Credit.Equal(with.Credit), "round %d as of %s: credit %s vs %s", round, asOf, without.Credit, with.Credit)
			require.Equal(t, strs(without.ByDomain), strs(with.ByDomain))
			require.Equal(t, strs(without.ByArea), strs(with.ByArea))
			require.Equal(t, ids(without.Entries), ids(with.Entries))
			require.True(t, without.NotForCredit.Equal(with.NotForCredit))

			redeemed := decimal.Zero
			for _, r := range reds {
				if !r.on.After(asOf) {
					redeemed = redeemed.Add(r.amount)
				}
			}
			require.True(t, with.Redeemable.Equal(without.Redeemable.Sub(redeemed)),
				"round %d as of %s: redeemable %s, expected %s − %s", round, asOf, with.Redeemable, without.Redeemable, redeemed)

			// Credit − base is the sum of the subtotals.
			sum := decimal.Zero
			for _, v := range with.ByDomain {
				sum = sum.Add(v)
			}
			require.True(t, with.Credit.Sub(d("100")).Equal(sum))
		}
	}
}
