package sqlite

import "context"

// MigrateDownTo rolls the schema back to version v, for migration tests.
func (db *DB) MigrateDownTo(ctx context.Context, v int64) error {
	p, err := provider(db.write)
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, v)
	return err
}
