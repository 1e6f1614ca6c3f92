-- +goose Up
-- Same schema as adapters/sqlite/migrations/00023_sheet_tail.sql.
-- Issue 19: a household's newest entry lines are kept in tail until about
-- 1,500 characters of them accumulate, then folded into entries. A
-- posting then rewrites the short tail, not the whole sheet: on
-- PostgreSQL a sheet of more than a few entries is TOASTed, and an
-- update that changes it compresses and writes all of it again, where
-- an update that leaves it alone keeps the stored value. The sheet is
-- entries || tail; every reader reads it so (adapters/sqlstore/sheet.go).
ALTER TABLE household_points ADD COLUMN tail TEXT NOT NULL DEFAULT '';

-- +goose Down
UPDATE household_points SET entries = entries || tail, tail = '' WHERE tail <> '';
ALTER TABLE household_points DROP COLUMN tail;
