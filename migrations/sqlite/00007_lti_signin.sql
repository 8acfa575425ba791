-- +goose Up
-- What the LTI 1.3 tool and the OpenID Connect sign-in remember. Times are
-- microseconds since the Unix epoch, UTC.

-- Each launch's nonce, kept until its id_token has expired, so that a
-- replayed launch is refused.
CREATE TABLE lti_nonces (
    issuer     TEXT    NOT NULL,
    nonce      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (issuer, nonce)
) STRICT;

-- A platform's resource link (a course's activity) and the lesson it opens
-- now: a series moves on to a new lesson each week.
CREATE TABLE lti_links (
    issuer        TEXT    NOT NULL,
    client_id     TEXT    NOT NULL,
    resource_link TEXT    NOT NULL,
    deployment_id TEXT    NOT NULL,
    context_id    TEXT    NOT NULL,
    lesson_id     TEXT    NOT NULL REFERENCES lessons (id),
    series        INTEGER NOT NULL CHECK (series IN (0, 1)),
    lobby         INTEGER NOT NULL CHECK (lobby IN (0, 1)),
    -- The course's Assignment and Grade Services line items URL; empty
    -- when the platform offers none.
    lineitems     TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (issuer, client_id, resource_link)
) STRICT;

-- Every lesson an LTI launch opened, the course (context) and resource link
-- it belongs to, and the gradebook column its attendance goes to.
CREATE TABLE lti_lessons (
    lesson_id     TEXT PRIMARY KEY REFERENCES lessons (id),
    issuer        TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    context_id    TEXT NOT NULL,
    resource_link TEXT NOT NULL,
    lineitems     TEXT NOT NULL,
    lineitem      TEXT NOT NULL DEFAULT ''
) STRICT;

-- A course's members as Names and Role Provisioning last listed them.
CREATE TABLE lti_roster (
    issuer      TEXT    NOT NULL,
    client_id   TEXT    NOT NULL,
    context_id  TEXT    NOT NULL,
    participant TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    fetched_at  INTEGER NOT NULL,
    PRIMARY KEY (issuer, client_id, context_id, participant)
) STRICT;

-- Who created a lesson when signed in with OpenID Connect: the provider's
-- issuer and subject, so that the lesson is theirs on any device.
CREATE TABLE lesson_owners (
    lesson_id TEXT PRIMARY KEY REFERENCES lessons (id),
    owner     TEXT NOT NULL
) STRICT;
CREATE INDEX lesson_owners_owner ON lesson_owners (owner);

-- +goose Down
DROP TABLE lesson_owners;
DROP TABLE lti_roster;
DROP TABLE lti_lessons;
DROP TABLE lti_links;
DROP TABLE lti_nonces;
