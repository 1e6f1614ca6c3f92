package console

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
)

// A bank's loan officer at the counter: looks a customer up by the head's
// 身份证号 (always in a POST body, never in a URL, never written back into
// the page), records the customer's signed authorisation, and reads a
// line with why its limit is what it is. What the bank may learn is the
// app's and lending's (app.LookupCustomer): the pages only translate.

func (c *Console) customerRoutes() {
	c.page("GET "+Prefix+"banks/{bank}/customers", false, c.customers)
	c.page("POST "+Prefix+"banks/{bank}/customers", false, c.lookupCustomer)
	c.upload("POST "+Prefix+"banks/{bank}/customers/consent", maxFormScan, c.recordConsent, c.consentUnreadable)
	c.page("GET "+Prefix+"banks/{bank}/lines/{line}", false, c.bankLine)
}

// maxFormScan bounds the scan of a signed authorisation form: a phone
// photo or a PDF page.
const maxFormScan = 10 << 20

// customerView is the look-up page.
type customerView struct {
	Bank    string
	Purpose string
	// IDError and PurposeError sit next to their fields.
	IDError, PurposeError string
	// Refused: no lawful basis (or no such person: the page cannot tell).
	Refused bool
	// Requests are the consents this bank recorded for the person that
	// wait for the household (shown on a refusal).
	Requests []*lending.Consent
	Customer *credit.Customer
	Consent  consentForm
	// Recorded is the consent just recorded.
	Recorded *lending.Consent
}

// consentForm is the form recording a signed authorisation.
type consentForm struct {
	Channel                                         string
	Assessment, PostLoan                            bool
	IDError, ChannelError, PurposesError, FormError string
}

func newCustomerView(bank string) customerView {
	return customerView{Bank: bank, Purpose: string(lending.PurposeAssessment),
		Consent: consentForm{Channel: lending.ChannelCounter, Assessment: true, PostLoan: true}}
}

// bankOf reads the page's bank (a malformed id is no page) and asks the
// policy whether p may take each of actions on it: another bank's pages,
// and anyone but its staff, are refused. Every bank page starts here.
func bankOf(q *request, actions ...access.Action) (string, error) {
	bank := q.r.PathValue("bank")
	if !bankSlug.MatchString(bank) {
		return "", fault.New(fault.NotFound, "BANK_NOT_FOUND", "no bank %q", bank)
	}
	for _, a := range actions {
		if err := q.authorise(a, access.Target{Bank: bank}); err != nil {
			return "", err
		}
	}
	if q.p.Scope.Bank != bank {
		return "", fault.New(fault.PermissionDenied, "OUT_OF_SCOPE", "a bank's pages are its own staff's")
	}
	return bank, nil
}

var bankSlug = regexp.MustCompile(`^[a-z][a-z0-9-]{1,62}$`)

func (c *Console) customers(q *request) error {
	bank, err := bankOf(q, access.CustomerLookup)
	if err != nil {
		return err
	}
	c.render(q, http.StatusOK, "bank_customers", newCustomerView(bank))
	return nil
}

func (c *Console) lookupCustomer(q *request) error {
	bank, err := bankOf(q, access.CustomerLookup)
	if err != nil {
		return err
	}
	v := newCustomerView(bank)
	v.Purpose = q.r.PostFormValue("purpose")
	idNumber := q.r.PostFormValue("id_number")
	ctx := q.r.Context()
	v.Customer, err = c.app.LookupCustomer(ctx, q.p, bank, idNumber, v.Purpose)
	var f *fault.Error
	switch {
	case err == nil:
		c.render(q, http.StatusOK, "bank_customers", v)
		return nil
	case errors.As(err, &f) && f.Reason == lending.ReasonConsentRequired:
		v.Refused = true
		if v.Requests, err = c.app.BankRequests(ctx, q.p, bank, idNumber); err != nil {
			return err
		}
		c.render(q, http.StatusForbidden, "bank_customers", v)
		return nil
	case errors.As(err, &f) && f.Kind == fault.Invalid:
		for _, fv := range f.Violations {
			switch fv.Field {
			case "id_number":
				v.IDError = text(q.lang, "bcust.bad_id")
			case "purpose":
				v.PurposeError = text(q.lang, "bcust.bad_purpose")
				v.Purpose = string(lending.PurposeAssessment)
			}
		}
		c.render(q, http.StatusBadRequest, "bank_customers", v)
		return nil
	}
	return err
}

