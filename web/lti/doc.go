// Package lti makes the server an LTI 1.3 tool (1EdTech LTI Core 1.3, Deep
// Linking 2.0, Names and Role Provisioning Services 2.0, Assignment and
// Grade Services 2.0), so that a learning platform (Moodle, Canvas,
// Blackboard, Brightspace, …) opens a lesson from a course. It owns the OpenID Connect third-party-initiated
// login, the check of a launch's id_token against the platform's published
// keys, the tool's own signing keys and their JWKS, the registered
// platforms, the mapping of a course's resource link to a lesson, the deep
// linking picker, the fetching of a course's roster and the posting of a
// lesson's attendance to the course's gradebook. What it must remember
// across the server's nodes (nonces, links, rosters, gradebook columns) it
// keeps in an eventstore.LTI.
//
// It never verifies a JWT by hand: id_tokens are checked by
// github.com/coreos/go-oidc (which also caches and refreshes the platform's
// JWKS), and the tool's own JWTs are signed and checked with
// github.com/go-jose/go-jose. It never sets or reads a cookie, because a
// platform shows the tool in an iframe, where browsers block third-party
// cookies: the launch's state travels signed in the state parameter, its
// nonce is spent once in the store, and the lesson page is reached with the
// usual join token in the URL's fragment. It must never hold a lesson rule:
// whom a role admits, and what a teacher may do, are domain's.
package lti
