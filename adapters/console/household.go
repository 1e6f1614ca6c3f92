package console

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/evidence"
)

// householdRoutes registers the household pages (see routes): objecting
// to an entry on notice, My credit and My data.
func (c *Console) householdRoutes() {
	c.page("GET "+Prefix+"me/notice", false, c.hhNotice)
	c.page("POST "+Prefix+"me/notice/{evidence}", false, c.hhObject)
	c.page("GET "+Prefix+"me/credit", false, c.hhCredit)
	c.page("GET "+Prefix+"me/data", false, c.hhData)
	c.page("POST "+Prefix+"me/data/consents", false, c.hhGrant)
	c.page("POST "+Prefix+"me/data/consents/{consent}/{act}", false, c.hhConsent)
	c.page("POST "+Prefix+"me/data/review", false, c.hhReview)
}

func init() {
	// Words for the values services return (states, purposes, methods):
	// the message of prefix+value, or the value itself when there is none.
	funcs["hhword"] = func(l lang, prefix, value string) string {
		if _, ok := messages[prefix+value]; ok {
			return text(l, prefix+value)
		}
		return value
	}
	funcs["hhtext"] = func(l lang, t credit.Text) string {
		if l == en && t.EN != "" {
			return t.EN
		}
		return t.ZH
	}
	// A bank by its name in the page's language; its id only when it has
	// no name.
	funcs["hhbank"] = func(l lang, banks map[string]*access.Bank, id string) string {
		b := banks[strings.TrimPrefix(id, "banks/")]
		switch {
		case b == nil:
			return id
		case l == en && b.NameEN != "":
			return b.NameEN
		}
		return b.Name
	}
	funcs["hhmoney"] = func(d interface{ StringFixed(int32) string }) string { return d.StringFixed(2) }
	// A rate is stored as a fraction (0.0595); people read percent.
	funcs["hhpct"] = func(d decimal.Decimal) string { return d.Mul(decimal.NewFromInt(100)).String() }
}

// household returns the signed-in household's resource name, or
// PermissionDenied for anyone else (staff have no household of their own).
func (q *request) household() (string, error) {
	if q.p.Role != access.Household {
		return "", fault.New(fault.PermissionDenied, "NOT_A_HOUSEHOLD", "only a household has pages of its own")
	}
	return resource.Household(q.village, q.p.Scope.Household), nil
}

func (q *request) own() access.Target {
	return access.Target{Village: q.village, Household: q.p.Scope.Household}
}

// hhNoticeView is the objection page: the report card's entries on
// notice, each with its form; Errors and Reasons by evidence id.
type hhNoticeView struct {
	Card    *app.ReportCard
	Errors  map[string]string
	Reasons map[string]string
	Done    string // the evidence just objected to
	// Photos are the stored photos of the entries (their thumbnails shown).
	Photos map[string]bool
}

func (c *Console) hhNotice(q *request) error {
	return c.renderNotice(q, http.StatusOK, hhNoticeView{Done: q.r.URL.Query().Get("done")})
}

func (c *Console) renderNotice(q *request, status int, v hhNoticeView) error {
	hh, err := q.household()
	if err != nil {
		return err
	}
	if err := q.authorise(access.PointsRead, q.own()); err != nil {
		return err
	}
	if v.Card, err = c.app.ReportCard(q.r.Context(), hh); err != nil {
		return err
	}
	if v.Photos, err = c.storedPhotos(q, v.Card.OnNotice); err != nil {
		return err
	}
	c.render(q, status, "hh_notice", v)
	return nil
}

// hhObject records the household's objection to an entry about itself.
func (c *Console) hhObject(q *request) error {
	hh, err := q.household()
	if err != nil {
		return err
	}
	id := q.r.PathValue("evidence")
	name := hh + "/evidence/" + id
	if err := q.authorise(access.EvidenceObject, q.own()); err != nil {
		return err
	}
	reason := q.r.PostFormValue("reason")
	_, err = c.app.Evidence.Object(q.r.Context(), q.p, name, reason)
	if err == nil {
		http.Redirect(q.w, q.r, Prefix+"me/notice?done="+id+"#e-"+id, http.StatusSeeOther)
		return nil
	}
	msg, ok := c.reasonError(q.lang, err)
	if !ok {
		return err
	}
	return c.renderNotice(q, http.StatusBadRequest, hhNoticeView{
		Errors: map[string]string{id: msg}, Reasons: map[string]string{id: reason}})
}

