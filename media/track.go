package media

import (
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Packet is one RTP packet a publisher sent, as the server received it:
// parsed once, then shared by everyone it is handed to, who must not change
// it.
type Packet struct {
	// Header is the publisher's header, without header extensions.
	Header  rtp.Header
	Payload []byte
	// Keyframe is set on the first packet of a video keyframe.
	Keyframe bool
	// At is when the server received it.
	At time.Time
}

// Track is a published track on stage as a Subscriber sees it: for a
// simulcast track, its first layer. A track of a breakout group's stage
// says its group. Its methods may be called from any
// goroutine.
type Track interface {
	// Participant is the publisher's participant id.
	Participant() string
	// Group is the breakout group the track is published in, "" for the
	// lesson's main stage.
	Group() string
	// ID is the publisher's track id.
	ID() string
	Kind() webrtc.RTPCodecType
	Codec() webrtc.RTPCodecParameters
	// RequestKeyframe asks the publisher for a keyframe; requests are
	// rate-limited, so that those of many consumers become one.
	RequestKeyframe()
	// AddSink starts handing the track's packets to k, RemoveSink stops.
	AddSink(k Sink)
	RemoveSink(k Sink)
}

// Sink consumes a track's packets. Enqueue is called from the track's read
// loop, which every subscriber of the track waits for: it must never wait.
type Sink interface {
	Enqueue(p *Packet)
}

// Subscriber takes the tracks of a lesson's stage other than through a
// participant's connection: a recorder.
type Subscriber interface {
	// OnStage is called, with the stage locked, whenever the tracks on stage
	// may have changed, with every track on stage, in a slice the stage
	// never changes again. It must not wait, nor call the stage.
	OnStage(tracks []Track)
	// StageClosed is called once, when the stage closes, after a last
	// OnStage with no tracks; it returns when the subscriber's goroutines
	// have ended.
	StageClosed()
}
