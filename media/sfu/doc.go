// Package sfu forwards a lesson's audio and video: the stage of a lesson
// (who is connected, what each publishes, who is on stage), the publication
// of each track read once into a packet cache and handed out a video frame
// at a time, and a down track per subscriber with its own queue and writer
// (which sends what it finds queued together, through the engine's
// SendBatcher), its own sequence numbers and timestamps, its simulcast
// layer, and the NACKs it answers from the cache.
// It also offers the tracks on stage to subscribers that are not
// participants' connections (a recorder: see media.Subscriber), and tells a
// member's owner of a track its connection negotiated no codec of
// (OnCodecUnsupported). It forwards the tracks of whoever is on stage (or in
// a breakout group, to the others in that group) and nothing of anyone else,
// and it never transcodes, waits for a slow
// subscriber, decodes media, or writes to disk.
package sfu