// reasonError says what is wrong with a reason (an objection's, a review
// request's) or with the act, in the page's words; false for a fault the
// person cannot fix on the form.
func (c *Console) reasonError(l lang, err error) (string, bool) {
	var f *fault.Error
	if !errors.As(err, &f) {
		return "", false
	}
	switch f.Kind {
	case fault.Invalid:
		for _, v := range f.Violations {
			switch {
			case v.Field != "reason":
				continue
			case strings.Contains(v.Description, "身份证号"):
				return text(l, "hh.reason_idnum"), true
			case strings.HasPrefix(v.Description, "must be at most"):
				return text(l, "hh.reason_long", evidence.MaxReason), true
			case strings.Contains(v.Description, "required") || strings.Contains(v.Description, "say what"):
				return text(l, "hh.reason_required"), true
			case l == zh && v.ZH != "":
				return v.ZH, true
			}
			return v.Description, true
		}
	case fault.FailedPrecondition:
		if _, ok := messages["hh.fault."+f.Reason]; ok {
			return text(l, "hh.fault."+f.Reason), true
		}
		return text(l, "hh.fault.other"), true
	}
	return "", false
}

// hhCredit is My credit: every line of the household, why, and how to
// improve. A household reads its own decisions (access.DecisionList, as
// ListDecisions over gRPC); its lines are what those decisions opened.
func (c *Console) hhCredit(q *request) error {
	hh, err := q.household()
	if err != nil {
		return err
	}
	if err := q.authorise(access.DecisionList, q.own()); err != nil {
		return err
	}
	v, err := c.app.HouseholdCredit(q.r.Context(), q.p, hh)
	if err != nil {
		return err
	}
	c.render(q, http.StatusOK, "hh_credit", v)
	return nil
}

// hhDataView is My data with the outcome of its last form.
type hhDataView struct {
	*app.HouseholdData
	Pending  []*lending.Consent
	Live     map[string]bool // consent id → live now
	Done     string          // a message after a form succeeded
	Error    string          // a consent form's refusal
	Decision string          // the decision whose review form failed
	Reason   string
	ReasonEr string
	Grant    *grantForm
}

// grantForm is the household granting a bank a consent: the bank chosen
// by name, the purposes, the day it ends; errors next to their fields.
type grantForm struct {
	Banks                                      []*access.Bank
	Bank                                       string
	Purposes                                   []lending.Purpose // offered
	Chosen                                     map[lending.Purpose]bool
	Until                                      string
	Term                                       app.ConsentTerm
	RequestID                                  string
	BankError, PurposeError, UntilError, Error string
}

// purposes are the purposes a consent may be for (lending.Purpose), in
// the order the form offers them.
var purposes = []lending.Purpose{lending.PurposeAssessment, lending.PurposePostLoan}

func (c *Console) hhData(q *request) error {
	v := hhDataView{}
	if d := q.r.URL.Query().Get("done"); d != "" {
		if _, ok := messages["hh.done."+d]; ok {
			v.Done = text(q.lang, "hh.done."+d)
		}
	}
	return c.renderData(q, http.StatusOK, v)
}

