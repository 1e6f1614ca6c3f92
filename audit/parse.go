package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// ParseEntry parses an entry's canonical JSON. It accepts exactly the bytes
// that [Entry.Canonical] produces and nothing else: whitespace, another key
// order, an unknown or missing key, a non-string value, a seq that is not a
// plain decimal, a differently written time or a different escaping of the
// same string are all errors, each with a message that says which.
//
// An empty payload is returned as a nil map.
func ParseEntry(data []byte) (Entry, error) {
	s := scanner{data: data, decode: true}
	if err := s.entry(); err != nil {
		return Entry{}, fmt.Errorf("entry is not canonical JSON: %w", diagnose(data, err))
	}
	// The scanner accepts only the canonical grammar; re-encoding is a second,
	// independent guard that the bytes are what Canonical would write.
	if c := s.e.Canonical(); !bytes.Equal(c, data) {
		return Entry{}, fmt.Errorf("entry is not canonical JSON: it differs from its canonical encoding at byte %d", firstDiff(c, data))
	}
	return s.e, nil
}

// checkCanonical is ParseEntry without building the Entry: it validates data
// and returns its seq, allocating nothing on the canonical path.
func checkCanonical(data []byte) (uint64, error) {
	s := scanner{data: data}
	if err := s.entry(); err != nil {
		return 0, fmt.Errorf("entry is not canonical JSON: %w", diagnose(data, err))
	}
	return s.e.Seq, nil
}

func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// scanner recognises the canonical entry grammar in one pass:
//
//	{"action":S,"actor":S,"payload":{[S:S{,S:S}]},"request_hash":S,
//	 "result_hash":S,"seq":"D","subject":S,"time":"T"}
//
// where S is a canonical string, D a decimal without leading zeros and T a
// time in TimeLayout; payload keys must be strictly increasing. With decode
// set it also fills e; otherwise it only sets e.Seq.
type scanner struct {
	data   []byte
	p      int
	decode bool
	e      Entry
}

func (s *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("byte %d: %s", s.p, fmt.Sprintf(format, args...))
}

// lit consumes the literal text t.
func (s *scanner) lit(t string) error {
	if len(s.data)-s.p < len(t) || string(s.data[s.p:s.p+len(t)]) != t {
		return s.errorf("want %s", t)
	}
	s.p += len(t)
	return nil
}

func (s *scanner) entry() error {
	if err := s.lit(`{"action":`); err != nil {
		return err
	}
	var err error
	if s.e.Action, err = s.stringValue(); err != nil {
		return err
	}
	if err := s.lit(`,"actor":`); err != nil {
		return err
	}
	if s.e.Actor, err = s.stringValue(); err != nil {
		return err
	}
	if err := s.lit(`,"payload":{`); err != nil {
		return err
	}
	if err := s.payload(); err != nil {
		return err
	}
	if err := s.lit(`},"request_hash":`); err != nil {
		return err
	}
	if s.e.RequestHash, err = s.stringValue(); err != nil {
		return err
	}
	if err := s.lit(`,"result_hash":`); err != nil {
		return err
	}
	if s.e.ResultHash, err = s.stringValue(); err != nil {
		return err
	}
	if err := s.lit(`,"seq":"`); err != nil {
		return err
	}
	if err := s.seq(); err != nil {
		return err
	}
	if err := s.lit(`","subject":`); err != nil {
		return err
	}
	if s.e.Subject, err = s.stringValue(); err != nil {
		return err
	}
	if err := s.lit(`,"time":"`); err != nil {
		return err
	}
	if err := s.time(); err != nil {
		return err
	}
	if err := s.lit(`"}`); err != nil {
		return err
	}
	if s.p != len(s.data) {
		return s.errorf("unexpected data after the entry")
	}
	return nil
}

