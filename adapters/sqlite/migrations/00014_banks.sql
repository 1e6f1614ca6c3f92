-- +goose Up
-- Same schema as adapters/postgres/migrations/00013_banks.sql.
-- The names of partner banks, by the id their principals are scoped by:
-- a household chooses a bank by name, and reads names, not ids.
CREATE TABLE banks (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    name_en TEXT NOT NULL DEFAULT ''
) STRICT;

-- +goose Down
DROP TABLE banks;
