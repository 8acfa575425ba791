// Package timeline turns a lesson's event log into the files people take
// away from it, brings such a file back into a log, and finds the lesson's
// state at any point of its past. All of it is a fold over the same events
// the live lesson stored: the event log is the lesson, so a file made from it
// and a state found in it are what the participants saw. It imports only
// domain and the standard library: it must never open a database, a network
// connection or a file; callers bring the events, the snapshot and, for
// Import, functions that store.
//
// Exports (WriteJSON, WriteNDJSON, WriteCSV, WriteChapters, WriteChat,
// WriteSVG) read an iter.Seq2[domain.Event, error] once, in order, and write
// as they go, so that a lesson of any length is exported in bounded memory;
// the SVG boards alone need the lesson's final state, which is bounded by the
// domain's limits as a live room's is. Reader decodes the JSON and NDJSON
// exports with limits on every input; Import checks a whole file before it
// appends its first event. StateAt folds from a snapshot to a sequence number
// or a time offset.
//
// The zero point of every time offset (CSV offsets, WebVTT cue times, the
// offset of StateAt) is the time of the lesson's first event, lesson.created.
// Media recordings start later, at recording.started; aligning them is the
// caller's subtraction.
package timeline
