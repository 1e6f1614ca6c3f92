-- +goose Up
-- Same schema as adapters/postgres/migrations/00017_dividends.sql.
CREATE TABLE dividend_rules (
    county_code    TEXT NOT NULL CHECK (length(county_code) = 6),
    village_code   TEXT NOT NULL CHECK (length(village_code) = 12),
    version        INTEGER NOT NULL CHECK (version >= 1),
    document       TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    title          TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('draft', 'active', 'superseded')),
    uploaded_by    TEXT NOT NULL,
    upload_time    TEXT NOT NULL,
    activated_by   TEXT NOT NULL DEFAULT '',
    activate_time  TEXT,
    supersede_time TEXT,
    PRIMARY KEY (county_code, village_code, version),
    CHECK (substr(village_code, 1, 6) = county_code)
) STRICT;
CREATE UNIQUE INDEX dividend_rules_one_active ON dividend_rules (county_code, village_code) WHERE state = 'active';

CREATE TABLE dividend_rounds (
    id              TEXT PRIMARY KEY,
    village_code    TEXT NOT NULL CHECK (length(village_code) = 12),
    title           TEXT NOT NULL,
    record_date     TEXT NOT NULL,
    pool            TEXT NOT NULL,
    rule_version    INTEGER NOT NULL,
    rule_hash       TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('draft', 'rejected', 'on_notice', 'approved', 'withdrawn')),
    households      INTEGER NOT NULL,
    paid            INTEGER NOT NULL,
    total_shares    TEXT NOT NULL,
    total_points    TEXT NOT NULL,
    allocation_hash TEXT NOT NULL,
    request_id      TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    create_time     TEXT NOT NULL,
    reviewed_by     TEXT NOT NULL,
    review_time     TEXT,
    review_reason   TEXT NOT NULL,
    notice_start    TEXT,
    notice_end      TEXT,
    approved_by     TEXT NOT NULL,
    approve_time    TEXT,
    withdrawn_by    TEXT NOT NULL,
    withdraw_time   TEXT,
    withdraw_reason TEXT NOT NULL,
    open_objections INTEGER NOT NULL CHECK (open_objections >= 0),
    version         INTEGER NOT NULL CHECK (version >= 1),
    UNIQUE (village_code, request_id)
) STRICT;
CREATE INDEX dividend_rounds_village_idx ON dividend_rounds (village_code, id);
CREATE UNIQUE INDEX dividend_rounds_one_live ON dividend_rounds (village_code, record_date)
    WHERE state IN ('draft', 'on_notice', 'approved');

CREATE TABLE dividend_lines (
    round_id       TEXT NOT NULL REFERENCES dividend_rounds (id),
    household_id   TEXT NOT NULL REFERENCES households (id),
    head_name      TEXT NOT NULL,
    group_no       INTEGER NOT NULL,
    shares         TEXT NOT NULL,
    points         TEXT NOT NULL,
    black_listed   INTEGER NOT NULL,
    counted_shares TEXT NOT NULL,
    counted_points TEXT NOT NULL,
    excluded       TEXT NOT NULL CHECK (excluded IN ('', 'points', 'all')),
    capped         INTEGER NOT NULL,
    amount         TEXT NOT NULL,
    PRIMARY KEY (round_id, household_id)
) STRICT;
-- +goose StatementBegin
CREATE TRIGGER dividend_lines_no_update BEFORE UPDATE ON dividend_lines
BEGIN
    SELECT RAISE(ABORT, 'dividend_lines never change: UPDATE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER dividend_lines_no_delete BEFORE DELETE ON dividend_lines
BEGIN
    SELECT RAISE(ABORT, 'dividend_lines never change: DELETE refused');
END;
-- +goose StatementEnd

CREATE TABLE dividend_objections (
    id             TEXT PRIMARY KEY,
    round_id       TEXT NOT NULL,
    village_code   TEXT NOT NULL,
    household_id   TEXT NOT NULL,
    reason         TEXT NOT NULL,
    objected_by    TEXT NOT NULL,
    object_time    TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('open', 'dismissed', 'upheld')),
    resolved_by    TEXT NOT NULL,
    resolve_time   TEXT,
    resolve_reason TEXT NOT NULL,
    FOREIGN KEY (round_id, household_id) REFERENCES dividend_lines (round_id, household_id)
) STRICT;
CREATE INDEX dividend_objections_round_idx ON dividend_objections (round_id, household_id, id);
CREATE UNIQUE INDEX dividend_objections_one_open ON dividend_objections (round_id, household_id) WHERE state = 'open';

-- +goose Down
DROP TABLE dividend_objections;
DROP TRIGGER dividend_lines_no_delete;
DROP TRIGGER dividend_lines_no_update;
DROP TABLE dividend_lines;
DROP TABLE dividend_rounds;
DROP TABLE dividend_rules;
