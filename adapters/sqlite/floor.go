//go:build benchfloors

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The load-test floors (sanzhid --bench-floors): one statement each on the
// store's own connections, on a table the schema migrations do not know
// about. The insert goes through the single writer, like every write.

// PrepareFloor creates the floor table if it is missing.
func (db *DB) PrepareFloor(ctx context.Context) error {
	_, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bench_floor (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		payload TEXT NOT NULL,
		at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))`)
	if err != nil {
		return fmt.Errorf("create bench_floor: %w", err)
	}
	return nil
}

// FloorInsert inserts one row, committed when it returns.
func (db *DB) FloorInsert(ctx context.Context, payload string) (int64, error) {
	var id int64
	err := db.write.QueryRowContext(ctx, `INSERT INTO bench_floor (payload) VALUES ($1) RETURNING id`, payload).Scan(&id)
	return id, err
}

// FloorSelect reads one row by key; a missing row is "".
func (db *DB) FloorSelect(ctx context.Context, id int64) (string, error) {
	var p string
	err := db.read.QueryRowContext(ctx, `SELECT payload FROM bench_floor WHERE id = $1`, id).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return p, err
}
