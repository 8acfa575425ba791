-- +goose Up
-- Times are microseconds since the Unix epoch, UTC.
CREATE TABLE lessons (
    id         TEXT    PRIMARY KEY,
    title      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    ended_at   INTEGER,
    last_seq   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX lessons_created_at ON lessons (created_at DESC, id);

CREATE TABLE events (
    lesson_id TEXT    NOT NULL REFERENCES lessons (id),
    seq       INTEGER NOT NULL CHECK (seq > 0),
    event_id  TEXT    NOT NULL,
    version   INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    role      TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    data      TEXT    NOT NULL,
    PRIMARY KEY (lesson_id, seq),
    UNIQUE (lesson_id, event_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE snapshots (
    lesson_id  TEXT    NOT NULL REFERENCES lessons (id),
    seq        INTEGER NOT NULL CHECK (seq > 0),
    state      BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (lesson_id, seq)
) STRICT;

-- +goose Down
DROP TABLE snapshots;
DROP TABLE events;
DROP TABLE lessons;
