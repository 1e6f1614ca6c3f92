package rpc_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/app"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// BenchmarkAssessChallenger measures one AssessCredit of a consenting
// household through the real chain: with shadow evaluation off (as
// before it existed), on without a challenger (the lookup alone), and
// with one (the lookup, its evaluation and the shadow's insert).
//
//	go test -run '^$' -bench BenchmarkAssessChallenger -benchtime 200x ./adapters/rpc/
func BenchmarkAssessChallenger(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"))
		require.NoError(b, err)
		b.Cleanup(func() { db.Close() })
		require.NoError(b, db.Migrate(context.Background()))
		benchAssessChallenger(b, db.Store())
	})
	b.Run("postgres", func(b *testing.B) { benchAssessChallenger(b, pgtest.NewDB(b).Store()) })
}

func benchAssessChallenger(b *testing.B, st *sqlstore.Store) {
	e := newEnv(b, st)
	e.noonTomorrow()
	activateCounty(b, e)
	activatePolicy(b, e)
	hh, _ := newHousehold(b, e, villageA, false)
	c, err := e.consents.GrantConsent(e.as("officer"), &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: bankName,
		Purposes: []string{"assessment"}, Channel: "paper", AuthorisationHash: sha})
	require.NoError(b, err)
	_, err = e.consents.CountersignConsent(e.as("clerk-a"), &sanzhiv1.CountersignConsentRequest{Name: c.Name, AuthorisationHash: sha})
	require.NoError(b, err)
	v2, err := e.policies.UploadPolicy(e.as("risk-1"), &sanzhiv1.UploadPolicyRequest{Parent: product, Document: challengerDoc(b, 2)})
	require.NoError(b, err)
	_, err = e.policies.ApprovePolicy(e.as("risk-2"), &sanzhiv1.ApprovePolicyRequest{Name: v2.Name})
	require.NoError(b, err)
	req := &sanzhiv1.AssessCreditRequest{Product: product, Household: hh}
	officer := e.as("officer")
	assess := func(b *testing.B) {
		for b.Loop() {
			if _, err := e.credit.AssessCredit(officer, req); err != nil {
				b.Fatal(err)
			}
		}
	}
	// off: shadow evaluation not wired at all, as before it existed;
	// none: wired, the product has no challenger (one indexed read).
	e.lending.SetChallengers(nil)
	b.Run("off", assess)
	e.lending.SetChallengers(app.Challengers{Store: st, Policies: app.NewActivePolicies(st.Policies())})
	b.Run("none", assess)
	_, err = e.policies.StartChallenger(e.as("risk-1"), &sanzhiv1.StartChallengerRequest{Name: v2.Name})
	require.NoError(b, err)
	b.Run("challenger", assess)
}
