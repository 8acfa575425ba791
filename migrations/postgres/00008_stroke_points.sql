-- +goose Up
-- A stroke's points, apart from the rest of its payload, in their binary
-- form (domain.Points.AppendBinary: exact to the bit, about a quarter of
-- their JSON's size, and read back without parsing decimal text; a long
-- lesson's log is mostly strokes' numbers). A stroke.drawn event stored
-- from now on has its points here and "points":null in data; every other
-- event, and every stroke stored before this migration, has NULL here and
-- its payload whole in data. Both read back to the same event, so old rows
-- are left as they are.
ALTER TABLE events ADD COLUMN points bytea;

-- +goose Down
-- SQL cannot write binary points back into data as the JSON they were (the
-- shortest decimal of each number): a database that holds any is not taken
-- back. The table is locked against writers (readers go on) until the
-- column is dropped: else a writer's points committed after the check
-- would be dropped with it.
LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE;
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM events WHERE points IS NOT NULL) THEN
        RAISE EXCEPTION 'events hold strokes whose points are stored apart; this migration cannot be undone';
    END IF;
END $$;
-- +goose StatementEnd
ALTER TABLE events DROP COLUMN points;
