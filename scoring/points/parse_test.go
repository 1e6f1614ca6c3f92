package points

import (
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
)

// The line constants must point where the fixtures say, or every
// line-number assertion below would test the wrong thing.
func TestFixtureLines(t *testing.T) {
	c := strings.Split(countyYAML, "\n")
	for n, fragment := range map[int]string{
		lineCounty: `county: "330483"`, lineVersion: "version: 3", linePrecision: "precision: 1",
		lineBasePoints: "base_points: 100", lineItem0: "- code: ZZ-MS-01", lineItem0Domain: "domain:",
		lineItem0Area: "area: minsheng", lineItem0Points: "points: 2", lineItem0Unit: "unit:",
		lineItem0Cap: "annual_cap: 10", lineItem0Review: "review: true", lineItem0Evid: "evidence:",
		lineItem0Valid: "validity_months: 24", lineItem0Label: "label:", lineItem1Code: "- code: DZ-ML-05",
		lineItem1Cap: "annual_cap: 30",
	} {
		assert.Contains(t, c[n-1], fragment, "countyYAML line %d", n)
	}
	v := strings.Split(villageYAML, "\n")
	for n, fragment := range map[int]string{
		lineVCounty: "county:", lineVVillage: "village:", lineVBaseVersion: "base_version: 3",
		lineVAreas0: "code: yifeng", lineVRemove: "remove:", lineVReweight0: "code: ZZ-MS-01",
		lineVItem0: "- code: YT-YF-01", lineVItem0Area: "area: yifeng", lineVItem0Points: "points: 10",
	} {
		assert.Contains(t, v[n-1], fragment, "villageYAML line %d", n)
	}
}

func TestParseCountyValid(t *testing.T) {
	c := mustCounty(t, countyYAML)
	assert.Equal(t, "330483", c.County)
	assert.Equal(t, Label{ZH: "桐乡市", EN: "Tongxiang"}, c.Name)
	assert.Equal(t, 3, c.Version)
	assert.Equal(t, int32(1), c.Precision)
	assert.True(t, decimal.NewFromInt(100).Equal(c.BasePoints))
	assert.Equal(t, 7, c.PublicNoticeDays)
	assert.Equal(t, 90, c.MaxBackdateDays)
	require.Len(t, c.Areas, 2)
	assert.Equal(t, Area{Code: "minsheng", Label: Label{ZH: "民生实事", EN: "Livelihood"}}, c.Areas[0])
	require.Len(t, c.Items, 4)

	it := c.Items[0]
	assert.Equal(t, "ZZ-MS-01", it.Code)
	assert.Equal(t, SelfGovernance, it.Domain)
	assert.Equal(t, "minsheng", it.Area)
	assert.Equal(t, "2", it.Points.String())
	assert.Equal(t, "次", it.Unit)
	assert.Equal(t, "10", it.AnnualCap.String())
	assert.True(t, it.HasCap())
	assert.True(t, it.Review)
	assert.Equal(t, []EvidenceKind{Witness}, it.Evidence)
	assert.Equal(t, 24, it.ValidityMonths)
	assert.True(t, it.ForCredit)
	assert.Equal(t, Label{ZH: "参加村民议事会", EN: "Attended the villagers' council"}, it.Label)

	assert.Equal(t, "-5", c.Items[1].Points.String())
	assert.False(t, c.Items[1].IsAward())
	assert.Equal(t, "0.5", c.Items[2].Points.String())
	assert.False(t, c.Items[2].Review)
	assert.False(t, c.Items[3].HasCap(), "no annual_cap means no cap")
	assert.False(t, c.Items[3].ForCredit)
}

func TestParseCountyAcceptsEquivalentForms(t *testing.T) {
	tests := []struct {
		name       string
		line       int
		repl       string
		wantPoints string
	}{
		{"trailing zeros do not count as decimals", lineItem0Points, "    points: 2.50", "2.5"},
		{"explicit plus sign", lineItem0Points, "    points: +2", "2"},
		{"points given as 2.0", lineItem0Points, "    points: 2.0", "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustCounty(t, withLine(t, countyYAML, tt.line, tt.repl))
			assert.Equal(t, tt.wantPoints, c.Items[0].Points.String())
		})
	}
}

