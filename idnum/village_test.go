package idnum

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseVillageCode(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		county string
		town   string
		reason Reason
		msg    string
	}{
		{name: "Tongxiang village", in: "330483101201", county: "330483", town: "330483101"},
		{name: "Tongxiang community", in: "330483001002", county: "330483", town: "330483001"},
		{name: "Dongguan, no county level", in: "441900003001", county: "441900", town: "441900003"},

		{name: "11 digits", in: "33048310120", reason: ReasonLength, msg: "village code must be 12 digits, got 11"},
		{name: "13 digits", in: "3304831012011", reason: ReasonLength, msg: "village code must be 12 digits, got 13"},
		{name: "empty", in: "", reason: ReasonLength, msg: "village code must be 12 digits, got 0"},
		{name: "letter", in: "3304831O1201", reason: ReasonFormat, msg: "village code character 8 must be a digit, got 'O'"},
		{name: "full-width digit", in: "３30483101201", reason: ReasonFormat, msg: "village code character 1 must be a digit, got '３'"},
		{name: "sign", in: "-30483101201", reason: ReasonFormat, msg: "village code character 1 must be a digit, got '-'"},
		{name: "unknown province", in: "990483101201", reason: ReasonRegion, msg: "village code 990483101201 is not in a known province"},
		{name: "no town", in: "330483000201", reason: ReasonLevel, msg: "village code 330483000201 has no town part (digits 7-9 are 000)"},
		{name: "town, not village", in: "330483101000", reason: ReasonLevel, msg: "village code 330483101000 names a town, not a village (last 3 digits are 000)"},
		{name: "county code padded", in: "330483000000", reason: ReasonLevel, msg: "village code 330483000000 has no town part (digits 7-9 are 000)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ParseVillageCode(tt.in)
			if tt.reason == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.in, v.String())
				assert.Equal(t, tt.county, v.County())
				assert.Equal(t, tt.town, v.Town())
				return
			}
			assert.Empty(t, v)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.reason, e.Reason)
			assert.EqualError(t, err, tt.msg)
		})
	}
}

func TestVillageCodeAccessorsOnShortValues(t *testing.T) {
	assert.Empty(t, VillageCode("").County())
	assert.Empty(t, VillageCode("33048").County())
	assert.Equal(t, "330483", VillageCode("33048310").County())
	assert.Empty(t, VillageCode("33048310").Town())
}
