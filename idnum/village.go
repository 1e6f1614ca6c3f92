package idnum

import (
	"fmt"
	"unicode/utf8"
)

const villageCodeLen = 12

// VillageCode is a validated 12-digit 统计用区划代码 (statistical division
// code) at village or community (村/居委会) level: 2 digits province,
// 2 prefecture, 2 county, 3 town (乡/镇/街道), 3 village.
//
// The county pair may legitimately be 00: prefecture-level cities without
// counties, such as 东莞 (441900), number their towns directly.
type VillageCode string

// ParseVillageCode validates s as a village-level statistical division code:
// exactly 12 ASCII digits, a known province prefix, a non-zero town part
// (digits 7-9) and a non-zero village part (digits 10-12). Errors are
// *Error values.
func ParseVillageCode(s string) (VillageCode, error) {
	if n := utf8.RuneCountInString(s); n != villageCodeLen {
		return "", newError(ReasonLength,
			fmt.Sprintf("village code must be 12 digits, got %d", n))
	}
	if pos, r, ok := firstNonDigit(s); ok {
		return "", newError(ReasonFormat,
			fmt.Sprintf("village code character %d must be a digit, got %q", pos, r))
	}
	if !knownProvince(s) {
		return "", newError(ReasonRegion,
			fmt.Sprintf("village code %s is not in a known province", s))
	}
	if s[6:9] == "000" {
		return "", newError(ReasonLevel,
			fmt.Sprintf("village code %s has no town part (digits 7-9 are 000)", s))
	}
	if s[9:12] == "000" {
		return "", newError(ReasonLevel,
			fmt.Sprintf("village code %s names a town, not a village (last 3 digits are 000)", s))
	}
	return VillageCode(s), nil
}

// String returns the code itself; statistical division codes are public.
func (v VillageCode) String() string { return string(v) }

// County returns the six-digit county-level code (the GB/T 2260 code of the
// county, district or county-level city) containing the village. It returns
// "" for a VillageCode that did not come from ParseVillageCode and is too
// short.
func (v VillageCode) County() string {
	if len(v) < 6 {
		return ""
	}
	return string(v[:6])
}

// Town returns the nine-digit code of the town, township or sub-district
// containing the village, or "" if v is too short.
func (v VillageCode) Town() string {
	if len(v) < 9 {
		return ""
	}
	return string(v[:9])
}