// Every validation rule of a county document: the error's line, field path
// and message.
func TestParseCountyErrors(t *testing.T) {
	tests := []struct {
		name string
		line int    // line of countyYAML to replace
		repl string // replacement ("" deletes the line)
		want []want
	}{
		{"unknown top-level key", lineVersion, "version: 3\nversoin: 4",
			[]want{{lineVersion + 1, "versoin", "unknown field; expected one of: kind, county, name, version"}}},
		{"unknown item key", lineItem0Unit, "    unit: 次\n    colour: red",
			[]want{{lineItem0Unit + 1, "items[0].colour", "unknown field"}}},
		{"unknown label locale", lineItem0Label, "    label: {zh-CN: 参加, en: Attended, fr: Assisté}",
			[]want{{lineItem0Label, "items[0].label.fr", "unknown field; expected one of: zh-CN, en"}}},
		{"duplicate key", lineItem0Points, "    points: 2\n    points: 3",
			[]want{{lineItem0Points + 1, "items[0].points", "duplicate key; first at line 16"}}},
		{"duplicate item code", lineItem1Code, "  - code: ZZ-MS-01",
			[]want{{lineItem1Code, "items[1].code", "duplicate code ZZ-MS-01; first at line 13"}}},
		{"duplicate area code", 11, "  - {code: minsheng, label: {zh-CN: 美丽乡村, en: Beautiful village}}",
			// DZ-ML-05 and DZ-ML-01 then name an undeclared area as well
			[]want{{11, "areas[1].code", `duplicate area "minsheng"; first at line 10`},
				{26, "items[1].area", `unknown area "meili"`}, {37, "items[2].area", `unknown area "meili"`}}},
		{"wrong type: text for a number", lineVersion, `version: three`,
			[]want{{lineVersion, "version", `must be a whole number, got "three"`}}},
		{"wrong type: quoted points", lineItem0Points, `    points: "2"`,
			[]want{{lineItem0Points, "items[0].points", `must be a decimal number such as 2 or -0.5, got "2"`}}},
		{"wrong type: points in exponent form", lineItem0Points, `    points: 2e1`,
			[]want{{lineItem0Points, "items[0].points", "must be a decimal number"}}},
		{"wrong type: yes is not a boolean", lineItem0Review, "    review: yes",
			[]want{{lineItem0Review, "items[0].review", `must be true or false, got "yes"`}}},
		{"wrong type: unquoted county code", lineCounty, "county: 330483",
			[]want{{lineCounty, "county", "must be text; put 330483 in quotes"}}},
		{"wrong type: list for a scalar", lineItem0Unit, "    unit: [次]",
			[]want{{lineItem0Unit, "items[0].unit", "must be a single value"}}},
		{"wrong type: mapping for a list", lineItem0Evid, "    evidence: {photo_hash: true}",
			[]want{{lineItem0Evid, "items[0].evidence", "must be a list"}}},
		{"empty value", lineItem0Cap, "    annual_cap:",
			[]want{{lineItem0Cap, "items[0].annual_cap", "is empty; give a value or remove the field"}}},
		{"missing label", lineItem0Label, "",
			[]want{{lineItem0, "items[0].label", "required"}}},
		{"missing English label", lineItem0Label, "    label: {zh-CN: 参加村民议事会}",
			[]want{{lineItem0Label, "items[0].label.en", "required"}}},
		{"missing Chinese label", lineItem0Label, "    label: {en: Attended}",
			[]want{{lineItem0Label, "items[0].label.zh-CN", "required"}}},
		{"blank label", lineItem0Label, `    label: {zh-CN: 参加村民议事会, en: "  "}`,
			[]want{{lineItem0Label, "items[0].label.en", "must not be blank"}}},
		{"missing county name label", 3, "",
			[]want{{1, "name", "required"}}},
		{"missing required field", lineItem0Valid, "",
			[]want{{lineItem0, "items[0].validity_months", "required"}}},
		{"unknown domain", lineItem0Domain, "    domain: autonomy",
			[]want{{lineItem0Domain, "items[0].domain", `unknown domain "autonomy"; one of self_governance (自治), rule_of_law (法治), virtue (德治)`}}},
		{"unknown area", lineItem0Area, "    area: shengtai",
			[]want{{lineItem0Area, "items[0].area", `unknown area "shengtai"; declared areas: meili, minsheng`}}},
		{"unknown evidence kind", lineItem0Evid, "    evidence: [witness, selfie]",
			[]want{{lineItem0Evid, "items[0].evidence[1]", `unknown evidence kind "selfie"`}}},
		{"evidence listed twice", lineItem0Evid, "    evidence: [witness, witness]",
			[]want{{lineItem0Evid, "items[0].evidence[1]", "witness is listed twice"}}},
		{"no evidence", lineItem0Evid, "    evidence: []",
			[]want{{lineItem0Evid, "items[0].evidence", "must list at least one evidence kind"}}},
		{"review false without a machine record", lineItem0Review, "    review: false",
			[]want{{lineItem0Review, "items[0].review", "may be false only for machine-recorded items"}}},
		{"points beyond precision", lineItem0Points, "    points: 2.25",
			[]want{{lineItem0Points, "items[0].points", "has 2 decimal places, catalogue precision is 1"}}},
		{"points beyond precision 0", linePrecision, "precision: 0",
			// DZ-ML-01 is 0.5 points with a cap of 24
			[]want{{38, "items[2].points", "has 1 decimal places, catalogue precision is 0"}}},
		{"cap beyond precision", lineItem0Cap, "    annual_cap: 10.25",
			[]want{{lineItem0Cap, "items[0].annual_cap", "has 2 decimal places, catalogue precision is 1"}}},
		{"points 0", lineItem0Points, "    points: 0",
			[]want{{lineItem0Points, "items[0].points", "must not be 0"}}},
		{"points beyond the bound", lineItem0Points, "    points: 5000",
			[]want{{lineItem0Points, "items[0].points", "5000 is beyond ±1000"}}},
		{"cap below one award", lineItem0Cap, "    annual_cap: 1",
			[]want{{lineItem0Cap, "items[0].annual_cap", "annual cap 1 is below one award of 2"}}},
		{"cap below one deduction", lineItem1Cap, "    annual_cap: 3",
			[]want{{lineItem1Cap, "items[1].annual_cap", "annual cap 3 is below one award of 5"}}},
		{"negative cap", lineItem1Cap, "    annual_cap: -30",
			[]want{{lineItem1Cap, "items[1].annual_cap", "must be positive"}}},
		{"validity 0 months", lineItem0Valid, "    validity_months: 0",
			[]want{{lineItem0Valid, "items[0].validity_months", "must be between 1 and 120, got 0"}}},
		{"validity beyond ten years", lineItem0Valid, "    validity_months: 121",
			[]want{{lineItem0Valid, "items[0].validity_months", "must be between 1 and 120, got 121"}}},
		{"precision out of range", linePrecision, "precision: 3",
			[]want{{linePrecision, "precision", "must be between 0 and 2, got 3"}}},
		{"base points beyond precision", lineBasePoints, "base_points: 100.25",
			[]want{{lineBasePoints, "base_points", "has 2 decimal places, catalogue precision is 1"}}},
		{"negative base points", lineBasePoints, "base_points: -1",
			[]want{{lineBasePoints, "base_points", "must be between 0 and 1000"}}},
		{"public notice out of range", 7, "public_notice_days: 0",
			[]want{{7, "public_notice_days", "must be between 1 and 30"}}},
		{"bad county code", lineCounty, `county: "33048"`,
			[]want{{lineCounty, "county", `"33048" is not a county code`}}},
		{"bad item code", lineItem0, "  - code: zz-ms-01",
			[]want{{lineItem0, "items[0].code", `"zz-ms-01" is not a valid code`}}},
		{"bad area code", 10, "  - {code: Min Sheng, label: {zh-CN: 民生实事, en: Livelihood}}",
			[]want{{10, "areas[0].code", `"Min Sheng" is not a valid code`}, {lineItem0Area, "items[0].area", `unknown area "minsheng"`},
				{48, "items[3].area", `unknown area "minsheng"`}}},
		{"village-only field in a county", lineVersion, "version: 3\nbase_version: 2",
			[]want{{lineVersion + 1, "base_version", "only allowed in a village catalogue (this one is kind county)"}}},
		{"remove in a county", lineVersion, "version: 3\nremove: [ZZ-MS-01]",
			[]want{{lineVersion + 1, "remove", "only allowed in a village catalogue"}}},
		{"anchor and alias", lineItem0Evid, "    evidence: &ev [witness]",
			[]want{{lineItem0Evid, "", "anchors (&ev) are not allowed"}}},
		{"explicit tag", lineItem0Unit, "    unit: !!str 次",
			[]want{{lineItem0Unit, "", "explicit tags (!!str) are not allowed"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCounty([]byte(withLine(t, countyYAML, tt.line, tt.repl)))
			requireLint(t, err, tt.want...)
			assert.Nil(t, c)
		})
	}
}

func TestParseCountyAlias(t *testing.T) {
	doc := withLine(t, countyYAML, lineItem0Evid, "    evidence: &ev [witness]")
	doc = withLine(t, doc, 31, "    evidence: *ev")
	_, err := ParseCounty([]byte(doc))
	requireLint(t, err,
		want{lineItem0Evid, "", "anchors (&ev) are not allowed"},
		want{31, "", "aliases (*ev) are not allowed"})
}

// Problems in the document as a whole.
func TestParseDocumentErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []want
	}{
		{"empty", "", []want{{0, "", "document is empty"}}},
		{"only a comment", "# nothing here\n", []want{{0, "", "document is empty"}}},
		{"syntax error", "kind: county\nversion: 3\nname: a: b\n", []want{{3, "", "YAML syntax: mapping values are not allowed in this context"}}},
		{"tab indentation", "kind: county\n\tversion: 3\n", []want{{2, "", "YAML syntax: found a tab character"}}},
		{"two documents", countyYAML + "---\nkind: county\n", []want{{56, "", "only one YAML document is allowed"}}},
		{"items not a list", countyYAML[:strings.Index(countyYAML, "items:")] + "items: {}\n", []want{{12, "items", "must be a list"}}},
		{"a list, not a mapping", "- kind: county\n", []want{{1, "", "must be a mapping of fields"}}},
		{"no kind", strings.Replace(countyYAML, "kind: county\n", "", 1), []want{{1, "kind", "required"}}},
		{"unknown kind", strings.Replace(countyYAML, "kind: county", "kind: town", 1), []want{{1, "kind", `must be "county" or "village", got "town"`}}},
		{"village document given as county", villageYAML, []want{{1, "kind", `must be "county" for a county catalogue, got "village"`}}},
		{"not UTF-8", "kind: county\nname: \xff\n", []want{{0, "", "not valid UTF-8"}}},
		{"too large", "kind: county\n" + strings.Repeat("#", MaxDocumentBytes), []want{{0, "", "at most 1048576 are accepted"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCounty([]byte(tt.doc))
			requireLint(t, err, tt.want...)
		})
	}
}

