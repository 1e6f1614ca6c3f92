package rules

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// decodeCanonical is DecodeInput's fast path for what Canonical writes,
// the only form stored decisions hold: a direct scan of
// {"format":…,"inputs":{"name":value,…}} without encoding/json, which was
// two thirds of a decision replay's cost. It answers only when the
// decoded input's Canonical() is exactly b, so it accepts nothing
// DecodeInput's general path would decode differently; anything else
// (escapes, whitespace, a zero item, an error to report) goes to the
// general path.
func decodeCanonical(b []byte) (Input, bool) {
	rest, ok := bytes.CutPrefix(b, []byte(`{"format":"`+inputFormat+`","inputs":{`))
	if !ok {
		return Input{}, false
	}
	var in Input
	seen := 0
	for len(rest) > 0 && rest[0] != '}' {
		if seen > 0 {
			if rest[0] != ',' {
				return Input{}, false
			}
			rest = rest[1:]
		}
		name, r, ok := quoted(rest)
		if !ok || len(r) == 0 || r[0] != ':' {
			return Input{}, false
		}
		rest = r[1:]
		var raw []byte
		if len(rest) > 0 && rest[0] == '"' {
			var s string
			if s, rest, ok = quoted(rest); !ok {
				return Input{}, false
			}
			raw = []byte(s)
		} else {
			i := bytes.IndexAny(rest, ",}")
			if i < 0 {
				return Input{}, false
			}
			raw, rest = rest[:i], rest[i:]
		}
		if code, isItem := strings.CutPrefix(name, ItemPrefix); isItem {
			d, ok := fastDecimal(raw)
			if !ok || !itemCodeRe.MatchString(code) {
				return Input{}, false
			}
			if in.Items == nil {
				in.Items = map[string]decimal.Decimal{}
			}
			in.Items[code] = d
		} else {
			i, known := inputIndex[name]
			if !known || !inputs[i].fastDecode(&in, raw) {
				return Input{}, false
			}
			seen++
			continue
		}
		seen++
	}
	if !bytes.Equal(rest, []byte("}}")) {
		return Input{}, false
	}
	// Every vocabulary input present, each once, in canonical order, and
	// nothing decoded differently: the round trip settles all of it.
	if !bytes.Equal(in.Canonical(), b) {
		return Input{}, false
	}
	return in, true
}

// quoted reads a JSON string without escapes at the start of b.
func quoted(b []byte) (string, []byte, bool) {
	if len(b) == 0 || b[0] != '"' {
		return "", nil, false
	}
	i := bytes.IndexByte(b[1:], '"')
	if i < 0 || bytes.IndexByte(b[1:1+i], '\\') >= 0 {
		return "", nil, false
	}
	return string(b[1 : 1+i]), b[2+i:], true
}

func fastDecimal(raw []byte) (decimal.Decimal, bool) {
	if !decimalText.Match(raw) {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(string(raw))
	return d, err == nil
}

// fastDecode sets s's value from raw: a string's content, or a bare
// number or boolean.
func (s *InputSpec) fastDecode(in *Input, raw []byte) bool {
	switch {
	case s.dec != nil:
		d, ok := fastDecimal(raw)
		if ok {
			*s.dec(in) = d
		}
		return ok
	case s.num != nil:
		n, err := strconv.Atoi(string(raw))
		if err == nil {
			*s.num(in) = n
		}
		return err == nil
	case s.flag != nil:
		v, err := strconv.ParseBool(string(raw))
		if err == nil {
			*s.flag(in) = v
		}
		return err == nil
	}
	*s.str(in) = string(raw)
	return true
}
