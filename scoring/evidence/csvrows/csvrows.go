// Package csvrows reads the evidence spreadsheet a village clerk keeps — a
// CSV file, one row per act worth points — into evidence.SubmitInput values,
// with a report of every row that cannot be imported and why.
//
// The package is pure: it reads only the io.Reader it is given, and it
// checks only what can be checked from the file itself (formats, lengths,
// uniqueness within the file). Whether an item code is in the village's
// catalogue, whether a household exists, whether a date is in the future are
// the evidence service's business; Refusal words the service's refusal of
// a row in the same two languages as the file's own problems.
//
// # File format
//
// A header row, then one row per act. Header names are matched
// case-insensitively after trimming spaces, in Chinese or English, in any
// order:
//
//	户编号   household        see below household UUID, or villages/{village}/households/{uuid}
//	身份证号 id_number        see below the head of household's 身份证号
//	户主姓名 head_name        see below the head's name, as registered
//	组       group            see below the villagers' group, 1..99 ("3" or "3组")
//	门牌     address          optional  the 门牌 as registered
//	事项代码 item_code        required  catalogue item code
//	发生日期 occurred_on      required  2024-03-05, 2024/3/5, 2024.3.5 or 2024年3月5日
//	数量     quantity         optional  whole number 1..1000, default 1
//	说明     note             optional  at most 500 characters
//	照片哈希 photo_sha256     optional  SHA-256 hex digests, several separated by ; or ；
//	材料哈希 document_sha256  optional  as photo_sha256
//	证明人   witness          optional  at most 100 characters
//	系统来源 system_source    optional  at most 100 characters
//	编号     request_id       optional  unique within the file; derived from the row when blank
//
// Each row names its household one way: by 户编号 (what the CLI has always
// read), or — in the words of the village — by the head's 身份证号, or by
// the head's name and group (and 门牌, when two heads of one group share a
// name). The header must carry at least one of these ways. A row that gives
// a 户编号 uses it and ignores the other ways. Matching words to a household
// needs the register: ReadResolving takes a Resolver that does it (the
// application layer's, over the store); Read has none and reports such rows
// as NotResolved.
//
// Files may be UTF-8 (with or without a byte order mark) or GBK/GB18030,
// which is what Excel writes for "CSV (逗号分隔)" on a Chinese Windows.
//
// # Row numbers
//
// Problems name rows as a spreadsheet shows them: the header is row 1 when
// it is the first line, every blank line is a row, and a record whose quoted
// cells span several lines of the file is still one row. Problem.Line gives
// the line of the file where the row starts, which differs from Row only
// after a multi-line cell.
package csvrows

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/evidence"
)

// Limits checked per row. The length limits mirror the evidence service's,
// so that a clerk learns about them before anything is submitted.
const (
	MaxQuantity     = 1000
	MaxNote         = 500 // characters
	MaxWitness      = 100 // characters
	MaxSystemSource = 100 // characters
	MaxRequestID    = 100 // bytes (the service counts bytes)
	MaxAttachments  = 20  // photos and documents together
)

// Encodings reported in File.Encoding.
const (
	UTF8    = "UTF-8"
	UTF8BOM = "UTF-8 with BOM"
	GB18030 = "GB18030" // includes GBK and GB2312
)

// Reason is a stable code for what is wrong; API layers and the CLI map it
// without parsing messages.
type Reason string

// Row problems: the row is left out of File.Rows, the rest of the file is
// read.
const (
	// WrongColumnCount: the row has more or fewer cells than the header.
	// Got is the row's cell count, Limit the header's.
	WrongColumnCount Reason = "wrong_column_count"
	// MissingValue: a required cell is blank.
	MissingValue Reason = "missing_value"
	// BadDate: not a real date in one of the accepted forms.
	BadDate Reason = "bad_date"
	// BadQuantity: Detail is DetailNotInteger, DetailNotPositive or
	// DetailTooLarge (Limit is MaxQuantity).
	BadQuantity Reason = "bad_quantity"
	// BadHash: Value is the entry that is not 64 hex digits.
	BadHash Reason = "bad_hash"
	// TooManyAttachments: Got hashes in the row, Limit allowed.
	TooManyAttachments Reason = "too_many_attachments"
	// BadHousehold: neither a UUID nor villages/{12 digits}/households/{uuid}.
	BadHousehold Reason = "bad_household"
	// WrongVillage: a household resource name of another village than the
	// one being imported.
	WrongVillage Reason = "wrong_village"
	// TooLong: Got characters (bytes for request_id), Limit allowed.
	TooLong Reason = "too_long"
	// DuplicateRequestID: the same request id is on several rows; all of
	// them are left out. OtherRow is another row carrying it.
	DuplicateRequestID Reason = "duplicate_request_id"
	// MissingHousehold: the row names its household no way at all.
	MissingHousehold Reason = "missing_household"
	// BadIDNumber: the 身份证号 cell is not a valid 18-character number
	// (Value masked).
	BadIDNumber Reason = "bad_id_number"
	// BadGroup: the group is not a whole number 1..99.
	BadGroup Reason = "bad_group"
	// NoSuchHousehold: the village has no household that the row's
	// 身份证号, or name, group and 门牌, name.
	NoSuchHousehold Reason = "no_such_household"
	// AmbiguousHousehold: Got households of the village match the head's
	// name, group and 门牌; the row must say which (its 身份证号 or 门牌).
	AmbiguousHousehold Reason = "ambiguous_household"
	// NotResolved: the row names its household by 身份证号 or name, and
	// the reader was given no Resolver (the CLI needs the 户编号).
	NotResolved Reason = "not_resolved"
	// ContainsIDNumber: a free-text cell holds what is evidently an
	// 18-character 身份证号 (its check digit is right). ID numbers must not
	// be stored in notes.
	ContainsIDNumber Reason = "contains_id_number"
)

