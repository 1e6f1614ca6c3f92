package idnum

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refToday is the fixed "today" for deterministic tests: noon on 2026-06-15
// in China (the same date in UTC; zone handling is tested separately).
var refToday = time.Date(2026, time.June, 15, 12, 0, 0, 0, time.FixedZone("CST", 8*60*60))

// withCheck appends the computed check character to first17.
func withCheck(t testing.TB, first17 string) string {
	t.Helper()
	c, err := CheckDigit(first17)
	require.NoError(t, err)
	return first17 + string(c)
}

// wrongCheck returns first17 followed by a check character that is not the
// correct one, and the correct one.
func wrongCheck(t testing.TB, first17 string) (id string, want byte) {
	t.Helper()
	c, err := CheckDigit(first17)
	require.NoError(t, err)
	bad := byte('0')
	if c == '0' {
		bad = '1'
	}
	return first17 + string(bad), c
}

func TestCheckDigitStandardExamples(t *testing.T) {
	// The two worked examples printed in GB 11643-1999 itself.
	c, err := CheckDigit("11010519491231002")
	require.NoError(t, err)
	assert.Equal(t, byte('X'), c)

	c, err = CheckDigit("44052418800101001")
	require.NoError(t, err)
	assert.Equal(t, byte('4'), c)
}

// TestCheckDigitAllResidues pins one input for each of the 11 possible
// weighted sums mod 11, with the expected characters computed independently
// (in Python) from the GB 11643 definition, so that a mistake in the weights
// or the mapping cannot hide behind tests that use CheckDigit itself.
func TestCheckDigitAllResidues(t *testing.T) {
	tests := []struct {
		first17 string
		want    byte
	}{
		{"33048319850610002", '1'},
		{"33048319850610008", '0'},
		{"33048319850610003", 'X'},
		{"33048319850610009", '9'},
		{"33048319850610004", '8'},
		{"33048319850610018", '7'},
		{"33048319850610005", '6'},
		{"33048319850610000", '5'},
		{"33048319850610006", '4'},
		{"33048319850610001", '3'},
		{"33048319850610007", '2'},
	}
	for _, tt := range tests {
		got, err := CheckDigit(tt.first17)
		require.NoError(t, err)
		assert.Equal(t, string(tt.want), string(got), tt.first17)
	}
}

func TestCheckDigitErrors(t *testing.T) {
	_, err := CheckDigit("1101051949123100")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, ReasonLength, e.Reason)
	assert.EqualError(t, err, "check digit needs 17 digits, got 16 characters")

	_, err = CheckDigit("1101051949123100X")
	require.ErrorAs(t, err, &e)
	assert.Equal(t, ReasonFormat, e.Reason)
	assert.EqualError(t, err, `check digit input character 17 must be a digit, got 'X'`)
}