// An unterminated string: the parser's line is kept.
func TestParseSyntaxErrorLine(t *testing.T) {
	_, err := ParseCounty([]byte("kind: county\nversion: 3\nname: \"unterminated\n"))
	le := lintErrors(t, err)
	require.Len(t, le, 1)
	assert.Contains(t, le[0].Message, "YAML syntax")
	assert.Equal(t, 3, le[0].Line)
}

// All problems are reported at once, sorted by line, and Error() prints one
// per line in the documented form.
func TestLintErrorsCollectsAllSorted(t *testing.T) {
	doc := withLine(t, countyYAML, lineItem1Cap, "    annual_cap: 3")
	doc = withLine(t, doc, lineItem0Points, "    points: 2.25")
	doc = withLine(t, doc, lineVersion, "version: 0")
	_, err := ParseCounty([]byte(doc))
	le := lintErrors(t, err)
	require.Len(t, le, 3)
	assert.Equal(t, []int{lineVersion, lineItem0Points, lineItem1Cap}, []int{le[0].Line, le[1].Line, le[2].Line})
	assert.Equal(t, "line 4:10: version: must be between 1 and 1000000, got 0\n"+
		"line 16:13: items[0].points: has 2 decimal places, catalogue precision is 1\n"+
		"line 29:17: items[1].annual_cap: annual cap 3 is below one award of 5", err.Error())
	assert.Positive(t, le[1].Column, "columns are reported too")
}

