package console

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/evidence/photo"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// clerkRoutes registers the clerk pages (see routes): the household
// register, access-code slips, recording evidence and the catalogue.
func (c *Console) clerkRoutes() {
	v := "villages/{village}/"
	c.page("GET "+Prefix+v+"households", false, c.households)
	c.page("POST "+Prefix+v+"households/search", false, c.householdSearch)
	c.page("GET "+Prefix+v+"households/new", false, c.householdNew)
	c.page("POST "+Prefix+v+"households", false, c.householdCreate)
	c.page("GET "+Prefix+v+"households/{id}", false, c.householdShow)
	c.page("GET "+Prefix+v+"households/{id}/edit", false, c.householdEdit)
	c.page("POST "+Prefix+v+"households/{id}", false, c.householdUpdate)
	c.page("GET "+Prefix+v+"households/{id}/code", false, c.codePage)
	c.page("POST "+Prefix+v+"households/{id}/code", false, c.codeIssue)
	c.page("POST "+Prefix+v+"households/{id}/code/revoke", false, c.codeRevoke)
	c.page("GET "+Prefix+v+"evidence/new", false, c.evidenceNew)
	c.upload("POST "+Prefix+v+"evidence", uploadLimit, c.evidenceSubmit, c.evidenceRefused)
	c.page("GET "+Prefix+v+"catalogue", false, c.catalogue)
	c.memberRoutes()
}

// householdOf reads the page's village and household id (the path's, or
// the form's or query's "household" when the path has none), authorises a
// on them and reads the household. A malformed id is NotFound.
func (c *Console) householdOf(q *request, a access.Action, id string) (*household.Household, error) {
	village, err := villageOf(q)
	if err != nil {
		return nil, err
	}
	if err := q.authorise(a, access.Target{Village: village, Household: id}); err != nil {
		return nil, err
	}
	h, err := c.app.Households.Get(q.r.Context(), resource.Household(village, id))
	if fault.Is(err, fault.Invalid) {
		return nil, fault.New(fault.NotFound, "HOUSEHOLD_NOT_FOUND", "no household %q", id)
	}
	return h, err
}

// field is one input of a clerk form: its label and hint are message keys,
// its error a sentence for the person (next to the input).
type field struct {
	Name, Label, Hint string
	Type              string // text, number, date, checkbox, select
	Value, Error      string
	Required          bool
	Groups            []optGroup // select
	Mode              string     // inputmode
}

type optGroup struct {
	Label   points.Label
	Options []option
}

type option struct {
	Value    string
	Label    points.Label
	Selected bool
}

// form is a clerk form: its fields, an error about the whole of it, and
// the request id that makes a repeated submission harmless.
type form struct {
	Action, Submit string
	RequestID      string
	Error          string
	Fields         []*field
}

func (f *form) get(name string) *field {
	for _, fd := range f.Fields {
		if fd.Name == name {
			return fd
		}
	}
	return nil
}

// fill copies the posted values into the fields.
func (f *form) fill(r *http.Request) {
	for _, fd := range f.Fields {
		fd.Value = strings.TrimSpace(r.PostFormValue(fd.Name))
		if fd.Type == "checkbox" && fd.Value != "" {
			fd.Value = "on"
		}
	}
	if id := r.PostFormValue("request_id"); requestIDPattern.MatchString(id) {
		f.RequestID = id
	}
	if f.RequestID == "" {
		f.RequestID = newRequestID()
	}
}

// scrub blanks free text that holds a 身份证号 (the service refused it):
// the number is not sent back into the page. The head's own field keeps
// its value (the page is no-store) so a clerk need not type it again.
func (f *form) scrub() {
	for _, fd := range f.Fields {
		if fd.Name != "head_id_number" && idnum.ContainsPersonID(fd.Value) {
			fd.Value = ""
		}
	}
}

func (f *form) ok() bool {
	if f.Error != "" {
		return false
	}
	for _, fd := range f.Fields {
		if fd.Error != "" {
			return false
		}
	}
	return true
}

// integer reads field name as a whole number, marking it when it is not.
func (f *form) integer(l lang, name string) int32 {
	fd := f.get(name)
	if fd.Value == "" {
		return 0
	}
	n, err := strconv.ParseInt(fd.Value, 10, 32)
	if err != nil {
		fd.Error = text(l, "clerk.bad_number")
	}
	return int32(n)
}

var requestIDPattern = regexp.MustCompile(`^console-[A-Za-z0-9_-]{22}$`)

// newRequestID is generated once per form shown, so that submitting the
// same form twice (a double tap, a resend) is one request to the service.
func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "console-" + base64.RawURLEncoding.EncodeToString(b)
}