func TestParsePersonIDAt(t *testing.T) {
	tongxiangMale := withCheck(t, "33048319850612003")
	wrongTongxiang, wantTongxiang := wrongCheck(t, "33048319850612003")

	// Find a Tongxiang number whose correct check digit is 7, to reproduce
	// the canonical "check digit is 7, got X" message.
	var want7 string
	for seq := 0; seq < 1000 && want7 == ""; seq++ {
		first17 := fmt.Sprintf("33048319900101%03d", seq)
		if c, _ := CheckDigit(first17); c == '7' {
			want7 = first17
		}
	}
	require.NotEmpty(t, want7, "no sequence number gives check digit 7")

	tests := []struct {
		name    string
		in      string
		wantRaw string // expected Raw() when valid
		reason  Reason // expected Reason when invalid
		msg     string // expected message when invalid
	}{
		{name: "GB 11643 example", in: "11010519491231002X", wantRaw: "11010519491231002X"},
		{name: "lower-case x normalised", in: "11010519491231002x", wantRaw: "11010519491231002X"},
		{name: "Tongxiang, verified externally", in: "33048319600119123X", wantRaw: "33048319600119123X"},
		{name: "Tongxiang, computed", in: tongxiangMale, wantRaw: tongxiangMale},
		{name: "leap day", in: withCheck(t, "33048320000229002"), wantRaw: withCheck(t, "33048320000229002")},
		{name: "born 1900-01-01", in: withCheck(t, "33048319000101002"), wantRaw: withCheck(t, "33048319000101002")},
		{name: "born today", in: withCheck(t, "33048320260615002"), wantRaw: withCheck(t, "33048320260615002")},
		{name: "Hainan Danzhou, county part 00", in: withCheck(t, "46040019800101001"), wantRaw: withCheck(t, "46040019800101001")},

		{name: "empty", in: "", reason: ReasonLength, msg: "ID number must be 18 characters, got 0"},
		{name: "old 15-digit number", in: "330483850612003", reason: ReasonLength, msg: "ID number must be 18 characters, got 15"},
		{name: "19 characters", in: tongxiangMale + "1", reason: ReasonLength, msg: "ID number must be 18 characters, got 19"},
		{name: "not trimmed", in: " " + tongxiangMale, reason: ReasonLength, msg: "ID number must be 18 characters, got 19"},
		{name: "letter in date", in: "33048319850A120031", reason: ReasonFormat, msg: "ID number character 12 must be a digit, got 'A'"},
		{name: "X not last", in: "3304831985061200X1", reason: ReasonFormat, msg: "ID number character 17 must be a digit, got 'X'"},
		{name: "full-width digit", in: "３" + tongxiangMale[1:], reason: ReasonFormat, msg: "ID number character 1 must be a digit, got '３'"},
		{name: "full-width check char", in: tongxiangMale[:17] + "Ｘ", reason: ReasonFormat, msg: "ID number check character must be a digit or X, got 'Ｘ'"},
		{name: "bad check char", in: tongxiangMale[:17] + "Y", reason: ReasonFormat, msg: "ID number check character must be a digit or X, got 'Y'"},
		{name: "unknown province 99", in: withCheck(t, "99048319850612003"), reason: ReasonRegion, msg: "region code 990483 is not a known province"},
		{name: "province 83 not listed", in: withCheck(t, "83000019850612003"), reason: ReasonRegion, msg: "region code 830000 is not a known province"},
		{name: "all-zero region", in: withCheck(t, "00000019850612003"), reason: ReasonRegion, msg: "region code 000000 is not a known province"},
		{name: "province-level region", in: withCheck(t, "33000019850612003"), reason: ReasonRegion, msg: "region code 330000 is a whole province, not a county-level area"},
		{name: "month 13", in: withCheck(t, "33048319991332003"), reason: ReasonBirthDate, msg: "birth date 19991332 is not a valid date"},
		{name: "day 00", in: withCheck(t, "33048319990100003"), reason: ReasonBirthDate, msg: "birth date 19990100 is not a valid date"},
		{name: "Feb 29 in a common year", in: withCheck(t, "33048320230229003"), reason: ReasonBirthDate, msg: "birth date 20230229 is not a valid date"},
		{name: "April 31", in: withCheck(t, "33048319900431003"), reason: ReasonBirthDate, msg: "birth date 19900431 is not a valid date"},
		{name: "before 1900 (GB 11643 example)", in: "440524188001010014", reason: ReasonBirthDate, msg: "birth date 18800101 is before 1900-01-01"},
		{name: "1899-12-31", in: withCheck(t, "33048318991231003"), reason: ReasonBirthDate, msg: "birth date 18991231 is before 1900-01-01"},
		{name: "tomorrow", in: withCheck(t, "33048320260616003"), reason: ReasonBirthDate, msg: "birth date 20260616 is in the future"},
		{name: "next year", in: withCheck(t, "33048320270101003"), reason: ReasonBirthDate, msg: "birth date 20270101 is in the future"},
		{name: "GB 11643 example, wrong check", in: "110105194912310027", reason: ReasonCheckDigit, msg: "check digit is X, got 7"},
		{name: "canonical message", in: want7 + "X", reason: ReasonCheckDigit, msg: "check digit is 7, got X"},
		{name: "lower-case x where a digit is due", in: want7 + "x", reason: ReasonCheckDigit, msg: "check digit is 7, got X"},
		{name: "computed wrong check", in: wrongTongxiang, reason: ReasonCheckDigit, msg: fmt.Sprintf("check digit is %c, got %c", wantTongxiang, wrongTongxiang[17])},
		{name: "transposed digits", in: "33048319600191123X", reason: ReasonBirthDate, msg: "birth date 19600191 is not a valid date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := ParsePersonIDAt(tt.in, refToday)
			if tt.reason == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.wantRaw, id.Raw())
				assert.False(t, id.IsZero())
				return
			}
			require.Error(t, err)
			assert.True(t, id.IsZero(), "a rejected number must yield the zero PersonID")
			var e *Error
			require.True(t, errors.As(err, &e), "error %T is not *idnum.Error", err)
			assert.Equal(t, tt.reason, e.Reason)
			assert.Equal(t, tt.msg, e.Msg)
			assert.Equal(t, tt.msg, err.Error())
			if len(tt.in) == personIDLen && tt.reason != ReasonFormat {
				assert.NotContains(t, err.Error(), tt.in, "error messages must not repeat the ID number")
			}
		})
	}
}

