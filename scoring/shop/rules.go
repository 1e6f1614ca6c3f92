package shop

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// The shop's rules, in one place. Every refusal carries its sentence in
// English and zh-CN (the clerk reads it at the counter), and the
// refusals about a redemption name the field the clerk should change.
//
//   - A good has a code ([a-z0-9.-], at most 32), a name in zh-CN, a unit,
//     and a price in points: positive, at most MaxPrice, with no more
//     decimal places than the village catalogue's precision.
//   - Quantities are whole units: a redemption takes 1..MaxQuantity, an
//     arrival adds 1..MaxArrival, and stock never passes MaxStock.
//   - Stock never goes below zero: a redemption of more than the stock is
//     refused (INSUFFICIENT_STOCK). The store holds to it as well, with a
//     conditional update and a CHECK constraint.
//   - Redeemable points never go below zero: a redemption that costs more
//     than the redeemable balance is refused (INSUFFICIENT_POINTS).
//   - Credit points are never touched: the ledger entry is a redemption,
//     which points.Balances counts in Redeemed only.
//   - An archived good is not redeemed and receives no stock.

// Bounds.
const (
	// MaxQuantity is the most units of one good one redemption takes.
	MaxQuantity = 1000
	// MaxArrival is the most units one arrival records.
	MaxArrival = 100_000
	// MaxStock is the most units of one good on the shelf.
	MaxStock = 10_000_000
	// MaxNote is the longest note of a redemption or an arrival, in
	// characters.
	MaxNote = 200
	// MaxName, MaxNameEN and MaxUnit bound a good's labels, in characters.
	MaxName   = 40
	MaxNameEN = 80
	MaxUnit   = 8
	// MaxRequestID bounds a request id, in bytes.
	MaxRequestID = 100
)

// MaxPrice is the highest price of one unit, in points.
var MaxPrice = decimal.NewFromInt(100_000)

var codeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,31}$`)

// bad adds a violation with its zh-CN text.
func bad(v *fault.Violations, field, reason, en, zh string) {
	*v = append(*v, fault.Violation{Field: field, Description: en, ZH: zh, Reason: reason})
}

// refuse is a FailedPrecondition fault naming the field to change, in
// both languages.
func refuse(reason, field, en, zh string) error {
	return &fault.Error{Kind: fault.FailedPrecondition, Reason: reason, Message: en,
		Violations: []fault.Violation{{Field: field, Description: en, ZH: zh, Reason: reason}}}
}

// CheckCode checks a good's code.
func CheckCode(v *fault.Violations, field, code string) {
	switch {
	case code == "":
		bad(v, field, "REQUIRED", "is required", "必填")
	case !codeRE.MatchString(code):
		bad(v, field, "GOOD_CODE",
			fmt.Sprintf("%q is not a good code: lower-case letters, digits, dots and hyphens, at most 32, starting with a letter or digit", code),
			fmt.Sprintf("“%s”不是有效的物品编码：只能用小写字母、数字、点和连字符，以字母或数字开头，至多 32 个字符", code))
	}
}

// CheckLabels checks a good's names and unit (trimmed by the caller);
// prefix is put before the field names ("good." in a create request).
func CheckLabels(v *fault.Violations, prefix, nameZH, nameEN, unit string) {
	text := func(field, value string, max int, required bool, zhLabel string) {
		n := utf8.RuneCountInString(value)
		switch {
		case n == 0 && required:
			bad(v, field, "REQUIRED", "is required", "必填")
		case n > max:
			bad(v, field, "TOO_LONG", fmt.Sprintf("must be at most %d characters, got %d", max, n),
				fmt.Sprintf("%s至多 %d 个字，现为 %d 个", zhLabel, max, n))
		case !utf8.ValidString(value) || strings.ContainsAny(value, "\t\r\n"):
			bad(v, field, "BAD_TEXT", "must be one line of text", zhLabel+"只能是一行文字")
		default:
			if m := idnum.FreeTextProblem(zhLabel, field, value); m != "" {
				bad(v, field, "PERSON_ID_IN_TEXT", m, m)
			}
		}
	}
	text(prefix+"name_zh", nameZH, MaxName, true, "名称")
	text(prefix+"name_en", nameEN, MaxNameEN, false, "英文名称")
	text(prefix+"unit", unit, MaxUnit, true, "单位")
}

// ParsePrice reads a price in points and checks it against precision, the
// decimal places the village's points catalogue allows.
func ParsePrice(v *fault.Violations, field, s string, precision int32) decimal.Decimal {
	s = strings.TrimSpace(s)
	if s == "" {
		bad(v, field, "REQUIRED", "is required", "必填")
		return decimal.Zero
	}
	p, err := decimal.NewFromString(s)
	switch {
	case err != nil || strings.ContainsAny(s, "eE"):
		bad(v, field, "PRICE", fmt.Sprintf("%q is not a number of points", s), fmt.Sprintf("“%s”不是积分数", s))
	case p.Sign() <= 0:
		bad(v, field, "PRICE", fmt.Sprintf("must be more than 0 points, got %s", p), fmt.Sprintf("积分价须大于 0，现为 %s", p))
	case p.GreaterThan(MaxPrice):
		bad(v, field, "PRICE", fmt.Sprintf("must be at most %s points, got %s", MaxPrice, p),
			fmt.Sprintf("积分价至多 %s 分，现为 %s", MaxPrice, p))
	case places(p) > precision:
		bad(v, field, "PRICE_PRECISION",
			fmt.Sprintf("%s has %d decimal places; the village's points have at most %d", p, places(p), precision),
			fmt.Sprintf("%s 有 %d 位小数；本村积分至多 %d 位", p, places(p), precision))
	default:
		return p
	}
	return decimal.Zero
}

// CheckQuantity checks a number of units: 1..max.
func CheckQuantity(v *fault.Violations, field string, q, max int64) {
	switch {
	case q < 1:
		bad(v, field, "QUANTITY", fmt.Sprintf("must be at least 1, got %d", q), fmt.Sprintf("数量至少为 1，现为 %d", q))
	case q > max:
		bad(v, field, "QUANTITY", fmt.Sprintf("must be at most %d, got %d", max, q), fmt.Sprintf("数量至多为 %d，现为 %d", max, q))
	}
}

// CheckNote checks a free-text note: at most MaxNote characters, one
// line, no 身份证号.
func CheckNote(v *fault.Violations, field, note string) {
	if n := utf8.RuneCountInString(note); n > MaxNote {
		bad(v, field, "TOO_LONG", fmt.Sprintf("must be at most %d characters, got %d", MaxNote, n),
			fmt.Sprintf("备注至多 %d 个字，现为 %d 个", MaxNote, n))
	} else if !utf8.ValidString(note) || strings.ContainsAny(note, "\t\r\n") {
		bad(v, field, "BAD_TEXT", "must be one line of text", "备注只能是一行文字")
	} else if m := idnum.FreeTextProblem("备注", field, note); m != "" {
		bad(v, field, "PERSON_ID_IN_TEXT", m, m)
	}
}

// CheckRequestID checks a client's idempotency key.
func CheckRequestID(v *fault.Violations, field, id string) {
	switch {
	case id == "":
		bad(v, field, "REQUIRED", "is required", "必填")
	case len(id) > MaxRequestID || !utf8.ValidString(id) || strings.ContainsAny(id, "\t\r\n"):
		bad(v, field, "REQUEST_ID", fmt.Sprintf("must be one line of at most %d bytes", MaxRequestID),
			fmt.Sprintf("须为一行、至多 %d 字节", MaxRequestID))
	default:
		if m := idnum.FreeTextProblem("请求号", field, id); m != "" {
			bad(v, field, "PERSON_ID_IN_TEXT", m, m)
		}
	}
}

// Arrive checks that quantity units may be added to g's stock.
func Arrive(g *Good, quantity int64) error {
	var v fault.Violations
	CheckQuantity(&v, "quantity", quantity, MaxArrival)
	if err := v.Err(); err != nil {
		return err
	}
	if g.Archived {
		return refuse("GOOD_ARCHIVED", "good",
			fmt.Sprintf("%s (%s) is archived: put it back on offer before recording stock", g.NameZH, g.Code),
			fmt.Sprintf("%s（%s）已下架：先重新上架再登记到货", g.NameZH, g.Code))
	}
	if g.Stock+quantity > MaxStock {
		return refuse("STOCK_LIMIT", "quantity",
			fmt.Sprintf("%d more would put the stock of %s at %d, above the limit of %d", quantity, g.Code, g.Stock+quantity, MaxStock),
			fmt.Sprintf("再加 %d 后%s库存为 %d，超过上限 %d", quantity, g.NameZH, g.Stock+quantity, MaxStock))
	}
	return nil
}

// Redeem decides a redemption of quantity units of g by a household whose
// balance, as of on, is bal; precision is the village catalogue's. It
// returns the ledger entry to append (a redemption of Price × quantity
// points, which lowers only the redeemable balance) or the refusal:
// GOOD_ARCHIVED, INSUFFICIENT_STOCK and INSUFFICIENT_POINTS (both on
// quantity), or PRICE_PRECISION (the catalogue's precision dropped below
// the price's since it was set). g.Stock must have been read under the
// good's lock; the store's conditional update still takes the stock.
func Redeem(g *Good, bal points.Balance, quantity int64, on household.Date, precision int32) (points.Entry, error) {
	var v fault.Violations
	CheckQuantity(&v, "quantity", quantity, MaxQuantity)
	if err := v.Err(); err != nil {
		return points.Entry{}, err
	}
	if g.Archived {
		return points.Entry{}, refuse("GOOD_ARCHIVED", "good",
			fmt.Sprintf("%s (%s) is archived and no longer offered", g.NameZH, g.Code),
			fmt.Sprintf("%s（%s）已下架，不能兑换", g.NameZH, g.Code))
	}
	if quantity > g.Stock {
		return points.Entry{}, InsufficientStock(g, quantity, g.Stock)
	}
	cost := Cost(g.Price, quantity)
	if places(cost) > precision {
		return points.Entry{}, refuse("PRICE_PRECISION", "good",
			fmt.Sprintf("the price %s of %s has more decimal places than the village's points (%d): correct the price first", g.Price, g.Code, precision),
			fmt.Sprintf("%s的积分价 %s 小数位多于本村积分的 %d 位：请先修改积分价", g.NameZH, g.Price, precision))
	}
	if err := bal.CanRedeem(cost); err != nil {
		if fault.Is(err, fault.FailedPrecondition) {
			return points.Entry{}, refuse("INSUFFICIENT_POINTS", "quantity",
				fmt.Sprintf("%d %s of %s cost %s points; the household has %s redeemable points", quantity, g.Unit, g.Code, cost, bal.Redeemable),
				fmt.Sprintf("%d %s%s需 %s 积分；该户可兑换积分只有 %s", quantity, g.Unit, g.NameZH, cost, bal.Redeemable))
		}
		return points.Entry{}, err
	}
	return points.NewRedemption(cost, on, precision)
}

// InsufficientStock is the refusal of taking asked units of g when only
// left are on the shelf.
func InsufficientStock(g *Good, asked, left int64) error {
	return refuse("INSUFFICIENT_STOCK", "quantity",
		fmt.Sprintf("only %d %s of %s in stock; asked for %d", left, g.Unit, g.Code, asked),
		fmt.Sprintf("%s库存只剩 %d %s，要兑换 %d %s", g.NameZH, left, g.Unit, asked, g.Unit))
}

// Cost is what quantity units at price cost, in points.
func Cost(price decimal.Decimal, quantity int64) decimal.Decimal {
	return price.Mul(decimal.NewFromInt(quantity))
}

// places is the number of decimal places d needs.
func places(d decimal.Decimal) int32 {
	var p int32
	for !d.Round(p).Equal(d) {
		p++
	}
	return p
}
