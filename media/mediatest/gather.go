package mediatest

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// StartGathering makes pc offer a data channel and start gathering its ICE
// candidates. The function it returns waits for gathering to complete,
// failing the test after 15 s; pc's local description then holds every
// candidate.
func StartGathering(t testing.TB, pc *webrtc.PeerConnection) (wait func()) {
	t.Helper()
	if _, err := pc.CreateDataChannel("chat", nil); err != nil {
		t.Fatal(err)
	}
	return Gather(t, pc)
}

// Gather makes pc offer what it has (a WHEP player's receiving sections,
// say) and start gathering, as StartGathering does without adding a data
// channel.
func Gather(t testing.TB, pc *webrtc.PeerConnection) (wait func()) {
	t.Helper()
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		select {
		case <-gathered:
		case <-time.After(15 * time.Second):
			t.Fatal("gathering did not complete in 15 s")
		}
	}
}
