package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/points"
	"github.com/sanzhi/sanzhi/scoring/simulate"
)

// walk collects what Population yields; fn's error (if any) is returned
// from the walk, never asserted inside it.
func walk(s Store, q sqlstore.PopulationQuery) ([]*simulate.Row, error) {
	var out []*simulate.Row
	err := s.Population(context.Background(), q, func(r *simulate.Row) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

func rowIDs(rows []*simulate.Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Household.ID
	}
	return out
}

func testPopulation(t *testing.T, s Store) {
	ctx := context.Background()
	var all, inA []string
	entries := map[string][]points.Entry{}
	listings := map[string][]string{}
	n := 0
	for _, village := range []string{villageA, villageB} {
		count := map[string]int{villageA: 7, villageB: 5}[village]
		for i := range count {
			n++
			h := newHousehold(t, village, n)
			h.Facts.Members = int32(1 + i%5)
			insert(t, s, h)
			all = append(all, h.ID)
			if village == villageA {
				inA = append(inA, h.ID)
			}
			if i%2 == 0 { // every other household has a sheet
				es := []points.Entry{award(fmt.Sprintf("pe-%d-a", n), h.ID, "5", "2026-03-10", true)}
				if i%4 == 0 {
					es = append(es, award(fmt.Sprintf("pe-%d-b", n), h.ID, "-2.50", "2026-03-11", true))
				}
				require.NoError(t, appendToSheet(s, h.ID, es...))
				entries[h.ID] = es
			}
			if i%3 == 0 { // every third has listings
				star := newEvidence(t, h, 1000+n)
				star.Kind, star.ItemCode, star.Quantity, star.CatalogueHash = evidence.StarRating, "", 0, ""
				star.Level, star.Stars, star.ValidUntil = evidence.LevelTown, 4, "2027-12-31"
				star.State, star.NoticeStart, star.NoticeEnd = evidence.Posted, "2026-03-01", "2026-03-08"
				insertEvidence(t, s, star)
				black := newEvidence(t, h, 2000+n)
				black.Kind, black.ItemCode, black.Quantity, black.CatalogueHash = evidence.BlackList, "", 0, ""
				black.ValidUntil, black.State = "2027-06-30", evidence.Revoked
				black.NoticeStart, black.NoticeEnd = "2026-03-01", "2026-03-08"
				black.RevokedBy, black.RevokeTime, black.RevokeReason = "admin", at(30*24*time.Hour), "误录"
				insertEvidence(t, s, black)
				listings[h.ID] = []string{star.ID, black.ID}
				// Neither pending listings nor points evidence are read.
				red := newEvidence(t, h, 3000+n)
				red.Kind, red.ItemCode, red.Quantity, red.CatalogueHash = evidence.RedList, "", 0, ""
				red.ValidUntil = "2027-06-30"
				insertEvidence(t, s, red)
				pts := newEvidence(t, h, 4000+n)
				pts.State, pts.NoticeStart, pts.NoticeEnd = evidence.Posted, "2026-03-01", "2026-03-08"
				insertEvidence(t, s, pts)
			}
		}
	}
	slices.Sort(all)
	slices.Sort(inA)

	for _, size := range []int{0, 1, 5, 12, 13} {
		rows, err := walk(s, sqlstore.PopulationQuery{PageSize: size})
		require.NoError(t, err, "page size %d", size)
		assert.Equal(t, all, rowIDs(rows), "page size %d: every household once, in id order", size)
	}

	rows, err := walk(s, sqlstore.PopulationQuery{PageSize: 5})
	require.NoError(t, err)
	for _, r := range rows {
		h := r.Household
		assert.NotEmpty(t, h.HeadName)
		assert.Equal(t, int64(1), h.Facts.Version, "latest facts are joined")
		assert.Equal(t, "86000.50", h.Facts.AnnualIncome.StringFixed(2))
		assertSameEntries(t, entries[h.ID], r.Entries)
		var got []string
		for _, e := range r.Listings {
			assert.Equal(t, h.ID, e.Household)
			got = append(got, e.ID)
		}
		want := listings[h.ID]
		slices.Sort(want)
		assert.Equal(t, want, got, "household %s: posted and revoked listings only", h.ID)
		if len(want) > 0 {
			st := evidence.StandingOf(r.Listings, "2026-03-20")
			require.NotNil(t, st.Star)
			assert.True(t, st.Blacklisted(), "revoked on 2026-03-31: still live on the 20th")
			assert.False(t, evidence.StandingOf(r.Listings, "2026-04-15").Blacklisted(), "no longer after its revocation")
		}
	}

	// Village filter, across page boundaries.
	rows, err = walk(s, sqlstore.PopulationQuery{Villages: []string{villageA}, PageSize: 3})
	require.NoError(t, err)
	assert.Equal(t, inA, rowIDs(rows))
	for _, r := range rows {
		assert.Equal(t, villageA, r.Household.Village)
		want := listings[r.Household.ID]
		assert.Len(t, r.Listings, len(want))
	}
	rows, err = walk(s, sqlstore.PopulationQuery{Villages: []string{villageA, villageB}, PageSize: 2})
	require.NoError(t, err)
	assert.Equal(t, all, rowIDs(rows))
	rows, err = walk(s, sqlstore.PopulationQuery{Villages: []string{"330483999999"}})
	require.NoError(t, err)
	assert.Empty(t, rows)

	// Resuming after an id.
	rows, err = walk(s, sqlstore.PopulationQuery{AfterID: all[4], PageSize: 4})
	require.NoError(t, err)
	assert.Equal(t, all[5:], rowIDs(rows))

	// Counting.
	c, err := s.PopulationCount(ctx, sqlstore.PopulationQuery{})
	require.NoError(t, err)
	assert.Equal(t, len(all), c)
	c, err = s.PopulationCount(ctx, sqlstore.PopulationQuery{Villages: []string{villageA}})
	require.NoError(t, err)
	assert.Equal(t, len(inA), c)

	// The callback's error stops the walk.
	stop := errors.New("enough")
	seen := 0
	err = s.Population(ctx, sqlstore.PopulationQuery{PageSize: 2}, func(*simulate.Row) error {
		seen++
		if seen == 3 {
			return stop
		}
		return nil
	})
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 3, seen)

	// A cancelled context stops it too.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err = s.Population(cctx, sqlstore.PopulationQuery{}, func(*simulate.Row) error { return nil })
	assert.Error(t, err)
}
