-- +goose Up
-- The keys a lesson's teacher makes for encoders and players: a publishing
-- key admits a WHIP publisher (OBS, a hardware encoder) to the lesson's
-- stage as the teacher, a viewing key a WHEP viewer. Only a key's SHA-256
-- is kept. Times are microseconds since the Unix epoch, UTC; revoked_at is
-- NULL while the key admits.
CREATE TABLE stream_keys (
    lesson_id  TEXT    NOT NULL REFERENCES lessons (id),
    key_id     TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('publish', 'view')),
    label      TEXT    NOT NULL,
    sha256     BLOB    NOT NULL CHECK (length(sha256) = 32) UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    PRIMARY KEY (lesson_id, key_id)
) STRICT;

-- +goose Down
DROP TABLE stream_keys;
