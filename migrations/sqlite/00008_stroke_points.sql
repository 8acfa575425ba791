-- +goose Up
-- A stroke's points, apart from the rest of its payload, in their binary
-- form (domain.Points.AppendBinary: exact to the bit, about a quarter of
-- their JSON's size, and read back without parsing decimal text; a long
-- lesson's log is mostly strokes' numbers). A stroke.drawn event stored
-- from now on has its points here and "points":null in data; every other
-- event, and every stroke stored before this migration, has NULL here and
-- its payload whole in data. Both read back to the same event, so old rows
-- are left as they are.
ALTER TABLE events ADD COLUMN points BLOB;

-- +goose Down
-- SQL cannot write binary points back into data as the JSON they were (the
-- shortest decimal of each number): a database that holds any is not taken
-- back. The CHECK fails the insert, and so the migration, when
-- one is there.
CREATE TEMP TABLE undo_stroke_points (stored INTEGER CHECK (stored = 0));
INSERT INTO undo_stroke_points SELECT count(*) FROM events WHERE points IS NOT NULL;
DROP TABLE undo_stroke_points;
ALTER TABLE events DROP COLUMN points;
