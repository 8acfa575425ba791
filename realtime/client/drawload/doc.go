// Package drawload draws like the browser's board, for load tools and
// benchmarks that measure a class drawing at once: the points a pen draws
// in a part of a stroke, and when a participant applied each event. It
// sends nothing itself and must never be used by the server.
package drawload
