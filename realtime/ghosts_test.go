package realtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/realtime"
)

// leaves returns the reason of each participant's last leave in the log.
func (ls *lessonServer) leaves() map[string]string {
	ls.t.Helper()
	out := map[string]string{}
	for e, err := range ls.store.Events(context.Background(), ls.lesson, 0) {
		if err != nil {
			ls.t.Fatal(err)
		}
		if p, ok := e.Payload.(*domain.ParticipantLeft); ok {
			out[e.Actor] = p.Reason
		}
	}
	return out
}

// noOnePresent fails the test if the log lists anyone as present, or a
// raised hand, or a floor.
func (ls *lessonServer) noOnePresent(when string) {
	ls.t.Helper()
	st := ls.replay()
	for id, p := range st.Participants {
		if p.Present {
			ls.t.Errorf("%s: %s (%s) is still present", when, id, p.Name)
		}
	}
	if len(st.Hands) > 0 || st.Floor != "" {
		ls.t.Errorf("%s: hands %v and floor %q remain", when, st.Hands, st.Floor)
	}
}

// ghost stores the join of a participant, as a server killed before it
// stored their leave would have left it.
func (ls *lessonServer) ghost(id string, events ...domain.Payload) {
	ls.t.Helper()
	role := domain.RoleStudent
	if id == "teacher" {
		role = domain.RoleTeacher
	}
	for _, p := range append([]domain.Payload{&domain.ParticipantJoined{Name: "Ghost " + id}}, events...) {
		ev := domain.Event{ID: uuid.New(), Lesson: ls.lesson, Version: domain.EventVersion, Actor: id, Role: role,
			Time: time.Now().UTC().Truncate(time.Microsecond), Payload: p}
		if _, errs, err := ls.store.Append(context.Background(), ev); err != nil || errs[0] != nil {
			ls.t.Fatalf("store %s: %v %v", p.Kind(), err, errs)
		}
	}
}

// TestGracefulStopStoresLeaves: a graceful stop of the server stores the
// leaves of everyone connected, so that the lesson lists no ghosts, and the
// clients are told to reconnect; a client's Close returns once its leave is
// stored.
func TestGracefulStopStoresLeaves(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	student := ls.mustJoin(ctx, domain.RoleStudent, "Bob")
	mustSend(t, ctx, teacher, &domain.LessonStarted{})
	mustSend(t, ctx, student, &domain.HandRaised{})
	ls.restart()
	ls.noOnePresent("after a graceful stop")
	// The bye was sent before the server stopped; the client reads it on
	// its own goroutine.
	waitFor(t, 10*time.Second, "the student's bye", func() bool { return student.Bye() != nil })
	if bye := student.Bye(); bye == nil || bye.Code != domain.CodeUnavailable {
		t.Fatalf("the student was told %+v, want a bye with unavailable", bye)
	}
	if err := student.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	ls.present(student)
	student.Close()
	ls.noOnePresent("once the student's Close returned") // at once: no waiting
}

// TestAbsentLeave: participants the log lists as present whom no session
// brings back within AbsentAfter of the room opening are recorded as gone,
// with the reason absent; one who comes back in time is not; and ending a
// lesson records the leave of everyone still present.
func TestAbsentLeave(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), func(c *realtime.Config) { c.AbsentAfter = 2 * time.Second })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ls.ghost("teacher") // the teacher, back in time
	ls.ghost("carol", &domain.HandRaised{})
	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	waitFor(t, 10*time.Second, "carol's leave", func() bool { return ls.leaves()["carol"] == domain.LeftAbsent })
	if p := ls.replay().Participants["teacher"]; p == nil || !p.Present {
		t.Fatal("the teacher, who came back in time, was recorded as gone")
	}
	if st := ls.replay(); len(st.Hands) != 0 {
		t.Fatalf("carol's hand is still raised: %v", st.Hands)
	}

	// A student connected and a ghost when the lesson ends.
	student := ls.mustJoin(ctx, domain.RoleStudent, "Bob")
	ls.ghost("dave")
	mustSend(t, ctx, teacher, &domain.LessonEnded{})
	waitFor(t, 10*time.Second, "the leaves at the end", func() bool { return !ls.replay().Participants["dave"].Present })
	ls.noOnePresent("after the lesson ended")
	left := ls.leaves()
	if left["dave"] != domain.LeftAbsent || left["teacher"] != "" || left[student.Participant()] != "" {
		t.Fatalf("leave reasons %v: want dave absent, the others none", left)
	}
	converge(t, ls, teacher, student)
}

// TestEndedLessonGhosts: a lesson that ended with ghosts in it (stored
// before the server recorded leaves at the end) loses them when it is
// opened, though no one may join it.
func TestEndedLessonGhosts(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ls.ghost("erin")
	ev := domain.Event{ID: uuid.New(), Lesson: ls.lesson, Version: domain.EventVersion, Role: domain.RoleTeacher, Actor: "teacher",
		Time: time.Now().UTC().Truncate(time.Microsecond), Payload: &domain.LessonEnded{}}
	if _, errs, err := ls.store.Append(ctx, ev); err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	if _, err := ls.join(ctx, domain.RoleStudent, "Frank", nil); domain.ErrorCode(err) != domain.CodeConflict {
		t.Fatalf("joining an ended lesson: %v, want conflict", err)
	}
	waitFor(t, 10*time.Second, "erin's leave", func() bool { return ls.leaves()["erin"] == domain.LeftAbsent })
}
