package household_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/household"
)

const village = "330483102215"

// pid returns a valid 身份证号 born on birth (YYYYMMDD), n varying it.
func pid(t *testing.T, birth string, n int) string {
	t.Helper()
	first17 := fmt.Sprintf("330483%s%03d", birth, n)
	c, err := idnum.CheckDigit(first17)
	require.NoError(t, err)
	return first17 + string(c)
}

type fixture struct {
	svc   *household.Service
	clerk *access.Principal
}

func newFixture(t *testing.T, st *sqlstore.Store) fixture {
	secret, key := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(key)
	kr, err := pii.NewKeyring(secret, "k1", key)
	require.NoError(t, err)
	now := func() time.Time { return time.Date(2026, 5, 20, 2, 0, 0, 0, time.UTC) }
	return fixture{svc: household.NewService(st.Households(), pii.Sealer{Keyring: kr}, now),
		clerk: &access.Principal{ID: "clerk", Role: access.VillageClerk, Scope: access.Scope{Villages: []string{village}}}}
}

func facts(members, labourers int32) *household.FactsInput {
	return &household.FactsInput{Members: members, Labourers: labourers, AnnualIncome: "60000", LandAreaMu: "3",
		CollectiveShares: "0", ExistingDebt: "0", Source: "村委会入户核实", AsOf: "2026-05-01"}
}

func (f fixture) create(t *testing.T, req string, members []household.MemberInput, counts *household.FactsInput) (*household.Household, error) {
	return f.svc.Create(context.Background(), f.clerk, household.CreateInput{Parent: "villages/" + village,
		HeadName: "王建国", HeadIDNumber: pid(t, "19700101", 1), Group: 3, Registered: "2020-01-01",
		RequestID: req, Facts: counts, Members: members})
}

// violations returns the fields an Invalid error names.
func violations(t *testing.T, err error) map[string]fault.Violation {
	t.Helper()
	var fe *fault.Error
	require.True(t, errors.As(err, &fe) && fe.Kind == fault.Invalid, "want Invalid, got %v", err)
	out := map[string]fault.Violation{}
	for _, v := range fe.Violations {
		out[v.Field] = v
	}
	return out
}

func TestMembersRegistered(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		f := newFixture(t, st)
		h, err := f.create(t, "r1", []household.MemberInput{
			{Relation: "户主", Labour: "劳动力"},
			{Name: " 李秀英 ", Relation: "spouse", IDNumber: pid(t, "19720304", 2), Labour: "labourer"},
			{Name: "王小明", Relation: "child", IDNumber: pid(t, "20100615", 3), Labour: "student"},
		}, facts(4, 2))
		require.NoError(t, err)
		got, err := f.svc.Get(context.Background(), h.Name())
		require.NoError(t, err)
		require.Len(t, got.Members, 3)
		head, spouse, child := got.Members[0], got.Members[1], got.Members[2]
		assert.Equal(t, int32(1), head.Number)
		assert.Equal(t, household.Head, head.Relation)
		assert.Equal(t, "王建国", head.Name)
		assert.Equal(t, h.HeadID, head.ID, "the head member is sealed as the head is")
		assert.Equal(t, int32(2), spouse.Number)
		assert.Equal(t, "李秀英", spouse.Name)
		assert.Equal(t, "330483********0020", spouse.IDMasked)
		assert.NotContains(t, spouse.IDMasked, "19720304", "the masked form hides the birth date")
		assert.Equal(t, household.Date("1972-03-04"), spouse.BirthDate)
		assert.Equal(t, 54, spouse.Age("2026-05-20"))
		assert.Equal(t, 15, child.Age("2026-05-20"), "born 2010-06-15: 16 only from June")
		assert.Equal(t, household.Student, child.Labour)
	})
}

func TestMembersDefaultHead(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		f := newFixture(t, st)
		h, err := f.create(t, "r1", nil, facts(3, 0))
		require.NoError(t, err)
		require.Len(t, h.Members, 1)
		assert.Equal(t, household.NotLabourer, h.Members[0].Labour, "no labourers counted: the head is not one")
		assert.Equal(t, household.Date("1970-01-01"), h.Members[0].BirthDate)
	})
}

