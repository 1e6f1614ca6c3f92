//go:build benchfloors

package console_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/console"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/app"
	examples "github.com/sanzhi/sanzhi/examples/catalogues"
	policyexamples "github.com/sanzhi/sanzhi/examples/policies"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// BenchmarkOfficerLookup posts the loan officer's customer look-up (a
// household with a consent and a line: found, its line listed, a query
// record written) through the real HTTP stack on PostgreSQL, one client
// and 50 at once. The floor of the same run is a page of the same stack
// that reads the session, as every page does, and makes one primary-key
// SELECT on the same pool (the rpc benchmarks' SelectOne floor). It
// reports p50 and p99 in ms.
//
//	go test -tags benchfloors -run '^$' -bench BenchmarkOfficerLookup -benchtime 500x ./adapters/console/
func BenchmarkOfficerLookup(b *testing.B) {
	ctx := context.Background()
	db := pgtest.NewDB(b)
	st := db.Store()
	secret, key := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(key)
	kr, err := pii.NewKeyring(secret, "k1", key)
	require.NoError(b, err)
	a, err := app.New(app.Deps{Store: st, Keyring: kr})
	require.NoError(b, err)
	ps := map[string]*access.Principal{}
	add := func(name string, role access.Role, scope access.Scope) {
		p := &access.Principal{ID: "id-" + name, Name: name, Role: role, Scope: scope, CreateTime: time.Now().UTC()}
		require.NoError(b, st.Principals().CreatePrincipal(ctx, p, access.HashKey("sz_"+name)))
		ps[name] = p
	}
	bank := access.Scope{Bank: "tongxiang-rcb"}
	add("op-1", access.Operator, access.Scope{})
	add("op-2", access.Operator, access.Scope{})
	add("clerk-a", access.VillageClerk, access.Scope{Villages: []string{villageA}})
	add("risk-1", access.BankRisk, bank)
	add("risk-2", access.BankRisk, bank)
	add("officer", access.BankOfficer, bank)
	require.NoError(b, st.Principals().PutBank(ctx, &access.Bank{ID: bank.Bank, Name: "桐乡农商银行"}))

	doc, err := examples.FS.ReadFile(examples.CountyFile)
	require.NoError(b, err)
	cv, err := a.Catalogues.Upload(ctx, ps["op-1"], resource.County(county), doc)
	require.NoError(b, err)
	_, err = a.Catalogues.Activate(ctx, ps["op-2"], cv.Name())
	require.NoError(b, err)
	doc, err = policyexamples.FS.ReadFile(policyexamples.TongxiangFile)
	require.NoError(b, err)
	pv, err := a.Policies.Upload(ctx, ps["risk-1"], hhProduct, doc)
	require.NoError(b, err)
	_, err = a.Policies.Approve(ctx, ps["risk-2"], pv.Name())
	require.NoError(b, err)
	_, err = a.Policies.Activate(ctx, ps["risk-1"], pv.Name())
	require.NoError(b, err)

	// The customer: registered, consented (recorded by the officer,
	// confirmed by the household) and assessed.
	c, err := idnum.CheckDigit("33048319700412007")
	require.NoError(b, err)
	idNumber := "33048319700412007" + string(c)
	h, err := a.Households.Create(ctx, ps["clerk-a"], household.CreateInput{Parent: resource.Village(villageA),
		HeadName: "钱桂花", HeadIDNumber: idNumber, Group: 2, Address: "南阳村2组8号", Registered: "2003-04-01",
		RequestID: "bench-1", Facts: &household.FactsInput{Members: 3, Labourers: 2, AnnualIncome: "72000",
			LandAreaMu: "2.50", CollectiveShares: "8", ExistingDebt: "0", Source: "村委会登记", AsOf: "2026-01-01"}})
	require.NoError(b, err)
	cons, err := a.Lending.Grant(ctx, ps["officer"], credit.GrantInput{Household: h.Name(), Bank: resource.Bank(bank.Bank),
		Purposes: []string{"assessment", "post_loan"}, Channel: "counter", AuthorisationHash: hhSHA})
	require.NoError(b, err)
	hp := &access.Principal{ID: "hh", Role: access.Household, Scope: access.Scope{Household: h.ID}}
	_, err = a.Lending.Confirm(ctx, hp, credit.ConsentName(h.Village, h.ID, cons.ID))
	require.NoError(b, err)
	_, err = a.Lending.Assess(ctx, ps["officer"], hhProduct, h.Name())
	require.NoError(b, err)

	// The officer's session.
	require.NoError(b, a.SignIn.SetPassword(ctx, ps["op-1"], "officer", password))
	in, err := a.SignIn.SignIn(ctx, "officer", password, "")
	require.NoError(b, err)
	require.NoError(b, a.SignIn.ChangePassword(ctx, in.Token, password, newPassword))
	sess, _, err := a.SignIn.Session(ctx, in.Token)
	require.NoError(b, err)
	cookie := &http.Cookie{Name: "sz_session", Value: in.Token}

	// The floor: the session read every page makes, and one SELECT.
	require.NoError(b, db.PrepareFloor(ctx))
	fid, err := db.FloorInsert(ctx, "floor")
	require.NoError(b, err)
	cons2, err := console.New(a, console.Options{})
	require.NoError(b, err)
	mux := http.NewServeMux()
	mux.Handle("/console/", cons2)
	mux.HandleFunc("POST /floor", func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie("sz_session")
		if err != nil {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		if _, _, err := a.SignIn.Session(r.Context(), ck.Value); err != nil {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		p, err := db.FloorSelect(r.Context(), fid)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><p>%s</p>", p)
	})
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)

	form := url.Values{"csrf": {sess.CSRF}, "id_number": {idNumber}, "purpose": {"assessment"}}.Encode()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(b *testing.B, path, want string) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			b.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	for _, p := range []struct{ name, path, want string }{
		{"floor", "/floor", "floor"},
		{"lookup", "/console/banks/" + bank.Bank + "/customers", `id="lines"`},
	} {
		for _, clients := range []int{1, 50} {
			b.Run(p.name+"/clients="+strconv.Itoa(clients), func(b *testing.B) {
				reportLatency(b, clients, func() { post(b, p.path, p.want) })
			})
		}
	}
}
