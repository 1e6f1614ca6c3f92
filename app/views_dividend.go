package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/paging"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/dividend"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// The words of a dividend statement and round, in both languages: what a
// household reads on its statement (console, printout, CLI).

// DividendStateLabel names a round's state.
func DividendStateLabel(st dividend.State, en bool) string {
	l := map[dividend.State][2]string{
		dividend.Draft:     {"草稿（待复核）", "draft (awaiting review)"},
		dividend.Rejected:  {"已退回", "rejected"},
		dividend.OnNotice:  {"公示中", "on public notice"},
		dividend.Approved:  {"已批准", "approved"},
		dividend.Withdrawn: {"已撤回", "withdrawn"},
	}[st]
	if en {
		return l[1]
	}
	return l[0]
}

// ObjectionStateLabel names an objection's state.
func ObjectionStateLabel(st dividend.ObjectionState, en bool) string {
	l := map[dividend.ObjectionState][2]string{
		dividend.Open:      {"待处理", "open"},
		dividend.Dismissed: {"已驳回（金额不变）", "dismissed (the amount stands)"},
		dividend.Upheld:    {"成立（本轮撤回）", "upheld (the round was withdrawn)"},
	}[st]
	if en {
		return l[1]
	}
	return l[0]
}

// Money formats yuan with thousands separators: ¥12,345.60.
func Money(d decimal.Decimal) string {
	s := d.StringFixed(2)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := "¥" + b.String() + "." + frac
	if neg {
		out = "-" + out
	}
	return out
}

// FenMoney formats fen as Money.
func FenMoney(fen int64) string { return Money(decimal.New(fen, -2)) }

// PointsCounted says which points a rule counts, in words.
func PointsCounted(r *dividend.Rule, en bool) string {
	switch {
	case r.PointsPercent.IsZero():
		return map[bool]string{false: "不计积分", true: "points do not count"}[en]
	case r.Balance == dividend.Redeemable:
		return map[bool]string{false: "可兑换积分", true: "redeemable points"}[en]
	case len(r.Areas) == 0:
		return map[bool]string{false: "信用积分（基础分以上，全部类别）", true: "credit points above the base, every area"}[en]
	}
	if en {
		return "credit points above the base, areas " + strings.Join(r.Areas, ", ")
	}
	return "信用积分（基础分以上，类别：" + strings.Join(r.Areas, "、") + "）"
}

// StatementText is a household's statement as plain text, for the CLI and
// for printing.
func StatementText(st *dividend.Statement, en bool) string {
	r, row, rule := st.Round, st.Row, st.Rule
	var b strings.Builder
	line := func(zh, eng string, args ...any) {
		f := zh
		if en {
			f = eng
		}
		fmt.Fprintf(&b, f+"\n", args...)
	}
	line("%s — 户分红明细", "%s — household statement", r.Title)
	line("户主：%s　村民小组：%d　户编号：%s", "Head of household: %s   group: %d   household: %s", row.HeadName, row.Group, row.Household)
	line("股权登记日：%s　分红总额：%s　状态：%s", "Record date: %s   pool: %s   state: %s", r.RecordDate, Money(r.Pool), DividendStateLabel(r.State, en))
	line("分配规则：第%d版，按股份 %s%%，按积分 %s%%（%s）", "Rule: version %d, %s%% by shares, %s%% by points (%s)",
		r.RuleVersion, rule.SharesPercent, rule.PointsPercent, PointsCounted(rule, en))
	line("按股份：本户计入 %s 股 / 全村 %s 股，股份部分 %s，本户 %s", "By shares: %s of %s shares counted; shares part %s, this household %s",
		row.CountedShares, r.TotalShares, Money(st.SharesPool), Money(st.SharesPart))
	if rule.PointsPercent.IsPositive() {
		line("按积分：本户积分 %s，计入 %s / 全村 %s，积分部分 %s，本户 %s", "By points: %s points, %s of %s counted; points part %s, this household %s",
			row.Points, row.CountedPoints, r.TotalPoints, Money(st.PointsPool), Money(st.PointsPart))
	}
	switch row.Excluded {
	case dividend.LosePoints:
		line("黑榜：股权登记日在黑榜上，按规则不参与积分部分", "Black list: listed on the record date; by the rule, no points part")
	case dividend.LoseAll:
		line("黑榜：股权登记日在黑榜上，按规则不参与本轮分红", "Black list: listed on the record date; by the rule, nothing from this round")
	}
	if rule.Cap.IsPositive() {
		capped := map[bool]string{true: "（本户已达封顶）", false: ""}[row.Capped]
		if en {
			capped = map[bool]string{true: " (this household is at the cap)", false: ""}[row.Capped]
		}
		line("每户封顶：%s%s", "Cap per household: %s%s", Money(rule.Cap), capped)
	}
	line("本户应得：%s", "Amount due: %s", FenMoney(row.Amount))
	if r.NoticeEnd != "" {
		line("公示期：%s 至 %s", "Public notice: %s to %s", r.NoticeStart, points.AddDays(r.NoticeEnd, -1))
	}
	for _, o := range st.Objections {
		line("异议（%s）：%s — %s", "Objection (%s): %s — %s", household.Today(o.ObjectTime), o.Reason, ObjectionStateLabel(o.State, en))
	}
	line("说明：各户金额按比例计算，精确到分；余下的分按余数从大到小（余数相同按户编号）各补一分，合计等于分红总额。",
		"Note: each amount is its exact share rounded down to the fen; the fen left over go one each to the largest remainders (ties by household id), so the amounts add up to the pool.")
	return b.String()
}

