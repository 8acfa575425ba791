-- +goose Up
-- The server nodes sharing this database. Each node writes its own row when
-- it starts and moves seen_at on at every heartbeat; a node whose seen_at is
-- older than the registry's expiry is dead to the others. addr is the node's
-- internal base URL, on which other nodes reach it (never shown to clients).
-- capacity is 0 when unbounded; load is what the node counts against it.
CREATE TABLE nodes (
    id         text        PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    addr       text        NOT NULL,
    capacity   integer     NOT NULL DEFAULT 0 CHECK (capacity >= 0),
    load       integer     NOT NULL DEFAULT 0 CHECK (load >= 0),
    draining   boolean     NOT NULL DEFAULT false,
    started_at timestamptz NOT NULL DEFAULT now(),
    seen_at    timestamptz NOT NULL DEFAULT now()
);

-- Which node decides each lesson. A lease is held until expires_at and
-- renewed by its owner; another node may take it only after it expired, or
-- when the owner handed it over (released, expires_at in the past). epoch
-- grows at every change of owner: it is the fencing token every append of
-- the lesson carries, checked in the append's own transaction.
CREATE TABLE lesson_leases (
    lesson_id  uuid        PRIMARY KEY,
    owner      text        NOT NULL,
    epoch      bigint      NOT NULL CHECK (epoch > 0),
    expires_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE lesson_leases;
DROP TABLE nodes;
