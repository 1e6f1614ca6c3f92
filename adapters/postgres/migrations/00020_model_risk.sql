-- +goose Up
-- Same schema as adapters/sqlite/migrations/00021_model_risk.sql.
-- Issue 16 §3 and §5: what back-testing and the activation gate keep.
--
-- bins: the index of the bin each scorecard characteristic fell in, in
-- scorecard order, comma-separated ("2,0,3"), written when the decision is
-- made. '' for decisions made before this migration (the back-test reads
-- their explanation instead) and for decisions without a scorecard.
-- Kept as a column because back-testing a million decisions cannot parse
-- a million explanations (docs/MODEL-RISK.md).
ALTER TABLE credit_decisions ADD COLUMN bins TEXT NOT NULL DEFAULT '';
-- The back-test reads one version's decisions in id order.
CREATE INDEX credit_decisions_policy_idx ON credit_decisions (bank, product, policy_version, id);

-- The activation gate's reports, append-only (deploy/postgres/roles.sql):
-- each evaluation of a policy version (its simulation against the version
-- active then, over the whole population) with the gate's checks, the
-- figures, and the reference population (modelrisk.Reference as JSON)
-- that later stability figures compare with. seq orders a version's
-- evaluations; activation reads the latest one of the version's hash.
CREATE TABLE policy_gate_reports (
    bank            TEXT NOT NULL,
    product         TEXT NOT NULL,
    version         INTEGER NOT NULL,
    seq             INTEGER NOT NULL CHECK (seq > 0),
    policy_hash     TEXT NOT NULL,
    against_version INTEGER NOT NULL DEFAULT 0 CHECK (against_version >= 0), -- 0: no active version
    as_of           DATE NOT NULL,
    households      INTEGER NOT NULL CHECK (households >= 0),
    passed          BOOLEAN NOT NULL,
    checks          TEXT NOT NULL, -- JSON (TEXT, not JSONB: kept byte for byte)
    summary         TEXT NOT NULL, -- JSON
    reference       TEXT NOT NULL, -- JSON: modelrisk.Reference
    evaluated_by    TEXT NOT NULL,
    time            TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (bank, product, version, seq),
    FOREIGN KEY (bank, product, version) REFERENCES policy_versions (bank, product, version)
);

-- +goose Down
DROP TABLE policy_gate_reports;
DROP INDEX credit_decisions_policy_idx;
ALTER TABLE credit_decisions DROP COLUMN bins;