// DividendRounds is a village's rounds page: its active rule (nil when
// none) and its rounds, newest first.
type DividendRounds struct {
	Village string
	Rule    *dividend.RuleVersion
	Rounds  []*dividend.Round
}

// VillageDividends reads a village's rounds page.
func (a *App) VillageDividends(ctx context.Context, village string) (*DividendRounds, error) {
	out := &DividendRounds{Village: village}
	rv, err := a.Dividends.GetRule(ctx, resource.Village(village)+"/dividendRules/active")
	switch {
	case err == nil:
		out.Rule = rv
	case !fault.Is(err, fault.NotFound):
		return nil, err
	}
	page, err := a.Dividends.ListRounds(ctx, resource.Village(village), paging.MaxSize, "")
	if err != nil {
		return nil, err
	}
	out.Rounds = page.Rounds
	return out, nil
}

// DividendRound is one round as staff read it: the round, its rule, every
// line (the 公示 list) and its objections with the objecting household's
// head.
type DividendRound struct {
	Round *dividend.Round
	Rule  *dividend.Rule
	Rows  []*dividend.Row
	// Total is the lines' sum in fen: the pool.
	Total      int64
	Objections []DividendObjection
}

// DividendObjection is an objection with whose household it is.
type DividendObjection struct {
	*dividend.Objection
	HeadName string
	Group    int32
}

// DividendRoundView reads a round with its lines and objections.
func (a *App) DividendRoundView(ctx context.Context, name string) (*DividendRound, error) {
	r, err := a.Dividends.GetRound(ctx, name)
	if err != nil {
		return nil, err
	}
	rv, err := a.Dividends.GetRule(ctx, r.RuleName())
	if err != nil {
		return nil, err
	}
	rule, err := dividend.ParseRule([]byte(rv.Document))
	if err != nil {
		return nil, err
	}
	out := &DividendRound{Round: r, Rule: rule}
	token := ""
	for len(out.Rows) < maxViewRows*40 {
		page, err := a.Dividends.ListRows(ctx, name, paging.MaxSize, token)
		if err != nil {
			return nil, err
		}
		out.Rows = append(out.Rows, page.Rows...)
		if token = page.NextToken; token == "" {
			break
		}
	}
	byID := make(map[string]*dividend.Row, len(out.Rows))
	for _, row := range out.Rows {
		out.Total += row.Amount
		byID[row.Household] = row
	}
	objs, err := a.Dividends.ListObjections(ctx, name)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		d := DividendObjection{Objection: o}
		if row := byID[o.Household]; row != nil {
			d.HeadName, d.Group = row.HeadName, row.Group
		}
		out.Objections = append(out.Objections, d)
	}
	return out, nil
}

// HouseholdDividends is the household's statements of its village's
// rounds it may see (on notice or decided, with a line for it), newest
// first.
func (a *App) HouseholdDividends(ctx context.Context, p *access.Principal, householdName string) ([]*dividend.Statement, error) {
	village, _, err := household.ParseName(householdName, "household")
	if err != nil {
		return nil, err
	}
	page, err := a.Dividends.ListRounds(ctx, resource.Village(village), paging.MaxSize, "")
	if err != nil {
		return nil, err
	}
	var out []*dividend.Statement
	for _, r := range page.Rounds {
		st, err := a.Dividends.Statement(ctx, p, r.Name(), householdName)
		switch {
		case err == nil:
			out = append(out, st)
		case fault.Is(err, fault.NotFound) || fault.Is(err, fault.FailedPrecondition):
			// Not on its roll, or not published yet.
		default:
			return nil, err
		}
	}
	return out, nil
}
