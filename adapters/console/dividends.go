package console

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/dividend"
)

// dividendRoutes registers the 股份+积分 dividend pages: a village's rounds
// (and the clerk's form for a new one), a round with its 公示 list,
// review, objections, approval and payout file, and the household's
// statements with its objection form.
func (c *Console) dividendRoutes() {
	c.page("GET "+Prefix+"villages/{village}/dividends", false, c.dividends)
	c.page("POST "+Prefix+"villages/{village}/dividends", false, c.dividendCreate)
	c.page("GET "+Prefix+"villages/{village}/dividends/{round}", false, c.dividendRound)
	c.page("POST "+Prefix+"villages/{village}/dividends/{round}/review", false, c.dividendReview)
	c.page("POST "+Prefix+"villages/{village}/dividends/{round}/approve", false, c.dividendApprove)
	c.page("POST "+Prefix+"villages/{village}/dividends/{round}/objections/{objection}", false, c.dividendResolve)
	c.page("POST "+Prefix+"villages/{village}/dividends/{round}/payout", false, c.dividendPayout)
	c.page("GET "+Prefix+"me/dividends", false, c.hhDividends)
	c.page("POST "+Prefix+"me/dividends/{round}/object", false, c.hhDividendObject)
}

// dividendsView is a village's rounds page and the create form.
type dividendsView struct {
	*app.DividendRounds
	CanCreate bool
	// The form's values and the errors next to its fields; Error is a
	// refusal of the whole round.
	Title, Pool, RecordDate string
	// RequestID is the form's own: a form sent twice is one round, a
	// new form (after a rejection, say) a new one.
	RequestID                         string
	TitleErr, PoolErr, DateErr, Error string
	Today                             string
}

func (c *Console) dividends(q *request) error {
	return c.renderDividends(q, http.StatusOK, dividendsView{})
}

func (c *Console) renderDividends(q *request, status int, v dividendsView) error {
	village, err := villageOf(q)
	if err != nil {
		return err
	}
	if err := q.authorise(access.DividendRoundRead, access.Target{Village: village}); err != nil {
		return err
	}
	v.CanCreate = q.authorise(access.DividendRoundCreate, access.Target{Village: village}) == nil
	if v.DividendRounds, err = c.app.VillageDividends(q.r.Context(), village); err != nil {
		return err
	}
	v.Today = string(c.app.Dividends.Today())
	if v.RequestID == "" {
		v.RequestID = uuid.NewString()
	}
	c.render(q, status, "dividends", v)
	return nil
}

// dividendCreate computes a round from the clerk's form.
func (c *Console) dividendCreate(q *request) error {
	village, err := villageOf(q)
	if err != nil {
		return err
	}
	if err := q.authorise(access.DividendRoundCreate, access.Target{Village: village}); err != nil {
		return err
	}
	v := dividendsView{Title: strings.TrimSpace(q.r.PostFormValue("title")), Pool: strings.TrimSpace(q.r.PostFormValue("pool")),
		RecordDate: strings.TrimSpace(q.r.PostFormValue("record_date"))}
	// The form's request id makes a form sent twice one round.
	req := strings.TrimSpace(q.r.PostFormValue("request_id"))
	if req == "" {
		req = uuid.NewString()
	}
	v.RequestID = req
	r, err := c.app.Dividends.CreateRound(q.r.Context(), q.p, dividend.CreateInput{Parent: resource.Village(village),
		Title: v.Title, Pool: v.Pool, RecordDate: v.RecordDate, RequestID: req})
	if err == nil {
		http.Redirect(q.w, q.r, Prefix+"villages/"+village+"/dividends/"+r.ID, http.StatusSeeOther)
		return nil
	}
	var f *fault.Error
	if !errors.As(err, &f) {
		return err
	}
	switch f.Kind {
	case fault.Invalid:
		for _, fv := range f.Violations {
			msg := fieldMessage(q.lang, fv)
			switch fv.Field {
			case "round.title":
				v.TitleErr = msg
			case "round.pool":
				v.PoolErr = msg
			case "round.record_date":
				v.DateErr = msg
			default:
				v.Error = msg
			}
		}
	case fault.FailedPrecondition, fault.AlreadyExists:
		v.Error = refusalText(q.lang, f)
	default:
		return err
	}
	return c.renderDividends(q, http.StatusBadRequest, v)
}

