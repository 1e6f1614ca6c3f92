package points

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResolveAddRemoveReweight(t *testing.T) {
	base := mustCounty(t, countyYAML)
	cat, err := mustVillage(t, villageYAML).Resolve(base)
	require.NoError(t, err)

	assert.Equal(t, "330483", cat.County)
	assert.Equal(t, "330483105208", cat.Village)
	assert.Equal(t, 3, cat.CountyVersion)
	assert.Equal(t, 2, cat.VillageVersion)
	assert.Equal(t, int32(1), cat.Precision)
	assert.Equal(t, "100", cat.BasePoints.String())
	assert.Equal(t, 5, cat.PublicNoticeDays, "overridden by the village")
	assert.Equal(t, 90, cat.MaxBackdateDays, "inherited from the county")

	// removed
	_, ok := cat.Item("FZ-PA-11")
	assert.False(t, ok)
	// re-weighted: points and cap change, nothing else
	rw, ok := cat.Item("ZZ-MS-01")
	require.True(t, ok)
	assert.Equal(t, "3", rw.Points.String())
	assert.Equal(t, "12", rw.AnnualCap.String())
	assert.Equal(t, Reweighted, rw.Origin)
	assert.Equal(t, base.Items[0].Label, rw.Label)
	assert.Equal(t, base.Items[0].ValidityMonths, rw.ValidityMonths)
	// untouched
	same, ok := cat.Item("DZ-ML-05")
	require.True(t, ok)
	assert.Equal(t, FromCounty, same.Origin)
	assert.Equal(t, "-5", same.Points.String())
	// added, in an added area
	add, ok := cat.Item("YT-YF-01")
	require.True(t, ok)
	assert.Equal(t, FromVillage, add.Origin)
	assert.Equal(t, "yifeng", add.Area)
	area, ok := cat.Area("yifeng")
	require.True(t, ok)
	assert.Equal(t, "移风易俗特别积分", area.Label.ZH)
	assert.Equal(t, []string{"minsheng", "meili", "yifeng"}, areaList(cat.Areas))

	assert.Equal(t, []string{"ZZ-MS-01", "DZ-ML-05", "DZ-ML-01", "YT-YF-01"}, cat.Codes(), "county order, less removed, then village")
	assert.Len(t, cat.Items, 4)

	// The base is not modified by resolving.
	assert.Equal(t, "2", base.Items[0].Points.String())
	assert.Len(t, base.Areas, 2)
}

func areaList(areas []Area) []string {
	out := make([]string, len(areas))
	for i, a := range areas {
		out[i] = a.Code
	}
	return out
}

func TestResolveReweightOnlyCap(t *testing.T) {
	base := mustCounty(t, countyYAML)
	doc := withLine(t, villageYAML, lineVReweight0, "  - {code: DZ-ML-05, annual_cap: 40}")
	cat, err := mustVillage(t, doc).Resolve(base)
	require.NoError(t, err)
	it, _ := cat.Item("DZ-ML-05")
	assert.Equal(t, "-5", it.Points.String(), "points kept")
	assert.Equal(t, "40", it.AnnualCap.String())
	assert.Equal(t, Reweighted, it.Origin)
}

func TestResolveMinimalVillage(t *testing.T) {
	base := mustCounty(t, countyYAML)
	doc := strings.Join(strings.Split(villageYAML, "\n")[:6], "\n") + "\n"
	cat, err := mustVillage(t, doc).Resolve(base)
	require.NoError(t, err)
	assert.Len(t, cat.Items, len(base.Items))
	assert.Equal(t, 7, cat.PublicNoticeDays)
	for _, it := range cat.Items {
		assert.Equal(t, FromCounty, it.Origin)
	}
}

