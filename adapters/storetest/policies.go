package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/policies"
)

const (
	bankA, bankB       = "tongxiang-rcb", "haining-rcb"
	productA, productB = "sanzhi-xindai", "nongjia-dai"
)

// newPolicy builds a draft version n of a bank product's policy. The
// document is not a valid policy: stores keep text, the service validates
// it.
func newPolicy(bank, product string, n int) *policies.Version {
	return &policies.Version{
		Bank: bank, Product: product, Version: n,
		Document:    fmt.Sprintf("bank: %s\nproduct: %s\n# 第%d版 — 三治信贷授信政策\nversion: %d\n", bank, product, n, n),
		ContentHash: fmt.Sprintf("%064x", 1000+n), EffectiveDate: fmt.Sprintf("2026-%02d-01", n%12+1),
		State: policies.Draft, UploadedBy: "maker", UploadTime: base.Add(time.Duration(n) * time.Minute),
	}
}

func insertPolicy(t *testing.T, s Store, v *policies.Version) {
	t.Helper()
	require.NoError(t, s.Policies().Write(context.Background(), func(tx policies.Writer) error {
		return tx.InsertPolicyVersion(context.Background(), v)
	}))
}

func readPolicy(t *testing.T, s Store, bank, product string, n int) (*policies.Version, error) {
	t.Helper()
	var v *policies.Version
	err := s.Policies().Read(context.Background(), func(tx policies.Reader) error {
		var err error
		v, err = tx.PolicyVersion(context.Background(), bank, product, n)
		return err
	})
	return v, err
}

func readActivePolicy(t *testing.T, s Store, bank, product string) (*policies.Version, error) {
	t.Helper()
	var v *policies.Version
	err := s.Policies().Read(context.Background(), func(tx policies.Reader) error {
		var err error
		v, err = tx.ActivePolicy(context.Background(), bank, product)
		return err
	})
	return v, err
}

func listPolicies(t *testing.T, s Store, q policies.ListQuery) []*policies.Version {
	t.Helper()
	var out []*policies.Version
	require.NoError(t, s.Policies().Read(context.Background(), func(tx policies.Reader) error {
		var err error
		out, err = tx.PolicyVersions(context.Background(), q)
		return err
	}))
	return out
}

// updatePolicy loads version n, lets change modify it and stores its
// lifecycle fields, all in one transaction.
func updatePolicy(s Store, bank, product string, n int, change func(*policies.Version)) error {
	ctx := context.Background()
	return s.Policies().Write(ctx, func(tx policies.Writer) error {
		v, err := tx.PolicyVersion(ctx, bank, product, n)
		if err != nil {
			return err
		}
		change(v)
		return tx.UpdatePolicyState(ctx, v)
	})
}

func assertSamePolicy(t *testing.T, want, got *policies.Version, withDocument bool) {
	t.Helper()
	w, g := *want, *got
	assert.True(t, w.UploadTime.Truncate(time.Microsecond).Equal(g.UploadTime), "upload time %v vs %v", w.UploadTime, g.UploadTime)
	assert.Equal(t, time.UTC, g.UploadTime.Location())
	for _, p := range []struct {
		name      string
		want, got *time.Time
	}{
		{"approve", w.ApproveTime, g.ApproveTime},
		{"activate", w.ActivateTime, g.ActivateTime},
		{"supersede", w.SupersedeTime, g.SupersedeTime},
	} {
		if p.want == nil {
			assert.Nil(t, p.got, p.name)
			continue
		}
		if assert.NotNil(t, p.got, p.name) {
			assert.True(t, p.want.Truncate(time.Microsecond).Equal(*p.got), "%s time %v vs %v", p.name, *p.want, *p.got)
			assert.Equal(t, time.UTC, p.got.Location(), p.name)
		}
	}
	w.UploadTime, g.UploadTime = time.Time{}, time.Time{}
	w.ApproveTime, g.ApproveTime = nil, nil
	w.ActivateTime, g.ActivateTime, w.SupersedeTime, g.SupersedeTime = nil, nil, nil, nil
	if !withDocument {
		w.Document = ""
	}
	assert.Equal(t, w, g)
}

