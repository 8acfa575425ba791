// Package signin lets teachers and operators sign in with their school's
// accounts over OpenID Connect (Keycloak, Microsoft Entra, Google
// Workspace, …): the providers an operator configures, the authorization
// code flow with PKCE, the check of the id_token, the rules of who may
// create lessons (an email domain or a claim), and the session cookie that
// says who is signed in. Students never sign in: they join by link or LTI.
//
// It uses github.com/coreos/go-oidc for discovery and id_token
// verification and golang.org/x/oauth2 for the code exchange; its own
// cookies are JWTs signed and checked by github.com/go-jose/go-jose. It
// never verifies a JWT by hand, stores nothing but cookies, and must never
// decide what a teacher may do in a lesson: that is domain's.
package signin
