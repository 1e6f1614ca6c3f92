package console_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/console"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/app"
	examples "github.com/sanzhi/sanzhi/examples/catalogues"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
)

const (
	villageA = "330483102215" // 南阳村
	villageB = "330483105208" // 堰头村
	county   = "330483"
	password = "correct horse 2026"
)

var seq atomic.Int64

// env is a console over real services on a real store, with a village
// whose board has one entry on notice and one household with a code.
type env struct {
	st    *sqlstore.Store
	app   *app.App
	srv   *httptest.Server
	staff map[string]*access.Principal
	// hh is the household on the board; code its access code.
	hh, hhHead, code string
}

func newEnv(t *testing.T, st *sqlstore.Store) *env {
	t.Helper()
	ctx := context.Background()
	secret, key := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(key)
	kr, err := pii.NewKeyring(secret, "k1", key)
	require.NoError(t, err)
	a, err := app.New(app.Deps{Store: st, Keyring: kr})
	require.NoError(t, err)
	e := &env{st: st, app: a, staff: map[string]*access.Principal{}}
	add := func(name string, role access.Role, scope access.Scope) {
		p := &access.Principal{ID: "id-" + name, Name: name, Role: role, Scope: scope, CreateTime: time.Now().UTC()}
		require.NoError(t, st.Principals().CreatePrincipal(ctx, p, access.HashKey("sz_"+name)))
		e.staff[name] = p
	}
	add("op-1", access.Operator, access.Scope{})
	add("op-2", access.Operator, access.Scope{})
	add("clerk-a", access.VillageClerk, access.Scope{Villages: []string{villageA}})
	add("reviewer-a", access.VillageReviewer, access.Scope{Villages: []string{villageA}})
	add("clerk-b", access.VillageClerk, access.Scope{Villages: []string{villageB}})
	for _, n := range []string{"clerk-a", "reviewer-a", "clerk-b"} {
		require.NoError(t, a.SignIn.SetPassword(ctx, e.staff["op-1"], n, password))
	}

	doc, err := examples.FS.ReadFile(examples.CountyFile)
	require.NoError(t, err)
	v, err := a.Catalogues.Upload(ctx, e.staff["op-1"], resource.County(county), doc)
	require.NoError(t, err)
	_, err = a.Catalogues.Activate(ctx, e.staff["op-2"], v.Name())
	require.NoError(t, err)
	// 南阳村 keeps a document of its own (its name, its items).
	doc, err = examples.FS.ReadFile(examples.VillageFile("nanyang"))
	require.NoError(t, err)
	v, err = a.Catalogues.Upload(ctx, e.staff["clerk-a"], resource.Village(villageA), doc)
	require.NoError(t, err)
	_, err = a.Catalogues.Activate(ctx, e.staff["reviewer-a"], v.Name())
	require.NoError(t, err)

	e.hhHead = "沈建国"
	h := e.register(t, villageA, e.hhHead, 3, "南阳村3组27号")
	e.hh = resource.Household(h.Village, h.ID)
	ev, err := a.Evidence.Submit(ctx, e.staff["clerk-a"], evidence.SubmitInput{Parent: e.hh, Kind: evidence.Points,
		ItemCode: "ZZ-MS-01", Quantity: 2, OccurredOn: string(household.Today(time.Now())), Witness: "村民小组长 王伟",
		Note: "清理河道", RequestID: fmt.Sprintf("ev-%d", seq.Add(1))})
	require.NoError(t, err)
	_, err = a.Evidence.Review(ctx, e.staff["reviewer-a"], ev.Name(), true, "")
	require.NoError(t, err)
	e.code, _, err = a.SignIn.IssueCode(ctx, e.staff["clerk-a"], villageA, h.ID)
	require.NoError(t, err)

	c, err := console.New(a, console.Options{})
	require.NoError(t, err)
	e.srv = httptest.NewServer(c)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) register(t *testing.T, village, head string, group int32, addr string) *household.Household {
	t.Helper()
	first17 := fmt.Sprintf("330483196803%02d%03d", 1+seq.Add(1)%28, seq.Add(1)%1000)
	c, err := idnum.CheckDigit(first17)
	require.NoError(t, err)
	clerk := map[string]string{villageA: "clerk-a", villageB: "clerk-b"}[village]
	h, err := e.app.Households.Create(context.Background(), e.staff[clerk], household.CreateInput{
		Parent: resource.Village(village), HeadName: head, HeadIDNumber: first17 + string(c), Group: group,
		Address: addr, Registered: "2001-05-01", RequestID: fmt.Sprintf("req-%d", seq.Add(1)),
		Facts: &household.FactsInput{Members: 4, Labourers: 2, AnnualIncome: "86000.50", LandAreaMu: "3.20",
			CollectiveShares: "10", ExistingDebt: "0", Source: "村委会登记", AsOf: "2026-01-01"},
	})
	require.NoError(t, err)
	return h
}

// client is one browser-like HTTP client: cookies kept, redirects not
// followed (tests read where a page sends them).
type client struct {
	t   *testing.T
	e   *env
	hc  *http.Client
	jar *cookiejar.Jar
}

func (e *env) client(t *testing.T) *client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &client{t: t, e: e, jar: jar, hc: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get returns the status, Location and body of a GET.
func (c *client) get(path string) (int, string, string) {
	c.t.Helper()
	resp, err := c.hc.Get(c.e.srv.URL + path)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the form token of the page at path.
func (c *client) csrf(path string) string {
	c.t.Helper()
	_, _, body := c.get(path)
	m := csrfField.FindStringSubmatch(body)
	require.NotNil(c.t, m, "no csrf field on %s", path)
	return m[1]
}

// post submits form to path; the csrf field is added unless form has one.
func (c *client) post(path string, form url.Values) (int, string, string) {
	c.t.Helper()
	resp, err := c.hc.PostForm(c.e.srv.URL+path, form)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// signIn signs a staff member in and changes the first password when asked.
func (c *client) signIn(user string) {
	c.t.Helper()
	tok := c.csrf("/console/signin")
	status, loc, _ := c.post("/console/signin", url.Values{"csrf": {tok}, "username": {user}, "password": {password}})
	require.Equal(c.t, http.StatusSeeOther, status)
	require.Equal(c.t, console.Prefix, loc)
	// An operator set the password: it must be changed first.
	_, loc, _ = c.get(console.Prefix)
	require.Equal(c.t, console.Prefix+"password", loc)
	tok = c.csrf("/console/password")
	status, loc, body := c.post("/console/password", url.Values{"csrf": {tok}, "old_password": {password},
		"password": {newPassword}, "confirm": {newPassword}})
	require.Equal(c.t, http.StatusSeeOther, status, body)
	require.Equal(c.t, console.Prefix, loc)
}

// newPassword is what signIn changes the first password to.
const newPassword = "a new one of my own 7"

// signInCode signs the household in with its code.
func (c *client) signInCode(code string) {
	c.t.Helper()
	tok := c.csrf("/console/signin")
	status, loc, body := c.post("/console/signin/code", url.Values{"csrf": {tok}, "code": {strings.ToLower(code)}})
	require.Equal(c.t, http.StatusSeeOther, status, body)
	require.Equal(c.t, console.Prefix, loc)
}
