package lending

import (
	"errors"
	"math/rand"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// randAmount is a random amount in fen, mostly small, sometimes above any
// limit, sometimes invalid (zero).
func randAmount(r *rand.Rand) decimal.Decimal {
	switch r.Intn(10) {
	case 0:
		return decimal.Zero
	case 1:
		return decimal.New(r.Int63n(1_000_000_000)+1, -2) // up to ¥10M
	default:
		return decimal.New(r.Int63n(5_000_000)+1, -2) // up to ¥50k
	}
}

func TestLineInvariantsUnderRandomOperations(t *testing.T) {
	days := []household.Date{"2025-06-01", "2025-06-10", "2025-12-31", "2026-06-10", "2026-07-01"}
	uses := Uses()
	var drawn, refusedFrozen, repaid int
	for seed := int64(1); seed <= 200; seed++ {
		r := rand.New(rand.NewSource(seed))
		l := Line{ID: "l", Household: testHousehold, Bank: bank, Status: StatusActive, ValidUntil: "2026-06-10"}
		for step := 0; step < 200; step++ {
			before := l
			day := days[r.Intn(len(days))]
			var op string
			var err error
			switch r.Intn(10) {
			case 0, 1, 2, 3:
				op = "drawdown"
				amount := randAmount(r)
				l, err = Drawdown(l, amount, uses[r.Intn(len(uses))], day)
				if err == nil {
					require.Equal(t, StatusActive, before.StatusOn(day), "seed %d step %d: drawdown on a %s line", seed, step, before.StatusOn(day))
					require.True(t, amount.LessThanOrEqual(before.Available()), "seed %d step %d: drew %s beyond available %s", seed, step, amount, before.Available())
					require.True(t, l.Drawn.Equal(before.Drawn.Add(amount)))
					drawn++
				} else if fault.Is(err, fault.FailedPrecondition) && before.StatusOn(day) == StatusFrozen {
					refusedFrozen++
				}
			case 4, 5:
				op = "repayment"
				amount := randAmount(r)
				if r.Intn(3) == 0 && before.Drawn.IsPositive() {
					amount = before.Drawn
				}
				l, err = Repayment(l, amount)
				if err == nil {
					require.True(t, l.Drawn.Equal(before.Drawn.Sub(amount)))
					repaid++
				}
			case 6:
				op = "freeze"
				l = Freeze(l, "event")
			case 7, 8:
				op = "unfreeze"
				l = Unfreeze(l)
			case 9:
				op = "decision"
				d := rules.Decision{Bank: bank, Eligible: r.Intn(3) != 0, ValidUntil: days[r.Intn(len(days))]}
				if d.Eligible {
					d.Limit = decimal.New(r.Int63n(200)*1000, 0)
					d.Rate = dec("0.0435")
				}
				l = Apply(l, d, "d")
			}
			if err != nil {
				var f *fault.Error
				require.True(t, errors.As(err, &f), "seed %d step %d %s: %v", seed, step, op, err)
				require.Equal(t, before, l, "seed %d step %d %s: a refused operation changed the line", seed, step, op)
			}
			require.False(t, l.Drawn.IsNegative(), "seed %d step %d %s: drawn %s", seed, step, op, l.Drawn)
			want := l.Limit.Sub(l.Drawn)
			if want.IsNegative() {
				want = decimal.Zero
			}
			require.True(t, l.Available().Equal(want), "seed %d step %d %s", seed, step, op)
			require.False(t, l.Available().IsNegative())
			if l.Status == StatusFrozen {
				_, err := Drawdown(l, dec("0.01"), UseAgriculture, day)
				require.Error(t, err, "seed %d step %d: drawdown on a frozen line", seed, step)
			}
		}
	}
	// The run must exercise both outcomes, or it proves nothing.
	require.Greater(t, drawn, 500)
	require.Greater(t, refusedFrozen, 1000)
	require.Greater(t, repaid, 500)
	t.Logf("drawdowns %d, refused on frozen %d, repayments %d", drawn, refusedFrozen, repaid)
}
