package console_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/lending/credit"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// apiOf serves e's app over gRPC (the real chain and handlers, on
// bufconn) and returns a client connection.
func apiOf(t *testing.T, e *env) *grpc.ClientConn {
	t.Helper()
	v, err := rpc.NewValidator()
	require.NoError(t, err)
	gs := grpc.NewServer(rpc.ServerOptions(rpc.Chain(slog.New(slog.NewTextHandler(io.Discard, nil)),
		rpc.NewAuthenticator(e.st.Principals(), false), v))...)
	rpc.Register(gs, e.app, rpc.Serving{})
	lis := bufconn.Listen(1 << 20)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestOfficerPageAgreesWithTheAPI: every figure the loan officer reads on
// a line's page is the one the bank's systems get from GetCreditLine for
// the same line — limit, available, drawn, rate, status, grade, validity,
// and each step of the limit's working with the one that binds. Both
// engines.
func TestOfficerPageAgreesWithTheAPI(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		w := newOfficerWorld(t, e)
		bank := w.bank.officer.Scope.Bank
		hp := &access.Principal{ID: "hh-" + w.hh.ID, Role: access.Household, Scope: access.Scope{Household: w.hh.ID}}
		c, err := e.app.Lending.Grant(ctx, hp, credit.GrantInput{Household: w.hh.Name(), Bank: "banks/" + bank,
			Purposes: []string{"assessment", "post_loan"}, Channel: "app", AuthorisationHash: hhSHA})
		require.NoError(t, err)
		require.NotEmpty(t, c.ID)
		otherBankLine(t, st, w.hh) // a cap across banks in the working
		v, err := e.app.Lending.Assess(ctx, w.bank.officer, hhProduct, w.hh.Name())
		require.NoError(t, err)
		_, err = e.app.Lending.Drawdown(ctx, w.bank.officer, credit.TxInput{Line: credit.LineName(bank, "sanzhi-xindai", v.Line.ID),
			TransactionID: "agree-1", Amount: "1234.50", Use: "agriculture"})
		require.NoError(t, err)

		apiCtx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer sz_"+w.bank.officer.Name)
		api, err := sanzhiv1.NewCreditServiceClient(apiOf(t, e)).GetCreditLine(apiCtx, &sanzhiv1.GetCreditLineRequest{
			Product: hhProduct, Household: w.hh.Name(), Purpose: "assessment", View: sanzhiv1.CreditLineView_CREDIT_LINE_VIEW_FULL})
		require.NoError(t, err)

		o := e.client(t)
		o.signIn(w.bank.officer.Name)
		status, _, body := o.get("/console/banks/" + bank + "/lines/" + v.Line.ID + "?purpose=assessment")
		require.Equal(t, http.StatusOK, status, body)
		page := html.UnescapeString(body)

		rate, err := decimal.NewFromString(api.Rate)
		require.NoError(t, err)
		for what, figure := range map[string]string{
			"limit": api.Limit, "available": api.Available, "drawn": api.Drawn,
			"rate (%)": rate.Mul(decimal.NewFromInt(100)).StringFixed(2), "grade": api.Grade, "valid until": api.ValidUntil,
		} {
			assert.Contains(t, page, figure, "the page's %s is the API's", what)
		}
		assert.Equal(t, "1234.50", api.Drawn)
		require.NotEmpty(t, api.LimitSteps)
		binding := 0
		for _, s := range api.LimitSteps {
			assert.Contains(t, page, s.ZhCn, "step %s %s", s.Step, s.Id)
			if s.Result != "" {
				assert.Contains(t, page, s.Result, "step %s %s", s.Step, s.Id)
			}
			if s.Binding {
				binding++
			}
		}
		assert.Equal(t, 1, binding, "the API marks one step binding")
		assert.Equal(t, binding, strings.Count(body, "binding-mark"), "and so does the page")
		for _, r := range api.Reasons {
			assert.Contains(t, page, r.ZhCn)
		}
	})
}
