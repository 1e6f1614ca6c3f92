package rpc_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/lending"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// The lawful-basis matrix: what a bank's officer learns about a household
// through every path that carries household data, for each state of the
// household's consent to that bank, on both stores. The expectations are
// written here by hand from the rule (docs/SECURITY.md §3): a live consent
// for the purpose, or for post-loan monitoring only an outstanding drawn
// balance on the bank's line. Anything else is CONSENT_REQUIRED, and a
// portfolio listing leaves the household out.

// basisState is where a household's consent to the bank stands.
type basisState string

const (
	noConsent basisState = "no consent"
	pending   basisState = "pending (recorded by the bank)"
	refused   basisState = "refused by the household"
	revoked   basisState = "revoked, nothing drawn"
	live      basisState = "live consent"
	balance   basisState = "revoked, balance outstanding"
)

// basisCell is one path's expected answer per state: true = the bank
// receives the household's data.
type basisPath struct {
	name string
	// receives says, per state, whether the bank gets the data.
	receives map[basisState]bool
	// call asks as the officer and reports whether data came back; an
	// error that is not CONSENT_REQUIRED fails the test.
	call func(t *testing.T, e *env, hh string) (bool, error)
}

func yes(states ...basisState) map[basisState]bool {
	m := map[basisState]bool{}
	for _, s := range states {
		m[s] = true
	}
	return m
}

var basisPaths = []basisPath{
	{name: "GetCreditLine for assessment", receives: yes(live),
		call: func(t *testing.T, e *env, hh string) (bool, error) {
			l, err := e.credit.GetCreditLine(e.as("officer"), &sanzhiv1.GetCreditLineRequest{Product: product, Household: hh, Purpose: "assessment"})
			return l != nil, err
		}},
	// Post-loan monitoring: a consent, or the balance the household owes.
	{name: "GetCreditLine for post-loan monitoring", receives: yes(live, balance),
		call: func(t *testing.T, e *env, hh string) (bool, error) {
			l, err := e.credit.GetCreditLine(e.as("officer"), &sanzhiv1.GetCreditLineRequest{Product: product, Household: hh, Purpose: "post_loan"})
			return l != nil, err
		}},
	// An assessment is a new credit decision: a balance is no basis.
	{name: "AssessCredit", receives: yes(live),
		call: func(t *testing.T, e *env, hh string) (bool, error) {
			r, err := e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: hh})
			return r != nil, err
		}},
	// The decisions behind the bank's own line: monitoring reads them too.
	{name: "ListDecisions", receives: yes(live, balance),
		call: func(t *testing.T, e *env, hh string) (bool, error) {
			r, err := e.credit.ListDecisions(e.as("officer"), &sanzhiv1.ListDecisionsRequest{Household: hh, Bank: bankName})
			return r != nil && len(r.Decisions) > 0, err
		}},
	{name: "ListCreditLines (the household's row)", receives: yes(live, balance),
		call: func(t *testing.T, e *env, hh string) (bool, error) {
			found, token := false, ""
			for {
				r, err := e.credit.ListCreditLines(e.as("officer"), &sanzhiv1.ListCreditLinesRequest{Product: product, PageToken: token})
				if err != nil {
					return false, err
				}
				for _, l := range r.Lines {
					found = found || l.Household == hh
				}
				if token = r.NextPageToken; token == "" {
					return found, nil
				}
			}
		}},
}

func TestLawfulBasisMatrix(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := lendingEnv(t, st)
		households := map[basisState]string{}
		for _, s := range []basisState{noConsent, pending, refused, revoked, live, balance} {
			households[s] = basisHousehold(t, e, s)
		}
		for _, p := range basisPaths {
			for _, s := range []basisState{noConsent, pending, refused, revoked, live, balance} {
				got, err := p.call(t, e, households[s])
				where := fmt.Sprintf("%s, %s", p.name, s)
				if p.receives[s] {
					require.NoError(t, err, where)
					assert.True(t, got, "%s: the bank should receive the household's data", where)
					continue
				}
				if err != nil {
					requireReason(t, err, codes.PermissionDenied, lending.ReasonConsentRequired, where)
				}
				assert.False(t, got, "%s: the bank must not receive the household's data", where)
			}
		}
	})
}

// basisHousehold registers a household of villageA with its consent to
// the bank in state s. Households that ever had a consent were assessed
// under it, so each has a line the bank could try to read.
func basisHousehold(t *testing.T, e *env, s basisState) string {
	t.Helper()
	hh, principal := newHousehold(t, e, villageA, true)
	submitAndApprove(t, e, listingReq(e, hh, sanzhiv1.EvidenceKind_EVIDENCE_KIND_STAR_RATING))
	grantInApp := func() *sanzhiv1.Consent {
		c, err := e.consents.GrantConsent(e.as(principal), &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: bankName,
			Purposes: []string{"assessment", "post_loan"}, Channel: "app", AuthorisationHash: sha})
		require.NoError(t, err)
		return c
	}
	switch s {
	case noConsent:
	case pending, refused:
		c, err := e.consents.GrantConsent(e.as("officer"), &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: bankName,
			Purposes: []string{"assessment", "post_loan"}, Channel: "counter", AuthorisationHash: sha})
		require.NoError(t, err)
		if s == refused {
			_, err = e.consents.RefuseConsent(e.as(principal), &sanzhiv1.RefuseConsentRequest{Name: c.Name})
			require.NoError(t, err)
		}
	case revoked, live, balance:
		c := grantInApp()
		res, err := e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: hh})
		require.NoError(t, err)
		require.True(t, res.Line.Eligible, "the fixture household must be eligible")
		if s == balance {
			_, err = e.credit.ReportDrawdown(e.as("officer"), &sanzhiv1.ReportDrawdownRequest{Line: res.Line.Name,
				TransactionId: "basis-" + res.Line.Name[len(res.Line.Name)-8:], Amount: "100", Use: "agriculture"})
			require.NoError(t, err)
		}
		if s != live {
			_, err = e.consents.RevokeConsent(e.as(principal), &sanzhiv1.RevokeConsentRequest{Name: c.Name})
			require.NoError(t, err)
		}
	}
	return hh
}

// requireReason asserts err's code and ErrorInfo reason.
func requireReason(t *testing.T, err error, code codes.Code, reason, where string) {
	t.Helper()
	st := status.Convert(err)
	require.Equal(t, code, st.Code(), "%s: %s", where, st.Message())
	assert.Equal(t, reason, reasonOf(err), where)
}