func TestLintErrorsAreInvalidFaults(t *testing.T) {
	_, err := ParseCounty([]byte(withLine(t, countyYAML, lineItem0Points, "    points: 0")))
	require.Error(t, err)
	assert.Equal(t, fault.Invalid, fault.KindOf(err))
	var f *fault.Error
	require.True(t, errors.As(err, &f))
	assert.Equal(t, "CATALOGUE_INVALID", f.Reason)
	require.Len(t, f.Violations, 1)
	assert.Equal(t, "items[0].points", f.Violations[0].Field)
	assert.Equal(t, "line 16:13: must not be 0: an item either adds or deducts points", f.Violations[0].Description)
	assert.Equal(t, "catalogue is invalid: line 16:13: items[0].points: must not be 0: an item either adds or deducts points", f.Message)
}

func TestParseVillageValid(t *testing.T) {
	v := mustVillage(t, villageYAML)
	assert.Equal(t, "330483", v.County)
	assert.Equal(t, "330483105208", v.Village)
	assert.Equal(t, 3, v.BaseVersion)
	assert.Equal(t, 2, v.Version)
	assert.Equal(t, 5, v.PublicNoticeDays)
	assert.Zero(t, v.MaxBackdateDays, "not overridden")
	assert.Equal(t, []Area{{Code: "yifeng", Label: Label{ZH: "移风易俗特别积分", EN: "Reforming customs"}}}, v.Areas)
	assert.Equal(t, []string{"FZ-PA-11"}, v.Remove)
	require.Len(t, v.Reweight, 1)
	assert.Equal(t, "ZZ-MS-01", v.Reweight[0].Code)
	assert.Equal(t, "3", v.Reweight[0].Points.String())
	assert.Equal(t, "12", v.Reweight[0].AnnualCap.String())
	require.Len(t, v.Items, 1)
	assert.Equal(t, "YT-YF-01", v.Items[0].Code)
}

