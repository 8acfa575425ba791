-- +goose Up
-- public_url is the base URL participants reach a node by, to which a full
-- node sends them (classroom serve -public-url); empty when it has none.
ALTER TABLE nodes ADD COLUMN public_url text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE nodes DROP COLUMN public_url;