// File problems: Read returns an *Error holding them and no File.
const (
	// BadVillage: the village argument is not a 12-digit village code.
	BadVillage Reason = "bad_village"
	// ReadFailed: the reader returned an error.
	ReadFailed Reason = "read_failed"
	// BadEncoding: neither UTF-8 nor GB18030 (Detail "utf-16" for a
	// UTF-16 file, which Excel writes for "Unicode text").
	BadEncoding Reason = "bad_encoding"
	// NoHeader: the file has no non-blank line.
	NoHeader Reason = "no_header"
	// UnknownColumn: a header cell names no known column (Column is the
	// header text, Got its 1-based position; blank when Column is "").
	UnknownColumn Reason = "unknown_column"
	// DuplicateColumn: two header cells name the same column (Got and
	// Limit are their positions).
	DuplicateColumn Reason = "duplicate_column"
	// MissingColumn: a required column is not in the header.
	MissingColumn Reason = "missing_column"
	// NoHouseholdColumn: the header names households no way: none of
	// 户编号, 身份证号, or 户主姓名 with 组.
	NoHouseholdColumn Reason = "no_household_column"
	// MalformedCSV: quotes that do not pair up; Line is the line of the
	// file where reading failed, Detail the parser's message.
	MalformedCSV Reason = "malformed_csv"
	// TooManyRows: more than Limit data rows.
	TooManyRows Reason = "too_many_rows"
)

// Details refining BadQuantity.
const (
	DetailNotInteger  = "not_integer"
	DetailNotPositive = "not_positive"
	DetailTooLarge    = "too_large"
)

// Problem is one thing wrong with the file or one of its rows.
type Problem struct {
	// Row is the spreadsheet row (header row = 1 when it is the first
	// line); 0 for problems not tied to a row.
	Row int
	// Line is the 1-based line of the file where the row starts (for
	// MalformedCSV, where reading failed).
	Line int
	// Column is the canonical (English) column name, e.g. "occurred_on";
	// for UnknownColumn the header text as written.
	Column string
	// Value is the offending value, with anything that looks like an ID
	// number masked and long values shortened; safe to show and log.
	Value  string
	Reason Reason
	// Detail refines Reason: a Detail* constant, or for MalformedCSV and
	// BadHousehold a short English explanation.
	Detail string
	// Got, Limit and OtherRow are the numbers the message refers to; see
	// the Reason constants.
	Got, Limit, OtherRow int
}

// Row is one importable row.
type Row struct {
	Row   int // spreadsheet row
	Line  int // line of the file where the row starts
	Input evidence.SubmitInput
	// DerivedID is true when Input.RequestID was derived from the row's
	// content rather than read from the request_id column.
	DerivedID bool
	// Ref is how the row named its household when it gave no 户编号
	// (Input.Parent is then what the Resolver matched); nil otherwise.
	Ref *HouseholdRef
}

// HouseholdRef is a household named in the words of the village: the
// head's 身份证号, or the head's name and group and, when given, 门牌.
type HouseholdRef struct {
	// IDNumber is the head's 身份证号 (zero when the row names the head
	// instead); it prints masked.
	IDNumber idnum.PersonID
	HeadName string
	Group    int32
	Address  string // "" matches any 门牌
}

// Masked returns the reference as it may be shown: the 身份证号 masked.
func (r HouseholdRef) Masked() string {
	if !r.IDNumber.IsZero() {
		return r.IDNumber.Masked()
	}
	return fmt.Sprintf("%s/%d/%s", r.HeadName, r.Group, r.Address)
}

// Match is what a Resolver found for one reference: the household's
// resource name when exactly one matched, else how many did (0 or more
// than 1).
type Match struct {
	Parent string
	Found  int
}

// A Resolver finds the households refs name, one Match per ref in order.
// Its error stops the read (a store that failed, not a row's problem).
type Resolver func(refs []HouseholdRef) ([]Match, error)

// File is what Read found.
type File struct {
	// Encoding is UTF8, UTF8BOM or GB18030.
	Encoding string
	// Columns are the canonical names of the header's columns, in file
	// order.
	Columns []string
	// Rows are the rows without problems, in file order.
	Rows []Row
	// Problems are the row problems, by row.
	Problems []Problem
	// Skipped counts blank rows after the header.
	Skipped int
}

// Inputs returns the submissions of f.Rows, in order.
func (f *File) Inputs() []evidence.SubmitInput {
	out := make([]evidence.SubmitInput, len(f.Rows))
	for i, r := range f.Rows {
		out[i] = r.Input
	}
	return out
}

// Error is a problem that stops the whole file from being read.
type Error struct {
	Problems []Problem
	// Err is the reader's error for ReadFailed.
	Err error
}

// Error returns the English message.
func (e *Error) Error() string { return e.Message("en") }

// Unwrap returns the reader's error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Message joins the problems' messages in lang.
func (e *Error) Message(lang string) string {
	sep := "；"
	if isEnglish(lang) {
		sep = "; "
	}
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Message(lang)
	}
	return strings.Join(msgs, sep)
}

// Reasons returns the reasons of e's problems.
func (e *Error) Reasons() []Reason {
	out := make([]Reason, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.Reason
	}
	return out
}

func fatal(p ...Problem) *Error { return &Error{Problems: p} }

// column describes one accepted column.
type column struct {
	key      string // canonical English name
	zh       string
	required bool
}

const (
	colHousehold    = "household"
	colItemCode     = "item_code"
	colOccurredOn   = "occurred_on"
	colQuantity     = "quantity"
	colNote         = "note"
	colPhoto        = "photo_sha256"
	colDocument     = "document_sha256"
	colWitness      = "witness"
	colSystemSource = "system_source"
	colRequestID    = "request_id"
	colIDNumber     = "id_number"
	colHeadName     = "head_name"
	colGroup        = "group"
	colAddress      = "address"
)

