package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/audit"
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

// policyParents are the docKind's parents: the bank product the
// scenarios work on, another product of the bank, another bank's.
var policyParents = [3][2]string{{bankA, productA}, {bankA, productB}, {bankB, productA}}

// policyVersions is the policy versions as a docKind.
var policyVersions = docKind[*policies.Version]{
	title: "Policy", action: "policy",
	draft: func(p, n int) *policies.Version { return newPolicy(policyParents[p][0], policyParents[p][1], n) },
	read: func(s Store, fn func(versionTx[*policies.Version]) error) error {
		return s.Policies().Read(context.Background(), func(tx policies.Reader) error {
			return fn(policyTx(tx, nil))
		})
	},
	write: func(s Store, fn func(versionTx[*policies.Version]) error) error {
		return s.Policies().Write(context.Background(), func(tx policies.Writer) error {
			return fn(policyTx(tx, tx))
		})
	},
	same: assertSamePolicy,
	name: (*policies.Version).Name,
	fields: func(v *policies.Version) versionFields {
		return versionFields{&v.Version, &v.State, &v.Document, &v.ContentHash, &v.ActivatedBy, &v.ActivateTime, &v.SupersedeTime}
	},
}

// policyTx is r (and w, in a write transaction) as a versionTx.
func policyTx(r policies.Reader, w policies.Writer) versionTx[*policies.Version] {
	ctx := context.Background()
	tx := versionTx[*policies.Version]{
		version: func(p, n int) (*policies.Version, error) {
			return r.PolicyVersion(ctx, policyParents[p][0], policyParents[p][1], n)
		},
		active: func(p int) (*policies.Version, error) {
			return r.ActivePolicy(ctx, policyParents[p][0], policyParents[p][1])
		},
		list: func(p, before, limit int) ([]*policies.Version, error) {
			return r.PolicyVersions(ctx, policies.ListQuery{Bank: policyParents[p][0], Product: policyParents[p][1], Before: before, Limit: limit})
		},
	}
	if w != nil {
		tx.insert = func(v *policies.Version) error { return w.InsertPolicyVersion(ctx, v) }
		tx.update = func(v *policies.Version) error { return w.UpdatePolicyState(ctx, v) }
		tx.record = func(rec audit.Record) error { return w.Record(ctx, rec) }
	}
	return tx
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
	k := policyVersions
	draft := newPolicy(bankA, productA, 1)
	k.insert(t, s, draft)
	got, err := k.version(s, 0, 1)
	require.NoError(t, err)
	assertSamePolicy(t, draft, got, true)

	// Every field set on insert comes back, times to the microsecond.
	full := newPolicy(bankA, productA, 2)
	approved, activated, superseded := base.Add(time.Hour+123456789), base.Add(2*time.Hour), base.Add(3*time.Hour)
	full.State, full.ApprovedBy, full.ApproveTime = policies.Superseded, "checker", &approved
	full.ActivatedBy, full.ActivateTime, full.SupersedeTime = "activator", &activated, &superseded
	full.UploadTime = base.Add(987654321)
	k.insert(t, s, full)
	got, err = k.version(s, 0, 2)
	require.NoError(t, err)
	assertSamePolicy(t, full, got, true)

	// The lifecycle columns change; nothing else does.
	at := base.Add(4 * time.Hour)
	require.NoError(t, k.change(s, 0, 1, func(v *policies.Version) {
		v.State, v.ApprovedBy, v.ApproveTime = policies.Approved, "checker", &at
		v.Document, v.ContentHash, v.EffectiveDate, v.UploadedBy = "tampered", "tampered", "2099-01-01", "tampered"
		v.UploadTime = base.Add(99 * time.Hour)
	}))
	want := *draft
	want.State, want.ApprovedBy, want.ApproveTime = policies.Approved, "checker", &at
	got, err = k.version(s, 0, 1)
	require.NoError(t, err)
	assertSamePolicy(t, &want, got, true)

	later := at.Add(time.Minute)
	require.NoError(t, k.change(s, 0, 1, func(v *policies.Version) {
		v.State, v.ActivatedBy, v.ActivateTime = policies.Active, "activator", &later
	}))
	want.State, want.ActivatedBy, want.ActivateTime = policies.Active, "activator", &later
	active, err := k.active(s, 0)
	require.NoError(t, err)
	assertSamePolicy(t, &want, active, true)

	// Clearing a time stores NULL again.
	require.NoError(t, k.change(s, 0, 2, func(v *policies.Version) {
		v.SupersedeTime = nil
	}))
	got, err = k.version(s, 0, 2)
	require.NoError(t, err)
	assert.Nil(t, got.SupersedeTime)

	list := k.list(t, s, 0, 0, 10)
	require.Len(t, list, 2)
	want2 := *full
	want2.SupersedeTime = nil
	assertSamePolicy(t, &want2, list[0], false)
	assertSamePolicy(t, &want, list[1], false)
	for _, v := range list {
		assert.Empty(t, v.Document, "lists leave the document out")
	}
}

// A bank's products are those with a version in any state, each once, in
// name order; another bank's are not among them.
func testPolicyProducts(t *testing.T, s Store) {
	ctx := context.Background()
	got, err := s.PolicyProducts(ctx, bankA)
	require.NoError(t, err)
	assert.Empty(t, got)
	k := policyVersions
	k.insert(t, s, newPolicy(bankA, productA, 1))
	k.insert(t, s, newPolicy(bankA, productA, 2))
	k.insert(t, s, newPolicy(bankA, productB, 1)) // a draft only
	k.insert(t, s, newPolicy(bankB, "other-dai", 1))
	got, err = s.PolicyProducts(ctx, bankA)
	require.NoError(t, err)
	assert.Equal(t, []string{productB, productA}, got)
	got, err = s.PolicyProducts(ctx, bankB)
	require.NoError(t, err)
	assert.Equal(t, []string{"other-dai"}, got)
}
