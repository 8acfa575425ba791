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

// TestSubscriberGroupTracks: the tracks of someone in a breakout group are
// offered labelled with the group, whether or not they are on the main
// stage, as the same track while the group stays and as another when it
// changes; MainStage leaves them out.
func TestSubscriberGroupTracks(t *testing.T) {
	s := NewStage(slog.New(slog.DiscardHandler))
	member := func(id string) *publication {
		p, _ := testPublication()
		pc, err := webrtc.NewPeerConnection(webrtc.Configuration{}) // forwarded to as the groups say
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		m := &Member{stage: s, id: id, pc: pc, downs: map[*publication]*downTrack{}, pubs: []*publication{p}}
		p.owner = m
		s.members[m] = struct{}{}
		return p
	}
	teacher, ann, bob := member("teacher"), member("ann"), member("bob")
	s.onStage["teacher"] = true
	var l stageLog
	s.Subscribe(&l)
	s.SetGroups(map[string]string{"ann": "blue"})
	got := l.last()
	if len(got) != 2 {
		t.Fatalf("told %v, want the teacher's camera and ann's labelled", got)
	}
	labelled := func(tracks []media.Track, p *publication) media.Track {
		for _, tr := range tracks {
			if gt, ok := tr.(*groupTrack); ok && gt.publication == p {
				return tr
			}
		}
		return nil
	}
	annBlue := labelled(got, ann)
	if annBlue == nil || annBlue.Group() != "blue" || annBlue.Participant() != "ann" || !slices.Contains(got, media.Track(teacher)) {
		t.Fatalf("told %v: ann's camera not labelled blue beside the teacher's", got)
	}
	if labelled(got, bob) != nil || slices.Contains(got, media.Track(bob)) {
		t.Fatal("bob, in the main room without the floor, is offered")
	}
	if main := MainStage(got); !slices.Equal(main, []media.Track{teacher}) {
		t.Fatalf("the main stage is %v, want the teacher's camera", main)
	}

	s.SetGroups(map[string]string{"ann": "blue", "bob": "blue", "teacher": "blue"}) // the teacher visits
	got = l.last()
	if labelled(got, ann) != annBlue || labelled(got, bob) == nil || labelled(got, teacher) == nil || len(MainStage(got)) != 0 {
		t.Fatalf("told %v: want ann's the same track, bob's and the visiting teacher's labelled, nothing on the main stage", got)
	}
	s.SetGroups(map[string]string{"ann": "red"})
	got = l.last()
	if moved := labelled(got, ann); moved == nil || moved == annBlue || moved.Group() != "red" {
		t.Fatalf("ann moved to red is offered as %v", moved)
	}
	s.SetGroups(nil)
	if got := l.last(); !slices.Equal(got, []media.Track{teacher}) {
		t.Fatalf("once the groups end, told %v, want the teacher's camera alone", got)
	}
	s.Close()
}
