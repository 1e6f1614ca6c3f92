package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/scoring/evidence/csvrows"
)

// MaxImportFile bounds an uploaded evidence file: 2 MB is some ten
// thousand rows of a clerk's sheet, more than app.MaxImportRows.
const MaxImportFile = 2 << 20

// importTTL is how long a checked file waits for its import.
const importTTL = 15 * time.Minute

// maxPending bounds the checked files kept at once (across sessions).
const maxPending = 200

func (c *Console) importRoutes() {
	v := "villages/{village}/evidence/import"
	c.page("GET "+Prefix+v, false, c.importForm)
	c.upload("POST "+Prefix+v, MaxImportFile+64<<10, c.importCheck, c.importRefused)
	c.page("POST "+Prefix+v+"/confirm", false, c.importConfirm)
	c.page("GET "+Prefix+v+"/template.csv", false, c.importTemplate)
}

// pending keeps each session's last checked file, its importable rows
// only, between the preview and the import: the import form posts back
// the id it was given, and imports exactly these rows. The rows stay in
// memory (a restart forgets them: the clerk uploads again), bound to the
// session, the principal and the village, for importTTL at most.
type pending struct {
	mu sync.Mutex
	m  map[string]*checked // by session (a hash of its token)
}

type checked struct {
	id        string
	village   string
	principal string
	rows      []csvrows.Row
	expires   time.Time
}

func (p *pending) put(session string, ch *checked) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	for k, x := range p.m {
		if now.After(x.expires) {
			delete(p.m, k)
		}
	}
	if _, ok := p.m[session]; !ok && len(p.m) >= maxPending {
		// Full of live previews: the oldest gives way.
		var oldest string
		for k, x := range p.m {
			if oldest == "" || x.expires.Before(p.m[oldest].expires) {
				oldest = k
			}
		}
		delete(p.m, oldest)
	}
	p.m[session] = ch
}

// take removes and returns the session's checked file if it is the one
// with id, for this principal and village, and not expired.
func (p *pending) take(session, id, village, principal string) *checked {
	p.mu.Lock()
	defer p.mu.Unlock()
	ch, ok := p.m[session]
	if !ok || subtle.ConstantTimeCompare([]byte(ch.id), []byte(id)) != 1 {
		return nil
	}
	delete(p.m, session)
	if time.Now().After(ch.expires) || ch.village != village || ch.principal != principal {
		return nil
	}
	return ch
}

// sessionKey names the request's session in pending without keeping its
// token.
func sessionKey(r *http.Request) string {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(ck.Value))
	return hex.EncodeToString(sum[:])
}

// importView is the import page: the form, then the check's report and
// the rows to import, then what the import did.
type importView struct {
	Village   string
	FileError string
	// After a check:
	Checked  bool
	Encoding string
	Lines    []importLine
	Rows     []app.ImportRow
	New      int // rows not imported before
	Already  int
	Upload   string // the id the import form posts back
	// After the import:
	Imported  bool
	Result    app.ImportResult
	Failed    []importLine
	FileLimit int // MB
	Lang      lang
}

// lineTable is a table of row problems (the template "import-lines").
type lineTable struct {
	Lang  lang
	ID    string
	Lines []importLine
}

// ProblemTable is the check's problems as a table.
func (v importView) ProblemTable() lineTable { return lineTable{v.Lang, "problems", v.Lines} }

// FailedTable is the rows the import refused as a table.
func (v importView) FailedTable() lineTable { return lineTable{v.Lang, "failed", v.Failed} }

// importLine is one row problem as the page shows it.
type importLine struct {
	Row                   int
	Column, Value, Reason string
}

// authoriseImport asks for what a check needs: reading the register (by
// number and by list) and submitting evidence.
func (q *request) authoriseImport(village string) error {
	for _, a := range []access.Action{access.EvidenceSubmit, access.HouseholdLookup, access.HouseholdList} {
		if err := q.authorise(a, access.Target{Village: village}); err != nil {
			return err
		}
	}
	return nil
}

func (c *Console) importForm(q *request) error {
	village, err := villageOf(q)
	if err != nil {
		return err
	}
	if err := q.authoriseImport(village); err != nil {
		return err
	}
	c.render(q, http.StatusOK, "clerk_import", importView{Village: village, Lang: q.lang, FileLimit: MaxImportFile >> 20})
	return nil
}