// explain puts a service's refusal next to the fields it names (fields
// maps the service's field paths to inputs); what names no input goes at
// the top. Reasons without an own message are said generically, in the
// page's language: service descriptions are English.
func (f *form) explain(l lang, err error, fields map[string]string) bool {
	return f.explainWith(l, err, fields, nil)
}

// explainWith is explain with messages of its own (message keys by the
// service's field path), for services whose descriptions name codes.
func (f *form) explainWith(l lang, err error, fields, own map[string]string) bool {
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != fault.Invalid {
		return false
	}
	for _, v := range fe.Violations {
		fd := f.get(fields[v.Field])
		msg := violationText(l, v)
		if key, ok := own[v.Field]; ok && !strings.HasPrefix(v.Description, "is required") {
			msg = text(l, key)
		}
		if fd == nil {
			if f.Error == "" {
				f.Error = msg
			}
			continue
		}
		if fd.Error == "" {
			fd.Error = msg
		}
	}
	return true
}

func violationText(l lang, v fault.Violation) string {
	switch {
	case strings.HasPrefix(v.Description, "is required"):
		return text(l, "clerk.required")
	case l == zh && v.ZH != "":
		return v.ZH
	case l == zh:
		return text(l, "clerk.invalid") + "（" + v.Description + "）"
	}
	return text(l, "clerk.invalid") + " (" + v.Description + ")"
}

// --- households --------------------------------------------------------

type householdsView struct {
	Village              string
	Name, Group, Address string
	IDNumber             string
	GroupError, IDError  string
	Searched, More       bool
	Found                []*household.Household
}

func (c *Console) households(q *request) error {
	village, err := villageOf(q)
	if err != nil {
		return err
	}
	if err := q.authorise(access.HouseholdList, access.Target{Village: village}); err != nil {
		return err
	}
	c.render(q, http.StatusOK, "clerk_households", householdsView{Village: village})
	return nil
}

// householdSearch finds households by name, group and 门牌, or by the
// head's 身份证号 (posted, so the number never lands in a URL or a log).
func (c *Console) householdSearch(q *request) error {
	village, err := villageOf(q)
	if err != nil {
		return err
	}
	v := householdsView{Village: village, Searched: true,
		Name: strings.TrimSpace(q.r.PostFormValue("name")), Group: strings.TrimSpace(q.r.PostFormValue("group")),
		Address: strings.TrimSpace(q.r.PostFormValue("address")), IDNumber: strings.TrimSpace(q.r.PostFormValue("id_number"))}
	ctx := q.r.Context()
	if v.IDNumber != "" {
		if err := q.authorise(access.HouseholdLookup, access.Target{Village: village}); err != nil {
			return err
		}
		h, err := c.app.Households.Lookup(ctx, resource.Village(village), strings.ToUpper(v.IDNumber))
		switch {
		case err == nil:
			v.Found = []*household.Household{h}
		case fault.Is(err, fault.NotFound):
		case fault.Is(err, fault.Invalid):
			v.IDError = text(q.lang, "clerk.bad_id_number")
		default:
			return err
		}
		v.IDNumber = "" // not echoed back into the page
		c.render(q, http.StatusOK, "clerk_households", v)
		return nil
	}
	if err := q.authorise(access.HouseholdList, access.Target{Village: village}); err != nil {
		return err
	}
	var group int64
	if v.Group != "" {
		group, err = strconv.ParseInt(strings.TrimSuffix(v.Group, "组"), 10, 32)
		if err != nil || group < 1 || group > 99 {
			v.GroupError = text(q.lang, "clerk.bad_group")
			c.render(q, http.StatusBadRequest, "clerk_households", v)
			return nil
		}
	}
	v.Found, v.More, err = c.app.FindHouseholds(ctx, village, app.HouseholdQuery{Name: v.Name, Group: int32(group), Address: v.Address})
	if err != nil {
		return err
	}
	c.render(q, http.StatusOK, "clerk_households", v)
	return nil
}

type householdFormView struct {
	Village   string
	Household *household.Household // nil when registering
	Form      form
}

