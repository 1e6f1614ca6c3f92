package household_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sanzhi/sanzhi/scoring/household"
)

func TestAddMonths(t *testing.T) {
	for _, c := range []struct {
		from household.Date
		n    int
		want household.Date
	}{
		{"2024-01-15", 1, "2024-02-15"},
		{"2024-01-31", 1, "2024-02-29"}, // a leap year's February
		{"2023-01-31", 1, "2023-02-28"},
		{"2024-03-31", -1, "2024-02-29"},
		{"2024-02-29", 12, "2025-02-28"},
		{"2024-05-20", 12, "2025-05-20"},
		{"2024-05-20", -24, "2022-05-20"},
		{"2024-12-31", 2, "2025-02-28"},
		{"2024-06-30", 0, "2024-06-30"},
		{"not a date", 3, "not a date"},
	} {
		assert.Equal(t, c.want, c.from.AddMonths(c.n), "%s %+d", c.from, c.n)
	}
}
