package sqlstore

import (
	"context"
	"time"

	"github.com/sanzhi/sanzhi/scoring/catalogue"
)

// catalogues is the table of catalogue versions, keyed by county and
// village code (village_code "" for a county's own document).
var catalogues = versionTable[*catalogue.Version]{
	table: "catalogues", parent: [2]string{"county_code", "village_code"},
	meta: `kind, county_code, village_code, version, base_version, content_hash, item_count,
	state, uploaded_by, upload_time, activated_by, activate_time, supersede_time`,
	set:    `state = $4, activated_by = $5, activate_time = $6, supersede_time = $7`,
	reason: "CATALOGUE", noun: "catalogue", nouns: "catalogues",
	scan: scanCatalogue,
}

// ownerKey returns the (county_code, village_code) key of o.
func ownerKey(o catalogue.Owner) (county, village string) {
	if o.Kind == catalogue.County {
		return o.Code, ""
	}
	return o.County(), o.Code
}

func scanCatalogue(r interface{ Scan(...any) error }, withDocument bool) (*catalogue.Version, error) {
	v := &catalogue.Version{}
	var kind, state string
	dest := []any{&kind, &v.County, &v.Village, &v.Version, &v.BaseVersion, &v.ContentHash, &v.ItemCount,
		&state, &v.UploadedBy, ts{&v.UploadTime}, &v.ActivatedBy, nullTS{&v.ActivateTime}, nullTS{&v.SupersedeTime}}
	if withDocument {
		dest = append(dest, &v.Document)
	}
	err := r.Scan(dest...)
	v.Kind, v.State = catalogue.Kind(kind), catalogue.State(state)
	return v, err
}

// CatalogueVersion implements catalogue.Reader.
func (tx *Tx) CatalogueVersion(ctx context.Context, o catalogue.Owner, n int) (*catalogue.Version, error) {
	county, village := ownerKey(o)
	return catalogues.version(ctx, tx, catalogue.VersionName(o, n), county, village, n)
}

// ActiveCatalogue implements catalogue.Reader.
func (tx *Tx) ActiveCatalogue(ctx context.Context, o catalogue.Owner) (*catalogue.Version, error) {
	county, village := ownerKey(o)
	return catalogues.active(ctx, tx, "an active catalogue of "+o.Name(), county, village)
}

// CatalogueVersions implements catalogue.Reader.
func (tx *Tx) CatalogueVersions(ctx context.Context, q catalogue.ListQuery) ([]*catalogue.Version, error) {
	county, village := ownerKey(q.Owner)
	return catalogues.list(ctx, tx, county, village, q.Before, q.Limit)
}

// InsertCatalogueVersion implements catalogue.Writer.
func (tx *Tx) InsertCatalogueVersion(ctx context.Context, v *catalogue.Version) error {
	return catalogues.insert(ctx, tx, v.Name(),
		string(v.Kind), v.County, v.Village, v.Version, v.BaseVersion, v.ContentHash, v.ItemCount,
		string(v.State), v.UploadedBy, tsArg(v.UploadTime), v.ActivatedBy, optTSArg(v.ActivateTime),
		optTSArg(v.SupersedeTime), v.Document)
}

// UpdateCatalogueState implements catalogue.Writer.
func (tx *Tx) UpdateCatalogueState(ctx context.Context, v *catalogue.Version) error {
	return catalogues.update(ctx, tx, v.Name(), v.Owner().Name(), v.County, v.Village, v.Version,
		string(v.State), v.ActivatedBy, optTSArg(v.ActivateTime), optTSArg(v.SupersedeTime))
}

// optTSArg carries a nullable instant: NULL or tsArg's text.
func optTSArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return tsArg(*t)
}
