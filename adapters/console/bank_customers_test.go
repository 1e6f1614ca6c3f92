package console_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/console"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// The other bank's line in these tests: figures no page of this bank may
// show. The example policy's cap across banks is 500000: it leaves room
// of 20000.37, so the cap binds and the limit rounds down to 20000.
const (
	otherLimit = "479999.63"
	otherDrawn = "123457.89"
	otherRoom  = "20000.37"
)

// officerWorld is a bank (the example policy active, newBank) whose
// officer can sign in to the console, and a customer with a known 身份证号
// and access code, registered at the village.
type officerWorld struct {
	bank     hhBank
	hh       *household.Household
	idNumber string
	code     string
}

func newOfficerWorld(t *testing.T, e *env) *officerWorld {
	t.Helper()
	ctx := context.Background()
	w := &officerWorld{bank: newBank(t, e)}
	for _, n := range []string{w.bank.officer.Name, w.bank.other.Name} {
		require.NoError(t, e.app.SignIn.SetPassword(ctx, e.staff["op-1"], n, password))
	}
	w.hh, w.idNumber = registerCustomer(t, e, "钱桂花")
	var err error
	w.code, _, err = e.app.SignIn.IssueCode(ctx, e.staff["clerk-a"], villageA, w.hh.ID)
	require.NoError(t, err)
	return w
}

// registerCustomer registers a household of villageA headed by head,
// returning it with the head's 身份证号.
func registerCustomer(t *testing.T, e *env, head string) (*household.Household, string) {
	t.Helper()
	id := personID(t, fmt.Sprintf("33048319720%d%02d%03d", 1+seq.Add(1)%9, 1+seq.Add(1)%28, seq.Add(1)%1000))
	h, err := e.app.Households.Create(context.Background(), e.staff["clerk-a"], household.CreateInput{
		Parent: resource.Village(villageA), HeadName: head, HeadIDNumber: id, Group: 2,
		Address: "南阳村2组8号", Registered: "2003-04-01", RequestID: fmt.Sprintf("req-%d", seq.Add(1)),
		Facts: &household.FactsInput{Members: 3, Labourers: 2, AnnualIncome: "72000", LandAreaMu: "2.50",
			CollectiveShares: "8", ExistingDebt: "0", Source: "村委会登记", AsOf: "2026-01-01"},
	})
	require.NoError(t, err)
	return h, id
}

// personID completes 17 digits with their check digit.
func personID(t *testing.T, first17 string) string {
	t.Helper()
	c, err := idnum.CheckDigit(first17)
	require.NoError(t, err)
	return first17 + string(c)
}

// otherID is a valid number other than id: another sequence number.
func otherID(t *testing.T, id string) string {
	t.Helper()
	return personID(t, id[:16]+string('0'+(id[16]-'0'+1)%10))
}

// badChecksum is id with a wrong check digit.
func badChecksum(id string) string {
	const digits = "0123456789X"
	return id[:17] + string(digits[(strings.IndexByte(digits, id[17])+1)%11])
}