func testPolicyRoundTrip(t *testing.T, s Store) {
	draft := newPolicy(bankA, productA, 1)
	insertPolicy(t, s, draft)
	got, err := readPolicy(t, s, bankA, productA, 1)
	require.NoError(t, err)
	assertSamePolicy(t, draft, got, true)

	// Every field set on insert comes back, times to the microsecond.
	full := newPolicy(bankA, productA, 2)
	approved, activated, superseded := base.Add(time.Hour+123456789), base.Add(2*time.Hour), base.Add(3*time.Hour)
	full.State, full.ApprovedBy, full.ApproveTime = policies.Superseded, "checker", &approved
	full.ActivatedBy, full.ActivateTime, full.SupersedeTime = "activator", &activated, &superseded
	full.UploadTime = base.Add(987654321)
	insertPolicy(t, s, full)
	got, err = readPolicy(t, s, bankA, productA, 2)
	require.NoError(t, err)
	assertSamePolicy(t, full, got, true)

	// The lifecycle columns change; nothing else does.
	at := base.Add(4 * time.Hour)
	require.NoError(t, updatePolicy(s, bankA, productA, 1, func(v *policies.Version) {
		v.State, v.ApprovedBy, v.ApproveTime = policies.Approved, "checker", &at
		v.Document, v.ContentHash, v.EffectiveDate, v.UploadedBy = "tampered", "tampered", "2099-01-01", "tampered"
		v.UploadTime = base.Add(99 * time.Hour)
	}))
	want := *draft
	want.State, want.ApprovedBy, want.ApproveTime = policies.Approved, "checker", &at
	got, err = readPolicy(t, s, bankA, productA, 1)
	require.NoError(t, err)
	assertSamePolicy(t, &want, got, true)

	later := at.Add(time.Minute)
	require.NoError(t, updatePolicy(s, bankA, productA, 1, func(v *policies.Version) {
		v.State, v.ActivatedBy, v.ActivateTime = policies.Active, "activator", &later
	}))
	want.State, want.ActivatedBy, want.ActivateTime = policies.Active, "activator", &later
	active, err := readActivePolicy(t, s, bankA, productA)
	require.NoError(t, err)
	assertSamePolicy(t, &want, active, true)

	// Clearing a time stores NULL again.
	require.NoError(t, updatePolicy(s, bankA, productA, 2, func(v *policies.Version) {
		v.SupersedeTime = nil
	}))
	got, err = readPolicy(t, s, bankA, productA, 2)
	require.NoError(t, err)
	assert.Nil(t, got.SupersedeTime)

	list := listPolicies(t, s, policies.ListQuery{Bank: bankA, Product: productA, Limit: 10})
	require.Len(t, list, 2)
	want2 := *full
	want2.SupersedeTime = nil
	assertSamePolicy(t, &want2, list[0], false)
	assertSamePolicy(t, &want, list[1], false)
	for _, v := range list {
		assert.Empty(t, v.Document, "lists leave the document out")
	}
}

func testPolicyNotFound(t *testing.T, s Store) {
	insertPolicy(t, s, newPolicy(bankA, productA, 1))
	_, err := readPolicy(t, s, bankA, productA, 2)
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	_, err = readPolicy(t, s, bankA, productB, 1)
	assert.True(t, fault.Is(err, fault.NotFound), "another product's version, got %v", err)
	_, err = readPolicy(t, s, bankB, productA, 1)
	assert.True(t, fault.Is(err, fault.NotFound), "another bank's version, got %v", err)
	_, err = readActivePolicy(t, s, bankA, productA)
	assert.True(t, fault.Is(err, fault.NotFound), "a draft is not active, got %v", err)
	assert.Empty(t, listPolicies(t, s, policies.ListQuery{Bank: bankB, Product: productA, Limit: 10}),
		"an empty list is not an error")

	ghost := newPolicy(bankA, productA, 9)
	ghost.State = policies.Approved
	err = s.Policies().Write(context.Background(), func(tx policies.Writer) error {
		return tx.UpdatePolicyState(context.Background(), ghost)
	})
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
}

