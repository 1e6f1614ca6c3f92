package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/internal/cli"
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
	assert.Contains(t, out, `row 42, column item_code: "ZZ-XX-99" is not in the village's points list`)
	assert.Equal(t, cli.ExitPartial, cli.Code(err))
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

// Every reason a refused row gets is the catalogue's sentence, in the
// language asked for: the file's own problems and the evidence service's
// refusals alike; no service text (English, naming codes) reaches the
// report. Rows refused while the rest import exit 4.
func TestImportRefusalsLocalised(t *testing.T) {
	dir := t.TempDir()
	db := demoCopy(t)
	ctx := context.Background()
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	var homes []*household.Household
	require.NoError(t, st.Store().Households().Read(ctx, func(r household.Reader) error {
		homes, err = r.Households(ctx, household.ListQuery{Village: nanyang, Limit: 3})
		return err
	}))
	st.Close()
	require.Len(t, homes, 3)
	h := homes[0].ID

	today := household.Today(time.Now())
	day, tomorrow := string(points.AddDays(today, -2)), string(points.AddDays(today, 1))
	check, err := idnum.CheckDigit("33048319800101123")
	require.NoError(t, err)
	validID := "33048319800101123" + string(check)
	wrongID := "33048319800101123" + string("0123456789X"[(strings.IndexByte("0123456789X", check)+1)%11])
	stranger := "0190a0c4-5b6e-7d8f-9a0b-1c2d3e4f5a6b" // a well-formed id no household has

	sheet := func(rows ...string) string {
		p := filepath.Join(dir, fmt.Sprintf("s%d.csv", len(rows)))
		text := "户编号,身份证号,事项代码,发生日期,数量,说明,证明人,系统来源,编号\n" + strings.Join(rows, "\n") + "\n"
		require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
		return p
	}
	file := sheet(
		h+",,ZZ-MS-01,"+day+",1,,王伟,,甲1",         // 2 imports
		","+wrongID+",ZZ-MS-01,"+day+",1,,王伟,,",  // 3 bad 身份证号
		","+validID+",ZZ-MS-01,"+day+",1,,王伟,,",  // 4 named by 身份证号: the CLI needs 户编号
		stranger+",,ZZ-MS-01,"+day+",1,,王伟,,",    // 5 no such household (service)
		h+",,ZZ-MS-01,2026-02-30,1,,王伟,,",        // 6 no such day
		h+",,ZZ-MS-01,"+tomorrow+",1,,王伟,,",      // 7 in the future (service)
		h+",,ZZ-XX-99,"+day+",1,,王伟,,",           // 8 unknown item (service)
		h+",,ZZ-MS-01,"+day+",三个,,王伟,,",          // 9 not a number
		homes[1].ID+",,ZZ-MS-01,"+day+",7,,王伟,,", // 10 7 × 2 points over the cap of 12 (service)
		h+",,ZZ-MS-01,"+day+",1,一,王伟,,重号",        // 11 duplicate 编号
		h+",,ZZ-MS-01,"+day+",1,二,王伟,,重号",        // 12 ... both rows
		homes[2].ID+",,ZZ-MS-01,"+day+",1,,,,",   // 13 needs a witness (service)
		homes[2].ID+",,ZZ-MS-02,"+day+",1,,王伟,,", // 14 needs a document (service)
		homes[2].ID+",,ZZ-MS-05,"+day+",1,,,,",   // 15 needs its system (service)
	)
	want := map[int][2]string{
		3:  {"「身份证号」列的值", "is not a valid ID card number"},
		4:  {"命令行导入需要「户编号」列", "the command line needs the household column"},
		5:  {"本村没有找到「" + stranger + "」这一户", "no household \"" + stranger + "\" in this village"},
		6:  {"「2026-02-30」不是有效日期", "\"2026-02-30\" is not a valid date"},
		7:  {"「" + tomorrow + "」不能是将来", "cannot be in the future"},
		8:  {"「ZZ-XX-99」不在本村的积分目录里", "is not in the village's points list"},
		9:  {"「三个」不是整数", "is not a whole number"},
		10: {"「数量」列的值「7」超过了这个事项的上限", "\"7\" is more than the item allows"},
		11: {"与第 12 行重复", "is also used in row 12"},
		12: {"与第 11 行重复", "is also used in row 11"},
		13: {"这个事项需要证明人", "this item needs a witness"},
		14: {"需要照片或证明文件", "needs a photo or document"},
		15: {"这个事项由机器自动记录", "this item is recorded by machines"},
	}
	// What the service says in English, and what it names; none of it
	// may reach a report.
	service := []string{"is not an item", "does not exist", "named witness", "SHA-256 of", "machine-recorded",
		"annual cap", "is in the future", "villages/", "invalid request", "must be"}
	uuids := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	lines := func(out string) map[int]string {
		got := map[int]string{}
		for _, l := range strings.Split(out, "\n") {
			if m := regexp.MustCompile(`^(?:第 (\d+) 行|row (\d+))`).FindStringSubmatch(l); m != nil {
				n, _ := strconv.Atoi(m[1] + m[2])
				got[n] += l
			}
		}
		return got
	}
	imp := func(f string, extra ...string) (string, error) {
		return run(t, append([]string{"import", "evidence", f, "--database", db, "--village", nanyang, "--key", "sz_demo_clerk_nanyang"}, extra...)...)
	}

	out, err := imp(file)
	require.Error(t, err)
	assert.Equal(t, cli.ExitPartial, cli.Code(err), "rows refused, the rest imported: %v", err)
	assert.Contains(t, out, "导入 1 行", out)
	got := lines(out)
	assert.Len(t, got, len(want), out)
	for row, says := range want {
		assert.Contains(t, got[row], says[0], "row %d", row)
		// In Chinese, the only Latin text is what the row holds: codes and ids.
		assert.NotRegexp(t, `[A-Za-z]{3,}`, uuids.ReplaceAllString(got[row], ""), "row %d", row)
	}

	out, err = imp(file, "--lang", "en")
	assert.Equal(t, cli.ExitPartial, cli.Code(err), "%v", err)
	assert.Contains(t, out, "imported 0, already imported 1, not imported 13", out)
	got = lines(out)
	assert.Len(t, got, len(want), out)
	for row, says := range want {
		assert.Contains(t, got[row], says[1], "row %d", row)
		for _, s := range service {
			assert.NotContains(t, got[row], s, "row %d", row)
		}
	}

	// The same 编号 on another record: refused in both languages, and
	// the service's wording stays out.
	reused := sheet(h + ",,ZZ-MS-01," + string(points.AddDays(today, -3)) + ",1,,王伟,,甲1")
	out, err = imp(reused)
	assert.Equal(t, cli.ExitPartial, cli.Code(err), "%v", err)
	assert.Contains(t, out, "第 2 行「编号」列的值「甲1」已用于内容不同的另一条记录")
	out, err = imp(reused, "--lang", "en", "--dry-run")
	assert.Equal(t, cli.ExitPartial, cli.Code(err), "%v", err)
	assert.Contains(t, out, `row 2, column request_id: "甲1" was already used for a different record`)
	assert.NotContains(t, out, "with different content")

	// All good: 0. A file that cannot be read at all: 1, not 4.
	out, err = imp(sheet(homes[1].ID + ",,ZZ-MS-01," + day + ",1,,王伟,,乙1"))
	require.NoError(t, err, out)
	empty := filepath.Join(dir, "empty.csv")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	out, err = imp(empty)
	assert.Equal(t, cli.ExitFailure, cli.Code(err), "%v", err)
	assert.Contains(t, out, "文件为空")
	_, err = imp(file, "--lang", "fr")
	assert.Equal(t, cli.ExitUsage, cli.Code(err), "%v", err)
}
