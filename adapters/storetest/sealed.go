package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/delivery"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/rekey"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// sealedCounty stores households, members (two facts versions of one
// household) and webhook secrets under key ids k0, k1 and k2, with
// ciphertexts that are only bytes: the store neither opens nor checks
// them.
func sealedCounty(t *testing.T, s Store) (hs []*household.Household) {
	t.Helper()
	ctx := context.Background()
	for i, n := range []int{3, 2, 1} {
		h := withMembers(newHousehold(t, villageA, i), n)
		if i == 2 {
			h.HeadID.KeyID = "k0"
			h.Members[0].ID = h.HeadID
		}
		insert(t, s, h)
		hs = append(hs, h)
	}
	// Version 2 of the first household keeps its members.
	f := hs[0].Facts
	f.Version = 2
	require.NoError(t, s.Households().Write(ctx, func(tx household.Writer) error {
		if err := tx.InsertFacts(ctx, hs[0].ID, f); err != nil {
			return err
		}
		if err := tx.InsertMembers(ctx, hs[0].ID, 2, hs[0].Members); err != nil {
			return err
		}
		hs[0].Facts = f
		return tx.UpdateHousehold(ctx, hs[0])
	}))
	a, b := newEndpoint(bankA, base), newEndpoint(bankB, base)
	until := base.Add(time.Hour)
	b.Secret = pii.Sealed{KeyID: "k2", Ciphertext: []byte("new-b")}
	b.Previous, b.PreviousUntil = &pii.Sealed{KeyID: "k1", Ciphertext: []byte("old-b")}, &until
	require.NoError(t, writeWebhooks(s, func(ctx context.Context, tx delivery.Writer) error {
		if err := tx.InsertEndpoint(ctx, a); err != nil {
			return err
		}
		return tx.InsertEndpoint(ctx, b)
	}))
	return hs
}

// testSealedCounts: the values of every sealed field are counted by key
// id, and the key ids in use listed, with "no previous secret" in
// neither.
func testSealedCounts(t *testing.T, s Store) {
	ctx := context.Background()
	counts, err := s.SealedCounts(ctx)
	require.NoError(t, err)
	assert.Empty(t, counts, "an empty database")
	ids, err := s.SealedKeyIDs(ctx)
	require.NoError(t, err)
	assert.Empty(t, ids)

	sealedCounty(t, s)
	counts, err = s.SealedCounts(ctx)
	require.NoError(t, err)
	assert.Equal(t, []rekey.Count{
		{Field: rekey.HouseholdHead, KeyID: "k0", Values: 1},
		{Field: rekey.HouseholdHead, KeyID: "k1", Values: 2},
		{Field: rekey.Member, KeyID: "k0", Values: 1},
		{Field: rekey.Member, KeyID: "k1", Values: 3 + 3 + 2}, // 3 members in 2 versions, 2 in one
		{Field: rekey.WebhookSecret, KeyID: "k1", Values: 1},
		{Field: rekey.WebhookSecret, KeyID: "k2", Values: 1},
		{Field: rekey.WebhookPrevious, KeyID: "k1", Values: 1},
	}, counts)
	ids, err = s.SealedKeyIDs(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"k0", "k1", "k2"}, ids)
}

// testSealedBatch: batches page through one field's values under one key
// in primary-key order, from after a Ref, and nothing else.
func testSealedBatch(t *testing.T, s Store) {
	ctx := context.Background()
	hs := sealedCounty(t, s)

	var want []rekey.Value
	for _, h := range hs[:2] {
		for _, v := range []int64{1, 2} {
			if v == 2 && h != hs[0] {
				continue
			}
			for _, m := range h.Members {
				want = append(want, rekey.Value{Ref: rekey.Ref{ID: h.ID, Version: v, Member: m.Number},
					Sealed: pii.Sealed{KeyID: "k1", Ciphertext: m.ID.Ciphertext}})
			}
		}
	}
	slices.SortFunc(want, func(a, b rekey.Value) int {
		if c := strings.Compare(a.Ref.ID, b.Ref.ID); c != 0 {
			return c
		}
		if a.Ref.Version != b.Ref.Version {
			return int(a.Ref.Version - b.Ref.Version)
		}
		return int(a.Ref.Member - b.Ref.Member)
	})
	var got []rekey.Value
	var after rekey.Ref
	for range 10 {
		batch, err := s.SealedBatch(ctx, rekey.Member, "k1", after, 3)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(batch), 3)
		if len(batch) == 0 {
			break
		}
		got = append(got, batch...)
		after = batch[len(batch)-1].Ref
	}
	assert.Equal(t, want, got)

	heads, err := s.SealedBatch(ctx, rekey.HouseholdHead, "k0", rekey.Ref{}, 10)
	require.NoError(t, err)
	assert.Equal(t, []rekey.Value{{Ref: rekey.Ref{ID: hs[2].ID}, Sealed: pii.Sealed{KeyID: "k0", Ciphertext: hs[2].HeadID.Ciphertext}}}, heads)
	prev, err := s.SealedBatch(ctx, rekey.WebhookPrevious, "k1", rekey.Ref{}, 10)
	require.NoError(t, err)
	assert.Equal(t, []rekey.Value{{Ref: rekey.Ref{ID: bankB}, Sealed: pii.Sealed{KeyID: "k1", Ciphertext: []byte("old-b")}}}, prev)
	none, err := s.SealedBatch(ctx, rekey.WebhookSecret, "k9", rekey.Ref{}, 10)
	require.NoError(t, err)
	assert.Empty(t, none)

	for name, call := range map[string]func() error{
		"unknown field": func() error { _, err := s.SealedBatch(ctx, "households.address", "k1", rekey.Ref{}, 10); return err },
		"no key id":     func() error { _, err := s.SealedBatch(ctx, rekey.Member, "", rekey.Ref{}, 10); return err },
		"limit 0":       func() error { _, err := s.SealedBatch(ctx, rekey.Member, "k1", rekey.Ref{}, 0); return err },
	} {
		err := call()
		assert.True(t, fault.Is(err, fault.Invalid), "%s: got %v", name, err)
	}
}

