-- +goose Up
-- Same schema as adapters/postgres/migrations/00005_policies.sql.
CREATE TABLE policy_versions (
    bank           TEXT NOT NULL,
    product        TEXT NOT NULL,
    version        INTEGER NOT NULL CHECK (version >= 1),
    document       TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('draft', 'approved', 'active', 'superseded')),
    uploaded_by    TEXT NOT NULL,
    upload_time    TEXT NOT NULL,
    approved_by    TEXT NOT NULL DEFAULT '',
    approve_time   TEXT,
    activated_by   TEXT NOT NULL DEFAULT '',
    activate_time  TEXT,
    supersede_time TEXT,
    PRIMARY KEY (bank, product, version)
) STRICT;
CREATE UNIQUE INDEX policy_versions_one_active ON policy_versions (bank, product) WHERE state = 'active';

-- +goose Down
DROP TABLE policy_versions;