// str consumes a canonical JSON string and returns the span of its contents
// (between the quotes) and whether it contains escapes.
func (s *scanner) str() (start, end int, escaped bool, err error) {
	d := s.data
	if s.p >= len(d) || d[s.p] != '"' {
		return 0, 0, false, s.errorf("want a string")
	}
	i := s.p + 1
	start = i
	for i < len(d) {
		c := d[i]
		if c < utf8.RuneSelf {
			if plainASCII[c] {
				i++
				continue
			}
			switch c {
			case '"':
				s.p = i + 1
				return start, i, escaped, nil
			case '\\':
				if i+1 >= len(d) {
					s.p = i
					return 0, 0, false, s.errorf("unterminated escape")
				}
				switch d[i+1] {
				case '"', '\\', 'b', 'f', 'n', 'r', 't':
					i += 2
				case 'u':
					// Only control characters without a short form are written \u00xx.
					if i+6 > len(d) || d[i+2] != '0' || d[i+3] != '0' || !isLowerHex(d[i+4]) || !isLowerHex(d[i+5]) {
						s.p = i
						return 0, 0, false, s.errorf("non-canonical \\u escape")
					}
					switch v := unhex(d[i+4])<<4 | unhex(d[i+5]); {
					case v >= 0x20 || v == '\b' || v == '\f' || v == '\n' || v == '\r' || v == '\t':
						s.p = i
						return 0, 0, false, s.errorf("non-canonical \\u escape")
					}
					i += 6
				default:
					s.p = i
					return 0, 0, false, s.errorf("invalid escape")
				}
				escaped = true
				continue
			default:
				s.p = i
				return 0, 0, false, s.errorf("unescaped control character")
			}
		}
		// A run of non-ASCII bytes holds whole multi-byte sequences if valid.
		j := i + 1
		for j < len(d) && d[j] >= utf8.RuneSelf {
			j++
		}
		if !utf8.Valid(d[i:j]) {
			s.p = i
			return 0, 0, false, s.errorf("invalid UTF-8")
		}
		i = j
	}
	s.p = i
	return 0, 0, false, s.errorf("unterminated string")
}

// stringValue consumes a canonical string; when decoding it returns its value.
func (s *scanner) stringValue() (string, error) {
	start, end, escaped, err := s.str()
	if err != nil || !s.decode {
		return "", err
	}
	if !escaped {
		return string(s.data[start:end]), nil
	}
	return string(unescape(s.data[start:end])), nil
}

func (s *scanner) payload() error {
	if s.p < len(s.data) && s.data[s.p] == '}' {
		return nil
	}
	var prev []byte
	havePrev := false
	for {
		ks, ke, kesc, err := s.str()
		if err != nil {
			return err
		}
		key := s.data[ks:ke]
		if kesc {
			key = unescape(key)
		}
		if havePrev && bytes.Compare(prev, key) >= 0 {
			return fmt.Errorf("byte %d: payload keys are not in strictly increasing order", ks-1)
		}
		prev, havePrev = key, true
		if err := s.lit(":"); err != nil {
			return err
		}
		v, err := s.stringValue()
		if err != nil {
			return err
		}
		if s.decode {
			if s.e.Payload == nil {
				s.e.Payload = make(map[string]string)
			}
			s.e.Payload[string(key)] = v
		}
		if s.p < len(s.data) && s.data[s.p] == ',' {
			s.p++
			continue
		}
		return nil
	}
}

func (s *scanner) seq() error {
	d := s.data
	start := s.p
	var n uint64
	for s.p < len(d) && '0' <= d[s.p] && d[s.p] <= '9' {
		digit := uint64(d[s.p] - '0')
		if n > (1<<64-1-digit)/10 {
			return s.errorf("seq does not fit in 64 bits")
		}
		n = n*10 + digit
		s.p++
	}
	switch {
	case s.p == start:
		return s.errorf("seq is not a decimal number")
	case d[start] == '0' && s.p-start > 1:
		return fmt.Errorf("byte %d: seq has a leading zero", start)
	}
	s.e.Seq = n
	return nil
}

// time consumes YYYY-MM-DDTHH:MM:SS.ffffffZ (TimeLayout) and checks the
// date and clock are real.
func (s *scanner) time() error {
	const n = len(TimeLayout)
	d := s.data
	if len(d)-s.p < n {
		return s.errorf("time is not in the form %s", TimeLayout)
	}
	t := d[s.p : s.p+n]
	num := func(i, w int) int {
		v := 0
		for _, c := range t[i : i+w] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec, micro := num(11, 2), num(14, 2), num(17, 2), num(20, 6)
	if t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' || t[19] != '.' || t[26] != 'Z' ||
		year < 0 || micro < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return s.errorf("time is not in the form %s", TimeLayout)
	}
	if s.decode {
		s.e.Time = time.Date(year, time.Month(month), day, hour, minute, sec, micro*1000, time.UTC)
	}
	s.p += n
	return nil
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func isLowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

// unescape decodes the escapes of a string the scanner has accepted.
func unescape(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		switch b[i] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			out = append(out, unhex(b[i+3])<<4|unhex(b[i+4]))
			i += 4
		default: // '"' or '\\'
			out = append(out, b[i])
		}
	}
	return out
}

