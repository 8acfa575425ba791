package realtime_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/realtime"
	"classroom/realtime/client"
)

// sent is a command sent with a chosen id, by whom, and the sequence its
// ack gave.
type sent struct {
	by      *client.Client
	id      uuid.UUID
	payload domain.Payload
	seq     int64
}

// everyKind sends 13 commands of 12 kinds, the ones the issue lists, and
// returns them with their acks.
func everyKind(t *testing.T, ctx context.Context, teacher, student *client.Client) []sent {
	t.Helper()
	stroke := strokeOf(1, 0)
	more := *strokeOf(2, 0)
	more.Object, more.Part, more.Tool, more.Color, more.Width = stroke.Object, 1, "", "", 0
	shape := uuid.New()
	text := uuid.New()
	cmds := []sent{
		{by: teacher, payload: &domain.LessonStarted{}},
		{by: teacher, payload: &domain.DrawingPermitted{Allowed: true}},
		{by: student, payload: stroke},
		{by: student, payload: &more},
		{by: teacher, payload: &domain.ShapeAdded{Object: shape, Shape: domain.ShapeRectangle, From: [2]float64{10, 10}, To: [2]float64{50, 50}, Color: "#000000", Width: 2}},
		{by: teacher, payload: &domain.TextAdded{Object: text, At: [2]float64{100, 100}, Text: "½ + ¼", Color: "#000000", Size: 24}},
		{by: teacher, payload: &domain.ObjectsErased{Objects: []uuid.UUID{shape}}},
		{by: teacher, payload: &domain.SlideChanged{Slide: domain.Slide{Page: 1}}},
		{by: teacher, payload: &domain.RecordingStarted{}},
		{by: student, payload: &domain.HandRaised{}},
		{by: teacher, payload: &domain.FloorGranted{Participant: student.Participant()}},
		{by: student, payload: &domain.ChatPosted{Text: "I see"}},
		{by: teacher, payload: &domain.BoardCleared{Slide: domain.Slide{}}},
	}
	for i := range cmds {
		cmds[i].id = uuid.New()
		seq, err := cmds[i].by.SendID(ctx, cmds[i].id, cmds[i].payload)
		if err != nil {
			t.Fatalf("%s: %v", cmds[i].payload.Kind(), err)
		}
		cmds[i].seq = seq
	}
	return cmds
}

// resendAll sends every command again, with its id, and checks that each is
// answered with its original sequence and that the log did not grow.
func resendAll(t *testing.T, ctx context.Context, ls *lessonServer, cmds []sent, when string) {
	t.Helper()
	for _, c := range cmds {
		ls.present(c.by)
	}
	before := ls.replay().Seq
	for _, c := range cmds {
		seq, err := c.by.SendID(ctx, c.id, c.payload)
		if err != nil || seq != c.seq {
			t.Errorf("%s: resent %s answered %d, %v; want its original seq %d", when, c.payload.Kind(), seq, err, c.seq)
		}
	}
	if after := ls.replay().Seq; after != before {
		for e, err := range ls.store.Events(ctx, ls.lesson, before) {
			if err == nil {
				t.Logf("stored since: %d %s by %s", e.Seq, e.Kind(), e.Actor)
			}
		}
		t.Errorf("%s: the resends grew the log from %d to %d", when, before, after)
	}
}

// TestResendAfterReopen: commands of every kind, acknowledged, then resent
// with the same ids after the lesson's room closed (everyone's connection
// dropped) and opened again, and after the realtime server restarted on the
// same store, are each answered with their original sequence and stored once.
// With a snapshot past them the reopened room reads none of them back, so
// the answers come from the store; without, the room remembers them from
// its load.
func TestResendAfterReopen(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		for _, snapshot := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/snapshot=%v", kind, snapshot), func(t *testing.T) { testResendAfterReopen(t, kind, snapshot) })
		}
	}
}

func testResendAfterReopen(t *testing.T, kind string, snapshot bool) {
	ls := startServer(t, openStore(t, kind), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	student := ls.mustJoin(ctx, domain.RoleStudent, "Bob")
	cmds := everyKind(t, ctx, teacher, student)

	// At once, in the room that stored them.
	resendAll(t, ctx, ls, cmds, "in the same room")

	// The room closes as its last session ends, and opens again.
	teacher.Drop()
	student.Drop()
	waitFor(t, 10*time.Second, "the room to close", func() bool { return ls.live().Rooms() == 0 })
	if snapshot {
		ls.snapshot(ctx)
	}
	for _, c := range []*client.Client{teacher, student} {
		if err := c.Resume(ctx); err != nil {
			t.Fatal(err)
		}
	}
	resendAll(t, ctx, ls, cmds, "after the room reopened")

	// A new realtime server on the same store: a graceful restart.
	teacher.Drop()
	student.Drop()
	if snapshot {
		ls.snapshot(ctx)
	}
	ls.restart()
	for _, c := range []*client.Client{teacher, student} {
		if err := c.Resume(ctx); err != nil {
			t.Fatal(err)
		}
	}
	resendAll(t, ctx, ls, cmds, "after a restart")
	converge(t, ls, teacher, student)
}

// snapshot stores a snapshot of the whole log, which a room loads from.
func (ls *lessonServer) snapshot(ctx context.Context) {
	ls.t.Helper()
	st := ls.replay()
	b, err := st.MarshalSnapshot()
	if err != nil {
		ls.t.Fatal(err)
	}
	if err := ls.store.SaveSnapshot(ctx, eventstore.Snapshot{Lesson: ls.lesson, Seq: st.Seq, State: b}); err != nil {
		ls.t.Fatal(err)
	}
}

// TestResendOverRate: a resend of a stored command is acknowledged with its
// seq even when it comes over the command rate (a client resending its
// backlog after a reconnect), while new commands over the rate are refused.
func TestResendOverRate(t *testing.T) {
	// A sustained rate of 10 a second: the flood below empties the bucket
	// unless it takes the server 10 s to read, however loaded the machine
	// (at the default 100 a second, 1 s was enough to refill it).
	ls := startServer(t, openStore(t, "sqlite"), func(c *realtime.Config) { c.CommandRate = 10 })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Noether")
	mustSend(t, ctx, teacher, &domain.LessonStarted{})
	chat := &domain.ChatPosted{Text: "stored once"}
	id := uuid.New()
	seq, err := teacher.SendID(ctx, id, chat)
	if err != nil {
		t.Fatal(err)
	}
	// Empty the session's bucket (a burst of 300) with new commands, then
	// resend the stored one behind them on the same ordered channel.
	const flood = 400
	for range flood {
		raw := fmt.Sprintf(`{"type":"command","id":%q,"kind":"chat.posted","data":{"text":"new"}}`, uuid.NewString())
		if err := teacher.SendRaw([]byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := teacher.SendID(ctx, id, chat)
	if err != nil || got != seq {
		t.Fatalf("the resend behind a flood got seq %d, %v; want its seq %d", got, err, seq)
	}
	time.Sleep(1500 * time.Millisecond) // let the bucket refill a little
	last := mustSend(t, ctx, teacher, &domain.ChatPosted{Text: "after the flood"}) - 1
	if stored := last - seq; stored >= flood {
		t.Fatalf("all %d commands of the flood were stored: the rate was not reached, the test proves nothing", stored)
	}
	count := 0
	for e, err := range ls.store.Events(ctx, ls.lesson, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if e.ID == id {
			count++
		}
	}
	if count != 1 {
		t.Fatalf("the resent command is in the log %d times", count)
	}
}
