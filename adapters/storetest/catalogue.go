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
	"github.com/sanzhi/sanzhi/scoring/catalogue"
)

var (
	countyOwner  = catalogue.Owner{Kind: catalogue.County, Code: villageA[:6]}
	villageOwner = catalogue.Owner{Kind: catalogue.Village, Code: villageA}
)

// newVersion builds a draft version n of o's catalogue. The document is
// not a valid catalogue: stores keep text, the service validates it.
func newVersion(o catalogue.Owner, n int) *catalogue.Version {
	v := &catalogue.Version{
		Kind: o.Kind, County: o.County(), Version: n,
		Document:    fmt.Sprintf("kind: %s\n# 第%d版 — 桐乡市三治积分\nversion: %d\n", o.Kind, n, n),
		ContentHash: fmt.Sprintf("%064x", n), ItemCount: 40 + n, State: catalogue.Draft,
		UploadedBy: "maker", UploadTime: base.Add(time.Duration(n) * time.Minute),
	}
	if o.Kind == catalogue.Village {
		v.Village, v.BaseVersion = o.Code, 1
	}
	return v
}

func insertVersion(t *testing.T, s Store, v *catalogue.Version) {
	t.Helper()
	require.NoError(t, s.Catalogues().Write(context.Background(), func(tx catalogue.Writer) error {
		return tx.InsertCatalogueVersion(context.Background(), v)
	}))
}

func readVersion(t *testing.T, s Store, o catalogue.Owner, n int) (*catalogue.Version, error) {
	t.Helper()
	var v *catalogue.Version
	err := s.Catalogues().Read(context.Background(), func(tx catalogue.Reader) error {
		var err error
		v, err = tx.CatalogueVersion(context.Background(), o, n)
		return err
	})
	return v, err
}

func readActive(t *testing.T, s Store, o catalogue.Owner) (*catalogue.Version, error) {
	t.Helper()
	var v *catalogue.Version
	err := s.Catalogues().Read(context.Background(), func(tx catalogue.Reader) error {
		var err error
		v, err = tx.ActiveCatalogue(context.Background(), o)
		return err
	})
	return v, err
}

func assertSameVersion(t *testing.T, want, got *catalogue.Version, withDocument bool) {
	t.Helper()
	w, g := *want, *got
	assert.True(t, w.UploadTime.Truncate(time.Microsecond).Equal(g.UploadTime), "upload time %v vs %v", w.UploadTime, g.UploadTime)
	assert.Equal(t, time.UTC, g.UploadTime.Location())
	for _, p := range []struct {
		name      string
		want, got *time.Time
	}{{"activate", w.ActivateTime, g.ActivateTime}, {"supersede", w.SupersedeTime, g.SupersedeTime}} {
		if p.want == nil {
			assert.Nil(t, p.got, p.name)
			continue
		}
		if assert.NotNil(t, p.got, p.name) {
			assert.True(t, p.want.Truncate(time.Microsecond).Equal(*p.got), "%s time", p.name)
		}
	}
	w.UploadTime, g.UploadTime = time.Time{}, time.Time{}
	w.ActivateTime, g.ActivateTime, w.SupersedeTime, g.SupersedeTime = nil, nil, nil, nil
	if !withDocument {
		w.Document = ""
	}
	assert.Equal(t, w, g)
}

func testCatalogueRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	county := newVersion(countyOwner, 1)
	village := newVersion(villageOwner, 1)
	insertVersion(t, s, county)
	insertVersion(t, s, village)

	got, err := readVersion(t, s, countyOwner, 1)
	require.NoError(t, err)
	assertSameVersion(t, county, got, true)
	assert.Empty(t, got.Village)
	got, err = readVersion(t, s, villageOwner, 1)
	require.NoError(t, err)
	assertSameVersion(t, village, got, true)

	// The lifecycle columns change; nothing else does.
	at := base.Add(time.Hour)
	got.State, got.ActivatedBy, got.ActivateTime = catalogue.Active, "checker", &at
	got.Document, got.ContentHash = "tampered", "tampered"
	require.NoError(t, s.Catalogues().Write(ctx, func(tx catalogue.Writer) error {
		return tx.UpdateCatalogueState(ctx, got)
	}))
	after, err := readVersion(t, s, villageOwner, 1)
	require.NoError(t, err)
	want := *village
	want.State, want.ActivatedBy, want.ActivateTime = catalogue.Active, "checker", &at
	assertSameVersion(t, &want, after, true)

	active, err := readActive(t, s, villageOwner)
	require.NoError(t, err)
	assert.Equal(t, 1, active.Version)

	var list []*catalogue.Version
	require.NoError(t, s.Catalogues().Read(ctx, func(tx catalogue.Reader) error {
		var err error
		list, err = tx.CatalogueVersions(ctx, catalogue.ListQuery{Owner: countyOwner, Limit: 10})
		return err
	}))
	require.Len(t, list, 1, "a county's list holds no village versions")
	assertSameVersion(t, county, list[0], false)
	assert.Empty(t, list[0].Document, "lists leave the document out")
}

