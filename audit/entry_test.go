package audit

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sampleEntry has Chinese text, the characters HTML escaping would touch,
// JSON escapes and a time in another zone with nanoseconds.
func sampleEntry() Entry {
	return Entry{Seq: 41, Record: Record{
		Time:        time.Date(2025, time.March, 1, 8, 9, 10, 123456789, time.FixedZone("CST", 8*3600)),
		Actor:       "principals/clerk-01",
		Action:      "household.create",
		Subject:     "villages/330483102215/households/0190f3a2-7c1e-7d4b-9a7e-3f5d1c2b4a69",
		RequestHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		ResultHash:  "",
		Payload: map[string]string{
			"note":    "line1\nline2 \"q\" \\ \t\x1f",
			"name_zh": "张三家 <户主> & Co",
			"amount":  "1200.50",
		},
	}}
}

const sampleCanonical = `{"action":"household.create","actor":"principals/clerk-01",` +
	`"payload":{"amount":"1200.50","name_zh":"张三家 <户主> & Co","note":"line1\nline2 \"q\" \\ \t\u001f"},` +
	`"request_hash":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","result_hash":"",` +
	`"seq":"41","subject":"villages/330483102215/households/0190f3a2-7c1e-7d4b-9a7e-3f5d1c2b4a69",` +
	`"time":"2025-03-01T00:09:10.123456Z"}`

func TestCanonicalGolden(t *testing.T) {
	got := sampleEntry().Canonical()
	assert.Equal(t, sampleCanonical, string(got))
	assert.True(t, json.Valid(got))
}

