package sqlstore

import (
	"context"
	"errors"

	"github.com/sanzhi/sanzhi/fault"
)

// versionTable is a table of versioned documents (scoring/docver):
// catalogues and policy_versions. Each row is version `version` of the
// parent its two key columns name, with a `state`, a partial unique index
// allowing one 'active' row per parent, and the document text in a
// column of its own. Their queries differ only in these names, so they
// and their error contract are written here once.
type versionTable[V any] struct {
	table string
	// parent is the two key columns of a version's parent, in the order
	// the parent arguments are given.
	parent [2]string
	// meta is every column but the document, in the order scan reads
	// them; a column `document` follows them in full rows.
	meta string
	// set assigns the lifecycle columns, the only ones that ever change,
	// from placeholders $4 on ($1 to $3 are the parent and the version).
	set string
	// reason prefixes fault reasons (CATALOGUE_NOT_FOUND); noun and nouns
	// word internal errors ("reading a catalogue", "listing catalogues").
	reason, noun, nouns string
	// scan reads meta's columns, and the document after them when asked.
	scan func(r interface{ Scan(...any) error }, withDocument bool) (V, error)
}

func (t versionTable[V]) where() string {
	return t.parent[0] + ` = $1 AND ` + t.parent[1] + ` = $2`
}

// one reads the full row selected by cond (after the parent's columns;
// its placeholders start at $3). NotFound names what.
func (t versionTable[V]) one(ctx context.Context, tx *Tx, what, cond string, args ...any) (V, error) {
	v, err := t.scan(tx.q.QueryRow(ctx, `SELECT `+t.meta+`, document FROM `+t.table+`
		WHERE `+t.where()+` AND `+cond, args...), true)
	if errors.Is(err, ErrNoRows) {
		var none V
		return none, fault.New(fault.NotFound, t.reason+"_NOT_FOUND", "%s not found", what)
	}
	return v, internal(err, "reading a "+t.noun)
}

// version reads version n of the parent (p0, p1), named name.
func (t versionTable[V]) version(ctx context.Context, tx *Tx, name, p0, p1 string, n int) (V, error) {
	return t.one(ctx, tx, name, `version = $3`, p0, p1, n)
}

// active reads the parent's active version; what names it for NotFound.
func (t versionTable[V]) active(ctx context.Context, tx *Tx, what, p0, p1 string) (V, error) {
	return t.one(ctx, tx, what, `state = 'active'`, p0, p1)
}

// list returns up to limit of the parent's versions below before (0: from
// the newest), newest first, without their document.
func (t versionTable[V]) list(ctx context.Context, tx *Tx, p0, p1 string, before, limit int) ([]V, error) {
	what := "listing " + t.nouns
	rows, err := tx.q.Query(ctx, `SELECT `+t.meta+` FROM `+t.table+`
		WHERE `+t.where()+` AND ($3 = 0 OR version < $3)
		ORDER BY version DESC LIMIT $4`, p0, p1, before, limit)
	if err != nil {
		return nil, internal(err, what)
	}
	defer rows.Close()
	var out []V
	for rows.Next() {
		v, err := t.scan(rows, false)
		if err != nil {
			return nil, internal(err, what)
		}
		out = append(out, v)
	}
	return out, internal(rows.Err(), what)
}

// insert stores a version named name; cols are every column's value in
// meta's order, then the document. AlreadyExists when the parent has the
// version number (or, in the state given, a second active version).
func (t versionTable[V]) insert(ctx context.Context, tx *Tx, name string, cols ...any) error {
	_, err := tx.q.Exec(ctx, `INSERT INTO `+t.table+` (`+t.meta+`, document)
		VALUES (`+placeholders(1, len(cols))+`)`, cols...)
	if err != nil {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, t.reason+"_VERSION_EXISTS", "%s already exists", name)
		}
		return internal(err, "inserting a "+t.noun)
	}
	return nil
}

// update stores the lifecycle columns (values for set's placeholders, in
// order) of version n of the parent (p0, p1), named name. NotFound when
// there is no such version; AlreadyExists when it would make a second
// active version of parent.
func (t versionTable[V]) update(ctx context.Context, tx *Tx, name, parent, p0, p1 string, n int, values ...any) error {
	res, err := tx.q.Exec(ctx, `UPDATE `+t.table+` SET `+t.set+` WHERE `+t.where()+` AND version = $3`,
		append([]any{p0, p1, n}, values...)...)
	if err != nil {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, t.reason+"_ALREADY_ACTIVE", "%s already has an active version", parent)
		}
		return internal(err, "updating a "+t.noun)
	}
	if res == 0 {
		return fault.New(fault.NotFound, t.reason+"_NOT_FOUND", "%s not found", name)
	}
	return nil
}
