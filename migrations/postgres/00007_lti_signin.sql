-- +goose Up
-- What the LTI 1.3 tool and the OpenID Connect sign-in remember, so that
-- every server node sharing the database agrees on it.

-- Each launch's nonce, kept until its id_token has expired, so that a
-- launch replayed on any node is refused.
CREATE TABLE lti_nonces (
    issuer     text        NOT NULL,
    nonce      text        NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (issuer, nonce)
);

-- A platform's resource link (a course's activity) and the lesson it opens
-- now: a series moves on to a new lesson each week.
CREATE TABLE lti_links (
    issuer        text        NOT NULL,
    client_id     text        NOT NULL,
    resource_link text        NOT NULL,
    deployment_id text        NOT NULL,
    context_id    text        NOT NULL,
    lesson_id     uuid        NOT NULL REFERENCES lessons (id),
    series        boolean     NOT NULL,
    lobby         boolean     NOT NULL,
    -- The course's Assignment and Grade Services line items URL; empty
    -- when the platform offers none.
    lineitems     text        NOT NULL DEFAULT '',
    PRIMARY KEY (issuer, client_id, resource_link)
);

-- Every lesson an LTI launch opened, the course (context) and resource link
-- it belongs to, and the gradebook column its attendance goes to.
CREATE TABLE lti_lessons (
    lesson_id     uuid PRIMARY KEY REFERENCES lessons (id),
    issuer        text NOT NULL,
    client_id     text NOT NULL,
    context_id    text NOT NULL,
    resource_link text NOT NULL,
    lineitems     text NOT NULL,
    lineitem      text NOT NULL DEFAULT ''
);

-- A course's members as Names and Role Provisioning last listed them.
CREATE TABLE lti_roster (
    issuer      text        NOT NULL,
    client_id   text        NOT NULL,
    context_id  text        NOT NULL,
    participant text        NOT NULL,
    user_id     text        NOT NULL,
    name        text        NOT NULL,
    role        text        NOT NULL,
    fetched_at  timestamptz NOT NULL,
    PRIMARY KEY (issuer, client_id, context_id, participant)
);

-- Who created a lesson when signed in with OpenID Connect: the provider's
-- issuer and subject, so that the lesson is theirs on any device.
CREATE TABLE lesson_owners (
    lesson_id uuid PRIMARY KEY REFERENCES lessons (id),
    owner     text NOT NULL
);
CREATE INDEX lesson_owners_owner ON lesson_owners (owner);

-- +goose Down
DROP TABLE lesson_owners;
DROP TABLE lti_roster;
DROP TABLE lti_lessons;
DROP TABLE lti_links;
DROP TABLE lti_nonces;
