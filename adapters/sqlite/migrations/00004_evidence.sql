-- +goose Up
-- Same schema as adapters/postgres/migrations/00004_evidence.sql.
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
    valid_until     TEXT,
    period          TEXT NOT NULL,
    creditworthy    INTEGER NOT NULL,
    proposed_amount TEXT NOT NULL,
    occurred_on     TEXT NOT NULL,
    note            TEXT NOT NULL,
    attachments     TEXT NOT NULL,
    witness         TEXT NOT NULL,
    system_source   TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending_review', 'rejected', 'posted', 'disputed', 'overturned', 'revoked')),
    submitted_by    TEXT NOT NULL,
    submit_time     TEXT NOT NULL,
    request_id      TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    reviewed_by     TEXT NOT NULL,
    review_time     TEXT,
    review_reason   TEXT NOT NULL,
    notice_start    TEXT,
    notice_end      TEXT,
    objected_by     TEXT NOT NULL,
    object_time     TEXT,
    object_reason   TEXT NOT NULL,
    resolved_by     TEXT NOT NULL,
    resolve_time    TEXT,
    resolve_reason  TEXT NOT NULL,
    upheld          INTEGER NOT NULL,
    revoked_by      TEXT NOT NULL,
    revoke_time     TEXT,
    revoke_reason   TEXT NOT NULL,
    version         INTEGER NOT NULL CHECK (version >= 1),
    UNIQUE (village_code, request_id)
) STRICT;
CREATE INDEX evidence_village_idx ON evidence (village_code, id DESC);
CREATE INDEX evidence_household_idx ON evidence (household_id, id DESC);
CREATE INDEX evidence_board_idx ON evidence (village_code, state, notice_end);

CREATE TABLE ledger_entries (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    household_id  TEXT NOT NULL REFERENCES households (id),
    village_code  TEXT NOT NULL,
    evidence_id   TEXT NOT NULL,
    item_code     TEXT NOT NULL,
    domain        TEXT NOT NULL,
    area          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('award', 'deduction', 'reversal', 'redemption')),
    quantity      INTEGER NOT NULL,
    requested     TEXT NOT NULL,
    points        TEXT NOT NULL,
    capped        TEXT NOT NULL,
    occurred_on   TEXT NOT NULL,
    effective_on  TEXT NOT NULL,
    valid_until   TEXT,
    for_credit    INTEGER NOT NULL,
    reverses      TEXT NOT NULL,
    reversed_kind TEXT NOT NULL
) STRICT;
CREATE INDEX ledger_entries_village_idx ON ledger_entries (village_code, effective_on);
CREATE INDEX ledger_entries_household_idx ON ledger_entries (household_id, effective_on);
CREATE UNIQUE INDEX ledger_entries_one_reversal ON ledger_entries (reverses) WHERE kind = 'reversal';

-- +goose StatementBegin
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger_entries is append-only: UPDATE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger_entries is append-only: DELETE refused');
END;
-- +goose StatementEnd

CREATE TABLE household_points (
    household_id TEXT PRIMARY KEY REFERENCES households (id),
    village_code TEXT NOT NULL,
    version      INTEGER NOT NULL CHECK (version >= 1),
    entry_count  INTEGER NOT NULL,
    entries      TEXT NOT NULL
) STRICT;

CREATE TABLE domain_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    type         TEXT NOT NULL,
    village_code TEXT NOT NULL,
    household_id TEXT NOT NULL,
    evidence_id  TEXT NOT NULL,
    effective_on TEXT,
    time         TEXT NOT NULL
) STRICT;
CREATE TABLE domain_events_head (
    id INTEGER PRIMARY KEY CHECK (id = 1)
) STRICT;
INSERT INTO domain_events_head (id) VALUES (1);

-- +goose Down
DROP TABLE domain_events_head;
DROP TABLE domain_events;
DROP TABLE household_points;
DROP TABLE ledger_entries;
DROP TABLE evidence;