func TestParseVillageErrors(t *testing.T) {
	tests := []struct {
		name string
		line int
		repl string
		want []want
	}{
		{"village of another county", lineVVillage, `village: "330482105208"`,
			[]want{{lineVVillage, "village", "village 330482105208 is not in county 330483"}}},
		{"village code too short", lineVVillage, `village: "33048310520"`,
			[]want{{lineVVillage, "village", "village code must be 12 digits, got 11"}}},
		{"town code instead of village", lineVVillage, `village: "330483105000"`,
			[]want{{lineVVillage, "village", "names a town, not a village"}}},
		{"missing base_version", lineVBaseVersion, "",
			[]want{{1, "base_version", "required"}}},
		{"precision is the county's", lineVBaseVersion, "base_version: 3\nprecision: 2",
			[]want{{lineVBaseVersion + 1, "precision", "only a county catalogue sets precision; a village inherits it from its base"}}},
		{"base_points is the county's", lineVBaseVersion, "base_version: 3\nbase_points: 120",
			[]want{{lineVBaseVersion + 1, "base_points", "only a county catalogue sets base_points"}}},
		{"removed twice", lineVRemove, "remove: [FZ-PA-11, FZ-PA-11]",
			[]want{{lineVRemove, "remove[1]", "FZ-PA-11 is listed twice; first at line 10"}}},
		{"removed and re-weighted", lineVRemove, "remove: [ZZ-MS-01]",
			[]want{{lineVReweight0, "reweight[0].code", "ZZ-MS-01 is also removed (line 10)"}}},
		{"re-weighted twice", lineVReweight0, "  - {code: ZZ-MS-01, points: 3}\n  - {code: ZZ-MS-01, annual_cap: 20}",
			[]want{{lineVReweight0 + 1, "reweight[1].code", "ZZ-MS-01 is re-weighted twice; first at line 12"}}},
		{"re-weight changing nothing", lineVReweight0, "  - {code: ZZ-MS-01}",
			[]want{{lineVReweight0, "reweight[0]", "give points, annual_cap or both"}}},
		{"re-weight to 0", lineVReweight0, "  - {code: ZZ-MS-01, points: 0}",
			[]want{{lineVReweight0, "reweight[0].points", "must not be 0; to stop using an item, list it under remove"}}},
		{"re-weight cap below points", lineVReweight0, "  - {code: ZZ-MS-01, points: 3, annual_cap: 2}",
			[]want{{lineVReweight0, "reweight[0].annual_cap", "annual cap 2 is below one award of 3"}}},
		{"re-weight unknown key", lineVReweight0, "  - {code: ZZ-MS-01, points: 3, for_credit: true}",
			[]want{{lineVReweight0, "reweight[0].for_credit", "unknown field; expected one of: code, points, annual_cap"}}},
		{"item with 3 decimals", lineVItem0Points, "    points: 0.125",
			[]want{{lineVItem0Points, "items[0].points", "has 3 decimal places, at most 2 are allowed"}}},
		{"item cap below one award", lineVItem0Points, "    points: 11",
			[]want{{lineVItem0Points + 2, "items[0].annual_cap", "annual cap 10 is below one award of 11"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ParseVillage([]byte(withLine(t, villageYAML, tt.line, tt.repl)))
			requireLint(t, err, tt.want...)
			assert.Nil(t, v)
		})
	}
}

func TestLintDetectsKind(t *testing.T) {
	assert.NoError(t, Lint([]byte(countyYAML)))
	assert.NoError(t, Lint([]byte(villageYAML)))
	requireLint(t, Lint([]byte(withLine(t, countyYAML, lineItem0Points, "    points: 0"))),
		want{lineItem0Points, "items[0].points", "must not be 0"})
	requireLint(t, Lint([]byte(withLine(t, villageYAML, lineVVillage, `village: "330482105208"`))),
		want{lineVVillage, "village", "not in county 330483"})
	requireLint(t, Lint([]byte("county: \"330483\"\n")), want{1, "kind", "required"})
}

func TestParseCountyListAndTextLimits(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []want
	}{
		{"no items", countyYAML[:strings.Index(countyYAML, "items:")] + "items: []\n",
			[]want{{12, "items", "must list at least one item"}}},
		{"no areas", strings.Replace(countyYAML[:strings.Index(countyYAML, "items:")], "areas:\n  - {code: minsheng, label: {zh-CN: 民生实事, en: Livelihood}}\n  - {code: meili, label: {zh-CN: 美丽乡村, en: Beautiful village}}\n", "areas: []\n", 1) + "items: []\n",
			[]want{{9, "areas", "must declare at least one area"}, {10, "items", "must list at least one item"}}},
		{"label too long", withLine(t, countyYAML, lineItem0Label, "    label: {zh-CN: "+strings.Repeat("长", 201)+", en: Attended}"),
			[]want{{lineItem0Label, "items[0].label.zh-CN", "is 201 characters; at most 200"}}},
		{"unit too long", withLine(t, countyYAML, lineItem0Unit, "    unit: "+strings.Repeat("u", 17)),
			[]want{{lineItem0Unit, "items[0].unit", "is 17 characters; at most 16"}}},
		{"code too long", withLine(t, countyYAML, lineItem0, "  - code: "+strings.Repeat("A", 33)),
			[]want{{lineItem0, "items[0].code", "at most 32 characters"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCounty([]byte(tt.doc))
			requireLint(t, err, tt.want...)
		})
	}
}