func (c *Console) renderData(q *request, status int, v hhDataView) error {
	hh, err := q.household()
	if err != nil {
		return err
	}
	// Three reads, each authorised as its RPC: ListConsents,
	// ListQueryRecords, ListDecisions (and ListReviews).
	for _, a := range []access.Action{access.ConsentList, access.QueryRecordList, access.DecisionList, access.ReviewList} {
		if err := q.authorise(a, q.own()); err != nil {
			return err
		}
	}
	if v.HouseholdData, err = c.app.HouseholdData(q.r.Context(), q.p, hh); err != nil {
		return err
	}
	if v.Grant == nil {
		v.Grant = &grantForm{RequestID: newRequestID()}
	}
	g := v.Grant
	g.Purposes, g.Term = purposes, c.app.ConsentTerm()
	for _, b := range v.Banks {
		g.Banks = append(g.Banks, b)
	}
	slices.SortFunc(g.Banks, func(a, b *access.Bank) int { return strings.Compare(a.ID, b.ID) })
	if g.Until == "" && g.UntilError == "" {
		g.Until = string(g.Term.Default)
	}
	now := c.app.Lending.Now()
	v.Live = map[string]bool{}
	for _, k := range v.Consents {
		v.Live[k.ID] = k.Live(lending.PurposeAssessment, now) || k.Live(lending.PurposePostLoan, now)
		if k.State == lending.ConsentPending && k.RevokeTime == nil && now.Before(k.Expires) {
			v.Pending = append(v.Pending, k)
		}
	}
	c.render(q, status, "hh_data", v)
	return nil
}

// hhConsent confirms, refuses or revokes one of the household's consents.
func (c *Console) hhConsent(q *request) error {
	if _, err := q.household(); err != nil {
		return err
	}
	id := q.r.PathValue("consent")
	name := credit.ConsentName(q.village, q.p.Scope.Household, id)
	act := q.r.PathValue("act")
	var do func() (*lending.Consent, error)
	ctx := q.r.Context()
	switch act {
	case "confirm", "refuse":
		// Confirming and refusing are one grant, as for ConfirmConsent
		// and RefuseConsent.
		if err := q.authorise(access.ConsentConfirm, q.own()); err != nil {
			return err
		}
		do = func() (*lending.Consent, error) { return c.app.Lending.Confirm(ctx, q.p, name) }
		if act == "refuse" {
			do = func() (*lending.Consent, error) { return c.app.Lending.Refuse(ctx, q.p, name) }
		}
	case "revoke":
		if err := q.authorise(access.ConsentRevoke, q.own()); err != nil {
			return err
		}
		do = func() (*lending.Consent, error) { return c.app.Lending.Revoke(ctx, q.p, name) }
	default:
		return fault.New(fault.NotFound, "NOT_FOUND", "no such action")
	}
	if _, err := do(); err != nil {
		msg, ok := c.reasonError(q.lang, err)
		if !ok {
			return err
		}
		return c.renderData(q, http.StatusConflict, hhDataView{Error: msg})
	}
	http.Redirect(q.w, q.r, Prefix+"me/data?done="+act, http.StatusSeeOther)
	return nil
}

// hhGrant records the household's own consent for a bank it chose by
// name (app.GrantConsent holds the rules; this only reads the form and
// puts each refusal next to its field).
func (c *Console) hhGrant(q *request) error {
	hh, err := q.household()
	if err != nil {
		return err
	}
	g := &grantForm{Bank: strings.TrimSpace(q.r.PostFormValue("bank")), Until: strings.TrimSpace(q.r.PostFormValue("until")),
		Chosen: map[lending.Purpose]bool{}, RequestID: q.r.PostFormValue("request_id")}
	if !requestIDPattern.MatchString(g.RequestID) {
		g.RequestID = newRequestID()
	}
	t := q.own()
	t.Bank = g.Bank
	if err := q.authorise(access.ConsentGrant, t); err != nil {
		return err
	}
	var chosen []string
	for _, p := range q.r.PostForm["purpose"] {
		if !g.Chosen[lending.Purpose(p)] {
			g.Chosen[lending.Purpose(p)] = true
			chosen = append(chosen, p)
		}
	}
	_, err = c.app.GrantConsent(q.r.Context(), q.p, app.ConsentGrant{Household: hh, Bank: g.Bank, Purposes: chosen,
		Until: g.Until, RequestID: g.RequestID})
	if err == nil {
		http.Redirect(q.w, q.r, Prefix+"me/data?done=grant#consents", http.StatusSeeOther)
		return nil
	}
	var f *fault.Error
	switch {
	case errors.As(err, &f) && f.Kind == fault.Invalid:
		term := c.app.ConsentTerm()
		for _, v := range f.Violations {
			switch v.Field {
			case "bank":
				g.BankError = text(q.lang, "hh.grant_bad_bank")
			case "expire_time":
				g.UntilError = text(q.lang, "hh.grant_bad_until", term.First, term.Last)
			case "consent.purposes":
				g.PurposeError = text(q.lang, "hh.grant_bad_purpose")
			default:
				g.Error = text(q.lang, "hh.fault.other")
			}
		}
	default:
		msg, ok := c.reasonError(q.lang, err)
		if !ok {
			return err
		}
		g.Error = msg
	}
	return c.renderData(q, http.StatusBadRequest, hhDataView{Grant: g})
}

