-- +goose Up
-- Same schema as adapters/postgres/migrations/00007_webhooks.sql.
CREATE TABLE webhook_endpoints (
    bank              TEXT PRIMARY KEY,
    url               TEXT NOT NULL,
    secret_key_id     TEXT NOT NULL,
    secret_cipher     BLOB NOT NULL,
    previous_key_id   TEXT NOT NULL DEFAULT '',
    previous_cipher   BLOB,
    previous_until    TEXT,
    cursor            INTEGER NOT NULL CHECK (cursor >= 0),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_time TEXT NOT NULL,
    last_error        TEXT NOT NULL DEFAULT '',
    lease_owner       TEXT NOT NULL DEFAULT '',
    lease_until       TEXT NOT NULL,
    created_by        TEXT NOT NULL,
    create_time       TEXT NOT NULL,
    updated_by        TEXT NOT NULL,
    update_time       TEXT NOT NULL
) STRICT;

CREATE TABLE webhook_dead_letters (
    bank        TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    event_id    TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    last_error  TEXT NOT NULL,
    dead_time   TEXT NOT NULL,
    replay_time TEXT,
    replayed_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (bank, seq)
) STRICT;

-- +goose Down
DROP TABLE webhook_dead_letters;
DROP TABLE webhook_endpoints;
