package postgres

import (
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// copyText streams rows to COPY … FROM STDIN in its text format,
// encoding them on demand into one reused buffer: a page of large rows
// (a re-assessment's decisions, about 2 KB each) is never held, or grown,
// in one piece.
//
// Text, not pgx's binary COPY, because sqlstore's values are what it
// gives a statement: dates, amounts and instants as strings, which
// PostgreSQL parses in COPY as it parses a statement's text parameters.
// pgx's binary COPY would first fail to find a binary encoding for each
// such string, build the error, and only then parse the string itself
// (issue 19).
type copyText struct {
	n, next int
	row     func(i int) []any
	buf     []byte
	off     int
}

// copyChunk is how many bytes copyText encodes before handing them on:
// under the 64 KiB pgconn reads at a time.
const copyChunk = 48 << 10

func (c *copyText) Read(p []byte) (int, error) {
	for c.off == len(c.buf) {
		if c.next == c.n {
			return 0, io.EOF
		}
		c.buf, c.off = c.buf[:0], 0
		for c.next < c.n && len(c.buf) < copyChunk {
			var err error
			if c.buf, err = appendCopyRow(c.buf, c.row(c.next)); err != nil {
				return 0, fmt.Errorf("row %d: %w", c.next, err)
			}
			c.next++
		}
	}
	k := copy(p, c.buf[c.off:])
	c.off += k
	return k, nil
}

// appendCopyRow appends one row: its values tab-separated, then a newline.
func appendCopyRow(buf []byte, values []any) ([]byte, error) {
	for i, v := range values {
		if i > 0 {
			buf = append(buf, '\t')
		}
		var err error
		if buf, err = appendCopyValue(buf, v); err != nil {
			return nil, fmt.Errorf("column %d: %w", i+1, err)
		}
	}
	return append(buf, '\n'), nil
}

// appendCopyValue appends v in COPY's text format: \N for NULL, a
// backslash before each of the format's own characters. The types are
// those sqlstore passes; any other is an error, not a guess.
func appendCopyValue(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, `\N`...), nil
	case string:
		return appendCopyEscaped(buf, x), nil
	case []byte:
		if x == nil {
			return append(buf, `\N`...), nil
		}
		// bytea's hex input, its backslash escaped for COPY.
		buf = append(buf, `\\x`...)
		return hex.AppendEncode(buf, x), nil
	case bool:
		if x {
			return append(buf, 't'), nil
		}
		return append(buf, 'f'), nil
	case int:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case time.Time:
		return x.UTC().AppendFormat(buf, "2006-01-02 15:04:05.999999Z"), nil
	}
	return nil, fmt.Errorf("no COPY text form for a %T", v)
}

// appendCopyEscaped appends s with COPY's text escapes. The format needs
// only these four: the delimiter (tab), the row end (newline), carriage
// return and the backslash itself.
func appendCopyEscaped(buf []byte, s string) []byte {
	// Most values have none: four vectorised scans of a 2 KB
	// explanation cost less than one byte-at-a-time scan for all four.
	if !strings.Contains(s, `\`) && !strings.Contains(s, "\t") && !strings.Contains(s, "\n") && !strings.Contains(s, "\r") {
		return append(buf, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			buf = append(buf, `\\`...)
		case '\t':
			buf = append(buf, `\t`...)
		case '\n':
			buf = append(buf, `\n`...)
		case '\r':
			buf = append(buf, `\r`...)
		default:
			buf = append(buf, c)
		}
	}
	return buf
}

// copyStatement is the COPY … FROM STDIN of table's columns, text format.
func copyStatement(table string, columns []string) string {
	var sb strings.Builder
	sb.WriteString("COPY " + pgx.Identifier{table}.Sanitize() + " (")
	for i, c := range columns {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(pgx.Identifier{c}.Sanitize())
	}
	sb.WriteString(") FROM STDIN")
	return sb.String()
}