// testReseal: a change applies only where the row still holds the value
// it replaces; a row changed since is skipped and keeps what it has.
func testReseal(t *testing.T, s Store) {
	ctx := context.Background()
	hs := sealedCounty(t, s)
	h := hs[0]
	newHead := pii.Sealed{KeyID: "k2", Ciphertext: []byte("head-under-k2")}
	stale := pii.Sealed{KeyID: "k1", Ciphertext: []byte("what it was before")}
	n, err := s.Reseal(ctx, rekey.HouseholdHead, []rekey.Change{
		{Ref: rekey.Ref{ID: h.ID}, Old: pii.Sealed{KeyID: "k1", Ciphertext: h.HeadID.Ciphertext}, New: newHead},
		{Ref: rekey.Ref{ID: hs[1].ID}, Old: stale, New: newHead},
		{Ref: rekey.Ref{ID: hs[2].ID}, Old: pii.Sealed{KeyID: "k1", Ciphertext: hs[2].HeadID.Ciphertext}, New: newHead},
	})
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the first applies; the second's ciphertext and the third's key id are not what is stored")
	got, err := get(t, s, villageA, h.ID)
	require.NoError(t, err)
	assert.Equal(t, household.SealedID{KeyID: "k2", Ciphertext: newHead.Ciphertext, Index: h.HeadID.Index}, got.HeadID,
		"the blind index does not change")
	for _, other := range hs[1:] {
		got, err := get(t, s, villageA, other.ID)
		require.NoError(t, err)
		assert.Equal(t, other.HeadID, got.HeadID, "a skipped row is left as it was")
	}
	assert.Equal(t, "k1", got.Members[0].ID.KeyID, "the head member is a value of its own")

	// One member of one version; the same member in the other version
	// and the other members stay.
	m := h.Members[1]
	n, err = s.Reseal(ctx, rekey.Member, []rekey.Change{{Ref: rekey.Ref{ID: h.ID, Version: 2, Member: m.Number},
		Old: pii.Sealed{KeyID: "k1", Ciphertext: m.ID.Ciphertext}, New: pii.Sealed{KeyID: "k2", Ciphertext: []byte("m2")}}})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	got, err = get(t, s, villageA, h.ID)
	require.NoError(t, err)
	assert.Equal(t, household.SealedID{KeyID: "k2", Ciphertext: []byte("m2"), Index: m.ID.Index}, got.Members[1].ID)
	assert.Equal(t, h.Members[2].ID, got.Members[2].ID)
	v1, err := s.SealedBatch(ctx, rekey.Member, "k1", rekey.Ref{ID: h.ID, Version: 1}, 10)
	require.NoError(t, err)
	assert.Contains(t, v1, rekey.Value{Ref: rekey.Ref{ID: h.ID, Version: 1, Member: m.Number},
		Sealed: pii.Sealed{KeyID: "k1", Ciphertext: m.ID.Ciphertext}}, "version 1 keeps its own row")

	// The previous webhook secret, not the current one.
	n, err = s.Reseal(ctx, rekey.WebhookPrevious, []rekey.Change{{Ref: rekey.Ref{ID: bankB},
		Old: pii.Sealed{KeyID: "k1", Ciphertext: []byte("old-b")}, New: pii.Sealed{KeyID: "k2", Ciphertext: []byte("old-b2")}}})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	ep, err := readEndpoint(t, s, bankB)
	require.NoError(t, err)
	assert.Equal(t, pii.Sealed{KeyID: "k2", Ciphertext: []byte("new-b")}, ep.Secret)
	require.NotNil(t, ep.Previous)
	assert.Equal(t, pii.Sealed{KeyID: "k2", Ciphertext: []byte("old-b2")}, *ep.Previous)

	counts, err := s.SealedCounts(ctx)
	require.NoError(t, err)
	assert.Contains(t, counts, rekey.Count{Field: rekey.HouseholdHead, KeyID: "k2", Values: 1})
	assert.Contains(t, counts, rekey.Count{Field: rekey.WebhookPrevious, KeyID: "k2", Values: 1})

	// Bad changes write nothing, not even the good ones beside them.
	good := rekey.Change{Ref: rekey.Ref{ID: hs[1].ID}, Old: pii.Sealed{KeyID: "k1", Ciphertext: hs[1].HeadID.Ciphertext}, New: newHead}
	for name, bad := range map[string]rekey.Change{
		"no new ciphertext": {Ref: rekey.Ref{ID: hs[2].ID}, Old: pii.Sealed{KeyID: "k1", Ciphertext: []byte{1}}, New: pii.Sealed{KeyID: "k2"}},
		"no old key id":     {Ref: rekey.Ref{ID: hs[2].ID}, Old: pii.Sealed{Ciphertext: []byte{1}}, New: newHead},
		"another old key":   {Ref: rekey.Ref{ID: hs[2].ID}, Old: pii.Sealed{KeyID: "k0", Ciphertext: hs[2].HeadID.Ciphertext}, New: newHead},
		"another new key":   {Ref: rekey.Ref{ID: hs[2].ID}, Old: pii.Sealed{KeyID: "k1", Ciphertext: []byte{1}}, New: pii.Sealed{KeyID: "k3", Ciphertext: []byte{1}}},
	} {
		_, err = s.Reseal(ctx, rekey.HouseholdHead, []rekey.Change{good, bad})
		assert.True(t, fault.Is(err, fault.Invalid), "%s: got %v", name, err)
	}
	_, err = s.Reseal(ctx, "households.address", []rekey.Change{good})
	assert.True(t, fault.Is(err, fault.Invalid), "an unknown field: got %v", err)
	got, err = get(t, s, villageA, hs[1].ID)
	require.NoError(t, err)
	assert.Equal(t, hs[1].HeadID, got.HeadID)
	n, err = s.Reseal(ctx, rekey.HouseholdHead, nil)
	require.NoError(t, err)
	assert.Zero(t, n)
}