func TestCanonicalEmptyPayloadAndStrings(t *testing.T) {
	e := Entry{Seq: 0, Record: Record{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
	assert.Equal(t,
		`{"action":"","actor":"","payload":{},"request_hash":"","result_hash":"","seq":"0","subject":"","time":"2026-01-02T03:04:05.000000Z"}`,
		string(e.Canonical()))
	e.Payload = map[string]string{}
	assert.Contains(t, string(e.Canonical()), `"payload":{}`)
}

func TestCanonicalEscaping(t *testing.T) {
	e := sampleEntry()
	e.Payload = map[string]string{"s": "a\u2028b\u2029c/d\x7f\b\f\r\x00é😀"}
	got := e.Canonical()
	// U+2028, U+2029, '/', DEL and non-ASCII are written as they are; the
	// control characters get their short escapes or \u00xx.
	assert.Contains(t, string(got), `"s":"a`+"\u2028"+`b`+"\u2029"+`c/d`+"\x7f"+`\b\f\r\u0000é😀"`)

	var back map[string]any
	require.NoError(t, json.Unmarshal(got, &back))
	assert.Equal(t, e.Payload["s"], back["payload"].(map[string]any)["s"])
}

func TestCanonicalInvalidUTF8(t *testing.T) {
	e := sampleEntry()
	e.Actor = "a\xffb"
	e.Payload = map[string]string{"k\xff": "1", "k\xfe": "2", "v": "\xc3"}
	got := e.Canonical()
	assert.True(t, json.Valid(got))
	assert.Contains(t, string(got), `"actor":"a`+"\uFFFD"+`b"`)
	// Both keys become "k\uFFFD"; the one that sorts first ("k\xfe") wins.
	assert.Contains(t, string(got), `"payload":{"k`+"\uFFFD"+`":"2","v":"`+"\uFFFD"+`"}`)
	back, err := ParseEntry(got)
	require.NoError(t, err)
	assert.Equal(t, got, back.Canonical())
}

func TestParseEntryRoundTrip(t *testing.T) {
	for name, e := range map[string]Entry{
		"sample": sampleEntry(),
		"empty":  {Record: Record{Time: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)}},
		"max": {Seq: 1<<64 - 1, Record: Record{
			Time:    time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
			Payload: map[string]string{"": "", "\"": "\\", "b": "\x00\x01\x1f", "é": "😀"},
		}},
		"leap day": {Seq: 7, Record: Record{Time: time.Date(2024, 2, 29, 12, 0, 0, 1000, time.UTC), Actor: "x"}},
	} {
		t.Run(name, func(t *testing.T) {
			data := e.Canonical()
			got, err := ParseEntry(data)
			require.NoError(t, err)
			assert.Equal(t, data, got.Canonical())
			assert.Equal(t, e.Seq, got.Seq)
			assert.Equal(t, e.Actor, got.Actor)
			assert.Equal(t, e.Action, got.Action)
			assert.Equal(t, e.Subject, got.Subject)
			assert.Equal(t, e.RequestHash, got.RequestHash)
			assert.Equal(t, e.ResultHash, got.ResultHash)
			assert.True(t, e.Time.Truncate(time.Microsecond).Equal(got.Time), "time %v != %v", e.Time, got.Time)
			assert.Equal(t, time.UTC, got.Time.Location())
			if len(e.Payload) == 0 {
				assert.Nil(t, got.Payload)
			} else {
				assert.Equal(t, e.Payload, got.Payload)
			}
			seq, err := checkCanonical(data)
			require.NoError(t, err)
			assert.Equal(t, e.Seq, seq)
		})
	}
}

func TestParseEntryRejects(t *testing.T) {
	good := sampleCanonical
	require.NoError(t, func() error { _, err := ParseEntry([]byte(good)); return err }())
	replace := func(old, new string) string {
		require.Contains(t, good, old)
		return strings.Replace(good, old, new, 1)
	}
	var htmlEscaped bytes.Buffer
	json.HTMLEscape(&htmlEscaped, []byte(good))

	for _, tc := range []struct {
		name, data, want string
	}{
		{"space after colon", replace(`"action":"`, `"action": "`), "whitespace"},
		{"newline between members", replace(`,"actor"`, ",\n\"actor\""), "whitespace"},
		{"indented", func() string {
			var b bytes.Buffer
			require.NoError(t, json.Indent(&b, []byte(good), "", "  "))
			return b.String()
		}(), "whitespace"},
		{"trailing newline", good + "\n", "whitespace"},
		{"unsorted keys", `{"actor":"principals/clerk-01","action":"household.create",` + good[strings.Index(good, `"payload"`):], `keys are not in sorted order: "actor" where "action" belongs`},
		{"unknown key", replace(`"subject":`, `"subjekt":`), `unknown key "subjekt"`},
		{"extra key", good[:len(good)-1] + `,"zone":"UTC"}`, `unknown key "zone"`},
		{"missing key", replace(`"result_hash":"",`, ``), `missing key "result_hash"`},
		{"duplicate key", replace(`"result_hash":"",`, `"result_hash":"","result_hash":"",`), `duplicate key "result_hash"`},
		{"seq as number", replace(`"seq":"41"`, `"seq":41`), `value of "seq" must be a JSON string, not a number`},
		{"actor as null", replace(`"actor":"principals/clerk-01"`, `"actor":null`), `value of "actor" must be a JSON string, not null`},
		{"payload value number", replace(`"amount":"1200.50"`, `"amount":1200.50`), `payload value of "amount" must be a JSON string, not a number`},
		{"payload not object", replace(`"payload":{"amount":"1200.50","name_zh":"张三家 <户主> & Co","note":"line1\nline2 \"q\" \\ \t\u001f"}`, `"payload":[]`), "payload must be a JSON object"},
		{"payload keys unsorted", replace(`"amount":"1200.50","name_zh":"张三家 <户主> & Co",`, `"name_zh":"张三家 <户主> & Co","amount":"1200.50",`), "payload keys are not in strictly increasing order"},
		{"seq leading zero", replace(`"seq":"41"`, `"seq":"041"`), `seq "041" is not a decimal number`},
		{"seq negative", replace(`"seq":"41"`, `"seq":"-41"`), `seq "-41" is not a decimal number`},
		{"seq hex", replace(`"seq":"41"`, `"seq":"0x29"`), `seq "0x29" is not a decimal number`},
		{"seq empty", replace(`"seq":"41"`, `"seq":""`), `seq "" is not a decimal number`},
		{"seq overflow", replace(`"seq":"41"`, `"seq":"18446744073709551616"`), `seq "18446744073709551616" is not a decimal number`},
		{"time millis", replace(`.123456Z`, `.123Z`), "time \"2025-03-01T00:09:10.123Z\" is not RFC 3339 UTC"},
		{"time offset", replace(`00:09:10.123456Z`, `08:09:10.123456+08:00`), "is not RFC 3339 UTC"},
		{"time no date", replace(`2025-03-01`, `2025-02-30`), "is not RFC 3339 UTC"},
		{"time not a leap year", replace(`2025-03-01`, `2025-02-29`), "is not RFC 3339 UTC"},
		{"time 1900 not a leap year", replace(`2025-03-01`, `1900-02-29`), "is not RFC 3339 UTC"},
		{"time month 13", replace(`2025-03-01`, `2025-13-01`), "is not RFC 3339 UTC"},
		{"time month 0", replace(`2025-03-01`, `2025-00-01`), "is not RFC 3339 UTC"},
		{"time day 0", replace(`2025-03-01`, `2025-03-00`), "is not RFC 3339 UTC"},
		{"time day 31 in April", replace(`2025-03-01`, `2025-04-31`), "is not RFC 3339 UTC"},
		{"time hour 24", replace(`T00:09:10`, `T24:09:10`), "is not RFC 3339 UTC"},
		{"time minute 60", replace(`T00:09:10`, `T00:60:10`), "is not RFC 3339 UTC"},
		{"time leap second", replace(`T00:09:10`, `T23:59:60`), "is not RFC 3339 UTC"},
		{"time lowercase", replace(`T00:09:10.123456Z`, `t00:09:10.123456z`), "is not RFC 3339 UTC"},
		{"time space", replace(`T00:09:10`, ` 00:09:10`), "is not RFC 3339 UTC"},
		{"time signed year", replace(`2025-03-01`, `+025-03-01`), "is not RFC 3339 UTC"},
		{"escaped letter", replace(`"household.create"`, `"\u0068ousehold.create"`), `non-canonical \u escape`},
		{"escaped slash", replace(`villages/`, `villages\/`), "invalid escape"},
		{"uppercase hex escape", replace(`\u001f`, `\u001F`), `non-canonical \u escape`},
		{"long form of \\n", replace(`line1\n`, `line1\u000a`), `non-canonical \u escape`},
		{"html escaped", htmlEscaped.String(), `non-canonical \u escape`},
		{"raw control char", replace(`\t`, "\t"), "not valid JSON: invalid character '\\t' in string literal"},
		{"invalid UTF-8", replace(`张`, "\xe5\xbc"), "invalid UTF-8"},
		{"not an object", `["x"]`, "an entry is a JSON object, not an array"},
		{"truncated", good[:len(good)-1], "not valid JSON"},
		{"empty", ``, "not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseEntry([]byte(tc.data))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "entry is not canonical JSON")
			_, err = checkCanonical([]byte(tc.data))
			assert.Error(t, err)
		})
	}
}