func TestMembersBadInputs(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		h, err := f.create(t, "r1", []household.MemberInput{{Relation: "head", Labour: "labourer"},
			{Name: "李秀英", Relation: "spouse", IDNumber: pid(t, "19720304", 2), Labour: "labourer"}}, facts(4, 2))
		require.NoError(t, err)
		bad := pid(t, "19950101", 5)
		bad = bad[:17] + map[bool]string{true: "1", false: "2"}[bad[17] != '1'] // a wrong check digit
		head := household.MemberInput{Number: 1, Relation: "head", Labour: "labourer"}
		spouse := household.MemberInput{Number: 2, Name: "李秀英", Relation: "spouse", Labour: "labourer"}
		cases := []struct {
			name    string
			members []household.MemberInput
			field   string
		}{
			{"bad check digit", []household.MemberInput{head, spouse, {Name: "王强", Relation: "child", IDNumber: bad, Labour: "labourer"}}, "household.members[2].id_number"},
			{"empty name", []household.MemberInput{head, spouse, {Name: " ", Relation: "child", IDNumber: pid(t, "19950101", 5), Labour: "labourer"}}, "household.members[2].name"},
			{"no id number", []household.MemberInput{head, spouse, {Name: "王强", Relation: "child", Labour: "labourer"}}, "household.members[2].id_number"},
			{"same id as the spouse", []household.MemberInput{head, spouse, {Name: "王强", Relation: "child", IDNumber: pid(t, "19720304", 2), Labour: "labourer"}}, "household.members[2].id_number"},
			{"same id as the head", []household.MemberInput{head, spouse, {Name: "王强", Relation: "child", IDNumber: pid(t, "19700101", 1), Labour: "labourer"}}, "household.members[2].id_number"},
			{"a second head", []household.MemberInput{head, spouse, {Name: "王强", Relation: "head", IDNumber: pid(t, "19950101", 5), Labour: "labourer"}}, "household.members[2].relation"},
			{"no head", []household.MemberInput{spouse}, "household.members"},
			{"the spouse made head", []household.MemberInput{{Number: 2, Name: "李秀英", Relation: "head", Labour: "labourer"}}, "household.members[0].relation"},
			{"head renamed here", []household.MemberInput{{Number: 1, Name: "王建军", Relation: "head", Labour: "labourer"}, spouse}, "household.members[0].name"},
			{"head's number changed", []household.MemberInput{{Number: 1, Relation: "head", IDNumber: pid(t, "19700101", 9), Labour: "labourer"}, spouse}, "household.members[0].id_number"},
			{"unknown member", []household.MemberInput{head, {Number: 7, Name: "谁", Relation: "child", Labour: "student"}}, "household.members[1].number"},
			{"a member twice", []household.MemberInput{head, spouse, spouse}, "household.members[2].number"},
			{"unknown relation", []household.MemberInput{head, {Number: 2, Name: "李秀英", Relation: "friend", Labour: "labourer"}}, "household.members[1].relation"},
			{"unknown labour status", []household.MemberInput{head, {Number: 2, Name: "李秀英", Relation: "spouse", Labour: "retired"}}, "household.members[1].labour_status"},
			{"an id number in the name", []household.MemberInput{head, {Number: 2, Name: "李 " + pid(t, "19720304", 2), Relation: "spouse", Labour: "labourer"}}, "household.members[1].name"},
		}
		for _, c := range cases {
			_, err := f.svc.Update(ctx, f.clerk, household.UpdateInput{Name: h.Name(), Paths: []string{"members"}, Members: c.members})
			vs := violations(t, err)
			assert.Contains(t, vs, c.field, "%s: %v", c.name, err)
			assert.NotEmpty(t, vs[c.field].ZH, "%s: the clerk reads why in zh-CN", c.name)
		}
		// Counts that the list does not fit in, typed with the members.
		_, err = f.svc.Update(ctx, f.clerk, household.UpdateInput{Name: h.Name(), Paths: []string{"facts", "members"},
			Facts: facts(2, 1), Members: []household.MemberInput{head, spouse}})
		assert.Contains(t, violations(t, err), "household.facts.labourers")
		_, err = f.svc.Update(ctx, f.clerk, household.UpdateInput{Name: h.Name(), Paths: []string{"facts"}, Facts: facts(1, 1)})
		assert.Contains(t, violations(t, err), "household.facts.members")
		_, err = f.create(t, "r2", []household.MemberInput{{Relation: "head", Labour: "labourer"}, {Relation: "head", Labour: "labourer"}}, facts(2, 2))
		assert.Contains(t, violations(t, err), "household.members[1].relation")

		got, err := f.svc.Get(ctx, h.Name())
		require.NoError(t, err)
		assert.Equal(t, int64(1), got.Facts.Version, "nothing was written")
		assert.Len(t, got.Members, 2)
	})
}