// columns in template order. The household is required one of several
// ways (see parseHeader), so none of its columns is required alone.
var columns = []column{
	{colHousehold, "户编号", false},
	{colItemCode, "事项代码", true},
	{colOccurredOn, "发生日期", true},
	{colQuantity, "数量", false},
	{colNote, "说明", false},
	{colPhoto, "照片哈希", false},
	{colDocument, "材料哈希", false},
	{colWitness, "证明人", false},
	{colSystemSource, "系统来源", false},
	{colRequestID, "编号", false},
	{colIDNumber, "身份证号", false},
	{colHeadName, "户主姓名", false},
	{colGroup, "组", false},
	{colAddress, "门牌", false},
}

// aliases are other headers clerks write for the same columns.
var aliases = map[string]string{
	"户主身份证号": colIDNumber, "户主": colHeadName, "村民小组": colGroup, "门牌号": colAddress,
}

// legacyTemplate is the CLI's template: households by 户编号.
var legacyTemplate = []string{colHousehold, colItemCode, colOccurredOn, colQuantity, colNote, colPhoto,
	colDocument, colWitness, colSystemSource, colRequestID}

// wordsTemplate is the console's: households in the village's words.
var wordsTemplate = []string{colIDNumber, colHeadName, colGroup, colAddress, colItemCode, colOccurredOn,
	colQuantity, colNote, colWitness, colRequestID}

// headerKey maps a header cell (lower-cased) to its canonical name.
var headerKey = func() map[string]string {
	m := map[string]string{}
	for _, c := range columns {
		m[c.key] = c.key
		m[strings.ToLower(c.zh)] = c.key
	}
	for a, key := range aliases {
		m[a] = key
	}
	return m
}()

// ColumnLabel returns how a column is headed in lang: its Chinese header,
// or in English its canonical name ("" stays "").
func ColumnLabel(key, lang string) string {
	if key == "" || isEnglish(lang) {
		return key
	}
	return zhLabel(key)
}

func zhLabel(key string) string {
	for _, c := range columns {
		if c.key == key {
			return c.zh
		}
	}
	return key
}

// Template returns a header-only CSV, UTF-8 with a byte order mark so that
// Excel opens it as UTF-8, with Chinese headers unless lang is English.
// Households are named by 户编号 (the CLI's form).
func Template(lang string) []byte { return template(lang, legacyTemplate) }

// WordsTemplate is Template with households named in the village's words
// (身份证号, or 户主姓名, 组 and 门牌) instead of by 户编号: the console's.
func WordsTemplate(lang string) []byte { return template(lang, wordsTemplate) }

func template(lang string, keys []string) []byte {
	var b bytes.Buffer
	b.WriteString("\uFEFF")
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	head := make([]string, len(keys))
	for i, k := range keys {
		head[i] = zhLabel(k)
		if isEnglish(lang) {
			head[i] = k
		}
	}
	_ = w.Write(head) // a bytes.Buffer does not fail
	w.Flush()
	return b.Bytes()
}

// Read reads a clerk's evidence spreadsheet for the village with the given
// 12-digit code. Households given as bare UUIDs are taken to be of that
// village; resource names of another village are row problems.
//
// Read returns an *Error, and no File, when the file as a whole cannot be
// used: unreadable, not UTF-8 or GB18030, empty, a header with unknown,
// duplicated or missing required columns, unpaired quotes, or more than
// maxRows non-blank data rows (maxRows <= 0: no limit). Every other problem
// is a row problem: the row is reported in File.Problems and left out of
// File.Rows.
//
// Read reads all of r into memory; callers taking uploads should bound it
// (io.LimitReader).
func Read(r io.Reader, village string, maxRows int) (*File, error) {
	return ReadResolving(r, village, maxRows, nil)
}

// ReadResolving is Read with households named in words (身份证号, or name,
// group and 门牌) matched by resolve: a row whose words match no household
// is NoSuchHousehold, one matching several AmbiguousHousehold. resolve is
// called once, with every such row's reference, before request ids are
// derived (a derived id covers the matched household, as it covers a
// 户编号, so the same act imports once however its row names the
// household). A nil resolve leaves such rows NotResolved.
func ReadResolving(r io.Reader, village string, maxRows int, resolve Resolver) (*File, error) {
	if _, err := idnum.ParseVillageCode(village); err != nil {
		return nil, fatal(Problem{Reason: BadVillage, Value: mask(village), Detail: err.Error()})
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, &Error{Problems: []Problem{{Reason: ReadFailed, Detail: err.Error()}}, Err: err}
	}
	text, enc, perr := decode(raw)
	if perr != nil {
		return nil, fatal(*perr)
	}
	// Classic Mac line endings ("CSV (Macintosh)"): bare CRs only.
	if !strings.Contains(text, "\n") && strings.Contains(text, "\r") {
		text = strings.ReplaceAll(text, "\r", "\n")
	}

	rd := newRecordReader(text)
	var head record
	for {
		head, err = rd.next()
		if err == io.EOF {
			return nil, fatal(Problem{Reason: NoHeader})
		}
		if err != nil {
			return nil, err
		}
		if !allBlank(head.cells) {
			break
		}
	}
	cols, herr := parseHeader(head)
	if herr != nil {
		return nil, herr
	}

	f := &File{Encoding: enc, Columns: cols}
	var cands []*candidate
	dataRows := 0
	for {
		rec, err := rd.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		f.Skipped += rec.blankBefore
		if allBlank(rec.cells) {
			f.Skipped++
			continue
		}
		dataRows++
		if maxRows > 0 && dataRows > maxRows {
			return nil, fatal(Problem{Row: rec.row, Line: rec.line, Reason: TooManyRows, Limit: maxRows})
		}
		cands = append(cands, parseRow(rec, cols, village))
	}
	f.Skipped += rd.trailingBlank()

	if err := resolveRefs(cands, resolve); err != nil {
		return nil, err
	}
	for _, c := range cands {
		c.setContent()
	}
	assignRequestIDs(cands)
	for _, c := range cands {
		if len(c.problems) > 0 {
			f.Problems = append(f.Problems, c.problems...)
			continue
		}
		f.Rows = append(f.Rows, Row{Row: c.row, Line: c.line, Input: c.in, DerivedID: c.derived, Ref: c.ref})
	}
	sort.SliceStable(f.Problems, func(i, j int) bool { return f.Problems[i].Row < f.Problems[j].Row })
	return f, nil
}

