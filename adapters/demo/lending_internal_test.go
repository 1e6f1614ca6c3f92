package demo

import (
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/modelrisk"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// Every story the demo book can tell passes the loan status rules one
// report at a time, in date order and through the state machine, as the
// service will check them; a bad story is 90 days past due and in
// default within the year after the opening when the line is that old, a
// good one never is.
func TestStoriesPassTheStateMachine(t *testing.T) {
	today := household.Date("2026-05-20")
	var bads, cures, writeOffs int
	for seed := range uint64(3000) {
		r := rand.New(rand.NewPCG(7, seed))
		b := &book{r: r, today: today, opened: points.AddDays(today.AddMonths(-(1 + r.IntN(20))), -r.IntN(28))}
		var ends []household.Date
		for m := 0; ; m++ {
			end := monthEnd(b.opened.AddMonths(m))
			if end >= today {
				break
			}
			if end > b.opened {
				ends = append(ends, end)
			}
		}
		bad := seed%3 == 0
		plan := b.goodStory(ends)
		if bad {
			plan = b.badStory(ends)
		}
		var prev *lending.StatusReport
		wentBad := false
		for k, st := range plan {
			rep := lending.StatusReport{AsOf: st.asOf, DaysPastDue: st.dpd, Class: classFor(st.dpd, st.defaulted),
				Defaulted: st.defaulted, WrittenOff: st.writtenOff, Settled: st.settled}
			switch {
			case st.writtenOff:
				rep.Class = lending.ClassLoss
				writeOffs++
			case st.class != "":
				rep.Class = st.class
				cures++
			}
			if st.dpd > 0 {
				rep.OverduePrincipal, rep.OverdueInterest = decimal.NewFromInt(100), decimal.NewFromInt(1)
			}
			require.NoError(t, rep.Check(), "seed %d report %d %+v", seed, k, st)
			latest := household.Date("")
			if prev != nil {
				latest = prev.AsOf
				require.Less(t, string(latest), string(rep.AsOf), "seed %d: one report a month-end, in order", seed)
			}
			require.NoError(t, lending.CheckDate(&rep, today, b.opened, latest), "seed %d report %d", seed, k)
			require.NoError(t, lending.CheckTransition(prev, &rep, false), "seed %d report %d", seed, k)
			if (rep.DaysPastDue >= 90 || rep.Defaulted) && rep.AsOf <= b.opened.AddMonths(12) {
				wentBad = true
			}
			prev = &rep
		}
		if !bad {
			assert.False(t, wentBad, "seed %d: a good story never goes bad", seed)
			continue
		}
		if len(ends) >= 12 {
			assert.True(t, wentBad, "seed %d: a bad story on a line a year old defaults within the year", seed)
			bads++
		}
	}
	assert.Positive(t, bads)
	assert.Positive(t, cures, "some bad loans are paid up")
	assert.Positive(t, writeOffs, "some are written off")
}

// chooseBad gives each line the policy's implied bad rate at its score,
// and the bad lines of any run of scores number the sum of their rates,
// within one.
func TestChooseBadFollowsTheImpliedRate(t *testing.T) {
	sc := modelrisk.Scaling{BaseScore: 400, BaseOdds: 20, PDO: 50}
	var books []*book
	for i := range 600 {
		books = append(books, &book{score: 300 + 5*(i%30)})
	}
	chooseBad(books, sc, rand.New(rand.NewPCG(1, 2)))
	for _, band := range [][2]int{{300, 340}, {345, 395}, {400, 445}} {
		var n, want float64
		for _, b := range books {
			if b.score >= band[0] && b.score <= band[1] {
				want += sc.BadRate(b.score)
				if b.bad {
					n++
				}
			}
		}
		assert.InDelta(t, want, n, 1, "scores %v", band)
	}
	// Unrelated to the score, the lowest band would have as few as the
	// highest: here it has clearly more.
	low, high := 0, 0
	for _, b := range books {
		switch {
		case b.bad && b.score < 340:
			low++
		case b.bad && b.score >= 400:
			high++
		}
	}
	assert.Greater(t, low, 2*high)
}