// householdFields are the inputs of household.CreateInput, in the words
// clerks use; update shows them all but the 身份证号 and the register date.
func householdFields(update bool) []*field {
	var fs []*field
	fs = append(fs, &field{Name: "head_name", Label: "clerk.head_name", Type: "text", Required: true})
	if !update {
		fs = append(fs, &field{Name: "head_id_number", Label: "clerk.head_id_number", Hint: "clerk.head_id_number_hint", Type: "text", Required: true})
	}
	fs = append(fs,
		&field{Name: "group", Label: "clerk.group", Type: "number", Required: true, Mode: "numeric"},
		&field{Name: "address", Label: "clerk.address", Hint: "clerk.address_hint", Type: "text"})
	if !update {
		fs = append(fs, &field{Name: "registered", Label: "clerk.registered", Type: "date", Required: true})
	}
	return append(fs,
		&field{Name: "members", Label: "clerk.members", Type: "number", Required: true, Mode: "numeric"},
		&field{Name: "labourers", Label: "clerk.labourers", Type: "number", Required: true, Mode: "numeric"},
		&field{Name: "annual_income", Label: "clerk.annual_income", Hint: "clerk.money_hint", Type: "text", Required: true, Mode: "decimal"},
		&field{Name: "land_area_mu", Label: "clerk.land_area_mu", Type: "text", Required: true, Mode: "decimal"},
		&field{Name: "collective_shares", Label: "clerk.collective_shares", Type: "text", Required: true, Mode: "decimal"},
		&field{Name: "existing_debt", Label: "clerk.existing_debt", Hint: "clerk.money_hint", Type: "text", Required: true, Mode: "decimal"},
		&field{Name: "dishonest", Label: "clerk.dishonest", Type: "checkbox"},
		&field{Name: "source", Label: "clerk.source", Hint: "clerk.source_hint", Type: "text", Required: true},
		&field{Name: "as_of", Label: "clerk.as_of", Type: "date", Required: true},
	)
}

// householdFieldOf maps the household service's field paths to inputs.
var householdFieldOf = map[string]string{
	"household.head_name":                "head_name",
	"household.head_id_number":           "head_id_number",
	"household.group":                    "group",
	"household.address":                  "address",
	"household.registered_date":          "registered",
	"household.facts.members":            "members",
	"household.facts.labourers":          "labourers",
	"household.facts.annual_income":      "annual_income",
	"household.facts.land_area_mu":       "land_area_mu",
	"household.facts.collective_shares":  "collective_shares",
	"household.facts.existing_bank_debt": "existing_debt",
	"household.facts.source":             "source",
	"household.facts.as_of_date":         "as_of",
}

func today() string { return time.Now().In(shanghai).Format(time.DateOnly) }

func (c *Console) householdNew(q *request) error {
	village, err := villageOf(q)
	if err != nil {
		return err
	}
	if err := q.authorise(access.HouseholdCreate, access.Target{Village: village}); err != nil {
		return err
	}
	f := form{Fields: householdFields(false), RequestID: newRequestID()}
	f.get("as_of").Value = today()
	f.get("existing_debt").Value = "0"
	f.get("collective_shares").Value = "0"
	c.render(q, http.StatusOK, "clerk_household_form", householdFormView{Village: village, Form: f})
	return nil
}

// factsInput reads the facts inputs of f.
func factsInput(l lang, f *form) *household.FactsInput {
	return &household.FactsInput{
		Members: f.integer(l, "members"), Labourers: f.integer(l, "labourers"),
		AnnualIncome: f.get("annual_income").Value, LandAreaMu: f.get("land_area_mu").Value,
		CollectiveShares: f.get("collective_shares").Value, ExistingDebt: f.get("existing_debt").Value,
		DishonestDebtor: f.get("dishonest").Value == "on", Source: f.get("source").Value, AsOf: f.get("as_of").Value,
	}
}

func (c *Console) householdCreate(q *request) error {
	village, err := villageOf(q)
	if err != nil {
		return err
	}
	if err := q.authorise(access.HouseholdCreate, access.Target{Village: village}); err != nil {
		return err
	}
	f := form{Fields: householdFields(false)}
	f.fill(q.r)
	in := household.CreateInput{Parent: resource.Village(village), HeadName: f.get("head_name").Value,
		HeadIDNumber: strings.ToUpper(f.get("head_id_number").Value), Group: f.integer(q.lang, "group"),
		Address: f.get("address").Value, Registered: f.get("registered").Value, RequestID: f.RequestID}
	in.Facts = factsInput(q.lang, &f)
	var h *household.Household
	if f.ok() {
		h, err = c.app.Households.Create(q.r.Context(), q.p, in)
		var fe *fault.Error
		switch {
		case err == nil:
		case f.explain(q.lang, err, householdFieldOf):
		case errors.As(err, &fe) && (fe.Reason == "HEAD_ALREADY_REGISTERED" || fe.Reason == "HEAD_NOT_REGISTRABLE"):
			f.get("head_id_number").Error = text(q.lang, "clerk.head_taken")
		case errors.As(err, &fe) && fe.Reason == "REQUEST_ID_REUSED":
			f.Error = text(q.lang, "clerk.resubmit")
			f.RequestID = newRequestID()
		default:
			return err
		}
	}
	if !f.ok() {
		f.scrub()
		c.render(q, http.StatusBadRequest, "clerk_household_form", householdFormView{Village: village, Form: f})
		return nil
	}
	http.Redirect(q.w, q.r, Prefix+"villages/"+village+"/households/"+h.ID+"?done=registered", http.StatusSeeOther)
	return nil
}

type householdView struct {
	Village   string
	Household *household.Household
	Done      string // message key of what was just done
}

