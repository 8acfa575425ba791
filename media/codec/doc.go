// Package codec reads the bytes of the codecs the server forwards and
// records: whether an RTP payload starts a keyframe (VP8, H.264), a VP8
// frame's type and size, and an H.264 access unit's units, keyframe,
// decoder configuration and picture size, and its length-prefixed form
// for a container. It owns every parse of a codec's payload format, so
// that forwarding and recording agree on what a keyframe is; it keeps no
// state, does no I/O, and never changes the bytes it is given.
package codec
