// Package turn is the classroom's embedded STUN and TURN relay: it lets a
// participant whose network blocks direct UDP reach the server's media
// through it, with short-lived credentials derived from a secret only the
// relay holds. It owns its listening sockets and relayed ports and nothing
// else; it never relays to loopback, private or other special addresses
// unless its configuration allows them, and it never reads, forwards or
// records the media it carries.
package turn
