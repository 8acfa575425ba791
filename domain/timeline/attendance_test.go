package timeline_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/domain/timeline"
)

// scriptedLesson is a lesson with every event at a known time: t0 plus the
// minute and second given.
type scriptedLesson struct {
	t      *testing.T
	st     *domain.State
	log    []domain.Event
	t0     time.Time
	lesson uuid.UUID
}

func newScripted(t *testing.T) *scriptedLesson {
	s := &scriptedLesson{t: t, st: domain.NewState(), t0: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), lesson: uuid.New()}
	ev, err := domain.NewLesson(s.lesson, uuid.New(), "Attendance", s.t0)
	if err != nil {
		t.Fatal(err)
	}
	s.store(ev)
	return s
}

func (s *scriptedLesson) store(e domain.Event) {
	e.Seq = int64(len(s.log)) + 1
	s.st.Apply(e)
	s.log = append(s.log, e)
}

// at sends a command at minute:second after t0; it must be accepted.
func (s *scriptedLesson) at(min, sec int, actor string, role domain.Role, p domain.Payload) {
	s.t.Helper()
	e, err := domain.Decide(s.st, domain.Command{ID: uuid.New(), Actor: actor, Role: role, Payload: p},
		s.t0.Add(time.Duration(min)*time.Minute+time.Duration(sec)*time.Second))
	if err != nil {
		s.t.Fatalf("%s by %s: %v", p.Kind(), actor, err)
	}
	s.store(e)
}

func pen(slide int) *domain.StrokeDrawn {
	return &domain.StrokeDrawn{Object: uuid.New(), Slide: domain.Slide{Page: slide}, Tool: domain.ToolPen, Color: "#000000",
		Width: 2, Points: domain.Points{{X: 1, Y: 2, T: 0, Pressure: 0.5}}}
}

