-- +goose Up
-- Same schema as adapters/postgres/migrations, in SQLite's types: instants
-- are UTC TEXT (fixed-width, so they sort), dates YYYY-MM-DD TEXT, money
-- canonical decimal TEXT (never REAL), booleans INTEGER 0/1.
CREATE TABLE principals (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL,
    scope_villages  TEXT NOT NULL DEFAULT '',
    scope_bank      TEXT NOT NULL DEFAULT '',
    scope_household TEXT NOT NULL DEFAULT '',
    demo            INTEGER NOT NULL DEFAULT 0,
    key_hash        BLOB UNIQUE,
    create_time     TEXT NOT NULL,
    revoke_time     TEXT
) STRICT;

CREATE TABLE households (
    id             TEXT PRIMARY KEY,
    village_code   TEXT NOT NULL CHECK (length(village_code) = 12),
    head_name      TEXT NOT NULL,
    head_id_masked TEXT NOT NULL,
    head_id_key    TEXT NOT NULL,
    head_id_cipher BLOB NOT NULL,
    head_id_index  BLOB NOT NULL UNIQUE,
    group_no       INTEGER NOT NULL CHECK (group_no BETWEEN 1 AND 99),
    address        TEXT NOT NULL,
    registered_on  TEXT NOT NULL,
    facts_version  INTEGER NOT NULL,
    request_id     TEXT NOT NULL,
    request_hash   TEXT NOT NULL,
    create_time    TEXT NOT NULL,
    update_time    TEXT NOT NULL,
    UNIQUE (village_code, request_id)
) STRICT;
CREATE INDEX households_village_idx ON households (village_code, id);

CREATE TABLE household_facts (
    household_id       TEXT NOT NULL REFERENCES households (id),
    version            INTEGER NOT NULL CHECK (version >= 1),
    members            INTEGER NOT NULL,
    labourers          INTEGER NOT NULL,
    annual_income      TEXT NOT NULL,
    land_area_mu       TEXT NOT NULL,
    collective_shares  TEXT NOT NULL,
    existing_bank_debt TEXT NOT NULL,
    dishonest_debtor   INTEGER NOT NULL,
    source             TEXT NOT NULL,
    as_of              TEXT NOT NULL,
    recorded_by        TEXT NOT NULL,
    record_time        TEXT NOT NULL,
    PRIMARY KEY (household_id, version)
) STRICT;

-- +goose Down
DROP TABLE household_facts;
DROP TABLE households;
DROP TABLE principals;
