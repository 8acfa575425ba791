package sfu

import (
	"log/slog"
	"slices"
	"testing"

	"github.com/pion/webrtc/v4"

	"classroom/media"
)

// stageLog is a subscriber that keeps what the stage tells it.
type stageLog struct {
	told   [][]media.Track
	closed bool
}

func (l *stageLog) OnStage(tracks []media.Track) { l.told = append(l.told, tracks) }
func (l *stageLog) StageClosed()                 { l.closed = true }

func (l *stageLog) last() []media.Track { return l.told[len(l.told)-1] }

// TestSubscriberTracks: a subscriber is told at once, and at every change,
// the first layer of every live track of whoever is on stage; when the
// stage closes, no tracks, then that it closed.
func TestSubscriberTracks(t *testing.T) {
	s := NewStage(slog.New(slog.DiscardHandler))
	low, _ := testPublication()
	high, _ := testPublication() // another layer of the same camera
	mic, _ := testPublication()
	mic.kind = webrtc.RTPCodecTypeAudio
	teacher := &Member{stage: s, id: "teacher", downs: map[*publication]*downTrack{}, pubs: []*publication{low, high, mic}}
	for _, p := range teacher.pubs {
		p.owner = teacher
	}
	s.members[teacher] = struct{}{}
	s.onStage["teacher"] = true

	var l stageLog
	s.Subscribe(&l)
	if got := l.last(); len(l.told) != 1 || !slices.Equal(got, []media.Track{low, mic}) {
		t.Fatalf("told %d times, last %v; want once, the first layer and the microphone", len(l.told), got)
	}
	s.SetOnStage()
	if got := l.last(); len(got) != 0 {
		t.Fatalf("with nobody on stage, told %d tracks", len(got))
	}
	close(mic.done) // the microphone's track ends
	s.SetOnStage("teacher")
	if got := l.last(); !slices.Equal(got, []media.Track{low}) {
		t.Fatalf("told %v, want the camera's first layer alone", got)
	}
	s.Close()
	if got := l.last(); len(got) != 0 || !l.closed {
		t.Fatalf("on closing: told %d tracks, closed %v", len(got), l.closed)
	}
	var late stageLog
	s.Subscribe(&late)
	if len(late.told) != 1 || len(late.last()) != 0 || !late.closed {
		t.Fatal("a subscriber of a closed stage is not told at once that it closed")
	}
}
