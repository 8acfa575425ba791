-- +goose Up
CREATE TABLE lessons (
    id         uuid        PRIMARY KEY,
    title      text        NOT NULL,
    created_at timestamptz NOT NULL,
    ended_at   timestamptz,
    last_seq   bigint      NOT NULL DEFAULT 0
);
CREATE INDEX lessons_created_at ON lessons (created_at DESC, id);

-- One row per event. The primary key on (lesson_id, seq) is the last line
-- against two writers giving out the same sequence: it is never bypassed.
-- Event ids are unique within their lesson; indexing them under the lesson
-- keeps the pages a busy lesson touches together, where an index on the
-- random ids alone would touch a random page of the whole history per event.
-- The payload is json, not jsonb: the server never queries inside it, and
-- json is checked but kept as text, which appends much faster.
-- There is no foreign key to lessons: every append locks its lesson's row
-- already, and a per-row key check would cost a probe per event.
CREATE TABLE events (
    lesson_id uuid        NOT NULL,
    seq       bigint      NOT NULL CHECK (seq > 0),
    event_id  uuid        NOT NULL,
    version   smallint    NOT NULL,
    kind      text        NOT NULL,
    actor     text        NOT NULL,
    role      text        NOT NULL,
    at        timestamptz NOT NULL,
    data      json        NOT NULL,
    PRIMARY KEY (lesson_id, seq),
    UNIQUE (lesson_id, event_id)
);

CREATE TABLE snapshots (
    lesson_id  uuid        NOT NULL REFERENCES lessons (id),
    seq        bigint      NOT NULL CHECK (seq > 0),
    state      bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (lesson_id, seq)
);

-- +goose Down
DROP TABLE snapshots;
DROP TABLE events;
DROP TABLE lessons;
