package realtime_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pion/webrtc/v4"

	"classroom/domain"
	"classroom/media/mediatest"
	"classroom/media/recorder"
	"classroom/realtime"
	"classroom/realtime/client"
	"classroom/realtime/client/cursortest"
)

// heard keeps the group chat lines a client's data channel carried.
type heard struct {
	mu    sync.Mutex
	lines []string
}

func (h *heard) onEvent(e domain.Event) {
	if p, ok := e.Payload.(*domain.GroupChatPosted); ok {
		h.mu.Lock()
		h.lines = append(h.lines, p.Text)
		h.mu.Unlock()
	}
}

func (h *heard) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.lines)
}

// TestBreakoutGroupStages: six students in three groups, with real pion
// peers. Each student receives its group-mates' camera and microphone and
// nothing of another group's nor of the main stage; the teacher visiting a
// group receives it and is received by it only; a group's chat lines reach
// its members and the teacher, never another group's member; the groups'
// media is recorded labelled by group; the call back's countdown brings
// everyone back to the main stage, where students are forwarded to no one.
func TestBreakoutGroupStages(t *testing.T) {
	dir := t.TempDir()
	ls := startServer(t, openStore(t, "sqlite"), func(c *realtime.Config) {
		c.RecordingsDir = dir
		c.SnapshotEvery = 2 // a latecomer's snapshot holds the group chat below
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	teacher, teacherRx := ls.joinMedia(ctx, domain.RoleTeacher, "Ms Lovelace")
	mustSend(t, ctx, teacher, &domain.LessonStarted{})

	type student struct {
		c     *client.Client
		rx    *receiver
		heard *heard
		group int
	}
	var students []*student
	for i := range 6 {
		s := &student{rx: &receiver{}, heard: &heard{}, group: i / 2}
		c, err := client.Dial(ctx, client.Options{URL: ls.url(), Token: ls.token(domain.RoleStudent, "", time.Hour),
			Name: fmt.Sprint("Student ", i), Loopback: true, OnTrack: s.rx.onTrack, OnEvent: s.heard.onEvent})
		if err != nil {
			t.Fatalf("student %d joins: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
		s.c = c
		students = append(students, s)
	}
	// The students' cameras first, negotiated before the teacher's brings
	// the server's offers (see TestFloor). Small frames: seven cameras share
	// the test machine.
	for _, s := range students {
		mediatest.Start(t, s.c.AddTrack, s.c.Participant(), 15, 600)
	}
	waitFor(t, 20*time.Second, "the students' cameras to be negotiated", func() bool {
		return !slices.ContainsFunc(students, func(s *student) bool { return !negotiated(s.c) })
	})
	mediatest.Start(t, teacher.AddTrack, "teacher", 15, 600)
	waitFor(t, 20*time.Second, "every student to receive the teacher", func() bool {
		return !slices.ContainsFunc(students, func(s *student) bool { return !s.rx.flowing("teacher", webrtc.RTPCodecTypeVideo) })
	})

	groups := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	form := &domain.GroupsFormed{}
	for g, id := range groups {
		form.Groups = append(form.Groups, domain.GroupPlan{ID: id, Name: fmt.Sprint("Group ", g+1),
			Members: []string{students[2*g].c.Participant(), students[2*g+1].c.Participant()}})
	}
	mustSend(t, ctx, teacher, form)

	mates := func(s *student) bool {
		for _, o := range students {
			if o != s && o.group == s.group && (!s.rx.flowing(o.c.Participant(), webrtc.RTPCodecTypeVideo) ||
				!s.rx.flowing(o.c.Participant(), webrtc.RTPCodecTypeAudio)) {
				return false
			}
		}
		return true
	}
	waitFor(t, 30*time.Second, "each student to receive their group-mate", func() bool {
		return !slices.ContainsFunc(students, func(s *student) bool { return !mates(s) })
	})
	waitFor(t, 10*time.Second, "the students in groups to stop receiving the main stage", func() bool {
		return !slices.ContainsFunc(students, func(s *student) bool { return s.rx.flowing("teacher", webrtc.RTPCodecTypeVideo) })
	})
	// Nothing of another group was ever sent to anyone: no track at all.
	otherGroups := func(when string) {
		t.Helper()
		for i, s := range students {
			for _, o := range students {
				if o.group == s.group {
					continue
				}
				for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
					if got := s.rx.from(o.c.Participant(), kind); len(got) > 0 {
						t.Fatalf("%s: student %d (group %d) was sent %s of student %s of group %d", when, i, s.group+1, kind,
							o.c.Participant(), o.group+1)
					}
				}
			}
		}
	}
	otherGroups("in groups")
	for _, s := range students {
		if len(teacherRx.from(s.c.Participant(), webrtc.RTPCodecTypeVideo)) > 0 {
			t.Fatalf("the teacher, in the main room, was sent student %s's camera", s.c.Participant())
		}
	}

	// The groups' media is recorded, each track labelled with its group.
	recordedFrom := mustSend(t, ctx, teacher, &domain.RecordingStarted{})
	time.Sleep(2 * time.Second)
	mustSend(t, ctx, teacher, &domain.RecordingStopped{})

	// The teacher visits group 2: it receives them, and they the teacher.
	mustSend(t, ctx, teacher, &domain.GroupJoined{Group: groups[1]})
	waitFor(t, 20*time.Second, "the teacher and group 2 to receive each other", func() bool {
		for _, s := range students[2:4] {
			if !teacherRx.flowing(s.c.Participant(), webrtc.RTPCodecTypeVideo) || !s.rx.flowing("teacher", webrtc.RTPCodecTypeVideo) {
				return false
			}
		}
		return true
	})
	time.Sleep(500 * time.Millisecond)
	for i, s := range students {
		if s.group != 1 && s.rx.flowing("teacher", webrtc.RTPCodecTypeVideo) {
			t.Fatalf("student %d of group %d receives the teacher visiting group 2", i, s.group+1)
		}
		if s.group != 1 && teacherRx.flowing(s.c.Participant(), webrtc.RTPCodecTypeVideo) {
			t.Fatalf("the teacher visiting group 2 receives student %d of group %d", i, s.group+1)
		}
	}

	// Group chat: to the group and the teacher only.
	mustSend(t, ctx, students[0].c, &domain.GroupChatPosted{Group: groups[0], Text: "group 1 only"})
	mustSend(t, ctx, teacher, &domain.GroupChatPosted{Group: groups[2], Text: "group 3 only"})
	if _, err := send(ctx, students[2].c, &domain.GroupChatPosted{Group: groups[0], Text: "let me in"}); domain.ErrorCode(err) != domain.CodeForbidden {
		t.Fatalf("a student chatting in another group: %v, want forbidden", err)
	}
	last := mustSend(t, ctx, teacher, &domain.GroupsMessaged{Text: "Two minutes"})
	waitFor(t, 10*time.Second, "every student to have the teacher's message", func() bool {
		return !slices.ContainsFunc(students, func(s *student) bool { return s.c.Seq() < last })
	})
	want := [][]string{{"group 1 only"}, nil, {"group 3 only"}}
	for i, s := range students {
		if got := s.heard.all(); !slices.Equal(got, want[s.group]) {
			t.Errorf("student %d of group %d was sent the group lines %q, want %q", i, s.group+1, got, want[s.group])
		}
		if err := s.c.Err(); err != nil {
			t.Errorf("student %d: %v", i, err)
		}
	}
	if got := teacher.State().Group(groups[0]).Chat; len(got) != 1 || got[0].Text != "group 1 only" {
		t.Errorf("the teacher's state holds group 1's chat %+v", got)
	}
	// A student joining now is sent a snapshot without any group's chat.
	late := &heard{}
	latecomer, err := ls.join(ctx, domain.RoleStudent, "Late", late.onEvent)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { latecomer.Close() })
	for g, id := range groups {
		if got := latecomer.State().Group(id).Chat; len(got) > 0 {
			t.Errorf("a latecomer in no group was sent group %d's chat %+v", g+1, got)
		}
	}

	// Called back: in a second, everyone is on the main stage again, where
	// students are forwarded to nobody and everyone receives the teacher.
	mustSend(t, ctx, teacher, &domain.GroupsRecalled{Seconds: 1})
	waitFor(t, 20*time.Second, "everyone back on the main stage", func() bool {
		for _, s := range students {
			if !s.rx.flowing("teacher", webrtc.RTPCodecTypeVideo) {
				return false
			}
			for _, o := range students {
				if o != s && s.rx.flowing(o.c.Participant(), webrtc.RTPCodecTypeVideo) {
					return false
				}
			}
		}
		return true
	})
	time.Sleep(500 * time.Millisecond)
	for _, s := range students {
		if teacherRx.flowing(s.c.Participant(), webrtc.RTPCodecTypeVideo) {
			t.Fatalf("back in the main room, the teacher still receives student %s", s.c.Participant())
		}
	}
	otherGroups("after the call back")
	// The room ended the groups in the log when the countdown was over, as
	// the teacher's page would have: a teacher ending them now is refused.
	waitFor(t, 10*time.Second, "the groups ended after the call back", func() bool {
		b := teacher.State().Breakout
		return b != nil && !b.Open
	})
	if _, err := teacher.Send(ctx, &domain.GroupsEnded{}); domain.ErrorCode(err) != domain.CodeConflict {
		t.Fatalf("ending the groups the room has ended: %v", err)
	}

	recs, err := recorder.ListRecordings(filepath.Join(dir, ls.lesson.String()))
	if err != nil {
		t.Fatal(err)
	}
	labelled := map[string]string{}
	for _, r := range recs {
		if r.Segment == recordedFrom && r.Kind == "video" {
			labelled[r.Participant] = r.Group
		}
	}
	for i, s := range students {
		if got, ok := labelled[s.c.Participant()]; !ok || got != groups[s.group].String() {
			t.Errorf("student %d's camera recorded labelled %q (recorded: %v), want group %s", i, got, ok, groups[s.group])
		}
	}
	if got, ok := labelled["teacher"]; !ok || got != "" {
		t.Errorf("the teacher, in the main room, recorded labelled %q (recorded: %v)", got, ok)
	}
}

// TestGroupsEndAfterCallBack: the room ends the groups in the log when a
// call back's countdown is over, whatever wakes it: a call back of 0
// seconds at once, and, when no teacher was present as the countdown ran
// out, the teacher who comes back.
func TestGroupsEndAfterCallBack(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	teacher, err := ls.join(ctx, domain.RoleTeacher, "Ms Lovelace", nil)
	if err != nil {
		t.Fatal(err)
	}
	mustSend(t, ctx, teacher, &domain.LessonStarted{})
	student, err := ls.join(ctx, domain.RoleStudent, "Ada", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { student.Close() })
	form := func() {
		t.Helper()
		mustSend(t, ctx, teacher, &domain.GroupsFormed{Groups: []domain.GroupPlan{
			{ID: uuid.New(), Name: "Group 1", Members: []string{student.Participant()}}}})
	}
	ended := func(c *client.Client) func() bool {
		return func() bool { b := c.State().Breakout; return b != nil && !b.Open }
	}

	form()
	mustSend(t, ctx, teacher, &domain.GroupsRecalled{Seconds: 0})
	waitFor(t, 10*time.Second, "the groups ended after a call back of 0 seconds", ended(student))

	// The teacher calls back and leaves before the countdown is over: the
	// groups stay open, nobody being there to end them, until a teacher
	// comes back.
	form()
	mustSend(t, ctx, teacher, &domain.GroupsRecalled{Seconds: 1})
	teacher.Close()
	waitFor(t, 10*time.Second, "the teacher gone", func() bool {
		p := student.State().Participants[teacher.Participant()]
		return p != nil && !p.Present
	})
	time.Sleep(1500 * time.Millisecond)
	if b := student.State().Breakout; b == nil || !b.Open {
		t.Fatalf("with no teacher present the groups were ended: %+v", b)
	}
	back, err := ls.join(ctx, domain.RoleTeacher, "Ms Lovelace", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { back.Close() })
	waitFor(t, 10*time.Second, "the groups ended when a teacher came back", ended(student))
}

// TestBreakoutGroupCursors: with real pion peers, while breakout groups are
// open, a cursor reaches only those on its sender's board: its group's
// members, the teacher when visiting the group, and, from the main room,
// the main room; once the groups end, everyone again.
func TestBreakoutGroupCursors(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The teacher, two students in each of groups A and B, one in the
	// main room.
	class := &cursortest.Class{}
	for i, name := range []string{"teacher", "A1", "A2", "B1", "B2", "M"} {
		role, participant := domain.RoleStudent, ""
		if i == 0 {
			role, participant = domain.RoleTeacher, "teacher"
		}
		m := &cursortest.Participant{Name: name}
		c, err := client.Dial(ctx, client.Options{URL: ls.url(), Token: ls.token(role, participant, time.Hour),
			Name: name, Loopback: true, OnEphemeral: m.OnEphemeral})
		if err != nil {
			t.Fatalf("%s joins: %v", name, err)
		}
		t.Cleanup(func() { c.Close() })
		m.Client = c
		class.All = append(class.All, m)
	}
	teacher := class.All[0]
	for _, m := range class.All {
		ls.present(m.Client)
	}
	mustSend(t, ctx, teacher.Client, &domain.LessonStarted{})
	// Each command applied once every client has it: the server decided
	// who is where before it sent it.
	class.Breakout(t, func(p domain.Payload) {
		t.Helper()
		seq := mustSend(t, ctx, teacher.Client, p)
		for _, m := range class.All {
			waitFor(t, 10*time.Second, m.Name+" to have seq "+fmt.Sprint(seq), func() bool { return m.Client.Seq() >= seq })
		}
	})
	for _, m := range class.All {
		if err := m.Client.Err(); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
	}
}
