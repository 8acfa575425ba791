package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pion/webrtc/v4"

	"classroom/domain"
	"classroom/media/mediatest"
	"classroom/realtime/client"
)

// videoTally counts the video packets a client is sent, by publisher.
type videoTally struct {
	mu   sync.Mutex
	from map[string]*atomic.Int64
}

func (v *videoTally) counter(publisher string) *atomic.Int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.from == nil {
		v.from = map[string]*atomic.Int64{}
	}
	if v.from[publisher] == nil {
		v.from[publisher] = new(atomic.Int64)
	}
	return v.from[publisher]
}

func (v *videoTally) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	if tr.Kind() != webrtc.RTPCodecTypeVideo {
		return
	}
	n := v.counter(tr.StreamID())
	for {
		if _, _, err := tr.ReadRTP(); err != nil {
			return
		}
		n.Add(1)
	}
}

func (v *videoTally) says(who, publisher string) func() string {
	return func() string {
		return fmt.Sprintf("%s has %d video packets of %s", who, v.counter(publisher).Load(), publisher)
	}
}

// TestGroupAcrossNodes: two nodes on one PostgreSQL, the teacher and one
// student on node A, another student on node B. Put in one breakout group,
// the two students receive each other's camera, over the nodes' relay,
// while the teacher in the main room receives neither; the groups' end
// takes them back to the main stage, where neither is forwarded.
func TestGroupAcrossNodes(t *testing.T) {
	db := nodesDB(t)
	key := filepath.Join(t.TempDir(), "token.key")
	a, _ := mediaNode(t, db, key)
	b, _ := mediaNode(t, db, key)
	lesson := createClass(t, a, "Groups across nodes")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	atTeacher := &videoTally{}
	teacher, _ := teach(ctx, t, a, lesson, 15, 600, atTeacher.onTrack)
	var students [2]*client.Client
	var tallies [2]*videoTally
	for i, node := range []*server{a, b} {
		tallies[i] = &videoTally{}
		c, err := client.Dial(ctx, client.Options{URL: "ws://" + node.addr + "/api/lessons/" + lesson.ID + "/ws",
			Token: lesson.Students.Token, Name: fmt.Sprint("Student ", i), Loopback: true, OnTrack: tallies[i].onTrack})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		students[i] = c
	}
	for i, s := range students {
		waitFor(t, tallies[i].says(fmt.Sprint("student ", i), teacher.Participant()), 20*time.Second, func() bool {
			return tallies[i].counter(teacher.Participant()).Load() >= 30
		})
		// The camera once the teacher's tracks are negotiated (see
		// TestMediaAcrossNodes).
		mediatest.Start(t, s.AddTrack, fmt.Sprint("student", i), 15, 600)
	}
	time.Sleep(2 * time.Second) // the students' offers answered

	group := uuid.New()
	if _, err := teacher.Send(ctx, &domain.GroupsFormed{Groups: []domain.GroupPlan{{ID: group, Name: "Across",
		Members: []string{students[0].Participant(), students[1].Participant()}}}}); err != nil {
		t.Fatal(err)
	}
	for i := range students {
		other := students[1-i].Participant()
		waitFor(t, tallies[i].says(fmt.Sprint("student ", i), other), 30*time.Second, func() bool {
			return tallies[i].counter(other).Load() >= 30
		})
	}
	for _, s := range students {
		if n := atTeacher.counter(s.Participant()).Load(); n > 0 {
			t.Fatalf("the teacher in the main room was sent %d packets of student %s in a group", n, s.Participant())
		}
	}

	if _, err := teacher.Send(ctx, &domain.GroupsEnded{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // the tracks taken away, what was on its way arrived
	var before [2]int64
	for i := range students {
		before[i] = tallies[i].counter(students[1-i].Participant()).Load()
	}
	time.Sleep(2 * time.Second)
	for i := range students {
		if n := tallies[i].counter(students[1-i].Participant()).Load() - before[i]; n > 0 {
			t.Fatalf("back in the main room, student %d was sent %d more packets of the other", i, n)
		}
	}
}
