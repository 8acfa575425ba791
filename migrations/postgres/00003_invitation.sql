-- +goose Up
-- The students' link a lesson's teacher gave last (its token's JWT ID). NULL
-- while none was given after the first: then every unexpired students' link
-- of the lesson admits; once set, only that one.
ALTER TABLE lessons ADD COLUMN invitation uuid;

-- +goose Down
ALTER TABLE lessons DROP COLUMN invitation;
