package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/simrun"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/rules"
	"github.com/sanzhi/sanzhi/scoring/simulate"
)

// The bank risk manager's pages: the bank's policy versions, an upload
// with its problems beside their lines, a version with its diff against
// the active one and its approval and activation, a simulation with its
// charts, and the webhook with its secret shown once and its dead letters.
// Every rule (who may approve, what may be activated, what a simulation
// may show) is the domain's or app's; these pages ask and translate.

// MaxPolicyUpload bounds an upload's body: the document pasted and the
// same as a file, each at most rules.MaxDocumentBytes, and the form.
const MaxPolicyUpload = 2*rules.MaxDocumentBytes + 64<<10

func (c *Console) policiesRoutes() {
	b := Prefix + "banks/{bank}/"
	c.page("GET "+b+"policies", false, c.policies)
	c.page("GET "+b+"policies/upload", false, c.policyUploadForm)
	c.upload("POST "+b+"policies/upload", MaxPolicyUpload, c.policyUpload, c.policyUploadRefused)
	v := b + "policies/{product}/{version}"
	c.page("GET "+v, false, c.policy)
	c.page("POST "+v+"/approve", false, c.policyStep(access.PolicyApprove))
	c.page("POST "+v+"/activate", false, c.policyStep(access.PolicyActivate))
	c.page("POST "+v+"/simulate", false, c.policySimulate)
	c.page("POST "+v+"/gate", false, c.policyGate)
	c.page("GET "+b+"webhook", false, c.webhook)
	c.page("POST "+b+"webhook", false, c.webhookSet)
	c.page("POST "+b+"webhook/dead-letters/{seq}/replay", false, c.webhookReplay)
	c.challengerRoutes()
}

// riskBank reads the bank and asks for each of actions on it. Every
// policy page asks for reading and uploading its bank's policies: these
// are the risk manager's pages (an officer reads policies through the
// API, and his own pages show the decisions).
func riskBank(q *request, actions ...access.Action) (string, error) {
	return bankOf(q, append([]access.Action{access.PolicyRead, access.PolicyUpload}, actions...)...)
}

// policyName reads the version the page is about.
func policyName(q *request, bank string) (string, error) {
	name := policies.ProductName(bank, q.r.PathValue("product")) + "/policies/" + q.r.PathValue("version")
	if _, _, _, err := policies.ParseName(name, "name", false); err != nil {
		return "", fault.New(fault.NotFound, "POLICY_NOT_FOUND", "no policy %q", name)
	}
	return name, nil
}

// policiesView is the list page.
type policiesView struct {
	*app.BankPolicies
	Done string // the message of what was just done
	// Challengers are the products' current challengers (bank_challenger.go);
	// Refused words a refused start or stop.
	Challengers map[string]*policies.ChallengerView
	Refused     string
}

func (c *Console) policies(q *request) error {
	bank, err := riskBank(q)
	if err != nil {
		return err
	}
	v := policiesView{}
	switch d := q.r.URL.Query().Get("done"); d {
	case "challenger_started", "challenger_stopped":
		v.Done = text(q.lang, "pol.done_"+d)
	}
	return c.renderPolicies(q, bank, http.StatusOK, v)
}

// renderPolicies renders the list page of bank with status.
func (c *Console) renderPolicies(q *request, bank string, status int, v policiesView) error {
	bp, err := c.app.BankPolicies(q.r.Context(), bank)
	if err != nil {
		return err
	}
	v.BankPolicies = bp
	products := make([]string, len(bp.Products))
	for i, p := range bp.Products {
		products[i] = p.Product
	}
	if v.Challengers, err = c.challengers(q, bank, products); err != nil {
		return err
	}
	c.render(q, status, "bank_policies", v)
	return nil
}

// uploadView is the upload page: the form, and after a refused document
// its problems beside its lines.
type uploadView struct {
	Bank     string
	Document string
	DocError string
	Result   *app.PolicyUpload
	LimitKB  int
}

func (c *Console) policyUploadForm(q *request) error {
	bank, err := riskBank(q)
	if err != nil {
		return err
	}
	c.render(q, http.StatusOK, "bank_policy_upload", uploadView{Bank: bank, LimitKB: rules.MaxDocumentBytes >> 10})
	return nil
}

