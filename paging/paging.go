// Package paging is the one page-token and page-size scheme of every List
// call. Tokens are opaque to clients but carry the query they were issued
// for, so a token from one list (or one filter) cannot page another.
package paging

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/sanzhi/sanzhi/fault"
)

const (
	// DefaultSize applies when a caller sends page_size 0.
	DefaultSize = 50
	// MaxSize bounds page_size.
	MaxSize = 1000
)

// Limit checks page_size and returns the number of items to return.
func Limit(size int32, v *fault.Violations) int { return LimitOf(size, DefaultSize, MaxSize, v) }

// LimitOf is Limit for a list with its own default and maximum (a list
// whose items are large pages fewer at a time).
func LimitOf(size int32, def, max int, v *fault.Violations) int {
	switch {
	case size < 0 || int(size) > max:
		v.Add("page_size", "must be between 0 and %d, got %d", max, size)
		return 0
	case size == 0:
		return def
	}
	return int(size)
}

// Token returns the token for the page after cursor in the list named by
// scope. scope may hold any bytes; cursor must not contain a NUL.
func Token(scope, cursor string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(scope + "\x00" + cursor))
}

// Cursor returns the cursor carried by token, "" for an empty token. A
// token that is malformed or belongs to another scope is a violation of
// page_token.
func Cursor(token, scope string, v *fault.Violations) string {
	if token == "" {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	i := strings.LastIndexByte(string(raw), 0)
	if err != nil || i < 0 || string(raw[:i]) != scope || i == len(raw)-1 {
		v.Add("page_token", "is not a token this list returned")
		return ""
	}
	return string(raw[i+1:])
}

// IntCursor is Cursor for numeric cursors (sequence or version numbers):
// 0 and ok=false when token is empty.
func IntCursor(token, scope string, v *fault.Violations) (n int64, ok bool) {
	c := Cursor(token, scope, v)
	if c == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(c, 10, 64)
	if err != nil || n < 0 {
		v.Add("page_token", "is not a token this list returned")
		return 0, false
	}
	return n, true
}
