package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// listingRows is what the rev_listing template reads: the language, the
// table's id and its rows (the 红榜 and the 黑榜 share it).
type listingRows struct {
	L    lang
	ID   string
	Rows any
}

func init() {
	funcs["listing"] = func(l lang, id string, rows any) listingRows { return listingRows{L: l, ID: id, Rows: rows} }
}

// reviewerRoutes registers the reviewer pages (see routes).
func (c *Console) reviewerRoutes() {
	c.page("GET "+Prefix+"villages/{village}/review", false, c.reviewQueue)
	c.page("POST "+Prefix+"villages/{village}/review/{household}/{evidence}", false, c.review)
	c.page("GET "+Prefix+"villages/{village}/objections", false, c.objections)
	c.page("POST "+Prefix+"villages/{village}/objections/{household}/{evidence}", false, c.resolve)
	c.page("GET "+Prefix+"villages/{village}/ranking", false, c.ranking)
}

// queueView is the review queue or the objections page. Errors sit next
// to the form of the entry they are about.
type queueView struct {
	*app.ReviewQueue
	// Done is the decision just made ("approve", "reject", "uphold",
	// "overturn"), shown once after the redirect.
	Done string
	// ErrorOf is the entry (evidence id) the errors are about; Reason the
	// reason entered, kept on a bad input.
	ErrorOf, Reason string
	// ReasonError sits next to the reason field, Error next to the
	// buttons (a decision the service refused).
	ReasonError, Error string
	// Stale is an error about an entry no longer listed (decided
	// meanwhile): shown above the list, as its form is gone.
	Stale string
	// Photos are the stored photos of the entries (their thumbnails shown).
	Photos map[string]bool
}

// reviewQueue lists the evidence awaiting review in the village.
func (c *Console) reviewQueue(q *request) error {
	village, err := villageOf(q)
	if err != nil {
		return err
	}
	// The page is where reviews are decided: only those who may decide
	// see it (ListEvidence's own grant is EvidenceRead).
	for _, a := range []access.Action{access.EvidenceRead, access.EvidenceReview} {
		if err := q.authorise(a, access.Target{Village: village}); err != nil {
			return err
		}
	}
	return c.renderQueue(q, village, "reviewer_queue", http.StatusOK, queueView{Done: doneOf(q, "approve", "reject")})
}

// doneOf is the ?done= decision when it is one of want.
func doneOf(q *request, want ...string) string {
	d := q.r.URL.Query().Get("done")
	for _, w := range want {
		if d == w {
			return d
		}
	}
	return ""
}

func (c *Console) renderQueue(q *request, village, page string, status int, v queueView) error {
	var err error
	if page == "reviewer_queue" {
		v.ReviewQueue, err = c.app.PendingReview(q.r.Context(), village)
	} else {
		v.ReviewQueue, err = c.app.Objections(q.r.Context(), village)
	}
	if err != nil {
		return err
	}
	ns := make([]app.Notice, len(v.Items))
	for i, it := range v.Items {
		ns[i] = it.Notice
	}
	if v.Photos, err = c.storedPhotos(q, ns); err != nil {
		return err
	}
	if v.ErrorOf != "" {
		listed := false
		for _, it := range v.Items {
			listed = listed || it.Evidence.ID == v.ErrorOf
		}
		if !listed {
			v.Stale = v.Error
			if v.Stale == "" {
				v.Stale = v.ReasonError
			}
		}
	}
	c.render(q, status, page, v)
	return nil
}

// decision reads the evidence a form is about and what was decided; yes
// and no are the two values the buttons send.
func decision(q *request, yes, no string) (name, id, choice, reason string) {
	village, hh, id := q.r.PathValue("village"), q.r.PathValue("household"), q.r.PathValue("evidence")
	name = resource.Household(village, hh) + "/evidence/" + id
	choice = q.r.PostFormValue("decision")
	if choice != yes && choice != no {
		choice = ""
	}
	return name, id, choice, strings.TrimSpace(q.r.PostFormValue("reason"))
}

