package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

const nanyang = "330483102215"

// The clerk's spreadsheet, in GBK as Excel writes it: valid rows import,
// bad rows are reported by row and reason, a dry run writes nothing, and
// importing the same file again (in UTF-8 this time) adds nothing.
func TestImportEvidence(t *testing.T) {
	dir := t.TempDir()
	db := demoCopy(t)

	ctx := context.Background()
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	defer st.Close()
	var homes []*household.Household
	require.NoError(t, st.Store().Households().Read(ctx, func(r household.Reader) error {
		homes, err = r.Households(ctx, household.ListQuery{Village: nanyang, Limit: 20})
		return err
	}))
	require.Len(t, homes, 20)

	day := string(points.AddDays(household.Today(time.Now()), -2))
	lines := []string{"户编号,事项代码,发生日期,数量,说明,证明人,系统来源"}
	for _, h := range homes {
		lines = append(lines,
			fmt.Sprintf("%s,DZ-ML-01,%s,1,\"垃圾分类, 智能桶\",,智能垃圾桶07", h.ID, strings.ReplaceAll(day, "-", "/")),
			fmt.Sprintf("%s,DZ-XF-07,%s,1,邻里互助,王伟,", h.ID, day))
	}
	lines = append(lines,
		homes[0].ID+",ZZ-XX-99,"+day+",1,未知事项,,",      // row 42: not in the catalogue
		homes[1].ID+",DZ-ML-01,2026-02-30,1,坏日期,,智能桶", // row 43: no such day
		homes[2].ID+",DZ-ML-01,"+day,                  // row 44: 3 columns of 7
		"")
	text := strings.Join(lines, "\r\n")
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(text)
	require.NoError(t, err)
	gbkFile, utf8File := filepath.Join(dir, "gbk.csv"), filepath.Join(dir, "utf8.csv")
	require.NoError(t, os.WriteFile(gbkFile, []byte(gbk), 0o600))
	require.NoError(t, os.WriteFile(utf8File, []byte("\ufeff"+text), 0o600))

	// The demo county has an evidence history: count what the imports
	// add to it.
	total := func() int {
		var n int
		require.NoError(t, st.Store().Evidence().Read(ctx, func(r evidence.Reader) error {
			list, err := r.ListEvidence(ctx, evidence.ListQuery{Village: nanyang, Limit: 100_000})
			n = len(list)
			return err
		}))
		return n
	}
	seeded := total()
	count := func() int { return total() - seeded }
	imp := func(file string, extra ...string) (string, error) {
		return run(t, append([]string{"import", "evidence", file, "--database", db, "--village", nanyang, "--key", "sz_demo_clerk_nanyang"}, extra...)...)
	}

	out, err := imp(gbkFile, "--dry-run")
	require.Error(t, err, "three rows cannot be imported")
	assert.Contains(t, out, "GB18030")
	assert.Contains(t, out, "可导入 40 行")
	assert.Contains(t, out, "第 42 行")
	assert.Contains(t, out, "第 43 行「发生日期」列的值「2026-02-30」不是有效日期")
	assert.Contains(t, out, "第 44 行有 3 列，但表头有 7 列")
	assert.Zero(t, count(), "a dry run writes nothing")

	out, err = imp(gbkFile, "--lang", "en")
	require.Error(t, err)
	assert.Contains(t, out, "imported 40, already imported 0, not imported 3")
	assert.Contains(t, out, `row 42: item_code: "ZZ-XX-99" is not an item`)
	assert.Equal(t, 40, count())

	out, err = imp(utf8File, "--lang", "en")
	require.Error(t, err)
	assert.Contains(t, out, "UTF-8 with BOM")
	assert.Contains(t, out, "imported 0, already imported 40", "the same rows in another encoding are the same rows")
	assert.Equal(t, 40, count())

	out, err = run(t, "import", "evidence", utf8File, "--database", db, "--village", nanyang, "--key", "sz_demo_clerk_yantou")
	require.Error(t, err, "another village's clerk")
	assert.Contains(t, err.Error(), "outside the scope")
	assert.Equal(t, 40, count(), out)

	out, err = run(t, "import", "template", "--lang", "en")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, "\ufeffhousehold,item_code,occurred_on"), out)
}
