-- +goose Up
-- Points catalogue documents: a county's base (village_code = '') and each
-- village's overlay, one row per version. The document text and content
-- hash never change after insert; only the lifecycle columns (state,
-- activated_by, activate_time, supersede_time) do, and every such change
-- is in the audit log.
CREATE TABLE catalogues (
    kind           TEXT NOT NULL CHECK (kind IN ('county', 'village')),
    county_code    TEXT NOT NULL CHECK (length(county_code) = 6),
    village_code   TEXT NOT NULL,
    version        INTEGER NOT NULL CHECK (version >= 1),
    base_version   INTEGER NOT NULL CHECK (base_version >= 0),
    document       TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    item_count     INTEGER NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('draft', 'active', 'superseded')),
    uploaded_by    TEXT NOT NULL,
    upload_time    TIMESTAMPTZ NOT NULL,
    activated_by   TEXT NOT NULL DEFAULT '',
    activate_time  TIMESTAMPTZ,
    supersede_time TIMESTAMPTZ,
    PRIMARY KEY (county_code, village_code, version),
    CHECK ((kind = 'county') = (village_code = '')),
    CHECK (kind = 'county' OR length(village_code) = 12)
);
-- Exactly one active version per county and per village.
CREATE UNIQUE INDEX catalogues_one_active ON catalogues (county_code, village_code) WHERE state = 'active';

-- +goose Down
DROP TABLE catalogues;