func TestParsePersonIDAtUsesTodaysLocalDate(t *testing.T) {
	born := withCheck(t, "33048320260616002")
	// 2026-06-15 20:00 UTC is already 2026-06-16 in China.
	utcEvening := time.Date(2026, time.June, 15, 20, 0, 0, 0, time.UTC)

	_, err := ParsePersonIDAt(born, utcEvening)
	require.Error(t, err, "in UTC it is still the 15th, so the 16th is in the future")

	_, err = ParsePersonIDAt(born, utcEvening.In(chinaTime))
	require.NoError(t, err, "in China it is the 16th already")
}

func TestParsePersonIDUsesCurrentDate(t *testing.T) {
	id, err := ParsePersonID("11010519491231002X")
	require.NoError(t, err)
	assert.Equal(t, "11010519491231002X", id.Raw())

	tomorrow := time.Now().In(chinaTime).AddDate(0, 0, 1).Format("20060102")
	_, err = ParsePersonID(withCheck(t, "330483"+tomorrow+"002"))
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, ReasonBirthDate, e.Reason)
}

func TestPersonIDAccessors(t *testing.T) {
	male, err := ParsePersonIDAt("33048319600119123X", refToday)
	require.NoError(t, err)
	assert.Equal(t, "330483", male.Region())
	assert.Equal(t, time.Date(1960, time.January, 19, 0, 0, 0, 0, time.UTC), male.BirthDate())
	assert.Equal(t, SexMale, male.Sex())
	assert.Equal(t, "male", male.Sex().String())

	female, err := ParsePersonIDAt("11010519491231002X", refToday)
	require.NoError(t, err)
	assert.Equal(t, "110105", female.Region())
	assert.Equal(t, time.Date(1949, time.December, 31, 0, 0, 0, 0, time.UTC), female.BirthDate())
	assert.Equal(t, SexFemale, female.Sex())
	assert.Equal(t, "female", female.Sex().String())

	var zero PersonID
	assert.True(t, zero.IsZero())
	assert.Empty(t, zero.Raw())
	assert.Empty(t, zero.Masked())
	assert.Empty(t, zero.Region())
	assert.True(t, zero.BirthDate().IsZero())
	assert.Equal(t, SexUnknown, zero.Sex())
	assert.Equal(t, "unknown", zero.Sex().String())
}

func TestPersonIDIsComparable(t *testing.T) {
	a, err := ParsePersonIDAt("11010519491231002x", refToday)
	require.NoError(t, err)
	b, err := ParsePersonIDAt("11010519491231002X", refToday)
	require.NoError(t, err)
	assert.True(t, a == b, "normalised numbers must compare equal")
}

