package storetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// withMembers gives h the head as member one and n-1 more.
func withMembers(h *household.Household, n int) *household.Household {
	h.Members = []household.Member{{Number: 1, Name: h.HeadName, Relation: household.Head,
		IDMasked: h.HeadIDMasked, ID: h.HeadID, Labour: household.Labourer}}
	relations := []household.Relation{household.Spouse, household.Child, household.Parent, household.Grandchild}
	labours := []household.Labour{household.Labourer, household.Student, household.NotLabourer, household.Student}
	for i := 1; i < n; i++ {
		idx := sha256.Sum256(fmt.Appendf(nil, "member-%s-%d", h.ID, i))
		h.Members = append(h.Members, household.Member{Number: int32(i + 1), Name: fmt.Sprintf("成员%d", i),
			Relation: relations[(i-1)%len(relations)], IDMasked: "330483********456X",
			ID:     household.SealedID{KeyID: "k1", Ciphertext: []byte{9, byte(i)}, Index: idx[:]},
			Labour: labours[(i-1)%len(labours)]})
	}
	return h
}

func testMembersRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	h := withMembers(newHousehold(t, villageA, 1), 4)
	insert(t, s, h)

	got, err := get(t, s, villageA, h.ID)
	require.NoError(t, err)
	assert.Equal(t, h.Members, got.Members)
	require.NoError(t, s.Households().Read(ctx, func(tx household.Reader) error {
		byIdx, err := tx.HouseholdByIndex(ctx, h.HeadID.Index)
		require.NoError(t, err)
		assert.Equal(t, h.Members, byIdx.Members)
		byReq, _, err := tx.HouseholdByRequest(ctx, villageA, "req-"+h.ID)
		require.NoError(t, err)
		assert.Equal(t, h.Members, byReq.Members)
		return nil
	}))

	// Version 2: member 3 left, member 2 now studies, member 6 joined.
	next := []household.Member{h.Members[0], h.Members[1], h.Members[3]}
	next[1].Labour = household.Student
	idx := sha256.Sum256([]byte("newborn"))
	next = append(next, household.Member{Number: 6, Name: "新生儿", Relation: household.Grandchild,
		IDMasked: "330483********0011", ID: household.SealedID{KeyID: "k1", Ciphertext: []byte{7}, Index: idx[:]},
		Labour: household.NotLabourer})
	f := h.Facts
	f.Version = 2
	require.NoError(t, s.Households().Write(ctx, func(tx household.Writer) error {
		top, err := tx.MaxMemberNumber(ctx, h.ID)
		require.NoError(t, err)
		assert.Equal(t, int32(4), top)
		if err := tx.InsertFacts(ctx, h.ID, f); err != nil {
			return err
		}
		if err := tx.InsertMembers(ctx, h.ID, 2, next); err != nil {
			return err
		}
		h.Facts = f
		return tx.UpdateHousehold(ctx, h)
	}))
	got, err = get(t, s, villageA, h.ID)
	require.NoError(t, err)
	assert.Equal(t, next, got.Members, "a read has the members of the latest version")
	require.NoError(t, s.Households().Write(ctx, func(tx household.Writer) error {
		top, err := tx.MaxMemberNumber(ctx, h.ID)
		assert.Equal(t, int32(6), top)
		return err
	}))

	// The head's name is not versioned: a rename reaches the head member.
	h.HeadName = "改名户主"
	require.NoError(t, s.Households().Write(ctx, func(tx household.Writer) error { return tx.UpdateHousehold(ctx, h) }))
	got, err = get(t, s, villageA, h.ID)
	require.NoError(t, err)
	assert.Equal(t, "改名户主", got.Members[0].Name)
	assert.Equal(t, "成员1", got.Members[1].Name)
}

// A household stored before members were kept reads with none, and a
// facts version may be written without members (the service adds them).
func testMembersAbsent(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	got, err := get(t, s, villageA, h.ID)
	require.NoError(t, err)
	assert.Empty(t, got.Members)
	require.NoError(t, s.Households().Write(ctx, func(tx household.Writer) error {
		top, err := tx.MaxMemberNumber(ctx, h.ID)
		assert.Zero(t, top)
		return err
	}))
}

func testMembersConstraints(t *testing.T, s Store) {
	ctx := context.Background()
	h := withMembers(newHousehold(t, villageA, 1), 3)
	insert(t, s, h)
	f := h.Facts
	f.Version = 2
	require.NoError(t, s.Households().Write(ctx, func(tx household.Writer) error { return tx.InsertFacts(ctx, h.ID, f) }))

	for name, change := range map[string]func(ms []household.Member){
		"the same 身份证号 twice":   func(ms []household.Member) { ms[2].ID.Index = ms[1].ID.Index },
		"a second head":         func(ms []household.Member) { ms[2].Relation = household.Head },
		"a member number twice": func(ms []household.Member) { ms[2].Number = ms[1].Number },
	} {
		ms := append([]household.Member(nil), h.Members...)
		change(ms)
		err := s.Households().Write(ctx, func(tx household.Writer) error { return tx.InsertMembers(ctx, h.ID, 2, ms) })
		assert.True(t, fault.Is(err, fault.AlreadyExists), "%s: want AlreadyExists, got %v", name, err)
	}
	// Nothing of the refused lists was kept: version 2 takes a good list.
	require.NoError(t, s.Households().Write(ctx, func(tx household.Writer) error { return tx.InsertMembers(ctx, h.ID, 2, h.Members) }))
	// Members belong to a facts version that exists.
	err := s.Households().Write(ctx, func(tx household.Writer) error { return tx.InsertMembers(ctx, h.ID, 9, h.Members) })
	assert.Error(t, err, "members of a facts version that does not exist")
}

// A page of households carries each household's own members, never those
// of a household of another village whose id falls inside the page.
func testMembersListed(t *testing.T, s Store) {
	ctx := context.Background()
	var want []*household.Household
	for i := range 6 {
		a := withMembers(newHousehold(t, villageA, i), i%4+1)
		insert(t, s, a)
		want = append(want, a)
		insert(t, s, withMembers(newHousehold(t, villageB, 100+i), 3))
	}
	var got []*household.Household
	after := ""
	for {
		var page []*household.Household
		require.NoError(t, s.Households().Read(ctx, func(tx household.Reader) error {
			var err error
			page, err = tx.Households(ctx, household.ListQuery{Village: villageA, AfterID: after, Limit: 4})
			return err
		}))
		got = append(got, page...)
		if len(page) < 4 {
			break
		}
		after = page[len(page)-1].ID
	}
	require.Len(t, got, len(want))
	for i := range want {
		assert.Equal(t, want[i].Members, got[i].Members, "household %d", i)
	}

	// Heads only: the same households, their heads, no members read.
	var heads []*household.Household
	require.NoError(t, s.Households().Read(ctx, func(tx household.Reader) error {
		var err error
		heads, err = tx.Households(ctx, household.ListQuery{Village: villageA, Limit: 10, HeadsOnly: true})
		return err
	}))
	require.Len(t, heads, len(want))
	for i := range want {
		assert.Equal(t, want[i].HeadName, heads[i].HeadName, "household %d", i)
		assert.Empty(t, heads[i].Members, "household %d", i)
	}
}
