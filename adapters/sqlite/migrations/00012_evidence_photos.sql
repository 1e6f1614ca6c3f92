-- +goose Up
-- Same schema as adapters/postgres/migrations/00011_evidence_photos.sql.
-- Photos of evidence, stored in the database so that a backup of it
-- carries them. Content-addressed: the key is the SHA-256 of the stored
-- bytes (re-encoded, without EXIF), which the evidence records among its
-- attachments; the same photo uploaded twice is one row.
CREATE TABLE evidence_photos (
    sha256      TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    media_type  TEXT NOT NULL CHECK (media_type IN ('image/jpeg', 'image/png')),
    bytes       BLOB NOT NULL,
    thumbnail   BLOB NOT NULL,
    width       INTEGER NOT NULL CHECK (width > 0),
    height      INTEGER NOT NULL CHECK (height > 0),
    create_time TEXT NOT NULL
) STRICT;

-- +goose Down
DROP TABLE evidence_photos;