// policyUploadRefused answers a body that could not be read as a form (too
// big, not multipart): nothing of it was read and nothing is written.
func (c *Console) policyUploadRefused(q *request, err error) error {
	bank, aerr := riskBank(q)
	if aerr != nil {
		return aerr
	}
	v := uploadView{Bank: bank, LimitKB: rules.MaxDocumentBytes >> 10, DocError: text(q.lang, "pol.not_a_form")}
	status := http.StatusBadRequest
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		v.DocError, status = text(q.lang, "pol.too_big", rules.MaxDocumentBytes>>10), http.StatusRequestEntityTooLarge
	}
	c.render(q, status, "bank_policy_upload", v)
	return nil
}

// policyUpload stores a valid document as a draft, or shows the page
// again with every problem beside its line; nothing is written then.
func (c *Console) policyUpload(q *request) error {
	bank, err := riskBank(q)
	if err != nil {
		return err
	}
	v := uploadView{Bank: bank, LimitKB: rules.MaxDocumentBytes >> 10, Document: q.r.PostFormValue("document")}
	// A file, when one is chosen, is the document; the text box otherwise.
	file, err := uploaded(q.r, "file", rules.MaxDocumentBytes)
	if err != nil {
		return err
	}
	if len(file) > 0 {
		v.Document = string(file)
	}
	if strings.TrimSpace(v.Document) == "" {
		v.DocError = text(q.lang, "pol.no_document")
		c.render(q, http.StatusBadRequest, "bank_policy_upload", v)
		return nil
	}
	res, err := c.app.UploadPolicy(q.r.Context(), q.p, bank, []byte(v.Document))
	var f *fault.Error
	switch {
	case err == nil && res.Version == nil:
		v.Result, v.DocError = res, text(q.lang, "pol.has_problems", len(res.Problems))
		c.render(q, http.StatusUnprocessableEntity, "bank_policy_upload", v)
		return nil
	case err == nil:
		http.Redirect(q.w, q.r, versionPath(res.Version)+"?done=uploaded", http.StatusSeeOther)
		return nil
	case errors.As(err, &f) && f.Reason == "POLICY_VERSION_EXISTS":
		v.DocError = text(q.lang, "pol.version_exists")
	case errors.As(err, &f) && f.Kind == fault.Invalid && len(f.Violations) > 0 && f.Violations[0].Field == "parent":
		v.DocError = text(q.lang, "pol.other_bank", bank)
	case errors.As(err, &f) && f.Kind == fault.Invalid:
		v.DocError = text(q.lang, "pol.invalid") + " " + f.Message
	default:
		return err
	}
	c.render(q, http.StatusUnprocessableEntity, "bank_policy_upload", v)
	return nil
}

func versionPath(v *policies.Version) string {
	return Prefix + "banks/" + v.Bank + "/policies/" + v.Product + "/" + strconv.Itoa(v.Version)
}

// policyView is a version's page: its text, its diff against the active
// version, and its steps; an error sits beside the button it answers.
type policyView struct {
	*app.PolicyDetail
	Path        string
	Done        string
	ApproveErr  string
	ActivateErr string
	SimErr      string
	GateErr     string
	CanApprove  bool
	CanActivate bool
	// Justification is the text the activation form sent back after a
	// refusal, kept in its box.
	Justification string
	// NeedsJustification: the gate failed, so the activation form asks
	// for the second person's written reason.
	NeedsJustification bool
	// GateChecks are the latest gate report's checks in the page's
	// language.
	GateChecks []gateCheckRow
}

// gateCheckRow is one check of the gate report as the page shows it.
type gateCheckRow struct {
	ID, Mark, Message string
	Passed            bool
	Applicable        bool
}