// decode detects the encoding and returns the text.
func decode(raw []byte) (string, string, *Problem) {
	switch {
	case bytes.HasPrefix(raw, []byte{0xEF, 0xBB, 0xBF}):
		rest := raw[3:]
		if !utf8.Valid(rest) {
			return "", "", &Problem{Reason: BadEncoding, Detail: "byte order mark says UTF-8 but the bytes are not"}
		}
		return string(rest), UTF8BOM, nil
	case bytes.HasPrefix(raw, []byte{0xFF, 0xFE}), bytes.HasPrefix(raw, []byte{0xFE, 0xFF}):
		return "", "", &Problem{Reason: BadEncoding, Detail: "utf-16"}
	case utf8.Valid(raw):
		return string(raw), UTF8, nil
	}
	// The GB18030 byte order mark, seldom written but harmless to drop.
	raw = bytes.TrimPrefix(raw, []byte{0x84, 0x31, 0x95, 0x33})
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(raw)
	if err != nil || bytes.ContainsRune(out, utf8.RuneError) {
		return "", "", &Problem{Reason: BadEncoding, Detail: "neither UTF-8 nor GB18030"}
	}
	return string(out), GB18030, nil
}

// record is one CSV record with its position.
type record struct {
	cells       []string
	row, line   int
	blankBefore int // blank lines between the previous record and this one
}

// recordReader wraps csv.Reader and keeps spreadsheet row numbers.
type recordReader struct {
	cr      *csv.Reader
	text    string
	row     int // spreadsheet row of the last record
	endLine int // file line where the last record ends
}

func newRecordReader(text string) *recordReader {
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = false
	cr.ReuseRecord = false
	return &recordReader{cr: cr, text: text}
}

func (r *recordReader) next() (record, error) {
	cells, err := r.cr.Read()
	if err == io.EOF {
		return record{}, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			row := r.row + (pe.StartLine - r.endLine)
			return record{}, fatal(Problem{Row: row, Line: pe.Line, Reason: MalformedCSV, Detail: pe.Err.Error()})
		}
		return record{}, fatal(Problem{Reason: MalformedCSV, Detail: err.Error()})
	}
	start, _ := r.cr.FieldPos(0)
	last := len(cells) - 1
	lastLine, _ := r.cr.FieldPos(last)
	end := lastLine + strings.Count(cells[last], "\n")
	blank := start - r.endLine - 1
	rec := record{cells: cells, row: r.row + blank + 1, line: start, blankBefore: blank}
	r.row, r.endLine = rec.row, end
	return rec, nil
}

// trailingBlank counts the blank lines after the last record.
func (r *recordReader) trailingBlank() int {
	lines := strings.Count(r.text, "\n")
	if !strings.HasSuffix(r.text, "\n") {
		lines++
	}
	if n := lines - r.endLine; n > 0 {
		return n
	}
	return 0
}

func allBlank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// parseHeader maps header cells to canonical column names. Blank cells
// after the last named column (Excel writes them when a stray cell to the
// right was ever used) are dropped.
func parseHeader(h record) ([]string, *Error) {
	cells := h.cells
	for len(cells) > 0 && strings.TrimSpace(cells[len(cells)-1]) == "" {
		cells = cells[:len(cells)-1]
	}
	var probs []Problem
	cols := make([]string, len(cells))
	seen := map[string]int{}
	for i, c := range cells {
		name := strings.TrimSpace(c)
		key, ok := headerKey[strings.ToLower(name)]
		if !ok {
			probs = append(probs, Problem{Row: h.row, Line: h.line, Column: mask(name), Value: mask(name), Reason: UnknownColumn, Got: i + 1})
			continue
		}
		if first, dup := seen[key]; dup {
			probs = append(probs, Problem{Row: h.row, Line: h.line, Column: key, Value: name, Reason: DuplicateColumn, Got: first, Limit: i + 1})
			continue
		}
		seen[key] = i + 1
		cols[i] = key
	}
	_, byID := seen[colHousehold]
	_, byNumber := seen[colIDNumber]
	_, byName := seen[colHeadName]
	_, byGroup := seen[colGroup]
	if !byID && !byNumber && !(byName && byGroup) {
		probs = append(probs, Problem{Row: h.row, Line: h.line, Column: colIDNumber, Reason: NoHouseholdColumn})
	}
	for _, c := range columns {
		if _, ok := seen[c.key]; c.required && !ok {
			probs = append(probs, Problem{Row: h.row, Line: h.line, Column: c.key, Reason: MissingColumn})
		}
	}
	if len(probs) > 0 {
		return nil, fatal(probs...)
	}
	return cols, nil
}

// candidate is a data row on its way to a Row.
type candidate struct {
	row, line int
	in        evidence.SubmitInput
	problems  []Problem
	explicit  bool   // request id given in the file
	content   string // normalised content, for a derived request id
	derived   bool
	ref       *HouseholdRef // the household in words, to be resolved
	refColumn string        // the column a resolution problem names
	refValue  string
	photos    []string
	docs      []string
}

