-- +goose Up
-- Same schema as adapters/postgres/migrations/00006_lending.sql.
-- Lending: households' consents to banks, the decisions taken on them, the
-- credit lines those decisions open, the banks' drawdowns and repayments,
-- and the per-bank outbox of line events that feeds WatchCreditLines and
-- webhooks. Money is TEXT yuan (whole fen); rates TEXT. Amounts are
-- canonical decimal text, negative exactly when they start with '-', which
-- is how the CHECKs below match PostgreSQL's numeric ones.

-- A household's authorisation of one bank, for the listed purposes, until
-- expire_time unless revoked. The id is derived from the household, bank and
-- the hash of the signed authorisation, so recording the same authorisation
-- twice is one consent.
CREATE TABLE consents (
    id                 TEXT PRIMARY KEY,
    village_code       TEXT NOT NULL,
    household_id       TEXT NOT NULL,
    bank               TEXT NOT NULL,
    purposes           TEXT NOT NULL, -- comma-separated, e.g. 'assessment,post_loan'
    grant_time         TEXT NOT NULL,
    expire_time        TEXT NOT NULL,
    channel            TEXT NOT NULL,
    authorisation_hash TEXT NOT NULL,
    recorded_by        TEXT NOT NULL,
    revoke_time        TEXT,
    revoked_by         TEXT NOT NULL DEFAULT '',
    CHECK (expire_time > grant_time)
) STRICT;
CREATE INDEX consents_household_idx ON consents (household_id, bank);
-- Batch re-assessment streams a bank's consents in id order.
CREATE INDEX consents_bank_idx ON consents (bank, household_id);

-- Every decision, automated or a human override, as it was taken; never
-- updated. input is the canonical snapshot the policy read (InputHash pins
-- it), explanation the reasons shown to the household and the bank.
CREATE TABLE credit_decisions (
    id             TEXT PRIMARY KEY,
    bank           TEXT NOT NULL,
    product        TEXT NOT NULL,
    village_code   TEXT NOT NULL,
    household_id   TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('automated', 'override')),
    policy_version INTEGER NOT NULL,
    policy_hash    TEXT NOT NULL,
    input_hash     TEXT NOT NULL,
    decided_on     TEXT NOT NULL,
    valid_until    TEXT NOT NULL,
    eligible       INTEGER NOT NULL,
    score          INTEGER NOT NULL,
    grade          TEXT NOT NULL,
    limit_amount   TEXT NOT NULL,
    rate           TEXT NOT NULL,
    exposure_cap   TEXT NOT NULL,
    explanation    TEXT NOT NULL,
    input          TEXT NOT NULL,
    overrides      TEXT NOT NULL DEFAULT '', -- the decision an override replaces
    justification  TEXT NOT NULL DEFAULT '',
    decided_by     TEXT NOT NULL,
    time           TEXT NOT NULL
) STRICT;
-- A household's decisions are listed newest first by id (UUIDv7), which
-- is also the page cursor.
CREATE INDEX credit_decisions_household_idx ON credit_decisions (household_id, id);

-- One line per household, bank and product. drawn never goes negative and
-- version counts changes.
CREATE TABLE credit_lines (
    id            TEXT PRIMARY KEY,
    bank          TEXT NOT NULL,
    product       TEXT NOT NULL,
    village_code  TEXT NOT NULL,
    household_id  TEXT NOT NULL,
    limit_amount  TEXT NOT NULL CHECK (substr(limit_amount, 1, 1) <> '-'),
    drawn         TEXT NOT NULL CHECK (substr(drawn, 1, 1) <> '-'),
    rate          TEXT NOT NULL,
    exposure_cap  TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('active', 'frozen', 'expired', 'closed')),
    valid_until   TEXT NOT NULL,
    decision_id   TEXT NOT NULL REFERENCES credit_decisions (id),
    freeze_reason TEXT NOT NULL DEFAULT '',
    version       INTEGER NOT NULL,
    open_time     TEXT NOT NULL,
    update_time   TEXT NOT NULL,
    UNIQUE (bank, product, household_id)
) STRICT;
CREATE INDEX credit_lines_household_idx ON credit_lines (household_id);
CREATE INDEX credit_lines_bank_idx ON credit_lines (bank, id);

-- Drawdowns and repayments as the bank reported them, keyed by the bank's
-- own transaction id: a repeated id returns the stored result.
CREATE TABLE line_transactions (
    bank           TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    line_id        TEXT NOT NULL REFERENCES credit_lines (id),
    kind           TEXT NOT NULL CHECK (kind IN ('drawdown', 'repayment')),
    amount         TEXT NOT NULL CHECK (substr(amount, 1, 1) <> '-' AND amount <> '0'),
    declared_use   TEXT NOT NULL,
    request_hash   TEXT NOT NULL,
    drawn_after    TEXT NOT NULL,
    recorded_by    TEXT NOT NULL,
    time           TEXT NOT NULL,
    PRIMARY KEY (bank, transaction_id)
) STRICT;
CREATE INDEX line_transactions_line_idx ON line_transactions (line_id, time);

