// Package recorder records a lesson's stage: a Recorder is one more
// subscriber of the stage (see media.Subscriber), which writes every track
// on stage, segment by segment, to a file of its own without re-encoding
// (WebM for VP8 and Opus, Matroska for H.264) with a JSON manifest timed on the event log's clock,
// and lists what was recorded. It owns the recordings directory's files and
// nothing else: it never holds up forwarding (a stalled disk loses media,
// counted, never the lesson's packets), never decodes media, and never
// changes a finished file.
package recorder
