package console_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// upload posts file as the import form does; csrf "" leaves the token out.
func (c *client) upload(path, csrf string, file []byte) (int, string) {
	c.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if csrf != "" {
		require.NoError(c.t, w.WriteField("csrf", csrf))
	}
	fw, err := w.CreateFormFile("file", "积分.csv")
	require.NoError(c.t, err)
	_, err = fw.Write(file)
	require.NoError(c.t, err)
	require.NoError(c.t, w.Close())
	resp, err := c.hc.Post(c.e.srv.URL+path, w.FormDataContentType(), &b)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, html.UnescapeString(string(body))
}

// registeredIn registers a household of village with a known 身份证号.
func registeredIn(t *testing.T, e *env, village, head string, group int32, addr string) (*household.Household, string) {
	t.Helper()
	id := idNumber(t)
	clerk := map[string]string{villageA: "clerk-a", villageB: "clerk-b"}[village]
	h, err := e.app.Households.Create(context.Background(), e.staff[clerk], household.CreateInput{
		Parent: resource.Village(village), HeadName: head, HeadIDNumber: id, Group: group, Address: addr,
		Registered: "2010-03-01", RequestID: fmt.Sprintf("t-%d", seq.Add(1)),
		Facts: &household.FactsInput{Members: 3, Labourers: 2, AnnualIncome: "52000", LandAreaMu: "2.5",
			CollectiveShares: "5", ExistingDebt: "0", Source: "村委会登记", AsOf: "2026-01-01"},
	})
	require.NoError(t, err)
	return h, id
}

// villageEvidence counts the evidence of a village.
func villageEvidence(t *testing.T, e *env, village string) int {
	t.Helper()
	n, token := 0, ""
	for {
		p, err := e.app.Evidence.List(context.Background(), evidence.Filter{Parent: resource.Village(village)}, 0, token)
		require.NoError(t, err)
		n += len(p.Evidence)
		if token = p.NextToken; token == "" {
			return n
		}
	}
}

func householdEvidence(t *testing.T, e *env, h *household.Household) []*evidence.Evidence {
	t.Helper()
	p, err := e.app.Evidence.List(context.Background(), evidence.Filter{Parent: h.Name()}, 0, "")
	require.NoError(t, err)
	return p.Evidence
}

// importFixture is a village register and a sheet of good and bad rows.
type importFixture struct {
	byNumber, byName *household.Household
	sheet            string
	badRows          map[int]string // row → what its reason says
}