func (c *Console) policyPage(q *request, status int, v policyView) error {
	bank, err := riskBank(q)
	if err != nil {
		return err
	}
	name, err := policyName(q, bank)
	if err != nil {
		return err
	}
	d, err := c.app.PolicyDetail(q.r.Context(), name)
	if err != nil {
		return err
	}
	v.PolicyDetail, v.Path = d, versionPath(d.Version)
	// Only the buttons' emphasis: both are always there, and the service
	// decides when one is pressed (its refusal is shown beside it).
	v.CanApprove = d.State == policies.Draft
	v.CanActivate = d.State == policies.Approved
	if g := d.Gate; g != nil {
		v.NeedsJustification = !g.Passed && !d.GateStale && v.CanActivate
		for _, ch := range g.Checks {
			row := gateCheckRow{ID: ch.ID, Passed: ch.Passed, Applicable: ch.Applicable, Message: ch.ZH, Mark: text(q.lang, "pol.gate_pass")}
			if q.lang == en {
				row.Message = ch.EN
			}
			switch {
			case !ch.Applicable:
				row.Mark = text(q.lang, "pol.gate_na")
			case !ch.Passed:
				row.Mark = text(q.lang, "pol.gate_fail")
			}
			v.GateChecks = append(v.GateChecks, row)
		}
	}
	c.render(q, status, "bank_policy", v)
	return nil
}

func (c *Console) policy(q *request) error {
	v := policyView{}
	switch q.r.URL.Query().Get("done") {
	case "uploaded", "approved", "activated", "gate":
		v.Done = text(q.lang, "pol.done_"+q.r.URL.Query().Get("done"))
	}
	return c.policyPage(q, http.StatusOK, v)
}

// policyStep approves or activates the version; a refusal (the uploader
// approving, a draft activated) is shown beside its button in words.
func (c *Console) policyStep(action access.Action) handler {
	return func(q *request) error {
		bank, err := riskBank(q, action)
		if err != nil {
			return err
		}
		name, err := policyName(q, bank)
		if err != nil {
			return err
		}
		ctx := q.r.Context()
		var ver *policies.Version
		justification := q.r.PostFormValue("gate_justification")
		if action == access.PolicyApprove {
			ver, err = c.app.Policies.Approve(ctx, q.p, name)
		} else {
			ver, err = c.app.Policies.ActivateWith(ctx, q.p, policies.ActivateRequest{Name: name, GateJustification: justification})
		}
		if err == nil {
			done := map[access.Action]string{access.PolicyApprove: "approved", access.PolicyActivate: "activated"}[action]
			http.Redirect(q.w, q.r, versionPath(ver)+"?done="+done, http.StatusSeeOther)
			return nil
		}
		msg, ok := refusal(q.lang, err)
		var f *fault.Error
		if errors.As(err, &f) && f.Kind == fault.Invalid && len(f.Violations) > 0 && f.Violations[0].Field == "gate_justification" {
			msg = text(q.lang, "pol.gate_justification_bad", policies.MinJustification, policies.MaxJustification)
		}
		if !ok {
			return err
		}
		v := policyView{Justification: justification}
		if action == access.PolicyApprove {
			v.ApproveErr = msg
		} else {
			v.ActivateErr = msg
		}
		return c.policyPage(q, http.StatusConflict, v)
	}
}

// policyGate evaluates the version's activation gate and shows the page
// with the report; a refusal (another simulation running, a version that
// is no candidate) is shown beside the button.
func (c *Console) policyGate(q *request) error {
	bank, err := riskBank(q, access.PolicyGateEvaluate)
	if err != nil {
		return err
	}
	name, err := policyName(q, bank)
	if err != nil {
		return err
	}
	if _, err := c.app.Simulator.EvaluateGate(q.r.Context(), q.p, name); err != nil {
		msg, ok := refusal(q.lang, err)
		if !ok {
			return err
		}
		return c.policyPage(q, http.StatusConflict, policyView{GateErr: msg})
	}
	http.Redirect(q.w, q.r, Prefix+"banks/"+bank+"/policies/"+q.r.PathValue("product")+"/"+q.r.PathValue("version")+"?done=gate#gate",
		http.StatusSeeOther)
	return nil
}

