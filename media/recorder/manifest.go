package recorder

import (
	"encoding/json"
	"os"
	"strings"
	"time"
)

// Recording is one recorded file of one track, as its manifest (a JSON file
// of the same name beside it) describes it. Times are on the event log's
// clock (server time, UTC, microseconds), so that media lines up with the
// lesson's events: the file's time 0 is Start.
type Recording struct {
	File        string `json:"file"` // the WebM file's name, in the lesson's directory
	Lesson      string `json:"lesson"`
	Segment     int64  `json:"segment"` // the sequence of the recording.started event
	Participant string `json:"participant"`
	// Group is the breakout group the track was published in (its id), or
	// missing for the lesson's main stage. A track that moves to another
	// group, or back, goes on in a file of its own.
	Group string `json:"group,omitempty"`
	Track string `json:"track"` // the publisher's track id
	Kind  string `json:"kind"`  // "audio" or "video"
	Codec string `json:"codec"` // MIME type
	// Start is when the file's first frame reached the server; End when the
	// last packet written did. End is missing while the track is being
	// recorded, and in a file a crash interrupted.
	Start      time.Time  `json:"start"`
	End        *time.Time `json:"end,omitempty"`
	DurationMS int64      `json:"duration_ms"` // the last frame's time in the file
	Frames     int64      `json:"frames"`
	Width      int        `json:"width,omitempty"`
	Height     int        `json:"height,omitempty"`
	// Dropped counts packets lost at the recorder's queue (a stalled disk);
	// LostFrames frames missing packets the network never delivered;
	// SkippedFrames video frames left out while waiting for a keyframe.
	Dropped       uint64 `json:"dropped,omitempty"`
	LostFrames    int64  `json:"lost_frames,omitempty"`
	SkippedFrames int64  `json:"skipped_frames,omitempty"`
	// ClockCorrections counts the times the timeline was moved back onto the
	// server clock; ClockOffsetUS is the offset of the sender's media clock
	// from the server's measured last (its drift since the track's first
	// packet).
	ClockCorrections int    `json:"clock_corrections"`
	ClockOffsetUS    int64  `json:"clock_offset_us"`
	Error            string `json:"error,omitempty"`
	// Size is the file's size in bytes, filled in by ListRecordings.
	Size int64 `json:"size"`
}

// SafeName makes an id (a participant's or a track's, which come from
// tokens and browsers) safe as part of a file name: letters, digits, '_' and
// '-' are kept, anything else becomes '_', and at most 48 bytes are kept.
func SafeName(id string) string {
	var b strings.Builder
	for _, r := range id {
		if b.Len() >= 48 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// writeManifest replaces a manifest whole: written beside, then renamed.
func writeManifest(path string, r *Recording) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
