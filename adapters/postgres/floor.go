//go:build benchfloors

package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The load-test floors (sanzhid --bench-floors): one autocommit statement
// each through the same pool the store uses, on a table of their own that
// the schema migrations do not know about.

// PrepareFloor creates the floor table if it is missing.
func (db *DB) PrepareFloor(ctx context.Context) error {
	_, err := db.pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS bench_floor (
		id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		payload TEXT NOT NULL,
		at TIMESTAMPTZ NOT NULL DEFAULT now())`)
	if err != nil {
		return fmt.Errorf("create bench_floor: %w", err)
	}
	return nil
}

// FloorInsert inserts one row, durable when it returns.
func (db *DB) FloorInsert(ctx context.Context, payload string) (int64, error) {
	var id int64
	err := db.pool.QueryRow(ctx, `INSERT INTO bench_floor (payload) VALUES ($1) RETURNING id`, payload).Scan(&id)
	return id, err
}

// FloorSelect reads one row by key; a missing row is "".
func (db *DB) FloorSelect(ctx context.Context, id int64) (string, error) {
	var p string
	err := db.pool.QueryRow(ctx, `SELECT payload FROM bench_floor WHERE id = $1`, id).Scan(&p)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return p, err
}