// otherBankLine stores a line of the household at another bank, as that
// bank's assessment would have.
func otherBankLine(t *testing.T, st *sqlstore.Store, h *household.Household) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	d := &credit.Decision{ID: uuid.NewString(), Bank: "other-bank", Product: "sanzhi-xindai", Village: h.Village,
		HouseholdID: h.ID, Kind: credit.Automated, PolicyVersion: 1, PolicyHash: strings.Repeat("a", 64),
		InputHash: strings.Repeat("b", 64), On: household.Today(now), ValidUntil: household.Today(now.AddDate(1, 0, 0)),
		Eligible: true, Score: 700, Grade: "AA", Limit: decimal.RequireFromString(otherLimit),
		Rate: decimal.RequireFromString("0.0425"), ExposureCap: decimal.Zero, Input: "{}", DecidedBy: "other", Time: now,
		// Explained as stored, so no read replays it under a policy this
		// test does not have.
		Explanation: credit.Explanation{Reasons: []credit.Text{{Code: "other", ZH: "他行的理由", EN: "the other bank's reason"}},
			LimitSteps: []credit.StoredStep{{Step: "base", ID: "AA", Amount: otherLimit, Result: otherLimit}}}}
	l := &credit.Line{Line: lending.Line{ID: uuid.NewString(), Household: h.Name(), Bank: d.Bank, Limit: d.Limit,
		Drawn: decimal.RequireFromString(otherDrawn), Rate: d.Rate, Status: lending.StatusActive,
		ValidUntil: d.ValidUntil, DecisionID: d.ID, Version: 1},
		Product: d.Product, Village: h.Village, HouseholdID: h.ID, OpenTime: now, UpdateTime: now}
	require.NoError(t, st.Lending().Write(context.Background(), func(tx credit.Writer) error {
		if err := tx.InsertDecision(context.Background(), d); err != nil {
			return err
		}
		return tx.InsertLine(context.Background(), l)
	}))
}

// leaks are the spellings of the other bank's figures a page must not
// show: as stored, whole yuan, with thousands separators. (The room's
// whole yuan are the limit itself: only its exact figure is a leak.)
func leaks() []string {
	out := []string{otherRoom}
	for _, f := range []string{otherLimit, otherDrawn} {
		whole, _, _ := strings.Cut(f, ".")
		out = append(out, f, whole, whole[:3]+","+whole[3:])
	}
	return out
}

// postScan submits a multipart form with a file (none when file is nil).
func (c *client) postScan(path string, form url.Values, field string, file []byte) (int, string) {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range form {
		for _, v := range vs {
			require.NoError(c.t, mw.WriteField(k, v))
		}
	}
	if file != nil {
		fw, err := mw.CreateFormFile(field, "form.jpg")
		require.NoError(c.t, err)
		_, err = fw.Write(file)
		require.NoError(c.t, err)
	}
	require.NoError(c.t, mw.Close())
	resp, err := c.hc.Post(c.e.srv.URL+path, mw.FormDataContentType(), &buf)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, string(b)
}

// lookupRecords is the household's look-up query records, outcome/basis.
func lookupRecords(t *testing.T, e *env, hh string) []string {
	t.Helper()
	_, _, err := e.st.Integrate(context.Background(), 1000)
	require.NoError(t, err)
	page, err := app.QueryRecords(context.Background(), e.st, hh, 0, "")
	require.NoError(t, err)
	var out []string
	for _, r := range page.Records {
		if r.Method == credit.MethodLookup {
			out = append(out, r.Outcome+"/"+r.Basis)
		}
	}
	return out
}

// bankConsents is what the bank recorded for the household.
func bankConsents(t *testing.T, e *env, hh string) []*lending.Consent {
	t.Helper()
	cs, err := e.app.Lending.ListConsents(context.Background(), &access.Principal{ID: "reader", Role: access.Regulator}, hh, "")
	require.NoError(t, err)
	return cs
}

