// Package recorder records a lesson's stage: a Recorder is one more
// subscriber of the stage (see media.Subscriber), which writes every track
// on stage, segment by segment, to a WebM file of its own (VP8, Opus,
// without re-encoding) with a JSON manifest timed on the event log's clock,
// and lists what was recorded. It owns the recordings directory's files and
// nothing else: it never holds up forwarding (a stalled disk loses media,
// counted, never the lesson's packets), never decodes media, and never
// changes a finished file.
package recorder
