package console

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/paging"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// The loan officer's pages of the bank's lines (the risk manager reads
// the portfolio too, and lifts freezes): the portfolio with its CSV
// export, the inbox of line events, a line's activity (drawdowns and
// repayments, freezes and lifting them) and the reviews with four-eyes
// overrides. The single line's page, with its limit derivation, is
// /console/banks/{bank}/lines/{line} (another page family); these link
// to it. Every page asks access.Authorise for the bank in its URL, and
// the lending service applies the lawful-basis rule: a line whose
// household neither consents nor owes is not listed.

func (c *Console) bankLinesRoutes() {
	b := Prefix + "banks/{bank}/"
	c.page("GET "+b+"lines", false, c.blPortfolio)
	c.page("GET "+b+"lines.csv", false, c.blExport)
	c.page("GET "+b+"inbox", false, c.blInbox)
	c.page("GET "+b+"lines/{line}/activity", false, c.blActivity)
	c.page("POST "+b+"lines/{line}/activity/unfreeze", false, c.blUnfreeze)
	c.page("POST "+b+"lines/{line}/activity/transactions", false, c.blTransact)
	c.page("POST "+b+"lines/{line}/activity/review", false, c.blOpenReview)
	c.page("POST "+b+"lines/{line}/activity/status", false, c.blStatus)
	c.page("GET "+b+"reviews", false, c.blReviews)
	c.page("POST "+b+"reviews/{product}/{review}/resolve", false, c.blResolve)
	c.page("POST "+b+"reviews/{product}/{review}/approve", false, c.blApprove)
}

// bankPage reads the page's bank and asks the policy whether the signed-in
// person may take action a on it. The bank pages are staff pages: a
// household (whose grants reach its own record only) is refused them
// whatever the action.
func (c *Console) bankPage(q *request, a access.Action) (string, error) {
	bank := q.r.PathValue("bank")
	if _, err := credit.ParseBank("banks/"+bank, "bank"); err != nil {
		return "", fault.New(fault.NotFound, "BANK_NOT_FOUND", "no bank %q", bank)
	}
	if q.p.Role == access.Household {
		return "", fault.New(fault.PermissionDenied, "ROLE_NOT_ALLOWED", "the bank pages are for the bank's staff")
	}
	if err := q.authorise(a, access.Target{Bank: bank}); err != nil {
		return "", err
	}
	return bank, nil
}

// may reports whether the signed-in person may take action a on the bank
// (to show a form only to those the policy lets use it).
func (q *request) may(a access.Action, bank string) bool {
	return q.authorise(a, access.Target{Bank: bank}) == nil
}

// --- portfolio ----------------------------------------------------------

type portfolioView struct {
	Page *app.LinesPage
	// The filter as typed, and what is wrong with it, by field.
	Village, Status, Grade, Expiring string
	Errors                           map[string]string
	Query                            string // the filter as a query string (paging, CSV)
	Token                            string // this page's token ("" for the first)
}

// pageURL is the portfolio (or, with suffix ".csv", its export) under the
// same filter, at page token ("" for the first).
func (v portfolioView) pageURL(suffix, token string) string {
	u := Prefix + "banks/" + v.Page.Bank + "/lines" + suffix
	q, _ := url.ParseQuery(v.Query)
	if token != "" {
		q.Set("page", token)
	}
	if e := q.Encode(); e != "" {
		u += "?" + e
	}
	return u
}

// ExportURL, NextURL and FirstURL are the page's links.
func (v portfolioView) ExportURL() string { return v.pageURL(".csv", "") }
func (v portfolioView) FirstURL() string  { return v.pageURL("", "") }
func (v portfolioView) NextURL() string {
	if v.Page.NextToken == "" {
		return ""
	}
	return v.pageURL("", v.Page.NextToken)
}

// filterOf reads the portfolio's filter from the query; bad fields are
// marked in v.Errors.
func filterOf(q *request, v *portfolioView) credit.LineFilter {
	u := q.r.URL.Query()
	v.Village, v.Status = strings.TrimSpace(u.Get("village")), u.Get("status")
	v.Grade, v.Expiring = strings.TrimSpace(u.Get("grade")), strings.TrimSpace(u.Get("expiring"))
	v.Errors = map[string]string{}
	f := credit.LineFilter{Village: v.Village, Status: lending.Status(v.Status), Grade: strings.ToUpper(v.Grade)}
	if v.Expiring != "" {
		n, err := strconv.Atoi(v.Expiring)
		if err != nil || n < 1 || n > credit.MaxExpiringDays {
			v.Errors["expiring"] = text(q.lang, "bl.bad_expiring", credit.MaxExpiringDays)
		}
		f.ExpiringDays = n
	}
	keep := url.Values{}
	for _, k := range []string{"village", "status", "grade", "expiring"} {
		if s := strings.TrimSpace(u.Get(k)); s != "" {
			keep.Set(k, s)
		}
	}
	v.Query = keep.Encode()
	return f
}

// filterErrors puts the service's refusal of a filter next to its fields.
func filterErrors(q *request, err error, v *portfolioView) bool {
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != fault.Invalid {
		return false
	}
	for _, fv := range fe.Violations {
		switch fv.Field {
		case "village":
			v.Errors["village"] = text(q.lang, "bl.bad_village")
		case "status":
			v.Errors["status"] = text(q.lang, "bl.bad_status")
		case "grade":
			v.Errors["grade"] = text(q.lang, "bl.bad_grade")
		case "expiring_days":
			v.Errors["expiring"] = text(q.lang, "bl.bad_expiring", credit.MaxExpiringDays)
		default: // page_token, page_size: a stale link
			v.Errors["page"] = text(q.lang, "bl.bad_page")
		}
	}
	return true
}

func (c *Console) blPortfolio(q *request) error {
	bank, err := c.bankPage(q, access.CreditList)
	if err != nil {
		return err
	}
	v := portfolioView{Token: q.r.URL.Query().Get("page")}
	f := filterOf(q, &v)
	if len(v.Errors) > 0 {
		v.Page = &app.LinesPage{Bank: bank}
		c.render(q, http.StatusBadRequest, "bank_lines", v)
		return nil
	}
	v.Page, err = c.app.BankLines(q.r.Context(), q.p, bank, f, 0, v.Token)
	if filterErrors(q, err, &v) {
		v.Page = &app.LinesPage{Bank: bank}
		c.render(q, http.StatusBadRequest, "bank_lines", v)
		return nil
	}
	if err != nil {
		return err
	}
	c.render(q, http.StatusOK, "bank_lines", v)
	return nil
}