func testPolicyVersionsAreUnique(t *testing.T, s Store) {
	ctx := context.Background()
	insertPolicy(t, s, newPolicy(bankA, productA, 1))
	insertPolicy(t, s, newPolicy(bankA, productB, 1)) // same number, another product
	insertPolicy(t, s, newPolicy(bankB, productA, 1)) // and another bank

	again := newPolicy(bankA, productA, 1)
	again.Document, again.ContentHash = "different", "different"
	err := s.Policies().Write(ctx, func(tx policies.Writer) error {
		return tx.InsertPolicyVersion(ctx, again)
	})
	assert.True(t, fault.Is(err, fault.AlreadyExists), "got %v", err)
	got, err := readPolicy(t, s, bankA, productA, 1)
	require.NoError(t, err)
	assert.NotEqual(t, "different", got.Document, "the first text stays")

	// A second active version cannot be inserted either.
	act := newPolicy(bankA, productA, 2)
	act.State = policies.Active
	insertPolicy(t, s, act)
	act3 := newPolicy(bankA, productA, 3)
	act3.State = policies.Active
	err = s.Policies().Write(ctx, func(tx policies.Writer) error {
		return tx.InsertPolicyVersion(ctx, act3)
	})
	assert.True(t, fault.Is(err, fault.AlreadyExists), "got %v", err)
	_, err = readPolicy(t, s, bankA, productA, 3)
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
}

// At most one active version per bank product, whatever a caller does.
func testPolicyOneActive(t *testing.T, s Store) {
	ctx := context.Background()
	for n := 1; n <= 2; n++ {
		insertPolicy(t, s, newPolicy(bankA, productA, n))
	}
	// Another product and another bank each have their own active version.
	insertPolicy(t, s, newPolicy(bankA, productB, 1))
	insertPolicy(t, s, newPolicy(bankB, productA, 1))
	activate := func(bank, product string, n int) error {
		return updatePolicy(s, bank, product, n, func(v *policies.Version) {
			at := base.Add(time.Hour)
			v.State, v.ActivatedBy, v.ActivateTime = policies.Active, "checker", &at
		})
	}
	require.NoError(t, activate(bankA, productA, 1))
	require.NoError(t, activate(bankA, productB, 1))
	require.NoError(t, activate(bankB, productA, 1))
	err := activate(bankA, productA, 2)
	assert.True(t, fault.Is(err, fault.AlreadyExists), "a second active version is refused, got %v", err)
	v2, err := readPolicy(t, s, bankA, productA, 2)
	require.NoError(t, err)
	assert.Equal(t, policies.Draft, v2.State, "the refused change rolled back")

	// Superseding the first in the same transaction lets the second in.
	require.NoError(t, s.Policies().Write(ctx, func(tx policies.Writer) error {
		cur, err := tx.ActivePolicy(ctx, bankA, productA)
		if err != nil {
			return err
		}
		at := base.Add(2 * time.Hour)
		cur.State, cur.SupersedeTime = policies.Superseded, &at
		if err := tx.UpdatePolicyState(ctx, cur); err != nil {
			return err
		}
		v, err := tx.PolicyVersion(ctx, bankA, productA, 2)
		if err != nil {
			return err
		}
		v.State, v.ActivatedBy, v.ActivateTime = policies.Active, "checker", &at
		return tx.UpdatePolicyState(ctx, v)
	}))
	active, err := readActivePolicy(t, s, bankA, productA)
	require.NoError(t, err)
	assert.Equal(t, 2, active.Version)
	v1, err := readPolicy(t, s, bankA, productA, 1)
	require.NoError(t, err)
	assert.Equal(t, policies.Superseded, v1.State)
	assert.NotNil(t, v1.SupersedeTime)
	assert.NotNil(t, v1.ActivateTime, "a superseded version keeps its activation")
	for _, o := range [][2]string{{bankA, productB}, {bankB, productA}} {
		v, err := readActivePolicy(t, s, o[0], o[1])
		if assert.NoError(t, err, o) {
			assert.Equal(t, 1, v.Version, o)
		}
	}
}