// diagnose explains, in the terms a reader of the log cares about, why data
// is not a canonical entry. It runs only after the scanner has refused data,
// and falls back on the scanner's own error.
func diagnose(data []byte, scanErr error) error {
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		return fmt.Errorf("not valid JSON: %v", err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err == nil && !bytes.Equal(compact.Bytes(), data) {
		return fmt.Errorf("insignificant whitespace at byte %d is not allowed", firstDiff(compact.Bytes(), data))
	}
	keys, values, err := objectMembers(data)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if seen[k] {
			return fmt.Errorf("duplicate key %q", k)
		}
		seen[k] = true
		if !slices.Contains(canonicalKeys, k) {
			return fmt.Errorf("unknown key %q (the keys are %q)", k, canonicalKeys)
		}
	}
	for _, k := range canonicalKeys {
		if !seen[k] {
			return fmt.Errorf("missing key %q", k)
		}
	}
	for i, k := range keys {
		v := values[i]
		if k == keyPayload {
			if err := checkPayload(v); err != nil {
				return err
			}
			continue
		}
		var str string
		if err := json.Unmarshal(v, &str); err != nil || jsonKind(v) != "a string" {
			return fmt.Errorf("value of %q must be a JSON string, not %s", k, jsonKind(v))
		}
		switch k {
		case keySeq:
			if n, err := strconv.ParseUint(str, 10, 64); err != nil || strconv.FormatUint(n, 10) != str {
				return fmt.Errorf("seq %q is not a decimal number (digits only, no sign or leading zero, at most 2^64-1)", str)
			}
		case keyTime:
			if t, err := time.Parse(TimeLayout, str); err != nil || t.Format(TimeLayout) != str {
				return fmt.Errorf("time %q is not RFC 3339 UTC with six fractional digits (%s)", str, TimeLayout)
			}
		}
	}
	if !slices.Equal(keys, canonicalKeys) {
		for i := range keys {
			if keys[i] != canonicalKeys[i] {
				return fmt.Errorf("keys are not in sorted order: %q where %q belongs", keys[i], canonicalKeys[i])
			}
		}
	}
	return scanErr
}

// objectMembers returns the keys and raw values of the JSON object data, in order.
func objectMembers(data []byte) ([]string, []json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("an entry is a JSON object, not %s", jsonKind(data))
	}
	var keys []string
	var values []json.RawMessage
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		keys = append(keys, k)
		values = append(values, v)
	}
	return keys, values, nil
}

func checkPayload(v json.RawMessage) error {
	keys, values, err := objectMembers(v)
	if err != nil {
		return errors.New("payload must be a JSON object whose values are strings")
	}
	for i, k := range keys {
		var s string
		if err := json.Unmarshal(values[i], &s); err != nil || jsonKind(values[i]) != "a string" {
			return fmt.Errorf("payload value of %q must be a JSON string, not %s", k, jsonKind(values[i]))
		}
		if i > 0 && keys[i-1] >= k {
			return fmt.Errorf("payload keys are not in strictly increasing order: %q after %q", k, keys[i-1])
		}
	}
	return nil
}

func jsonKind(v []byte) string {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return "empty"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// HasColumns reports, without parsing data, whether data is the canonical
// encoding of an entry with this action, actor, subject and time: it
// compares data's opening (action, actor) and closing (subject, time)
// members with the encoding Canonical would write for them. When data is
// canonical JSON (the tree check's rules) it is exactly ParseEntry(data)
// agreeing with the four values, except that it answers false, never a
// wrong true, when a value is not valid UTF-8 or t is finer than a
// microsecond; callers then parse. The suffix is unambiguous in canonical
// data: the time is fixed-length, and a quote that is not escaped (the one
// opening the subject) only ever delimits a member.
func HasColumns(data []byte, action, actor, subject string, t time.Time) bool {
	if t.Nanosecond()%1000 != 0 || !utf8.ValidString(action) || !utf8.ValidString(actor) || !utf8.ValidString(subject) {
		return false
	}
	var buf [320]byte
	b := append(buf[:0], `{"action":`...)
	b = appendString(b, action)
	b = append(b, `,"actor":`...)
	b = appendString(b, actor)
	b = append(b, `,"payload":{`...)
	if !bytes.HasPrefix(data, b) {
		return false
	}
	head := len(b)
	b = append(b[:0], `","subject":`...)
	b = appendString(b, subject)
	b = append(b, `,"time":"`...)
	b = t.UTC().AppendFormat(b, TimeLayout)
	b = append(b, `"}`...)
	return len(data) >= head+len(b) && bytes.HasSuffix(data, b)
}
