package storetest

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// MembersMigration holds an engine's household_members migration to its
// promise: households registered before it read afterwards with their
// head as member one, the head's sealed 身份证号 copied so that it still
// opens, in every facts version. down steps the schema back to before
// the migration; up migrates again.
func MembersMigration(t *testing.T, st *sqlstore.Store, down, up func(context.Context) error) {
	ctx := context.Background()
	secret, key := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(key)
	kr, err := pii.NewKeyring(secret, "k1", key)
	require.NoError(t, err)
	now := func() time.Time { return time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC) }
	svc := household.NewService(st.Households(), pii.Sealer{Keyring: kr}, now)
	clerk := &access.Principal{ID: "clerk", Role: access.VillageClerk, Scope: access.Scope{Villages: []string{villageA}}}
	facts := func(labourers int32) *household.FactsInput {
		return &household.FactsInput{Members: 3, Labourers: labourers, AnnualIncome: "50000", LandAreaMu: "2",
			CollectiveShares: "0", ExistingDebt: "0", Source: "村委会登记", AsOf: "2026-04-01"}
	}
	working, err := svc.Create(ctx, clerk, household.CreateInput{Parent: "villages/" + villageA, HeadName: "王建国",
		HeadIDNumber: "330483197001010018", Group: 1, Registered: "2020-01-01", RequestID: "r1", Facts: facts(2),
		Members: []household.MemberInput{{Relation: "head", Labour: "labourer"},
			{Name: "李秀英", Relation: "spouse", IDNumber: "330483197203040020", Labour: "labourer"}}})
	require.NoError(t, err)
	_, err = svc.Update(ctx, clerk, household.UpdateInput{Name: working.Name(), Paths: []string{"facts"}, Facts: facts(3)})
	require.NoError(t, err)
	idle, err := svc.Create(ctx, clerk, household.CreateInput{Parent: "villages/" + villageA, HeadName: "赵老汉",
		HeadIDNumber: "330483194005060019", Group: 2, Registered: "2020-01-01", RequestID: "r2", Facts: facts(0)})
	require.NoError(t, err)

	require.NoError(t, down(ctx))
	require.NoError(t, up(ctx))

	for _, c := range []struct {
		h      *household.Household
		labour household.Labour
		born   household.Date
	}{{working, household.Labourer, "1970-01-01"}, {idle, household.NotLabourer, "1940-05-06"}} {
		got, err := svc.Get(ctx, c.h.Name())
		require.NoError(t, err)
		require.Len(t, got.Members, 1, "the head alone: members entered before the migration were not kept")
		m := got.Members[0]
		assert.Equal(t, household.Member{Number: 1, Name: c.h.HeadName, Relation: household.Head,
			IDMasked: c.h.HeadIDMasked, ID: c.h.HeadID, Labour: c.labour, BirthDate: c.born}, m)
	}
	// Every version got its head: the first one too (its members are
	// what MaxMemberNumber sees), and the next version builds on it.
	require.NoError(t, st.Households().Write(ctx, func(tx household.Writer) error {
		top, err := tx.MaxMemberNumber(ctx, working.ID)
		assert.Equal(t, int32(1), top)
		return err
	}))
	got, err := svc.Update(ctx, clerk, household.UpdateInput{Name: working.Name(), Paths: []string{"members"},
		Members: []household.MemberInput{{Number: 1, Relation: "head", Labour: "labourer"},
			{Name: "李秀英", Relation: "spouse", IDNumber: "330483197203040020", Labour: "labourer"}}})
	require.NoError(t, err)
	assert.Equal(t, []int32{1, 2}, []int32{got.Members[0].Number, got.Members[1].Number})
}
