// Package web owns the server's HTTP surface: the JSON API under /api (lessons,
// invitations, slide decks, the event log, exports, a past state, recordings,
// deletion, stream keys, and the WHIP and WHEP endpoints), the health check, a
// launched course's roster (GET /api/lessons/{id}/roster) and a signed-in
// teacher's lessons (GET /api/me), the HTML pages and the browser client
// embedded from
// static/, the server's TLS set-up, and the sorting of its one HTTP(S) port
// between browsers and TURN clients (PortShare); it mounts the LTI tool
// (web/lti) under /lti/ and the OpenID Connect sign-in (web/signin) under
// /signin, which own their protocols, and hands them the browser client's
// message catalogues (Catalogues, read by web/i18n) so that their pages
// speak the reader's language. It checks who asks, turns requests
// into calls on the domain, the event store and lessonlog, and their errors
// into HTTP statuses; it must never speak SQL or WebRTC itself, nor hold a
// lesson rule or an export format of its own: live lessons are the handler
// realtime gives it, WHIP and WHEP streams are realtime.Streams, the log's
// formats, import and seeking are lessonlog's, and deleting a lesson's rows and
// files is retention's.
package web