// fieldMessage words a field violation in the page's language.
func fieldMessage(l lang, fv fault.Violation) string {
	d := fv.Description
	switch {
	case strings.Contains(d, "in the future"):
		return text(l, "div.err_future")
	case strings.Contains(d, "whole fen"):
		return text(l, "div.err_fen")
	case strings.Contains(d, "positive"), strings.Contains(d, "amount in yuan"), strings.Contains(d, "is required: the amount"):
		return text(l, "div.err_pool")
	case strings.Contains(d, "at most 100000000"):
		return text(l, "div.err_pool_max")
	case strings.Contains(d, "YYYY-MM-DD"):
		return text(l, "div.err_date")
	case fv.Field == "round.title" && strings.Contains(d, "身份证号"):
		return text(l, "hh.reason_idnum")
	case fv.Field == "round.title":
		return text(l, "div.err_title")
	case fv.Field == "reason" && strings.Contains(d, "身份证号"):
		return text(l, "hh.reason_idnum")
	case fv.Field == "reason":
		return text(l, "hh.reason_required")
	case l == zh && fv.ZH != "":
		return fv.ZH
	}
	return d
}

// refusalText words a refused step by its reason, or generally.
func refusalText(l lang, f *fault.Error) string {
	if _, ok := messages["div.fault."+f.Reason]; ok {
		return text(l, "div.fault."+f.Reason)
	}
	return text(l, "div.fault.other")
}

// roundView is a round's page.
type roundView struct {
	*app.DividendRound
	Village string
	// What the person may do here.
	CanReview, CanApprove, CanResolve, CanPayout bool
	// Done says what was just done ("review", "approve", "resolve").
	Done string
	// Error is a refused step, next to its buttons; ErrorOf the objection
	// it is about ("" for the round); Reason the reason entered.
	Error, ErrorOf, Reason string
}

func (c *Console) dividendRound(q *request) error {
	return c.renderRound(q, http.StatusOK, roundView{Done: doneOf(q, "review", "approve", "resolve")})
}

func roundName(q *request) (village, name string, err error) {
	village, err = villageOf(q)
	if err != nil {
		return "", "", err
	}
	name = dividend.RoundName(village, q.r.PathValue("round"))
	if _, _, err := dividend.ParseRoundName(name, "name"); err != nil {
		return "", "", fault.New(fault.NotFound, "DIVIDEND_ROUND_NOT_FOUND", "no round %q", q.r.PathValue("round"))
	}
	return village, name, nil
}

func (c *Console) renderRound(q *request, status int, v roundView) error {
	village, name, err := roundName(q)
	if err != nil {
		return err
	}
	t := access.Target{Village: village}
	if err := q.authorise(access.DividendRoundRead, t); err != nil {
		return err
	}
	v.Village = village
	v.CanReview = q.authorise(access.DividendRoundReview, t) == nil
	v.CanApprove = q.authorise(access.DividendRoundApprove, t) == nil
	v.CanResolve = q.authorise(access.DividendResolve, t) == nil
	v.CanPayout = q.authorise(access.DividendPayout, t) == nil
	if v.DividendRound, err = c.app.DividendRoundView(q.r.Context(), name); err != nil {
		return err
	}
	c.render(q, status, "dividend_round", v)
	return nil
}

// stepped redirects to the round after a step, or shows its refusal.
func (c *Console) stepped(q *request, village, name, done string, err error, v roundView) error {
	if err == nil {
		http.Redirect(q.w, q.r, Prefix+"villages/"+village+"/dividends/"+q.r.PathValue("round")+"?done="+done, http.StatusSeeOther)
		return nil
	}
	var f *fault.Error
	if !errors.As(err, &f) {
		return err
	}
	switch f.Kind {
	case fault.Invalid:
		for _, fv := range f.Violations {
			v.Error = fieldMessage(q.lang, fv)
		}
	case fault.FailedPrecondition:
		v.Error = refusalText(q.lang, f)
	default:
		return err
	}
	return c.renderRound(q, http.StatusBadRequest, v)
}