func (c *Console) householdShow(q *request) error {
	h, err := c.householdOf(q, access.HouseholdRead, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	v := householdView{Village: h.Village, Household: h}
	switch q.r.URL.Query().Get("done") {
	case "registered":
		v.Done = "clerk.done_registered"
	case "updated":
		v.Done = "clerk.done_updated"
	case "recorded":
		v.Done = "clerk.done_recorded"
	case "revoked":
		v.Done = "clerk.done_revoked"
	case "member_added", "member_updated":
		v.Done = "clerk.done_" + q.r.URL.Query().Get("done")
	}
	c.render(q, http.StatusOK, "clerk_household", v)
	return nil
}

func (c *Console) householdEdit(q *request) error {
	h, err := c.householdOf(q, access.HouseholdUpdate, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	f := form{Fields: householdFields(true), RequestID: newRequestID()}
	fa := h.Facts
	for name, val := range map[string]string{"head_name": h.HeadName, "group": strconv.Itoa(int(h.Group)), "address": h.Address,
		"members": strconv.Itoa(int(fa.Members)), "labourers": strconv.Itoa(int(fa.Labourers)),
		"annual_income": fa.AnnualIncome.String(), "land_area_mu": fa.LandAreaMu.String(),
		"collective_shares": fa.CollectiveShares.String(), "existing_debt": fa.ExistingDebt.String(),
		"source": fa.Source, "as_of": today()} {
		f.get(name).Value = val
	}
	if fa.DishonestDebtor {
		f.get("dishonest").Value = "on"
	}
	c.render(q, http.StatusOK, "clerk_household_form", householdFormView{Village: h.Village, Household: h, Form: f})
	return nil
}

// householdUpdate records the facts as a new version (earlier versions
// stay as they were) and the head's name, group and 门牌 where changed.
func (c *Console) householdUpdate(q *request) error {
	h, err := c.householdOf(q, access.HouseholdUpdate, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	f := form{Fields: householdFields(true)}
	f.fill(q.r)
	in := household.UpdateInput{Name: h.Name(), HeadName: f.get("head_name").Value, Group: f.integer(q.lang, "group"),
		Address: f.get("address").Value, Paths: []string{"facts"}}
	in.Facts = factsInput(q.lang, &f)
	if in.HeadName != h.HeadName {
		in.Paths = append(in.Paths, "head_name")
	}
	if in.Group != h.Group {
		in.Paths = append(in.Paths, "group")
	}
	if in.Address != h.Address {
		in.Paths = append(in.Paths, "address")
	}
	if f.ok() && len(in.Paths) == 1 && sameFacts(h.Facts, in.Facts) {
		// Nothing changed (a form sent twice, or saved as it was): no new
		// version. Best effort: the update itself carries no request id.
		http.Redirect(q.w, q.r, Prefix+"villages/"+h.Village+"/households/"+h.ID+"?done=updated", http.StatusSeeOther)
		return nil
	}
	if f.ok() {
		_, err = c.app.Households.Update(q.r.Context(), q.p, in)
		if err != nil && !f.explain(q.lang, err, householdFieldOf) {
			return err
		}
	}
	if !f.ok() {
		f.scrub()
		c.render(q, http.StatusBadRequest, "clerk_household_form", householdFormView{Village: h.Village, Household: h, Form: f})
		return nil
	}
	http.Redirect(q.w, q.r, Prefix+"villages/"+h.Village+"/households/"+h.ID+"?done=updated", http.StatusSeeOther)
	return nil
}

// sameFacts reports whether in says what f says.
func sameFacts(f household.Facts, in *household.FactsInput) bool {
	dec := func(d decimal.Decimal, s string) bool {
		x, err := decimal.NewFromString(s)
		return err == nil && x.Equal(d)
	}
	return f.Members == in.Members && f.Labourers == in.Labourers && f.DishonestDebtor == in.DishonestDebtor &&
		f.Source == strings.TrimSpace(in.Source) && string(f.AsOf) == in.AsOf &&
		dec(f.AnnualIncome, in.AnnualIncome) && dec(f.LandAreaMu, in.LandAreaMu) &&
		dec(f.CollectiveShares, in.CollectiveShares) && dec(f.ExistingDebt, in.ExistingDebt)
}

// --- access codes ------------------------------------------------------

type codeView struct {
	Village   string
	Household *household.Household
	// Code is set once, on the page that issues it: only its hash is kept.
	Code      string
	SignInURL string
	// QR is the sign-in link with the code filled in, as an image: the
	// household scans it instead of typing the code.
	QR template.URL
}

func (c *Console) codePage(q *request) error {
	h, err := c.householdOf(q, access.SigninCodeAdminister, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	c.render(q, http.StatusOK, "clerk_code", codeView{Village: h.Village, Household: h})
	return nil
}

// codeIssue issues a new code (revoking the last) and shows the slip to
// print. The code is on this response only.
func (c *Console) codeIssue(q *request) error {
	h, err := c.householdOf(q, access.SigninCodeAdminister, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	code, _, err := c.app.SignIn.IssueCode(q.r.Context(), q.p, h.Village, h.ID)
	if err != nil {
		return err
	}
	scheme := "http"
	if q.r.TLS != nil || c.opts.Secure {
		scheme = "https"
	}
	v := codeView{Village: h.Village, Household: h, Code: code, SignInURL: scheme + "://" + q.r.Host + Prefix + "signin"}
	// The link fills the code in; the household still taps 登录 itself
	// (docs/CONSOLE.md: why a code in this link is acceptable).
	if v.QR, err = qrDataURI(v.SignInURL + "?" + url.Values{"code": {code}}.Encode()); err != nil {
		return err
	}
	c.render(q, http.StatusOK, "clerk_code", v)
	return nil
}

func (c *Console) codeRevoke(q *request) error {
	h, err := c.householdOf(q, access.SigninCodeAdminister, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := c.app.SignIn.RevokeCode(q.r.Context(), q.p, h.Village, h.ID); err != nil {
		return err
	}
	http.Redirect(q.w, q.r, Prefix+"villages/"+h.Village+"/households/"+h.ID+"?done=revoked", http.StatusSeeOther)
	return nil
}

// --- evidence ----------------------------------------------------------

type evidenceView struct {
	Village   string
	Household *household.Household
	Form      form
}

// evidenceFieldOf maps the evidence service's field paths to inputs. A
// photo the item needs names "attachments": it is said at the photo (a
// document, which the console cannot take, at the item: see
// attachmentsSay).
var evidenceFieldOf = map[string]string{
	"item_code": "item", "quantity": "quantity", "occurred_on": "occurred_on",
	"witness": "witness", "note": "note", "attachments": "photo", "system_source": "item",
}

// evidenceSays words the evidence service's violations for the page: its
// descriptions name item codes, which a page never shows.
var evidenceSays = map[string]string{
	"item_code":     "clerk.ev_bad_item",
	"quantity":      "clerk.ev_bad_quantity",
	"occurred_on":   "clerk.ev_bad_date",
	"witness":       "clerk.ev_bad_witness",
	"note":          "clerk.ev_bad_note",
	"attachments":   "photo.needed",
	"system_source": "clerk.ev_machine",
}

func evidenceFields(cat *app.CatalogueView, chosen string) []*field {
	item := &field{Name: "item", Label: "clerk.ev_item", Type: "select", Required: true, Value: chosen}
	for _, ar := range cat.Areas {
		g := optGroup{Label: ar.Area.Label}
		for _, it := range ar.Items {
			g.Options = append(g.Options, option{Value: it.Code, Label: it.Label, Selected: it.Code == chosen})
		}
		if len(g.Options) > 0 {
			item.Groups = append(item.Groups, g)
		}
	}
	return []*field{item,
		{Name: "occurred_on", Label: "clerk.ev_date", Type: "date", Required: true},
		{Name: "quantity", Label: "clerk.ev_quantity", Hint: "clerk.ev_quantity_hint", Type: "number", Required: true, Mode: "numeric"},
		{Name: "witness", Label: "clerk.ev_witness", Hint: "clerk.ev_witness_hint", Type: "text"},
		{Name: "note", Label: "clerk.ev_note", Type: "text"},
		{Name: "photo", Label: "photo.label", Hint: "photo.hint", Type: "file"},
	}
}

func (c *Console) evidenceForm(q *request, id string) (*household.Household, *app.CatalogueView, error) {
	h, err := c.householdOf(q, access.EvidenceSubmit, id)
	if err != nil {
		return nil, nil, err
	}
	if err := q.authorise(access.CatalogueRead, access.Target{Village: h.Village}); err != nil {
		return nil, nil, err
	}
	cat, err := c.app.CatalogueByArea(q.r.Context(), h.Village)
	return h, cat, err
}

func (c *Console) evidenceNew(q *request) error {
	h, cat, err := c.evidenceForm(q, q.r.URL.Query().Get("household"))
	if err != nil {
		return err
	}
	f := form{Fields: evidenceFields(cat, ""), RequestID: newRequestID()}
	f.get("occurred_on").Value = today()
	f.get("quantity").Value = "1"
	c.render(q, http.StatusOK, "clerk_evidence", evidenceView{Village: h.Village, Household: h, Form: f})
	return nil
}

// evidenceSubmit records the evidence as the signed-in clerk; it waits for
// a reviewer (or, for a machine-recorded item, goes on notice at once).
func (c *Console) evidenceSubmit(q *request) error {
	h, cat, err := c.evidenceForm(q, q.r.PostFormValue("household"))
	if err != nil {
		return err
	}
	f := form{Fields: evidenceFields(cat, q.r.PostFormValue("item"))}
	f.fill(q.r)
	in := evidence.SubmitInput{Parent: h.Name(), Kind: evidence.Points, ItemCode: f.get("item").Value,
		Quantity: f.integer(q.lang, "quantity"), OccurredOn: f.get("occurred_on").Value,
		Witness: f.get("witness").Value, Note: f.get("note").Value, RequestID: f.RequestID}
	if in.ItemCode == "" {
		f.get("item").Error = text(q.lang, "clerk.ev_pick_item")
	}
	upload, err := uploaded(q.r, "photo", photo.MaxBytes)
	if err != nil {
		return err
	}
	if f.ok() {
		_, err = c.app.SubmitWithPhoto(q.r.Context(), q.p, in, upload)
		var fe *fault.Error
		fields, says := attachmentsSay(err)
		switch {
		case err == nil:
		case f.photoRefused(q.lang, err):
		case f.explainWith(q.lang, err, fields, says):
		case errors.As(err, &fe) && fe.Reason == "REQUEST_ID_REUSED":
			f.Error = text(q.lang, "clerk.resubmit")
			f.RequestID = newRequestID()
		default:
			return err
		}
	}
	if !f.ok() {
		f.scrub()
		if ph := f.get("photo"); len(upload) > 0 && ph.Error == "" {
			// A browser does not fill a file input again.
			ph.Hint = "photo.choose_again"
		}
		c.render(q, http.StatusBadRequest, "clerk_evidence", evidenceView{Village: h.Village, Household: h, Form: f})
		return nil
	}
	http.Redirect(q.w, q.r, Prefix+"villages/"+h.Village+"/households/"+h.ID+"?done=recorded", http.StatusSeeOther)
	return nil
}

// --- catalogue ---------------------------------------------------------

func (c *Console) catalogue(q *request) error {
	village, err := villageOf(q)
	if err != nil {
		return err
	}
	if err := q.authorise(access.CatalogueRead, access.Target{Village: village}); err != nil {
		return err
	}
	cat, err := c.app.CatalogueByArea(q.r.Context(), village)
	if err != nil {
		return err
	}
	c.render(q, http.StatusOK, "clerk_catalogue", cat)
	return nil
}

// clerkMessages are the clerk pages' texts, merged into messages.
var clerkMessages = map[string][2]string{
	"clerk.nav_households":      {"农户名册", "Households"},
	"clerk.nav_catalogue":       {"积分事项", "Points items"},
	"clerk.households":          {"农户名册", "Households"},
	"clerk.find":                {"查找农户", "Find a household"},
	"clerk.find_hint":           {"填任意几项：户主姓名的一部分、组、门牌的一部分。", "Fill in any of: part of the head's name, the group, part of the house number."},
	"clerk.find_name":           {"户主姓名", "Head of household's name"},
	"clerk.find_group":          {"组（村民小组）", "Group (villagers' group)"},
	"clerk.find_address":        {"门牌", "House number"},
	"clerk.find_submit":         {"查找", "Find"},
	"clerk.find_by_id":          {"按身份证号查找", "Find by ID card number"},
	"clerk.find_id":             {"户主身份证号（18位）", "Head's ID card number (18 characters)"},
	"clerk.found":               {"查找结果", "Results"},
	"clerk.found_none":          {"没有找到符合的农户。", "No household matches."},
	"clerk.found_more":          {"结果太多，只显示前200户，请多填几项再查。", "Too many results: only the first 200 are shown; fill in more to narrow the search."},
	"clerk.bad_group":           {"组请填1到99之间的数字。", "The group is a number from 1 to 99."},
	"clerk.bad_id_number":       {"身份证号不对，请核对后重新输入（18位，最后一位可能是X）。", "That ID card number is not valid; check it (18 characters, the last may be X)."},
	"clerk.register":            {"登记新农户", "Register a household"},
	"clerk.register_submit":     {"登记", "Register"},
	"clerk.open":                {"查看", "Open"},
	"clerk.head":                {"户主", "Head of household"},
	"clerk.id_masked":           {"身份证号", "ID card number"},
	"clerk.head_name":           {"户主姓名", "Head of household's name"},
	"clerk.head_id_number":      {"户主身份证号", "Head's ID card number"},
	"clerk.head_id_number_hint": {"18位，最后一位可能是X。只保存加密后的号码。", "18 characters, the last may be X. Only an encrypted copy is kept."},
	"clerk.group":               {"村民小组（组）", "Villagers' group"},
	"clerk.group_n":             {"%d组", "group %d"},
	"clerk.address":             {"门牌", "House number"},
	"clerk.address_hint":        {"例如：南阳村3组27号", "For example: 南阳村3组27号"},
	"clerk.registered":          {"登记日期", "Registered on"},
	"clerk.facts":               {"家庭情况", "Household facts"},
	"clerk.facts_version":       {"第%d版", "version %d"},
	"clerk.members":             {"家庭人口（人）", "People in the household"},
	"clerk.labourers":           {"劳动力（人）", "Working adults"},
	"clerk.annual_income":       {"家庭年收入（元）", "Household income a year (yuan)"},
	"clerk.land_area_mu":        {"承包地（亩）", "Contracted land (mu)"},
	"clerk.collective_shares":   {"集体经济股份（股）", "Collective shares"},
	"clerk.existing_debt":       {"现有银行贷款（元）", "Bank loans now (yuan)"},
	"clerk.money_hint":          {"只填数字，最多两位小数，例如 86000.50", "Digits only, at most two decimals, e.g. 86000.50"},
	"clerk.dishonest":           {"列入失信被执行人名单", "On the list of dishonest judgement debtors"},
	"clerk.source":              {"信息来源", "Where these facts come from"},
	"clerk.source_hint":         {"例如：村委会登记、入户调查", "For example: village register, home visit"},
	"clerk.as_of":               {"情况截至日期", "Facts as of"},
	"clerk.yes":                 {"是", "yes"},
	"clerk.no":                  {"否", "no"},
	"clerk.required":            {"请填写这一项。", "Please fill this in."},
	"clerk.invalid":             {"这一项填得不对，请核对", "This is not right; please check it"},
	"clerk.bad_number":          {"请填一个整数。", "Please enter a whole number."},
	"clerk.head_taken":          {"此人已是一户的户主，不能再登记。请先查找该户；有疑问请联系县（市）主管部门。", "This person already heads a household and cannot be registered again. Find that household first, or ask the county office."},
	"clerk.resubmit":            {"这张表已提交过别的内容，请检查后再提交一次。", "This form was already submitted with other content; check it and submit again."},
	"clerk.fix_below":           {"有几项需要修改，请看下面标红的说明。", "Some answers need changing: see the notes in red below."},
	"clerk.update":              {"修改户主信息和家庭情况", "Change the household's details and facts"},
	"clerk.update_submit":       {"保存（记为新版本）", "Save (as a new version)"},
	"clerk.update_note":         {"家庭情况每次保存都记为新的一版，以前的版本保留不变。身份证号不能修改：换户主要登记新户。", "Each save records the facts as a new version; earlier versions stay as they were. The ID card number cannot change: a new head registers a new household."},
	"clerk.done_registered":     {"已登记。", "Registered."},
	"clerk.done_updated":        {"已保存，家庭情况记为新的一版。", "Saved; the facts are recorded as a new version."},
	"clerk.done_recorded":       {"证据已登记，等待审核人审核。", "Evidence recorded; it waits for a reviewer."},
	"clerk.done_revoked":        {"登录码已作废，这户暂时无法登录。", "The sign-in code is revoked; the household cannot sign in until a new one is issued."},
	"clerk.record_evidence":     {"登记积分证据", "Record evidence"},
	"clerk.code":                {"登录码", "Sign-in code"},
	"clerk.code_title":          {"农户登录码", "Household sign-in code"},
	"clerk.code_intro":          {"登录码让这户人家用手机查看自己的成绩单。发放后请打印纸条交给户主本人。", "The code lets this household read its report card on a phone. Print the slip and hand it to the head of household in person."},
	"clerk.code_reissue":        {"重新发放会让以前发的登录码立即作废，正在登录的手机也会退出。", "Issuing a new code revokes the previous one at once and signs out any phone using it."},
	"clerk.code_issue":          {"发放新登录码", "Issue a new code"},
	"clerk.code_revoke":         {"作废登录码（纸条丢失时）", "Revoke the code (slip lost)"},
	"clerk.code_revoke_note":    {"作废后这户无法登录，直到发放新码。", "Once revoked the household cannot sign in until a new code is issued."},
	"clerk.slip_title":          {"农户登录凭条", "Household sign-in slip"},
	"clerk.slip_code":           {"登录码", "Sign-in code"},
	"clerk.slip_where":          {"登录网址", "Sign in at"},
	"clerk.slip_how":            {"用手机打开上面的网址，在“农户登录”处输入登录码。请妥善保管，不要告诉别人；丢失请找村委会作废重发。", "Open the address above on a phone and enter the code under “Households”. Keep it safe and private; if lost, ask the village committee to revoke it and issue a new one."},
	"clerk.slip_revoked":        {"此前发放给这户的登录码已作废。", "Any code issued to this household before is now revoked."},
	"clerk.slip_qr":             {"用手机扫这个二维码，登录码会自动填好，核对后点“登录”。", "Scan this code with a phone: the sign-in code is filled in; check it and tap “Sign in”."},
	"clerk.slip_qr_alt":         {"登录二维码", "QR code for signing in"},
	"clerk.slip_once":           {"登录码只显示这一次，请现在打印。", "The code is shown only this once: print it now."},
	"clerk.slip_print":          {"打印纸条", "Print the slip"},
	"clerk.slip_issued":         {"发放日期", "Issued on"},
	"clerk.back":                {"返回这一户", "Back to the household"},
	"clerk.evidence":            {"登记积分证据", "Record evidence"},
	"clerk.ev_for":              {"农户", "Household"},
	"clerk.ev_item":             {"积分事项", "Points item"},
	"clerk.ev_pick":             {"请选择事项", "Choose an item"},
	"clerk.ev_pick_item":        {"请选择一个积分事项。", "Please choose a points item."},
	"clerk.ev_date":             {"发生日期", "Date it happened"},
	"clerk.ev_quantity":         {"数量", "Quantity"},
	"clerk.ev_quantity_hint":    {"按事项的单位计，例如参加了几次。", "In the item's unit, e.g. how many times."},
	"clerk.ev_witness":          {"证明人", "Witness"},
	"clerk.ev_witness_hint":     {"不是本户的人，写姓名和身份，例如：村民小组长 王伟。", "Someone outside the household: name and role, e.g. group leader Wang Wei."},
	"clerk.ev_note":             {"备注", "Note"},
	"clerk.ev_submit":           {"提交审核", "Submit for review"},
	"clerk.ev_bad_item":         {"请选择本村目录里的事项。", "Choose an item of this village's list."},
	"clerk.ev_bad_quantity":     {"数量请填1以上的整数，一次不能超过这个事项的每年上限。", "The quantity is a whole number from 1, and one record cannot exceed the item's yearly cap."},
	"clerk.ev_bad_date":         {"日期请按2026-01-31的格式填写，不能是将来，也不能早于补登期限或本户登记日期。", "Write the date like 2026-01-31; it cannot be in the future, nor before the back-dating limit or the household's registration."},
	"clerk.ev_bad_witness":      {"这个事项需要证明人：写明不是本户的人的姓名和身份，最多100字。", "This item needs a witness: the name and role of someone outside the household, at most 100 characters."},
	"clerk.ev_bad_note":         {"备注太长，或写了身份证号（备注里不能写身份证号）。", "The note is too long, or holds an ID card number (a note must not)."},
	"clerk.ev_machine":          {"这个事项由机器自动记录（如智能设备、扫码签到），不在这里登记。", "This item is recorded by machines (smart bins, check-ins), not here."},
	"clerk.ev_needs_upload":     {"这个事项需要证明文件，网页上暂时只能上传照片，请用命令行登记。", "This item needs a document, which this console cannot take yet (only photos); record it with the CLI."},
	"clerk.catalogue":           {"积分事项目录", "Points items"},
	"clerk.cat_intro":           {"本村现在使用的积分事项（县里的基础目录加上本村的调整）。", "The points items this village uses now (the county's list with the village's changes)."},
	"clerk.cat_item":            {"事项", "Item"},
	"clerk.cat_points":          {"每单位积分", "Points per unit"},
	"clerk.cat_unit":            {"单位", "Unit"},
	"clerk.cat_cap":             {"每年上限", "Yearly cap"},
	"clerk.cat_no_cap":          {"不设上限", "no cap"},
	"clerk.cat_evidence":        {"需要的证据", "Evidence needed"},
	"clerk.cat_review":          {"需要审核", "Review needed"},
	"clerk.cat_not_credit":      {"不计入信用", "not counted for credit"},
	"clerk.cat_none":            {"无", "none"},
	"clerk.cat_version":         {"县目录第%d版，村目录第%d版", "county list version %d, village list version %d"},
	"clerk.ev_photo_hash":       {"照片", "a photo"},
	"clerk.ev_witness_kind":     {"证明人", "a witness"},
	"clerk.ev_document_hash":    {"证明文件", "a document"},
	"clerk.ev_system_record":    {"系统记录", "a machine record"},
}

// evidenceKindKey names the message of an evidence kind an item requires.
func evidenceKindKey(k points.EvidenceKind) string {
	if k == points.Witness {
		return "clerk.ev_witness_kind"
	}
	return "clerk.ev_" + string(k)
}

func init() {
	funcs["clerkEvidence"] = func(l lang, ks []points.EvidenceKind) string {
		if len(ks) == 0 {
			return text(l, "clerk.cat_none")
		}
		words := make([]string, len(ks))
		for i, k := range ks {
			words[i] = text(l, evidenceKindKey(k))
		}
		sep := ", "
		if l == zh {
			sep = "、"
		}
		return strings.Join(words, sep)
	}
}