// hhReview asks for a human review of one of the household's decisions.
func (c *Console) hhReview(q *request) error {
	if _, err := q.household(); err != nil {
		return err
	}
	if err := q.authorise(access.ReviewRequest, q.own()); err != nil {
		return err
	}
	decision, reason := q.r.PostFormValue("decision"), q.r.PostFormValue("reason")
	if _, _, _, err := credit.ParseDecisionName(decision, "decision"); err != nil {
		return fault.New(fault.NotFound, "DECISION_NOT_FOUND", "no decision %q", decision)
	}
	if utf8.RuneCountInString(reason) > maxReviewReason {
		return c.renderData(q, http.StatusBadRequest, hhDataView{Decision: decision, Reason: reason,
			ReasonEr: text(q.lang, "hh.reason_long", maxReviewReason)})
	}
	if _, err := c.app.Lending.RequestReview(q.r.Context(), q.p, decision, reason); err != nil {
		msg, ok := c.reasonError(q.lang, err)
		if !ok {
			return err
		}
		return c.renderData(q, http.StatusBadRequest, hhDataView{Decision: decision, Reason: reason, ReasonEr: msg})
	}
	http.Redirect(q.w, q.r, Prefix+"me/data?done=review#decisions", http.StatusSeeOther)
	return nil
}

// maxReviewReason is RequestReviewRequest.reason's bound (its max_len),
// which the gRPC transport checks before the service.
const maxReviewReason = 2000

// decisionName is a decision's resource name, for the review form.
func decisionName(d *credit.Decision) string { return credit.DecisionName(d.Bank, d.Product, d.ID) }

func init() {
	funcs["hhdecision"] = decisionName
	funcs["hhmaxreview"] = func() int { return maxReviewReason }
}

