-- +goose Up
-- Slide decks and their page images, stored whole in one transaction and
-- never changed afterwards. Times are microseconds since the Unix epoch, UTC.
CREATE TABLE decks (
    lesson_id  TEXT    NOT NULL REFERENCES lessons (id),
    deck_id    TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    pages      INTEGER NOT NULL CHECK (pages BETWEEN 1 AND 1000),
    bytes      INTEGER NOT NULL CHECK (bytes > 0),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (lesson_id, deck_id)
) STRICT;

-- One row per page, numbered from 0: a PNG, JPEG or WebP image. A rowid
-- table, as SQLite advises for rows this large.
CREATE TABLE deck_pages (
    lesson_id    TEXT    NOT NULL,
    deck_id      TEXT    NOT NULL,
    page         INTEGER NOT NULL CHECK (page >= 0),
    content_type TEXT    NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
    sha256       BLOB    NOT NULL CHECK (length(sha256) = 32),
    data         BLOB    NOT NULL,
    PRIMARY KEY (lesson_id, deck_id, page),
    FOREIGN KEY (lesson_id, deck_id) REFERENCES decks (lesson_id, deck_id) ON DELETE CASCADE
) STRICT;

-- +goose Down
DROP TABLE deck_pages;
DROP TABLE decks;