// Rules that need the base: the error is at the village document's line.
func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name string
		line int
		repl string
		want []want
	}{
		{"base_version mismatch", lineVBaseVersion, "base_version: 2",
			[]want{{lineVBaseVersion, "base_version", "inherits county version 2, but the base catalogue given is version 3"}}},
		{"another county", lineVCounty, `county: "330482"`,
			// and the village code must then be in 330482 too
			[]want{{lineVCounty, "county", "this village document is for county 330482, but the base catalogue is county 330483"}}},
		{"remove a code the base lacks", lineVRemove, "remove: [FZ-PA-11, DZ-XX-99]",
			[]want{{lineVRemove, "remove[1]", "county catalogue version 3 has no item DZ-XX-99"}}},
		{"re-weight a code the base lacks", lineVReweight0, "  - {code: DZ-XX-99, points: 3}",
			[]want{{lineVReweight0, "reweight[0].code", "county catalogue version 3 has no item DZ-XX-99"}}},
		{"re-weight flips the sign", lineVReweight0, "  - {code: DZ-ML-05, points: 5}",
			[]want{{lineVReweight0, "reweight[0].points", "5 changes the sign of DZ-ML-05 (-5 in the county catalogue)"}}},
		{"re-weighted points above the county cap", lineVReweight0, "  - {code: ZZ-MS-01, points: 11}",
			[]want{{lineVReweight0, "reweight[0].points", "annual cap 10 is below one award of 11"}}},
		{"re-weighted cap below the county points", lineVReweight0, "  - {code: DZ-ML-05, annual_cap: 4}",
			[]want{{lineVReweight0, "reweight[0].annual_cap", "annual cap 4 is below one award of 5"}}},
		{"re-weight beyond the base precision", lineVReweight0, "  - {code: ZZ-MS-01, points: 2.25}",
			[]want{{lineVReweight0, "reweight[0].points", "has 2 decimal places, catalogue precision is 1"}}},
		{"add a code the base has", lineVItem0, "  - code: DZ-ML-05",
			[]want{{lineVItem0, "items[0].code", "DZ-ML-05 is already in the county catalogue; use reweight"}}},
		{"add a removed county code", lineVItem0, "  - code: FZ-PA-11",
			[]want{{lineVItem0, "items[0].code", "FZ-PA-11 is already in the county catalogue"}}},
		{"item in an unknown area", lineVItem0Area, "    area: shengtai",
			[]want{{lineVItem0Area, "items[0].area", `unknown area "shengtai"; declared areas: minsheng, meili, yifeng`}}},
		{"item beyond the base precision", lineVItem0Points, "    points: 2.25",
			[]want{{lineVItem0Points, "items[0].points", "has 2 decimal places, catalogue precision is 1"}}},
		{"area the county already declares", lineVAreas0, "  - {code: meili, label: {zh-CN: 美丽乡村, en: Beautiful}}",
			[]want{{lineVAreas0, "areas[0].code", `area "meili" is already declared by the county catalogue`},
				{lineVItem0Area, "items[0].area", `unknown area "yifeng"`}}},
	}
	base := mustCounty(t, countyYAML)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := withLine(t, villageYAML, tt.line, tt.repl)
			if tt.name == "another county" {
				doc = withLine(t, doc, lineVVillage, `village: "330482105208"`)
			}
			cat, err := mustVillage(t, doc).Resolve(base)
			requireLint(t, err, tt.want...)
			assert.Nil(t, cat)
		})
	}
}

func TestResolveNilBase(t *testing.T) {
	_, err := mustVillage(t, villageYAML).Resolve(nil)
	requireLint(t, err, want{0, "", "no county base catalogue given"})
}