// resolveRefs matches the rows' household references with resolve.
func resolveRefs(cands []*candidate, resolve Resolver) error {
	var refs []HouseholdRef
	var of []*candidate
	for _, c := range cands {
		if c.ref != nil {
			refs = append(refs, *c.ref)
			of = append(of, c)
		}
	}
	if len(refs) == 0 {
		return nil
	}
	if resolve == nil {
		for _, c := range of {
			c.add(Problem{Column: c.refColumn, Value: c.refValue, Reason: NotResolved})
		}
		return nil
	}
	ms, err := resolve(refs)
	if err != nil {
		return err
	}
	if len(ms) != len(refs) {
		return fmt.Errorf("csvrows: resolver answered %d of %d references", len(ms), len(refs))
	}
	for i, c := range of {
		switch m := ms[i]; {
		case m.Found == 1 && m.Parent != "":
			c.in.Parent = m.Parent
		case m.Found > 1:
			c.add(Problem{Column: c.refColumn, Value: c.refValue, Reason: AmbiguousHousehold, Got: m.Found})
		default:
			c.add(Problem{Column: c.refColumn, Value: c.refValue, Reason: NoSuchHousehold})
		}
	}
	return nil
}

// setContent records the row's normalised content (household included),
// from which a request id is derived when the file gives none.
func (c *candidate) setContent() {
	if len(c.problems) > 0 {
		return
	}
	c.content = strings.Join([]string{
		c.in.Parent, c.in.ItemCode, c.in.OccurredOn, strconv.Itoa(int(c.in.Quantity)),
		c.in.Note, strings.Join(c.photos, ";"), strings.Join(c.docs, ";"),
		c.in.Witness, c.in.SystemSource,
	}, "\x1f")
}

func (c *candidate) add(p Problem) {
	p.Row, p.Line = c.row, c.line
	p.Value = mask(p.Value)
	c.problems = append(c.problems, p)
}

// parseRow validates one non-blank data row.
func parseRow(rec record, cols []string, village string) *candidate {
	c := &candidate{row: rec.row, line: rec.line, in: evidence.SubmitInput{Kind: evidence.Points, Quantity: 1}}
	cells := rec.cells
	width := len(cols)
	got := len(cells)
	for got > width && strings.TrimSpace(cells[got-1]) == "" {
		got--
	}
	if got != width {
		c.add(Problem{Reason: WrongColumnCount, Got: got, Limit: width})
		return c
	}
	val := map[string]string{}
	for i, key := range cols {
		val[key] = strings.TrimSpace(cells[i])
	}

	c.household(val, cols, village)
	// item_code
	if v := val[colItemCode]; v == "" {
		c.add(Problem{Column: colItemCode, Reason: MissingValue})
	} else {
		c.in.ItemCode = v
	}
	// occurred_on
	if v := val[colOccurredOn]; v == "" {
		c.add(Problem{Column: colOccurredOn, Reason: MissingValue})
	} else if d, ok := parseDate(v); !ok {
		c.add(Problem{Column: colOccurredOn, Value: v, Reason: BadDate})
	} else {
		c.in.OccurredOn = d
	}
	// quantity
	if v := val[colQuantity]; v != "" {
		if q, p := parseQuantity(v); p != nil {
			c.add(*p)
		} else {
			c.in.Quantity = q
		}
	}
	// free text
	c.in.Note = c.text(val, colNote, MaxNote)
	c.in.Witness = c.text(val, colWitness, MaxWitness)
	c.in.SystemSource = c.text(val, colSystemSource, MaxSystemSource)
	// attachments
	photos := c.hashes(val[colPhoto], colPhoto)
	docs := c.hashes(val[colDocument], colDocument)
	c.photos, c.docs = photos, docs
	if n := len(photos) + len(docs); n > MaxAttachments {
		c.add(Problem{Column: colPhoto, Reason: TooManyAttachments, Got: n, Limit: MaxAttachments})
	}
	for _, h := range photos {
		c.in.Attachments = append(c.in.Attachments, evidence.Attachment{Kind: "photo", SHA256: h})
	}
	for _, h := range docs {
		c.in.Attachments = append(c.in.Attachments, evidence.Attachment{Kind: "document", SHA256: h})
	}
	// request_id
	if v := val[colRequestID]; v != "" {
		c.explicit = true
		switch {
		case len(v) > MaxRequestID:
			c.add(Problem{Column: colRequestID, Value: v, Reason: TooLong, Got: len(v), Limit: MaxRequestID})
		case hasIDNumber(v):
			c.add(Problem{Column: colRequestID, Value: v, Reason: ContainsIDNumber})
		default:
			c.in.RequestID = v
		}
	}
	return c
}

// household reads how the row names its household: by 户编号, else by
// 身份证号, else by the head's name and group (and 门牌).
func (c *candidate) household(val map[string]string, cols []string, village string) {
	if v := val[colHousehold]; v != "" {
		if parent, p := parseHousehold(v, village); p != nil {
			c.add(*p)
		} else {
			c.in.Parent = parent
		}
		return
	}
	if v := val[colIDNumber]; v != "" {
		id, err := idnum.ParsePersonID(strings.ToUpper(v))
		if err != nil {
			c.add(Problem{Column: colIDNumber, Value: v, Reason: BadIDNumber})
			return
		}
		c.ref = &HouseholdRef{IDNumber: id}
		c.refColumn, c.refValue = colIDNumber, id.Masked()
		return
	}
	name, group, addr := val[colHeadName], val[colGroup], val[colAddress]
	if name == "" && group == "" && addr == "" {
		// A file that names households only by 户编号 reads as it always
		// has: that cell is blank.
		if !slices.Contains(cols, colIDNumber) && !slices.Contains(cols, colHeadName) {
			c.add(Problem{Column: colHousehold, Reason: MissingValue})
			return
		}
		c.add(Problem{Column: colIDNumber, Reason: MissingHousehold})
		return
	}
	ok := true
	if name == "" {
		c.add(Problem{Column: colHeadName, Reason: MissingValue})
		ok = false
	} else if hasIDNumber(name) {
		c.add(Problem{Column: colHeadName, Value: name, Reason: ContainsIDNumber})
		ok = false
	}
	var g int
	if group == "" {
		c.add(Problem{Column: colGroup, Reason: MissingValue})
		ok = false
	} else if n, err := strconv.Atoi(strings.TrimSuffix(group, "组")); err != nil || n < 1 || n > 99 {
		c.add(Problem{Column: colGroup, Value: group, Reason: BadGroup})
		ok = false
	} else {
		g = n
	}
	if ok {
		c.ref = &HouseholdRef{HeadName: name, Group: int32(g), Address: addr}
		c.refColumn, c.refValue = colHeadName, fmt.Sprintf("%s（%d组%s）", name, g, addrSuffix(addr))
	}
}

