package rpc_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// listAll pages through ListEntries as ctx with pageSize and returns the
// entries by seq.
func listAll(t *testing.T, e *env, ctx context.Context, pageSize int32, req *sanzhiv1.ListEntriesRequest) map[uint64]*sanzhiv1.AuditEntry {
	t.Helper()
	out := map[uint64]*sanzhiv1.AuditEntry{}
	token := ""
	for range 1000 {
		r := &sanzhiv1.ListEntriesRequest{Village: req.GetVillage(), Action: req.GetAction(), Subject: req.GetSubject(),
			PageSize: pageSize, PageToken: token}
		resp, err := e.audit.ListEntries(ctx, r)
		require.NoError(t, err)
		for _, en := range resp.Entries {
			_, dup := out[en.Seq]
			require.False(t, dup, "entry %d listed twice", en.Seq)
			out[en.Seq] = en
		}
		if token = resp.NextPageToken; token == "" {
			return out
		}
	}
	t.Fatal("paging did not end")
	return nil
}

// The audit API shows each principal its own side of the log, filtered in
// the query (so pages are full and paging is exact) and, for GetEntry, as
// NOT_FOUND (so an entry one may not read is indistinguishable from none).
func TestAuditVisibility(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		e.noonTomorrow()
		activateCounty(t, e)
		lend := newLendingFixture(t, e)
		hhB, hhBP := newHousehold(t, e, villageB, true)
		_, err := e.credit.GetCreditLine(e.as("officer"), &sanzhiv1.GetCreditLineRequest{Product: lend.product, Household: lend.hh, Purpose: "post_loan"})
		require.NoError(t, err)
		_, err = e.log.Publish(context.Background())
		require.NoError(t, err)

		all := listAll(t, e, e.as("regulator"), 1000, &sanzhiv1.ListEntriesRequest{})
		require.NotEmpty(t, all)
		actions := map[string]bool{}
		for _, en := range all {
			actions[en.Action] = true
		}
		for _, a := range []string{"household.create", "evidence.submit", "catalogue.upload", "consent.grant",
			"credit.assess", "credit.query", "credit.drawdown", "credit.freeze", "policy.upload", "credit.review_request"} {
			require.True(t, actions[a], "the fixture writes %s", a)
		}

		_, hhAID, err := household.ParseName(lend.hh, "")
		require.NoError(t, err)
		for _, who := range []string{"clerk-a", "clerk-b", "reviewer-a", "officer", "officer-other", "risk-1", "risk-other",
			"operator", lend.hhP, hhBP, "regulator"} {
			t.Run(who, func(t *testing.T) {
				ctx := e.as(who)
				p, err := st.Principals().PrincipalByKey(context.Background(), access.HashKey(e.keys[who]))
				require.NoError(t, err)
				seen := listAll(t, e, ctx, 3, &sanzhiv1.ListEntriesRequest{})
				for seq, en := range all {
					entry, err := audit.ParseEntry(en.LeafData)
					require.NoError(t, err)
					visible := audit.Visible(p, entry)
					_, listed := seen[seq]
					assert.Equal(t, visible, listed, "%s lists entry %d (%s %s)", who, seq, en.Action, en.Subject)
					got, err := e.audit.GetEntry(ctx, &sanzhiv1.GetEntryRequest{Name: en.Name})
					if visible {
						require.NoError(t, err)
						assert.Equal(t, en.LeafData, got.LeafData)
					} else {
						requireCode(t, err, codes.NotFound, "", "")
						assert.Equal(t, "ENTRY_NOT_FOUND", reasonOf(err))
					}
				}
				// What each role must never see, whatever the rule's
				// details.
				for _, en := range seen {
					switch p.Role {
					case access.VillageClerk, access.VillageReviewer:
						assert.False(t, strings.HasPrefix(en.Action, "credit.") || strings.HasPrefix(en.Action, "consent.") ||
							strings.HasPrefix(en.Action, "policy."), "village staff read %s", en.Action)
						assert.NotContains(t, en.Subject, "banks/")
					case access.BankOfficer, access.BankRisk:
						assert.NotContains(t, []string{"household.create", "evidence.submit", "evidence.review"}, en.Action)
						if p.Scope.Bank != "tongxiang-rcb" {
							assert.NotContains(t, string(en.LeafData), "tongxiang-rcb", "another bank's entry")
						}
					case access.Household:
						assert.NotContains(t, string(en.LeafData), map[bool]string{true: hhB, false: lend.hh}[p.ID == e.ids[lend.hhP]])
					}
				}
			})
		}

		// The rule as a table, role × entry kind: the actions each must
		// and must never see in this log.
		actionsOf := func(who string) map[string]bool {
			out := map[string]bool{}
			for _, en := range listAll(t, e, e.as(who), 50, &sanzhiv1.ListEntriesRequest{}) {
				out[en.Action] = true
			}
			return out
		}
		credit := []string{"consent.grant", "credit.assess", "credit.query", "credit.drawdown", "credit.freeze", "credit.review_request", "policy.upload"}
		village := []string{"household.create", "evidence.submit", "evidence.review"}
		for _, tc := range []struct {
			who         string
			must, never []string
		}{
			{"regulator", append(append([]string{"catalogue.upload"}, credit...), village...), nil},
			{"clerk-a", append([]string{"catalogue.upload"}, village...), credit},
			{"reviewer-a", append([]string{"catalogue.upload"}, village...), credit},
			{"clerk-b", []string{"household.create", "catalogue.upload"}, append([]string{"evidence.submit", "evidence.review"}, credit...)},
			{"officer", credit, village},
			{"risk-1", credit, village},
			{"officer-other", nil, append(append([]string{}, credit...), village...)},
			{"operator", []string{"catalogue.upload", "catalogue.activate"}, append(append([]string{}, credit...), village...)},
			{lend.hhP, []string{"household.create", "consent.grant", "credit.assess", "credit.query", "credit.drawdown"}, []string{"policy.upload", "catalogue.upload"}},
			{hhBP, []string{"household.create"}, append(append([]string{}, credit...), "evidence.submit", "catalogue.upload")},
		} {
			got := actionsOf(tc.who)
			for _, a := range tc.must {
				assert.True(t, got[a], "%s must see %s", tc.who, a)
			}
			for _, a := range tc.never {
				assert.False(t, got[a], "%s must never see %s", tc.who, a)
			}
		}

		// The attacker of the finding: village A's clerk no longer reads
		// the bank's assessment and query records of its villagers.
		clerk := listAll(t, e, e.as("clerk-a"), 100, &sanzhiv1.ListEntriesRequest{Village: villageA})
		require.NotEmpty(t, clerk)
		for _, en := range clerk {
			assert.NotContains(t, []string{"credit.assess", "credit.query", "consent.grant"}, en.Action)
		}
		// The household reads the query records about it.
		mine := listAll(t, e, e.as(lend.hhP), 100, &sanzhiv1.ListEntriesRequest{Action: "credit.query"})
		require.NotEmpty(t, mine)
		for _, en := range mine {
			assert.Contains(t, en.Subject, hhAID)
		}
		// A bank reads its own, another bank nothing of them.
		assert.NotEmpty(t, listAll(t, e, e.as("officer"), 100, &sanzhiv1.ListEntriesRequest{Action: "credit.assess"}))
		assert.Empty(t, listAll(t, e, e.as("officer-other"), 100, &sanzhiv1.ListEntriesRequest{Action: "credit.assess"}))
	})
}
