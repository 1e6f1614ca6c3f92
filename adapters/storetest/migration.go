package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
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

// SheetOrderMigration holds an engine's sheet_newest_first migration to
// its promise. Sheets written since keep their newest lines newest first
// (sqlstore's runs); stepping the schema back (down) turns them into the
// one order the code before read, and migrating again (up) moves a tail of
// that code's order, oldest first, into entries, so that each reads the
// same entries in the same order throughout.
func SheetOrderMigration(t *testing.T, st *sqlstore.Store, down, up func(context.Context) error) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, st, h)
	// Postings of one to three entries, enough for runs in entries and a
	// tail besides.
	var want []points.Entry
	for i := range 24 {
		batch := make([]points.Entry, 1+i%3)
		for j := range batch {
			batch[j] = award(fmt.Sprintf("m-%02d-%d", i, j), h.ID, "1", "2026-03-10", true)
		}
		require.NoError(t, appendToSheet(st, h.ID, batch...))
		want = append(want, batch...)
	}
	raw := func() (entries, tail string) {
		require.NoError(t, st.Conn().ReadOne(ctx, func(q sqlstore.Querier) error {
			return q.QueryRow(ctx, `SELECT entries, tail FROM household_points WHERE household_id = $1`, h.ID).Scan(&entries, &tail)
		}))
		return entries, tail
	}
	entries, tail := raw()
	require.Contains(t, entries, "\n~\n", "a fold left a run in entries")
	require.NotEmpty(t, tail, "the last postings wait in the tail")
	assertSameEntries(t, want, readSheet(t, st, h.ID).Entries)

	require.NoError(t, down(ctx))
	entries, tail = raw()
	assert.Empty(t, tail, "down moves the tail into entries")
	lines := strings.Split(strings.TrimSuffix(entries, "\n"), "\n")
	require.Len(t, lines, 1+len(want), "the format line, then one line per entry and nothing else")
	for i, e := range want {
		assert.True(t, strings.HasPrefix(lines[1+i], e.ID+"\t"), "line %d is entry %s, oldest first: %q", i+1, e.ID, lines[1+i])
	}
	// The code before kept its newest lines at the end of tail, oldest
	// first: the last five entries, as it would have left them.
	cut := len(lines) - 5
	require.NoError(t, st.Conn().WriteTx(ctx, func(q sqlstore.Querier) error {
		_, err := q.Exec(ctx, `UPDATE household_points SET entries = $1, tail = $2 WHERE household_id = $3`,
			strings.Join(lines[:cut], "\n")+"\n", strings.Join(lines[cut:], "\n")+"\n", h.ID)
		return err
	}))

	require.NoError(t, up(ctx))
	_, tail = raw()
	assert.Empty(t, tail, "up moves a tail of the old order into entries")
	assertSameEntries(t, want, readSheet(t, st, h.ID).Entries)
	e := award("m-after", h.ID, "1", "2026-03-11", true)
	require.NoError(t, appendToSheet(st, h.ID, e))
	assertSameEntries(t, append(want, e), readSheet(t, st, h.ID).Entries)
}
