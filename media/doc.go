// Package media is what the server's media parts share: the WebRTC engine
// every participant's connection is built with (the codecs an SFU can
// forward without transcoding, the interceptors, the one UDP port, which
// sends the packets a writer has for one address together: SendBatcher), the
// order of codecs a publishing browser is asked for (PreferClassCodecs), the
// words in which a lesson's stage offers its tracks to a subscriber that is
// not a participant's connection, such as a recorder (Track, Packet, Sink,
// Subscriber), and the reading of keyframe requests for a sender that
// answers nothing else (ReadKeyframeRequests: a synthetic camera, a bare
// forwarder). It never forwards, relays, records or parses media itself:
// media/sfu forwards, media/recorder records, media/turn relays
// participants' packets, media/relay carries a stage from one server node
// to another, and media/codec reads codecs' bytes.
package media
