package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/docver"
)

// docKind is one kind of versioned document (scoring/docver) as its store
// holds it: catalogue versions, policy versions. The lifecycle scenarios
// below run on every kind; what only one kind has (its columns) is tested
// beside its kind.
type docKind[V any] struct {
	// title prefixes the scenarios' names; action names audit actions
	// (action + ".upload").
	title, action string
	// draft builds a draft version n under parent p: 0 is the parent the
	// scenarios work on, 1 and 2 are others (their keys share a column
	// with parent 0's). Its document is not valid: stores keep text, the
	// service validates it.
	draft func(p, n int) V
	read  func(s Store, fn func(versionTx[V]) error) error
	write func(s Store, fn func(versionTx[V]) error) error
	// same asserts that got is want as stored (times to the microsecond,
	// in UTC), without the document unless withDocument.
	same func(t *testing.T, want, got V, withDocument bool)
	name func(V) string
	// fields points into a version: what the scenarios read and change.
	fields func(V) versionFields
}

// versionFields points at the fields every kind of version has.
type versionFields struct {
	number                      *int
	state                       *docver.State
	document, hash, activatedBy *string
	activated, superseded       **time.Time
}

func (k docKind[V]) number(v V) int              { return *k.fields(v).number }
func (k docKind[V]) state(v V) docver.State      { return *k.fields(v).state }
func (k docKind[V]) text(v V) (doc, hash string) { f := k.fields(v); return *f.document, *f.hash }

func (k docKind[V]) retext(v V, doc, hash string) {
	f := k.fields(v)
	*f.document, *f.hash = doc, hash
}

// activate and supersede make the change the service makes, at at.
func (k docKind[V]) activate(v V, by string, at time.Time) {
	f := k.fields(v)
	*f.state, *f.activatedBy, *f.activated = docver.Active, by, &at
}

func (k docKind[V]) supersede(v V, at time.Time) {
	f := k.fields(v)
	*f.state, *f.superseded = docver.Superseded, &at
}

// versionTx is one transaction on a kind's versions; a read transaction
// leaves insert, update and record nil.
type versionTx[V any] struct {
	version func(p, n int) (V, error)
	active  func(p int) (V, error)
	list    func(p, before, limit int) ([]V, error)
	insert  func(V) error
	update  func(V) error
	record  func(audit.Record) error
}

// versionScenarios returns the lifecycle scenarios run on kind k.
func versionScenarios[V any](k docKind[V]) []conformance {
	return []conformance{
		{name: k.title + "NotFound", fn: k.testNotFound},
		{name: k.title + "VersionsAreUnique", fn: k.testUnique},
		{name: k.title + "OneActive", fn: k.testOneActive},
		{name: k.title + "ConcurrentActivations", fn: k.testConcurrentActivations},
		{name: k.title + "ListPaging", fn: k.testListPaging},
		{name: k.title + "AuditRecordCommitsWithItsWrite", fn: k.testAuditRecord},
		{name: k.title + "WriteRollsBack", fn: k.testWriteRollsBack},
	}
}

func (k docKind[V]) insert(t *testing.T, s Store, v V) {
	t.Helper()
	require.NoError(t, k.write(s, func(tx versionTx[V]) error { return tx.insert(v) }))
}

func (k docKind[V]) version(s Store, p, n int) (V, error) {
	var v V
	err := k.read(s, func(tx versionTx[V]) error {
		var err error
		v, err = tx.version(p, n)
		return err
	})
	return v, err
}

func (k docKind[V]) active(s Store, p int) (V, error) {
	var v V
	err := k.read(s, func(tx versionTx[V]) error {
		var err error
		v, err = tx.active(p)
		return err
	})
	return v, err
}

func (k docKind[V]) list(t *testing.T, s Store, p, before, limit int) []V {
	t.Helper()
	var out []V
	require.NoError(t, k.read(s, func(tx versionTx[V]) error {
		var err error
		out, err = tx.list(p, before, limit)
		return err
	}))
	return out
}