// recordConsent records the customer's signed authorisation: pending
// until the household confirms it (or its clerk countersigns it). The
// scan's SHA-256 is what is recorded; the scan itself is not kept.
func (c *Console) recordConsent(q *request) error {
	bank, err := bankOf(q, access.ConsentGrant)
	if err != nil {
		return err
	}
	v := newCustomerView(bank)
	in := app.CounterConsent{Bank: bank, IDNumber: q.r.PostFormValue("id_number"), Channel: q.r.PostFormValue("channel")}
	v.Consent.Channel = in.Channel
	v.Consent.Assessment, v.Consent.PostLoan = false, false
	for _, p := range q.r.PostForm["purpose"] {
		switch lending.Purpose(p) {
		case lending.PurposeAssessment:
			v.Consent.Assessment = true
		case lending.PurposePostLoan:
			v.Consent.PostLoan = true
		default:
			continue
		}
		in.Purposes = append(in.Purposes, p)
	}
	scan, err := uploaded(q.r, "form", maxFormScan)
	if err != nil {
		return err
	}
	if len(scan) > 0 {
		sum := sha256.Sum256(scan)
		in.FormSHA256 = hex.EncodeToString(sum[:])
	}
	v.Recorded, err = c.app.RecordCounterConsent(q.r.Context(), q.p, in)
	var f *fault.Error
	switch {
	case err == nil:
		c.render(q, http.StatusOK, "bank_customers", v)
		return nil
	case errors.As(err, &f) && f.Kind == fault.Invalid:
		for _, fv := range f.Violations {
			switch fv.Field {
			case "id_number":
				v.Consent.IDError = text(q.lang, "bcust.bad_id")
				if strings.Contains(fv.Description, "no household") {
					v.Consent.IDError = text(q.lang, "bcust.not_registered")
				}
			case "channel":
				v.Consent.ChannelError = text(q.lang, "bcust.bad_channel")
			case "consent.purposes":
				v.Consent.PurposesError = text(q.lang, "bcust.no_purpose")
			case "authorisation_hash":
				v.Consent.FormError = text(q.lang, "bcust.no_form")
			}
		}
	case errors.As(err, &f) && f.Kind == fault.FailedPrecondition:
		// Revoked or refused before: the customer must sign a new form.
		v.Consent.FormError = text(q.lang, "bcust.form_spent")
	default:
		return err
	}
	c.render(q, http.StatusBadRequest, "bank_customers", v)
	return nil
}

// consentUnreadable answers a consent form whose body could not be read
// (too big): nothing of it was read, nothing is written.
func (c *Console) consentUnreadable(q *request, _ error) error {
	bank, err := bankOf(q, access.ConsentGrant)
	if err != nil {
		return err
	}
	v := newCustomerView(bank)
	v.Consent.FormError = text(q.lang, "bcust.form_too_big")
	c.render(q, http.StatusRequestEntityTooLarge, "bank_customers", v)
	return nil
}

// bankLineView is the line page.
type bankLineView struct {
	Bank string
	Line *app.BankLine
}