// householdMessages are the household pages' texts, merged into messages.
var householdMessages = map[string][2]string{
	"hh.nav_card":                  {"成绩单", "Report card"},
	"hh.nav_notice":                {"公示与异议", "On notice"},
	"hh.nav_credit":                {"我的贷款", "My credit"},
	"hh.nav_data":                  {"我的数据", "My data"},
	"hh.notice_title":              {"公示中的事项", "Entries on notice"},
	"hh.notice_intro":              {"下面是正在公示的关于本户的事项。觉得不对的，可以在公示截止前提出异议，村里会复核。", "These entries about your household are on public notice. If one is wrong, object before the notice ends and the village will look at it again."},
	"hh.object":                    {"我有异议", "I object"},
	"hh.reason":                    {"异议理由（必填，最多500字）", "Why (required, at most 500 characters)"},
	"hh.objected":                  {"已提出异议，等待村里处理。", "Your objection is recorded; the village will look at it."},
	"hh.reason_required":           {"请写明理由。", "Please say why."},
	"hh.reason_long":               {"理由太长了，最多%d个字。", "That is too long: at most %d characters."},
	"hh.reason_idnum":              {"理由里不能写身份证号，请用姓名或门牌。", "Do not write an ID number (身份证号) in the reason; use a name or house number."},
	"hh.fault.ALREADY_DISPUTED":    {"这一项已经有异议，正在处理。", "An objection to this entry is already being looked at."},
	"hh.fault.NOT_ON_NOTICE":       {"这一项不在公示中，不能再提异议。", "This entry is not on notice; it can no longer be objected to."},
	"hh.fault.NOTICE_ENDED":        {"公示已经结束。请找村委会。", "The notice has ended; please ask the village committee."},
	"hh.fault.OBJECTION_HEARD":     {"这一项的异议已经处理过了。", "An objection to this entry was already heard."},
	"hh.fault.CONSENT_EXPIRED":     {"这项请求已经过期。", "This request has expired."},
	"hh.fault.CONSENT_NOT_PENDING": {"这项授权已经处理过了。", "This request has already been answered."},
	"hh.fault.NOT_AUTOMATED":       {"这个决定已经是银行工作人员作出的，请直接联系银行。", "A person at the bank already made this decision; please ask the bank directly."},
	"hh.fault.other":               {"现在不能办理，请刷新页面后再试。", "This cannot be done now; reload the page and try again."},
	"hh.none":                      {"暂无。", "None."},
	"hh.credit_title":              {"我的贷款", "My credit"},
	"hh.credit_intro":              {"银行根据本户的积分和情况给出的授信额度。", "The credit the banks give your household from its points and circumstances."},
	"hh.bank":                      {"银行", "Bank"},
	"hh.limit":                     {"授信额度（元）", "Limit (yuan)"},
	"hh.available":                 {"现在可用（元）", "Available now (yuan)"},
	"hh.rate":                      {"年利率（%）", "Yearly rate (%)"},
	"hh.status":                    {"状态", "Status"},
	"hh.valid_until":               {"有效期至", "Valid until"},
	"hh.grade":                     {"信用等级", "Credit grade"},
	"hh.why":                       {"为什么是这个结果", "Why"},
	"hh.improve":                   {"怎样可以更好", "How to do better"},
	"hh.needs_points":              {"还需要 %s 分，例如：", "%s more points, for example:"},
	"hh.each":                      {"每%s %s分", "%s points per %s"},
	"hh.no_lines":                  {"本户还没有贷款额度。", "Your household has no credit line yet."},
	"hh.not_eligible":              {"暂不符合条件", "Not eligible for now"},
	"hh.status.active":             {"可以用款", "Active"},
	"hh.status.frozen":             {"已冻结", "Frozen"},
	"hh.status.expired":            {"已过期", "Expired"},
	"hh.status.closed":             {"已关闭", "Closed"},
	"hh.data_title":                {"我的数据", "My data"},
	"hh.consents":                  {"授权银行查询", "Banks you let look at your data"},
	"hh.pending":                   {"银行请您确认", "Banks asking for your consent"},
	"hh.pending_intro":             {"银行柜台或纸质授权登记了下面的请求。是您本人签的，请点“同意”；不是的，请点“拒绝”。", "A bank recorded these requests from a counter or paper form. If you signed it, confirm; if not, refuse."},
	"hh.purposes":                  {"用途", "For"},
	"hh.expires":                   {"到期", "Ends"},
	"hh.channel":                   {"方式", "How given"},
	"hh.state":                     {"状态", "State"},
	"hh.confirm":                   {"同意", "Confirm"},
	"hh.refuse":                    {"拒绝", "Refuse"},
	"hh.revoke":                    {"撤回授权", "Withdraw"},
	"hh.live":                      {"有效", "In force"},
	"hh.not_live":                  {"无效", "Not in force"},
	"hh.purpose.assessment":        {"贷款审批", "deciding on a loan"},
	"hh.purpose.post_loan":         {"贷后管理", "managing a loan"},
	"hh.channel.app":               {"本人在网上", "by you online"},
	"hh.channel.counter":           {"银行柜台", "at a bank counter"},
	"hh.channel.paper":             {"纸质授权书", "on a paper form"},
	"hh.consent.pending":           {"等您确认", "Waiting for you"},
	"hh.consent.granted":           {"已同意", "Given"},
	"hh.consent.refused":           {"已拒绝", "Refused"},
	"hh.revoked":                   {"已撤回", "Withdrawn"},
	"hh.records":                   {"谁查看了我的数据", "Who looked at my data"},
	"hh.when":                      {"时间", "When"},
	"hh.what":                      {"做了什么", "What"},
	"hh.purpose":                   {"用途", "Why"},
	"hh.outcome":                   {"结果", "Outcome"},
	"hh.method.assess_credit":      {"评估授信", "assessed your credit"},
	"hh.method.get_credit_line":    {"查看贷款额度", "read your credit line"},
	"hh.method.list_credit_lines":  {"查看额度清单", "listed credit lines"},
	"hh.method.list_decisions":     {"查看授信决定", "read your credit decisions"},
	"hh.method.list_reviews":       {"查看复核申请", "read your review requests"},
	"hh.method.reassess_run":       {"定期重新评估", "re-assessed all households"},
	"hh.method.watch_credit_lines": {"接收额度变动", "received line changes"},
	"hh.method.webhook":            {"接收额度变动通知", "was notified of line changes"},
	"hh.outcome.allowed":           {"已查看", "looked"},
	"hh.outcome.denied":            {"被拒绝（没有授权）", "refused (no consent)"},
	"hh.decisions":                 {"授信决定与人工复核", "Decisions and human review"},
	"hh.decisions_intro":           {"对机器作出的决定不满意，可以请银行工作人员重新看一遍。", "If you disagree with a decision the system made, you can ask a person at the bank to look at it again."},
	"hh.decided_on":                {"决定日期", "Decided on"},
	"hh.review_reason":             {"请写明要复核什么（必填）", "What should be looked at again (required)"},
	"hh.request_review":            {"申请人工复核", "Ask for a human review"},
	"hh.review_asked":              {"已申请复核：", "Review asked:"},
	"hh.review.open":               {"处理中", "being handled"},
	"hh.review.upheld":             {"已复核，维持原决定", "reviewed: the decision stands"},
	"hh.review.overridden":         {"已复核，改变了决定", "reviewed: the decision was changed"},
	"hh.done.confirm":              {"已同意这项授权。", "You confirmed the consent."},
	"hh.done.refuse":               {"已拒绝这项授权。", "You refused the request."},
	"hh.done.revoke":               {"已撤回授权，银行不能再查看。", "You withdrew the consent; the bank may no longer look."},
	"hh.done.review":               {"已申请人工复核，银行会处理。", "Your review request is recorded; the bank will answer."},
	"hh.grant":                     {"授权一家银行查询", "Let a bank look at your data"},
	"hh.grant_intro":               {"授权后，这家银行可以按您选的用途查看本户的积分、家庭情况和贷款额度，直到到期日。您可以随时撤回。", "Once you consent, the bank may look at your household's points, circumstances and credit for the purposes you choose, until the end date. You can withdraw at any time."},
	"hh.grant_bank":                {"银行", "Bank"},
	"hh.grant_pick_bank":           {"请选择银行", "Choose a bank"},
	"hh.grant_purposes":            {"用途（可以都选）", "For (one or both)"},
	"hh.grant_until":               {"到期日期", "Ends on"},
	"hh.grant_until_hint":          {"最早%s，最晚%s（最长三年），格式如2027-01-31。", "From %s to %s (three years at most), written like 2027-01-31."},
	"hh.grant_submit":              {"同意授权", "Give consent"},
	"hh.grant_none":                {"现在还没有可以授权的银行。", "There is no bank to consent to yet."},
	"hh.grant_bad_bank":            {"请从列表里选择一家银行。", "Choose a bank from the list."},
	"hh.grant_bad_purpose":         {"请至少选择一个用途。", "Choose at least one purpose."},
	"hh.grant_bad_until":           {"到期日期请填%s到%s之间的日期，格式如2027-01-31。", "The end date is a date from %s to %s, written like 2027-01-31."},
	"hh.done.grant":                {"已授权，银行可以按您选的用途查看。", "Consent given: the bank may look for the purposes you chose."},
	"hh.amount":                    {"金额", "Amount"},
}
