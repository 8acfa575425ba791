package realtime

import (
	"fmt"

	"classroom/media/sfu"
	"classroom/realtime/protocol"
)

// codecSignal tells a client that a track forwarded to it carries nothing
// because its connection negotiated none of the track's codec
// (docs/protocol.md, section 9): the page shows why in the track's place.
func codecSignal(u sfu.UnsupportedTrack) protocol.Signal {
	return protocol.Signal{Type: protocol.SignalMedia, Reason: protocol.ReasonCodecUnsupported, Participant: u.Publisher,
		Track: u.Track, Kind: u.Kind.String(), Codec: u.Codec, Mid: u.Mid,
		Message: fmt.Sprintf("%s's %s is sent as %s, which this connection did not negotiate: it cannot be shown here",
			u.Publisher, u.Kind, u.Codec)}
}