func (c *Console) dividendReview(q *request) error {
	village, name, err := roundName(q)
	if err != nil {
		return err
	}
	if err := q.authorise(access.DividendRoundReview, access.Target{Village: village}); err != nil {
		return err
	}
	choice, reason := q.r.PostFormValue("decision"), strings.TrimSpace(q.r.PostFormValue("reason"))
	v := roundView{Reason: reason}
	if choice != "approve" && choice != "reject" {
		v.Error = text(q.lang, "rev.decision_required")
		return c.renderRound(q, http.StatusBadRequest, v)
	}
	_, err = c.app.Dividends.ReviewRound(q.r.Context(), q.p, name, choice == "approve", reason)
	return c.stepped(q, village, name, "review", err, v)
}

func (c *Console) dividendApprove(q *request) error {
	village, name, err := roundName(q)
	if err != nil {
		return err
	}
	if err := q.authorise(access.DividendRoundApprove, access.Target{Village: village}); err != nil {
		return err
	}
	_, err = c.app.Dividends.ApproveRound(q.r.Context(), q.p, name)
	return c.stepped(q, village, name, "approve", err, roundView{})
}

func (c *Console) dividendResolve(q *request) error {
	village, name, err := roundName(q)
	if err != nil {
		return err
	}
	if err := q.authorise(access.DividendResolve, access.Target{Village: village}); err != nil {
		return err
	}
	id := q.r.PathValue("objection")
	choice, reason := q.r.PostFormValue("decision"), strings.TrimSpace(q.r.PostFormValue("reason"))
	v := roundView{ErrorOf: id, Reason: reason}
	if choice != "dismiss" && choice != "uphold" {
		v.Error = text(q.lang, "rev.decision_required")
		return c.renderRound(q, http.StatusBadRequest, v)
	}
	oname := name + "/objections/" + id
	if _, _, _, err := dividend.ParseObjectionName(oname, "name"); err != nil {
		return fault.New(fault.NotFound, "OBJECTION_NOT_FOUND", "no objection %q", id)
	}
	_, err = c.app.Dividends.ResolveObjection(q.r.Context(), q.p, oname, choice == "uphold", reason)
	return c.stepped(q, village, name, "resolve", err, v)
}

// dividendPayout hands out the payout file (a POST: each export is an
// audit entry).
func (c *Console) dividendPayout(q *request) error {
	village, name, err := roundName(q)
	if err != nil {
		return err
	}
	if err := q.authorise(access.DividendPayout, access.Target{Village: village}); err != nil {
		return err
	}
	p, err := c.app.Dividends.Payout(q.r.Context(), q.p, name)
	if err != nil {
		return c.stepped(q, village, name, "", err, roundView{})
	}
	h := q.w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, p.FileName))
	h.Set("X-Content-SHA256", p.SHA256)
	_, err = q.w.Write(p.File)
	return err
}

// hhDividendsView is the household's statements.
type hhDividendsView struct {
	Statements []*dividend.Statement
	Done       string // the round just objected to
	Errors     map[string]string
	Reasons    map[string]string
}

func (c *Console) hhDividends(q *request) error {
	return c.renderHHDividends(q, http.StatusOK, hhDividendsView{Done: q.r.URL.Query().Get("done")})
}

func (c *Console) renderHHDividends(q *request, status int, v hhDividendsView) error {
	hh, err := q.household()
	if err != nil {
		return err
	}
	if err := q.authorise(access.DividendStatement, q.own()); err != nil {
		return err
	}
	if v.Statements, err = c.app.HouseholdDividends(q.r.Context(), q.p, hh); err != nil {
		return err
	}
	c.render(q, status, "hh_dividends", v)
	return nil
}

