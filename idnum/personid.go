package idnum

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	personIDLen = 18
	// maskedMiddle replaces the birth date and the first sequence digit, the
	// eight characters that, together with the region, identify a person.
	maskedMiddle = "********"
	// earliestBirth bounds birth dates from below. GB 11643 allows 18xx
	// dates, but nobody born before 1900 is a credit applicant, and such a
	// date in our input is a typo far more often than a real person.
	earliestBirth = "19000101"

	// Mask keeps maskKeepHead leading and maskKeepTail trailing characters
	// of strings of at least maskKeepMin characters.
	maskKeepHead = 6
	maskKeepTail = 4
	maskKeepMin  = maskKeepHead + maskKeepTail + 4
)

// weights are the GB 11643-1999 (ISO 7064 MOD 11-2) position weights
// 2^(17-i) mod 11 for the first 17 digits.
var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// checkChars maps the weighted sum mod 11 to the check character.
const checkChars = "10X98765432"

// chinaTime is China Standard Time. A fixed UTC+8 zone is exact for every
// date since 1991 (China has observed no daylight saving since), and unlike
// time.LoadLocation("Asia/Shanghai") it needs no tz database, which keeps
// this package free of I/O and of a dependency on the host's zoneinfo.
var chinaTime = time.FixedZone("CST", 8*60*60)

// PersonID is a validated 18-character 居民身份证号码 (GB 11643-1999), with the
// check character normalised to upper-case X.
//
// A PersonID is sensitive personal information. Its String, Format, GoString
// and LogValue methods all return the masked form, so that printing or
// logging one by accident does not leak it; call Raw explicitly where the
// full number is genuinely needed (encryption, blind indexing). It
// deliberately has no JSON or text encoding, so every serialisation has to
// choose between Raw and Masked in the open.
//
// fmt cannot call methods on values it reaches through unexported struct
// fields, so do not keep a PersonID in an unexported field of a struct that
// might be printed with %v.
//
// The zero PersonID is empty: Raw and Masked return "".
type PersonID struct {
	raw string
}

// ParsePersonID validates s as a 居民身份证号码, checking the birth date
// against today's date in China. See ParsePersonIDAt for the rules.
func ParsePersonID(s string) (PersonID, error) {
	return ParsePersonIDAt(s, time.Now().In(chinaTime))
}

// ParsePersonIDAt validates s as a 居民身份证号码 and rejects it, with an
// *Error naming the first problem found, unless:
//   - it has exactly 18 characters: 17 ASCII digits then a digit or X
//     (a lower-case x is accepted and normalised);
//   - its first two digits are a GB/T 2260 province-level code and its
//     six-digit region code is not a bare province code (xx0000);
//   - digits 7-14 are a real calendar date between 1900-01-01 and today,
//     where today is the calendar date of the today argument in its own
//     location;
//   - the check character matches the other 17 digits.
//
// Surrounding whitespace is not trimmed: callers that accept free-form
// input should trim it first, so that what is stored is what was checked.
func ParsePersonIDAt(s string, today time.Time) (PersonID, error) {
	if len(s) != personIDLen {
		return PersonID{}, lengthOrFormatError(s)
	}
	if pos, r, ok := firstNonDigit(s[:personIDLen-1]); ok {
		return PersonID{}, newError(ReasonFormat,
			fmt.Sprintf("ID number character %d must be a digit, got %q", pos, r))
	}
	last := s[personIDLen-1]
	if last == 'x' {
		last = 'X'
		s = s[:personIDLen-1] + "X"
	}
	if !isDigit(last) && last != 'X' {
		r, _ := utf8.DecodeLastRuneInString(s)
		return PersonID{}, newError(ReasonFormat,
			fmt.Sprintf("ID number check character must be a digit or X, got %q", r))
	}

	region := s[:6]
	if !knownProvince(region) {
		return PersonID{}, newError(ReasonRegion,
			fmt.Sprintf("region code %s is not a known province", region))
	}
	if region[2:] == "0000" {
		return PersonID{}, newError(ReasonRegion,
			fmt.Sprintf("region code %s is a whole province, not a county-level area", region))
	}

	if err := checkBirthDate(s[6:14], today); err != nil {
		return PersonID{}, err
	}

	want, err := CheckDigit(s[:personIDLen-1])
	if err != nil {
		// Unreachable: the first 17 characters were checked above.
		return PersonID{}, err
	}
	if want != last {
		return PersonID{}, newError(ReasonCheckDigit,
			fmt.Sprintf("check digit is %c, got %c", want, last))
	}
	return PersonID{raw: s}, nil
}

// lengthOrFormatError explains an input whose byte length is not 18. An
// input of 18 characters but more bytes holds a non-ASCII character (a
// full-width digit, typically), which is a format problem, not a length one.
func lengthOrFormatError(s string) *Error {
	n := utf8.RuneCountInString(s)
	if n != personIDLen {
		return newError(ReasonLength,
			fmt.Sprintf("ID number must be 18 characters, got %d", n))
	}
	pos, r, _ := firstNonDigit(s)
	if pos == personIDLen {
		return newError(ReasonFormat,
			fmt.Sprintf("ID number check character must be a digit or X, got %q", r))
	}
	return newError(ReasonFormat,
		fmt.Sprintf("ID number character %d must be a digit, got %q", pos, r))
}

