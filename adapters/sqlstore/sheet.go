package sqlstore

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// The stored form of a household's sheet (household_points.entries): a
// format line, then one line per entry with its fields separated by tabs,
// in sheetFields order. Decimals keep their scale ("-2.50" stays "-2.50").
//
// Not JSON: GetPoints reads the whole sheet on every call, and decoding
// 1,000 entries of JSON with decimal parsing took about 4 ms of CPU, this
// format about a tenth of that (BenchmarkSheet1000). The text stays
// readable in psql.
const sheetFormat = "sanzhi.sheet/v1"

// The stored sheet is two columns, entries and tail (migrations
// sheet_tail and sheet_newest_first). A posting puts its lines at the
// front of tail, newest first; once tail would pass tailFold characters,
// tail and the new lines move into entries instead, behind a line of
// their own, runMark. So the stored text is the format line, lines
// oldest first, then runs, each a runMark line and lines newest first.
// Readers select sheetText, whose last run is tail, and decodeEntries
// turns every run round.
//
// Why (issue 19): on PostgreSQL entries is TOASTed past a few entries,
// and an update that changes it compresses and writes the whole value
// again (a posting to a household of 60 entries wrote 2.4 KB of WAL for
// its sheet); one that leaves it alone keeps the stored value. And an
// update that stays on its page is logged as the new row's bytes between
// what it shares with the old row at the start and at the end: a tail
// that grows at its front keeps the old tail as the rows' common end, and
// PostgreSQL's table puts entries (kept in the row while the sheet is
// small) before version and entry_count, which every posting changes
// (migration 00025). A posting then logs about its own lines: 448 bytes
// a review, where a tail growing at its end and the entries before it
// were logged whole, 1,117 bytes (BENCHMARKS.md, issue 19).
const tailFold = 1500

// runMark starts a run of entry lines stored newest first. It has no tab,
// so no entry line can be mistaken for it.
const runMark = "~\n"

// sheetText is the whole stored sheet of household_points alias a: its
// tail, newest first, is the last run.
func sheetText(a string) string { return a + ".entries || '" + runMark + "' || " + a + ".tail" }

// sheetFields names the columns of an entry line, in order.
var sheetFields = []string{"id", "household", "evidence", "item", "domain", "area", "kind", "quantity",
	"requested", "points", "capped", "occurred_on", "effective_on", "valid_until", "for_credit", "reverses", "reversed_kind"}

func encodeEntries(es []points.Entry) (string, error) {
	return writeLines(sheetFormat+"\n", es, false)
}

// encodeNewestFirst writes the entry lines of es, last first: put at the
// front of a stored sheet's tail, they give the sheet of its entries
// followed by es.
func encodeNewestFirst(es []points.Entry) (string, error) {
	return writeLines("", es, true)
}

// writeLines writes head, then the entry lines of es, last first when
// newestFirst.
func writeLines(head string, es []points.Entry, newestFirst bool) (string, error) {
	var b strings.Builder
	b.Grow(len(head) + len(es)*200)
	b.WriteString(head)
	order := slices.All(es)
	if newestFirst {
		order = slices.Backward(es)
	}
	for _, e := range order {
		fields := [...]string{e.ID, e.Household, e.EvidenceID, e.ItemCode, string(e.Domain), e.Area, string(e.Kind),
			strconv.Itoa(int(e.Quantity)), exactDecimal(e.Requested), exactDecimal(e.Points), exactDecimal(e.Capped),
			string(e.OccurredOn), string(e.EffectiveOn), string(e.ValidUntil), "0", e.Reverses, string(e.ReversedKind)}
		if e.ForCredit {
			fields[14] = "1"
		}
		for i, f := range fields {
			if strings.ContainsAny(f, "\t\n") {
				return "", fmt.Errorf("entry %s: %s contains a tab or newline", e.ID, sheetFields[i])
			}
			if i > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(f)
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}

func decodeEntries(s string) ([]points.Entry, error) {
	head, body, _ := strings.Cut(s, "\n")
	if head != sheetFormat {
		return nil, fmt.Errorf("bad stored sheet: format %q, want %q", head, sheetFormat)
	}
	out := make([]points.Entry, 0, strings.Count(body, "\n"))
	var f [17]string
	run := -1 // where the run being read starts in out; -1 before the first
	for line := range strings.Lines(body) {
		if line == runMark {
			if run >= 0 {
				slices.Reverse(out[run:])
			}
			run = len(out)
			continue
		}
		line = strings.TrimSuffix(line, "\n")
		n := 0
		for part := range strings.SplitSeq(line, "\t") {
			if n == len(f) {
				n++
				break
			}
			f[n] = part
			n++
		}
		if n != len(f) {
			return nil, fmt.Errorf("bad stored sheet: entry line %d has %d fields, want %d", len(out)+1, n, len(f))
		}
		q, err := strconv.ParseInt(f[7], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("bad stored sheet: entry %s: quantity: %w", f[0], err)
		}
		e := points.Entry{
			ID: f[0], Household: f[1], EvidenceID: f[2], ItemCode: f[3], Domain: points.Domain(f[4]), Area: f[5],
			Kind: points.Kind(f[6]), Quantity: int32(q),
			OccurredOn: household.Date(f[11]), EffectiveOn: household.Date(f[12]), ValidUntil: household.Date(f[13]),
			ForCredit: f[14] == "1", Reverses: f[15], ReversedKind: points.Kind(f[16]),
		}
		for i, to := range []*decimal.Decimal{&e.Requested, &e.Points, &e.Capped} {
			v, err := parseDecimal(f[8+i])
			if err != nil {
				return nil, fmt.Errorf("bad stored sheet: entry %s: %s: %w", f[0], sheetFields[8+i], err)
			}
			*to = v
		}
		out = append(out, e)
	}
	if run >= 0 {
		slices.Reverse(out[run:])
	}
	return out, nil
}

// parseDecimal reads a plain decimal ("-12.50") without big-number
// parsing when its digits fit an int64, keeping the scale as written;
// anything else goes to decimal.NewFromString.
func parseDecimal(s string) (decimal.Decimal, error) {
	digits, neg := s, false
	if strings.HasPrefix(digits, "-") {
		digits, neg = digits[1:], true
	}
	intPart, frac, hasDot := strings.Cut(digits, ".")
	if intPart == "" || (hasDot && frac == "") || len(intPart)+len(frac) > 18 {
		return decimal.NewFromString(s)
	}
	var coef int64
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c < '0' || c > '9' {
				return decimal.Decimal{}, errors.New("not a decimal: " + strconv.Quote(s))
			}
			coef = coef*10 + int64(c-'0')
		}
	}
	if neg {
		coef = -coef
	}
	return decimal.New(coef, -int32(len(frac))), nil
}