// TestAttendance: the attendance of a scripted lesson is the expected table
// exactly, and the same computed from the log, from its JSON export read
// back, and at every point of the lesson as a live room would have it (each
// prefix of the log is what a room had when it was there, and what a room
// restarted after a crash reads back). Bob's connection is lost with no
// leave; the server notices at 0:40 and records it, as after a crash.
func TestAttendance(t *testing.T) {
	const T, S = domain.RoleTeacher, domain.RoleStudent
	s := newScripted(t)
	s.at(0, 0, "tina", T, &domain.ParticipantJoined{Name: "Tina"})
	s.at(0, 10, "ann", S, &domain.ParticipantJoined{Name: "Ann"})
	s.at(1, 0, "tina", T, &domain.LessonStarted{})
	s.at(2, 0, "bob", S, &domain.ParticipantJoined{Name: "Bob"})
	s.at(3, 0, "tina", T, &domain.DrawingPermitted{Allowed: true})
	s.at(4, 0, "ann", S, pen(0))
	s.at(4, 30, "ann", S, &domain.ShapeAdded{Object: uuid.New(), Shape: domain.ShapeLine, Color: "#000000", Width: 1})
	s.at(5, 0, "ann", S, &domain.HandRaised{})
	s.at(6, 0, "tina", T, &domain.FloorGranted{Participant: "ann"})
	s.at(8, 30, "tina", T, &domain.FloorRevoked{Participant: "ann"})
	s.at(9, 0, "ann", S, &domain.ParticipantLeft{})                 // a reload:
	s.at(9, 5, "ann", S, &domain.ParticipantJoined{Name: "Ann B."}) // 5 s away
	s.at(9, 6, "ann", S, &domain.ParticipantJoined{Name: "Ann B."}) // a reconnect while present counts once
	s.at(10, 0, "bob", S, &domain.ChatPosted{Text: "hello"})
	s.at(10, 1, "bob", S, &domain.ChatPosted{Text: "again"})
	s.at(11, 0, "tina", T, &domain.ChatPosted{Text: "hi"})
	s.at(12, 0, "ann", S, &domain.HandRaised{})
	s.at(12, 30, "ann", S, &domain.HandLowered{Participant: "ann"})
	s.at(13, 0, "tina", T, &domain.FloorGranted{Participant: "bob"})
	s.at(14, 0, "tina", T, &domain.LobbyChanged{On: true})
	s.at(14, 10, "cat", S, &domain.ParticipantWaiting{Name: "Cat"})
	s.at(15, 0, "tina", T, &domain.ParticipantAdmitted{Participant: "cat"})
	s.at(15, 2, "cat", S, &domain.ParticipantJoined{Name: "Cat"})
	s.at(16, 0, "cat", S, pen(1))
	s.at(17, 0, "tina", T, &domain.ParticipantRemoved{Participant: "cat"})
	quiz, lost := uuid.MustParse("00000000-0000-4000-8000-000000000001"), uuid.MustParse("00000000-0000-4000-8000-000000000002")
	s.at(18, 0, "tina", T, &domain.PollAsked{Poll: quiz, Question: "=1+1?", Choices: []string{"1", "2"}, Correct: []int{1}})
	s.at(18, 10, "ann", S, &domain.PollAnswered{Poll: quiz, Choices: []int{0}})
	s.at(18, 20, "bob", S, &domain.PollAnswered{Poll: quiz, Choices: []int{0}})
	s.at(18, 30, "ann", S, &domain.PollAnswered{Poll: quiz, Choices: []int{1}}) // changes her mind
	s.at(19, 0, "tina", T, &domain.PollClosed{Poll: quiz})
	s.at(20, 0, "tina", T, &domain.PollAsked{Poll: lost, Question: "Lost?", Choices: []string{"Yes", "No", "Not sure"}, Anonymous: true})
	s.at(20, 10, "ann", S, &domain.PollAnswered{Poll: lost, Choices: []int{2}, Anonymous: true})
	s.at(21, 0, "tina", T, &domain.PollClosed{Poll: lost})
	s.at(22, 0, "tina", T, &domain.PollAsked{Poll: uuid.MustParse("00000000-0000-4000-8000-000000000003"), Question: "Why?"})
	s.at(22, 10, "bob", S, &domain.PollAnswered{Poll: uuid.MustParse("00000000-0000-4000-8000-000000000003"), Text: "Because\nit is"})
	// A line in a breakout group counts as chat, the teacher's too.
	group := uuid.MustParse("00000000-0000-4000-8000-000000000004")
	s.at(23, 0, "tina", T, &domain.GroupsFormed{Groups: []domain.GroupPlan{{ID: group, Name: "A", Members: []string{"ann", "bob"}}}})
	s.at(23, 10, "ann", S, &domain.GroupChatPosted{Group: group, Text: "we start", Members: []string{"ann", "bob"}})
	s.at(23, 20, "tina", T, &domain.GroupChatPosted{Group: group, Text: "good", Members: []string{"ann", "bob"}})
	s.at(24, 0, "tina", T, &domain.GroupsEnded{})
	// Bob's server dies at 0:30 with Bob on the floor; the restarted one
	// finds him gone and records it at 0:40.
	s.at(40, 0, "bob", S, &domain.ParticipantLeft{Reason: domain.LeftAbsent})
	s.at(45, 0, "tina", T, &domain.LessonEnded{})
	s.at(45, 1, "ann", S, &domain.ParticipantLeft{})
	s.at(45, 2, "tina", T, &domain.ParticipantLeft{})

	const want = `participant,name,role,first_join,last_leave,present,hands,floor,on_floor,strokes,objects,chat,removed,answers,quiz_right,quizzes,absent
tina,Tina,teacher,2026-03-02T09:00:00Z,2026-03-02T09:45:02Z,0:45:02.000,0,0,0:00:00.000,0,0,2,false,0,0,0,false
ann,Ann B.,student,2026-03-02T09:00:10Z,2026-03-02T09:45:01Z,0:44:46.000,2,1,0:02:30.000,1,1,1,false,2,1,1,false
bob,Bob,student,2026-03-02T09:02:00Z,2026-03-02T09:40:00Z,0:38:00.000,0,1,0:27:00.000,0,0,2,false,2,0,1,false
cat,Cat,student,2026-03-02T09:15:02Z,2026-03-02T09:17:00Z,0:01:58.000,0,0,0:00:00.000,1,0,0,true,0,0,1,false
`
	var buf bytes.Buffer
	if _, err := timeline.WriteAttendanceCSV(&buf, fromSlice(s.log)); err != nil {
		t.Fatal(err)
	}
	if buf.String() != want {
		t.Fatalf("attendance:\n%s\nwant:\n%s", buf.String(), want)
	}
	if _, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll(); err != nil {
		t.Fatal(err)
	}

	live, _, err := timeline.AttendanceOf(fromSlice(s.log))
	if err != nil {
		t.Fatal(err)
	}
	if got := live.Participants[1].Presence; len(got) != 2 || got[0].To.Sub(got[0].From) != 8*time.Minute+50*time.Second {
		t.Fatalf("ann's presence %v: want two intervals, the first 8:50 long", got)
	}
	liveJSON, _ := json.Marshal(live)

	// With the course's roster, those enrolled who never came follow as
	// absent; those who came are not listed twice.
	withRoster := live
	withRoster.Participants = slices.Clone(live.Participants)
	withRoster.AddAbsent([]timeline.Member{{ID: "bob", Name: "Bob", Role: S}, {ID: "dan", Name: "Dan", Role: S}})
	var rosterCSV bytes.Buffer
	if err := withRoster.WriteCSV(&rosterCSV); err != nil {
		t.Fatal(err)
	}
	if got, wantRows := rosterCSV.String(), want+"dan,Dan,student,,,0:00:00.000,0,0,0:00:00.000,0,0,0,false,0,0,0,true\n"; got != wantRows {
		t.Fatalf("attendance with the roster:\n%s\nwant:\n%s", got, wantRows)
	}

	// From the export, read back.
	for f := range logFormats {
		r, err := timeline.NewReader(bytes.NewReader(export(t, f, s.log)), timeline.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		var read []domain.Event
		for {
			e, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			read = append(read, e)
		}
		var out bytes.Buffer
		if _, err := timeline.WriteAttendanceJSON(&out, fromSlice(read)); err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(out.String()); got != string(liveJSON) {
			t.Fatalf("%s export: attendance\n%s\nwant\n%s", logFormats[f].name, got, liveJSON)
		}
	}

	// Mid-lesson (as a room had it, or reads it back after a crash): the
	// open presence and floor count up to the last event.
	mid, _, err := timeline.AttendanceOf(fromSlice(s.log[:22])) // up to 0:14:10
	if err != nil {
		t.Fatal(err)
	}
	bob := mid.Participants[2]
	if bob.ID != "bob" || bob.LastLeave != nil || time.Duration(bob.Present) != 12*time.Minute+10*time.Second ||
		time.Duration(bob.OnFloor) != time.Minute+10*time.Second || mid.Until != s.t0.Add(14*time.Minute+10*time.Second) {
		t.Fatalf("bob at 0:14:10: %+v (until %v)", bob, mid.Until)
	}
	if len(mid.Participants) != 3 {
		t.Fatalf("a waiting student is in the attendance: %+v", mid.Participants)
	}

	// One row per final answer; an anonymous poll's rows name nobody.
	const polls = `poll,asked,question,type,anonymous,participant,name,answer,choices,correct,answered
00000000-0000-4000-8000-000000000001,2026-03-02T09:18:00Z,'=1+1?,single,false,ann,Ann B.,2,2,true,2026-03-02T09:18:30Z
00000000-0000-4000-8000-000000000001,2026-03-02T09:18:00Z,'=1+1?,single,false,bob,Bob,1,1,false,2026-03-02T09:18:20Z
00000000-0000-4000-8000-000000000002,2026-03-02T09:20:00Z,Lost?,single,true,,,Not sure,3,,2026-03-02T09:20:10Z
00000000-0000-4000-8000-000000000003,2026-03-02T09:22:00Z,Why?,text,false,bob,Bob,Because it is,,,2026-03-02T09:22:10Z
`
	buf.Reset()
	if _, err := timeline.WritePollsCSV(&buf, fromSlice(s.log)); err != nil {
		t.Fatal(err)
	}
	if buf.String() != polls {
		t.Fatalf("polls:\n%s\nwant:\n%s", buf.String(), polls)
	}
}