func addrSuffix(addr string) string {
	if addr == "" {
		return ""
	}
	return "，" + addr
}

// text reads an optional free-text cell.
func (c *candidate) text(val map[string]string, key string, max int) string {
	v := val[key]
	if n := utf8.RuneCountInString(v); n > max {
		c.add(Problem{Column: key, Value: v, Reason: TooLong, Got: n, Limit: max})
		return ""
	}
	if hasIDNumber(v) {
		c.add(Problem{Column: key, Value: v, Reason: ContainsIDNumber})
		return ""
	}
	return v
}

var hexDigest = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// hashes reads a cell of SHA-256 digests separated by ; or ； (or white
// space: one per line within the cell works too).
func (c *candidate) hashes(v, key string) []string {
	parts := strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == '；' || unicode.IsSpace(r) })
	var out []string
	for _, p := range parts {
		if !hexDigest.MatchString(p) {
			c.add(Problem{Column: key, Value: p, Reason: BadHash})
			continue
		}
		out = append(out, strings.ToLower(p))
	}
	return out
}

// parseHousehold reads a household UUID or resource name.
func parseHousehold(v, village string) (string, *Problem) {
	bad := func(detail string) *Problem {
		return &Problem{Column: colHousehold, Value: v, Reason: BadHousehold, Detail: detail}
	}
	if !strings.Contains(v, "/") {
		id, ok := canonicalUUID(v)
		if !ok {
			return "", bad("not a UUID")
		}
		return resource.Household(village, id), nil
	}
	parts := strings.Split(v, "/")
	if len(parts) != 4 || parts[0] != "villages" || parts[2] != "households" {
		return "", bad("not villages/{village}/households/{uuid}")
	}
	if _, err := idnum.ParseVillageCode(parts[1]); err != nil {
		return "", bad("bad village code: " + err.Error())
	}
	id, ok := canonicalUUID(parts[3])
	if !ok {
		return "", bad("household id is not a UUID")
	}
	if parts[1] != village {
		return "", &Problem{Column: colHousehold, Value: v, Reason: WrongVillage}
	}
	return resource.Household(village, id), nil
}

// canonicalUUID accepts the 36-character hyphenated form in either case and
// returns it in lower case.
func canonicalUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return u.String(), true
}

var (
	dateSep = regexp.MustCompile(`^([0-9]{4})([-/.])([0-9]{1,2})([-/.])([0-9]{1,2})$`)
	dateZh  = regexp.MustCompile(`^([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日$`)
)

// parseDate accepts YYYY-MM-DD, YYYY/M/D, YYYY.M.D (one separator
// throughout, month and day with or without a leading zero) and
// YYYY年M月D日, and returns YYYY-MM-DD.
func parseDate(s string) (string, bool) {
	var y, m, d string
	if p := dateSep.FindStringSubmatch(s); p != nil {
		if p[2] != p[4] {
			return "", false
		}
		y, m, d = p[1], p[3], p[5]
	} else if p := dateZh.FindStringSubmatch(s); p != nil {
		y, m, d = p[1], p[2], p[3]
	} else {
		return "", false
	}
	yi, _ := strconv.Atoi(y)
	mi, _ := strconv.Atoi(m)
	di, _ := strconv.Atoi(d)
	t := time.Date(yi, time.Month(mi), di, 0, 0, 0, 0, time.UTC)
	if yi < 1 || t.Year() != yi || int(t.Month()) != mi || t.Day() != di {
		return "", false
	}
	return t.Format(time.DateOnly), true
}

var digitsOnly = regexp.MustCompile(`^[0-9]+$`)

// parseQuantity reads a whole number 1..MaxQuantity.
func parseQuantity(v string) (int32, *Problem) {
	p := &Problem{Column: colQuantity, Value: v, Reason: BadQuantity}
	neg := strings.HasPrefix(v, "-")
	body := strings.TrimPrefix(strings.TrimPrefix(v, "-"), "+")
	switch {
	case !digitsOnly.MatchString(body):
		p.Detail = DetailNotInteger
		return 0, p
	case neg || strings.Trim(body, "0") == "":
		p.Detail = DetailNotPositive
		return 0, p
	}
	n, err := strconv.Atoi(body)
	if err != nil || n > MaxQuantity {
		p.Detail, p.Limit = DetailTooLarge, MaxQuantity
		return 0, p
	}
	return int32(n), nil
}

// assignRequestIDs derives request ids for rows without one and reports
// request ids used by more than one row.
func assignRequestIDs(cands []*candidate) {
	seenContent := map[string]int{}
	for _, c := range cands {
		if c.explicit || len(c.problems) > 0 {
			continue
		}
		seenContent[c.content]++
		sum := sha256.Sum256([]byte(c.content))
		c.in.RequestID = fmt.Sprintf("csv-%s-%d", hex.EncodeToString(sum[:])[:32], seenContent[c.content])
		c.derived = true
	}
	rowsByID := map[string][]*candidate{}
	var order []string
	for _, c := range cands {
		if c.in.RequestID == "" {
			continue
		}
		if _, ok := rowsByID[c.in.RequestID]; !ok {
			order = append(order, c.in.RequestID)
		}
		rowsByID[c.in.RequestID] = append(rowsByID[c.in.RequestID], c)
	}
	for _, id := range order {
		rs := rowsByID[id]
		if len(rs) < 2 {
			continue
		}
		for i, c := range rs {
			other := rs[0]
			if i == 0 {
				other = rs[1]
			}
			c.add(Problem{Column: colRequestID, Value: id, Reason: DuplicateRequestID, OtherRow: other.row})
		}
	}
}