// change loads version n of parent p, lets fn modify it and stores its
// lifecycle fields, all in one transaction.
func (k docKind[V]) change(s Store, p, n int, fn func(V)) error {
	return k.write(s, func(tx versionTx[V]) error {
		v, err := tx.version(p, n)
		if err != nil {
			return err
		}
		fn(v)
		return tx.update(v)
	})
}

// replace supersedes p's active version, if any, and activates version n,
// in tx: what the service's Activate does.
func (k docKind[V]) replace(tx versionTx[V], p, n int, at time.Time) error {
	cur, err := tx.active(p)
	switch {
	case err == nil:
		k.supersede(cur, at)
		if err := tx.update(cur); err != nil {
			return err
		}
	case !fault.Is(err, fault.NotFound):
		return err
	}
	v, err := tx.version(p, n)
	if err != nil {
		return err
	}
	k.activate(v, "checker", at)
	return tx.update(v)
}

func (k docKind[V]) testNotFound(t *testing.T, s Store) {
	k.insert(t, s, k.draft(0, 1))
	_, err := k.version(s, 0, 2)
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	for p := 1; p <= 2; p++ {
		_, err = k.version(s, p, 1)
		assert.True(t, fault.Is(err, fault.NotFound), "another parent's version (%d), got %v", p, err)
	}
	_, err = k.active(s, 0)
	assert.True(t, fault.Is(err, fault.NotFound), "a draft is not active, got %v", err)
	assert.Empty(t, k.list(t, s, 1, 0, 10), "an empty list is not an error")

	ghost := k.draft(0, 9)
	k.activate(ghost, "checker", base)
	err = k.write(s, func(tx versionTx[V]) error { return tx.update(ghost) })
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
}

func (k docKind[V]) testUnique(t *testing.T, s Store) {
	for p := range 3 {
		k.insert(t, s, k.draft(p, 1)) // the same number under other parents
	}
	again := k.draft(0, 1)
	k.retext(again, "different", "different")
	err := k.write(s, func(tx versionTx[V]) error { return tx.insert(again) })
	assert.True(t, fault.Is(err, fault.AlreadyExists), "got %v", err)
	got, err := k.version(s, 0, 1)
	require.NoError(t, err)
	doc, _ := k.text(got)
	assert.NotEqual(t, "different", doc, "the first text stays")

	// A second active version cannot be inserted either.
	act := k.draft(0, 2)
	k.activate(act, "checker", base)
	k.insert(t, s, act)
	act3 := k.draft(0, 3)
	k.activate(act3, "checker", base)
	err = k.write(s, func(tx versionTx[V]) error { return tx.insert(act3) })
	assert.True(t, fault.Is(err, fault.AlreadyExists), "got %v", err)
	_, err = k.version(s, 0, 3)
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
}

// At most one active version per parent, whatever a caller does.
func (k docKind[V]) testOneActive(t *testing.T, s Store) {
	k.insert(t, s, k.draft(0, 1))
	k.insert(t, s, k.draft(0, 2))
	// The other parents each have their own active version.
	k.insert(t, s, k.draft(1, 1))
	k.insert(t, s, k.draft(2, 1))
	activate := func(p, n int) error {
		return k.change(s, p, n, func(v V) { k.activate(v, "checker", base.Add(time.Hour)) })
	}
	for p := range 3 {
		require.NoError(t, activate(p, 1))
	}
	err := activate(0, 2)
	assert.True(t, fault.Is(err, fault.AlreadyExists), "a second active version is refused, got %v", err)
	v2, err := k.version(s, 0, 2)
	require.NoError(t, err)
	assert.Equal(t, docver.Draft, k.state(v2), "the refused change rolled back")

	// Superseding the first in the same transaction lets the second in.
	require.NoError(t, k.write(s, func(tx versionTx[V]) error {
		return k.replace(tx, 0, 2, base.Add(2*time.Hour))
	}))
	active, err := k.active(s, 0)
	require.NoError(t, err)
	assert.Equal(t, 2, k.number(active))
	v1, err := k.version(s, 0, 1)
	require.NoError(t, err)
	assert.Equal(t, docver.Superseded, k.state(v1))
	f := k.fields(v1)
	assert.NotNil(t, *f.superseded)
	assert.NotNil(t, *f.activated, "a superseded version keeps its activation")
	for p := 1; p <= 2; p++ {
		v, err := k.active(s, p)
		if assert.NoError(t, err, p) {
			assert.Equal(t, 1, k.number(v), p)
		}
	}
}

