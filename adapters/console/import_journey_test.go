package console_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
)

// TestImportJourney: a clerk, on a phone, uploads the village's sheet as
// Excel on a Chinese Windows saves it (GBK) with good and bad rows; the
// report names each bad row; importing lands only the good ones; the same
// file uploaded and imported again adds nothing. Under make photos it
// photographs the page and its report into docs/console.
func TestImportJourney(t *testing.T) {
	t.Parallel() // make test runs two journeys at a time (-parallel 2)
	skipUnderRace(t)
	storetest.Engine(t, storetest.SQLite, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		f := newImportFixture(t, e)
		gbk, err := simplifiedchinese.GBK.NewEncoder().String(f.sheet)
		require.NoError(t, err)
		file := filepath.Join(t.TempDir(), "南阳村积分.csv")
		require.NoError(t, os.WriteFile(file, []byte(gbk), 0o644))
		before := villageEvidence(t, e, villageA)

		tb := newTab(t)
		ctx, step, text := tb.ctx, tb.step, tb.text
		shot := tb.phonePhoto
		step("viewport", chromedp.EmulateViewport(360, 780))
		tb.firstSignIn(e.srv.URL+"/console", "clerk-a")
		step("clerk-a's home", chromedp.WaitVisible(chromedp.CSS("table.stack")))

		// From the clerk's navigation to the import page.
		step("import page", chromedp.Click(chromedp.CSS(`nav.site a[href$="/evidence/import"]`)),
			chromedp.WaitVisible(chromedp.CSS("#file")))
		assert.Contains(t, text("main"), "下载空白表格")
		shot("clerk-import")

		check := func(name string) {
			t.Helper()
			step(name, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}), chromedp.Click(chromedp.CSS("#check")),
				chromedp.WaitVisible(chromedp.CSS("#summary")))
		}
		check("upload the GBK sheet")
		assert.Contains(t, text("#summary"), "可导入 2 行（其中 0 行以前已导入")
		assert.Contains(t, text("#summary"), "GB18030")
		problems := text("#problems tbody")
		for row, says := range f.badRows {
			assert.Contains(t, problems, says, "row %d", row)
		}
		rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
			`[...document.querySelectorAll("#problems tbody tr td:first-child")].map(td => td.textContent)`))
		require.NoError(t, err)
		assert.Equal(t, []string{"4", "5", "6", "7", "8", "9"}, rows, "one line per bad row, in order")
		valid := text("#valid")
		assert.Contains(t, valid, "陆志强")
		assert.Contains(t, valid, "钱秀英")
		assert.Contains(t, valid, f.byNumber.HeadIDMasked)
		assert.NotRegexp(t, `[1-9][0-9]{16}[0-9Xx]`, text("main"), "no 身份证号 on the page")
		shot("clerk-import-report")

		step("import", chromedp.Click(chromedp.CSS("#import")), chromedp.WaitVisible(chromedp.CSS("#done")))
		assert.Contains(t, text("#done"), "新记录 2 条，以前已导入 0 条")
		assert.Equal(t, before+2, villageEvidence(t, e, villageA), "only the valid rows")
		assert.Len(t, householdEvidence(t, e, f.byNumber), 1)
		assert.Len(t, householdEvidence(t, e, f.byName), 1)
		shot("clerk-import-done")

		// The same file again: everything already there, nothing added.
		step("again", chromedp.Click(chromedp.CSS("#again")), chromedp.WaitVisible(chromedp.CSS("#file")))
		check("upload it again")
		assert.Contains(t, text("#summary"), "可导入 2 行（其中 2 行以前已导入")
		step("import again", chromedp.Click(chromedp.CSS("#import")), chromedp.WaitVisible(chromedp.CSS("#done")))
		assert.Contains(t, text("#done"), "新记录 0 条，以前已导入 2 条")
		assert.Equal(t, before+2, villageEvidence(t, e, villageA), "a re-upload adds nothing")
	})
}
