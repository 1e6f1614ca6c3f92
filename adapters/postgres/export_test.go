package postgres

import "context"

// MigrateDownTo rolls the schema back to version v, for migration tests.
func (db *DB) MigrateDownTo(ctx context.Context, v int64) error {
	p, closeFn, err := db.provider(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	_, err = p.DownTo(ctx, v)
	return err
}