// Concurrent activations, each superseding what it finds active, leave
// exactly one active version and every other activated one superseded.
func (k docKind[V]) testConcurrentActivations(t *testing.T, s Store) {
	const n = 12
	for i := 1; i <= n; i++ {
		k.insert(t, s, k.draft(0, i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- k.write(s, func(tx versionTx[V]) error {
				return k.replace(tx, 0, i, base.Add(time.Duration(i)*time.Hour))
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	all := k.list(t, s, 0, 0, 100)
	require.Len(t, all, n)
	states := map[docver.State]int{}
	for _, v := range all {
		states[k.state(v)]++
	}
	assert.Equal(t, map[docver.State]int{docver.Active: 1, docver.Superseded: n - 1}, states)
}

func (k docKind[V]) testListPaging(t *testing.T, s Store) {
	for n := 1; n <= 7; n++ {
		k.insert(t, s, k.draft(0, n))
	}
	k.insert(t, s, k.draft(1, 8))
	k.insert(t, s, k.draft(2, 9))
	var got []int
	before := 0
	for range 10 {
		page := k.list(t, s, 0, before, 3)
		if len(page) == 0 {
			break
		}
		assert.LessOrEqual(t, len(page), 3)
		for _, v := range page {
			got = append(got, k.number(v))
			doc, hash := k.text(v)
			assert.Empty(t, doc, "lists leave the document out")
			assert.NotEmpty(t, hash)
		}
		before = k.number(page[len(page)-1])
	}
	assert.Equal(t, []int{7, 6, 5, 4, 3, 2, 1}, got, "newest first, and only this parent's")
}

func (k docKind[V]) testAuditRecord(t *testing.T, s Store) {
	ctx := context.Background()
	v := k.draft(0, 1)
	rec := audit.Record{Time: base, Actor: "maker", Action: k.action + ".upload", Subject: k.name(v)}
	require.NoError(t, k.write(s, func(tx versionTx[V]) error {
		if err := tx.insert(v); err != nil {
			return err
		}
		return tx.record(rec)
	}))
	n, err := s.QueueLength(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)

	boom := errors.New("boom")
	v2 := k.draft(0, 2)
	err = k.write(s, func(tx versionTx[V]) error {
		if err := tx.insert(v2); err != nil {
			return err
		}
		if err := tx.record(rec); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, err = k.version(s, 0, 2)
	assert.True(t, fault.Is(err, fault.NotFound), "the version rolled back with its record")
	n, err = s.QueueLength(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
}

func (k docKind[V]) testWriteRollsBack(t *testing.T, s Store) {
	boom := errors.New("boom")
	v := k.draft(0, 1)
	err := k.write(s, func(tx versionTx[V]) error {
		if err := tx.insert(v); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, err = k.version(s, 0, 1)
	assert.True(t, fault.Is(err, fault.NotFound), "a failed transaction leaves nothing behind, got %v", err)

	k.insert(t, s, v)
	err = k.write(s, func(tx versionTx[V]) error {
		got, err := tx.version(0, 1)
		if err != nil {
			return err
		}
		k.activate(got, "checker", base.Add(time.Hour))
		if err := tx.update(got); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, err := k.version(s, 0, 1)
	require.NoError(t, err)
	k.same(t, v, got, true)
}