func (c *Console) importTemplate(q *request) error {
	village, err := villageOf(q)
	if err != nil {
		return err
	}
	if err := q.authorise(access.EvidenceSubmit, access.Target{Village: village}); err != nil {
		return err
	}
	name := "积分导入模板.csv"
	if q.lang == en {
		name = "evidence-template.csv"
	}
	q.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	q.w.Header().Set("Content-Disposition", "attachment; filename=\"evidence-template.csv\"; filename*=UTF-8''"+url.PathEscape(name))
	_, err = q.w.Write(csvrows.WordsTemplate(string(q.lang)))
	return err
}

// importRefused answers an upload whose body could not be read as a form
// (too big, or not multipart): nothing was read, its token neither, and
// nothing is written; the page says why next to the file field.
func (c *Console) importRefused(q *request, err error) error {
	village, verr := villageOf(q)
	if verr != nil {
		return verr
	}
	if err := q.authoriseImport(village); err != nil {
		return err
	}
	v := importView{Village: village, Lang: q.lang, FileLimit: MaxImportFile >> 20, FileError: text(q.lang, "imp.not_a_form")}
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		v.FileError = text(q.lang, "imp.too_big", MaxImportFile>>20)
		c.render(q, http.StatusRequestEntityTooLarge, "clerk_import", v)
		return nil
	}
	c.render(q, http.StatusBadRequest, "clerk_import", v)
	return nil
}

// importCheck reads the uploaded file, checks every row and shows the
// report; the importable rows wait in pending for the import.
func (c *Console) importCheck(q *request) error {
	village, err := villageOf(q)
	if err != nil {
		return err
	}
	if err := q.authoriseImport(village); err != nil {
		return err
	}
	v := importView{Village: village, Lang: q.lang, FileLimit: MaxImportFile >> 20}
	file, hdr, err := q.r.FormFile("file")
	if err != nil {
		v.FileError = text(q.lang, "imp.no_file")
		c.render(q, http.StatusBadRequest, "clerk_import", v)
		return nil
	}
	defer file.Close()
	if hdr.Size > MaxImportFile {
		v.FileError = text(q.lang, "imp.too_big", MaxImportFile>>20)
		c.render(q, http.StatusRequestEntityTooLarge, "clerk_import", v)
		return nil
	}
	report, err := c.app.CheckEvidenceCSV(q.r.Context(), q.p, village, io.LimitReader(file, MaxImportFile))
	var ce *csvrows.Error
	switch {
	case errors.As(err, &ce):
		v.FileError = text(q.lang, "imp.unreadable") + ce.Message(string(q.lang))
		c.render(q, http.StatusBadRequest, "clerk_import", v)
		return nil
	case err != nil:
		return err
	}
	v.Checked, v.Encoding, v.Rows, v.Already = true, report.Encoding, report.Rows, report.Already
	v.New = len(report.Rows) - report.Already
	v.Lines = lines(q.lang, report.Problems)
	if len(report.Rows) > 0 {
		rows := make([]csvrows.Row, len(report.Rows))
		for i, r := range report.Rows {
			rows[i] = r.Row
			rows[i].Ref = nil // the 身份证号 is not kept past the check
		}
		v.Upload = randomID()
		c.pending.put(sessionKey(q.r), &checked{id: v.Upload, village: village, principal: q.p.ID, rows: rows,
			expires: time.Now().Add(importTTL)})
	}
	c.render(q, http.StatusOK, "clerk_import", v)
	return nil
}

// importConfirm imports exactly the rows the session's last check found
// importable.
func (c *Console) importConfirm(q *request) error {
	village, err := villageOf(q)
	if err != nil {
		return err
	}
	if err := q.authoriseImport(village); err != nil {
		return err
	}
	v := importView{Village: village, Lang: q.lang, FileLimit: MaxImportFile >> 20}
	ch := c.pending.take(sessionKey(q.r), q.r.PostFormValue("upload"), village, q.p.ID)
	if ch == nil {
		v.FileError = text(q.lang, "imp.expired")
		c.render(q, http.StatusConflict, "clerk_import", v)
		return nil
	}
	res, err := c.app.ImportEvidence(q.r.Context(), q.p, village, ch.rows)
	if err != nil {
		return err
	}
	v.Imported, v.Result, v.Failed = true, res, lines(q.lang, res.Failed)
	c.render(q, http.StatusOK, "clerk_import", v)
	return nil
}