func TestHashBytesAndLeafHash(t *testing.T) {
	assert.Equal(t, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", HashBytes(nil))
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", HashBytes([]byte("abc")))
	// RFC 6962 test vector: the leaf hash of the empty leaf is SHA-256(0x00).
	assert.Equal(t, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", hex.EncodeToString(LeafHash(nil)))
	assert.Equal(t, HashBytes(append([]byte{0}, sampleCanonical...)), hex.EncodeToString(LeafHash([]byte(sampleCanonical))))
}

func TestValidate(t *testing.T) {
	good := sampleEntry().Record
	require.NoError(t, good.Validate())

	// Strings that are not ID numbers: hashes, 12-digit village codes,
	// 18 digits with a wrong check digit, 19 digits.
	ok := good
	ok.Payload = map[string]string{
		"hash":  "110105194912310020110105194912310020110105194912310020abcdef0123",
		"wrong": "110105194912310021",
		"long":  "1101051949123100201",
	}
	require.NoError(t, ok.Validate())

	for name, tc := range map[string]struct {
		mod  func(*Record)
		want string
	}{
		"zero time":          {func(r *Record) { r.Time = time.Time{} }, "time is not set"},
		"year 10000":         {func(r *Record) { r.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "outside the years"},
		"no actor":           {func(r *Record) { r.Actor = "" }, "actor is empty"},
		"no action":          {func(r *Record) { r.Action = "" }, "action is empty"},
		"uppercase hash":     {func(r *Record) { r.RequestHash = strings.ToUpper(r.RequestHash) }, "request_hash must be empty or 64 lowercase hex digits"},
		"short hash":         {func(r *Record) { r.ResultHash = "abc" }, "result_hash must be empty or 64 lowercase hex digits"},
		"invalid UTF-8":      {func(r *Record) { r.Subject = "a\xff" }, "subject is not valid UTF-8"},
		"ID in subject":      {func(r *Record) { r.Subject = "persons/11010519491231002X" }, "subject contains what looks like a resident ID number"},
		"ID lowercase x":     {func(r *Record) { r.Actor = "11010519491231002x" }, "actor contains what looks like a resident ID number"},
		"ID in payload":      {func(r *Record) { r.Payload = map[string]string{"id": "身份证 11010519491231002X ok"} }, `payload value of "id" contains`},
		"ID as payload key":  {func(r *Record) { r.Payload = map[string]string{"11010519491231002X": "1"} }, `payload key "110105********002X" contains`},
		"bad payload UTF-8":  {func(r *Record) { r.Payload = map[string]string{"k": "\xc3"} }, `payload value of "k" is not valid UTF-8`},
		"several at once":    {func(r *Record) { r.Actor, r.Action = "", "" }, "actor is empty\naction is empty"},
		"ID after separator": {func(r *Record) { r.Subject = "x:11010519491231002X." }, "subject contains"},
	} {
		t.Run(name, func(t *testing.T) {
			r := good
			r.Payload = nil
			tc.mod(&r)
			err := r.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			// The message never repeats the ID number itself.
			assert.NotContains(t, err.Error(), "11010519491231002X")
		})
	}
}

// PayloadJSON is what a store queues a record's payload as: whatever the
// strings hold, it decodes to what encoding/json's encoding decodes to
// (invalid UTF-8 becomes U+FFFD in both), and keys come sorted.
func TestPayloadJSONDecodesAsEncodingJSON(t *testing.T) {
	for _, p := range []map[string]string{
		nil,
		{},
		{"basis": "consent", "a": "1"},
		{"note": "<b>&</b> \"quoted\" \\ \n\t\r\b\f \x00\x1f \u2028\u2029 南阳村 😀"},
		{"bad": "ok\xffthen\xc3", "k\xfe": "v"},
		{"": ""},
	} {
		got := PayloadJSON(p)
		var fromOurs, fromStd map[string]string
		require.NoError(t, json.Unmarshal(got, &fromOurs), "%s", got)
		std, err := json.Marshal(p)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(std, &fromStd))
		if len(fromStd) == 0 {
			assert.Equal(t, "{}", string(got))
			continue
		}
		assert.Equal(t, fromStd, fromOurs, "%q", p)
	}
	assert.Equal(t, `{"a":"1","b":"<&>"}`, string(PayloadJSON(map[string]string{"b": "<&>", "a": "1"})))
}

func BenchmarkPayloadJSON(b *testing.B) {
	p := map[string]string{"basis": "consent", "household": "villages/330483102215/households/01a2485e-b410-75f6",
		"decision":       "banks/tongxiang-rcb/products/sanzhi-xindai/decisions/01a2485e-b410-75f6-a214-04157c1ec7f6",
		"outcome_sha256": strings.Repeat("ab", 32), "limit": "50000.00"}
	b.Run("PayloadJSON", func(b *testing.B) {
		for b.Loop() {
			_ = PayloadJSON(p)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(p)
		}
	})
}
