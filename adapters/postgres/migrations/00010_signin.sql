-- +goose Up
-- Web console sign-in (access/signin). No table holds a secret in clear:
-- passwords as argon2id PHC strings, session tokens and household access
-- codes as their SHA-256. The CSRF token is stored as issued: it is no
-- credential on its own, only proof that a form came from our page.
CREATE TABLE principal_passwords (
    principal_id TEXT PRIMARY KEY REFERENCES principals (id),
    hash         TEXT NOT NULL,
    must_change  BOOLEAN NOT NULL,
    set_by       TEXT NOT NULL,
    set_time     TIMESTAMPTZ NOT NULL
);

CREATE TABLE signin_sessions (
    id           TEXT PRIMARY KEY,
    token_hash   BYTEA NOT NULL UNIQUE,
    principal_id TEXT NOT NULL REFERENCES principals (id),
    csrf         TEXT NOT NULL,
    village      TEXT NOT NULL DEFAULT '',
    client_addr  TEXT NOT NULL DEFAULT '',
    create_time  TIMESTAMPTZ NOT NULL,
    last_seen    TIMESTAMPTZ NOT NULL,
    expire_time  TIMESTAMPTZ NOT NULL,
    revoke_time  TIMESTAMPTZ
);
CREATE INDEX signin_sessions_principal_idx ON signin_sessions (principal_id) WHERE revoke_time IS NULL;

-- A household has at most one live code: issuing again revokes the old.
CREATE TABLE household_codes (
    hash         BYTEA PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (id),
    village_code TEXT NOT NULL,
    principal_id TEXT NOT NULL REFERENCES principals (id),
    issued_by    TEXT NOT NULL,
    issue_time   TIMESTAMPTZ NOT NULL,
    revoke_time  TIMESTAMPTZ
);
CREATE UNIQUE INDEX household_codes_live_idx ON household_codes (household_id) WHERE revoke_time IS NULL;

-- Failed sign-in counters per username, code prefix or client address.
CREATE TABLE signin_throttle (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL CHECK (failures >= 0),
    window_start TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE signin_throttle;
DROP TABLE household_codes;
DROP TABLE signin_sessions;
DROP TABLE principal_passwords;
