-- +goose Up
-- Principals: API callers. Keys are stored only as SHA-256 hashes.
CREATE TABLE principals (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL,
    scope_villages  TEXT NOT NULL DEFAULT '',
    scope_bank      TEXT NOT NULL DEFAULT '',
    scope_household TEXT NOT NULL DEFAULT '',
    demo            BOOLEAN NOT NULL DEFAULT FALSE,
    key_hash        BYTEA UNIQUE,
    create_time     TIMESTAMPTZ NOT NULL,
    revoke_time     TIMESTAMPTZ
);

-- Households. The head's 身份证号 is only ever stored encrypted
-- (head_id_cipher under key head_id_key), as an HMAC blind index for look-up,
-- and masked for display.
CREATE TABLE households (
    id             TEXT PRIMARY KEY,
    village_code   TEXT NOT NULL CHECK (length(village_code) = 12),
    head_name      TEXT NOT NULL,
    head_id_masked TEXT NOT NULL,
    head_id_key    TEXT NOT NULL,
    head_id_cipher BYTEA NOT NULL,
    head_id_index  BYTEA NOT NULL UNIQUE,
    group_no       INTEGER NOT NULL CHECK (group_no BETWEEN 1 AND 99),
    address        TEXT NOT NULL,
    registered_on  DATE NOT NULL,
    facts_version  BIGINT NOT NULL,
    request_id     TEXT NOT NULL,
    request_hash   TEXT NOT NULL,
    create_time    TIMESTAMPTZ NOT NULL,
    update_time    TIMESTAMPTZ NOT NULL,
    UNIQUE (village_code, request_id)
);
CREATE INDEX households_village_idx ON households (village_code, id);

-- Versioned facts: append-only, one row per version.
CREATE TABLE household_facts (
    household_id       TEXT NOT NULL REFERENCES households (id),
    version            BIGINT NOT NULL CHECK (version >= 1),
    members            INTEGER NOT NULL,
    labourers          INTEGER NOT NULL,
    annual_income      NUMERIC(17, 2) NOT NULL,
    land_area_mu       NUMERIC(17, 2) NOT NULL,
    collective_shares  NUMERIC(17, 2) NOT NULL,
    existing_bank_debt NUMERIC(17, 2) NOT NULL,
    dishonest_debtor   BOOLEAN NOT NULL,
    source             TEXT NOT NULL,
    as_of              DATE NOT NULL,
    recorded_by        TEXT NOT NULL,
    record_time        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (household_id, version)
);

-- +goose Down
DROP TABLE household_facts;
DROP TABLE households;
DROP TABLE principals;