// Concurrent activations, each superseding what it finds active, leave
// exactly one active version and every other activated one superseded.
func testPolicyConcurrentActivations(t *testing.T, s Store) {
	ctx := context.Background()
	const n = 12
	for i := 1; i <= n; i++ {
		insertPolicy(t, s, newPolicy(bankA, productA, i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Policies().Write(ctx, func(tx policies.Writer) error {
				at := base.Add(time.Duration(i) * time.Hour)
				cur, err := tx.ActivePolicy(ctx, bankA, productA)
				switch {
				case err == nil:
					cur.State, cur.SupersedeTime = policies.Superseded, &at
					if err := tx.UpdatePolicyState(ctx, cur); err != nil {
						return err
					}
				case !fault.Is(err, fault.NotFound):
					return err
				}
				v, err := tx.PolicyVersion(ctx, bankA, productA, i)
				if err != nil {
					return err
				}
				v.State, v.ActivatedBy, v.ActivateTime = policies.Active, "checker", &at
				return tx.UpdatePolicyState(ctx, v)
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	all := listPolicies(t, s, policies.ListQuery{Bank: bankA, Product: productA, Limit: 100})
	require.Len(t, all, n)
	states := map[policies.State]int{}
	for _, v := range all {
		states[v.State]++
	}
	assert.Equal(t, map[policies.State]int{policies.Active: 1, policies.Superseded: n - 1}, states)
}

func testPolicyListPaging(t *testing.T, s Store) {
	for n := 1; n <= 7; n++ {
		insertPolicy(t, s, newPolicy(bankA, productA, n))
	}
	insertPolicy(t, s, newPolicy(bankA, productB, 8))
	insertPolicy(t, s, newPolicy(bankB, productA, 9))
	var got []int
	before := 0
	for range 10 {
		page := listPolicies(t, s, policies.ListQuery{Bank: bankA, Product: productA, Before: before, Limit: 3})
		if len(page) == 0 {
			break
		}
		assert.LessOrEqual(t, len(page), 3)
		for _, v := range page {
			got = append(got, v.Version)
			assert.Empty(t, v.Document, "lists leave the document out")
			assert.NotEmpty(t, v.ContentHash)
		}
		before = page[len(page)-1].Version
	}
	assert.Equal(t, []int{7, 6, 5, 4, 3, 2, 1}, got, "newest first, and only this bank product's")
}

func testPolicyAuditRecord(t *testing.T, s Store) {
	ctx := context.Background()
	v := newPolicy(bankA, productA, 1)
	rec := audit.Record{Time: base, Actor: "maker", Action: "policy.upload", Subject: v.Name()}
	require.NoError(t, s.Policies().Write(ctx, func(tx policies.Writer) error {
		if err := tx.InsertPolicyVersion(ctx, v); err != nil {
			return err
		}
		return tx.Record(ctx, rec)
	}))
	n, err := s.QueueLength(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)

	boom := errors.New("boom")
	v2 := newPolicy(bankA, productA, 2)
	err = s.Policies().Write(ctx, func(tx policies.Writer) error {
		if err := tx.InsertPolicyVersion(ctx, v2); err != nil {
			return err
		}
		if err := tx.Record(ctx, rec); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, err = readPolicy(t, s, bankA, productA, 2)
	assert.True(t, fault.Is(err, fault.NotFound), "the version rolled back with its record")
	n, err = s.QueueLength(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
}

func testPolicyWriteRollsBack(t *testing.T, s Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	v := newPolicy(bankA, productA, 1)
	err := s.Policies().Write(ctx, func(tx policies.Writer) error {
		if err := tx.InsertPolicyVersion(ctx, v); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, err = readPolicy(t, s, bankA, productA, 1)
	assert.True(t, fault.Is(err, fault.NotFound), "a failed transaction leaves nothing behind, got %v", err)

	insertPolicy(t, s, v)
	err = s.Policies().Write(ctx, func(tx policies.Writer) error {
		got, err := tx.PolicyVersion(ctx, bankA, productA, 1)
		if err != nil {
			return err
		}
		at := base.Add(time.Hour)
		got.State, got.ApprovedBy, got.ApproveTime = policies.Approved, "checker", &at
		if err := tx.UpdatePolicyState(ctx, got); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, err := readPolicy(t, s, bankA, productA, 1)
	require.NoError(t, err)
	assertSamePolicy(t, v, got, true)
}