func TestForVillage(t *testing.T) {
	base := mustCounty(t, countyYAML)
	cat, err := base.ForVillage("330483102215")
	require.NoError(t, err)
	assert.Equal(t, "330483102215", cat.Village)
	assert.Zero(t, cat.VillageVersion)
	assert.Len(t, cat.Items, 4)
	assert.Equal(t, []string{"ZZ-MS-01", "DZ-ML-05", "DZ-ML-01", "FZ-PA-11"}, cat.Codes())
	assert.Len(t, cat.Hash, 64)

	tests := []struct{ village, msg string }{
		{"330482102215", "village 330482102215 is not in county 330483"},
		{"3304831022", "village code must be 12 digits"},
	}
	for _, tt := range tests {
		t.Run(tt.village, func(t *testing.T) {
			_, err := base.ForVillage(tt.village)
			requireLint(t, err, want{0, "village", tt.msg})
		})
	}
}

func TestCatalogueHash(t *testing.T) {
	base := mustCounty(t, countyYAML)
	resolve := func(countyDoc, villageDoc string) *Catalogue {
		t.Helper()
		cat, err := mustVillage(t, villageDoc).Resolve(mustCounty(t, countyDoc))
		require.NoError(t, err)
		return cat
	}
	ref := resolve(countyYAML, villageYAML)
	require.Regexp(t, `^[0-9a-f]{64}$`, ref.Hash)

	same := []struct{ name, county, village string }{
		{"same documents", countyYAML, villageYAML},
		{"2 written as 2.0", withLine(t, countyYAML, lineItem1Cap, "    annual_cap: 30.0"), villageYAML},
		{"comments and flow style", "# a comment\n" + withLine(t, countyYAML, lineItem0Evid, "    evidence:\n      - witness"), villageYAML},
	}
	for _, tt := range same {
		t.Run("same: "+tt.name, func(t *testing.T) {
			assert.Equal(t, ref.Hash, resolve(tt.county, tt.village).Hash)
		})
	}
	different := []struct{ name, county, village string }{
		{"county points", withLine(t, countyYAML, lineItem1Cap-2, "    points: -4"), villageYAML},
		{"county label", withLine(t, countyYAML, lineItem0Label, "    label: {zh-CN: 参加村民议事会, en: Attended}"), villageYAML},
		{"village version", countyYAML, withLine(t, villageYAML, 6, "version: 3")},
		{"village notice days", countyYAML, withLine(t, villageYAML, 7, "public_notice_days: 6")},
		{"re-weight", countyYAML, withLine(t, villageYAML, lineVReweight0, "  - {code: ZZ-MS-01, points: 4, annual_cap: 12}")},
	}
	for _, tt := range different {
		t.Run("different: "+tt.name, func(t *testing.T) {
			assert.NotEqual(t, ref.Hash, resolve(tt.county, tt.village).Hash)
		})
	}

	plain, err := base.ForVillage("330483105208")
	require.NoError(t, err)
	assert.NotEqual(t, ref.Hash, plain.Hash, "the village document changes the catalogue")
	assert.Contains(t, string(ref.Canonical()), `"format":"sanzhi.points.catalogue/v1"`)
}

func TestCodesOfAHandBuiltCatalogue(t *testing.T) {
	cat := &Catalogue{Items: map[string]Item{"B-1": {Code: "B-1"}, "A-2": {Code: "A-2"}, "A-1": {Code: "A-1"}}}
	assert.Equal(t, []string{"A-1", "A-2", "B-1"}, cat.Codes(), "sorted when the document order is unknown")
	_, ok := cat.Area("minsheng")
	assert.False(t, ok)
}

func TestDomainAndEvidenceKinds(t *testing.T) {
	assert.Equal(t, Label{ZH: "自治", EN: "self-governance"}, SelfGovernance.Label())
	assert.Equal(t, Label{ZH: "法治", EN: "rule of law"}, RuleOfLaw.Label())
	assert.Equal(t, Label{ZH: "德治", EN: "virtue"}, Virtue.Label())
	assert.Equal(t, Label{}, Domain("other").Label())
	assert.False(t, Domain("other").Valid())
	assert.True(t, SystemRecord.Valid())
	assert.False(t, EvidenceKind("selfie").Valid())
	assert.False(t, Kind("bonus").Valid())
}
