package points

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// countyYAML is a small valid county catalogue. Tests edit single lines of
// it, so the line numbers in the comments on the right matter.
const countyYAML = `kind: county
county: "330483"
name: {zh-CN: 桐乡市, en: Tongxiang}
version: 3
precision: 1
base_points: 100
public_notice_days: 7
max_backdate_days: 90
areas:
  - {code: minsheng, label: {zh-CN: 民生实事, en: Livelihood}}
  - {code: meili, label: {zh-CN: 美丽乡村, en: Beautiful village}}
items:
  - code: ZZ-MS-01
    domain: self_governance
    area: minsheng
    points: 2
    unit: 次
    annual_cap: 10
    review: true
    evidence: [witness]
    validity_months: 24
    for_credit: true
    label: {zh-CN: 参加村民议事会, en: "Attended the villagers' council"}
  - code: DZ-ML-05
    domain: virtue
    area: meili
    points: -5
    unit: 次
    annual_cap: 30
    review: true
    evidence: [photo_hash]
    validity_months: 24
    for_credit: true
    label: {zh-CN: 破坏环境, en: Damaged the environment}
  - code: DZ-ML-01
    domain: virtue
    area: meili
    points: 0.5
    unit: 次
    annual_cap: 24
    review: false
    evidence: [system_record]
    validity_months: 12
    for_credit: true
    label: {zh-CN: 垃圾分类, en: Sorted waste}
  - code: FZ-PA-11
    domain: rule_of_law
    area: minsheng
    points: -5
    unit: 次
    review: true
    evidence: [document_hash]
    validity_months: 24
    for_credit: false
    label: {zh-CN: 非正常上访, en: Abnormal petitioning}
`

// Lines of countyYAML that tests refer to.
const (
	lineCounty      = 2
	lineVersion     = 4
	linePrecision   = 5
	lineBasePoints  = 6
	lineItem0       = 13 // "- code: ZZ-MS-01"
	lineItem0Domain = 14
	lineItem0Area   = 15
	lineItem0Points = 16
	lineItem0Unit   = 17
	lineItem0Cap    = 18
	lineItem0Review = 19
	lineItem0Evid   = 20
	lineItem0Valid  = 21
	lineItem0Label  = 23
	lineItem1Code   = 24
	lineItem1Cap    = 29
)

// villageYAML is a small valid village document on countyYAML.
const villageYAML = `kind: village
county: "330483"
village: "330483105208"
name: {zh-CN: 堰头村, en: Yantou}
base_version: 3
version: 2
public_notice_days: 5
areas:
  - {code: yifeng, label: {zh-CN: 移风易俗特别积分, en: Reforming customs}}
remove: [FZ-PA-11]
reweight:
  - {code: ZZ-MS-01, points: 3, annual_cap: 12}
items:
  - code: YT-YF-01
    domain: virtue
    area: yifeng
    points: 10
    unit: 次
    annual_cap: 10
    review: true
    evidence: [witness]
    validity_months: 24
    for_credit: true
    label: {zh-CN: 婚事新办, en: Simple wedding}
`

// Lines of villageYAML that tests refer to.
const (
	lineVCounty      = 2
	lineVVillage     = 3
	lineVBaseVersion = 5
	lineVAreas0      = 9
	lineVRemove      = 10
	lineVReweight0   = 12
	lineVItem0       = 14
	lineVItem0Area   = 16
	lineVItem0Points = 17
)

// withLine returns doc with 1-based line n replaced by repl (which may hold
// several lines, or none to delete it).
func withLine(t *testing.T, doc string, n int, repl string) string {
	t.Helper()
	lines := strings.Split(doc, "\n")
	require.Less(t, n-1, len(lines), "line %d out of range", n)
	if repl == "" {
		lines = append(lines[:n-1], lines[n:]...)
	} else {
		lines[n-1] = repl
	}
	return strings.Join(lines, "\n")
}

func mustCounty(t *testing.T, doc string) *County {
	t.Helper()
	c, err := ParseCounty([]byte(doc))
	require.NoError(t, err)
	return c
}

func mustVillage(t *testing.T, doc string) *VillageDoc {
	t.Helper()
	v, err := ParseVillage([]byte(doc))
	require.NoError(t, err)
	return v
}

// lintErrors asserts that err is a LintErrors and returns it.
func lintErrors(t *testing.T, err error) LintErrors {
	t.Helper()
	require.Error(t, err)
	var le LintErrors
	require.ErrorAs(t, err, &le)
	require.NotEmpty(t, le)
	return le
}

// want is one expected lint error: its line, path and a fragment of its
// message.
type want struct {
	line int
	path string
	msg  string
}

// requireLint asserts that err holds exactly the expected errors, in order.
func requireLint(t *testing.T, err error, wants ...want) {
	t.Helper()
	le := lintErrors(t, err)
	got := make([]string, len(le))
	for i, e := range le {
		got[i] = e.String()
	}
	require.Len(t, le, len(wants), "errors: %q", got)
	for i, w := range wants {
		require.Equal(t, w.line, le[i].Line, "error %d: %s", i, got[i])
		require.Equal(t, w.path, le[i].Path, "error %d: %s", i, got[i])
		require.Contains(t, le[i].Message, w.msg, "error %d: %s", i, got[i])
	}
}
