package shop

import (
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// ReportRow is one good in a month: what was redeemed and what arrived.
type ReportRow struct {
	Code           string
	NameZH, NameEN string
	Unit           string
	// Receipts counts the redemptions of the good; Quantity the units
	// they took; Points what they spent.
	Receipts int
	Quantity int64
	Points   decimal.Decimal
	// Arrived is the units recorded arriving in the month.
	Arrived int64
}

// Report is a village's 兑换超市 for one month (Asia/Shanghai days): per
// good, and in total, the goods redeemed and the points spent.
type Report struct {
	Village string
	Month   string // 2026-03
	From    household.Date
	To      household.Date
	// Final is true once the month has ended.
	Final bool
	// Rows are the goods with a redemption or an arrival in the month,
	// by code.
	Rows     []ReportRow
	Receipts int
	Quantity int64
	Points   decimal.Decimal
	Arrived  int64
}

var monthRE = regexp.MustCompile(`^(20[0-9]{2})-(0[1-9]|1[0-2])$`)

// ParseMonth reads a month (2026-03) and returns its first and last day.
// A month after today's is refused: nothing can have happened in it.
func ParseMonth(field, month string, today household.Date) (from, to household.Date, err error) {
	if !monthRE.MatchString(month) {
		var v fault.Violations
		bad(&v, field, "MONTH", fmt.Sprintf("must look like 2026-03, got %q", month), fmt.Sprintf("月份须形如 2026-03，现为“%s”", month))
		return "", "", v.Err()
	}
	from = household.Date(month + "-01")
	if from.After(today) {
		var v fault.Violations
		bad(&v, field, "MONTH", fmt.Sprintf("%s has not started yet (today is %s in Asia/Shanghai)", month, today),
			fmt.Sprintf("%s 尚未开始（今天是 %s）", month, today))
		return "", "", v.Err()
	}
	return from, points.AddDays(points.AddMonths(from, 1), -1), nil
}

// BuildReport totals the month's receipts and arrivals of a village by
// good. goods supply the names of goods that only arrived; a receipt
// carries its own. Totals are exact decimals: nothing passes through a
// float.
func BuildReport(village, month string, from, to, today household.Date, goods []*Good, receipts []*Receipt, arrivals []*Arrival) Report {
	r := Report{Village: village, Month: month, From: from, To: to, Final: today.After(to), Points: decimal.Zero}
	rows := map[string]*ReportRow{}
	row := func(code string) *ReportRow {
		x := rows[code]
		if x == nil {
			x = &ReportRow{Code: code, Points: decimal.Zero}
			rows[code] = x
		}
		return x
	}
	for _, g := range goods {
		if _, ok := rows[g.Code]; !ok {
			// Names only: a good with no activity gets no row below.
			rows[g.Code] = &ReportRow{Code: g.Code, NameZH: g.NameZH, NameEN: g.NameEN, Unit: g.Unit, Points: decimal.Zero}
		}
	}
	active := map[string]bool{}
	for _, rc := range receipts {
		if rc.Day.After(to) || from.After(rc.Day) {
			continue
		}
		x := row(rc.Code)
		if x.NameZH == "" {
			x.NameZH, x.NameEN, x.Unit = rc.NameZH, rc.NameEN, rc.Unit
		}
		x.Receipts++
		x.Quantity += rc.Quantity
		x.Points = x.Points.Add(rc.Points)
		active[rc.Code] = true
	}
	for _, a := range arrivals {
		if a.Day.After(to) || from.After(a.Day) {
			continue
		}
		row(a.Code).Arrived += a.Quantity
		active[a.Code] = true
	}
	for code := range active {
		x := rows[code]
		r.Rows = append(r.Rows, *x)
		r.Receipts += x.Receipts
		r.Quantity += x.Quantity
		r.Points = r.Points.Add(x.Points)
		r.Arrived += x.Arrived
	}
	slices.SortFunc(r.Rows, func(a, b ReportRow) int {
		switch {
		case a.Code < b.Code:
			return -1
		case a.Code > b.Code:
			return 1
		}
		return 0
	})
	return r
}

// csvHeads are the report's column heads, zh-CN and English.
var csvHeads = [2][]string{
	{"物品编码", "物品", "单位", "兑换笔数", "兑换数量", "消耗积分", "到货数量"},
	{"Code", "Good", "Unit", "Redemptions", "Quantity", "Points spent", "Arrived"},
}

// WriteCSV writes the report as CSV the way Excel reads it (UTF-8 with a
// byte order mark, CRLF): one row per good and a total row, heads in
// zh-CN, or English when english is set. Text a spreadsheet would take for
// a formula is quoted with an apostrophe.
func (r Report) WriteCSV(w io.Writer, english bool) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	lang, total := 0, "合计"
	if english {
		lang, total = 1, "Total"
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	_ = cw.Write(csvHeads[lang])
	for _, x := range r.Rows {
		name := x.NameZH
		if english && x.NameEN != "" {
			name = x.NameEN
		}
		_ = cw.Write([]string{cell(x.Code), cell(name), cell(x.Unit), strconv.Itoa(x.Receipts),
			strconv.FormatInt(x.Quantity, 10), x.Points.String(), strconv.FormatInt(x.Arrived, 10)})
	}
	_ = cw.Write([]string{total, "", "", strconv.Itoa(r.Receipts), strconv.FormatInt(r.Quantity, 10), r.Points.String(),
		strconv.FormatInt(r.Arrived, 10)})
	cw.Flush()
	return cw.Error()
}

// cell keeps a spreadsheet from reading text as a formula.
func cell(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
