-- +goose Up
-- Evidence: one row per submission, carrying its whole workflow. Only the
-- workflow columns (state, review, notice, objection, resolution,
-- revocation, catalogue_hash) change after insert, each change bumping
-- version; every change is in the audit log.
CREATE TABLE evidence (
    id              TEXT PRIMARY KEY,
    village_code    TEXT NOT NULL CHECK (length(village_code) = 12),
    household_id    TEXT NOT NULL REFERENCES households (id),
    kind            TEXT NOT NULL CHECK (kind IN ('points', 'star_rating', 'red_list', 'black_list', 'recommendation')),
    item_code       TEXT NOT NULL,
    quantity        INTEGER NOT NULL,
    catalogue_hash  TEXT NOT NULL,
    level           TEXT NOT NULL CHECK (level IN ('', 'village', 'town', 'county')),
    stars           INTEGER NOT NULL,
    valid_until     DATE,
    period          TEXT NOT NULL,
    creditworthy    BOOLEAN NOT NULL,
    proposed_amount NUMERIC(17, 2) NOT NULL,
    occurred_on     DATE NOT NULL,
    note            TEXT NOT NULL,
    attachments     TEXT NOT NULL,
    witness         TEXT NOT NULL,
    system_source   TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending_review', 'rejected', 'posted', 'disputed', 'overturned', 'revoked')),
    submitted_by    TEXT NOT NULL,
    submit_time     TIMESTAMPTZ NOT NULL,
    request_id      TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    reviewed_by     TEXT NOT NULL,
    review_time     TIMESTAMPTZ,
    review_reason   TEXT NOT NULL,
    notice_start    DATE,
    notice_end      DATE,
    objected_by     TEXT NOT NULL,
    object_time     TIMESTAMPTZ,
    object_reason   TEXT NOT NULL,
    resolved_by     TEXT NOT NULL,
    resolve_time    TIMESTAMPTZ,
    resolve_reason  TEXT NOT NULL,
    upheld          BOOLEAN NOT NULL,
    revoked_by      TEXT NOT NULL,
    revoke_time     TIMESTAMPTZ,
    revoke_reason   TEXT NOT NULL,
    version         INTEGER NOT NULL CHECK (version >= 1),
    UNIQUE (village_code, request_id)
);
CREATE INDEX evidence_village_idx ON evidence (village_code, id DESC);
CREATE INDEX evidence_household_idx ON evidence (household_id, id DESC);
-- The 公示 board: posted evidence still on notice, and disputed evidence.
CREATE INDEX evidence_board_idx ON evidence (village_code, state, notice_end);

-- The points ledger: append-only (the triggers below refuse UPDATE, DELETE
-- and TRUNCATE); corrections are reversal entries. seq is insert order.
CREATE TABLE ledger_entries (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    household_id  TEXT NOT NULL REFERENCES households (id),
    village_code  TEXT NOT NULL,
    evidence_id   TEXT NOT NULL,
    item_code     TEXT NOT NULL,
    domain        TEXT NOT NULL,
    area          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('award', 'deduction', 'reversal', 'redemption')),
    quantity      INTEGER NOT NULL,
    requested     NUMERIC NOT NULL,
    points        NUMERIC NOT NULL,
    capped        NUMERIC NOT NULL,
    occurred_on   DATE NOT NULL,
    effective_on  DATE NOT NULL,
    valid_until   DATE,
    for_credit    BOOLEAN NOT NULL,
    reverses      TEXT NOT NULL,
    reversed_kind TEXT NOT NULL
);
CREATE INDEX ledger_entries_village_idx ON ledger_entries (village_code, effective_on);
CREATE INDEX ledger_entries_household_idx ON ledger_entries (household_id, effective_on);
-- An entry is reversed at most once.
CREATE UNIQUE INDEX ledger_entries_one_reversal ON ledger_entries (reverses) WHERE kind = 'reversal';

-- +goose StatementBegin
CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_entries is append-only: % refused', TG_OP;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER ledger_entries_no_change BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_append_only();

-- A household's points aggregate: all its ledger entries as JSON, written
-- in the transaction that appends to the ledger, so a balance is one
-- primary-key read. version counts its writes (optimistic check).
CREATE TABLE household_points (
    household_id TEXT PRIMARY KEY REFERENCES households (id),
    village_code TEXT NOT NULL,
    version      INTEGER NOT NULL CHECK (version >= 1),
    entry_count  INTEGER NOT NULL,
    entries      TEXT NOT NULL
);

-- The domain-event outbox, consumed in seq order. Appending locks the
-- domain_events_head row first, so event-writing transactions take their
-- seq in commit order and a reader never sees seq n+1 before seq n.
CREATE TABLE domain_events (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    type         TEXT NOT NULL,
    village_code TEXT NOT NULL,
    household_id TEXT NOT NULL,
    evidence_id  TEXT NOT NULL,
    effective_on DATE,
    time         TIMESTAMPTZ NOT NULL
);
CREATE TABLE domain_events_head (
    id INTEGER PRIMARY KEY CHECK (id = 1)
);
INSERT INTO domain_events_head (id) VALUES (1);

-- +goose Down
DROP TABLE domain_events_head;
DROP TABLE domain_events;
DROP TABLE household_points;
DROP TABLE ledger_entries;
DROP FUNCTION ledger_entries_append_only();
DROP TABLE evidence;
