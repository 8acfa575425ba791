// Package domain holds the rules of a lesson: the events that make up its log,
// the commands participants send, the checks a command must pass before it
// becomes an event, and the fold that turns a log into the lesson's state. It
// owns no I/O: it must never import a database, network, WebRTC or
// file-system package, and time comes in as an argument.
//
// A lesson is a fold over its events: State.Apply is deterministic and total,
// so replaying a log, resuming a client, playing back a past lesson and
// exporting it all run the same code. Decide is the only way a command becomes
// an event; it checks the command against the current state and the actor's
// role and returns an *Error with a machine code when it refuses.
package domain