// idRuns finds what may be ID numbers in s: runs of 15 or more ASCII
// digits (the old 15-digit ID, the 18-digit ID, and bank card numbers
// alike), a run of 17 digits followed by X counting as 18. Runs inside a
// hex string of 32 or more characters are part of a hash, not an ID.
func idRuns(s string) [][2]int {
	var out [][2]int
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || (i > 0 && isDigit(s[i-1])) {
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		end := j
		if j-i == 17 && j < len(s) && (s[j] == 'X' || s[j] == 'x') {
			end = j + 1
		}
		if end-i < 15 {
			continue
		}
		lo, hi := i, j
		for lo > 0 && isHex(s[lo-1]) {
			lo--
		}
		for hi < len(s) && isHex(s[hi]) {
			hi++
		}
		if end == j && hi-lo >= 32 {
			continue
		}
		out = append(out, [2]int{i, end})
	}
	return out
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// mask hides what may be ID numbers (see idRuns), keeping the first 6 and
// last 4 characters of each, and shortens long values.
func mask(s string) string {
	runs := idRuns(s)
	if len(runs) > 0 {
		var b strings.Builder
		prev := 0
		for _, r := range runs {
			b.WriteString(s[prev:r[0]])
			b.WriteString(idnum.Mask(s[r[0]:r[1]]))
			prev = r[1]
		}
		b.WriteString(s[prev:])
		s = b.String()
	}
	const keep = 100
	if utf8.RuneCountInString(s) > keep {
		s = string([]rune(s)[:keep]) + "…"
	}
	return s
}

// hasIDNumber is the project's one 身份证号 detector
// (idnum.ContainsPersonID), which also finds spaced, dashed and full-width
// numbers.
func hasIDNumber(s string) bool { return idnum.ContainsPersonID(s) }

func isEnglish(lang string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(lang)), "en")
}

// Message returns the problem as a sentence for a clerk, in Chinese
// (zh-CN, the default) or English (any lang starting with "en").
func (p Problem) Message(lang string) string {
	if isEnglish(lang) {
		return p.messageEN()
	}
	return p.messageZH()
}

func (p Problem) messageZH() string {
	col := "「" + zhLabel(p.Column) + "」"
	at := fmt.Sprintf("第 %d 行%s列", p.Row, col)
	if m, ok := p.refusalZH(at); ok {
		return m
	}
	switch p.Reason {
	case WrongColumnCount:
		return fmt.Sprintf("第 %d 行有 %d 列，但表头有 %d 列", p.Row, p.Got, p.Limit)
	case MissingValue:
		return at + "不能为空"
	case BadDate:
		return fmt.Sprintf("%s的值「%s」不是有效日期（应写作 2024-03-05、2024/3/5、2024.3.5 或 2024年3月5日）", at, p.Value)
	case BadQuantity:
		switch p.Detail {
		case DetailNotPositive:
			return fmt.Sprintf("%s的值「%s」必须大于 0", at, p.Value)
		case DetailTooLarge:
			return fmt.Sprintf("%s的值「%s」不能超过 %d", at, p.Value, p.Limit)
		}
		return fmt.Sprintf("%s的值「%s」不是整数", at, p.Value)
	case BadHash:
		return fmt.Sprintf("%s的值「%s」不是 SHA-256 哈希（应为 64 位十六进制字符）", at, p.Value)
	case TooManyAttachments:
		return fmt.Sprintf("第 %d 行共有 %d 个照片和材料哈希，最多 %d 个", p.Row, p.Got, p.Limit)
	case BadHousehold:
		return fmt.Sprintf("%s的值「%s」不是有效的户编号（应为户的 UUID 或 villages/村代码/households/UUID）", at, p.Value)
	case WrongVillage:
		return fmt.Sprintf("%s的户「%s」不属于本次导入的村", at, p.Value)
	case TooLong:
		unit := "个字"
		if p.Column == colRequestID {
			unit = "个字节"
		}
		return fmt.Sprintf("%s超过 %d %s（实际 %d %s）", at, p.Limit, unit, p.Got, unit)
	case DuplicateRequestID:
		return fmt.Sprintf("%s的值「%s」与第 %d 行重复", at, p.Value, p.OtherRow)
	case ContainsIDNumber:
		return fmt.Sprintf("%s似乎含有身份证号（%s），请勿在表格中填写身份证号", at, p.Value)
	case MissingHousehold:
		return fmt.Sprintf("第 %d 行没有写明是哪一户：请填户主身份证号，或户主姓名和组（同组重名时再填门牌）", p.Row)
	case BadIDNumber:
		return fmt.Sprintf("%s的值「%s」不是有效的身份证号（18位，最后一位可能是X），请核对", at, p.Value)
	case BadGroup:
		return fmt.Sprintf("%s的值「%s」不对，组应为1到99之间的数字", at, p.Value)
	case NoSuchHousehold:
		return fmt.Sprintf("第 %d 行：本村没有找到「%s」这一户，请核对后再导入", p.Row, p.Value)
	case AmbiguousHousehold:
		return fmt.Sprintf("第 %d 行：本村有 %d 户都是「%s」，请填户主身份证号或门牌以区分", p.Row, p.Got, p.Value)
	case NotResolved:
		return fmt.Sprintf("第 %d 行按身份证号或户主姓名写明农户，命令行导入需要「户编号」列；请在网页控制台导入", p.Row)
	case NoHouseholdColumn:
		return "表头缺少说明是哪一户的列：请加「身份证号」列，或「户主姓名」和「组」列（可再加「门牌」）"
	case BadVillage:
		return fmt.Sprintf("村代码「%s」无效，应为 12 位统计用区划代码", p.Value)
	case ReadFailed:
		return "读取文件失败：" + p.Detail
	case BadEncoding:
		if p.Detail == "utf-16" {
			return "文件是 UTF-16 编码，请在 Excel 中另存为「CSV UTF-8（逗号分隔）」"
		}
		return "无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV 文件"
	case NoHeader:
		return "文件为空，没有表头"
	case UnknownColumn:
		if p.Column == "" {
			return fmt.Sprintf("表头第 %d 列为空", p.Got)
		}
		return fmt.Sprintf("表头第 %d 列「%s」不是可识别的列名", p.Got, p.Column)
	case DuplicateColumn:
		return fmt.Sprintf("表头中%s列出现了两次（第 %d 列和第 %d 列）", col, p.Got, p.Limit)
	case MissingColumn:
		return fmt.Sprintf("表头缺少必填列%s", col)
	case MalformedCSV:
		return fmt.Sprintf("第 %d 行（文件第 %d 行）引号不配对，无法读取文件", p.Row, p.Line)
	case TooManyRows:
		return fmt.Sprintf("文件超过 %d 行数据，请分成几个文件导入", p.Limit)
	}
	return fmt.Sprintf("第 %d 行%s列有误（%s）", p.Row, col, p.Reason)
}