func testCatalogueNotFound(t *testing.T, s Store) {
	insertVersion(t, s, newVersion(countyOwner, 1))
	_, err := readVersion(t, s, countyOwner, 2)
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	_, err = readVersion(t, s, villageOwner, 1)
	assert.True(t, fault.Is(err, fault.NotFound), "a county version is not the village's, got %v", err)
	_, err = readActive(t, s, countyOwner)
	assert.True(t, fault.Is(err, fault.NotFound), "a draft is not active, got %v", err)

	ghost := newVersion(villageOwner, 9)
	ghost.State = catalogue.Active
	err = s.Catalogues().Write(context.Background(), func(tx catalogue.Writer) error {
		return tx.UpdateCatalogueState(context.Background(), ghost)
	})
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
}

func testCatalogueVersionsAreUnique(t *testing.T, s Store) {
	ctx := context.Background()
	insertVersion(t, s, newVersion(countyOwner, 1))
	insertVersion(t, s, newVersion(villageOwner, 1)) // same number, another owner
	other := catalogue.Owner{Kind: catalogue.Village, Code: villageB}
	insertVersion(t, s, newVersion(other, 1))

	again := newVersion(countyOwner, 1)
	again.Document = "different"
	err := s.Catalogues().Write(ctx, func(tx catalogue.Writer) error {
		return tx.InsertCatalogueVersion(ctx, again)
	})
	assert.True(t, fault.Is(err, fault.AlreadyExists), "got %v", err)
	got, err := readVersion(t, s, countyOwner, 1)
	require.NoError(t, err)
	assert.NotEqual(t, "different", got.Document, "the first text stays")
}

// At most one active version per owner, whatever a caller does.
func testCatalogueOneActive(t *testing.T, s Store) {
	ctx := context.Background()
	for n := 1; n <= 2; n++ {
		insertVersion(t, s, newVersion(villageOwner, n))
	}
	activate := func(n int) error {
		return s.Catalogues().Write(ctx, func(tx catalogue.Writer) error {
			v, err := tx.CatalogueVersion(ctx, villageOwner, n)
			if err != nil {
				return err
			}
			at := base.Add(time.Hour)
			v.State, v.ActivatedBy, v.ActivateTime = catalogue.Active, "checker", &at
			return tx.UpdateCatalogueState(ctx, v)
		})
	}
	require.NoError(t, activate(1))
	err := activate(2)
	assert.True(t, fault.Is(err, fault.AlreadyExists), "a second active version is refused, got %v", err)
	v2, err := readVersion(t, s, villageOwner, 2)
	require.NoError(t, err)
	assert.Equal(t, catalogue.Draft, v2.State, "the refused change rolled back")

	// Superseding the first in the same transaction lets the second in.
	require.NoError(t, s.Catalogues().Write(ctx, func(tx catalogue.Writer) error {
		cur, err := tx.ActiveCatalogue(ctx, villageOwner)
		if err != nil {
			return err
		}
		at := base.Add(2 * time.Hour)
		cur.State, cur.SupersedeTime = catalogue.Superseded, &at
		if err := tx.UpdateCatalogueState(ctx, cur); err != nil {
			return err
		}
		v, err := tx.CatalogueVersion(ctx, villageOwner, 2)
		if err != nil {
			return err
		}
		v.State, v.ActivatedBy, v.ActivateTime = catalogue.Active, "checker", &at
		return tx.UpdateCatalogueState(ctx, v)
	}))
	active, err := readActive(t, s, villageOwner)
	require.NoError(t, err)
	assert.Equal(t, 2, active.Version)
	v1, err := readVersion(t, s, villageOwner, 1)
	require.NoError(t, err)
	assert.Equal(t, catalogue.Superseded, v1.State)
	require.NotNil(t, v1.SupersedeTime)
	require.NotNil(t, v1.ActivateTime, "a superseded version keeps its activation")
}