// hhDividendObject records the household's objection to its own line.
func (c *Console) hhDividendObject(q *request) error {
	hh, err := q.household()
	if err != nil {
		return err
	}
	if err := q.authorise(access.DividendObject, q.own()); err != nil {
		return err
	}
	id := q.r.PathValue("round")
	if _, _, err := dividend.ParseRoundName(dividend.RoundName(q.village, id), "round"); err != nil {
		return fault.New(fault.NotFound, "DIVIDEND_ROUND_NOT_FOUND", "no round %q", id)
	}
	reason := q.r.PostFormValue("reason")
	_, err = c.app.Dividends.Object(q.r.Context(), q.p, dividend.RoundName(q.village, id), hh, reason)
	if err == nil {
		http.Redirect(q.w, q.r, Prefix+"me/dividends?done="+id+"#r-"+id, http.StatusSeeOther)
		return nil
	}
	var f *fault.Error
	if !errors.As(err, &f) {
		return err
	}
	var msg string
	switch f.Kind {
	case fault.Invalid:
		for _, fv := range f.Violations {
			msg = fieldMessage(q.lang, fv)
		}
	case fault.FailedPrecondition:
		msg = refusalText(q.lang, f)
	default:
		return err
	}
	return c.renderHHDividends(q, http.StatusBadRequest, hhDividendsView{
		Errors: map[string]string{id: msg}, Reasons: map[string]string{id: reason}})
}

func init() {
	funcs["fen"] = app.FenMoney
	funcs["yuan"] = app.Money
	funcs["divstate"] = func(l lang, st dividend.State) string { return app.DividendStateLabel(st, l == en) }
	funcs["objstate"] = func(l lang, st dividend.ObjectionState) string { return app.ObjectionStateLabel(st, l == en) }
	funcs["counted"] = func(l lang, r *dividend.Rule) string { return app.PointsCounted(r, l == en) }
	funcs["lastday"] = lastNoticeDay
	addMessages(dividendMessages)
}

func lastNoticeDay(r *dividend.Round) string {
	if r.NoticeEnd == "" {
		return ""
	}
	return r.NoticeEnd.Time().AddDate(0, 0, -1).Format("2006-01-02")
}

