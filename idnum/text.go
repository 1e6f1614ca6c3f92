package idnum

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// This file is the one detector of 身份证号 in free text: notes,
// justifications, reasons, witnesses, addresses, and every string an audit
// record carries (audit.Record.Validate). Free text goes verbatim into the
// permanent audit log, so a number typed into a note is there for ever.
//
// People write a number in many ways, and a detector that looks only for
// 18 plain ASCII characters misses most of them: "ID330483…", spaced in
// groups ("3304 8319 6803 1500 18"), dashed ("330483-19680315-0018"),
// full-width digits ("３３０４…"), no-break or ideographic spaces, or
// zero-width characters between the digits. So the text is normalised
// first (NFKC: full-width digits and X become ASCII, compatibility spaces
// become spaces), separators between digits are dropped, and every run of
// digit groups that adds up to 17 digits and a check character is
// validated as a 身份证号 (known province, real birth date, check digit).
//
// Decisions:
//   - Letters may touch the number ("ID330483…", "身份证330483…"): a
//     letter ends a run, it does not disqualify it.
//   - Separators are white space, dashes, dots, underscores, middle dots
//     and invisible format characters, between digits only. Whole groups
//     are combined (a window of consecutive groups), so "330483196803150018
//     123" is found, while a longer plain number (19 digits, a bank card) is
//     not an ID number.
//   - Hashes and UUIDs are not skipped: skipping them would let a number
//     padded into a hex string through. A candidate must be a whole ID —
//     known province, real birth date, right check digit — so a random
//     SHA-256 matches about once in 10^7, and a letter next to the digits
//     ends a run, so the digits of a hash rarely form a run of exactly 18.
//   - The old 15-digit numbers (first-generation cards, invalid since
//     2013) have no check digit; any 15-digit number would match, so they
//     are not looked for.

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isSeparator reports whether r may stand between the digits of a number
// someone wrote.
func isSeparator(r rune) bool {
	switch r {
	case '-', '.', '_', '·', '・', '\u2212':
		return true
	}
	return unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) || unicode.Is(unicode.Cf, r)
}

// ContainsPersonID reports whether s holds a 身份证号, however it is
// written (see above).
func ContainsPersonID(s string) bool {
	// Most strings the log carries hold a handful of digits, and every
	// audit record's fields pass through here: the cheap count comes
	// before reading the clock (time.Now was a third of this function's
	// cost on the credit read path).
	if !mayHoldID(s) {
		return false
	}
	return containsPersonIDAt(s, time.Now().In(chinaTime))
}

// asciiSeparator is isSeparator over ASCII, as a table: the cheap test
// below reads it for every byte.
var asciiSeparator = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = isSeparator(rune(c))
	}
	return t
}()

// mayHoldID reports whether s may hold an ID number: false settles it
// without reading the clock or allocating. ASCII text (every hash, UUID
// and resource name an audit record carries) is judged by asciiCandidate.
// Other text is judged by its count of digits, since normalisation can
// turn its characters into digits and separators.
func mayHoldID(s string) bool {
	if !isASCII(s) {
		digits := 0
		for _, r := range s {
			if unicode.IsNumber(r) {
				digits++
			}
		}
		return digits >= personIDLen-1
	}
	return asciiCandidate(s)
}

// asciiCandidate reports whether ASCII text s holds what
// containsPersonIDAt would try as a number: consecutive digit groups of
// one run (separators split a run into groups; a letter ends it; X is a
// group of its own that ends it) that make exactly 18 characters. It
// counts lengths only. A UUIDv7 often holds 17 or more digits in a run
// across its hyphens (its leading timestamp is mostly decimal digits
// today), which sent every second record of a re-assessment down the
// full path; its groups rarely add up to exactly 18.
func asciiCandidate(s string) bool {
	// sums[k] is the length of the run's first k groups; a window of
	// groups i+1..k makes sums[k]-sums[i] characters. A run of more
	// groups than sums holds is passed on to the full path.
	var sums [64]int
	n, cur := 1, 0 // groups of the run so far, plus one; digits of the open group
	closes := func(length int) bool {
		if n == len(sums) {
			return true
		}
		sums[n] = sums[n-1] + length
		for i := n - 1; i >= 0 && sums[n]-sums[i] <= personIDLen; i-- {
			if sums[n]-sums[i] == personIDLen {
				return true
			}
		}
		n++
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if '0' <= c && c <= '9' {
			cur++
			continue
		}
		if cur > 0 && closes(cur) {
			return true
		}
		cur = 0
		switch {
		case c == 'X' || c == 'x':
			if closes(1) {
				return true
			}
			n = 1
		case asciiSeparator[c]:
			// The run goes on.
		default:
			n = 1
		}
	}
	return cur > 0 && closes(cur)
}

// containsPersonIDAt is ContainsPersonID on the business day today,
// for text that mayHoldID has let through.
func containsPersonIDAt(s string, today time.Time) bool {
	t := s
	if !isASCII(s) { // NFKC leaves ASCII alone
		t = norm.NFKC.String(s)
	}
	var groups []string // the digit groups of the current run
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			groups = append(groups, cur.String())
			cur.Reset()
		}
	}
	check := func() bool {
		flush()
		found := windowHasID(groups, today)
		groups = groups[:0]
		return found
	}
	for _, r := range t {
		switch {
		case '0' <= r && r <= '9':
			cur.WriteRune(r)
		case r == 'X' || r == 'x':
			// A check character ends its group and the run.
			flush()
			groups = append(groups, "X")
			if check() {
				return true
			}
		case isSeparator(r):
			flush()
		default:
			if check() {
				return true
			}
		}
	}
	return check()
}

// windowHasID reports whether some consecutive groups of one run make a
// valid 身份证号: 17 digits and a digit, or 17 digits and X (the run's
// last group).
func windowHasID(groups []string, today time.Time) bool {
	for i := range groups {
		var b strings.Builder
		for j := i; j < len(groups) && b.Len() < personIDLen; j++ {
			if groups[j] == "X" && b.Len() != personIDLen-1 {
				break
			}
			b.WriteString(groups[j])
			if b.Len() == personIDLen {
				if _, err := ParsePersonIDAt(b.String(), today); err == nil {
					return true
				}
			}
		}
	}
	return false
}

// FreeTextProblem returns the field violation's description when the
// free-text value of a field holds a 身份证号, and "" otherwise. label
// names the field in words, in zh-CN and English ("理由", "reason").
// The description never repeats the number.
func FreeTextProblem(labelZH, labelEN, value string) string {
	if !ContainsPersonID(value) {
		return ""
	}
	return fmt.Sprintf("%s不得包含身份证号；请以姓名或户号指代本人 / %s must not contain an ID number (身份证号); "+
		"refer to the person by name or household instead", labelZH, labelEN)
}

// plainRun matches an 18-character number written plainly.
var plainRun = regexp.MustCompile(`[0-9]{17}[0-9Xx]`)

// RedactText masks what may be a 身份证号 in s for a log line: plainly
// written 18-character numbers keep their first 6 and last 4 characters
// (Mask), and a text that still holds one written otherwise (spaced,
// full-width, ...) is replaced as a whole, since its digits cannot be
// masked in place reliably.
func RedactText(s string) string {
	s = plainRun.ReplaceAllStringFunc(s, Mask)
	if ContainsPersonID(s) {
		return "[redacted: contains an ID number]"
	}
	return s
}
