// Package media forwards a lesson's audio and video (the SFU) and relays
// participants' media through an embedded TURN server when their network
// needs one.
package media