func (c *Console) bankLine(q *request) error {
	bank, err := bankOf(q, access.CreditRead)
	if err != nil {
		return err
	}
	purpose := q.r.URL.Query().Get("purpose")
	if purpose == "" {
		purpose = string(lending.PurposeAssessment)
	}
	l, err := c.app.BankLine(q.r.Context(), q.p, bank, q.r.PathValue("line"), purpose)
	var f *fault.Error
	switch {
	case err == nil:
	case errors.As(err, &f) && f.Reason == lending.ReasonConsentRequired:
		v := newCustomerView(bank)
		v.Refused = true
		c.render(q, http.StatusForbidden, "bank_customers", v)
		return nil
	case errors.As(err, &f) && f.Kind == fault.Invalid:
		// Only purpose is read from the request: a bad one is no page.
		return fault.New(fault.NotFound, "LINE_NOT_FOUND", "no such line")
	default:
		return err
	}
	c.render(q, http.StatusOK, "bank_customer_line", bankLineView{Bank: bank, Line: l})
	return nil
}

func init() { addMessages(bankCustomerMessages) }

var bankCustomerMessages = map[string][2]string{
	"bcust.title":           {"客户查询", "Look up a customer"},
	"bcust.intro":           {"输入户主身份证号查询该户在本行的授信。每次查询都会记入该户的查询记录，农户本人可以看到。", "Enter the household head's ID card number to see the household's lines at this bank. Every look-up is recorded where the household can see it."},
	"bcust.id_number":       {"户主身份证号", "Head's ID card number"},
	"bcust.id_hint":         {"18位，最后一位可能是X。号码不会显示在页面上。", "18 characters, the last may be X. The number is not shown back on the page."},
	"bcust.purpose":         {"查询用途", "Purpose"},
	"bcust.assessment":      {"贷前审批", "Loan assessment"},
	"bcust.post_loan":       {"贷后管理", "Post-loan monitoring"},
	"bcust.submit":          {"查询", "Look up"},
	"bcust.bad_id":          {"身份证号不对，请核对后重新输入（18位，最后一位可能是X）。", "That ID card number is not valid; check it (18 characters, the last may be X)."},
	"bcust.bad_purpose":     {"请选择查询用途。", "Choose a purpose."},
	"bcust.refused_title":   {"不能查询：没有该户对本行有效的授权", "Not shown: no authorisation of this household for this bank is in force"},
	"bcust.refused":         {"按照个人信息保护的规定，本行只有在该户对本行、对这一用途的授权有效时（贷后管理也可依据在本行尚未还清的贷款）才能查看该户的信息。系统不会告诉您这个身份证号是否登记过。", "Under the personal-information rules, this bank may see a household only under the household's authorisation of this bank for this purpose in force (or, for post-loan monitoring, a balance owed on a line at this bank). The system does not say whether this ID card number is registered at all."},
	"bcust.how":             {"如何取得授权：", "How to obtain an authorisation:"},
	"bcust.how_app":         {"请农户用村里发的登录码登录三治信农贷，在「我的数据」里向本行授权，或确认本行记录的授权请求；", "the household signs in to Sanzhi with the code its village clerk issued and, on its My data page, authorises this bank or confirms the request this bank recorded;"},
	"bcust.how_counter":     {"或者请农户在柜台签署授权书，您在下面「记录授权书」中登记（上传扫描件）。登记后授权处于「等待确认」状态，要等农户本人在「我的数据」里确认，或村文书核对授权书后代为确认，才生效。", "or the customer signs the authorisation form at the counter and you record it below (upload its scan). It then waits: it is in force only once the household confirms it on its My data page, or its village clerk countersigns it having seen the form."},
	"bcust.waiting":         {"本行已记录的授权请求，正在等待农户确认：", "Requests this bank recorded, waiting for the household:"},
	"bcust.recorded_on":     {"记录于 %s，有效期至 %s", "recorded %s, in force until %s once confirmed"},
	"bcust.found":           {"查询结果", "Customer"},
	"bcust.head":            {"户主", "Head"},
	"bcust.id_masked":       {"身份证号", "ID card number"},
	"bcust.basis":           {"查询依据", "Lawful basis"},
	"bcust.basis.consent":   {"农户授权", "the household's authorisation"},
	"bcust.basis.contract":  {"在本行尚未还清的贷款（仅限贷后管理）", "a balance owed at this bank (post-loan only)"},
	"bcust.lines":           {"在本行的授信", "Lines at this bank"},
	"bcust.no_lines":        {"该户在本行还没有授信。", "The household has no line at this bank yet."},
	"bcust.line":            {"授信", "Line"},
	"bcust.open":            {"查看额度说明", "Why this limit"},
	"bcust.consent_title":   {"记录授权书", "Record a signed authorisation"},
	"bcust.consent_intro":   {"农户在柜台或纸面签署的授权书。登记后等待农户确认。", "An authorisation the customer signed at the counter or on paper. It waits for the household's confirmation."},
	"bcust.channel":         {"签署方式", "Signed"},
	"bcust.counter":         {"银行柜台", "at the counter"},
	"bcust.paper":           {"纸质授权书", "on a paper form"},
	"bcust.purposes":        {"授权用途", "Purposes"},
	"bcust.form":            {"授权书扫描件或照片", "Scan or photo of the signed form"},
	"bcust.form_hint":       {"只记录文件的指纹（SHA-256），供村文书核对；文件本身不保存。", "Only the file's fingerprint (SHA-256) is recorded, for the village clerk to check; the file itself is not kept."},
	"bcust.record":          {"记录授权书", "Record the authorisation"},
	"bcust.bad_channel":     {"请选择签署方式。", "Choose how it was signed."},
	"bcust.no_purpose":      {"请至少选择一项用途。", "Choose at least one purpose."},
	"bcust.no_form":         {"请上传签署后的授权书扫描件或照片。", "Attach the scan or photo of the signed form."},
	"bcust.form_too_big":    {"文件太大（最大10MB），请重新拍照或扫描。", "The file is too big (at most 10 MB); photograph or scan it again."},
	"bcust.form_spent":      {"这份授权书已被农户拒绝或已撤回，请农户签署新的授权书。", "This form was refused by the household or withdrawn; the customer must sign a new one."},
	"bcust.not_registered":  {"没有以这个身份证号为户主登记的农户，请农户联系村文书登记。", "No household is registered with this ID card number as head; the customer should ask the village clerk."},
	"bcust.recorded":        {"授权书已记录，正在等待农户确认。", "The authorisation is recorded and waits for the household's confirmation."},
	"bcust.state":           {"状态", "State"},
	"bcust.state.pending":   {"等待农户确认", "waiting for the household"},
	"bcust.state.granted":   {"已生效", "in force"},
	"bcust.state.refused":   {"农户已拒绝", "refused by the household"},
	"bcust.line_title":      {"授信详情", "Credit line"},
	"bcust.drawn":           {"已用", "Drawn"},
	"bcust.why_limit":       {"为什么是这个额度", "Why this limit"},
	"bcust.why_intro":       {"额度按本行授信政策一步一步算出；标出的一步决定了最终额度。", "The limit is worked out step by step under the bank's credit policy; the marked step is the one that decided it."},
	"bcust.step":            {"步骤", "Step"},
	"bcust.amount":          {"数额", "Amount"},
	"bcust.result":          {"结果", "Running amount"},
	"bcust.binding":         {"起决定作用", "binding"},
	"bcust.withheld":        {"不显示（涉及他行）", "not shown (other banks)"},
	"bcust.no_working":      {"没有测算额度（见下面的原因）。", "No limit was worked out (see the reasons below)."},
	"bcust.reasons":         {"评分原因", "Reasons"},
	"bcust.counterfactuals": {"怎样可以更好", "What would change the outcome"},
	"bcust.override_by":     {"人工调整理由：%s", "Override justification: %s"},
	"bcust.back":            {"返回客户查询", "Back to look-up"},
	// The household reads its query records in these words.
	"hh.method.lookup_customer": {"柜台查询客户", "looked you up at the counter"},
}
