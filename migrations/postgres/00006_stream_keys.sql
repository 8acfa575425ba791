-- +goose Up
-- The keys a lesson's teacher makes for encoders and players: a publishing
-- key admits a WHIP publisher (OBS, a hardware encoder) to the lesson's
-- stage as the teacher, a viewing key a WHEP viewer. Only a key's SHA-256
-- is kept; the key itself is shown once, when it is made. A revoked key
-- stays, marked, so that the teacher's list says what happened to it.
CREATE TABLE stream_keys (
    lesson_id  uuid        NOT NULL REFERENCES lessons (id),
    key_id     uuid        NOT NULL,
    kind       text        NOT NULL CHECK (kind IN ('publish', 'view')),
    label      text        NOT NULL,
    sha256     bytea       NOT NULL CHECK (length(sha256) = 32) UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    PRIMARY KEY (lesson_id, key_id)
);

-- +goose Down
DROP TABLE stream_keys;
