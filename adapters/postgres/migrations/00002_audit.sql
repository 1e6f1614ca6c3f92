-- +goose Up
-- Records waiting to be sequenced into the log. Every write transaction
-- inserts its record here, so the change and its audit record commit
-- together; the sequencer moves them into audit_leaves in batches, which
-- keeps the log from being one global lock on every write.
CREATE TABLE audit_queue (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time         TIMESTAMPTZ NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    result_hash  TEXT NOT NULL,
    payload      TEXT NOT NULL
);

-- The log: leaf seq is the canonical JSON in data; leaf_hash = SHA-256(0x00 || data).
CREATE TABLE audit_leaves (
    seq       BIGINT PRIMARY KEY CHECK (seq >= 0),
    time      TIMESTAMPTZ NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    data      BYTEA NOT NULL,
    leaf_hash BYTEA NOT NULL
);
CREATE INDEX audit_leaves_subject_idx ON audit_leaves (subject, seq);
CREATE INDEX audit_leaves_actor_idx ON audit_leaves (actor, seq);
CREATE INDEX audit_leaves_action_idx ON audit_leaves (action, seq);
CREATE INDEX audit_leaves_time_idx ON audit_leaves (time);

-- Perfect subtree hashes (level >= 1) so that proofs at any size are a few
-- indexed reads, never a recomputation from the leaves.
CREATE TABLE audit_nodes (
    level INTEGER NOT NULL CHECK (level >= 1),
    idx   BIGINT NOT NULL,
    hash  BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

-- The current tree: size, root and right border (the compact range of
-- [0, size), concatenated 32-byte hashes) to extend it without reading nodes.
CREATE TABLE audit_head (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    size   BIGINT NOT NULL,
    root   BYTEA NOT NULL,
    border BYTEA NOT NULL
);
INSERT INTO audit_head (id, size, root, border)
VALUES (1, 0, decode('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'hex'), ''::bytea);

-- Signed checkpoints, one per published tree size.
CREATE TABLE audit_checkpoints (
    size BIGINT PRIMARY KEY,
    root BYTEA NOT NULL,
    note TEXT NOT NULL,
    time TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE audit_checkpoints;
DROP TABLE audit_head;
DROP TABLE audit_nodes;
DROP TABLE audit_leaves;
DROP TABLE audit_queue;
