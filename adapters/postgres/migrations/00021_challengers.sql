-- +goose Up
-- Same schema as adapters/sqlite/migrations/00022_challengers.sql.
-- Issue 16 §6: champion / challenger.
--
-- policy_challengers: which approved version of a product is evaluated in
-- shadow beside the active one (the champion). A row is opened when a
-- risk manager starts the challenger and closed (stopped_by, stop_time,
-- stop_reason) when it is stopped or its version is activated; closed
-- rows stay as the history. At most one open row per product.
CREATE TABLE policy_challengers (
    bank        TEXT NOT NULL,
    product     TEXT NOT NULL,
    version     INTEGER NOT NULL,
    started_by  TEXT NOT NULL,
    start_time  TIMESTAMPTZ NOT NULL,
    stopped_by  TEXT NOT NULL DEFAULT '',
    stop_time   TIMESTAMPTZ,
    stop_reason TEXT NOT NULL DEFAULT '' CHECK (stop_reason IN ('', 'stopped', 'activated')),
    PRIMARY KEY (bank, product, version, start_time),
    FOREIGN KEY (bank, product, version) REFERENCES policy_versions (bank, product, version)
);
CREATE UNIQUE INDEX policy_challengers_one_open ON policy_challengers (bank, product) WHERE stop_time IS NULL;

-- shadow_decisions, append-only (deploy/postgres/roles.sql): the
-- challenger's outcome on exactly the input of a live decision
-- (decision_id), stored in that decision's transaction. It changes no
-- line, reply or webhook. bins as in credit_decisions.bins; knock_outs
-- the fired knock-out ids, comma-separated, in document order.
CREATE TABLE shadow_decisions (
    decision_id        TEXT NOT NULL REFERENCES credit_decisions (id),
    bank               TEXT NOT NULL,
    product            TEXT NOT NULL,
    champion_version   INTEGER NOT NULL,
    challenger_version INTEGER NOT NULL,
    policy_hash        TEXT NOT NULL,
    eligible           BOOLEAN NOT NULL,
    score              INTEGER NOT NULL,
    grade              TEXT NOT NULL,
    limit_amount       NUMERIC(17, 2) NOT NULL,
    rate               NUMERIC(9, 6) NOT NULL,
    bins               TEXT NOT NULL,
    knock_outs         TEXT NOT NULL,
    time               TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (decision_id, challenger_version)
);
-- The comparison reads one challenger's shadows of one champion version
-- in decision order; the designation's counts read one challenger's.
CREATE INDEX shadow_decisions_version_idx
    ON shadow_decisions (bank, product, challenger_version, champion_version, decision_id);

-- +goose Down
DROP TABLE shadow_decisions;
DROP TABLE policy_challengers;