// maxExportRows bounds one CSV export: a county bank's whole portfolio.
const maxExportRows = 200_000

// blExport is the portfolio as CSV for Excel: UTF-8 with a byte-order
// mark (so Excel reads the Chinese), every line the filter keeps, and
// never a 身份证号.
func (c *Console) blExport(q *request) error {
	bank, err := c.bankPage(q, access.CreditList)
	if err != nil {
		return err
	}
	v := portfolioView{}
	f := filterOf(q, &v)
	var rows []app.LineRow
	token := ""
	for len(v.Errors) == 0 && len(rows) < maxExportRows {
		page, err := c.app.BankLines(q.r.Context(), q.p, bank, f, paging.MaxSize, token)
		if filterErrors(q, err, &v) {
			break
		}
		if err != nil {
			return err
		}
		rows = append(rows, page.Rows...)
		if token = page.NextToken; token == "" {
			break
		}
	}
	if len(v.Errors) > 0 {
		v.Page = &app.LinesPage{Bank: bank}
		c.render(q, http.StatusBadRequest, "bank_lines", v)
		return nil
	}
	w := q.w
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="lines-%s-%s.csv"`, bank, time.Now().In(shanghai).Format("20060102")))
	_, _ = w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // as Excel writes it
	l := q.lang
	_ = cw.Write([]string{text(l, "bl.head"), text(l, "bl.village"), text(l, "bl.group"), text(l, "bl.limit"),
		text(l, "bl.available"), text(l, "bl.rate"), text(l, "bl.status"), text(l, "bl.grade"), text(l, "bl.expiry")})
	for _, r := range rows {
		place := r.Place.ZH
		if l == en && r.Place.EN != "" {
			place = r.Place.EN
		}
		_ = cw.Write([]string{cell(r.HeadName), cell(place), strconv.Itoa(int(r.Group)),
			r.View.Line.Limit.StringFixed(2), r.Available().StringFixed(2), r.View.Line.Rate.String(),
			text(l, "bl.st."+string(r.View.Status)), r.View.Decision.Grade, string(r.View.Line.ValidUntil)})
	}
	cw.Flush()
	return nil
}

// cell keeps a spreadsheet from reading text as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// --- inbox --------------------------------------------------------------

type inboxView struct {
	Inbox     *app.Inbox
	Token     string
	PageError string
}

func (c *Console) blInbox(q *request) error {
	bank, err := c.bankPage(q, access.CreditWatch)
	if err != nil {
		return err
	}
	v := inboxView{Token: q.r.URL.Query().Get("page")}
	v.Inbox, err = c.app.BankInbox(q.r.Context(), q.p, bank, 0, v.Token)
	if fault.Is(err, fault.Invalid) {
		v.Inbox, v.PageError = &app.Inbox{Bank: bank}, text(q.lang, "bl.bad_page")
		c.render(q, http.StatusBadRequest, "bank_inbox", v)
		return nil
	}
	if err != nil {
		return err
	}
	c.render(q, http.StatusOK, "bank_inbox", v)
	return nil
}

// --- a line's activity ----------------------------------------------------

// activityView is a line's activity page and its forms, each with its
// values and errors when it was sent back.
type activityView struct {
	A                             *app.LineActivity
	Token                         string
	CanUnfreeze, CanDraw, CanOpen bool
	Done                          string

	Justification, JustificationError, UnfreezeError string

	Kind, Amount, Use, TxID                   string
	KindError, AmountError, UseError, TxError string
	Uses                                      []lending.Use

	Reason, ReasonError, ReviewError string

	// The loan status form (issue 16) and the line's latest reports.
	Statuses  []*credit.LoanStatus
	CanReport bool
	St        statusForm
}

// statusForm is the loan status form's values and, when it was sent
// back, its errors by field ("" for the form as a whole).
type statusForm struct {
	AsOf, DaysPastDue, Principal, Interest, Class, EventID string
	Defaulted, WrittenOff, Settled                         bool
	Errors                                                 map[string]string
}

// Err is the error beside field, "" when none.
func (f statusForm) Err(field string) string { return f.Errors[field] }

// classes are the 五级分类 the form offers, best first.
func (activityView) Classes() []lending.Class { return lending.Classes() }

var uses = []lending.Use{lending.UseAgriculture, lending.UseLivestock, lending.UseBusiness, lending.UseConsumption,
	lending.UseEducation, lending.UseMedical}

func (c *Console) blActivity(q *request) error {
	bank, err := c.bankPage(q, access.CreditRead)
	if err != nil {
		return err
	}
	v := activityView{Token: q.r.URL.Query().Get("page"), Done: doneOf(q, "unfreeze", "drawdown", "repayment", "status")}
	return c.renderActivity(q, bank, http.StatusOK, v)
}

// renderActivity reads the line and shows its page with v's forms.
func (c *Console) renderActivity(q *request, bank string, status int, v activityView) error {
	a, err := c.app.BankLineActivity(q.r.Context(), q.p, bank, q.r.PathValue("line"), 0, v.Token)
	if fault.Is(err, fault.Invalid) && v.Token != "" {
		v.Token = "" // a stale page link: the newest page
		a, err = c.app.BankLineActivity(q.r.Context(), q.p, bank, q.r.PathValue("line"), 0, "")
	}
	if err != nil {
		return err
	}
	v.A, v.Uses = a, uses
	v.CanUnfreeze, v.CanDraw, v.CanOpen = q.may(access.CreditUnfreeze, bank), q.may(access.CreditDraw, bank),
		q.may(access.ReviewRequest, bank) && a.Automated
	if v.TxID == "" {
		v.TxID = newRequestID()
	}
	// The bank's own loan status reports on the line, newest first.
	page, err := c.app.Lending.ListLoanStatuses(q.r.Context(), q.p, a.Row.Name, statusesShown, "")
	if err != nil {
		return err
	}
	v.Statuses, v.CanReport = page.Statuses, q.may(access.LoanStatusReport, bank)
	if v.St.EventID == "" {
		v.St.EventID = newRequestID()
	}
	if v.St.AsOf == "" {
		v.St.AsOf = string(household.Today(c.app.Lending.Now()))
	}
	if v.St.Class == "" {
		v.St.Class = string(lending.ClassNormal)
	}
	c.render(q, status, "bank_lines_activity", v)
	return nil
}

// statusesShown is how many of a line's latest loan statuses its page shows.
const statusesShown = 12

// blStatus records a loan status on the line, as its bank's loan officer:
// each problem beside its field, a refusal of the state machine above
// the form; nothing is written then.
func (c *Console) blStatus(q *request) error {
	bank, err := c.bankPage(q, access.LoanStatusReport)
	if err != nil {
		return err
	}
	a, err := c.lineName(q, bank)
	if err != nil {
		return err
	}
	f := q.r.PostFormValue
	v := activityView{St: statusForm{AsOf: strings.TrimSpace(f("as_of")), DaysPastDue: strings.TrimSpace(f("days_past_due")),
		Principal: strings.TrimSpace(f("overdue_principal")), Interest: strings.TrimSpace(f("overdue_interest")),
		Class: f("classification"), EventID: f("event_id"), Defaulted: f("defaulted") != "",
		WrittenOff: f("written_off") != "", Settled: f("settled") != "", Errors: map[string]string{}}}
	if !requestIDPattern.MatchString(v.St.EventID) {
		v.St.EventID = ""
		v.St.Errors[""] = text(q.lang, "bl.form_stale")
	}
	dpd := 0
	if v.St.DaysPastDue != "" {
		n, err := strconv.Atoi(v.St.DaysPastDue)
		if err != nil || n < 0 || n > lending.MaxDaysPastDue {
			v.St.Errors["days_past_due"] = text(q.lang, "bl.st_bad_days", lending.MaxDaysPastDue)
		}
		dpd = n
	}
	if len(v.St.Errors) > 0 {
		return c.renderActivity(q, bank, http.StatusBadRequest, v)
	}
	_, err = c.app.Lending.ReportLoanStatus(q.r.Context(), q.p, credit.StatusInput{Line: a.Row.Name, EventID: v.St.EventID,
		AsOf: v.St.AsOf, DaysPastDue: dpd, OverduePrincipal: v.St.Principal, OverdueInterest: v.St.Interest,
		Classification: v.St.Class, Defaulted: v.St.Defaulted, WrittenOff: v.St.WrittenOff, Settled: v.St.Settled})
	if err != nil {
		var fe *fault.Error
		if !errors.As(err, &fe) || (fe.Kind != fault.Invalid && fe.Kind != fault.FailedPrecondition && fe.Kind != fault.AlreadyExists) {
			return err
		}
		if fe.Kind == fault.Invalid {
			for _, fv := range fe.Violations {
				field := fv.Field
				if _, ok := statusFields[field]; !ok {
					field = ""
				}
				if v.St.Errors[field] == "" {
					v.St.Errors[field] = statusViolation(q.lang, fv)
				}
			}
		} else {
			v.St.Errors[""] = statusRefusal(q.lang, fe)
		}
		return c.renderActivity(q, bank, http.StatusBadRequest, v)
	}
	http.Redirect(q.w, q.r, c.activityURL(bank, q.r.PathValue("line"))+"?done=status#statuses", http.StatusSeeOther)
	return nil
}

// statusFields are the form's fields a violation is shown beside.
var statusFields = map[string]bool{"as_of": true, "days_past_due": true, "overdue_principal": true,
	"overdue_interest": true, "classification": true, "defaulted": true, "written_off": true, "settled": true}

// statusViolation says what is wrong with a field of the report: the
// rule in the officer's words where the console has them, else the
// service's description.
func statusViolation(l lang, v fault.Violation) string {
	d := v.Description
	for _, m := range []struct{ has, key string }{
		{"in the future", "bl.st_future"},
		{"before the line was opened", "bl.st_before_open"},
		{"nothing on it is more than", "bl.st_longer_than_line"},
		{"must not be negative", "bl.st_negative"},
		{"an amount in yuan", "bl.st_amount"},
		{"whole fen", "bl.st_amount"},
		{"YYYY-MM-DD", "bl.st_date"},
		{"is classified at least", "bl.st_floor"},
		{"must be one of", "bl.st_choose_class"},
		{"reported only for a loan in default", "bl.st_loss_default"},
		{"a loan in default is non-performing", "bl.st_default_np"},
		{"only a loan in default classified", "bl.st_writeoff"},
		{"either settled or written off", "bl.st_settled_writeoff"},
		{"a settled loan has nothing overdue", "bl.st_settled"},
		{"an amount overdue", "bl.st_need_amount"},
		{"must be above 0 when", "bl.st_need_days"},
	} {
		if strings.Contains(d, m.has) {
			if l == en {
				return text(l, m.key) + " (" + d + ")"
			}
			return text(l, m.key)
		}
	}
	return violationText(l, v)
}

// statusRefusal says why the state machine refused the report.
func statusRefusal(l lang, fe *fault.Error) string {
	key := "bl.st_refused." + fe.Reason
	if _, ok := messages[key]; !ok {
		key = "bl.st_refused"
	}
	if l == en {
		return text(l, key) + " (" + fe.Message + ")"
	}
	return text(l, key)
}

func (c *Console) activityURL(bank, line string) string {
	return Prefix + "banks/" + bank + "/lines/" + line + "/activity"
}

// lineName is the resource name of the page's line, read through the
// activity (which holds to the lawful-basis rule and finds its product).
func (c *Console) lineName(q *request, bank string) (*app.LineActivity, error) {
	return c.app.BankLineActivity(q.r.Context(), q.p, bank, q.r.PathValue("line"), 1, "")
}

func (c *Console) blUnfreeze(q *request) error {
	bank, err := c.bankPage(q, access.CreditUnfreeze)
	if err != nil {
		return err
	}
	a, err := c.lineName(q, bank)
	if err != nil {
		return err
	}
	v := activityView{Justification: q.r.PostFormValue("justification")}
	if utf8.RuneCountInString(v.Justification) > maxJustification {
		v.JustificationError = text(q.lang, "bl.too_long", maxJustification)
		return c.renderActivity(q, bank, http.StatusBadRequest, v)
	}
	_, err = c.app.Lending.Unfreeze(q.r.Context(), q.p, a.Row.Name, v.Justification)
	if err != nil {
		var fe *fault.Error
		switch {
		case errors.As(err, &fe) && fe.Kind == fault.Invalid:
			v.JustificationError = justificationText(q.lang, fe)
		case errors.As(err, &fe) && fe.Reason == "LINE_NOT_FROZEN":
			v.UnfreezeError = text(q.lang, "bl.not_frozen")
		default:
			return err
		}
		return c.renderActivity(q, bank, http.StatusBadRequest, v)
	}
	http.Redirect(q.w, q.r, c.activityURL(bank, q.r.PathValue("line"))+"?done=unfreeze", http.StatusSeeOther)
	return nil
}

// maxJustification bounds a written justification or reason (the API's
// max_len).
const maxJustification = 2000

// justificationText says what is wrong with a justification, in words:
// too short (the service's description), or what the service says (a
// 身份证号 in it, in both languages).
func justificationText(l lang, fe *fault.Error) string {
	if len(fe.Violations) == 0 || strings.Contains(fe.Violations[0].Description, "at least 10") {
		return text(l, "bl.just_short")
	}
	return violationText(l, fe.Violations[0])
}

func (c *Console) blTransact(q *request) error {
	bank, err := c.bankPage(q, access.CreditDraw)
	if err != nil {
		return err
	}
	a, err := c.lineName(q, bank)
	if err != nil {
		return err
	}
	f := q.r.PostFormValue
	v := activityView{Kind: f("kind"), Amount: strings.TrimSpace(f("amount")), Use: f("use"), TxID: f("transaction_id")}
	if !requestIDPattern.MatchString(v.TxID) {
		v.TxID = ""
	}
	if v.Kind != string(credit.Drawdown) && v.Kind != string(credit.Repayment) {
		v.KindError = text(q.lang, "bl.bad_kind")
	}
	if v.Kind == string(credit.Drawdown) && v.Use == "" {
		v.UseError = text(q.lang, "bl.use_required")
	}
	if v.TxID == "" {
		v.TxError = text(q.lang, "bl.form_stale")
	}
	if v.KindError != "" || v.UseError != "" || v.TxError != "" {
		return c.renderActivity(q, bank, http.StatusBadRequest, v)
	}
	in := credit.TxInput{Line: a.Row.Name, TransactionID: v.TxID, Amount: v.Amount, Use: v.Use}
	if v.Kind == string(credit.Drawdown) {
		_, err = c.app.Lending.Drawdown(q.r.Context(), q.p, in)
	} else {
		_, err = c.app.Lending.Repayment(q.r.Context(), q.p, in)
	}
	if err != nil {
		var fe *fault.Error
		if !errors.As(err, &fe) || (fe.Kind != fault.Invalid && fe.Kind != fault.FailedPrecondition && fe.Kind != fault.AlreadyExists) {
			return err
		}
		switch {
		case fe.Kind == fault.Invalid:
			for _, fv := range fe.Violations {
				switch fv.Field {
				case "amount":
					v.AmountError = text(q.lang, "bl.bad_amount")
				case "use":
					v.UseError = violationText(q.lang, fv)
				default:
					v.TxError = violationText(q.lang, fv)
				}
			}
		default:
			v.TxError = txRefusal(q.lang, fe)
		}
		return c.renderActivity(q, bank, http.StatusBadRequest, v)
	}
	http.Redirect(q.w, q.r, c.activityURL(bank, q.r.PathValue("line"))+"?done="+v.Kind, http.StatusSeeOther)
	return nil
}

// txRefusal says why the line refused a drawdown or repayment.
func txRefusal(l lang, fe *fault.Error) string {
	key := "bl.tx_refused." + fe.Reason
	if _, ok := messages[key]; ok {
		return text(l, key)
	}
	if l == en {
		return text(l, "bl.tx_refused") + " (" + fe.Message + ")"
	}
	return text(l, "bl.tx_refused")
}

func (c *Console) blOpenReview(q *request) error {
	bank, err := c.bankPage(q, access.ReviewRequest)
	if err != nil {
		return err
	}
	a, err := c.lineName(q, bank)
	if err != nil {
		return err
	}
	v := activityView{Reason: q.r.PostFormValue("reason")}
	switch {
	case strings.TrimSpace(v.Reason) == "":
		v.ReasonError = text(q.lang, "bl.reason_required")
	case utf8.RuneCountInString(v.Reason) > maxJustification:
		v.ReasonError = text(q.lang, "bl.too_long", maxJustification)
	}
	if v.ReasonError != "" {
		return c.renderActivity(q, bank, http.StatusBadRequest, v)
	}
	if _, err := c.app.Lending.RequestReview(q.r.Context(), q.p, a.Decision, v.Reason); err != nil {
		var fe *fault.Error
		switch {
		case errors.As(err, &fe) && fe.Kind == fault.Invalid:
			v.ReasonError = violationText(q.lang, fe.Violations[0])
		case errors.As(err, &fe) && (fe.Reason == "NOT_AUTOMATED" || fe.Reason == lending.ReasonConsentRequired):
			v.ReviewError = text(q.lang, "bl.review_refused."+fe.Reason)
		default:
			return err
		}
		return c.renderActivity(q, bank, http.StatusBadRequest, v)
	}
	http.Redirect(q.w, q.r, Prefix+"banks/"+bank+"/reviews?done=opened", http.StatusSeeOther)
	return nil
}

// --- reviews --------------------------------------------------------------

type reviewsView struct {
	R         *app.Reviews
	State     string
	Token     string
	Done      string
	PageError string
	// The row a form was sent back for, and its values and errors.
	ErrorOf                        string
	Outcome, Limit, Justification  string
	LimitError, JustificationError string
	Error                          string
	// Stale says why a form was refused when its review is no longer in
	// the list shown (closed meanwhile).
	Stale string
}

var reviewStates = map[string]credit.ReviewState{"open": credit.ReviewOpen, "upheld": credit.ReviewUpheld,
	"overridden": credit.ReviewOverridden, "all": ""}

func (c *Console) blReviews(q *request) error {
	bank, err := c.bankPage(q, access.ReviewList)
	if err != nil {
		return err
	}
	v := reviewsView{State: q.r.URL.Query().Get("state"), Token: q.r.URL.Query().Get("page"),
		Done: doneOf(q, "opened", "proposed", "upheld", "approved")}
	return c.renderReviews(q, bank, http.StatusOK, v)
}

func (c *Console) renderReviews(q *request, bank string, status int, v reviewsView) error {
	if _, ok := reviewStates[v.State]; !ok {
		v.State = "open"
	}
	var err error
	v.R, err = c.app.BankReviews(q.r.Context(), q.p, bank, reviewStates[v.State], 0, v.Token)
	if fault.Is(err, fault.Invalid) {
		v.PageError, v.Token, status = text(q.lang, "bl.bad_page"), "", http.StatusBadRequest
		v.R, err = c.app.BankReviews(q.r.Context(), q.p, bank, reviewStates[v.State], 0, "")
	}
	if err != nil {
		return err
	}
	if v.ErrorOf != "" {
		shown := false
		for _, r := range v.R.Rows {
			shown = shown || r.Review.ID == v.ErrorOf
		}
		if !shown {
			v.Stale = v.Error + v.LimitError + v.JustificationError
		}
	}
	c.render(q, status, "bank_reviews", v)
	return nil
}

// reviewName is the review of the page's URL.
func reviewName(q *request, bank string) (string, error) {
	name := credit.ReviewName(bank, q.r.PathValue("product"), q.r.PathValue("review"))
	if _, _, _, err := credit.ParseReviewName(name, "name"); err != nil {
		return "", fault.New(fault.NotFound, "REVIEW_NOT_FOUND", "no review %q", q.r.PathValue("review"))
	}
	return name, nil
}

func (c *Console) blResolve(q *request) error {
	bank, err := c.bankPage(q, access.ReviewResolve)
	if err != nil {
		return err
	}
	name, err := reviewName(q, bank)
	if err != nil {
		return err
	}
	f := q.r.PostFormValue
	v := reviewsView{ErrorOf: q.r.PathValue("review"), Outcome: f("outcome"), Limit: strings.TrimSpace(f("limit")),
		Justification: f("justification")}
	if v.Outcome != "uphold" && v.Outcome != "override" {
		v.Error = text(q.lang, "bl.bad_outcome")
	}
	if v.Outcome == "override" && v.Limit == "" {
		v.LimitError = text(q.lang, "bl.limit_required")
	}
	if utf8.RuneCountInString(v.Justification) > maxJustification {
		v.JustificationError = text(q.lang, "bl.too_long", maxJustification)
	}
	if v.Error != "" || v.LimitError != "" || v.JustificationError != "" {
		return c.renderReviews(q, bank, http.StatusBadRequest, v)
	}
	in := credit.Resolution{Review: name, Override: v.Outcome == "override", Justification: v.Justification}
	if in.Override {
		in.Limit = v.Limit
	}
	if _, err := c.app.Lending.Resolve(q.r.Context(), q.p, in); err != nil {
		if !c.reviewRefusal(q, err, &v) {
			return err
		}
		return c.renderReviews(q, bank, http.StatusBadRequest, v)
	}
	done := "upheld"
	if in.Override {
		done = "proposed"
	}
	http.Redirect(q.w, q.r, Prefix+"banks/"+bank+"/reviews?done="+done, http.StatusSeeOther)
	return nil
}

func (c *Console) blApprove(q *request) error {
	bank, err := c.bankPage(q, access.OverrideApprove)
	if err != nil {
		return err
	}
	name, err := reviewName(q, bank)
	if err != nil {
		return err
	}
	v := reviewsView{ErrorOf: q.r.PathValue("review"), Limit: strings.TrimSpace(q.r.PostFormValue("limit"))}
	if v.Limit == "" {
		v.Error = text(q.lang, "bl.form_stale")
		return c.renderReviews(q, bank, http.StatusBadRequest, v)
	}
	if _, err := c.app.Lending.ApproveOverride(q.r.Context(), q.p, name, v.Limit); err != nil {
		if !c.reviewRefusal(q, err, &v) {
			return err
		}
		v.LimitError = "" // the approval form has no limit to type: say it above
		if v.Error == "" {
			v.Error = text(q.lang, "bl.form_stale")
		}
		return c.renderReviews(q, bank, http.StatusBadRequest, v)
	}
	http.Redirect(q.w, q.r, Prefix+"banks/"+bank+"/reviews?state=overridden&done=approved", http.StatusSeeOther)
	return nil
}

// reviewRefusal puts the service's refusal of a review form in words next
// to its field; false when err is not a refusal of the form.
func (c *Console) reviewRefusal(q *request, err error, v *reviewsView) bool {
	var fe *fault.Error
	if !errors.As(err, &fe) {
		return false
	}
	switch fe.Kind {
	case fault.Invalid:
		for _, fv := range fe.Violations {
			switch fv.Field {
			case "limit":
				v.LimitError = text(q.lang, "bl.bad_limit")
			case "justification":
				v.JustificationError = justificationText(q.lang, fe)
			default:
				v.Error = violationText(q.lang, fv)
			}
		}
		return true
	case fault.FailedPrecondition:
		key := "bl.review_refused." + fe.Reason
		if _, ok := messages[key]; !ok {
			return false
		}
		if fe.Reason == credit.ReasonOverrideOutOfBounds {
			v.LimitError = text(q.lang, key)
		} else {
			v.Error = text(q.lang, key)
		}
		return true
	case fault.NotFound:
		return false
	}
	return false
}

// eventDetail says what an event did, in words: the amount and what
// the line is after it, why it froze, or the limit and status.
func eventDetail(l lang, r app.EventRow) string {
	in := r.Info
	switch {
	case r.Withheld():
		return text(l, "bl.st."+in.Status)
	case in.TransactionID != "":
		s := text(l, "bl.amount_is", in.Amount.StringFixed(2))
		if in.Use != "" {
			s += " · " + text(l, "bl.use."+in.Use)
		}
		return s + "; " + text(l, "bl.after_is", in.Drawn.StringFixed(2), in.Available.StringFixed(2))
	case in.FreezeReason != "" && r.Event.Type == credit.EventLineFrozen:
		return text(l, "bl.freeze_reason") + text(l, "bl.colon") + text(l, "bl.freeze."+in.FreezeReason)
	}
	return text(l, "bl.limit_is", in.Limit.StringFixed(2)) + " · " + text(l, "bl.st."+in.Status)
}

// eventKey is the message key of a line event's type.
func eventKey(typ string) string { return "bl.ev." + strings.TrimPrefix(typ, "credit_line.") }

func init() {
	// Template functions of this family, prefixed so that no other
	// family's can collide with them.
	funcs["blev"] = eventKey
	funcs["blfreeze"] = func(r string) string { return "bl.freeze." + r }
	funcs["bllist"] = func(s ...string) []string { return s }
	funcs["bldetail"] = eventDetail
	addMessages(bankLinesMessages)
}

var bankLinesMessages = map[string][2]string{
	"bl.title":                          {"授信台账", "Credit lines"},
	"bl.intro":                          {"本行可依法查看的授信：有本行有效授权，或在本行尚有借款余额的农户。", "The bank's lines it may lawfully see: households with a live consent to the bank, or owing it money."},
	"bl.filter":                         {"筛选", "Filter"},
	"bl.village":                        {"村", "Village"},
	"bl.village_hint":                   {"12位村代码，如 330483102215", "12-digit village code, e.g. 330483102215"},
	"bl.status":                         {"状态", "Status"},
	"bl.grade":                          {"等级", "Grade"},
	"bl.expiring":                       {"多少天内到期", "Expiring within (days)"},
	"bl.any":                            {"全部", "Any"},
	"bl.apply":                          {"筛选", "Apply"},
	"bl.export":                         {"导出 CSV（Excel 可打开）", "Export CSV (opens in Excel)"},
	"bl.head":                           {"户主", "Head of household"},
	"bl.group":                          {"村民小组", "Group"},
	"bl.group_n":                        {"%d组", "Group %d"},
	"bl.limit":                          {"额度（元）", "Limit (yuan)"},
	"bl.drawn":                          {"已用（元）", "Drawn (yuan)"},
	"bl.available":                      {"可用（元）", "Available (yuan)"},
	"bl.rate":                           {"年利率", "Annual rate"},
	"bl.expiry":                         {"到期日", "Valid until"},
	"bl.line":                           {"授信", "Line"},
	"bl.open_line":                      {"额度详情", "Line details"},
	"bl.open_activity":                  {"用款与冻结", "Activity"},
	"bl.none":                           {"没有符合条件的授信。", "No lines match."},
	"bl.next":                           {"下一页", "Next page"},
	"bl.first":                          {"回到第一页", "Back to the first page"},
	"bl.bad_village":                    {"村代码应为12位数字，如 330483102215", "A village code is 12 digits, e.g. 330483102215"},
	"bl.bad_status":                     {"请选择列表中的状态", "Choose a status from the list"},
	"bl.bad_grade":                      {"等级应为政策中的等级名，如 AAA", "A grade is one of the policy's, such as AAA"},
	"bl.bad_expiring":                   {"请填写 1 到 %d 之间的天数", "Enter a number of days from 1 to %d"},
	"bl.bad_page":                       {"这个翻页链接已失效，已显示第一页。", "That page link no longer works; showing the first page."},
	"bl.st.active":                      {"正常", "Active"},
	"bl.st.frozen":                      {"已冻结", "Frozen"},
	"bl.st.expired":                     {"已到期", "Expired"},
	"bl.st.closed":                      {"已关闭", "Closed"},
	"bl.inbox_title":                    {"额度消息", "Line events"},
	"bl.inbox_intro":                    {"本行授信的变动，最新的在前：冻结、解冻、额度调整、用款、还款。", "Changes to the bank's lines, newest first: freezes, lifts, limit changes, drawdowns, repayments."},
	"bl.inbox_empty":                    {"还没有消息。", "No events yet."},
	"bl.when":                           {"时间", "Time"},
	"bl.what":                           {"事项", "Event"},
	"bl.who":                            {"农户", "Household"},
	"bl.detail":                         {"详情", "Details"},
	"bl.withheld":                       {"农户已撤回授权且无借款余额：只显示授信状态", "The household withdrew its consent and owes nothing: only the line's status is shown"},
	"bl.ev.opened":                      {"开立授信", "Line opened"},
	"bl.ev.updated":                     {"额度调整", "Line changed"},
	"bl.ev.frozen":                      {"冻结", "Frozen"},
	"bl.ev.unfrozen":                    {"解除冻结", "Freeze lifted"},
	"bl.ev.drawdown":                    {"用款", "Drawdown"},
	"bl.ev.repayment":                   {"还款", "Repayment"},
	"bl.freeze.blacklisted":             {"列入村黑榜", "Put on the village black list"},
	"bl.freeze.dishonest_debtor":        {"被列为失信被执行人", "Listed as a dishonest debtor"},
	"bl.amount_is":                      {"金额 %s 元", "Amount ¥%s"},
	"bl.after_is":                       {"之后已用 %s 元，可用 %s 元", "then drawn ¥%s, available ¥%s"},
	"bl.limit_is":                       {"额度 %s 元", "limit ¥%s"},
	"bl.colon":                          {"：", ": "},
	"bl.activity_title":                 {"用款与冻结", "Line activity"},
	"bl.summary":                        {"授信概况", "The line"},
	"bl.freeze_reason":                  {"冻结原因", "Why it is frozen"},
	"bl.decision_kind":                  {"决定", "Decision"},
	"bl.kind.automated":                 {"政策自动决定", "The policy's decision"},
	"bl.kind.override":                  {"人工调整", "A person's override"},
	"bl.tx_title":                       {"用款与还款", "Drawdowns and repayments"},
	"bl.tx_none":                        {"本页没有用款或还款。", "No drawdowns or repayments on this page."},
	"bl.freezes_title":                  {"冻结与解冻", "Freezes and lifts"},
	"bl.freezes_none":                   {"本页没有冻结记录。", "No freezes on this page."},
	"bl.older":                          {"更早的记录", "Older entries"},
	"bl.unfreeze_title":                 {"解除冻结", "Lift the freeze"},
	"bl.unfreeze_intro":                 {"写明为何可以解除冻结（至少10个字）；理由存入审计日志，监管可查。", "Say why the freeze can be lifted (at least 10 characters); it is kept in the audit log for the regulator."},
	"bl.justification":                  {"理由说明", "Justification"},
	"bl.unfreeze":                       {"解除冻结", "Lift the freeze"},
	"bl.unfreeze_risk":                  {"解除冻结须由本行风险经理办理。", "A risk manager of the bank lifts freezes."},
	"bl.not_frozen":                     {"这笔授信现在没有冻结。", "This line is not frozen now."},
	"bl.just_short":                     {"请写明理由，至少10个字", "Write a justification of at least 10 characters"},
	"bl.too_long":                       {"最多 %d 个字", "At most %d characters"},
	"bl.record_title":                   {"登记用款或还款", "Record a drawdown or repayment"},
	"bl.statuses_title":                 {"还款状态与五级分类", "Loan status and classification"},
	"bl.statuses_intro":                 {"本行报送的这笔贷款的逾期和分类情况，最新的在前。报送后系统会重新评估该户的授信（逾期记录会计入所有银行的授信政策，但不显示是哪家银行）。", "The bank's reports of how the loan stands, newest first. Each report has the household re-assessed (arrears count in every bank's credit policy, without saying which bank)."},
	"bl.statuses_none":                  {"还没有报送过还款状态。", "No loan status reported yet."},
	"bl.st_as_of":                       {"截至日期", "As of"},
	"bl.st_days":                        {"逾期天数", "Days past due"},
	"bl.st_principal":                   {"逾期本金（元）", "Principal overdue (yuan)"},
	"bl.st_interest":                    {"逾期利息（元）", "Interest overdue (yuan)"},
	"bl.st_class":                       {"五级分类", "Classification"},
	"bl.st_flags":                       {"状态", "Flags"},
	"bl.st_defaulted":                   {"违约", "In default"},
	"bl.st_written_off":                 {"已核销", "Written off"},
	"bl.st_settled_flag":                {"已结清", "Settled"},
	"bl.st_report_title":                {"报送还款状态", "Report a loan status"},
	"bl.st_report_intro":                {"按五级分类规则填写：逾期超过7天至少为关注，超过90天至少为次级，超过270天至少为可疑，超过360天为损失；损失类须为违约；核销须为违约的损失类；结清须无逾期、正常类。", "Follow the classification rules: more than 7 days past due is at least special mention, more than 90 at least substandard, more than 270 at least doubtful, more than 360 loss; loss only in default; a write-off is a defaulted loss; a settled loan has nothing overdue and is normal."},
	"bl.st_report":                      {"报送", "Report"},
	"bl.class.normal":                   {"正常", "Normal"},
	"bl.class.special_mention":          {"关注", "Special mention"},
	"bl.class.substandard":              {"次级", "Substandard"},
	"bl.class.doubtful":                 {"可疑", "Doubtful"},
	"bl.class.loss":                     {"损失", "Loss"},
	"bl.done.status":                    {"还款状态已报送，该户将重新评估。", "The loan status is recorded; the household will be re-assessed."},
	"bl.st_bad_days":                    {"请填写 0 到 %d 之间的整数天数", "Enter a whole number of days from 0 to %d"},
	"bl.st_future":                      {"截至日期不能晚于今天", "The date cannot be after today"},
	"bl.st_before_open":                 {"截至日期不能早于授信开立日", "The date cannot be before the line was opened"},
	"bl.st_longer_than_line":            {"逾期天数不能超过授信开立以来的天数", "A loan cannot be past due longer than the line has existed"},
	"bl.st_negative":                    {"金额不能为负数", "The amount cannot be negative"},
	"bl.st_amount":                      {"请填写以元为单位、最多两位小数的金额，如 1234.56", "Enter an amount in yuan with at most two decimals, such as 1234.56"},
	"bl.st_date":                        {"请填写 YYYY-MM-DD 格式的日期", "Enter a date as YYYY-MM-DD"},
	"bl.st_floor":                       {"按逾期天数，分类不能优于规定的最低档", "For these days past due the classification must be worse"},
	"bl.st_choose_class":                {"请选择五级分类", "Choose a classification"},
	"bl.st_loss_default":                {"损失类须同时报送违约", "Loss is reported only for a loan in default"},
	"bl.st_default_np":                  {"违约贷款须为次级、可疑或损失类", "A loan in default is substandard, doubtful or loss"},
	"bl.st_writeoff":                    {"只有违约的损失类贷款才能核销", "Only a defaulted loss is written off"},
	"bl.st_settled_writeoff":            {"结清和核销不能同时报送", "A loan is settled or written off, not both"},
	"bl.st_settled":                     {"结清的贷款须无逾期、为正常类且未违约", "A settled loan has nothing overdue, is normal and not in default"},
	"bl.st_need_amount":                 {"有逾期天数时须填写逾期本金或利息", "Days past due need an amount overdue"},
	"bl.st_need_days":                   {"有逾期金额时须填写逾期天数", "An amount overdue needs days past due"},
	"bl.st_refused":                     {"这次报送未被接受", "The report was not accepted"},
	"bl.st_refused.STATUS_OUT_OF_ORDER": {"已有更晚日期的报送，请按日期顺序报送", "A later report is on record: report in date order"},
	"bl.st_refused.LOAN_STATUS_FINAL":   {"这笔贷款已核销，或已结清且之后没有新的用款，不能再报送", "The loan was written off, or settled with no drawdown since: nothing more can be reported"},
	"bl.st_refused.CLASSIFICATION_TRANSITION":  {"分类不能这样上调：损失类不能上调，上调为正常或从不良上调须先还清逾期", "The classification cannot be raised so: never out of loss, and to normal or out of non-performing only with nothing past due"},
	"bl.st_refused.DEFAULT_CURE":               {"仍有逾期时不能解除违约", "A default is cleared only when nothing is past due"},
	"bl.st_refused.EVENT_ID_REUSED":            {"这张表单已经提交过别的内容，请刷新页面", "This form was already sent with other content: reload the page"},
	"bl.kind":                                  {"类型", "Kind"},
	"bl.kind.drawdown":                         {"用款", "Drawdown"},
	"bl.kind.repayment":                        {"还款", "Repayment"},
	"bl.amount":                                {"金额（元）", "Amount (yuan)"},
	"bl.use":                                   {"用途（用款时必填）", "Use (for a drawdown)"},
	"bl.use.agriculture":                       {"农业生产", "Farming"},
	"bl.use.livestock":                         {"养殖", "Livestock"},
	"bl.use.business":                          {"经营", "Business"},
	"bl.use.consumption":                       {"消费", "Consumption"},
	"bl.use.education":                         {"教育", "Education"},
	"bl.use.medical":                           {"医疗", "Medical"},
	"bl.record":                                {"登记", "Record"},
	"bl.bad_kind":                              {"请选择用款或还款", "Choose drawdown or repayment"},
	"bl.use_required":                          {"用款须选择用途", "Choose what the money is for"},
	"bl.bad_amount":                            {"请填写大于0的金额，最多两位小数，如 5000 或 1234.50", "Enter an amount above 0 with at most two decimals, e.g. 5000 or 1234.50"},
	"bl.form_stale":                            {"表单已过期，请刷新页面后重试", "The form is out of date: reload the page and try again"},
	"bl.tx_refused":                            {"这笔交易未能登记", "The transaction was not recorded"},
	"bl.tx_refused.INSUFFICIENT_AVAILABLE":     {"金额超过可用额度", "The amount is above what is available"},
	"bl.tx_refused.LINE_FROZEN":                {"授信已冻结，不能用款", "The line is frozen: no drawdown"},
	"bl.tx_refused.LINE_EXPIRED":               {"授信已到期，不能用款", "The line has expired: no drawdown"},
	"bl.tx_refused.LINE_CLOSED":                {"授信已关闭，不能用款", "The line is closed: no drawdown"},
	"bl.tx_refused.TRANSACTION_ID_REUSED":      {"这张表单已经提交过别的内容，请刷新页面", "This form was already sent with other content: reload the page"},
	"bl.tx_refused.REPAYMENT_EXCEEDS_DRAWN":    {"还款金额超过已用金额", "The repayment is above what is drawn"},
	"bl.tx_refused.TOTAL_EXPOSURE_EXCEEDED":    {"超过该户在各银行的总用款上限", "Above the household's total exposure cap across banks"},
	"bl.tx_refused.USE_FORBIDDEN":              {"这个用途不允许（不得购房、炒股或转贷）", "That use is not allowed (no housing, securities or re-lending)"},
	"bl.open_review_title":                     {"发起人工复核", "Open a review"},
	"bl.open_review_intro":                     {"对这笔授信所依据的自动决定发起复核；复核结果如需调整额度，须另一位客户经理批准。", "Open a review of the automated decision this line rests on; an override that follows needs a second officer's approval."},
	"bl.reason":                                {"复核原因", "Why review it"},
	"bl.reason_required":                       {"请写明复核原因", "Say why it should be reviewed"},
	"bl.open_review":                           {"发起复核", "Open the review"},
	"bl.review_refused.NOT_AUTOMATED":          {"这笔授信依据的已是人工决定，不能再发起复核", "This line already rests on a person's decision: it cannot be reviewed again"},
	"bl.review_refused.CONSENT_REQUIRED":       {"该户没有给本行有效授权，也没有借款余额：本行不能复核", "The household has no live consent to the bank and owes it nothing: the bank cannot review it"},
	"bl.done.unfreeze":                         {"已解除冻结。", "The freeze is lifted."},
	"bl.done.drawdown":                         {"用款已登记。", "The drawdown is recorded."},
	"bl.done.repayment":                        {"还款已登记。", "The repayment is recorded."},
	"bl.reviews_title":                         {"复核与调整", "Reviews and overrides"},
	"bl.reviews_intro":                         {"农户申请或客户经理发起的复核。调整额度须两人：一人提出，另一位同事批准后生效。", "Reviews a household asked for or an officer opened. An override takes two people: one proposes, a colleague approves it."},
	"bl.state":                                 {"状态", "State"},
	"bl.rs.open":                               {"待处理", "Open"},
	"bl.rs.upheld":                             {"维持原决定", "Upheld"},
	"bl.rs.overridden":                         {"已调整", "Overridden"},
	"bl.rs.all":                                {"全部", "All"},
	"bl.show":                                  {"显示", "Show"},
	"bl.reviews_empty":                         {"没有这种状态的复核。", "No reviews in this state."},
	"bl.requested_by":                          {"发起", "Opened by"},
	"bl.by_household":                          {"农户申请", "The household"},
	"bl.by_bank":                               {"客户经理发起", "An officer"},
	"bl.by_you":                                {"您发起", "You"},
	"bl.requested_on":                          {"时间", "On"},
	"bl.decision":                              {"原决定", "The decision"},
	"bl.decision_is":                           {"等级 %s，额度 %s 元，年利率 %s", "grade %s, limit ¥%s, rate %s"},
	"bl.declined":                              {"未获授信", "declined"},
	"bl.proposal":                              {"拟调整", "Proposed override"},
	"bl.proposal_is":                           {"额度调整为 %s 元", "limit to ¥%s"},
	"bl.proposed_by_you":                       {"由您提出，等待另一位同事批准", "proposed by you, waiting for a colleague's approval"},
	"bl.proposed_by_other":                     {"由同事提出，等待您或其他同事批准", "proposed by a colleague, waiting for approval"},
	"bl.approve":                               {"批准调整", "Approve the override"},
	"bl.resolve_title":                         {"处理复核", "Resolve"},
	"bl.outcome":                               {"结果", "Outcome"},
	"bl.uphold":                                {"维持原决定", "Uphold the decision"},
	"bl.override":                              {"提出调整额度（须另一人批准）", "Propose an override (a second person approves)"},
	"bl.new_limit":                             {"新额度（元，调整时填写；0 为不授信）", "New limit (yuan, for an override; 0 to decline)"},
	"bl.submit":                                {"提交", "Submit"},
	"bl.resolution":                            {"处理说明", "Resolution"},
	"bl.bad_outcome":                           {"请选择维持或调整", "Choose uphold or override"},
	"bl.limit_required":                        {"调整时请填写新额度", "Enter the new limit for an override"},
	"bl.bad_limit":                             {"请填写不小于0的金额，最多两位小数", "Enter an amount of 0 or more with at most two decimals"},
	"bl.review_refused.MAKER_CHECKER":          {"这项调整是您提出的，不能由您自己批准：须另一位同事批准。", "You proposed this override, so you cannot approve it: another colleague must."},
	"bl.review_refused.OVERRIDE_OUT_OF_BOUNDS": {"超出政策允许的范围（产品上限、跨行总额上限，或有一票否决项）", "Outside what the policy allows (the product maximum, the total exposure cap across banks, or a knock-out)"},
	"bl.review_refused.OVERRIDE_PROPOSED":      {"已有一项调整等待批准：请批准它，或维持原决定。", "An override already waits for approval: approve it, or uphold the decision."},
	"bl.review_refused.NO_OVERRIDE_PROPOSED":   {"没有待批准的调整。", "No override is waiting for approval."},
	"bl.review_refused.PROPOSAL_CHANGED":       {"拟调整的额度已变化，请重新查看后再批准。", "The proposed limit changed: look at it again before approving."},
	"bl.review_refused.REVIEW_CLOSED":          {"这项复核已经处理完毕。", "This review is already closed."},
	"bl.review_refused.DECISION_SUPERSEDED":    {"授信已依据新的决定或新的政策版本，请对当前决定重新复核。", "The line now rests on a newer decision or policy version: review the current one."},
	"bl.review_refused.NO_ACTIVE_POLICY":       {"该产品没有生效的授信政策。", "The product has no active credit policy."},
	"bl.done.opened":                           {"复核已发起。", "The review is open."},
	"bl.done.proposed":                         {"调整已提出，等待另一位同事批准。", "The override is proposed; a colleague must approve it."},
	"bl.done.upheld":                           {"已维持原决定。", "The decision is upheld."},
	"bl.done.approved":                         {"调整已批准，额度已更新。", "The override is approved; the line is updated."},
	"bl.outcome_limit":                         {"调整后额度 %s 元", "limit now ¥%s"},
}
