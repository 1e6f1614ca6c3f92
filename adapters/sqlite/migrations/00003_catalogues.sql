-- +goose Up
-- Same schema as adapters/postgres/migrations/00003_catalogues.sql.
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
    upload_time    TEXT NOT NULL,
    activated_by   TEXT NOT NULL DEFAULT '',
    activate_time  TEXT,
    supersede_time TEXT,
    PRIMARY KEY (county_code, village_code, version),
    CHECK ((kind = 'county') = (village_code = '')),
    CHECK (kind = 'county' OR length(village_code) = 12)
) STRICT;
CREATE UNIQUE INDEX catalogues_one_active ON catalogues (county_code, village_code) WHERE state = 'active';

-- +goose Down
DROP TABLE catalogues;