// lines words the row problems in l: the file's own and the service's
// refusals alike come worded from csvrows, in both languages.
func lines(l lang, ps []app.ImportProblem) []importLine {
	out := make([]importLine, 0, len(ps))
	for _, p := range ps {
		out = append(out, importLine{Row: p.Row, Column: csvrows.ColumnLabel(p.Column, string(l)), Value: p.Value,
			Reason: p.Problem.Message(string(l))})
	}
	return out
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// importMessages are the import page's texts, merged into messages.
var importMessages = map[string][2]string{
	"imp.nav":         {"批量导入", "Import a sheet"},
	"imp.title":       {"从表格导入积分记录", "Import points records from a spreadsheet"},
	"imp.intro":       {"把村里记的积分表格（CSV 文件，Excel 另存为「CSV」即可，UTF-8 或 GBK 都行）传上来。先检查每一行，确认后再导入；同一个文件再传一次不会重复记。", "Upload the village's points spreadsheet (a CSV file: in Excel, Save As CSV; UTF-8 or GBK). Every row is checked first and imported only when you confirm; uploading the same file again records nothing twice."},
	"imp.how":         {"每行写明是哪一户：填户主身份证号，或户主姓名和组（同组有重名的，再填门牌）。事项代码见「积分事项」页。", "Each row says which household: the head's ID card number, or the head's name and group (and the house number when two heads of a group share a name). Item codes are on the Points items page."},
	"imp.template":    {"下载空白表格（模板）", "Download a blank sheet (template)"},
	"imp.file":        {"选择 CSV 文件（最大 %d MB）", "Choose the CSV file (at most %d MB)"},
	"imp.check":       {"上传并检查", "Upload and check"},
	"imp.no_file":     {"请选择一个 CSV 文件。", "Please choose a CSV file."},
	"imp.too_big":     {"文件太大，最大 %d MB，请分成几个文件导入。", "The file is too big: at most %d MB; split it into several files."},
	"imp.not_a_form":  {"没有收到文件，请重新选择文件上传。", "No file arrived; choose the file and upload it again."},
	"imp.unreadable":  {"这个文件无法导入：", "This file cannot be imported: "},
	"imp.expired":     {"检查结果已过期（超过15分钟或已导入过），请重新上传文件。", "The check has expired (after 15 minutes, or it was already imported); upload the file again."},
	"imp.report":      {"检查结果", "What the check found"},
	"imp.encoding":    {"文件编码", "File encoding"},
	"imp.summary":     {"可导入 %d 行（其中 %d 行以前已导入，不会重复记），有问题 %d 处。", "%d rows can be imported (%d of them were imported before and will not be recorded twice); %d problems."},
	"imp.problems":    {"有问题的行（不会导入）", "Rows with problems (not imported)"},
	"imp.no_problems": {"没有发现问题。", "No problems found."},
	"imp.row":         {"行", "Row"},
	"imp.column":      {"列", "Column"},
	"imp.value":       {"内容", "Value"},
	"imp.reason":      {"原因", "Reason"},
	"imp.valid":       {"将导入的行", "Rows to import"},
	"imp.household":   {"农户", "Household"},
	"imp.item":        {"事项", "Item"},
	"imp.date":        {"发生日期", "Date"},
	"imp.quantity":    {"数量", "Quantity"},
	"imp.state":       {"状态", "Status"},
	"imp.new":         {"新记录", "New"},
	"imp.already":     {"已导入过", "Imported before"},
	"imp.confirm":     {"导入这 %d 行", "Import these %d rows"},
	"imp.none_valid":  {"没有可以导入的行，请改好表格后重新上传。", "No row can be imported; correct the sheet and upload it again."},
	"imp.done":        {"导入完成：新记录 %d 条，以前已导入 %d 条（没有重复记）。需要审核的事项已交村务审核员。", "Imported: %d new records, %d imported before (not recorded twice). Items that need review are waiting for the reviewer."},
	"imp.failed":      {"导入时被拒绝的行", "Rows refused during the import"},
	"imp.again":       {"再导入一个文件", "Import another file"},
}

func init() { addMessages(importMessages) }
