package points

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const examplesDir = "../../examples/catalogues"

func readExample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(examplesDir, name))
	require.NoError(t, err)
	return b
}

// The shipped catalogues load, resolve, and carry the figures the seeds give.
func TestShippedCatalogues(t *testing.T) {
	county, err := ParseCounty(readExample(t, "tongxiang-county.yaml"))
	require.NoError(t, err)

	assert.Equal(t, "330483", county.County)
	assert.Equal(t, "100", county.BasePoints.String(), "seed 002: base 100")
	assert.Equal(t, []string{"民生实事", "乡风文明", "美丽乡村", "公益美德", "平安创建"}, zhLabels(county.Areas), "seed 002: the five areas")
	assert.GreaterOrEqual(t, len(county.Items), 40)

	byArea := map[string]int{}
	byDomain := map[Domain]int{}
	for _, it := range county.Items {
		byArea[it.Area]++
		byDomain[it.Domain]++
		assert.NotEmpty(t, it.Label.EN, it.Code)
	}
	for _, a := range county.Areas {
		assert.GreaterOrEqual(t, byArea[a.Code], 5, "area %s", a.Code)
	}
	for _, dm := range Domains {
		assert.GreaterOrEqual(t, byDomain[dm], 5, "domain %s", dm)
	}

	base, err := county.ForVillage("330483102215")
	require.NoError(t, err)
	seedFigures := map[string]string{
		"DZ-ML-05": "-5",  // environmental damage, per act
		"DZ-XF-04": "-20", // 红白事大操大办
	}
	for code, pts := range seedFigures {
		it, ok := base.Item(code)
		require.True(t, ok, code)
		assert.Equal(t, pts, it.Points.String(), code)
	}
	petition, ok := base.Item("FZ-PA-11")
	require.True(t, ok)
	assert.False(t, petition.ForCredit, "上访 must never feed credit")
	sorting, ok := base.Item("DZ-ML-01")
	require.True(t, ok)
	assert.False(t, sorting.Review, "垃圾分类 is machine-recorded")
	assert.Contains(t, sorting.Evidence, SystemRecord)

	villages := []struct {
		file, code         string
		added, removed     int
		reweighted         []string
		wantNoticeDays     int
		mustHave, mustLack []string
	}{
		{"nanyang-village.yaml", "330483102215", 3, 2, []string{"ZZ-MS-01"}, 7, []string{"NY-ML-02"}, []string{"FZ-ML-09"}},
		{"yantou-village.yaml", "330483105208", 12, 1, nil, 7, []string{"YT-YF-01", "YT-YF-12"}, []string{"DZ-XF-03"}},
		{"nongfeng-village.yaml", "330483104221", 1, 2, []string{"DZ-XF-07", "DZ-ML-04"}, 5, []string{"NF-GY-01"}, []string{"FZ-PA-13"}},
	}
	hashes := map[string]string{base.Hash: "county base"}
	for _, v := range villages {
		t.Run(v.file, func(t *testing.T) {
			doc, err := ParseVillage(readExample(t, v.file))
			require.NoError(t, err)
			cat, err := doc.Resolve(county)
			require.NoError(t, err)
			assert.Equal(t, v.code, cat.Village)
			assert.Len(t, doc.Items, v.added)
			assert.Len(t, doc.Remove, v.removed)
			assert.Len(t, cat.Items, len(county.Items)+v.added-v.removed)
			assert.Equal(t, v.wantNoticeDays, cat.PublicNoticeDays)
			var rw []string
			for _, code := range cat.Codes() {
				if cat.Items[code].Origin == Reweighted {
					rw = append(rw, code)
				}
			}
			assert.ElementsMatch(t, v.reweighted, rw)
			for _, code := range v.mustHave {
				_, ok := cat.Item(code)
				assert.True(t, ok, code)
			}
			for _, code := range v.mustLack {
				_, ok := cat.Item(code)
				assert.False(t, ok, code)
			}
			assert.NotContains(t, hashes, cat.Hash)
			hashes[cat.Hash] = v.file
			assert.NoError(t, Lint(readExample(t, v.file)))
		})
	}

	yantou, err := ParseVillage(readExample(t, "yantou-village.yaml"))
	require.NoError(t, err)
	for _, it := range yantou.Items {
		assert.Equal(t, "yifeng", it.Area, "seed 000: the 12 移风易俗 items")
	}
}

func zhLabels(areas []Area) []string {
	out := make([]string, len(areas))
	for i, a := range areas {
		out[i] = a.Label.ZH
	}
	return out
}