// Concurrent activations, each superseding what it finds active, leave
// exactly one active version and every other activated one superseded.
func testCatalogueConcurrentActivations(t *testing.T, s Store) {
	ctx := context.Background()
	const n = 12
	for i := 1; i <= n; i++ {
		insertVersion(t, s, newVersion(villageOwner, i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Catalogues().Write(ctx, func(tx catalogue.Writer) error {
				at := base.Add(time.Duration(i) * time.Hour)
				cur, err := tx.ActiveCatalogue(ctx, villageOwner)
				switch {
				case err == nil:
					cur.State, cur.SupersedeTime = catalogue.Superseded, &at
					if err := tx.UpdateCatalogueState(ctx, cur); err != nil {
						return err
					}
				case !fault.Is(err, fault.NotFound):
					return err
				}
				v, err := tx.CatalogueVersion(ctx, villageOwner, i)
				if err != nil {
					return err
				}
				v.State, v.ActivatedBy, v.ActivateTime = catalogue.Active, "checker", &at
				return tx.UpdateCatalogueState(ctx, v)
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	var all []*catalogue.Version
	require.NoError(t, s.Catalogues().Read(ctx, func(tx catalogue.Reader) error {
		var err error
		all, err = tx.CatalogueVersions(ctx, catalogue.ListQuery{Owner: villageOwner, Limit: 100})
		return err
	}))
	require.Len(t, all, n)
	states := map[catalogue.State]int{}
	for _, v := range all {
		states[v.State]++
	}
	assert.Equal(t, map[catalogue.State]int{catalogue.Active: 1, catalogue.Superseded: n - 1}, states)
}

func testCatalogueListPaging(t *testing.T, s Store) {
	ctx := context.Background()
	for n := 1; n <= 7; n++ {
		insertVersion(t, s, newVersion(villageOwner, n))
	}
	insertVersion(t, s, newVersion(catalogue.Owner{Kind: catalogue.Village, Code: villageB}, 8))
	var got []int
	before := 0
	for range 10 {
		var page []*catalogue.Version
		require.NoError(t, s.Catalogues().Read(ctx, func(tx catalogue.Reader) error {
			var err error
			page, err = tx.CatalogueVersions(ctx, catalogue.ListQuery{Owner: villageOwner, Before: before, Limit: 3})
			return err
		}))
		if len(page) == 0 {
			break
		}
		assert.LessOrEqual(t, len(page), 3)
		for _, v := range page {
			got = append(got, v.Version)
		}
		before = page[len(page)-1].Version
	}
	assert.Equal(t, []int{7, 6, 5, 4, 3, 2, 1}, got, "newest first, and only this village's")
}

func testCatalogueAuditRecord(t *testing.T, s Store) {
	ctx := context.Background()
	v := newVersion(countyOwner, 1)
	rec := audit.Record{Time: base, Actor: "maker", Action: "catalogue.upload", Subject: v.Name()}
	require.NoError(t, s.Catalogues().Write(ctx, func(tx catalogue.Writer) error {
		if err := tx.InsertCatalogueVersion(ctx, v); err != nil {
			return err
		}
		return tx.Record(ctx, rec)
	}))
	n, err := s.QueueLength(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)

	boom := errors.New("boom")
	v2 := newVersion(countyOwner, 2)
	err = s.Catalogues().Write(ctx, func(tx catalogue.Writer) error {
		if err := tx.InsertCatalogueVersion(ctx, v2); err != nil {
			return err
		}
		if err := tx.Record(ctx, rec); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, err = readVersion(t, s, countyOwner, 2)
	assert.True(t, fault.Is(err, fault.NotFound), "the version rolled back with its record")
	n, err = s.QueueLength(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
}
