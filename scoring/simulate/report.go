package simulate

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
	"golang.org/x/text/width"
)

// This file renders a Report: an aligned text table for the terminal, CSV
// (one section per table), a self-contained HTML page with inline SVG
// charts, and the optional per-household CSV.

// labels picks the zh-CN or English text.
type labels bool

func (en labels) t(zh, e string) string {
	if en {
		return e
	}
	return zh
}

func policyLine(p PolicyRef) string {
	return fmt.Sprintf("%s/%s v%d (%s)", p.Bank, p.Product, p.Version, shortHash(p.Hash))
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Yuan formats an amount of yuan with thousands separators, no fen unless
// there are any: 1234500 → "1,234,500", -50.5 → "-50.50".
func Yuan(d decimal.Decimal) string {
	s := d.Abs().StringFixed(2)
	s = strings.TrimSuffix(s, ".00")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	if d.Sign() < 0 {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// signed writes a change with its sign: +1,000, -500, 0.
func signed(d decimal.Decimal) string {
	if d.Sign() > 0 {
		return "+" + Yuan(d)
	}
	return Yuan(d)
}

func signedInt(n int) string {
	if n > 0 {
		return "+" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// displayWidth counts East Asian wide characters as two columns.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

// table writes rows aligned in columns: the first column left-aligned,
// the others right-aligned.
func table(w io.Writer, rows [][]string) {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		b.WriteString("  ")
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-displayWidth(c))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

func (r *Report) baseOr(en labels, s string) string {
	if r.Base == nil {
		return "—"
	}
	return s
}

// WriteTable writes the report as aligned text, in English when en is
// set, zh-CN otherwise.
func (r *Report) WriteTable(w io.Writer, en bool) error {
	l := labels(en)
	ew := &errWriter{w: w}
	w = ew
	fmt.Fprintln(w, l.t("政策模拟（只读，不写数据库）", "Policy simulation (read-only: nothing written)"))
	fmt.Fprintf(w, "%s %s\n", l.t("新政策  ", "New policy "), policyLine(r.New))
	if r.Base != nil {
		fmt.Fprintf(w, "%s %s\n", l.t("对照政策", "Against   "), policyLine(*r.Base))
	} else {
		fmt.Fprintf(w, "%s %s\n", l.t("对照政策", "Against   "), l.t("无", "none"))
	}
	scope := l.t("全部村", "all villages")
	if len(r.Villages) > 0 {
		scope = strings.Join(r.Villages, ", ")
	}
	fmt.Fprintf(w, "%s %s   %s %d   %s %s\n\n", l.t("日期", "As of"), r.On, l.t("户数", "households"), r.Households,
		l.t("范围", "scope"), scope)

	fmt.Fprintln(w, l.t("汇总", "Summary"))
	table(w, [][]string{
		{"", l.t("对照", "base"), l.t("新", "new"), l.t("变化", "change")},
		{l.t("可授信户数", "eligible households"), r.baseOr(l, strconv.Itoa(r.EligibleBase)), strconv.Itoa(r.EligibleNew),
			r.baseOr(l, signedInt(r.EligibleNew-r.EligibleBase))},
		{l.t("授信总额（元）", "total exposure (yuan)"), r.baseOr(l, Yuan(r.ExposureBase)), Yuan(r.ExposureNew),
			r.baseOr(l, signed(r.ExposureChange()))},
		{l.t("新增可授信户", "households gaining a line"), "", "", r.baseOr(l, strconv.Itoa(r.Gained.Count))},
		{l.t("失去授信户", "households losing a line"), "", "", r.baseOr(l, strconv.Itoa(r.Lost.Count))},
	})

	fmt.Fprintln(w)
	fmt.Fprintln(w, l.t("等级迁移（行：对照等级，列：新等级）", "Grade migration (rows: base grade, columns: new grade)"))
	head := []string{l.t("对照＼新", "base\\new")}
	head = append(head, r.Migration.Cols...)
	head = append(head, l.t("合计", "total"))
	rows := [][]string{head}
	for i, g := range r.Migration.Rows {
		row := []string{g}
		total := 0
		for _, n := range r.Migration.Counts[i] {
			row = append(row, strconv.Itoa(n))
			total += n
		}
		rows = append(rows, append(row, strconv.Itoa(total)))
	}
	table(w, rows)

	for _, c := range []struct {
		title string
		ch    Change
	}{{l.t("新增可授信户", "Households gaining a line"), r.Gained}, {l.t("失去授信户", "Households losing a line"), r.Lost}} {
		if r.Base == nil || c.ch.Count == 0 {
			continue
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "%s: %d%s\n", c.title, c.ch.Count, sampleNote(l, c.ch.Count, r.samples(c.ch)))
		if len(r.samples(c.ch)) == 0 {
			continue // the Aggregate view: counts only
		}
		rows := [][]string{{l.t("户", "household"), l.t("户主", "head"), l.t("对照等级", "base grade"), l.t("对照额度", "base limit"),
			l.t("新等级", "new grade"), l.t("新额度", "new limit")}}
		for _, s := range r.samples(c.ch) {
			rows = append(rows, []string{s.Name, s.HeadName, s.BaseGrade, Yuan(s.BaseLimit), s.NewGrade, Yuan(s.NewLimit)})
		}
		table(w, rows)
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, l.t("各村授信额（元）", "Exposure by village (yuan)"))
	rows = [][]string{{l.t("村", "village"), l.t("户数", "households"), l.t("对照可授信", "eligible base"), l.t("新可授信", "eligible new"),
		l.t("对照额度", "base"), l.t("新额度", "new"), l.t("变化", "change")}}
	for _, v := range r.ByVillage {
		rows = append(rows, append([]string{villageLabel(l, v)}, r.villageCells(l, v, Yuan, signed)...))
	}
	table(w, rows)

	fmt.Fprintln(w)
	fmt.Fprintf(w, l.t("评分分布（每 %d 分一档）\n", "Score distribution (bins of %d points)\n"), BinWidth)
	rows = [][]string{{l.t("分数", "score"), l.t("对照", "base"), l.t("新", "new")}}
	for _, b := range r.Scores {
		rows = append(rows, []string{binLabel(b), r.baseOr(l, strconv.Itoa(b.Base)), strconv.Itoa(b.New)})
	}
	table(w, rows)

	if len(r.KnockOuts) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, l.t("否决规则触发户数", "Knock-outs fired (households)"))
		rows = [][]string{{l.t("规则", "knock-out"), l.t("对照", "base"), l.t("新", "new")}}
		for _, k := range r.KnockOuts {
			rows = append(rows, []string{k.ID, r.baseOr(l, strconv.Itoa(k.Base)), strconv.Itoa(k.New)})
		}
		table(w, rows)
	}
	r.writeFairnessTable(w, l)
	return ew.err
}

func sampleNote(l labels, count int, sample []Sample) string {
	if count > len(sample) && len(sample) > 0 {
		return l.t(fmt.Sprintf("（列出前 %d 户）", len(sample)), fmt.Sprintf(" (first %d listed)", len(sample)))
	}
	return ""
}

func binLabel(b Bin) string { return fmt.Sprintf("%d–%d", b.Lo, b.Lo+BinWidth-1) }

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// WriteCSV writes the report as CSV: one section per table, each a line
// naming the section, a header line and the rows, separated by an empty
// line. Amounts are plain decimals in yuan; a base figure is empty without
// a base policy.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	base := func(s string) string {
		if r.Base == nil {
			return ""
		}
		return s
	}
	baseRef := PolicyRef{}
	if r.Base != nil {
		baseRef = *r.Base
	}
	sections := []struct {
		name string
		head []string
		rows [][]string
	}{
		{"summary", []string{"metric", "base", "new", "change"}, [][]string{
			{"new_policy", "", policyName(r.New), r.New.Hash},
			{"base_policy", base(policyName(baseRef)), "", base(baseRef.Hash)},
			{"as_of", "", string(r.On), ""},
			{"villages", "", strings.Join(r.Villages, " "), ""},
			{"households", "", strconv.Itoa(r.Households), ""},
			{"eligible", base(strconv.Itoa(r.EligibleBase)), strconv.Itoa(r.EligibleNew), base(strconv.Itoa(r.EligibleNew - r.EligibleBase))},
			{"exposure", base(r.ExposureBase.String()), r.ExposureNew.String(), base(r.ExposureChange().String())},
			{"gained", "", "", base(strconv.Itoa(r.Gained.Count))},
			{"lost", "", "", base(strconv.Itoa(r.Lost.Count))},
		}},
	}
	mig := append([]string{"base_grade"}, r.Migration.Cols...)
	var migRows [][]string
	for i, g := range r.Migration.Rows {
		row := []string{g}
		for _, n := range r.Migration.Counts[i] {
			row = append(row, strconv.Itoa(n))
		}
		migRows = append(migRows, row)
	}
	sections = append(sections, struct {
		name string
		head []string
		rows [][]string
	}{"grade_migration", mig, migRows})
	var changeRows [][]string
	for _, c := range []struct {
		kind string
		ch   Change
	}{{"gained", r.Gained}, {"lost", r.Lost}} {
		for _, s := range r.samples(c.ch) {
			changeRows = append(changeRows, []string{c.kind, s.Name, s.HeadName, s.BaseGrade, s.BaseLimit.String(), s.NewGrade, s.NewLimit.String()})
		}
	}
	var villageRows, scoreRows, knockRows [][]string
	for _, v := range r.ByVillage {
		code := v.Village
		if v.Pooled > 0 {
			code = "pooled:" + strconv.Itoa(v.Pooled)
		}
		villageRows = append(villageRows, []string{code, strconv.Itoa(v.Households), base(strconv.Itoa(v.EligibleBase)),
			strconv.Itoa(v.EligibleNew), base(v.Base.String()), v.New.String(), base(v.Change().String())})
	}
	for _, b := range r.Scores {
		scoreRows = append(scoreRows, []string{strconv.Itoa(b.Lo), strconv.Itoa(b.Lo + BinWidth - 1), base(strconv.Itoa(b.Base)), strconv.Itoa(b.New)})
	}
	for _, k := range r.KnockOuts {
		knockRows = append(knockRows, []string{k.ID, base(strconv.Itoa(k.Base)), strconv.Itoa(k.New)})
	}
	sections = append(sections, []struct {
		name string
		head []string
		rows [][]string
	}{
		{"eligibility_changes", []string{"change", "household", "head_name", "base_grade", "base_limit", "new_grade", "new_limit"}, changeRows},
		{"exposure_by_village", []string{"village", "households", "eligible_base", "eligible_new", "exposure_base", "exposure_new", "change"}, villageRows},
		{"score_distribution", []string{"score_from", "score_to", "base", "new"}, scoreRows},
		{"knockouts", []string{"knockout", "base", "new"}, knockRows},
		{"fairness", []string{"dimension", "group", "households", "eligible", "approval_rate", "avg_limit", "avg_rate",
			"adverse_impact", "small", "flagged"}, r.fairnessCSV()},
	}...)
	for i, s := range sections {
		if i > 0 {
			_ = cw.Write([]string{})
		}
		_ = cw.Write([]string{"section", s.name})
		_ = cw.Write(s.head)
		for _, row := range s.rows {
			_ = cw.Write(row)
		}
	}
	cw.Flush()
	return cw.Error()
}

func policyName(p PolicyRef) string {
	if p.Bank == "" {
		return ""
	}
	return fmt.Sprintf("%s/%s v%d", p.Bank, p.Product, p.Version)
}

// HouseholdsCSV writes one line per household: name, village, head, base
// grade, eligibility and limit, new grade, eligibility and limit.
type HouseholdsCSV struct{ w *csv.Writer }

// NewHouseholdsCSV writes the header and returns the writer.
func NewHouseholdsCSV(w io.Writer) (*HouseholdsCSV, error) {
	cw := csv.NewWriter(w)
	err := cw.Write([]string{"household", "village", "head_name", "base_grade", "base_eligible", "base_limit",
		"new_grade", "new_eligible", "new_limit", "limit_change"})
	return &HouseholdsCSV{cw}, err
}

// Write adds one household.
func (h *HouseholdsCSV) Write(o Outcome) error {
	bg, be, bl, change := "", "", "", o.New.Limit.String()
	if o.HasBase {
		bg, be, bl = o.Base.Grade, strconv.FormatBool(o.Base.Eligible), o.Base.Limit.String()
		change = o.New.Limit.Sub(o.Base.Limit).String()
	}
	return h.w.Write([]string{o.Name, o.Village, o.HeadName, bg, be, bl,
		o.New.Grade, strconv.FormatBool(o.New.Eligible), o.New.Limit.String(), change})
}

// Close flushes the writer.
func (h *HouseholdsCSV) Close() error {
	h.w.Flush()
	return h.w.Error()
}

// Formats are the report's renderings: a text table (the default), CSV
// and an HTML page.
var Formats = []string{"table", "csv", "html"}

// Render writes the report in format ("" is the table) and language (en:
// English, else zh-CN; CSV has one language). An unknown format is an
// error naming the known ones.
func (r *Report) Render(format string, en bool) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	switch format {
	case "", "table":
		err = r.WriteTable(&buf, en)
	case "csv":
		err = r.WriteCSV(&buf)
	case "html":
		err = r.WriteHTML(&buf, en)
	default:
		return nil, fmt.Errorf("unknown report format %q (known: %s)", format, strings.Join(Formats, ", "))
	}
	return buf.Bytes(), err
}
