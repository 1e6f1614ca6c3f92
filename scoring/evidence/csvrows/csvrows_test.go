package csvrows

import (
	"bytes"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/sanzhi/sanzhi/scoring/evidence"
)

const (
	village = "110105001001"
	hh1     = "0190a6f2-7c4e-7d3a-9b1e-2f4c6a8e0d11"
	hh2     = "0190a6f2-7c4e-7d3a-9b1e-2f4c6a8e0d22"
	parent1 = "villages/" + village + "/households/" + hh1
	parent2 = "villages/" + village + "/households/" + hh2
	// validID is the GB 11643 sample number (check digit X);
	// validID2 has a correct check digit 6.
	validID  = "11010519491231002X"
	validID2 = "440306199001011236"
	zhHead   = "户编号,事项代码,发生日期"
	enHead   = "household,item_code,occurred_on"
)

var (
	hashA = strings.Repeat("a", 64)
	hashB = strings.Repeat("0123456789abcdef", 4)
)

func read(t *testing.T, s string) *File {
	t.Helper()
	f, err := Read(strings.NewReader(s), village, 0)
	require.NoError(t, err)
	return f
}

func readErr(t *testing.T, s string, maxRows int) *Error {
	t.Helper()
	f, err := Read(strings.NewReader(s), village, maxRows)
	require.Error(t, err)
	assert.Nil(t, f)
	var e *Error
	require.ErrorAs(t, err, &e)
	return e
}

func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	require.NoError(t, err)
	require.False(t, bytes.Equal(b, []byte(s)), "test text must contain Chinese")
	return b
}