// review approves or rejects one entry of the queue.
func (c *Console) review(q *request) error {
	village, err := villageOf(q)
	if err != nil {
		return err
	}
	hh := q.r.PathValue("household")
	if err := q.authorise(access.EvidenceReview, access.Target{Village: village, Household: hh}); err != nil {
		return err
	}
	name, id, choice, reason := decision(q, "approve", "reject")
	v := queueView{ErrorOf: id, Reason: reason}
	switch {
	case choice == "":
		v.Error = text(q.lang, "rev.decision_required")
	case choice == "reject" && reason == "":
		v.ReasonError = text(q.lang, "rev.reason_required")
	default:
		_, err := c.app.Evidence.Review(q.r.Context(), q.p, name, choice == "approve", reason)
		if err == nil {
			http.Redirect(q.w, q.r, Prefix+"villages/"+village+"/review?done="+choice, http.StatusSeeOther)
			return nil
		}
		if !c.refusal(q, err, &v) {
			return err
		}
	}
	return c.renderQueue(q, village, "reviewer_queue", http.StatusBadRequest, v)
}

// refusal puts a refusal the person can act on next to the form: a bad
// reason next to the field, a refused decision next to the buttons. It
// reports false for any other error.
func (c *Console) refusal(q *request, err error, v *queueView) bool {
	var f *fault.Error
	if !errors.As(err, &f) {
		return false
	}
	switch f.Kind {
	case fault.Invalid:
		for _, fv := range f.Violations {
			msg := fv.Description
			if q.lang == zh && fv.ZH != "" {
				msg = fv.ZH
			}
			if fv.Field == "reason" {
				if fv.Description == "is required" {
					msg = text(q.lang, "rev.reason_required")
				}
				v.ReasonError = msg
			} else {
				v.Error = msg
			}
		}
		return true
	case fault.FailedPrecondition:
		v.Error = text(q.lang, "rev.refused")
		if key, ok := refusals[f.Reason]; ok {
			v.Error = text(q.lang, key)
		}
		return true
	case fault.NotFound:
		v.Error = text(q.lang, "rev.gone")
		return true
	}
	return false
}

// objections lists the disputed evidence of the village.
func (c *Console) objections(q *request) error {
	village, err := villageOf(q)
	if err != nil {
		return err
	}
	for _, a := range []access.Action{access.EvidenceRead, access.EvidenceResolve} {
		if err := q.authorise(a, access.Target{Village: village}); err != nil {
			return err
		}
	}
	return c.renderQueue(q, village, "reviewer_objections", http.StatusOK, queueView{Done: doneOf(q, "uphold", "overturn")})
}

// resolve upholds or overturns the evidence objected to.
func (c *Console) resolve(q *request) error {
	village, err := villageOf(q)
	if err != nil {
		return err
	}
	hh := q.r.PathValue("household")
	if err := q.authorise(access.EvidenceResolve, access.Target{Village: village, Household: hh}); err != nil {
		return err
	}
	name, id, choice, reason := decision(q, "uphold", "overturn")
	v := queueView{ErrorOf: id, Reason: reason}
	switch {
	case choice == "":
		v.Error = text(q.lang, "rev.decision_required")
	case reason == "":
		v.ReasonError = text(q.lang, "rev.reason_required")
	default:
		_, err := c.app.Evidence.Resolve(q.r.Context(), q.p, name, choice == "uphold", reason)
		if err == nil {
			http.Redirect(q.w, q.r, Prefix+"villages/"+village+"/objections?done="+choice, http.StatusSeeOther)
			return nil
		}
		if !c.refusal(q, err, &v) {
			return err
		}
	}
	return c.renderQueue(q, village, "reviewer_objections", http.StatusBadRequest, v)
}

