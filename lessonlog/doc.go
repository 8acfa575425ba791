// Package lessonlog works on a lesson's whole stored log: it exports the log
// in the formats people take away (Export, FileName), brings such a file back
// into a store (ImportTarget for timeline.Import), finds the lesson's state
// at a point of its past from the nearest stored snapshot (Seek), and says
// whether it is being recorded without folding it (Recording). It is where
// an event store and the folds of domain/timeline meet, so that the HTTP API
// and the command line run the same code. It must never speak HTTP, read flags
// or open files, or decide who may do what: callers bring the store, the
// writer or the file, and their own checks of who asks.
package lessonlog