func TestPersonIDNeverPrintsRaw(t *testing.T) {
	const raw = "33048319600119123X"
	const masked = "330483********123X"
	id, err := ParsePersonIDAt(raw, refToday)
	require.NoError(t, err)

	assert.Equal(t, masked, id.Masked())
	assert.Equal(t, masked, id.String())
	assert.Equal(t, raw, id.Raw())

	type record struct {
		Name string
		ID   PersonID
		Ptr  *PersonID
	}
	rec := record{Name: "张三", ID: id, Ptr: &id}

	formats := map[string]string{
		"%v":         fmt.Sprintf("%v", id),
		"%s":         fmt.Sprintf("%s", id),
		"%+v":        fmt.Sprintf("%+v", id),
		"%#v":        fmt.Sprintf("%#v", id),
		"%q":         fmt.Sprintf("%q", id),
		"%x":         fmt.Sprintf("%x", id),
		"%d":         fmt.Sprintf("%d", id),
		"%20s":       fmt.Sprintf("%20s", id),
		"Sprint":     fmt.Sprint(id),
		"Sprintln":   fmt.Sprintln(id),
		"struct %v":  fmt.Sprintf("%v", rec),
		"struct %+v": fmt.Sprintf("%+v", rec),
		"struct %#v": fmt.Sprintf("%#v", rec),
		"pointer %v": fmt.Sprintf("%v", &id),
		"slice %v":   fmt.Sprintf("%v", []PersonID{id}),
		"error %w":   fmt.Errorf("lookup %v: %w", id, errors.New("not found")).Error(),
	}
	rawHex := fmt.Sprintf("%x", raw)
	for name, out := range formats {
		assert.NotContains(t, out, raw, name)
		assert.NotContains(t, out, raw[6:14], name, "birth date leaked")
		assert.NotContains(t, out, rawHex, name)
	}
	assert.Equal(t, masked, formats["%v"])
	assert.Equal(t, `"`+masked+`"`, formats["%q"])
	assert.Equal(t, `idnum.PersonID("`+masked+`")`, formats["%#v"])
	assert.Equal(t, fmt.Sprintf("%20s", masked), formats["%20s"])
	assert.Contains(t, formats["struct %+v"], "ID:"+masked)
}

func TestPersonIDSlogMasks(t *testing.T) {
	const raw = "33048319600119123X"
	id, err := ParsePersonIDAt(raw, refToday)
	require.NoError(t, err)

	for name, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(newHandler(&buf))
			logger.Info("household created", "person_id", id, slog.Any("ptr", &id), slog.Group("g", "id", id))
			out := buf.String()
			assert.NotContains(t, out, raw)
			assert.Equal(t, 3, strings.Count(out, "330483********123X"), out)
		})
	}
}

func TestMask(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"1", "*"},
		{"123456789", "*********"},
		{"1234567890", "**********"},
		{"1234567890123", "*************"},
		{"12345678901234", "123456****1234"},
		{"330483850612003", "330483*****2003"},
		{"33048319600119123X", "330483********123X"},
		{"33048319600119123x", "330483********123x"},
		{"3304831960011912345", "330483*********2345"},
		{"３３０４８３１９６００１１９１２３Ｘ", "３３０４８３********１２３Ｘ"},
		{"张三", "**"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, Mask(tt.in))
		})
	}
}

func TestMaskAgreesWithMasked(t *testing.T) {
	id, err := ParsePersonIDAt(withCheck(t, "33048319850612003"), refToday)
	require.NoError(t, err)
	assert.Equal(t, id.Masked(), Mask(id.Raw()))
}

func FuzzParsePersonID(f *testing.F) {
	for _, seed := range []string{
		"11010519491231002X",
		"11010519491231002x",
		"33048319600119123X",
		"440524188001010014",
		"110105194912310027",
		"330483850612003",
		"33048319991332003X",
		"33000019850612003X",
		"３３０４８３１９６００１１９１２３Ｘ",
		"3304831960011912\xff3X",
		"",
		"XXXXXXXXXXXXXXXXXX",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParsePersonIDAt(s, refToday)
		if err != nil {
			var e *Error
			require.ErrorAs(t, err, &e)
			require.NotEmpty(t, e.Reason)
			require.NotEmpty(t, e.Msg)
			require.True(t, id.IsZero())
			if e.Reason != ReasonLength && e.Reason != ReasonFormat {
				require.NotContains(t, e.Msg, s, "error message repeats the input")
			}
			return
		}

		want := s
		if strings.HasSuffix(s, "x") {
			want = s[:17] + "X"
		}
		raw := id.Raw()
		require.Equal(t, want, raw, "Raw must round-trip (with x upper-cased)")

		masked := id.Masked()
		require.Len(t, masked, 18)
		require.Equal(t, raw[:6], masked[:6])
		require.Equal(t, "********", masked[6:14])
		require.Equal(t, raw[14:], masked[14:])
		require.Equal(t, masked, Mask(raw))
		require.Equal(t, masked, fmt.Sprint(id))

		c, err := CheckDigit(raw[:17])
		require.NoError(t, err)
		require.Equal(t, c, raw[17])

		again, err := ParsePersonIDAt(raw, refToday)
		require.NoError(t, err)
		require.Equal(t, id, again)

		born := id.BirthDate()
		require.False(t, born.IsZero())
		require.Equal(t, raw[6:14], born.Format("20060102"))
	})
}