func TestMembersUpdated(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		h, err := f.create(t, "r1", nil, facts(3, 2))
		require.NoError(t, err)
		update := func(ms ...household.MemberInput) *household.Household {
			t.Helper()
			got, err := f.svc.Update(ctx, f.clerk, household.UpdateInput{Name: h.Name(), Paths: []string{"members"}, Members: ms})
			require.NoError(t, err)
			return got
		}
		head := household.MemberInput{Number: 1, Relation: "head", Labour: "labourer"}
		// The register counts 3 with 2 labourers; entering the spouse and a
		// student fills it without changing the counts.
		got := update(head, household.MemberInput{Name: "李秀英", Relation: "spouse", IDNumber: pid(t, "19720304", 2), Labour: "labourer"},
			household.MemberInput{Name: "王小明", Relation: "child", IDNumber: pid(t, "20100615", 3), Labour: "student"})
		assert.Equal(t, int64(2), got.Facts.Version, "a member change is a new facts version")
		assert.Equal(t, [2]int32{3, 2}, [2]int32{got.Facts.Members, got.Facts.Labourers})
		assert.Equal(t, "60000", got.Facts.AnnualIncome.String(), "the other facts stay")
		// A grandmother joins: the register grows.
		got = update(head, household.MemberInput{Number: 2, Name: "李秀英", Relation: "spouse", Labour: "labourer"},
			household.MemberInput{Number: 3, Name: "王小明", Relation: "child", Labour: "student"},
			household.MemberInput{Name: "张桂兰", Relation: "parent", IDNumber: pid(t, "19450202", 4), Labour: "not_labourer"})
		assert.Equal(t, [2]int32{4, 2}, [2]int32{got.Facts.Members, got.Facts.Labourers})
		assert.Equal(t, int32(4), got.Members[3].Number)
		// The son leaves school to work, and the grandmother leaves: she is
		// not counted any more, he is now a labourer.
		got = update(head, household.MemberInput{Number: 2, Name: "李秀英", Relation: "spouse", Labour: "labourer"},
			household.MemberInput{Number: 3, Name: "王小明", Relation: "child", Labour: "labourer"})
		assert.Equal(t, [2]int32{3, 3}, [2]int32{got.Facts.Members, got.Facts.Labourers})
		assert.Len(t, got.Members, 3)
		// A newborn gets a number never used before, not the grandmother's.
		got = update(head, household.MemberInput{Number: 2, Name: "李秀英", Relation: "spouse", Labour: "labourer"},
			household.MemberInput{Number: 3, Name: "王小明", Relation: "child", Labour: "labourer"},
			household.MemberInput{Name: "王宝宝", Relation: "grandchild", IDNumber: pid(t, "20260101", 6), Labour: "not_labourer"})
		assert.Equal(t, int32(5), got.Members[3].Number)

		// Renaming the head renames the head member.
		got, err = f.svc.Update(ctx, f.clerk, household.UpdateInput{Name: h.Name(), Paths: []string{"head_name"}, HeadName: "王建军"})
		require.NoError(t, err)
		assert.Equal(t, "王建军", got.Members[0].Name)
		read, err := f.svc.Get(ctx, h.Name())
		require.NoError(t, err)
		assert.Equal(t, "王建军", read.Members[0].Name)
		assert.Equal(t, got.Members, read.Members)

		// A facts update keeps the members.
		got, err = f.svc.Update(ctx, f.clerk, household.UpdateInput{Name: h.Name(), Paths: []string{"facts"}, Facts: facts(5, 3)})
		require.NoError(t, err)
		assert.Len(t, got.Members, 4)
	})
}
