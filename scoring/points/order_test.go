package points

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/scoring/household"
)

// The numeric sort of a balance's entries orders them exactly as the
// text of their days and IDs does, ties on both days included.
func TestSortCountedMatchesText(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 19))
	day := func() household.Date {
		return household.Date(fmt.Sprintf("20%02d-%02d-%02d", 24+rng.IntN(3), 1+rng.IntN(12), 1+rng.IntN(3)))
	}
	for round := range 50 {
		entries := make([]Entry, 200)
		for i := range entries {
			entries[i] = Entry{ID: fmt.Sprintf("%08x", rng.Uint32()), EffectiveOn: day(), OccurredOn: day()}
		}
		counted := rng.Perm(len(entries))[:150]
		want := slices.Clone(counted)
		sortCountedAsText(entries, want)
		sortCounted(entries, counted)
		require.Equal(t, want, counted, "round %d", round)
	}
}

func TestSortCountedFallsBackToText(t *testing.T) {
	// "2026-3-01" is not written YYYY-MM-DD. As a date it is 1 March,
	// before 2026-12-01; as text it comes after it, and text decides.
	entries := []Entry{
		{ID: "a", EffectiveOn: "2026-3-01", OccurredOn: "2026-01-01"},
		{ID: "b", EffectiveOn: "2026-12-01", OccurredOn: "2026-01-01"},
		{ID: "c", EffectiveOn: "2026-02-28", OccurredOn: "2026-01-01"},
	}
	counted := []int{0, 1, 2}
	sortCounted(entries, counted)
	assert.Equal(t, []int{2, 1, 0}, counted)
}

func TestDayNumber(t *testing.T) {
	for d, want := range map[household.Date]int32{"2026-12-06": 20261206, "0001-01-01": 10101} {
		n, ok := dayNumber(d)
		assert.True(t, ok, d)
		assert.Equal(t, want, n, d)
	}
	for _, d := range []household.Date{"", "2026-12-6", "2026/12/06", "2026-1a-06", "20261206xx"} {
		_, ok := dayNumber(d)
		assert.False(t, ok, d)
	}
}

// sortBench is GetPoints' household of 1,000 entries (rpc's fillLedger):
// posted on one day, so one effective day, occurred over 80 days, IDs in
// the order of posting.
func sortBench() ([]Entry, []int) {
	entries := make([]Entry, 1000)
	counted := make([]int, len(entries))
	for k := range entries {
		entries[k] = Entry{ID: fmt.Sprintf("0193a0c4-0000-7000-8000-%012d", k), EffectiveOn: "2026-03-08",
			OccurredOn: household.Date(fmt.Sprintf("2026-%02d-%02d", 1+(k%80)/28, 1+(k%80)%28))}
		counted[k] = k
	}
	return entries, counted
}

// BenchmarkSortCounted orders sortBench's entries as a balance lists them
// (by days read as numbers); AsText is the comparison of their text it
// replaced, in the same run.
func BenchmarkSortCounted(b *testing.B) {
	entries, counted := sortBench()
	work := make([]int, len(counted))
	b.Run("numbers", func(b *testing.B) {
		for b.Loop() {
			copy(work, counted)
			sortCounted(entries, work)
		}
	})
	b.Run("AsText", func(b *testing.B) {
		for b.Loop() {
			copy(work, counted)
			sortCountedAsText(entries, work)
		}
	})
}
