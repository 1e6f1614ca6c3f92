-- +goose Up
-- The village's 股份+积分 dividends (scoring/dividend, docs/DIVIDENDS.md).
-- Same schema as adapters/sqlite/migrations/00018_dividends.sql.

-- Rule documents, one row per version of a village's rule (county_code is
-- the village code's first six digits, as in catalogues). The text and
-- hash never change after insert; only the lifecycle columns do, each
-- change audited.
CREATE TABLE dividend_rules (
    county_code    TEXT NOT NULL CHECK (length(county_code) = 6),
    village_code   TEXT NOT NULL CHECK (length(village_code) = 12),
    version        INTEGER NOT NULL CHECK (version >= 1),
    document       TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    title          TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('draft', 'active', 'superseded')),
    uploaded_by    TEXT NOT NULL,
    upload_time    TIMESTAMPTZ NOT NULL,
    activated_by   TEXT NOT NULL DEFAULT '',
    activate_time  TIMESTAMPTZ,
    supersede_time TIMESTAMPTZ,
    PRIMARY KEY (county_code, village_code, version),
    CHECK (substr(village_code, 1, 6) = county_code)
);
-- Exactly one active version per village.
CREATE UNIQUE INDEX dividend_rules_one_active ON dividend_rules (county_code, village_code) WHERE state = 'active';

-- Rounds. The inputs and the allocation's hash never change after insert;
-- only the workflow columns do (state, review, notice, approval,
-- withdrawal, open_objections), each change bumping version and audited.
CREATE TABLE dividend_rounds (
    id              TEXT PRIMARY KEY,
    village_code    TEXT NOT NULL CHECK (length(village_code) = 12),
    title           TEXT NOT NULL,
    record_date     DATE NOT NULL,
    pool            NUMERIC(14, 2) NOT NULL CHECK (pool > 0),
    rule_version    INTEGER NOT NULL,
    rule_hash       TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('draft', 'rejected', 'on_notice', 'approved', 'withdrawn')),
    households      INTEGER NOT NULL,
    paid            INTEGER NOT NULL,
    total_shares    NUMERIC NOT NULL,
    total_points    NUMERIC NOT NULL,
    allocation_hash TEXT NOT NULL,
    request_id      TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    create_time     TIMESTAMPTZ NOT NULL,
    reviewed_by     TEXT NOT NULL,
    review_time     TIMESTAMPTZ,
    review_reason   TEXT NOT NULL,
    notice_start    DATE,
    notice_end      DATE,
    approved_by     TEXT NOT NULL,
    approve_time    TIMESTAMPTZ,
    withdrawn_by    TEXT NOT NULL,
    withdraw_time   TIMESTAMPTZ,
    withdraw_reason TEXT NOT NULL,
    open_objections INTEGER NOT NULL CHECK (open_objections >= 0),
    version         INTEGER NOT NULL CHECK (version >= 1),
    UNIQUE (village_code, request_id)
);
CREATE INDEX dividend_rounds_village_idx ON dividend_rounds (village_code, id);
-- At most one live round per village and record date: two could pay twice.
CREATE UNIQUE INDEX dividend_rounds_one_live ON dividend_rounds (village_code, record_date)
    WHERE state IN ('draft', 'on_notice', 'approved');

-- A round's lines: the inputs read from the roll at the record date and
-- the amount. Written once with the round, never changed (the triggers
-- below refuse UPDATE and DELETE): they are what Verify replays.
CREATE TABLE dividend_lines (
    round_id       TEXT NOT NULL REFERENCES dividend_rounds (id),
    household_id   TEXT NOT NULL REFERENCES households (id),
    head_name      TEXT NOT NULL,
    group_no       INTEGER NOT NULL,
    shares         NUMERIC NOT NULL,
    points         NUMERIC NOT NULL,
    black_listed   BOOLEAN NOT NULL,
    counted_shares NUMERIC NOT NULL,
    counted_points NUMERIC NOT NULL,
    excluded       TEXT NOT NULL CHECK (excluded IN ('', 'points', 'all')),
    capped         BOOLEAN NOT NULL,
    amount         NUMERIC(14, 2) NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (round_id, household_id)
);

-- +goose StatementBegin
CREATE FUNCTION dividend_lines_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'dividend_lines never change: % refused', TG_OP;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER dividend_lines_no_change BEFORE UPDATE OR DELETE ON dividend_lines
    FOR EACH ROW EXECUTE FUNCTION dividend_lines_append_only();

-- Households' objections to their line during a round's 公示.
CREATE TABLE dividend_objections (
    id             TEXT PRIMARY KEY,
    round_id       TEXT NOT NULL,
    village_code   TEXT NOT NULL,
    household_id   TEXT NOT NULL,
    reason         TEXT NOT NULL,
    objected_by    TEXT NOT NULL,
    object_time    TIMESTAMPTZ NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('open', 'dismissed', 'upheld')),
    resolved_by    TEXT NOT NULL,
    resolve_time   TIMESTAMPTZ,
    resolve_reason TEXT NOT NULL,
    FOREIGN KEY (round_id, household_id) REFERENCES dividend_lines (round_id, household_id)
);
CREATE INDEX dividend_objections_round_idx ON dividend_objections (round_id, household_id, id);
-- One open objection per household and round.
CREATE UNIQUE INDEX dividend_objections_one_open ON dividend_objections (round_id, household_id) WHERE state = 'open';

-- +goose Down
DROP TABLE dividend_objections;
DROP TRIGGER dividend_lines_no_change ON dividend_lines;
DROP FUNCTION dividend_lines_append_only();
DROP TABLE dividend_lines;
DROP TABLE dividend_rounds;
DROP TABLE dividend_rules;
