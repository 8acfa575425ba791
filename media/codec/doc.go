// Package codec reads the bytes of the codecs the server forwards and
// records: whether an RTP payload starts a keyframe (VP8, H.264, AV1), a
// VP8 frame's type and size, an H.264 access unit's units, keyframe,
// decoder configuration and picture size, and its length-prefixed form
// for a container, and an AV1 temporal unit's OBUs, keyframe, decoder
// configuration (from its sequence header) and picture size. It owns every parse of a codec's payload format, so
// that forwarding and recording agree on what a keyframe is; it keeps no
// state, does no I/O, and never changes the bytes it is given.
package codec
