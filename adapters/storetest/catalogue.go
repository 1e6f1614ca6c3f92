package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
)

var (
	countyOwner  = catalogue.Owner{Kind: catalogue.County, Code: villageA[:6]}
	villageOwner = catalogue.Owner{Kind: catalogue.Village, Code: villageA}
	// catalogueOwners are the docKind's parents: the village the
	// scenarios work on, its county, another village of the county.
	catalogueOwners = [3]catalogue.Owner{villageOwner, countyOwner, {Kind: catalogue.Village, Code: villageB}}
)

// catalogues is the catalogue versions as a docKind.
var catalogues = docKind[*catalogue.Version]{
	title: "Catalogue", action: "catalogue",
	draft: func(p, n int) *catalogue.Version { return newVersion(catalogueOwners[p], n) },
	read: func(s Store, fn func(versionTx[*catalogue.Version]) error) error {
		return s.Catalogues().Read(context.Background(), func(tx catalogue.Reader) error {
			return fn(catalogueTx(tx, nil))
		})
	},
	write: func(s Store, fn func(versionTx[*catalogue.Version]) error) error {
		return s.Catalogues().Write(context.Background(), func(tx catalogue.Writer) error {
			return fn(catalogueTx(tx, tx))
		})
	},
	same: assertSameVersion,
	name: (*catalogue.Version).Name,
	fields: func(v *catalogue.Version) versionFields {
		return versionFields{&v.Version, &v.State, &v.Document, &v.ContentHash, &v.ActivatedBy, &v.ActivateTime, &v.SupersedeTime}
	},
}

// catalogueTx is r (and w, in a write transaction) as a versionTx.
func catalogueTx(r catalogue.Reader, w catalogue.Writer) versionTx[*catalogue.Version] {
	ctx := context.Background()
	tx := versionTx[*catalogue.Version]{
		version: func(p, n int) (*catalogue.Version, error) { return r.CatalogueVersion(ctx, catalogueOwners[p], n) },
		active:  func(p int) (*catalogue.Version, error) { return r.ActiveCatalogue(ctx, catalogueOwners[p]) },
		list: func(p, before, limit int) ([]*catalogue.Version, error) {
			return r.CatalogueVersions(ctx, catalogue.ListQuery{Owner: catalogueOwners[p], Before: before, Limit: limit})
		},
	}
	if w != nil {
		tx.insert = func(v *catalogue.Version) error { return w.InsertCatalogueVersion(ctx, v) }
		tx.update = func(v *catalogue.Version) error { return w.UpdateCatalogueState(ctx, v) }
		tx.record = func(rec audit.Record) error { return w.Record(ctx, rec) }
	}
	return tx
}

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
	county := newVersion(countyOwner, 1)
	village := newVersion(villageOwner, 1)
	k := catalogues
	k.insert(t, s, county)
	k.insert(t, s, village)

	got, err := k.version(s, 1, 1)
	require.NoError(t, err)
	assertSameVersion(t, county, got, true)
	assert.Empty(t, got.Village)
	got, err = k.version(s, 0, 1)
	require.NoError(t, err)
	assertSameVersion(t, village, got, true)

	// The lifecycle columns change; nothing else does.
	at := base.Add(time.Hour)
	got.State, got.ActivatedBy, got.ActivateTime = catalogue.Active, "checker", &at
	got.Document, got.ContentHash = "tampered", "tampered"
	require.NoError(t, k.write(s, func(tx versionTx[*catalogue.Version]) error { return tx.update(got) }))
	after, err := k.version(s, 0, 1)
	require.NoError(t, err)
	want := *village
	want.State, want.ActivatedBy, want.ActivateTime = catalogue.Active, "checker", &at
	assertSameVersion(t, &want, after, true)

	active, err := k.active(s, 0)
	require.NoError(t, err)
	assert.Equal(t, 1, active.Version)

	list := k.list(t, s, 1, 0, 10)
	require.Len(t, list, 1, "a county's list holds no village versions")
	assertSameVersion(t, county, list[0], false)
	assert.Empty(t, list[0].Document, "lists leave the document out")
}