// checkBirthDate validates the eight-digit YYYYMMDD date d.
func checkBirthDate(d string, today time.Time) error {
	if _, ok := parseDate(d); !ok {
		return newError(ReasonBirthDate,
			fmt.Sprintf("birth date %s is not a valid date", d))
	}
	// Fixed-width YYYYMMDD strings order like the dates they name.
	if d < earliestBirth {
		return newError(ReasonBirthDate,
			fmt.Sprintf("birth date %s is before 1900-01-01", d))
	}
	if d > today.Format("20060102") {
		return newError(ReasonBirthDate,
			fmt.Sprintf("birth date %s is in the future", d))
	}
	return nil
}

// parseDate parses an eight-digit YYYYMMDD string as midnight UTC of that
// date, reporting false for dates that do not exist (time.Date would
// silently normalise 0230 to 0302).
func parseDate(d string) (time.Time, bool) {
	y := atoi(d[0:4])
	m := atoi(d[4:6])
	day := atoi(d[6:8])
	t := time.Date(y, time.Month(m), day, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != day {
		return time.Time{}, false
	}
	return t, true
}

// CheckDigit computes the GB 11643-1999 check character ('0'-'9' or 'X')
// for the first 17 digits of an ID number.
func CheckDigit(first17 string) (byte, error) {
	if len(first17) != personIDLen-1 {
		return 0, newError(ReasonLength,
			fmt.Sprintf("check digit needs 17 digits, got %d characters", utf8.RuneCountInString(first17)))
	}
	if pos, r, ok := firstNonDigit(first17); ok {
		return 0, newError(ReasonFormat,
			fmt.Sprintf("check digit input character %d must be a digit, got %q", pos, r))
	}
	sum := 0
	for i := range personIDLen - 1 {
		sum += int(first17[i]-'0') * weights[i]
	}
	return checkChars[sum%11], nil
}

// Raw returns the full, unmasked ID number. It is sensitive personal
// information: pass it only to encryption, blind indexing or an
// authorised disclosure, never to logs or error messages.
func (p PersonID) Raw() string { return p.raw }

// Masked returns the ID number with the birth date and the first sequence
// digit hidden, e.g. 330483********123X, the form shown to people and
// written to logs.
func (p PersonID) Masked() string {
	if p.raw == "" {
		return ""
	}
	return p.raw[:6] + maskedMiddle + p.raw[14:]
}

// IsZero reports whether p is the zero PersonID.
func (p PersonID) IsZero() bool { return p.raw == "" }

// String returns the masked form, so that an accidental print or log line
// does not disclose the number.
func (p PersonID) String() string { return p.Masked() }

// GoString returns a masked Go-syntax form, so %#v does not disclose the
// number either.
func (p PersonID) GoString() string { return fmt.Sprintf("idnum.PersonID(%q)", p.Masked()) }

// Format implements fmt.Formatter so that every verb (not only %v and %s,
// which String would cover) sees the masked form.
func (p PersonID) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, p.GoString())
		return
	}
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), p.Masked())
}

// LogValue implements slog.LogValuer so structured logs get the masked
// form.
func (p PersonID) LogValue() slog.Value { return slog.StringValue(p.Masked()) }

// Region returns the six-digit GB/T 2260 code of the county-level area where
// the number was first issued. It does not change when the holder moves, and
// the area may since have been renamed or merged.
func (p PersonID) Region() string {
	if p.raw == "" {
		return ""
	}
	return p.raw[:6]
}

// BirthDate returns the birth date as midnight UTC of that calendar date;
// use its Year, Month and Day rather than comparing instants across zones.
// It returns the zero time for the zero PersonID.
func (p PersonID) BirthDate() time.Time {
	if p.raw == "" {
		return time.Time{}
	}
	t, _ := parseDate(p.raw[6:14])
	return t
}

// Sex returns the sex recorded in the number: the 17th digit is odd for men
// and even for women.
func (p PersonID) Sex() Sex {
	if p.raw == "" {
		return SexUnknown
	}
	if (p.raw[16]-'0')%2 == 1 {
		return SexMale
	}
	return SexFemale
}

// Sex is the sex encoded in an ID number.
type Sex uint8

// Values of Sex. SexUnknown is returned only for the zero PersonID.
const (
	SexUnknown Sex = iota
	SexFemale
	SexMale
)

func (s Sex) String() string {
	switch s {
	case SexFemale:
		return "female"
	case SexMale:
		return "male"
	default:
		return "unknown"
	}
}

// Mask hides the middle of s, keeping the first 6 and last 4 characters, for
// scrubbing values that may be ID numbers (including invalid ones, which
// ParsePersonID rejected) before they reach a log. A string of 18 characters
// is masked exactly like PersonID.Masked.
//
// A string shorter than maskKeepMin characters is replaced entirely by
// asterisks: keeping 6+4 characters of a 10-character string would hide
// nothing at all, so at least 4 characters must be hidden before any are
// shown. Lengths count characters, not bytes, so the result is valid UTF-8
// whenever s is.
func Mask(s string) string {
	n := utf8.RuneCountInString(s)
	if n < maskKeepMin {
		return strings.Repeat("*", n)
	}
	var b strings.Builder
	b.Grow(len(s))
	i := 0
	for _, r := range s {
		if i < maskKeepHead || i >= n-maskKeepTail {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
		i++
	}
	return b.String()
}

// firstNonDigit returns the 1-based character position and value of the
// first rune in s that is not an ASCII digit.
func firstNonDigit(s string) (pos int, r rune, found bool) {
	pos = 0
	for _, r := range s {
		pos++
		if r >= utf8.RuneSelf || !isDigit(byte(r)) {
			return pos, r, true
		}
	}
	return 0, 0, false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// atoi converts a string already known to be ASCII digits.
func atoi(s string) int {
	n := 0
	for i := range len(s) {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