func newImportFixture(t *testing.T, e *env) importFixture {
	t.Helper()
	f := importFixture{}
	var id string
	f.byNumber, id = registeredIn(t, e, villageA, "陆志强", 7, "南阳村7组3号")
	f.byName, _ = registeredIn(t, e, villageA, "钱秀英", 8, "南阳村8组8号")
	_, _ = registeredIn(t, e, villageA, "王芳", 9, "南阳村9组1号")
	_, _ = registeredIn(t, e, villageA, "王芳", 9, "南阳村9组6号")
	_, elsewhere := registeredIn(t, e, villageB, "赵大海", 2, "堰头村2组5号")
	nobody := idNumber(t)
	bad := id[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", id[17])+1)%11])
	today := string(household.Today(time.Now()))
	tomorrow := string(household.Today(time.Now().Add(24 * time.Hour)))
	w := "村民小组长 王伟"
	f.sheet = "身份证号,户主姓名,组,门牌,事项代码,发生日期,数量,说明,证明人\n" +
		strings.ToLower(id) + ",,,,ZZ-MS-01," + today + ",1,清理河道," + w + "\n" + // 2 good, by number
		",钱秀英,8组,,ZZ-MS-03," + today + ",1,参加村民议事," + w + "\n" + // 3 good, by name and group
		id + ",,,,ZZ-XX-99," + today + ",1,,," + "\n" + // 4 unknown item
		id + ",,,,ZZ-MS-01," + tomorrow + ",1,明天的事," + w + "\n" + // 5 future date
		nobody + ",,,,ZZ-MS-01," + today + ",1,," + w + "\n" + // 6 nobody of this village
		",王芳,9,,ZZ-MS-01," + today + ",1,," + w + "\n" + // 7 two 王芳 in group 9
		elsewhere + ",,,,ZZ-MS-01," + today + ",1,," + w + "\n" + // 8 another village's household
		bad + ",,,,ZZ-MS-01," + today + ",1,," + w + "\n" // 9 a wrong check digit
	f.badRows = map[int]string{
		4: "「事项代码」列的值「ZZ-XX-99」不在本村的积分目录里", 5: "「发生日期」列的值「" + tomorrow + "」不能是将来", 6: "本村没有找到", 7: "本村有 2 户都是「王芳（9组）」",
		8: "本村没有找到", 9: "不是有效的身份证号",
	}
	return f
}

var problemRow = regexp.MustCompile(`<td data-label="行">(\d+)</td>`)

func TestImport(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		c := e.client(t)
		c.signIn("clerk-a")
		f := newImportFixture(t, e)
		base := "/console/villages/" + villageA + "/evidence/import"

		status, _, page := c.get(base)
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, page, `enctype="multipart/form-data"`)
		assert.Contains(t, page, base+"/template.csv")
		tok := csrfField.FindStringSubmatch(page)[1]
		before := villageEvidence(t, e, villageA)

		t.Run("Template", func(t *testing.T) {
			resp, err := c.hc.Get(e.srv.URL + base + "/template.csv")
			require.NoError(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
			assert.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")
			assert.True(t, strings.HasPrefix(string(b), "\uFEFF身份证号,户主姓名,组,门牌,事项代码,发生日期"), string(b))
		})

		t.Run("BadFiles", func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				file   []byte
				status int
				says   string
			}{
				{"not a csv", append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0xff, 0xfe, 0x00}, 50)...), http.StatusBadRequest, "无法识别文件编码"},
				{"wrong header", []byte("姓名,日期\n张三,2026-01-01\n"), http.StatusBadRequest, "表头第 1 列「姓名」不是可识别的列名"},
				{"no household column", []byte("户主姓名,事项代码,发生日期\n张三,ZZ-MS-01,2026-01-01\n"), http.StatusBadRequest, "表头缺少说明是哪一户的列"},
				{"empty", nil, http.StatusBadRequest, "文件为空"},
				{"too big", bytes.Repeat([]byte("a,b,c\n"), (2<<20)/6+100), http.StatusRequestEntityTooLarge, "文件太大，最大 2 MB"},
				{"far too big: the body is cut off", bytes.Repeat([]byte("a,b,c\n"), (3<<20)/6), http.StatusRequestEntityTooLarge, "文件太大，最大 2 MB"},
			} {
				status, body := c.upload(base, tok, tc.file)
				assert.Equal(t, tc.status, status, tc.name)
				assert.Contains(t, body, `id="file-error"`, tc.name)
				assert.Contains(t, body, tc.says, tc.name)
				assert.NotContains(t, body, `id="import"`, tc.name)
			}
			// A post that is no upload at all is read as a plain form (its
			// token checked) in which no file was chosen.
			status, _, body := c.post(base, url.Values{"csrf": {tok}})
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Contains(t, html.UnescapeString(body), "请选择一个 CSV 文件")
			status, _, _ = c.post(base, url.Values{"csrf": {"not-the-token"}})
			assert.Equal(t, http.StatusForbidden, status)
			assert.Equal(t, before, villageEvidence(t, e, villageA), "nothing written")
		})

		t.Run("NoToken", func(t *testing.T) {
			status, body := c.upload(base, "", []byte(f.sheet))
			assert.Equal(t, http.StatusForbidden, status)
			assert.Contains(t, body, "页面已过期")
			status, body = c.upload(base, "not-the-token", []byte(f.sheet))
			assert.Equal(t, http.StatusForbidden, status)
			assert.NotContains(t, body, `id="import"`)
			// Nor may an import be confirmed without it.
			status, _, _ = c.post(base+"/confirm", url.Values{"upload": {"x"}})
			assert.Equal(t, http.StatusForbidden, status)
			assert.Equal(t, before, villageEvidence(t, e, villageA), "nothing written")
		})

		var upload string
		t.Run("Preview", func(t *testing.T) {
			status, body := c.upload(base, tok, []byte(f.sheet))
			require.Equal(t, http.StatusOK, status)
			assert.Contains(t, body, "可导入 2 行（其中 0 行以前已导入")
			problems := body[strings.Index(body, `id="problems"`):strings.Index(body, `id="valid"`)]
			var rows []string
			for _, m := range problemRow.FindAllStringSubmatch(problems, -1) {
				rows = append(rows, m[1])
			}
			assert.Equal(t, []string{"4", "5", "6", "7", "8", "9"}, rows, "each bad row named once, in order")
			for row, says := range f.badRows {
				assert.Regexp(t, fmt.Sprintf(`<td data-label="行">%d</td>[^<]*<td[^>]*>[^<]*</td>[^<]*<td[^>]*>[^<]*</td>[^<]*<td[^>]*>[^<]*%s`, row, regexp.QuoteMeta(says)), problems, "row %d", row)
			}
			// The column, in the clerk's words.
			assert.Contains(t, problems, `<td data-label="列">事项代码</td>`)
			assert.Contains(t, problems, `<td data-label="列">发生日期</td>`)
			assert.Contains(t, problems, `<td data-label="列">身份证号</td>`)
			valid := body[strings.Index(body, `id="valid"`):]
			assert.Contains(t, valid, "陆志强")
			assert.Contains(t, valid, f.byNumber.HeadIDMasked)
			assert.Contains(t, valid, "钱秀英")
			assert.Contains(t, valid, "导入这 2 行")
			// No 身份证号 anywhere on the page, only masked ones.
			assert.NotRegexp(t, `[1-9][0-9]{16}[0-9Xx]`, body)
			upload = regexp.MustCompile(`name="upload" value="([^"]+)"`).FindStringSubmatch(body)[1]
			assert.Equal(t, before, villageEvidence(t, e, villageA), "a check writes nothing")
		})

		t.Run("English", func(t *testing.T) {
			_, _, _ = c.get(base + "?lang=en")
			defer func() { _, _, _ = c.get(base + "?lang=zh") }()
			status, body := c.upload(base, tok, []byte(f.sheet))
			require.Equal(t, http.StatusOK, status)
			assert.Contains(t, body, "2 rows can be imported")
			assert.Contains(t, body, "2 households of this village are")
			assert.Contains(t, body, "is not in the village's points list")
			// That check replaced the Chinese one for this session.
			upload = regexp.MustCompile(`name="upload" value="([^"]+)"`).FindStringSubmatch(body)[1]
		})

		t.Run("OtherClerk", func(t *testing.T) {
			b := e.client(t)
			b.signIn("clerk-b")
			status, _, _ := b.get(base)
			assert.Equal(t, http.StatusForbidden, status)
			btok := b.csrf("/console/villages/" + villageB + "/evidence/import")
			status, _ = b.upload(base, btok, []byte(f.sheet))
			assert.Equal(t, http.StatusForbidden, status)
			status, _, _ = b.post(base+"/confirm", url.Values{"csrf": {btok}, "upload": {upload}})
			assert.Equal(t, http.StatusForbidden, status)
			// In its own village the same id is not its session's check.
			status, _, body := b.post("/console/villages/"+villageB+"/evidence/import/confirm", url.Values{"csrf": {btok}, "upload": {upload}})
			assert.Equal(t, http.StatusConflict, status)
			assert.Contains(t, html.UnescapeString(body), "检查结果已过期")
			assert.Equal(t, before, villageEvidence(t, e, villageA), "nothing written")
		})

		t.Run("Import", func(t *testing.T) {
			status, _, body := c.post(base+"/confirm", url.Values{"csrf": {tok}, "upload": {"not-" + upload}})
			assert.Equal(t, http.StatusConflict, status, "another id")
			assert.Contains(t, html.UnescapeString(body), "检查结果已过期")
			// The wrong id spent the check: check again, then import.
			status, page := c.upload(base, tok, []byte(f.sheet))
			require.Equal(t, http.StatusOK, status)
			upload = regexp.MustCompile(`name="upload" value="([^"]+)"`).FindStringSubmatch(page)[1]
			status, _, body = c.post(base+"/confirm", url.Values{"csrf": {tok}, "upload": {upload}})
			require.Equal(t, http.StatusOK, status)
			assert.Contains(t, html.UnescapeString(body), "新记录 2 条，以前已导入 0 条")
			assert.Equal(t, before+2, villageEvidence(t, e, villageA), "only the valid rows")
			got := householdEvidence(t, e, f.byNumber)
			require.Len(t, got, 1)
			assert.Equal(t, "ZZ-MS-01", got[0].ItemCode)
			assert.Equal(t, "清理河道", got[0].Note)
			assert.Equal(t, evidence.PendingReview, got[0].State)
			got = householdEvidence(t, e, f.byName)
			require.Len(t, got, 1)
			assert.Equal(t, "ZZ-MS-03", got[0].ItemCode)
			// Posting the same confirmation again imports nothing.
			status, _, _ = c.post(base+"/confirm", url.Values{"csrf": {tok}, "upload": {upload}})
			assert.Equal(t, http.StatusConflict, status)
			assert.Equal(t, before+2, villageEvidence(t, e, villageA))
		})

		t.Run("ReUpload", func(t *testing.T) {
			status, page := c.upload(base, tok, []byte(f.sheet))
			require.Equal(t, http.StatusOK, status)
			assert.Contains(t, page, "可导入 2 行（其中 2 行以前已导入")
			assert.Contains(t, page, "已导入过")
			upload = regexp.MustCompile(`name="upload" value="([^"]+)"`).FindStringSubmatch(page)[1]
			status, _, body := c.post(base+"/confirm", url.Values{"csrf": {tok}, "upload": {upload}})
			require.Equal(t, http.StatusOK, status)
			assert.Contains(t, html.UnescapeString(body), "新记录 0 条，以前已导入 2 条")
			assert.Equal(t, before+2, villageEvidence(t, e, villageA), "a re-upload adds nothing")
		})
	})
}