// refusal words a lifecycle or simulation refusal by its reason; ok is
// false for an error that is not a refusal (it goes to fail).
func refusal(l lang, err error) (string, bool) {
	var f *fault.Error
	if !errors.As(err, &f) || (f.Kind != fault.FailedPrecondition && f.Kind != fault.Invalid) {
		return "", false
	}
	key := "pol.refused_" + strings.ToLower(f.Reason)
	if _, ok := messages[key]; ok {
		return text(l, key), true
	}
	return text(l, "pol.refused") + " " + f.Message, true
}

// simView is the simulation report page.
type simView struct {
	*app.PolicySimulation
	Path                      string
	Grades, Limits, Approvals chart
	HasBase                   bool
	Households                int
	EligibleBase, EligibleNew int
	ExposureBase, ExposureNew string
	DeclinedBase, DeclinedNew int
	Gained, Lost              int
	Version                   int
	Product                   string
	// Fairness is the report's fairness tables, rendered rows (the
	// report is already cut for the caller's view: small groups pooled).
	Fairness  []fairTable
	FairHead  []string
	FairTitle string
}

// fairTable is one fairness dimension's rows on the simulation page.
type fairTable struct {
	Title string
	Rows  []fairRow
}

type fairRow struct {
	Cells   []string
	Flagged bool
}

func (c *Console) policySimulate(q *request) error {
	bank, err := riskBank(q, access.PolicySimulate)
	if err != nil {
		return err
	}
	name, err := policyName(q, bank)
	if err != nil {
		return err
	}
	sim, err := c.app.SimulatePolicy(q.r.Context(), q.p, name, q.lang == en)
	if err != nil {
		msg, ok := refusal(q.lang, err)
		var f *fault.Error
		if errors.As(err, &f) && f.Reason == simrun.ReasonRunning {
			msg, ok = text(q.lang, "pol.refused_simulation_running"), true
		}
		if !ok {
			return err
		}
		return c.policyPage(q, http.StatusConflict, policyView{SimErr: msg})
	}
	r := sim.Report
	hasBase := r.Base != nil
	v := simView{PolicySimulation: sim, HasBase: hasBase, Households: r.Households,
		EligibleBase: r.EligibleBase, EligibleNew: r.EligibleNew,
		DeclinedBase: r.Households - r.EligibleBase, DeclinedNew: r.Households - r.EligibleNew,
		ExposureBase: simulate.Yuan(r.ExposureBase), ExposureNew: simulate.Yuan(r.ExposureNew),
		Gained: r.Gained.Count, Lost: r.Lost.Count, Version: r.New.Version, Product: r.New.Product}
	v.Path = Prefix + "banks/" + bank + "/policies/" + r.New.Product + "/" + strconv.Itoa(r.New.Version)
	v.Grades = newChart(q.lang, "grades", sim.Grades, hasBase)
	v.Limits = newChart(q.lang, "limits", sim.Limits, hasBase)
	v.Approvals = newChart(q.lang, "approvals", []app.ChartBar{
		{Label: text(q.lang, "pol.sim_eligible"), Base: r.EligibleBase, New: r.EligibleNew},
		{Label: text(q.lang, "pol.sim_declined"), Base: v.DeclinedBase, New: v.DeclinedNew},
	}, hasBase)
	isEn := q.lang == en
	v.FairHead = simulate.FairnessHead(isEn)
	v.FairTitle = fmt.Sprintf(text(q.lang, "pol.sim_fairness"), r.Fairness.AdverseImpact, r.Fairness.MinGroup)
	for _, d := range r.Fairness.Dimensions {
		ft := fairTable{Title: simulate.DimensionLabel(d.Name, isEn)}
		for _, g := range d.Groups {
			ft.Rows = append(ft.Rows, fairRow{Cells: simulate.FairnessCells(g, isEn), Flagged: g.Flagged})
		}
		v.Fairness = append(v.Fairness, ft)
	}
	c.render(q, http.StatusOK, "bank_policy_sim", v)
	return nil
}

// chartFor is a chart with the page's language, for the pol-chart template.
type chartFor struct {
	Lang  lang
	Chart chart
}

// lineFor is a document line with the page's language (pol-line).
type lineFor struct {
	Lang lang
	Line app.DocLine
}

