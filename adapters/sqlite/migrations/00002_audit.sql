-- +goose Up
-- Same schema as adapters/postgres/migrations/00002_audit.sql.
CREATE TABLE audit_queue (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    time         TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    result_hash  TEXT NOT NULL,
    payload      TEXT NOT NULL
) STRICT;

CREATE TABLE audit_leaves (
    seq       INTEGER PRIMARY KEY CHECK (seq >= 0),
    time      TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    data      BLOB NOT NULL,
    leaf_hash BLOB NOT NULL
) STRICT;
CREATE INDEX audit_leaves_subject_idx ON audit_leaves (subject, seq);
CREATE INDEX audit_leaves_actor_idx ON audit_leaves (actor, seq);
CREATE INDEX audit_leaves_action_idx ON audit_leaves (action, seq);
CREATE INDEX audit_leaves_time_idx ON audit_leaves (time);

CREATE TABLE audit_nodes (
    level INTEGER NOT NULL CHECK (level >= 1),
    idx   INTEGER NOT NULL,
    hash  BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;

CREATE TABLE audit_head (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    size   INTEGER NOT NULL,
    root   BLOB NOT NULL,
    border BLOB NOT NULL
) STRICT;
INSERT INTO audit_head (id, size, root, border)
VALUES (1, 0, X'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', X'');

CREATE TABLE audit_checkpoints (
    size INTEGER PRIMARY KEY,
    root BLOB NOT NULL,
    note TEXT NOT NULL,
    time TEXT NOT NULL
) STRICT;

-- +goose Down
DROP TABLE audit_checkpoints;
DROP TABLE audit_head;
DROP TABLE audit_nodes;
DROP TABLE audit_leaves;
DROP TABLE audit_queue;
