-- +goose Up
-- Slide decks and their page images. They live in the database, not on one
-- node's disk, so that every server node sharing it serves them. A deck is
-- stored whole in one transaction and never changes afterwards.
CREATE TABLE decks (
    lesson_id  uuid        NOT NULL REFERENCES lessons (id),
    deck_id    uuid        NOT NULL,
    name       text        NOT NULL,
    pages      integer     NOT NULL CHECK (pages BETWEEN 1 AND 1000),
    bytes      bigint      NOT NULL CHECK (bytes > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (lesson_id, deck_id)
);

-- One row per page, numbered from 0. The images are PNG, JPEG or WebP,
-- compressed already: EXTERNAL storage keeps them out of line without
-- trying to compress them again.
CREATE TABLE deck_pages (
    lesson_id    uuid    NOT NULL,
    deck_id      uuid    NOT NULL,
    page         integer NOT NULL CHECK (page >= 0),
    content_type text    NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
    sha256       bytea   NOT NULL CHECK (length(sha256) = 32),
    data         bytea   NOT NULL,
    PRIMARY KEY (lesson_id, deck_id, page),
    FOREIGN KEY (lesson_id, deck_id) REFERENCES decks (lesson_id, deck_id) ON DELETE CASCADE
);
ALTER TABLE deck_pages ALTER COLUMN data SET STORAGE EXTERNAL;

-- +goose Down
DROP TABLE deck_pages;
DROP TABLE decks;