-- A household's request for an explanation and a human review of an
-- automated decision (PIPL art. 24), and how it was closed.
CREATE TABLE review_requests (
    id            TEXT PRIMARY KEY,
    decision_id   TEXT NOT NULL REFERENCES credit_decisions (id),
    bank          TEXT NOT NULL,
    village_code  TEXT NOT NULL,
    household_id  TEXT NOT NULL,
    reason        TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('open', 'upheld', 'overridden')),
    requested_by  TEXT NOT NULL,
    request_time  TEXT NOT NULL,
    resolved_by   TEXT NOT NULL DEFAULT '',
    resolve_time  TEXT,
    resolution    TEXT NOT NULL DEFAULT '',
    outcome_decision_id TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX review_requests_bank_idx ON review_requests (bank, state, id);
CREATE INDEX review_requests_household_idx ON review_requests (household_id, id);

-- The per-bank outbox of line events. Every transaction that writes an
-- event first bumps its bank's head row, so a bank's events get their seq
-- in commit order and a reader at cursor n never misses n+1 later.
CREATE TABLE line_event_heads (
    bank TEXT PRIMARY KEY,
    seq  INTEGER NOT NULL
) STRICT;
CREATE TABLE line_events (
    bank         TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    id           TEXT NOT NULL UNIQUE,
    type         TEXT NOT NULL,
    line_id      TEXT NOT NULL,
    village_code TEXT NOT NULL,
    household_id TEXT NOT NULL,
    payload      TEXT NOT NULL, -- the JSON a webhook delivers
    time         TEXT NOT NULL,
    PRIMARY KEY (bank, seq)
) STRICT;

-- Households whose points or facts changed since their lines were last
-- assessed: one row each however many changes (the coalescing), drained by
-- the re-assessment worker.
CREATE TABLE reassess_due (
    household_id TEXT PRIMARY KEY,
    since        TEXT NOT NULL
) STRICT;

-- Coalesced scheduling: a change to a household's points sheet or facts
-- marks it due for re-assessment when it has an open line; the mark is one
-- row however many changes follow, and commits with the change.
-- +goose StatementBegin
CREATE TRIGGER household_points_reassess_ins AFTER INSERT ON household_points
WHEN EXISTS (SELECT 1 FROM credit_lines WHERE household_id = NEW.household_id AND status <> 'closed')
BEGIN
    INSERT INTO reassess_due (household_id, since) VALUES (NEW.household_id, strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'))
    ON CONFLICT (household_id) DO NOTHING;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER household_points_reassess_upd AFTER UPDATE ON household_points
WHEN EXISTS (SELECT 1 FROM credit_lines WHERE household_id = NEW.household_id AND status <> 'closed')
BEGIN
    INSERT INTO reassess_due (household_id, since) VALUES (NEW.household_id, strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'))
    ON CONFLICT (household_id) DO NOTHING;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER household_facts_reassess AFTER INSERT ON household_facts
WHEN EXISTS (SELECT 1 FROM credit_lines WHERE household_id = NEW.household_id AND status <> 'closed')
BEGIN
    INSERT INTO reassess_due (household_id, since) VALUES (NEW.household_id, strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'))
    ON CONFLICT (household_id) DO NOTHING;
END;
-- +goose StatementEnd

-- Batch re-assessment of a bank's consenting households after a policy
-- activation; cursor is the last household id done, so a restart resumes.
CREATE TABLE reassessment_runs (
    id             TEXT PRIMARY KEY,
    bank           TEXT NOT NULL,
    product        TEXT NOT NULL,
    policy_version INTEGER NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed')),
    cursor         TEXT NOT NULL DEFAULT '',
    done           INTEGER NOT NULL DEFAULT 0,
    total          INTEGER NOT NULL DEFAULT 0,
    started_by     TEXT NOT NULL,
    start_time     TEXT NOT NULL,
    update_time    TEXT NOT NULL,
    error          TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE UNIQUE INDEX reassessment_runs_one_running ON reassessment_runs (bank, product) WHERE state = 'running';

-- +goose Down
DROP TABLE reassessment_runs;
DROP TRIGGER household_facts_reassess;
DROP TRIGGER household_points_reassess_upd;
DROP TRIGGER household_points_reassess_ins;
DROP TABLE reassess_due;
DROP TABLE line_events;
DROP TABLE line_event_heads;
DROP TABLE review_requests;
DROP TABLE line_transactions;
DROP TABLE credit_lines;
DROP TABLE credit_decisions;
DROP TABLE consents;