func TestReadValidFiles(t *testing.T) {
	note := "清理门前屋后垃圾"
	want := evidence.SubmitInput{Parent: parent1, Kind: evidence.Points, ItemCode: "HYG-01", Quantity: 1, OccurredOn: "2024-03-05"}
	tests := []struct {
		name     string
		data     []byte
		encoding string
		want     evidence.SubmitInput
	}{
		{"utf-8 zh header", []byte(zhHead + "\n" + hh1 + ",HYG-01,2024-03-05\n"), UTF8, want},
		{"utf-8 with BOM", []byte("\uFEFF" + zhHead + "\n" + hh1 + ",HYG-01,2024-03-05\n"), UTF8BOM, want},
		{"gbk", gbk(t, zhHead+",说明\r\n"+hh1+",HYG-01,2024年3月5日,"+note+"\r\n"), GB18030,
			func() evidence.SubmitInput { w := want; w.Note = note; return w }()},
		{"en header, any case, spaces", []byte(" Household ,ITEM_CODE,Occurred_On \n" + hh1 + ",HYG-01,2024-03-05\n"), UTF8, want},
		{"shuffled columns", []byte("数量,发生日期,household,说明,事项代码\n3,2024-03-05," + hh1 + ",x,HYG-01\n"), UTF8,
			func() evidence.SubmitInput { w := want; w.Quantity, w.Note = 3, "x"; return w }()},
		{"crlf and surrounding spaces in cells", []byte(zhHead + "\r\n  " + hh1 + " , HYG-01 , 2024-03-05 \r\n"), UTF8, want},
		{"trailing blank cells from excel", []byte(zhHead + ",,\n" + hh1 + ",HYG-01,2024-03-05,,\n"), UTF8, want},
		{"classic mac line endings", []byte(zhHead + "\r" + hh1 + ",HYG-01,2024-03-05\r"), UTF8, want},
		{"household as resource name, upper-case uuid", []byte(zhHead + "\n" + "villages/" + village + "/households/" + strings.ToUpper(hh1) + ",HYG-01,2024-03-05\n"), UTF8, want},
		{"upper-case uuid", []byte(zhHead + "\n" + strings.ToUpper(hh1) + ",HYG-01,2024-03-05\n"), UTF8, want},
		{"hashes: upper case, both semicolons, spaces", []byte(zhHead + ",照片哈希,材料哈希\n" + hh1 + ",HYG-01,2024-03-05,\"" + strings.ToUpper(hashA) + " ；" + hashB + ";\"," + hashB + "\n"), UTF8,
			func() evidence.SubmitInput {
				w := want
				w.Attachments = []evidence.Attachment{{Kind: "photo", SHA256: hashA}, {Kind: "photo", SHA256: hashB}, {Kind: "document", SHA256: hashB}}
				return w
			}()},
		{"all optional columns", []byte("household,item_code,occurred_on,quantity,note,photo_sha256,document_sha256,witness,system_source,request_id\n" +
			hh1 + ",HYG-01,2024-03-05,1000,n," + hashA + "," + hashB + ",李四,网格通,r-1\n"), UTF8,
			evidence.SubmitInput{Parent: parent1, Kind: evidence.Points, ItemCode: "HYG-01", Quantity: 1000, OccurredOn: "2024-03-05",
				Note: "n", Attachments: []evidence.Attachment{{Kind: "photo", SHA256: hashA}, {Kind: "document", SHA256: hashB}},
				Witness: "李四", SystemSource: "网格通", RequestID: "r-1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Read(bytes.NewReader(tc.data), village, 10)
			require.NoError(t, err)
			assert.Equal(t, tc.encoding, f.Encoding)
			assert.Empty(t, f.Problems)
			require.Len(t, f.Rows, 1)
			assert.Equal(t, 2, f.Rows[0].Row)
			got := f.Rows[0].Input
			if tc.want.RequestID == "" {
				assert.True(t, f.Rows[0].DerivedID)
				assert.Regexp(t, `^csv-[0-9a-f]{32}-1$`, got.RequestID)
				got.RequestID = ""
			} else {
				assert.False(t, f.Rows[0].DerivedID)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDateFormats(t *testing.T) {
	for in, want := range map[string]string{
		"2024-03-05":  "2024-03-05",
		"2024-3-5":    "2024-03-05",
		"2024/3/5":    "2024-03-05",
		"2024/03/05":  "2024-03-05",
		"2024.3.5":    "2024-03-05",
		"2024年3月5日":   "2024-03-05",
		"2024年03月05日": "2024-03-05",
		"2024-02-29":  "2024-02-29", // leap year
		"2024-12-31":  "2024-12-31",
	} {
		f := read(t, zhHead+"\n"+hh1+",HYG-01,"+in+"\n")
		require.Empty(t, f.Problems, in)
		require.Len(t, f.Rows, 1, in)
		assert.Equal(t, want, f.Rows[0].Input.OccurredOn, in)
	}
}

type wantProblem struct {
	Row    int
	Column string
	Reason Reason
	Value  string
	Detail string
}

func problems(f *File) []wantProblem {
	var out []wantProblem
	for _, p := range f.Problems {
		out = append(out, wantProblem{p.Row, p.Column, p.Reason, p.Value, p.Detail})
	}
	return out
}

func TestRowProblems(t *testing.T) {
	head := "户编号,事项代码,发生日期,数量,说明,照片哈希,证明人,编号"
	row := func(hh, item, date, qty, note, photo, witness string) string {
		return strings.Join([]string{hh, item, date, qty, note, photo, witness, ""}, ",")
	}
	ok := row(hh1, "HYG-01", "2024-03-05", "", "", "", "")
	tests := []struct {
		name string
		row  string
		want []wantProblem
	}{
		{"too few columns", hh1 + ",HYG-01,2024-03-05", []wantProblem{{2, "", WrongColumnCount, "", ""}}},
		{"too many columns", ok + ",extra", []wantProblem{{2, "", WrongColumnCount, "", ""}}},
		{"missing required values", row("", " ", "", "", "", "", "x"), []wantProblem{
			{2, "household", MissingValue, "", ""}, {2, "item_code", MissingValue, "", ""}, {2, "occurred_on", MissingValue, "", ""}}},
		{"feb 30", row(hh1, "A", "2024-02-30", "", "", "", ""), []wantProblem{{2, "occurred_on", BadDate, "2024-02-30", ""}}},
		{"feb 29 in a common year", row(hh1, "A", "2023/2/29", "", "", "", ""), []wantProblem{{2, "occurred_on", BadDate, "2023/2/29", ""}}},
		{"13th month", row(hh1, "A", "2024-13-01", "", "", "", ""), []wantProblem{{2, "occurred_on", BadDate, "2024-13-01", ""}}},
		{"day 0", row(hh1, "A", "2024年1月0日", "", "", "", ""), []wantProblem{{2, "occurred_on", BadDate, "2024年1月0日", ""}}},
		{"garbage date", row(hh1, "A", "上周三", "", "", "", ""), []wantProblem{{2, "occurred_on", BadDate, "上周三", ""}}},
		{"mixed separators", row(hh1, "A", "2024-3/5", "", "", "", ""), []wantProblem{{2, "occurred_on", BadDate, "2024-3/5", ""}}},
		{"two-digit year", row(hh1, "A", "24-03-05", "", "", "", ""), []wantProblem{{2, "occurred_on", BadDate, "24-03-05", ""}}},
		{"date with time", row(hh1, "A", "2024/3/5 0:00", "", "", "", ""), []wantProblem{{2, "occurred_on", BadDate, "2024/3/5 0:00", ""}}},
		{"quantity 0", row(hh1, "A", "2024-03-05", "0", "", "", ""), []wantProblem{{2, "quantity", BadQuantity, "0", DetailNotPositive}}},
		{"quantity -1", row(hh1, "A", "2024-03-05", "-1", "", "", ""), []wantProblem{{2, "quantity", BadQuantity, "-1", DetailNotPositive}}},
		{"quantity 2.0", row(hh1, "A", "2024-03-05", "2.0", "", "", ""), []wantProblem{{2, "quantity", BadQuantity, "2.0", DetailNotInteger}}},
		{"quantity 1001", row(hh1, "A", "2024-03-05", "1001", "", "", ""), []wantProblem{{2, "quantity", BadQuantity, "1001", DetailTooLarge}}},
		{"quantity huge", row(hh1, "A", "2024-03-05", "99999999999999", "", "", ""), []wantProblem{{2, "quantity", BadQuantity, "99999999999999", DetailTooLarge}}},
		{"quantity words", row(hh1, "A", "2024-03-05", "两", "", "", ""), []wantProblem{{2, "quantity", BadQuantity, "两", DetailNotInteger}}},
		{"hash too short", row(hh1, "A", "2024-03-05", "", "", hashA[:63], ""), []wantProblem{{2, "photo_sha256", BadHash, hashA[:63], ""}}},
		{"hash not hex, second of two", row(hh1, "A", "2024-03-05", "", "", hashA+";"+strings.Repeat("g", 64), ""),
			[]wantProblem{{2, "photo_sha256", BadHash, strings.Repeat("g", 64), ""}}},
		{"garbage household", row("张三家", "A", "2024-03-05", "", "", "", ""), []wantProblem{{2, "household", BadHousehold, "张三家", "not a UUID"}}},
		{"uuid without hyphens", row(strings.ReplaceAll(hh1, "-", ""), "A", "2024-03-05", "", "", "", ""),
			[]wantProblem{{2, "household", BadHousehold, strings.ReplaceAll(hh1, "-", ""), "not a UUID"}}},
		{"resource name with bad uuid", row("villages/"+village+"/households/123", "A", "2024-03-05", "", "", "", ""),
			[]wantProblem{{2, "household", BadHousehold, "villages/" + village + "/households/123", "household id is not a UUID"}}},
		{"resource name of the wrong shape", row("villages/"+village+"/"+hh1, "A", "2024-03-05", "", "", "", ""),
			[]wantProblem{{2, "household", BadHousehold, "villages/" + village + "/" + hh1, "not villages/{village}/households/{uuid}"}}},
		{"another village", row("villages/110105001002/households/"+hh1, "A", "2024-03-05", "", "", "", ""),
			[]wantProblem{{2, "household", WrongVillage, "villages/110105001002/households/" + hh1, ""}}},
		{"note 501 characters", row(hh1, "A", "2024-03-05", "", strings.Repeat("好", 501), "", ""),
			[]wantProblem{{2, "note", TooLong, strings.Repeat("好", 100) + "…", ""}}},
		{"witness 101 characters", row(hh1, "A", "2024-03-05", "", "", "", strings.Repeat("w", 101)),
			[]wantProblem{{2, "witness", TooLong, strings.Repeat("w", 100) + "…", ""}}},
		{"id number in the note", row(hh1, "A", "2024-03-05", "", "户主身份证"+validID, "", ""),
			[]wantProblem{{2, "note", ContainsIDNumber, "户主身份证110105********002X", ""}}},
		{"id number as household, masked", row(validID2, "A", "2024-03-05", "", "", "", ""),
			[]wantProblem{{2, "household", BadHousehold, "440306********1236", "not a UUID"}}},
		{"id number as quantity, masked", row(hh1, "A", "2024-03-05", validID, "", "", ""),
			[]wantProblem{{2, "quantity", BadQuantity, "110105********002X", DetailNotInteger}}},
		{"id number as date, masked", row(hh1, "A", validID2, "", "", "", ""),
			[]wantProblem{{2, "occurred_on", BadDate, "440306********1236", ""}}},
		{"several problems in one row", row("x", "A", "2024-02-30", "0", "", "", ""), []wantProblem{
			{2, "household", BadHousehold, "x", "not a UUID"}, {2, "occurred_on", BadDate, "2024-02-30", ""}, {2, "quantity", BadQuantity, "0", DetailNotPositive}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A good row on each side: a bad row spoils nothing else.
			f := read(t, head+"\n"+ok+"\n"+tc.row+"\n"+ok+"\n")
			for i := range tc.want {
				tc.want[i].Row = 3
			}
			assert.Equal(t, tc.want, problems(f))
			require.Len(t, f.Rows, 2)
			assert.Equal(t, []int{2, 4}, []int{f.Rows[0].Row, f.Rows[1].Row})
		})
	}
}

func TestTooManyAttachments(t *testing.T) {
	var hs []string
	for range MaxAttachments + 1 {
		hs = append(hs, hashA)
	}
	f := read(t, zhHead+",照片哈希\n"+hh1+",A,2024-03-05,"+strings.Join(hs, ";")+"\n")
	require.Len(t, f.Problems, 1)
	assert.Equal(t, TooManyAttachments, f.Problems[0].Reason)
	assert.Equal(t, MaxAttachments+1, f.Problems[0].Got)
	assert.Empty(t, f.Rows)
}

func TestQuotesAndRowNumbers(t *testing.T) {
	data := zhHead + ",说明\n" + // row 1
		hh1 + ",A,2024-03-05,\"扫雪, 清路\"\n" + // row 2
		"\n" + // row 3: blank line
		hh1 + ",A,2024-03-05,\"第一行\n第二行\n\"\"引号\"\"\"\n" + // row 4, lines 4-6
		"  ,  , \n" + // row 5: blank cells
		",,,\n" + // row 6
		hh1 + ",A,2024-13-05,x\n" + // row 7, line 9
		"\n\n" // rows 8 and 9
	f := read(t, data)
	require.Len(t, f.Rows, 2)
	assert.Equal(t, "扫雪, 清路", f.Rows[0].Input.Note)
	assert.Equal(t, 2, f.Rows[0].Row)
	assert.Equal(t, "第一行\n第二行\n\"引号\"", f.Rows[1].Input.Note)
	assert.Equal(t, 4, f.Rows[1].Row)
	assert.Equal(t, 4, f.Rows[1].Line)
	require.Len(t, f.Problems, 1)
	assert.Equal(t, 7, f.Problems[0].Row)
	assert.Equal(t, 9, f.Problems[0].Line)
	assert.Equal(t, 5, f.Skipped)
}

func TestBlankLinesBeforeHeader(t *testing.T) {
	f := read(t, "\n , \n"+zhHead+"\n"+hh1+",A,2024-03-05\n")
	require.Len(t, f.Rows, 1)
	assert.Equal(t, 4, f.Rows[0].Row)
	assert.Equal(t, 0, f.Skipped)
}

func TestExplicitRequestIDs(t *testing.T) {
	head := zhHead + ",编号\n"
	t.Run("duplicates reject every row carrying them", func(t *testing.T) {
		f := read(t, head+
			hh1+",A,2024-03-05,r-1\n"+
			hh1+",A,2024-03-06,r-2\n"+
			hh1+",B,2024-03-07,r-1\n"+
			hh2+",C,2024-03-08,r-1\n")
		require.Len(t, f.Rows, 1)
		assert.Equal(t, "r-2", f.Rows[0].Input.RequestID)
		var got [][2]int
		for _, p := range f.Problems {
			assert.Equal(t, DuplicateRequestID, p.Reason)
			assert.Equal(t, "request_id", p.Column)
			assert.Equal(t, "r-1", p.Value)
			got = append(got, [2]int{p.Row, p.OtherRow})
		}
		assert.Equal(t, [][2]int{{2, 4}, {4, 2}, {5, 2}}, got)
	})
	t.Run("a duplicate in an otherwise bad row still counts", func(t *testing.T) {
		f := read(t, head+hh1+",A,2024-02-30,r-1\n"+hh1+",A,2024-03-05,r-1\n")
		assert.Empty(t, f.Rows)
		assert.Equal(t, []wantProblem{
			{2, "occurred_on", BadDate, "2024-02-30", ""},
			{2, "request_id", DuplicateRequestID, "r-1", ""},
			{3, "request_id", DuplicateRequestID, "r-1", ""},
		}, problems(f))
	})
	t.Run("too long", func(t *testing.T) {
		f := read(t, head+hh1+",A,2024-03-05,"+strings.Repeat("r", 101)+"\n"+hh1+",A,2024-03-05,"+strings.Repeat("r", 100)+"\n")
		require.Len(t, f.Problems, 1)
		assert.Equal(t, TooLong, f.Problems[0].Reason)
		assert.Equal(t, 101, f.Problems[0].Got)
		require.Len(t, f.Rows, 1)
		assert.Equal(t, strings.Repeat("r", 100), f.Rows[0].Input.RequestID)
	})
	t.Run("id number as request id", func(t *testing.T) {
		f := read(t, head+hh1+",A,2024-03-05,"+validID+"\n")
		assert.Equal(t, []wantProblem{{2, "request_id", ContainsIDNumber, "110105********002X", ""}}, problems(f))
	})
	t.Run("blank cell derives one", func(t *testing.T) {
		f := read(t, head+hh1+",A,2024-03-05,  \n")
		require.Len(t, f.Rows, 1)
		assert.True(t, f.Rows[0].DerivedID)
		assert.Regexp(t, `^csv-[0-9a-f]{32}-1$`, f.Rows[0].Input.RequestID)
	})
}

func TestDerivedRequestIDs(t *testing.T) {
	zh, err := os.ReadFile("testdata/clerk_zh.csv")
	require.NoError(t, err)
	en, err := os.ReadFile("testdata/clerk_en.csv")
	require.NoError(t, err)

	ids := func(data []byte) []string {
		t.Helper()
		f, err := Read(bytes.NewReader(data), village, 0)
		require.NoError(t, err)
		require.Empty(t, f.Problems)
		var out []string
		for _, r := range f.Rows {
			require.True(t, r.DerivedID)
			out = append(out, r.Input.RequestID)
		}
		return out
	}
	first := ids(zh)
	require.Len(t, first, 3)
	assert.Equal(t, first, ids(zh), "re-reading the same file yields the same ids")
	assert.Equal(t, first, ids(en), "same content with English headers, other column order and spelling")

	// Rows 2 and 5 of clerk_zh.csv are the same act written twice: the
	// same hash, told apart by the occurrence index.
	re := regexp.MustCompile(`^csv-([0-9a-f]{32})-([0-9]+)$`)
	m0, m1, m2 := re.FindStringSubmatch(first[0]), re.FindStringSubmatch(first[1]), re.FindStringSubmatch(first[2])
	require.NotNil(t, m0)
	require.NotNil(t, m1)
	require.NotNil(t, m2)
	assert.Equal(t, m0[1], m2[1])
	assert.Equal(t, []string{"1", "1", "2"}, []string{m0[2], m1[2], m2[2]})
	assert.NotEqual(t, m0[1], m1[1])

	// Any change to the content changes the id.
	base := zhHead + ",数量,说明\n" + hh1 + ",A,2024-03-05,1,n\n"
	id := func(s string) string {
		f := read(t, s)
		require.Len(t, f.Rows, 1)
		return f.Rows[0].Input.RequestID
	}
	baseID := id(base)
	assert.Equal(t, baseID, id(zhHead+",说明\n"+hh1+",A,2024/3/5,n\n"), "default quantity and another date spelling are the same content")
	for _, other := range []string{
		zhHead + ",数量,说明\n" + hh2 + ",A,2024-03-05,1,n\n",
		zhHead + ",数量,说明\n" + hh1 + ",B,2024-03-05,1,n\n",
		zhHead + ",数量,说明\n" + hh1 + ",A,2024-03-06,1,n\n",
		zhHead + ",数量,说明\n" + hh1 + ",A,2024-03-05,2,n\n",
		zhHead + ",数量,说明\n" + hh1 + ",A,2024-03-05,1,m\n",
	} {
		assert.NotEqual(t, baseID, id(other), other)
	}
}

func TestFileErrors(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		maxRows int
		want    []Problem
	}{
		{"empty file", "", 0, []Problem{{Reason: NoHeader}}},
		{"only a BOM and blank lines", "\uFEFF\n\r\n \n", 0, []Problem{{Reason: NoHeader}}},
		{"unknown column", zhHead + ",备注\n", 0, []Problem{{Row: 1, Line: 1, Column: "备注", Value: "备注", Reason: UnknownColumn, Got: 4}}},
		{"blank header cell in the middle", "户编号,,事项代码,发生日期\n", 0, []Problem{{Row: 1, Line: 1, Reason: UnknownColumn, Got: 2}}},
		{"duplicate column across languages", zhHead + ",household\n", 0, []Problem{{Row: 1, Line: 1, Column: "household", Value: "household", Reason: DuplicateColumn, Got: 1, Limit: 4}}},
		{"missing required columns", "户编号,说明\n", 0, []Problem{
			{Row: 1, Line: 1, Column: "item_code", Reason: MissingColumn},
			{Row: 1, Line: 1, Column: "occurred_on", Reason: MissingColumn}}},
		{"id number as header, masked", zhHead + "," + validID + "\n", 0, []Problem{{Row: 1, Line: 1, Column: "110105********002X", Value: "110105********002X", Reason: UnknownColumn, Got: 4}}},
		{"more rows than allowed", zhHead + "\n" + hh1 + ",A,2024-03-05\n\n" + hh1 + ",A,x\n" + hh1 + ",A,2024-03-05\n", 2,
			[]Problem{{Row: 5, Line: 5, Reason: TooManyRows, Limit: 2}}},
		{"bare quote", zhHead + "\n" + hh1 + ",A\"B,2024-03-05\n", 0,
			[]Problem{{Row: 2, Line: 2, Reason: MalformedCSV, Detail: `bare " in non-quoted-field`}}},
		{"unclosed quote after a multi-line cell", zhHead + ",说明\n" + hh1 + ",A,2024-03-05,\"a\nb\"\n\n" + hh1 + ",A,2024-03-05,\"x\"y\n", 0,
			[]Problem{{Row: 4, Line: 5, Reason: MalformedCSV, Detail: `extraneous or missing " in quoted-field`}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := readErr(t, tc.data, tc.maxRows)
			assert.Equal(t, tc.want, e.Problems)
		})
	}
}

func TestMaxRowsCountsOnlyDataRows(t *testing.T) {
	data := zhHead + "\n\n" + hh1 + ",A,2024-03-05\n,,\n" + hh1 + ",A,bad\n\n"
	f, err := Read(strings.NewReader(data), village, 2)
	require.NoError(t, err)
	assert.Len(t, f.Rows, 1)
	assert.Len(t, f.Problems, 1)
	assert.Equal(t, 3, f.Skipped)
}

func TestEncodingErrors(t *testing.T) {
	t.Run("utf-16", func(t *testing.T) {
		e := readErr(t, "\xFF\xFEh\x00", 0)
		assert.Equal(t, []Reason{BadEncoding}, e.Reasons())
		assert.Contains(t, e.Message("zh-CN"), "UTF-16")
	})
	t.Run("BOM then invalid UTF-8", func(t *testing.T) {
		e := readErr(t, "\uFEFF"+zhHead+"\n\xC3(\n", 0)
		assert.Equal(t, []Reason{BadEncoding}, e.Reasons())
	})
	t.Run("neither UTF-8 nor GB18030", func(t *testing.T) {
		e := readErr(t, zhHead+"\n\x81\x20,\xFF\n", 0)
		assert.Equal(t, []Reason{BadEncoding}, e.Reasons())
	})
	t.Run("gbk with a problem reports decoded text", func(t *testing.T) {
		f, err := Read(bytes.NewReader(gbk(t, zhHead+"\n"+hh1+",A,上周三\n")), village, 0)
		require.NoError(t, err)
		assert.Equal(t, GB18030, f.Encoding)
		assert.Equal(t, []wantProblem{{2, "occurred_on", BadDate, "上周三", ""}}, problems(f))
	})
}

func TestArgumentsAndReader(t *testing.T) {
	_, err := Read(strings.NewReader(zhHead+"\n"), "11010500100", 0)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, []Reason{BadVillage}, e.Reasons())

	boom := errors.New("disk on fire")
	_, err = Read(iotest.ErrReader(boom), village, 0)
	require.ErrorIs(t, err, boom)
	require.ErrorAs(t, err, &e)
	assert.Equal(t, []Reason{ReadFailed}, e.Reasons())
}

func TestTemplate(t *testing.T) {
	for _, tc := range []struct {
		lang, want string
	}{
		{"zh-CN", "\uFEFF户编号,事项代码,发生日期,数量,说明,照片哈希,材料哈希,证明人,系统来源,编号\r\n"},
		{"", "\uFEFF户编号,事项代码,发生日期,数量,说明,照片哈希,材料哈希,证明人,系统来源,编号\r\n"},
		{"en", "\uFEFFhousehold,item_code,occurred_on,quantity,note,photo_sha256,document_sha256,witness,system_source,request_id\r\n"},
		{"en-US", "\uFEFFhousehold,item_code,occurred_on,quantity,note,photo_sha256,document_sha256,witness,system_source,request_id\r\n"},
	} {
		b := Template(tc.lang)
		assert.Equal(t, tc.want, string(b), tc.lang)
		f, err := Read(bytes.NewReader(b), village, 1)
		require.NoError(t, err, tc.lang)
		assert.Equal(t, UTF8BOM, f.Encoding)
		assert.Empty(t, f.Rows)
		assert.Empty(t, f.Problems)
		assert.Len(t, f.Columns, 10)
	}
}

func TestMessages(t *testing.T) {
	tests := []struct {
		p      Problem
		zh, en string
	}{
		{Problem{Row: 5, Column: "occurred_on", Value: "2024-13-01", Reason: BadDate},
			"第 5 行「发生日期」列的值「2024-13-01」不是有效日期（应写作 2024-03-05、2024/3/5、2024.3.5 或 2024年3月5日）",
			`row 5, column occurred_on: "2024-13-01" is not a valid date (write 2024-03-05, 2024/3/5, 2024.3.5 or 2024年3月5日)`},
		{Problem{Row: 3, Got: 4, Limit: 3, Reason: WrongColumnCount},
			"第 3 行有 4 列，但表头有 3 列", "row 3 has 4 columns but the header has 3"},
		{Problem{Row: 2, Column: "household", Reason: MissingValue},
			"第 2 行「户编号」列不能为空", "row 2, column household: a value is required"},
		{Problem{Row: 2, Column: "quantity", Value: "2.0", Reason: BadQuantity, Detail: DetailNotInteger},
			"第 2 行「数量」列的值「2.0」不是整数", `row 2, column quantity: "2.0" is not a whole number`},
		{Problem{Row: 2, Column: "quantity", Value: "1001", Reason: BadQuantity, Detail: DetailTooLarge, Limit: 1000},
			"第 2 行「数量」列的值「1001」不能超过 1000", `row 2, column quantity: "1001" must be at most 1000`},
		{Problem{Row: 7, Column: "request_id", Value: "r-1", Reason: DuplicateRequestID, OtherRow: 3},
			"第 7 行「编号」列的值「r-1」与第 3 行重复", `row 7, column request_id: "r-1" is also used in row 3`},
		{Problem{Row: 2, Column: "note", Reason: TooLong, Got: 501, Limit: 500},
			"第 2 行「说明」列超过 500 个字（实际 501 个字）", "row 2, column note: 501 characters, at most 500 allowed"},
		{Problem{Row: 1, Column: "备注", Reason: UnknownColumn, Got: 4},
			"表头第 4 列「备注」不是可识别的列名", `header column 4: "备注" is not a known column`},
		{Problem{Row: 1, Column: "item_code", Reason: MissingColumn},
			"表头缺少必填列「事项代码」", "the header lacks the required column item_code"},
		{Problem{Row: 4, Line: 5, Reason: MalformedCSV, Detail: "bare quote"},
			"第 4 行（文件第 5 行）引号不配对，无法读取文件", "row 4 (line 5 of the file): unpaired quotes, the file cannot be read (bare quote)"},
		{Problem{Reason: TooManyRows, Limit: 1000},
			"文件超过 1000 行数据，请分成几个文件导入", "the file has more than 1000 data rows; split it into several files"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.zh, tc.p.Message("zh-CN"))
		assert.Equal(t, tc.zh, tc.p.Message(""), "Chinese is the default")
		assert.Equal(t, tc.en, tc.p.Message("en"))
	}

	// Every reason the package produces has its own text in both languages.
	for _, r := range []Reason{WrongColumnCount, MissingValue, BadDate, BadQuantity, BadHash, TooManyAttachments,
		BadHousehold, WrongVillage, TooLong, DuplicateRequestID, ContainsIDNumber, BadVillage, ReadFailed,
		BadEncoding, NoHeader, UnknownColumn, DuplicateColumn, MissingColumn, MalformedCSV, TooManyRows,
		MissingHousehold, BadIDNumber, BadGroup, NoSuchHousehold, AmbiguousHousehold, NotResolved, NoHouseholdColumn} {
		p := Problem{Row: 2, Column: "note", Reason: r}
		assert.NotContains(t, p.Message("zh-CN"), string(r), r)
		assert.NotContains(t, p.Message("en"), string(r), r)
	}

	// A file error's message joins its problems and never shows an ID.
	e := readErr(t, "户编号,"+validID+"\n", 0)
	assert.Equal(t, "表头第 2 列「110105********002X」不是可识别的列名；表头缺少必填列「事项代码」；表头缺少必填列「发生日期」", e.Message("zh-CN"))
	assert.NotContains(t, e.Error(), validID)
	assert.Contains(t, e.Error(), "header column 2")
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		validID:                       "110105********002X",
		"身份证" + validID + "号":         "身份证110105********002X号",
		"ID" + validID2:               "ID440306********1236",
		"110105491231002":             "110105*****1002", // old 15-digit form
		"12345678901234":              "12345678901234",  // too short to be an ID
		hashB:                         hashB,             // digits inside a hash stay
		strings.Repeat("好", 170):      strings.Repeat("好", 100) + "…",
		validID + ";" + validID2 + "": "110105********002X;440306********1236",
	} {
		assert.Equal(t, want, mask(in), in)
	}
	assert.True(t, hasIDNumber("x"+validID))
	assert.True(t, hasIDNumber(strings.ToLower(validID)))
	assert.False(t, hasIDNumber("440306199001011237"), "wrong check digit")
	assert.False(t, hasIDNumber("1"+validID2), "19 digits")
}
