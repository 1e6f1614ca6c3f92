package points

import (
	"cmp"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// Kind is the kind of a ledger entry.
type Kind string

// The ledger entry kinds.
const (
	// Award adds points for an item with positive points.
	Award Kind = "award"
	// Deduction removes points for an item with negative points.
	Deduction Kind = "deduction"
	// Reversal cancels an earlier entry (a revoked award or deduction, or
	// a redemption entered in error). The ledger is append-only: nothing
	// is ever edited or deleted, corrections are reversals.
	Reversal Kind = "reversal"
	// Redemption spends points at the 兑换超市 (exchange shop). It lowers
	// the redeemable balance only, never credit points.
	Redemption Kind = "redemption"
)

// Valid reports whether k is one of the four kinds.
func (k Kind) Valid() bool {
	switch k {
	case Award, Deduction, Reversal, Redemption:
		return true
	}
	return false
}

// MaxQuantity bounds the quantity of one submission of an item without an
// annual cap (an item with a cap is bounded by it).
const MaxQuantity = 1000

// Entry is one ledger entry of one household. Points are signed: awards
// and reversed deductions positive, deductions, redemptions and reversed
// awards negative.
type Entry struct {
	// ID, Household and EvidenceID are assigned by the caller (Post,
	// Reverse and NewRedemption leave ID and Household empty; Reverse
	// copies Household and EvidenceID from the original).
	ID         string
	Household  string
	EvidenceID string
	// ItemCode, Domain and Area are the item's (empty for redemptions).
	ItemCode string
	Domain   Domain
	Area     string
	Kind     Kind
	// Quantity is the number of units submitted (0 for reversals and
	// redemptions).
	Quantity int32
	// Requested is what was asked for: quantity × item points, signed.
	Requested decimal.Decimal
	// Points is what was posted after the annual cap, signed; 0 if the
	// cap was already reached.
	Points decimal.Decimal
	// Capped is |Requested − Points|: the excess the cap held back,
	// recorded rather than silently dropped.
	Capped decimal.Decimal
	// OccurredOn is when the act happened; its year is the cap year. A
	// reversal keeps the original's, so that it frees the same year's
	// cap room.
	OccurredOn household.Date
	// EffectiveOn is when the entry starts to count (the end of 公示 for
	// an award or deduction).
	EffectiveOn household.Date
	// ValidUntil is the first day the entry no longer counts toward
	// credit: EffectiveOn + the item's validity months. A reversal keeps
	// the original's. Empty for redemptions.
	ValidUntil household.Date
	// ForCredit is the item's flag; false entries never count toward
	// credit or redeemable points.
	ForCredit bool
	// Reverses is, for a reversal, the ID of the entry it cancels, and
	// ReversedKind that entry's kind.
	Reverses     string
	ReversedKind Kind
}

// CheckQuantity checks the quantity of a submission of item before anything
// is recorded: at least 1, and no single submission may ask for more than
// the item's annual cap (such a quantity is a typo, not an act to cap) or,
// for an item without a cap, more than MaxQuantity units. Reaching the cap
// over several submissions is not an error: Post caps the excess.
func CheckQuantity(item Item, quantity int32) error {
	var v fault.Violations
	checkQuantity(&v, item, quantity)
	return v.Err()
}

func checkQuantity(v *fault.Violations, item Item, quantity int32) {
	switch {
	case quantity < 1:
		v.Add("quantity", "must be at least 1, got %d", quantity)
	case item.HasCap():
		asked := item.Points.Mul(decimal.NewFromInt32(quantity)).Abs()
		if asked.GreaterThan(item.AnnualCap) {
			v.Add("quantity", "%d × %s = %s points is more than %s's annual cap of %s", quantity, item.Points.Abs(), asked, item.Code, item.AnnualCap)
		}
	case quantity > MaxQuantity:
		v.Add("quantity", "must be at most %d, got %d", MaxQuantity, quantity)
	}
}

// Post computes the entry for quantity units of item that happened on
// occurredOn and count from effectiveOn (usually the end of 公示, see
// Catalogue.EffectiveOn).
//
// postedThisYear is the signed sum of Points already posted for this item
// and household in occurredOn's calendar year (Asia/Shanghai), reversals
// included and whether or not yet effective; PostedInYear computes it from
// the household's entries. The annual cap bounds the magnitude of that sum,
// deductions alike: Post posts what fits under the cap and records the
// rest in Capped, so a fully capped submission still yields an entry with
// Points 0. A cap lowered below what was already posted takes nothing back.
//
// Errors are faults: Invalid for a bad item, quantity (see CheckQuantity)
// or dates (effectiveOn before occurredOn); FailedPrecondition when
// postedThisYear has the opposite sign to the item's points, which only an
// inconsistent ledger can produce. The caller assigns ID, Household and
// EvidenceID.
func Post(item Item, quantity int32, occurredOn, effectiveOn household.Date, postedThisYear decimal.Decimal) (Entry, error) {
	if item.Code == "" || item.Points.IsZero() || item.ValidityMonths < 1 {
		return Entry{}, fault.New(fault.Invalid, "ITEM_INVALID", "item %q is not a valid catalogue item", item.Code)
	}
	var v fault.Violations
	checkQuantity(&v, item, quantity)
	okOcc := checkDate(&v, "occurred_on", occurredOn)
	okEff := checkDate(&v, "effective_on", effectiveOn)
	if okOcc && okEff && occurredOn.After(effectiveOn) {
		v.Add("effective_on", "%s is before the act's date %s", effectiveOn, occurredOn)
	}
	if err := v.Err(); err != nil {
		return Entry{}, err
	}

	sign := decimal.NewFromInt(int64(item.Points.Sign()))
	used := postedThisYear.Mul(sign) // magnitude in the item's direction
	if used.Sign() < 0 {
		return Entry{}, fault.New(fault.FailedPrecondition, "POSTED_SIGN_MISMATCH",
			"%s already posted for %s in %d has the opposite sign to the item's %s points", postedThisYear, item.Code, Year(occurredOn), item.Points)
	}
	requested := item.Points.Mul(decimal.NewFromInt32(quantity))
	posted := requested
	if item.HasCap() {
		room := item.AnnualCap.Sub(used)
		if room.Sign() < 0 {
			room = decimal.Zero
		}
		if requested.Abs().GreaterThan(room) {
			posted = room.Mul(sign)
		}
	}
	kind := Award
	if item.Points.Sign() < 0 {
		kind = Deduction
	}
	return Entry{
		ItemCode:    item.Code,
		Domain:      item.Domain,
		Area:        item.Area,
		Kind:        kind,
		Quantity:    quantity,
		Requested:   requested,
		Points:      posted,
		Capped:      requested.Sub(posted).Abs(),
		OccurredOn:  occurredOn,
		EffectiveOn: effectiveOn,
		ValidUntil:  AddMonths(effectiveOn, item.ValidityMonths),
		ForCredit:   item.ForCredit,
	}, nil
}

// PostedInYear returns the signed sum of Points of the award, deduction and
// reversal entries of itemCode whose OccurredOn falls in year: the
// postedThisYear argument of Post. entries are one household's, effective
// or not.
func PostedInYear(entries []Entry, itemCode string, year int) decimal.Decimal {
	sum := decimal.Zero
	for _, e := range entries {
		if e.ItemCode != itemCode || e.Kind == Redemption || !e.Kind.Valid() || len(e.OccurredOn) < 4 {
			continue
		}
		if Year(e.OccurredOn) == year {
			sum = sum.Add(e.Points)
		}
	}
	return sum
}

// Reverse returns the reversal of e, effective on `on` or, if that is
// earlier, on e's own EffectiveOn (a reversal never counts before what it
// cancels). It negates e's points and keeps e's item, OccurredOn (so the cap
// year's room is freed), ValidUntil (so that in every window the two cancel
// exactly) and ForCredit. Reversals themselves cannot be reversed: post the
// entry again instead. The caller assigns the reversal's ID and must refuse
// to reverse an entry twice, which needs the ledger this function does not
// see.
func Reverse(e Entry, on household.Date) (Entry, error) {
	var v fault.Violations
	switch {
	case e.ID == "":
		v.Add("reverses", "the entry to reverse has no id")
	case e.Kind == Reversal:
		v.Add("reverses", "entry %s is itself a reversal; post the original again instead", e.ID)
	case !e.Kind.Valid():
		v.Add("reverses", "entry %s has unknown kind %q", e.ID, e.Kind)
	}
	checkDate(&v, "on", on)
	if err := v.Err(); err != nil {
		return Entry{}, err
	}
	eff := on
	if e.EffectiveOn.After(on) {
		eff = e.EffectiveOn
	}
	return Entry{
		Household:    e.Household,
		EvidenceID:   e.EvidenceID,
		ItemCode:     e.ItemCode,
		Domain:       e.Domain,
		Area:         e.Area,
		Kind:         Reversal,
		Requested:    e.Points.Neg(),
		Points:       e.Points.Neg(),
		Capped:       decimal.Zero,
		OccurredOn:   e.OccurredOn,
		EffectiveOn:  eff,
		ValidUntil:   e.ValidUntil,
		ForCredit:    e.ForCredit,
		Reverses:     e.ID,
		ReversedKind: e.Kind,
	}, nil
}

// NewRedemption returns a redemption of amount points (positive, at most
// precision decimal places) on `on`. Check Balance.CanRedeem first, as of
// the same day and inside the transaction that appends the entry.
func NewRedemption(amount decimal.Decimal, on household.Date, precision int32) (Entry, error) {
	var v fault.Violations
	switch {
	case amount.Sign() <= 0:
		v.Add("amount", "must be positive, got %s", amount)
	case decimalPlaces(amount) > precision:
		v.Add("amount", "has %d decimal places, catalogue precision is %d", decimalPlaces(amount), precision)
	}
	checkDate(&v, "on", on)
	if err := v.Err(); err != nil {
		return Entry{}, err
	}
	return Entry{
		Kind:        Redemption,
		Requested:   amount.Neg(),
		Points:      amount.Neg(),
		Capped:      decimal.Zero,
		OccurredOn:  on,
		EffectiveOn: on,
	}, nil
}

// Validate checks an entry's internal consistency: what a store should
// check before appending one. Balances does not call it; an entry of an
// unknown kind counts nowhere there.
func (e Entry) Validate() error {
	var v fault.Violations
	if !e.Kind.Valid() {
		v.Add("kind", "unknown kind %q", e.Kind)
		return v.Err()
	}
	okOcc := checkDate(&v, "occurred_on", e.OccurredOn)
	okEff := checkDate(&v, "effective_on", e.EffectiveOn)
	if okOcc && okEff && e.OccurredOn.After(e.EffectiveOn) {
		v.Add("effective_on", "%s is before occurred_on %s", e.EffectiveOn, e.OccurredOn)
	}
	switch e.Kind {
	case Award, Deduction:
		sign := 1
		if e.Kind == Deduction {
			sign = -1
		}
		if e.ItemCode == "" {
			v.Add("item_code", "required")
		}
		if !e.Domain.Valid() {
			v.Add("domain", "unknown domain %q", e.Domain)
		}
		if e.Quantity < 1 {
			v.Add("quantity", "must be at least 1, got %d", e.Quantity)
		}
		if e.Requested.Sign() != sign {
			v.Add("requested", "%s has the wrong sign for a %s", e.Requested, e.Kind)
		}
		if e.Points.Sign() == -sign || e.Points.Abs().GreaterThan(e.Requested.Abs()) {
			v.Add("points", "%s is not within 0..%s", e.Points, e.Requested)
		}
		if !e.Capped.Equal(e.Requested.Sub(e.Points).Abs()) {
			v.Add("capped", "%s is not |requested − points| = %s", e.Capped, e.Requested.Sub(e.Points).Abs())
		}
		if checkDate(&v, "valid_until", e.ValidUntil) && okEff && !e.ValidUntil.After(e.EffectiveOn) {
			v.Add("valid_until", "%s is not after effective_on %s", e.ValidUntil, e.EffectiveOn)
		}
	case Reversal:
		if e.Reverses == "" {
			v.Add("reverses", "required")
		}
		switch e.ReversedKind {
		case Award, Deduction, Redemption:
		default:
			v.Add("reversed_kind", "must be award, deduction or redemption, got %q", e.ReversedKind)
		}
		if e.ReversedKind != Redemption {
			checkDate(&v, "valid_until", e.ValidUntil)
		}
	case Redemption:
		if e.Points.Sign() >= 0 {
			v.Add("points", "a redemption spends points: must be negative, got %s", e.Points)
		}
		if e.ItemCode != "" || e.ForCredit {
			v.Add("item_code", "a redemption has no item and never counts for credit")
		}
	}
	return v.Err()
}

// Balance is a household's points as of one date.
type Balance struct {
	AsOf household.Date
	// Base is the catalogue's base points (the starting score).
	Base decimal.Decimal
	// Credit is what credit policy reads: Base plus the Points of every
	// for-credit award, deduction and reversal with
	// EffectiveOn <= AsOf < ValidUntil. Redemptions never touch it.
	Credit decimal.Decimal
	// ByDomain and ByArea split Credit − Base.
	ByDomain map[Domain]decimal.Decimal
	ByArea   map[string]decimal.Decimal
	// Earned is the net of every for-credit award, deduction and reversal
	// effective by AsOf, expired or not: the household's points history
	// above (or below) Base.
	Earned decimal.Decimal
	// Redeemed is what was spent by AsOf, net of reversed redemptions.
	Redeemed decimal.Decimal
	// Redeemable is Earned − Redeemed: what the exchange shop may still
	// pay out. It is negative when deductions outweigh awards.
	Redeemable decimal.Decimal
	// NotForCredit is the net of effective entries of not-for-credit items
	// (e.g. 上访). Shown to the village, it is in neither Credit nor
	// Redeemable.
	NotForCredit decimal.Decimal
	// Entries are those counted in Credit, by EffectiveOn, then OccurredOn,
	// then ID: the explanation of the credit figure.
	Entries []Entry
}

// Balances computes a household's balances as of asOf (a valid date; an
// empty asOf counts nothing) from its entries (in any order; entries of
// other households must not be included). It reads
// no clock: the same entries and asOf give the same answer forever, which
// decision replay needs.
//
// Credit points are base + effective for-credit entries within their
// validity window (EffectiveOn inclusive, ValidUntil exclusive), after caps;
// a reversal counts from its own EffectiveOn and, sharing the original's
// ValidUntil, cancels it from then on.
//
// Redeemable points are the for-credit points history net of redemptions,
// Earned − Redeemed, deliberately different from Credit − Base in two ways:
//
//   - The base is not redeemable. It is a starting score, not something
//     the household earned; public reports on the scheme say points above
//     100 (the base) can be exchanged for goods or services.
//   - Validity does not apply. Validity is about how long conduct should
//     weigh on credit; if spent points could expire, a household that
//     earned 20 and spent 20 would drop to −20 redeemable years later
//     without having done anything, and keeping the two balances apart is
//     exactly so that spending and credit never affect each other.
//
// Entries of not-for-credit items count in neither balance: their flag
// promises they never feed a credit decision, and a redeemable balance is a
// figure a bank policy could read. They are totalled in NotForCredit for the
// village's own use.
func Balances(base decimal.Decimal, entries []Entry, asOf household.Date) Balance {
	var credit, earned, redeemed, notForCredit total
	credit.add(base)
	byDomain := map[Domain]*total{}
	byArea := map[string]*total{}
	counted := make([]int, 0, len(entries))
	for i := range entries {
		e := &entries[i]
		if e.EffectiveOn == "" || asOf == "" || e.EffectiveOn.After(asOf) {
			continue
		}
		switch {
		case e.Kind == Redemption:
			redeemed.sub(e.Points)
		case e.Kind == Reversal && e.ReversedKind == Redemption:
			redeemed.sub(e.Points)
		case e.Kind == Award || e.Kind == Deduction || e.Kind == Reversal:
			if !e.ForCredit {
				notForCredit.add(e.Points)
				continue
			}
			earned.add(e.Points)
			if e.ValidUntil == "" || !e.ValidUntil.After(asOf) {
				continue // expired, or no window: never counts
			}
			credit.add(e.Points)
			subtotal(byDomain, e.Domain).add(e.Points)
			subtotal(byArea, e.Area).add(e.Points)
			counted = append(counted, i)
		}
	}
	b := Balance{
		AsOf:         asOf,
		Base:         base,
		Credit:       credit.value(),
		ByDomain:     make(map[Domain]decimal.Decimal, len(byDomain)),
		ByArea:       make(map[string]decimal.Decimal, len(byArea)),
		Earned:       earned.value(),
		Redeemed:     redeemed.value(),
		NotForCredit: notForCredit.value(),
	}
	if len(counted) == 0 {
		b.Credit = base // as it is, exponent included, as before any sum
	}
	for d, t := range byDomain {
		b.ByDomain[d] = t.value()
	}
	for a, t := range byArea {
		b.ByArea[a] = t.value()
	}
	b.Redeemable = b.Earned.Sub(b.Redeemed)
	// Sort positions, then copy each counted entry once: an Entry is
	// large, and a sort that swaps them costs more than the rest of
	// Balances. IDs are unique, so the order is total and need not be
	// stable.
	sortCounted(entries, counted)
	b.Entries = make([]Entry, len(counted))
	for k, i := range counted {
		b.Entries[k] = entries[i]
	}
	return b
}

// sortCounted orders positions in entries by effective day, then
// occurred day, then ID. The days are read once each as YYYYMMDD numbers,
// which order as the text does: comparing three strings per step was 8 %
// of GetPoints' CPU for a household of 1,000 entries (issue 19). A day
// not written YYYY-MM-DD sends the whole list to the text comparison, so
// the order never depends on which comparison ran.
func sortCounted(entries []Entry, counted []int) {
	type place struct {
		eff, occ int32
		i        int
	}
	places := make([]place, len(counted))
	for k, i := range counted {
		eff, ok1 := dayNumber(entries[i].EffectiveOn)
		occ, ok2 := dayNumber(entries[i].OccurredOn)
		if !ok1 || !ok2 {
			sortCountedAsText(entries, counted)
			return
		}
		places[k] = place{eff: eff, occ: occ, i: i}
	}
	slices.SortFunc(places, func(x, y place) int {
		if x.eff != y.eff {
			return cmp.Compare(x.eff, y.eff)
		}
		if x.occ != y.occ {
			return cmp.Compare(x.occ, y.occ)
		}
		return strings.Compare(entries[x.i].ID, entries[y.i].ID)
	})
	for k, p := range places {
		counted[k] = p.i
	}
}

// sortCountedAsText is the order compared as text: the fallback, and
// what Balances did before (BenchmarkSortCounted).
func sortCountedAsText(entries []Entry, counted []int) {
	slices.SortFunc(counted, func(i, j int) int {
		x, y := &entries[i], &entries[j]
		if c := cmp.Compare(x.EffectiveOn, y.EffectiveOn); c != 0 {
			return c
		}
		if c := cmp.Compare(x.OccurredOn, y.OccurredOn); c != 0 {
			return c
		}
		return cmp.Compare(x.ID, y.ID)
	})
}

func subtotal[K comparable](m map[K]*total, k K) *total {
	t := m[k]
	if t == nil {
		t = new(total)
		m[k] = t
	}
	return t
}

// CanRedeem reports whether amount may be redeemed from this balance: nil
// if so, an Invalid fault for a non-positive amount, a FailedPrecondition
// fault (reason INSUFFICIENT_POINTS) when it would overdraw Redeemable.
// Compute the balance as of the redemption's date inside the transaction
// that appends it, with the household locked, so two redemptions cannot
// both pass.
func (b Balance) CanRedeem(amount decimal.Decimal) error {
	if amount.Sign() <= 0 {
		return fault.InvalidField("amount", "must be positive, got %s", amount)
	}
	if amount.GreaterThan(b.Redeemable) {
		return fault.New(fault.FailedPrecondition, "INSUFFICIENT_POINTS",
			"redeeming %s would overdraw: %s points redeemable as of %s", amount, b.Redeemable, b.AsOf)
	}
	return nil
}
