package points

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
)

func TestAddMonths(t *testing.T) {
	tests := []struct {
		from household.Date
		n    int
		want household.Date
	}{
		{"2024-03-08", 24, "2026-03-08"},
		{"2024-01-31", 1, "2024-02-29"}, // leap year, clamped
		{"2023-01-31", 1, "2023-02-28"},
		{"2024-02-29", 12, "2025-02-28"},
		{"2024-08-31", 1, "2024-09-30"},
		{"2024-12-15", 1, "2025-01-15"},
		{"2024-05-31", 120, "2034-05-31"},
		{"2024-03-31", -1, "2024-02-29"},
	}
	for _, tt := range tests {
		t.Run(string(tt.from), func(t *testing.T) {
			assert.Equal(t, tt.want, AddMonths(tt.from, tt.n))
		})
	}
}

func TestAddDaysAndYear(t *testing.T) {
	assert.Equal(t, household.Date("2025-01-01"), AddDays("2024-12-31", 1))
	assert.Equal(t, household.Date("2024-02-29"), AddDays("2024-03-01", -1))
	assert.Equal(t, household.Date("2024-03-08"), AddDays("2024-03-01", 7))
	assert.Equal(t, 2024, Year("2024-12-31"))
	assert.Equal(t, 2025, Year("2025-01-01"))
}

func TestCatalogueDates(t *testing.T) {
	cat, err := mustCounty(t, countyYAML).ForVillage("330483105208")
	require.NoError(t, err)

	eff, err := cat.EffectiveOn("2024-03-01")
	require.NoError(t, err)
	assert.Equal(t, household.Date("2024-03-08"), eff, "7 days of 公示: 03-01 .. 03-07")
	_, err = cat.EffectiveOn("2024-3-1")
	assert.Equal(t, fault.Invalid, fault.KindOf(err))

	assert.Equal(t, household.Date("2024-03-02"), cat.EarliestOccurrence("2024-05-31"))

	tests := []struct {
		name     string
		occurred household.Date
		msg      string
	}{
		{"today", "2024-05-31", ""},
		{"oldest allowed", "2024-03-02", ""},
		{"one day too old", "2024-03-01", "2024-03-01 is more than 90 days ago; the catalogue accepts acts from 2024-03-02 on"},
		{"tomorrow", "2024-06-01", "2024-06-01 is in the future (today is 2024-05-31)"},
		{"not a date", "2024-02-30", "not a date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := cat.CheckOccurred(tt.occurred, "2024-05-31")
			if tt.msg == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			var f *fault.Error
			require.ErrorAs(t, err, &f)
			assert.Equal(t, "occurred_on", f.Violations[0].Field)
			assert.Contains(t, f.Violations[0].Description, tt.msg)
		})
	}
}