func TestOfficerCustomerPages(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		w := newOfficerWorld(t, e)
		ctx := context.Background()
		bank := w.bank.officer.Scope.Bank
		page := "/console/banks/" + bank + "/customers"
		o := e.client(t)
		o.signIn(w.bank.officer.Name)
		_, loc, _ := o.get(console.Prefix)
		assert.Equal(t, page, loc, "the officer's home is the look-up")
		status, _, body := o.get(page)
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, `name="id_number"`)
		tok := o.csrf(page)
		lookup := func(c *client, tok, id, purpose string) (int, string) {
			status, _, body := c.post(page, url.Values{"csrf": {tok}, "id_number": {id}, "purpose": {purpose}})
			return status, body
		}
		secrets := []string{w.idNumber, w.hh.ID, w.hh.HeadName, w.idNumber[6:14]}

		// A malformed number: said next to the field, nothing looked up.
		status, body = lookup(o, tok, badChecksum(w.idNumber), "assessment")
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "身份证号不对")
		assert.Contains(t, body, `aria-invalid="true"`)
		assert.NotContains(t, body, badChecksum(w.idNumber))
		status, body = lookup(o, tok, w.idNumber, "marketing")
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "请选择查询用途")
		assert.Empty(t, lookupRecords(t, e, w.hh.Name()), "nothing written")

		// No consent, and no such person: the same refusal, with how to
		// obtain a consent, and nothing of the household.
		status, refused := lookup(o, tok, w.idNumber, "assessment")
		assert.Equal(t, http.StatusForbidden, status)
		for _, want := range []string{"不能查询", "我的数据", "记录授权书", "村文书"} {
			assert.Contains(t, refused, want)
		}
		for _, s := range secrets {
			assert.NotContains(t, refused, s)
		}
		status, unknown := lookup(o, tok, otherID(t, w.idNumber), "assessment")
		assert.Equal(t, http.StatusForbidden, status)
		assert.Equal(t, refusedPanel(refused), refusedPanel(unknown), "unregistered and unconsented look alike")
		assert.Equal(t, []string{"denied/"}, lookupRecords(t, e, w.hh.Name()), "the refused look-up is the household's record")

		// Another bank's page, a clerk's, a household's: refused, nothing written.
		status, _, _ = o.get("/console/banks/other-bank/customers")
		assert.Equal(t, http.StatusForbidden, status)
		status, _, _ = o.post("/console/banks/other-bank/customers", url.Values{"csrf": {tok}, "id_number": {w.idNumber}, "purpose": {"assessment"}})
		assert.Equal(t, http.StatusForbidden, status)
		clerk := e.client(t)
		clerk.signIn("clerk-a")
		ctok := clerk.csrf("/console/villages/" + villageA + "/board")
		status, _ = lookup(clerk, ctok, w.idNumber, "assessment")
		assert.Equal(t, http.StatusForbidden, status)
		hhc := e.client(t)
		hhc.signInCode(w.code)
		htok := hhc.csrf("/console/me/data")
		status, _ = lookup(hhc, htok, w.idNumber, "assessment")
		assert.Equal(t, http.StatusForbidden, status)
		status, _, _ = hhc.get(page)
		assert.Equal(t, http.StatusForbidden, status)
		status, _ = hhc.postScan(page+"/consent", url.Values{"csrf": {htok}, "id_number": {w.idNumber}, "channel": {"counter"},
			"purpose": {"assessment"}}, "form", []byte("scan"))
		assert.Equal(t, http.StatusForbidden, status)
		assert.Equal(t, []string{"denied/"}, lookupRecords(t, e, w.hh.Name()))
		assert.Empty(t, bankConsents(t, e, w.hh.Name()))

		// Recording the signed form: bad inputs said at their fields.
		form := func(id string, purposes ...string) url.Values {
			return url.Values{"csrf": {tok}, "id_number": {id}, "channel": {"counter"}, "purpose": purposes}
		}
		scan := []byte("signed authorisation form, scanned")
		for _, c := range []struct {
			form url.Values
			file []byte
			want string
		}{
			{form(w.idNumber, "assessment"), nil, "请上传签署后的授权书"},
			{form(w.idNumber, "assessment"), []byte{}, "请上传签署后的授权书"},
			{form(w.idNumber), scan, "请至少选择一项用途"},
			{form(badChecksum(w.idNumber), "assessment"), scan, "身份证号不对"},
			{form(otherID(t, w.idNumber), "assessment"), scan, "没有以这个身份证号为户主登记的农户"},
		} {
			status, body := o.postScan(page+"/consent", c.form, "form", c.file)
			assert.Equal(t, http.StatusBadRequest, status, c.want)
			assert.Contains(t, body, c.want)
			assert.NotContains(t, body, w.idNumber)
		}
		assert.Empty(t, bankConsents(t, e, w.hh.Name()), "nothing written")
		status, body = o.postScan(page+"/consent", form(w.idNumber, "assessment", "post_loan"), "form", scan)
		require.Equal(t, http.StatusOK, status, body)
		assert.Contains(t, body, "等待农户确认")
		assert.NotContains(t, body, w.idNumber)
		cs := bankConsents(t, e, w.hh.Name())
		require.Len(t, cs, 1)
		assert.Equal(t, lending.ConsentPending, cs[0].State)
		assert.Equal(t, lending.ChannelCounter, cs[0].Channel)
		// Still refused while pending; the request is shown waiting.
		status, body = lookup(o, tok, w.idNumber, "assessment")
		assert.Equal(t, http.StatusForbidden, status)
		assert.Contains(t, body, "正在等待农户确认")

		// The household confirms; the bank assesses (its line held to the
		// cap across banks by a line at another bank).
		hp := &access.Principal{ID: "hh-" + w.hh.ID, Role: access.Household, Scope: access.Scope{Household: w.hh.ID}}
		_, err := e.app.Lending.Confirm(ctx, hp, credit.ConsentName(villageA, w.hh.ID, cs[0].ID))
		require.NoError(t, err)
		otherBankLine(t, st, w.hh)
		v, err := e.app.Lending.Assess(ctx, w.bank.officer, hhProduct, w.hh.Name())
		require.NoError(t, err)
		require.Equal(t, "20000.00", v.Line.Limit.StringFixed(2))

		status, body = lookup(o, tok, strings.ToLower(w.idNumber), "assessment")
		require.Equal(t, http.StatusOK, status, body)
		assert.Contains(t, body, w.hh.HeadName)
		assert.Contains(t, body, w.hh.HeadIDMasked)
		assert.NotContains(t, body, w.idNumber)
		assert.Contains(t, body, "20000.00")
		linePath := "/console/banks/" + bank + "/lines/" + v.Line.ID
		assert.Contains(t, body, linePath+"?purpose=assessment")
		for _, s := range leaks() {
			assert.NotContains(t, body, s)
		}
		assert.Equal(t, []string{"denied/", "denied/", "allowed/consent"}, lookupRecords(t, e, w.hh.Name()))

		// The line page: the working, the binding step marked, nothing of
		// the other bank.
		status, _, body = o.get(linePath + "?purpose=assessment")
		require.Equal(t, http.StatusOK, status, body)
		text := html.UnescapeString(body)
		for _, want := range []string{"为什么是这个额度", "信用等级", "跨行总授信上限", "起决定作用", "不显示（涉及他行）", "20000.00", "向下取整"} {
			assert.Contains(t, text, want)
		}
		assert.Equal(t, 1, strings.Count(body, "binding-mark"), "one step binds")
		for _, r := range v.Decision.Explanation.Reasons {
			assert.Contains(t, text, r.ZH)
		}
		for _, cf := range v.Decision.Explanation.Counterfactuals {
			assert.Contains(t, text, cf.ZH)
		}
		for _, s := range leaks() {
			assert.NotContains(t, text, s, "the other bank's figures")
		}
		// The line page of another bank's officer, or an unknown line.
		other := e.client(t)
		other.signIn(w.bank.other.Name)
		status, _, _ = other.get(linePath)
		assert.Equal(t, http.StatusForbidden, status)
		status, _, _ = o.get("/console/banks/" + bank + "/lines/" + uuid.NewString())
		assert.Equal(t, http.StatusNotFound, status)
		status, _, _ = o.get(linePath + "?purpose=marketing")
		assert.Equal(t, http.StatusNotFound, status)

		// The household reads the look-up in its records.
		_, _, body = hhc.get("/console/me/data")
		assert.Contains(t, body, "柜台查询客户")
	})
}

// refusedPanel is the refusal's section of a page.
func refusedPanel(body string) string {
	i := strings.Index(body, `id="refused"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(body[i:], "</section>")
	return body[i : i+j]
}