// rankingView is the quarterly ranking page.
type rankingView struct {
	Village      string
	Quarter      string
	QuarterError string
	*app.RankingView
}

// ranking is the village's quarterly ranking and 红黑榜, printable.
func (c *Console) ranking(q *request) error {
	village, err := villageOf(q)
	if err != nil {
		return err
	}
	if err := q.authorise(access.RankingRead, access.Target{Village: village}); err != nil {
		return err
	}
	if err := c.app.Evidence.CheckVillager(q.r.Context(), q.p, village); err != nil {
		return err
	}
	quarter := strings.ToUpper(strings.TrimSpace(q.r.URL.Query().Get("quarter")))
	if quarter == "" {
		quarter = quarterOf(c.app.Evidence.Today())
	}
	v := rankingView{Village: village, Quarter: quarter}
	v.RankingView, err = c.app.VillageRanking(q.r.Context(), village, quarter)
	if fault.Is(err, fault.Invalid) {
		v.QuarterError = text(q.lang, "rev.quarter_bad")
		c.render(q, http.StatusBadRequest, "reviewer_ranking", v)
		return nil
	}
	if err != nil {
		return err
	}
	c.render(q, http.StatusOK, "reviewer_ranking", v)
	return nil
}

// quarterOf is the quarter day falls in ("2026Q4").
func quarterOf(day household.Date) string {
	t := day.Time()
	return t.Format("2006") + "Q" + string(rune('1'+(int(t.Month())-1)/3))
}

// refusals maps the evidence service's reasons for refusing a decision to
// what the page says.
var refusals = map[string]string{
	"SELF_REVIEW":           "rev.self_review",
	"SELF_RESOLVE":          "rev.self_resolve",
	"NOT_PENDING_REVIEW":    "rev.not_pending",
	"NOT_DISPUTED":          "rev.not_disputed",
	"ITEM_WITHDRAWN":        "rev.item_withdrawn",
	"RECOMMENDATION_EXISTS": "rev.recommendation_exists",
}

