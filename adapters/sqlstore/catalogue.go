package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
)

// catalogueMeta is every column but the document; catalogueColumns adds it
// last. scanCatalogue reads them in this order.
const catalogueMeta = `kind, county_code, village_code, version, base_version, content_hash, item_count,
	state, uploaded_by, upload_time, activated_by, activate_time, supersede_time`

const catalogueColumns = catalogueMeta + `, document`

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

func (tx *Tx) oneCatalogue(ctx context.Context, what, where string, args ...any) (*catalogue.Version, error) {
	v, err := scanCatalogue(tx.q.QueryRow(ctx, `SELECT `+catalogueColumns+` FROM catalogues WHERE `+where, args...), true)
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "CATALOGUE_NOT_FOUND", "%s not found", what)
	}
	return v, internal(err, "reading a catalogue")
}

// CatalogueVersion implements catalogue.Reader.
func (tx *Tx) CatalogueVersion(ctx context.Context, o catalogue.Owner, n int) (*catalogue.Version, error) {
	county, village := ownerKey(o)
	return tx.oneCatalogue(ctx, catalogue.VersionName(o, n),
		`county_code = $1 AND village_code = $2 AND version = $3`, county, village, n)
}

// ActiveCatalogue implements catalogue.Reader.
func (tx *Tx) ActiveCatalogue(ctx context.Context, o catalogue.Owner) (*catalogue.Version, error) {
	county, village := ownerKey(o)
	return tx.oneCatalogue(ctx, "an active catalogue of "+o.Name(),
		`county_code = $1 AND village_code = $2 AND state = 'active'`, county, village)
}

// CatalogueVersions implements catalogue.Reader.
func (tx *Tx) CatalogueVersions(ctx context.Context, q catalogue.ListQuery) ([]*catalogue.Version, error) {
	county, village := ownerKey(q.Owner)
	rows, err := tx.q.Query(ctx, `SELECT `+catalogueMeta+` FROM catalogues
		WHERE county_code = $1 AND village_code = $2 AND ($3 = 0 OR version < $3)
		ORDER BY version DESC LIMIT $4`, county, village, q.Before, q.Limit)
	if err != nil {
		return nil, internal(err, "listing catalogues")
	}
	defer rows.Close()
	var out []*catalogue.Version
	for rows.Next() {
		v, err := scanCatalogue(rows, false)
		if err != nil {
			return nil, internal(err, "listing catalogues")
		}
		out = append(out, v)
	}
	return out, internal(rows.Err(), "listing catalogues")
}

// InsertCatalogueVersion implements catalogue.Writer.
func (tx *Tx) InsertCatalogueVersion(ctx context.Context, v *catalogue.Version) error {
	_, err := tx.q.Exec(ctx, `INSERT INTO catalogues (`+catalogueColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		string(v.Kind), v.County, v.Village, v.Version, v.BaseVersion, v.ContentHash, v.ItemCount,
		string(v.State), v.UploadedBy, tsArg(v.UploadTime), v.ActivatedBy, optTSArg(v.ActivateTime),
		optTSArg(v.SupersedeTime), v.Document)
	if err != nil {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, "CATALOGUE_VERSION_EXISTS", "%s already exists", v.Name())
		}
		return internal(err, "inserting a catalogue")
	}
	return nil
}

// UpdateCatalogueState implements catalogue.Writer.
func (tx *Tx) UpdateCatalogueState(ctx context.Context, v *catalogue.Version) error {
	n, err := tx.q.Exec(ctx, `UPDATE catalogues SET state = $1, activated_by = $2, activate_time = $3,
		supersede_time = $4 WHERE county_code = $5 AND village_code = $6 AND version = $7`,
		string(v.State), v.ActivatedBy, optTSArg(v.ActivateTime), optTSArg(v.SupersedeTime),
		v.County, v.Village, v.Version)
	if err != nil {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, "CATALOGUE_ALREADY_ACTIVE",
				"%s already has an active version", v.Owner().Name())
		}
		return internal(err, "updating a catalogue")
	}
	if n == 0 {
		return fault.New(fault.NotFound, "CATALOGUE_NOT_FOUND", "%s not found", v.Name())
	}
	return nil
}

// optTSArg carries a nullable instant: NULL or tsArg's text.
func optTSArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return tsArg(*t)
}