func init() {
	funcs["polLine"] = func(l lang, d app.DocLine) lineFor { return lineFor{Lang: l, Line: d} }
	funcs["polChart"] = func(l lang, c chart) chartFor { return chartFor{Lang: l, Chart: c} }
	funcs["gateMsg"] = func(l lang, c policies.GateCheck) string {
		if l == en {
			return c.EN
		}
		return c.ZH
	}
	funcs["polDelta"] = func(base, cur int) string {
		if d := cur - base; d > 0 {
			return "+" + strconv.Itoa(d)
		}
		return strconv.Itoa(cur - base)
	}
	addMessages(policyMessages)
}

// policyMessages are the risk manager's pages' texts.
var policyMessages = map[string][2]string{
	"pol.title":                            {"授信政策版本", "Credit policy versions"},
	"pol.intro":                            {"上传新版本后，须由另一位风险经理批准，批准后才能启用。启用的新版本替换原来的版本，原版本保留为「已替换」。", "A new version must be approved by a second risk manager before it can be activated. Activating it replaces the active version, which is kept as superseded."},
	"pol.upload_link":                      {"上传新版本", "Upload a new version"},
	"pol.none":                             {"本行还没有上传过授信政策。", "This bank has not uploaded a credit policy yet."},
	"pol.product":                          {"产品", "Product"},
	"pol.version":                          {"版本", "Version"},
	"pol.state":                            {"状态", "State"},
	"pol.state_draft":                      {"已上传，待批准", "Uploaded, awaiting approval"},
	"pol.state_approved":                   {"已批准，待启用", "Approved, not yet active"},
	"pol.state_active":                     {"使用中", "Active"},
	"pol.state_superseded":                 {"已替换", "Superseded"},
	"pol.effective":                        {"生效日期", "Effective from"},
	"pol.uploaded_by":                      {"上传人", "Uploaded by"},
	"pol.approved_by":                      {"批准人", "Approved by"},
	"pol.activated_by":                     {"启用人", "Activated by"},
	"pol.when":                             {"时间", "When"},
	"pol.more":                             {"只列出最新的50个版本。", "Only the newest 50 versions are listed."},
	"pol.open":                             {"查看", "Open"},
	"pol.upload_title":                     {"上传授信政策", "Upload a credit policy"},
	"pol.upload_intro":                     {"粘贴政策文件（YAML）或选择文件。上传前会逐行检查；有问题的文件不会保存，问题标在对应的行旁边。", "Paste the policy document (YAML) or choose the file. Every line is checked first; a document with problems is not saved, and each problem is shown beside its line."},
	"pol.document":                         {"政策文件（YAML）", "Policy document (YAML)"},
	"pol.file":                             {"或选择文件（最大 %d KB；选了文件就以文件为准）", "Or choose a file (at most %d KB; a chosen file is used instead of the text)"},
	"pol.submit":                           {"检查并上传", "Check and upload"},
	"pol.not_a_form":                       {"没有收到文件，请重新粘贴或选择文件上传。", "Nothing arrived; paste the document or choose the file again."},
	"pol.too_big":                          {"文件太大，最大 %d KB。", "The document is too big: at most %d KB."},
	"pol.no_document":                      {"请粘贴政策文件，或选择一个文件。", "Paste the policy document or choose a file."},
	"pol.has_problems":                     {"文件有 %d 处问题，没有保存。请按行号修改后重新上传。", "The document has %d problems and was not saved. Correct the lines shown and upload it again."},
	"pol.version_exists":                   {"这个版本号已有内容不同的文件。已上传的版本不能修改，请把文件里的 version 改成更大的版本号。", "This version number is taken by a different document. An uploaded version never changes: give the document a higher version."},
	"pol.other_bank":                       {"这份文件写的是别的银行（bank 一项），这里只能上传本行（%s）的政策。", "The document names another bank (its bank field); only this bank's (%s) policies are uploaded here."},
	"pol.invalid":                          {"文件无法上传：", "The document cannot be uploaded:"},
	"pol.problems":                         {"发现的问题", "Problems found"},
	"pol.line":                             {"行", "Line"},
	"pol.column":                           {"列", "Column"},
	"pol.field":                            {"字段", "Field"},
	"pol.problem":                          {"问题", "Problem"},
	"pol.line_n":                           {"第 %d 行", "line %d"},
	"pol.whole":                            {"整份文件（带行号）", "The whole document, numbered"},
	"pol.unplaced":                         {"整份文件的问题", "Problems with the whole document"},
	"pol.numbered":                         {"文件（带行号，问题标在行旁）", "The document, numbered, with each problem beside its line"},
	"pol.problem_mark":                     {"问题", "Problem"},
	"pol.version_title":                    {"%s 第 %d 版", "%s version %d"},
	"pol.done_uploaded":                    {"已上传。请另一位风险经理批准。", "Uploaded. A second risk manager must approve it."},
	"pol.done_approved":                    {"已批准，现在可以启用。", "Approved; it may now be activated."},
	"pol.done_activated":                   {"已启用，新的评估都按这一版进行。", "Activated: new assessments use this version."},
	"pol.steps":                            {"审批与启用", "Approval and activation"},
	"pol.approve":                          {"批准这一版", "Approve this version"},
	"pol.activate":                         {"启用这一版", "Activate this version"},
	"pol.approve_hint":                     {"批准须由上传人以外的风险经理进行。", "A risk manager other than the uploader approves."},
	"pol.simulate":                         {"模拟测算", "Run a simulation"},
	"pol.simulate_hint":                    {"用全辖农户数据测算这一版的效果（只出汇总数，不写任何数据），并与使用中的版本对比。", "Run this version over the whole population (aggregates only; nothing is written) and compare it with the active version."},
	"pol.diff":                             {"与使用中的第 %d 版相比的改动", "Changes against the active version %d"},
	"pol.diff_none":                        {"还没有使用中的版本，下面是完整文件。", "No version is active yet; the whole document is below."},
	"pol.diff_self":                        {"这就是使用中的版本。", "This is the active version."},
	"pol.diff_same":                        {"与使用中的版本内容相同。", "The same text as the active version."},
	"pol.diff_legend":                      {"「+」行是新增的，「−」行是删除的，其余是上下文。", "Lines marked + are added, lines marked − removed; the others are context."},
	"pol.diff_added":                       {"新增", "added"},
	"pol.diff_removed":                     {"删除", "removed"},
	"pol.diff_old":                         {"原行号", "Old line"},
	"pol.diff_new":                         {"新行号", "New line"},
	"pol.diff_text":                        {"内容", "Text"},
	"pol.document_title":                   {"政策文件", "The document"},
	"pol.content_hash":                     {"内容指纹（SHA-256）", "Content hash (SHA-256)"},
	"pol.refused":                          {"操作被拒绝：", "Refused:"},
	"pol.refused_maker_checker":            {"这一版是您上传的，须由另一位风险经理批准（四眼原则）。", "You uploaded this version: a second risk manager must approve it (four eyes)."},
	"pol.refused_policy_not_approved":      {"这一版还没有批准，批准后才能启用。", "This version has not been approved; it can be activated only once approved."},
	"pol.refused_policy_not_draft":         {"只有待批准的版本才能批准，这一版已启用或已替换。", "Only a version awaiting approval is approved; this one is active or superseded."},
	"pol.refused_policy_superseded":        {"这一版已被替换，不能再启用。要恢复，请把它的内容作为新版本上传。", "This version was superseded and cannot be activated again; to return to it, upload its content as a new version."},
	"pol.refused_policy_older_than_active": {"这一版比使用中的版本旧，不能启用。", "This version is older than the active one and cannot be activated."},
	"pol.refused_gate_failed":              {"这一版没有通过启用门槛（见上方报告）。须由上传人以外的风险经理写明理由后才能启用，理由记入审计日志。", "This version failed its activation gate (see the report above). A risk manager other than the uploader may activate it with a written justification, which goes into the audit log."},
	"pol.refused_gate_needs_second_person": {"这一版没有通过启用门槛，且是您上传的：须由另一位风险经理写明理由后启用。", "This version failed its activation gate and you uploaded it: another risk manager must activate it with a written justification."},
	"pol.refused_gate_not_evaluated":       {"评估启用门槛期间使用中的版本变了，请再启用一次。", "The active version changed while the gate was evaluated; activate again."},
	"pol.refused_policy_not_candidate":     {"只有待批准或待启用的版本才评估启用门槛。", "Only a draft or approved version has its activation gate evaluated."},
	"pol.gate_justification_bad":           {"理由须为 %d 到 %d 个字。", "The justification must be %d to %d characters long."},
	"pol.gate":                             {"启用门槛", "Activation gate"},
	"pol.gate_hint":                        {"启用前，用全辖农户数据把这一版与使用中的版本对比：评分稳定性（PSI）、各组不利影响比、失去授信户占比，门槛值见政策文件的 gate 部分。启用时若还没有报告，会自动评估。", "Before activation the version is run over the whole population against the active one: score stability (PSI), adverse-impact ratios, the share of households losing a line, held to the thresholds in the document's gate section. Activating a version without a report evaluates one first."},
	"pol.gate_none":                        {"还没有评估过。", "Not evaluated yet."},
	"pol.gate_evaluate":                    {"评估启用门槛", "Evaluate the activation gate"},
	"pol.gate_passed":                      {"通过", "Passed"},
	"pol.gate_failed":                      {"未通过", "Failed"},
	"pol.gate_pass":                        {"通过", "pass"},
	"pol.gate_fail":                        {"未通过", "FAIL"},
	"pol.gate_na":                          {"不适用", "n/a"},
	"pol.gate_report":                      {"第 %d 次评估，数据日 %s，%d 户", "Report %d, as of %s, %d households"},
	"pol.gate_against":                     {"对照使用中的第 %d 版", "against the active version %d"},
	"pol.gate_against_none":                {"当时没有使用中的版本", "no version was active"},
	"pol.gate_stale":                       {"这份报告不是对照现在使用中的版本评估的；启用时会重新评估。", "This report was not judged against today's active version; activating evaluates the gate again."},
	"pol.gate_check":                       {"检查项", "Check"},
	"pol.gate_result":                      {"结果", "Result"},
	"pol.gate_detail":                      {"说明", "Detail"},
	"pol.gate_justification":               {"越过门槛启用的理由（由上传人以外的风险经理填写，%d 字以上，记入审计日志）", "Justification for activating over the gate (by a risk manager other than the uploader, at least %d characters; goes into the audit log)"},
	"pol.done_gate":                        {"已评估启用门槛，报告见下方。", "The activation gate was evaluated; the report is below."},
	"pol.refused_simulation_running":       {"本行已有一个模拟正在进行，请稍后再试。", "A simulation for this bank is already running; try again when it has finished."},
	"pol.refused_population_too_small":     {"农户太少（不足5户），模拟结果会暴露个别农户，不能进行。", "Too few households (fewer than five): the figures would describe single households, so the simulation is refused."},
	"pol.sim_fairness":                     {"公平性（新版本；不利影响比低于 %.2f 标记，不足 %d 户的组不判定，不足5户的组合并）", "Fairness (new version; adverse-impact ratios under %.2f flagged, groups under %d not judged, groups under five pooled)"},
	"pol.sim_title":                        {"模拟测算报告", "Simulation report"},
	"pol.sim_intro":                        {"按全辖农户数据测算（只有汇总数，不含任何一户的信息），不写任何数据；这次测算已记入审计日志。", "Run over the whole population (aggregates only, nothing about any one household); nothing was written, and the run is in the audit log."},
	"pol.sim_compare":                      {"对照版本", "Compared with"},
	"pol.sim_against":                      {"使用中的第 %d 版", "the active version %d"},
	"pol.sim_no_base":                      {"没有可对照的使用中版本。", "No active version to compare with."},
	"pol.sim_asof":                         {"测算日期", "As of"},
	"pol.sim_households":                   {"农户数", "Households"},
	"pol.sim_summary":                      {"汇总", "Summary"},
	"pol.sim_eligible":                     {"可授信", "Eligible"},
	"pol.sim_declined":                     {"不予授信", "Declined"},
	"pol.sim_exposure":                     {"授信总额（元）", "Total limits (yuan)"},
	"pol.sim_gained":                       {"新增可授信户", "Households gaining a line"},
	"pol.sim_lost":                         {"失去授信户", "Households losing a line"},
	"pol.sim_base":                         {"使用中", "Active"},
	"pol.sim_new":                          {"新版", "New"},
	"pol.sim_category":                     {"类别", "Category"},
	"pol.sim_change":                       {"变化", "Change"},
	"pol.sim_text":                         {"文字版报告（与接口、命令行相同）", "Plain-text report (as the API and the CLI give it)"},
	"pol.sim_back":                         {"返回这一版", "Back to this version"},
	"pol.chart_grades":                     {"各信用等级户数", "Households by grade"},
	"pol.chart_limits":                     {"授信额度分布（可授信户，元）", "Limits of eligible households (yuan)"},
	"pol.chart_approvals":                  {"可授信与不予授信户数", "Eligible and declined households"},
	"pol.chart_legend":                     {"灰色：使用中的版本；蓝色：新版。每条后面写着户数。", "Grey: the active version; blue: the new version. Each bar ends with its count."},
	"pol.chart_legend_new":                 {"每条后面写着户数。", "Each bar ends with its count."},
	"wh.title":                             {"推送设置（Webhook）", "Webhook"},
	"wh.intro":                             {"额度变化（冻结、到期等）会推送到本行的地址，每条都用密钥签名。", "Line events (freezes, expiries) are sent to the bank's address, each signed with the secret."},
	"wh.url":                               {"推送地址（https）", "Address (https)"},
	"wh.url_hint":                          {"须是 https 开头、指向公网的地址。保存后会生成新的签名密钥，只显示一次。", "An https address on the public internet. Saving it makes a new signing secret, shown once."},
	"wh.set":                               {"保存地址并生成新密钥", "Save the address and make a new secret"},
	"wh.bad_url":                           {"这个地址不能用：须是 https 开头、指向公网的地址（不能是内网或本机地址）。", "This address cannot be used: it must be https and on the public internet (not a private or local address)."},
	"wh.done_set":                          {"已保存。", "Saved."},
	"wh.secret_title":                      {"签名密钥（只显示这一次）", "Signing secret (shown this once)"},
	"wh.secret_once":                       {"请现在复制并保存到本行系统。离开这个页面后再也看不到它；忘记了只能重新生成。", "Copy it into the bank's system now. Once you leave this page it is never shown again; a lost secret can only be replaced."},
	"wh.previous":                          {"旧密钥在 %s 之前仍然有效，便于本行系统切换。", "The previous secret keeps signing until %s, while the bank's systems switch over."},
	"wh.none":                              {"还没有设置推送地址。", "No address is set yet."},
	"wh.state":                             {"推送状态", "Delivery"},
	"wh.delivered":                         {"已处理到第几条事件", "Events handled up to"},
	"wh.attempts":                          {"当前事件失败次数", "Failed attempts at the next event"},
	"wh.next_attempt":                      {"下次重试", "Next attempt"},
	"wh.last_error":                        {"上次失败原因", "Last failure"},
	"wh.updated":                           {"最后修改", "Last changed"},
	"wh.dead":                              {"投递失败的事件（死信）", "Events that could not be delivered (dead letters)"},
	"wh.dead_none":                         {"没有投递失败的事件。", "No undelivered events."},
	"wh.event":                             {"事件", "Event"},
	"wh.event_type":                        {"类型", "Type"},
	"wh.dead_time":                         {"放弃时间", "Given up"},
	"wh.dead_error":                        {"原因", "Why"},
	"wh.replayed":                          {"重新推送", "Replayed"},
	"wh.replay":                            {"重新推送", "Send again"},
	"wh.replay_failed":                     {"重新推送没有成功，什么都没改变，可以稍后再试。", "Sending it again failed; nothing changed, and it may be tried again later."},
	"wh.done_replayed":                     {"已重新推送。", "Sent again."},
	"wh.more":                              {"只列出最新的50条。", "Only the newest 50 are listed."},
}