var dividendMessages = map[string][2]string{
	"div.nav":                       {"分红", "Dividends"},
	"hh.nav_dividends":              {"我的分红", "My dividends"},
	"div.title":                     {"股份+积分分红", "Shares + points dividends"},
	"div.intro":                     {"村集体收益按股份和积分分给登记日在册的农户。金额精确到分，合计等于分红总额。", "Collective income is shared among the households on the roll at the record date, by shares and by points, to the fen; the amounts add up to the pool."},
	"div.rule":                      {"现行规则", "Active rule"},
	"div.rule_none":                 {"本村还没有生效的分红规则：由村干部上传规则，另一位评议人员启用（sanzhi dividend rule upload / activate）。", "The village has no active rule yet: staff upload one and a second person activates it (sanzhi dividend rule upload / activate)."},
	"div.rule_version":              {"第%d版", "version %d"},
	"div.rounds":                    {"分红轮次", "Rounds"},
	"div.none":                      {"还没有分红轮次。", "No rounds yet."},
	"div.col_title":                 {"名称", "Title"},
	"div.col_date":                  {"股权登记日", "Record date"},
	"div.col_pool":                  {"分红总额", "Pool"},
	"div.col_state":                 {"状态", "State"},
	"div.col_households":            {"在册户数", "Households"},
	"div.new":                       {"新建分红轮次", "New round"},
	"div.new_intro":                 {"按登记日在册农户的股份和积分计算，存为草稿，由另一位评议人员复核后公示。", "Computed from the roll, shares and points at the record date and kept as a draft for a second person's review, then posted for public notice."},
	"div.f_title":                   {"名称（如：2025年度集体经济股份+积分分红）", "Title (e.g. 2025 collective dividend)"},
	"div.f_pool":                    {"分红总额（元，精确到分）", "Pool (yuan, to the fen)"},
	"div.f_date":                    {"股权登记日（不能晚于今天 %s）", "Record date (not after today, %s)"},
	"div.f_submit":                  {"计算并存为草稿", "Compute and save as draft"},
	"div.err_future":                {"登记日不能晚于今天。", "The record date cannot be after today."},
	"div.err_fen":                   {"金额最多两位小数（精确到分）。", "At most two decimal places (whole fen)."},
	"div.err_pool":                  {"请填写大于零的金额，如 125000.00。", "Enter an amount above zero, e.g. 125000.00."},
	"div.err_pool_max":              {"金额不能超过一亿元。", "The pool may be at most ¥100,000,000."},
	"div.err_date":                  {"请按 年-月-日 填写日期，如 2026-03-31。", "Enter a date as YYYY-MM-DD, e.g. 2026-03-31."},
	"div.err_title":                 {"请填写名称（100字以内）。", "Enter a title (at most 100 characters)."},
	"div.fault.other":               {"这一步现在不能做。", "This step cannot be taken now."},
	"div.fault.NO_ACTIVE_RULE":      {"本村还没有生效的分红规则。", "The village has no active dividend rule."},
	"div.fault.RULE_NOT_ACTIVE":     {"所选规则不是现行规则。", "That rule version is not the active one."},
	"div.fault.ROUND_EXISTS":        {"这个登记日已有一轮分红（草稿、公示中或已批准）。", "A round of this record date exists already (draft, on notice or approved)."},
	"div.fault.REQUEST_ID_REUSED":   {"这份表单已提交过，内容不同；请刷新后重填。", "This form was sent before with other values; reload and fill it in again."},
	"div.fault.NO_HOUSEHOLDS":       {"登记日没有在册农户。", "No household was on the roll at the record date."},
	"div.fault.NO_SHARES":           {"登记日在册农户都没有股份，股份部分无法分配。", "No household on the roll holds shares, so the shares part cannot be paid."},
	"div.fault.NO_POINTS":           {"登记日在册农户都没有可计积分，积分部分无法分配。", "No household on the roll has points that count, so the points part cannot be paid."},
	"div.fault.CAP_TOO_LOW":         {"每户封顶太低，分不完分红总额。", "The cap per household is too low to pay out the pool."},
	"div.fault.SELF_REVIEW":         {"这一轮是您建的，须由另一位评议人员复核、批准。", "You created this round: a second person must review and approve it."},
	"div.fault.SELF_RESOLVE":        {"您提出了异议或建了这一轮，须由另一人处理。", "You raised the objection or created the round: someone else must resolve it."},
	"div.fault.ROUND_NOT_DRAFT":     {"这一轮已复核过。", "This round was already reviewed."},
	"div.fault.ROUND_NOT_ON_NOTICE": {"这一轮不在公示期。", "This round is not on public notice."},
	"div.fault.NOTICE_NOT_ENDED":    {"公示期还没结束，结束后才能批准。", "The public notice has not ended; approve the round after it."},
	"div.fault.NOTICE_ENDED":        {"公示期已结束，不能再提异议；请找村委会。", "The public notice has ended; talk to the village committee."},
	"div.fault.OBJECTIONS_OPEN":     {"还有异议没处理完。", "Objections are still open."},
	"div.fault.OBJECTION_RESOLVED":  {"这条异议已处理。", "This objection was already resolved."},
	"div.fault.ALREADY_OBJECTED":    {"您已提过异议，正在处理。", "Your objection is being dealt with."},
	"div.fault.ROUND_NOT_APPROVED":  {"这一轮还没批准，不能导出发放清单。", "The round is not approved: no payout file yet."},
	"div.fault.CONCURRENT_CHANGE":   {"这一轮刚被别人改动过，请刷新后再试。", "Someone changed this round meanwhile; reload and try again."},
	"div.round":                     {"分红轮次", "Round"},
	"div.record_date":               {"股权登记日", "Record date"},
	"div.pool":                      {"分红总额", "Pool"},
	"div.state":                     {"状态", "State"},
	"div.split":                     {"分配", "Split"},
	"div.split_v":                   {"按股份 %s%%，按积分 %s%%（%s）", "%s%% by shares, %s%% by points (%s)"},
	"div.cap":                       {"每户封顶", "Cap per household"},
	"div.cap_none":                  {"不封顶", "no cap"},
	"div.black_list":                {"黑榜", "Black list"},
	"div.bl_none":                   {"不影响分红", "no effect"},
	"div.bl_points":                 {"登记日在黑榜上的，不参与积分部分", "listed at the record date: no points part"},
	"div.bl_all":                    {"登记日在黑榜上的，不参与本轮分红", "listed at the record date: nothing from the round"},
	"div.notice":                    {"公示期", "Public notice"},
	"div.notice_v":                  {"%s 至 %s", "%s to %s"},
	"div.households":                {"在册 %d 户，其中 %d 户有分红", "%d households on the roll, %d paid"},
	"div.created":                   {"计算", "Computed"},
	"div.reviewed":                  {"复核", "Reviewed"},
	"div.approved":                  {"批准", "Approved"},
	"div.hash":                      {"分配结果校验码（SHA-256）", "Allocation hash (SHA-256)"},
	"div.done_review":               {"已复核。", "Reviewed."},
	"div.done_approve":              {"已批准，可以导出发放清单。", "Approved: the payout file can be exported."},
	"div.done_resolve":              {"异议已处理。", "The objection was resolved."},
	"div.review":                    {"复核", "Review"},
	"div.review_intro":              {"核对登记日、总额和下方清单。通过后开始公示；退回须写明理由。", "Check the record date, the pool and the list below. Approving starts the public notice; a rejection needs a reason."},
	"div.reason":                    {"理由（退回时必填）", "Reason (required to reject)"},
	"div.approve_review":            {"通过，开始公示", "Approve: start the notice"},
	"div.reject":                    {"退回", "Reject"},
	"div.approve":                   {"批准", "Approve"},
	"div.approve_intro":             {"公示期结束、异议处理完后批准。批准前系统会按存档数据重算一遍，结果须与公示的一致。", "Approve once the notice has ended and every objection is resolved. The round is recomputed from its stored inputs first and must match what was posted."},
	"div.payout":                    {"发放清单", "Payout file"},
	"div.payout_intro":              {"给代发银行的清单（CSV，UTF-8，可用 Excel 打开）：户编号、户主姓名、村民小组、金额；不含账号。每次导出都记入审计日志。", "The file for the paying bank (CSV, UTF-8, opens in Excel): household, head, group, amount; no account details. Each export is logged."},
	"div.payout_button":             {"导出发放清单", "Export the payout file"},
	"div.objections":                {"异议", "Objections"},
	"div.objections_none":           {"没有异议。", "No objections."},
	"div.obj_reason":                {"异议内容", "Objection"},
	"div.obj_state":                 {"处理情况", "Outcome"},
	"div.resolve_reason":            {"处理理由", "Reason for the decision"},
	"div.dismiss":                   {"驳回（金额不变）", "Dismiss (the amount stands)"},
	"div.uphold":                    {"成立（撤回本轮）", "Uphold (withdraw the round)"},
	"div.list":                      {"公示清单", "Notice list"},
	"div.print":                     {"打印（A4）", "Print (A4)"},
	"div.col_head":                  {"户主", "Head of household"},
	"div.col_group":                 {"组", "Group"},
	"div.col_shares":                {"股份", "Shares"},
	"div.col_points":                {"积分", "Points"},
	"div.col_amount":                {"金额", "Amount"},
	"div.col_note":                  {"备注", "Note"},
	"div.capped":                    {"已封顶", "capped"},
	"div.excluded_points":           {"黑榜：无积分部分", "black list: no points part"},
	"div.excluded_all":              {"黑榜：不参与", "black list: excluded"},
	"div.total":                     {"合计", "Total"},
	"div.rounding":                  {"各户金额按比例计算到分；余下的分按余数从大到小（相同时按户编号）各补一分，合计等于分红总额。", "Each amount is its exact share rounded down to the fen; the fen left over go one each to the largest remainders (ties by household id), so the total is the pool."},
	"div.hh_title":                  {"我的分红", "My dividends"},
	"div.hh_intro":                  {"村里公示中和已批准的分红里，本户的明细。对公示中的金额有异议，可在公示截止前在这里提出。", "Your household's lines of the village's rounds on notice or approved. To object to an amount on notice, do so here before the notice ends."},
	"div.hh_none":                   {"目前没有本户的分红。", "No dividends for your household yet."},
	"div.hh_amount":                 {"本户应得", "Amount due"},
	"div.hh_shares":                 {"按股份：本户 %s 股 / 全村 %s 股，本户 %s", "By shares: %s of %s shares, %s"},
	"div.hh_points":                 {"按积分：本户 %s 分 / 全村 %s 分，本户 %s", "By points: %s of %s points, %s"},
	"div.hh_object":                 {"提出异议", "Object"},
	"div.hh_reason":                 {"您的异议（如：股份数不对）", "Your objection (e.g. the shares are wrong)"},
	"div.hh_objected":               {"已提交异议，村里会处理并答复。", "Your objection was sent; the village will deal with it."},
}