// reviewerMessages are the reviewer pages' texts, merged into messages.
var reviewerMessages = map[string][2]string{
	"rev.nav_queue":             {"待审核", "To review"},
	"rev.nav_objections":        {"异议处理", "Objections"},
	"rev.nav_ranking":           {"季度排名和红黑榜", "Quarterly ranking and red/black lists"},
	"rev.queue_title":           {"待审核的记录", "Evidence to review"},
	"rev.queue_intro":           {"请核对每条记录的事项、数量、证明人和照片，再决定通过或退回。退回时请写明理由；自己登记的记录须由另一位评议员审核。", "Check each entry's item, quantity, witness and photos, then approve it or send it back. Give a reason when you send one back; an entry you recorded yourself must be reviewed by someone else."},
	"rev.queue_empty":           {"目前没有待审核的记录。", "Nothing is waiting for review."},
	"rev.household":             {"户主", "Head of household"},
	"rev.group":                 {"组", "Group"},
	"rev.address":               {"门牌", "House number"},
	"rev.group_n":               {"%d组", "group %d"},
	"rev.item":                  {"事项", "Item"},
	"rev.quantity":              {"数量", "Quantity"},
	"rev.points":                {"积分", "Points"},
	"rev.occurred":              {"发生日期", "Date"},
	"rev.witness":               {"证明人", "Witness"},
	"rev.note":                  {"备注", "Note"},
	"rev.attachments":           {"照片和材料", "Photos and documents"},
	"rev.attachments_n":         {"已附%d份", "%d attached"},
	"rev.attachments_none":      {"未附", "None"},
	"rev.none":                  {"无", "None"},
	"rev.reason":                {"理由（退回时必填）", "Reason (required to send back)"},
	"rev.reason_resolve":        {"处理理由（必填）", "Reason for the decision (required)"},
	"rev.approve":               {"通过", "Approve"},
	"rev.reject":                {"退回", "Send back"},
	"rev.uphold":                {"维持（异议不成立）", "Uphold (the objection fails)"},
	"rev.overturn":              {"撤销（异议成立）", "Overturn (the objection stands)"},
	"rev.done_approve":          {"已通过，进入公示。", "Approved: it is now on public notice."},
	"rev.done_reject":           {"已退回。", "Sent back."},
	"rev.done_uphold":           {"已维持，积分从公示期满起计算。", "Upheld: the points count from the end of the notice."},
	"rev.done_overturn":         {"已撤销。", "Overturned."},
	"rev.decision_required":     {"请选择通过或退回。", "Choose whether to approve or send it back."},
	"rev.reason_required":       {"请写明理由。", "Please give a reason."},
	"rev.self_review":           {"这条记录是您登记的，须由另一位评议员审核。", "You recorded this entry: another reviewer must review it."},
	"rev.self_resolve":          {"这条记录是您登记的或异议是您提出的，须由另一位评议员处理。", "You recorded this entry or raised the objection: another reviewer must decide it."},
	"rev.not_pending":           {"这条记录已经审核过了，请刷新页面。", "This entry has already been reviewed; reload the page."},
	"rev.not_disputed":          {"这条异议已经处理过了，请刷新页面。", "This objection has already been decided; reload the page."},
	"rev.item_withdrawn":        {"这个事项已不在本村现行的积分目录里，只能退回（或撤销）。", "This item is no longer in the village's catalogue: send it back (or overturn it) instead."},
	"rev.recommendation_exists": {"这户本期已有信用推荐，请先撤销原来的推荐。", "The household already holds a recommendation for this period; revoke that one first."},
	"rev.refused":               {"这个操作没有完成，请刷新页面后再试。", "That could not be done; reload the page and try again."},
	"rev.gone":                  {"这条记录不存在了，请刷新页面。", "This entry no longer exists; reload the page."},
	"rev.obj_title":             {"异议处理", "Objections"},
	"rev.obj_intro":             {"以下记录在公示期间有人提出异议，积分暂不计算。请核实后维持或撤销，并写明理由。", "Someone objected to these entries while they were on notice; their points do not count for now. Look into each, then uphold or overturn it, with a reason."},
	"rev.obj_empty":             {"目前没有待处理的异议。", "No objection is waiting."},
	"rev.objector":              {"提出人", "Objected by"},
	"rev.objector_staff":        {"%s（村干部代为登记）", "%s (recorded by village staff)"},
	"rev.objector_unknown":      {"未知", "Unknown"},
	"rev.obj_reason":            {"异议理由", "Objection"},
	"rev.objected_on":           {"提出日期", "Objected on"},
	"rev.rank_title":            {"季度积分排名", "Quarterly points ranking"},
	"rev.quarter":               {"季度（如2026Q4）", "Quarter (e.g. 2026Q4)"},
	"rev.show":                  {"查看", "Show"},
	"rev.quarter_bad":           {"请按“2026Q4”的格式填写一个已经开始的季度。", "Enter a quarter that has started, written like 2026Q4."},
	"rev.period":                {"统计期间", "Period"},
	"rev.final":                 {"最终结果", "Final"},
	"rev.provisional":           {"季度未结束，结果为暂定", "The quarter is not over: provisional"},
	"rev.rank":                  {"名次", "Rank"},
	"rev.rank_empty":            {"本季度还没有生效的积分。", "No points took effect in this quarter yet."},
	"rev.red_title":             {"红榜", "Red list"},
	"rev.black_title":           {"黑榜", "Black list"},
	"rev.list_empty":            {"暂无。", "None."},
	"rev.valid_until":           {"有效期至", "Valid until"},
	"rev.on_notice":             {"公示中", "On notice"},
	"rev.print":                 {"打印（A4）", "Print (A4)"},
	"rev.today":                 {"日期", "Date"},
}
