-- +goose Up
-- Banks' credit policy documents, one row per version of a bank product's
-- policy. The document text, content hash and effective date never change
-- after insert; only the lifecycle columns (state, approved_by,
-- approve_time, activated_by, activate_time, supersede_time) do, and every
-- such change is in the audit log.
CREATE TABLE policy_versions (
    bank           TEXT NOT NULL,
    product        TEXT NOT NULL,
    version        INTEGER NOT NULL CHECK (version >= 1),
    document       TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    effective_date DATE NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('draft', 'approved', 'active', 'superseded')),
    uploaded_by    TEXT NOT NULL,
    upload_time    TIMESTAMPTZ NOT NULL,
    approved_by    TEXT NOT NULL DEFAULT '',
    approve_time   TIMESTAMPTZ,
    activated_by   TEXT NOT NULL DEFAULT '',
    activate_time  TIMESTAMPTZ,
    supersede_time TIMESTAMPTZ,
    PRIMARY KEY (bank, product, version)
);
-- Exactly one active version per bank product.
CREATE UNIQUE INDEX policy_versions_one_active ON policy_versions (bank, product) WHERE state = 'active';

-- +goose Down
DROP TABLE policy_versions;