func (p Problem) messageEN() string {
	at := fmt.Sprintf("row %d, column %s", p.Row, p.Column)
	if m, ok := p.refusalEN(at); ok {
		return m
	}
	switch p.Reason {
	case WrongColumnCount:
		return fmt.Sprintf("row %d has %d columns but the header has %d", p.Row, p.Got, p.Limit)
	case MissingValue:
		return at + ": a value is required"
	case BadDate:
		return fmt.Sprintf("%s: %q is not a valid date (write 2024-03-05, 2024/3/5, 2024.3.5 or 2024年3月5日)", at, p.Value)
	case BadQuantity:
		switch p.Detail {
		case DetailNotPositive:
			return fmt.Sprintf("%s: %q must be at least 1", at, p.Value)
		case DetailTooLarge:
			return fmt.Sprintf("%s: %q must be at most %d", at, p.Value, p.Limit)
		}
		return fmt.Sprintf("%s: %q is not a whole number", at, p.Value)
	case BadHash:
		return fmt.Sprintf("%s: %q is not a SHA-256 hash (64 hex digits)", at, p.Value)
	case TooManyAttachments:
		return fmt.Sprintf("row %d has %d photo and document hashes, at most %d allowed", p.Row, p.Got, p.Limit)
	case BadHousehold:
		return fmt.Sprintf("%s: %q is not a household (give its UUID or villages/{village}/households/{uuid})", at, p.Value)
	case WrongVillage:
		return fmt.Sprintf("%s: household %q is not in the village being imported", at, p.Value)
	case TooLong:
		unit := "characters"
		if p.Column == colRequestID {
			unit = "bytes"
		}
		return fmt.Sprintf("%s: %d %s, at most %d allowed", at, p.Got, unit, p.Limit)
	case DuplicateRequestID:
		return fmt.Sprintf("%s: %q is also used in row %d", at, p.Value, p.OtherRow)
	case ContainsIDNumber:
		return fmt.Sprintf("%s seems to contain an ID card number (%s); do not put ID numbers in the spreadsheet", at, p.Value)
	case MissingHousehold:
		return fmt.Sprintf("row %d does not say which household: give the head's ID card number, or the head's name and group (and the house number when two heads of a group share a name)", p.Row)
	case BadIDNumber:
		return fmt.Sprintf("%s: %q is not a valid ID card number (18 characters, the last may be X); check it", at, p.Value)
	case BadGroup:
		return fmt.Sprintf("%s: %q is not a group; a group is a number from 1 to 99", at, p.Value)
	case NoSuchHousehold:
		return fmt.Sprintf("row %d: no household %q in this village; check it and import again", p.Row, p.Value)
	case AmbiguousHousehold:
		return fmt.Sprintf("row %d: %d households of this village are %q; give the head's ID card number or the house number to say which", p.Row, p.Got, p.Value)
	case NotResolved:
		return fmt.Sprintf("row %d names its household by ID card number or name; the command line needs the household column; import the file in the web console", p.Row)
	case NoHouseholdColumn:
		return "the header does not say which household a row is for: add an id_number column, or head_name and group columns (and address)"
	case BadVillage:
		return fmt.Sprintf("village code %q is not a 12-digit village code", p.Value)
	case ReadFailed:
		return "the file could not be read: " + p.Detail
	case BadEncoding:
		if p.Detail == "utf-16" {
			return `the file is UTF-16; save it from Excel as "CSV UTF-8 (comma delimited)"`
		}
		return "the file is neither UTF-8 nor GBK; save it as a UTF-8 CSV"
	case NoHeader:
		return "the file is empty: there is no header row"
	case UnknownColumn:
		if p.Column == "" {
			return fmt.Sprintf("header column %d is blank", p.Got)
		}
		return fmt.Sprintf("header column %d: %q is not a known column", p.Got, p.Column)
	case DuplicateColumn:
		return fmt.Sprintf("column %s appears twice in the header (columns %d and %d)", p.Column, p.Got, p.Limit)
	case MissingColumn:
		return fmt.Sprintf("the header lacks the required column %s", p.Column)
	case MalformedCSV:
		return fmt.Sprintf("row %d (line %d of the file): unpaired quotes, the file cannot be read (%s)", p.Row, p.Line, p.Detail)
	case TooManyRows:
		return fmt.Sprintf("the file has more than %d data rows; split it into several files", p.Limit)
	}
	return fmt.Sprintf("%s: %s", at, p.Reason)
}