// testResealMany: one call takes more changes than one statement holds
// on either engine, and counts what it applied across its statements.
func testResealMany(t *testing.T, s Store) {
	ctx := context.Background()
	h := withMembers(newHousehold(t, villageA, 1), 50)
	insert(t, s, h)
	const versions = 40 // 2,000 member values
	require.NoError(t, s.Households().Write(ctx, func(tx household.Writer) error {
		for v := int64(2); v <= versions; v++ {
			f := h.Facts
			f.Version = v
			if err := tx.InsertFacts(ctx, h.ID, f); err != nil {
				return err
			}
			if err := tx.InsertMembers(ctx, h.ID, v, h.Members); err != nil {
				return err
			}
		}
		return nil
	}))
	all, err := s.SealedBatch(ctx, rekey.Member, "k1", rekey.Ref{}, 5000)
	require.NoError(t, err)
	require.Len(t, all, 50*versions)
	changes := make([]rekey.Change, len(all))
	stale := 0
	for i, v := range all {
		changes[i] = rekey.Change{Ref: v.Ref, Old: v.Sealed, New: pii.Sealed{KeyID: "k2", Ciphertext: fmt.Appendf(nil, "new-%d", i)}}
		if i%7 == 3 {
			changes[i].Old.Ciphertext = []byte("changed meanwhile")
			stale++
		}
	}
	n, err := s.Reseal(ctx, rekey.Member, changes)
	require.NoError(t, err)
	assert.Equal(t, len(all)-stale, n)
	moved, err := s.SealedBatch(ctx, rekey.Member, "k2", rekey.Ref{}, 5000)
	require.NoError(t, err)
	require.Len(t, moved, n)
	byRef := make(map[rekey.Ref]rekey.Change, len(changes))
	for _, c := range changes {
		byRef[c.Ref] = c
	}
	for _, v := range moved {
		c, ok := byRef[v.Ref]
		require.True(t, ok, "%+v was not among the changes", v.Ref)
		assert.Equal(t, c.New.Ciphertext, v.Sealed.Ciphertext, "each row gets its own ciphertext")
	}
	left, err := s.SealedBatch(ctx, rekey.Member, "k1", rekey.Ref{}, 5000)
	require.NoError(t, err)
	assert.Len(t, left, stale)
}
