package eventstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
)

// opener opens a store on the same backing database each time it is called,
// so that tests can close a store and open it again.
type opener func(t *testing.T) eventstore.Store

// testConformance runs the contract every Store must keep.
func testConformance(t *testing.T, open opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, opener)
	}{
		{"AppendAndRead", testAppendAndRead},
		{"Idempotent", testIdempotent},
		{"Decided", testDecided},
		{"Lookup", testLookup},
		{"LessonCreation", testLessonCreation},
		{"UnknownLesson", testUnknownLesson},
		{"Malformed", testMalformed},
		{"ConcurrentAppenders", testConcurrentAppenders},
		{"StreamingRead", testStreamingRead},
		{"EventTime", testEventTime},
		{"LastRecordingKind", testLastRecordingKind},
		{"Snapshots", testSnapshots},
		{"Wait", testWait},
		{"Lessons", testLessons},
		{"Invitation", testInvitation},
		{"CloseCommitsQueued", testCloseCommitsQueued},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func created(lesson uuid.UUID, title string) domain.Event {
	e, err := domain.NewLesson(lesson, uuid.New(), title, t0)
	if err != nil {
		panic(err)
	}
	return e
}

func event(lesson uuid.UUID, actor string, p domain.Payload) domain.Event {
	return domain.Event{ID: uuid.New(), Lesson: lesson, Version: domain.EventVersion, Actor: actor,
		Role: domain.RoleStudent, Time: t0.Add(time.Second), Payload: p}
}

func chat(lesson uuid.UUID, text string) domain.Event {
	return event(lesson, "student-1", &domain.ChatPosted{Text: text})
}

func stroke(lesson uuid.UUID, points int) domain.Event {
	pts := make([]domain.Point, points)
	for i := range pts {
		pts[i] = domain.Point{X: 100.125 + float64(i), Y: 200.5, T: int64(i * 8), Pressure: 0.5}
	}
	return event(lesson, "student-1", &domain.StrokeDrawn{Object: uuid.New(), Tool: domain.ToolPen,
		Color: "#1e90ff", Width: 3, Points: pts})
}

// newLesson creates a lesson in s and returns its id.
func newLesson(t testing.TB, s eventstore.Store) uuid.UUID {
	t.Helper()
	id := uuid.New()
	mustAppend(t, s, created(id, "Fractions, "+id.String()[:8]))
	return id
}

// mustAppend appends events that must all be accepted and returns their
// seqs. It stops the test: call it from the test's goroutine only, and
// appendAll from others.
func mustAppend(t testing.TB, s eventstore.Store, events ...domain.Event) []int64 {
	t.Helper()
	seqs, err := appendAll(s, events...)
	if err != nil {
		t.Fatal(err)
	}
	return seqs
}

// appendAll appends events that must all be accepted and returns their seqs,
// or the first failure.
func appendAll(s eventstore.Store, events ...domain.Event) ([]int64, error) {
	seqs, errs, err := s.Append(context.Background(), events...)
	if err != nil {
		return nil, fmt.Errorf("Append: %w", err)
	}
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("Append event %d (%s): %w", i, events[i].Kind(), err)
		}
	}
	return seqs, nil
}

// readAll reads a lesson's whole log after a sequence.
func readAll(t *testing.T, s eventstore.Store, lesson uuid.UUID, after int64) []domain.Event {
	t.Helper()
	var out []domain.Event
	for e, err := range s.Events(context.Background(), lesson, after) {
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		out = append(out, e)
	}
	return out
}

func wantCode(t *testing.T, err error, code domain.Code) {
	t.Helper()
	if got := domain.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

func encode(t *testing.T, e domain.Event) []byte {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testAppendAndRead(t *testing.T, open opener) {
	s := open(t)
	lesson := newLesson(t, s)
	var sent []domain.Event
	for i := range 30 {
		sent = append(sent, chat(lesson, fmt.Sprintf("message %d", i)))
	}
	sent = append(sent, stroke(lesson, 50))
	// Some one by one, the rest in one call.
	for _, e := range sent[:10] {
		mustAppend(t, s, e)
	}
	seqs := mustAppend(t, s, sent[10:]...)
	for i, seq := range seqs {
		if want := int64(12 + i); seq != want {
			t.Fatalf("event %d got seq %d, want %d", i+10, seq, want)
		}
	}
	got := readAll(t, s, lesson, 0)
	if len(got) != len(sent)+1 {
		t.Fatalf("read %d events, want %d", len(got), len(sent)+1)
	}
	if got[0].Kind() != domain.KindLessonCreated || got[0].Seq != 1 {
		t.Fatalf("first event is %s at %d", got[0].Kind(), got[0].Seq)
	}
	for i, e := range got[1:] {
		want := sent[i]
		want.Seq = int64(i + 2)
		if !bytes.Equal(encode(t, e), encode(t, want)) {
			t.Fatalf("event %d read back as\n%s\nwant\n%s", i+2, encode(t, e), encode(t, want))
		}
	}
	if tail := readAll(t, s, lesson, 29); len(tail) != 3 || tail[0].Seq != 30 {
		t.Fatalf("read after 29: %d events starting at %d", len(tail), tail[0].Seq)
	}
	l, err := s.Lesson(context.Background(), lesson)
	if err != nil || l.LastSeq != int64(len(sent)+1) {
		t.Fatalf("Lesson = %+v, %v; want last seq %d", l, err, len(sent)+1)
	}
}

func testIdempotent(t *testing.T, open opener) {
	s := open(t)
	lesson := newLesson(t, s)
	a, b := chat(lesson, "a"), chat(lesson, "b")
	first := mustAppend(t, s, a, b)
	// A resend alone, a resend with a new event, and a duplicate inside one call.
	c := chat(lesson, "c")
	again := mustAppend(t, s, b, c, c, a)
	if again[0] != first[1] || again[3] != first[0] || again[1] != again[2] || again[1] != first[1]+1 {
		t.Fatalf("resend seqs %v, first %v", again, first)
	}
	if got := readAll(t, s, lesson, 0); len(got) != 4 {
		t.Fatalf("log has %d events after resends, want 4", len(got))
	}
	// Ids are unique within a lesson: the same id in another lesson is
	// another event, and leaves the first lesson alone.
	other := newLesson(t, s)
	elsewhere := a
	elsewhere.Lesson = other
	if seqs := mustAppend(t, s, elsewhere); seqs[0] != 2 {
		t.Fatalf("same id in another lesson got seq %d, want 2", seqs[0])
	}
	if got := readAll(t, s, lesson, 0); len(got) != 4 {
		t.Fatalf("first lesson has %d events, want 4", len(got))
	}
}

// decidedAt returns e decided at sequence seq, as a room appends it.
func decidedAt(e domain.Event, seq int64) domain.Event { e.Seq = seq; return e }

// wantStale fails unless err refuses an event as decided on a state the log
// does not hold.
func wantStale(t *testing.T, what string, err error) {
	t.Helper()
	if !eventstore.IsStale(err) || domain.ErrorCode(err) != domain.CodeUnavailable {
		t.Fatalf("%s: %v, want refused as stale (unavailable)", what, err)
	}
}

// testDecided: AppendDecided stores nothing decided on top of an event it
// refused. In one call of two lessons' events decided one on top of the
// other, a refused event of one lesson (malformed, or refused in the flush)
// refuses the same lesson's events after it, and only those: the other
// lesson's are stored, and a resend of a stored event is still answered with
// its seq. An event decided at a sequence that is not its lesson's next one
// is refused, and a decided event needs its sequence.
func testDecided(t *testing.T, open opener) {
	s := open(t)
	ctx := context.Background()
	one, two := newLesson(t, s), newLesson(t, s)
	a := chat(one, "a")
	mustAppend(t, s, a) // one at 2, two at 1
	appendDecided := func(events ...domain.Event) ([]int64, []error) {
		t.Helper()
		seqs, errs, err := s.AppendDecided(ctx, events...)
		if err != nil {
			t.Fatal(err)
		}
		return seqs, errs
	}
	wantLog := func(lesson uuid.UUID, want ...domain.Event) {
		t.Helper()
		got := readAll(t, s, lesson, 0)
		if len(got) != len(want)+1 {
			t.Fatalf("lesson has %d events, want %d", len(got), len(want)+1)
		}
		for i, e := range want {
			if got[i+1].ID != e.ID || got[i+1].Seq != int64(i+2) {
				t.Fatalf("event %d is %s at %d, want %s", i+2, got[i+1].ID, got[i+1].Seq, e.ID)
			}
		}
	}

	// A malformed event in the middle: refused before the flush.
	b, c, d, e := chat(one, "b"), chat(one, strings.Repeat("é", domain.MaxChatRunes+1)), chat(one, "d"), chat(one, "e")
	x, y := chat(two, "x"), chat(two, "y")
	seqs, errs := appendDecided(decidedAt(b, 3), decidedAt(x, 2), decidedAt(c, 4), decidedAt(y, 3),
		decidedAt(d, 5), decidedAt(a, 6), decidedAt(e, 7))
	if errs[0] != nil || seqs[0] != 3 {
		t.Fatalf("the event before the refused one: %d %v, want 3", seqs[0], errs[0])
	}
	wantCode(t, errs[2], domain.CodeInvalid)
	wantStale(t, "decided on top of a malformed event", errs[4])
	if errs[5] != nil || seqs[5] != 2 {
		t.Fatalf("a resend after the refused event: %d %v, want its seq 2", seqs[5], errs[5])
	}
	wantStale(t, "decided on top of a resend", errs[6])
	if errs[1] != nil || errs[3] != nil || seqs[1] != 2 || seqs[3] != 3 {
		t.Fatalf("the other lesson's events: %v %v", seqs, errs)
	}
	for _, i := range []int{2, 4, 6} {
		if seqs[i] != 0 {
			t.Fatalf("refused event %d got seq %d", i, seqs[i])
		}
	}
	wantLog(one, a, b)
	wantLog(two, x, y)

	// An event refused in the flush (a lesson's creation, which it has).
	again := created(one, "again")
	f, g := chat(one, "f"), chat(one, "g")
	seqs, errs = appendDecided(decidedAt(f, 4), decidedAt(again, 5), decidedAt(g, 6))
	if errs[0] != nil || seqs[0] != 4 {
		t.Fatalf("the event before the refused one: %d %v, want 4", seqs[0], errs[0])
	}
	wantCode(t, errs[1], domain.CodeConflict)
	wantStale(t, "decided on top of a refused creation", errs[2])
	wantLog(one, a, b, f)

	// Decided on a state behind the log, or ahead of it.
	_, errs = appendDecided(decidedAt(chat(one, "behind"), 4))
	wantStale(t, "decided behind the log", errs[0])
	_, errs = appendDecided(decidedAt(chat(one, "ahead"), 9))
	wantStale(t, "decided ahead of the log", errs[0])
	_, errs = appendDecided(chat(one, "no seq"))
	wantCode(t, errs[0], domain.CodeInvalid)
	wantLog(one, a, b, f)

	// Decided on the log as it is: stored, and the same batch again is
	// answered with the same seqs.
	h, i := decidedAt(chat(one, "h"), 5), decidedAt(chat(one, "i"), 6)
	for range 2 {
		seqs, errs = appendDecided(h, i)
		if errs[0] != nil || errs[1] != nil || seqs[0] != 5 || seqs[1] != 6 {
			t.Fatalf("decided on the log: %v %v", seqs, errs)
		}
	}
	// The events refused are no resends: decided again on the log, they
	// are stored.
	seqs, errs = appendDecided(decidedAt(d, 7), decidedAt(g, 8))
	if errs[0] != nil || errs[1] != nil || seqs[0] != 7 || seqs[1] != 8 {
		t.Fatalf("refused events decided again: %v %v", seqs, errs)
	}
	wantLog(one, a, b, f, h, i, d, g)

	// Behind a malformed event, refused even when decided at the log's
	// next sequence (the malformed one took none).
	k := chat(one, "k")
	_, errs = appendDecided(decidedAt(chat(one, strings.Repeat("é", domain.MaxChatRunes+1)), 9), decidedAt(k, 9))
	wantCode(t, errs[0], domain.CodeInvalid)
	wantStale(t, "decided at the next sequence behind a malformed event", errs[1])
	// Behind a resend alone: the resend takes no sequence, so what was
	// decided on top of it is stale.
	z := chat(one, "z")
	seqs, errs = appendDecided(decidedAt(a, 9), decidedAt(z, 10))
	if errs[0] != nil || seqs[0] != 2 {
		t.Fatalf("a resend: %d %v, want its seq 2", seqs[0], errs[0])
	}
	wantStale(t, "decided on top of a resend", errs[1])
	wantLog(one, a, b, f, h, i, d, g)
}

func testLookup(t *testing.T, open opener) {
	s := open(t)
	ctx := context.Background()
	lesson, other := newLesson(t, s), newLesson(t, s)
	events := make([]domain.Event, 600) // more than one SQLite statement's parameters
	for i := range events {
		events[i] = chat(lesson, fmt.Sprintf("message %d", i))
	}
	seqs := mustAppend(t, s, events...)
	elsewhere := chat(other, "elsewhere")
	mustAppend(t, s, elsewhere)
	var ids []uuid.UUID
	for _, e := range events {
		ids = append(ids, e.ID)
	}
	missing := uuid.New()
	ids = append(ids, missing, elsewhere.ID)
	found, err := s.Lookup(ctx, lesson, ids)
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if len(found) != len(events) {
		t.Fatalf("Lookup found %d events, want %d", len(found), len(events))
	}
	for i, e := range events {
		if found[e.ID] != seqs[i] {
			t.Fatalf("Lookup: event %d at %d, want %d", i, found[e.ID], seqs[i])
		}
	}
	if _, ok := found[missing]; ok {
		t.Fatal("Lookup found an id never stored")
	}
	if _, ok := found[elsewhere.ID]; ok {
		t.Fatal("Lookup found another lesson's event")
	}
	if found, err := s.Lookup(ctx, uuid.New(), ids[:3]); err != nil || len(found) != 0 {
		t.Fatalf("Lookup in an unknown lesson = %v, %v; want nothing", found, err)
	}
	if found, err := s.Lookup(ctx, lesson, nil); err != nil || len(found) != 0 {
		t.Fatalf("Lookup of no ids = %v, %v; want nothing", found, err)
	}
}

func testLessonCreation(t *testing.T, open opener) {
	s := open(t)
	id := uuid.New()
	c := created(id, "Photosynthesis")
	if seqs := mustAppend(t, s, c); seqs[0] != 1 {
		t.Fatalf("lesson.created got seq %d", seqs[0])
	}
	if seqs := mustAppend(t, s, c); seqs[0] != 1 {
		t.Fatalf("resent lesson.created got seq %d", seqs[0])
	}
	_, errs, err := s.Append(context.Background(), created(id, "Photosynthesis again"))
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, errs[0], domain.CodeConflict)
	// Creating a lesson and writing to it in one call works in order.
	id2 := uuid.New()
	seqs := mustAppend(t, s, created(id2, "Volcanoes"), chat(id2, "hello"))
	if seqs[0] != 1 || seqs[1] != 2 {
		t.Fatalf("seqs %v", seqs)
	}
	l, err := s.Lesson(context.Background(), id2)
	if err != nil || l.Title != "Volcanoes" || !l.Created.Equal(t0) || !l.Ended.IsZero() {
		t.Fatalf("Lesson = %+v, %v", l, err)
	}
	end := event(id2, "teacher", &domain.LessonEnded{})
	end.Role = domain.RoleTeacher
	mustAppend(t, s, end)
	if l, err = s.Lesson(context.Background(), id2); err != nil || !l.Ended.Equal(end.Time) || l.LastSeq != 3 {
		t.Fatalf("ended Lesson = %+v, %v", l, err)
	}
}

func testUnknownLesson(t *testing.T, open opener) {
	s := open(t)
	ctx := context.Background()
	ghost := uuid.New()
	_, errs, err := s.Append(ctx, chat(ghost, "anyone?"))
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, errs[0], domain.CodeNotFound)
	_, err = s.Lesson(ctx, ghost)
	wantCode(t, err, domain.CodeNotFound)
	for _, err := range s.Events(ctx, ghost, 0) {
		wantCode(t, err, domain.CodeNotFound)
	}
	_, err = s.Wait(ctx, ghost, 0)
	wantCode(t, err, domain.CodeNotFound)
	_, err = s.LatestSnapshot(ctx, ghost, 0)
	wantCode(t, err, domain.CodeNotFound)
	err = s.SaveSnapshot(ctx, eventstore.Snapshot{Lesson: ghost, Seq: 1, State: []byte("{}")})
	wantCode(t, err, domain.CodeNotFound)
	if _, err := s.Lesson(ctx, ghost); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("a refused event created its lesson: %v", err)
	}
}

func testMalformed(t *testing.T, open opener) {
	s := open(t)
	lesson := newLesson(t, s)
	good := chat(lesson, "fine")
	noID := chat(lesson, "x")
	noID.ID = uuid.Nil
	badRole := chat(lesson, "x")
	badRole.Role = "headmaster"
	noPayload := chat(lesson, "x")
	noPayload.Payload = nil
	tooLong := chat(lesson, strings.Repeat("é", domain.MaxChatRunes+1))
	future := chat(lesson, "x")
	future.Version = domain.EventVersion + 1
	// 1000 points with long numbers encode to more than MaxEventBytes.
	huge := stroke(lesson, domain.MaxStrokePoints)
	for i := range huge.Payload.(*domain.StrokeDrawn).Points {
		huge.Payload.(*domain.StrokeDrawn).Points[i].X = -123456.78901234567
		huge.Payload.(*domain.StrokeDrawn).Points[i].Y = -98765.43210987654
		huge.Payload.(*domain.StrokeDrawn).Points[i].T = domain.MaxPointMillis - 1000 + int64(i)
		huge.Payload.(*domain.StrokeDrawn).Points[i].Pressure = 0.12345678901234567
	}
	after := chat(lesson, "still fine")
	batch := []domain.Event{good, noID, badRole, noPayload, tooLong, future, huge, after}
	seqs, errs, err := s.Append(context.Background(), batch...)
	if err != nil {
		t.Fatal(err)
	}
	if errs[0] != nil || errs[7] != nil || seqs[0] != 2 || seqs[7] != 3 {
		t.Fatalf("good events: seqs %v errs %v", seqs, errs)
	}
	for i := 1; i < 7; i++ {
		wantCode(t, errs[i], domain.CodeInvalid)
		if seqs[i] != 0 {
			t.Fatalf("refused event %d got seq %d", i, seqs[i])
		}
	}
	if got := readAll(t, s, lesson, 0); len(got) != 3 {
		t.Fatalf("log has %d events, want 3", len(got))
	}
}

func testConcurrentAppenders(t *testing.T, open opener) {
	s := open(t)
	const writers, each = 16, 40
	lessons := []uuid.UUID{newLesson(t, s), newLesson(t, s), newLesson(t, s)}
	type acked struct {
		id  uuid.UUID
		seq int64
	}
	var (
		mu  sync.Mutex
		got = map[uuid.UUID][]acked{}
		wg  sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			lesson := lessons[w%len(lessons)]
			for i := range each {
				e := chat(lesson, fmt.Sprintf("writer %d message %d", w, i))
				seqs, errs, err := s.Append(context.Background(), e)
				if err == nil {
					err = errs[0]
				}
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				mu.Lock()
				got[lesson] = append(got[lesson], acked{e.ID, seqs[0]})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, lesson := range lessons {
		log := readAll(t, s, lesson, 0)
		bySeq := map[int64]uuid.UUID{}
		for i, e := range log {
			if e.Seq != int64(i+1) {
				t.Fatalf("lesson %s: event %d has seq %d", lesson, i, e.Seq)
			}
			bySeq[e.Seq] = e.ID
		}
		if len(log) != 1+len(got[lesson]) {
			t.Fatalf("lesson %s: %d events, %d acknowledged", lesson, len(log), len(got[lesson]))
		}
		for _, a := range got[lesson] {
			if bySeq[a.seq] != a.id {
				t.Fatalf("acknowledged seq %d holds %s, not %s", a.seq, bySeq[a.seq], a.id)
			}
		}
	}
}

func testStreamingRead(t *testing.T, open opener) {
	s := open(t)
	lesson := newLesson(t, s)
	n := eventstore.ReadPage*2 + 123
	batch := make([]domain.Event, 0, 1000)
	for i := range n {
		batch = append(batch, chat(lesson, fmt.Sprint(i)))
		if len(batch) == cap(batch) || i == n-1 {
			mustAppend(t, s, batch...)
			batch = batch[:0]
		}
	}
	ctx := context.Background()
	var count int
	next := int64(eventstore.ReadPage - 10)
	for e, err := range s.Events(ctx, lesson, next) {
		if err != nil {
			t.Fatal(err)
		}
		if next++; e.Seq != next {
			t.Fatalf("got seq %d, want %d", e.Seq, next)
		}
		count++
	}
	if want := n + 1 - (eventstore.ReadPage - 10); count != want {
		t.Fatalf("streamed %d events, want %d", count, want)
	}
	// Stopping early stops the stream.
	count = 0
	for _, err := range s.Events(ctx, lesson, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if count++; count == 5 {
			break
		}
	}
	// A cancelled context ends the stream with its error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	for _, err := range s.Events(cctx, lesson, 0) {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled read: %v", err)
		}
	}
}

func testSnapshots(t *testing.T, open opener) {
	s := open(t)
	ctx := context.Background()
	lesson := newLesson(t, s)
	for range 25 {
		mustAppend(t, s, chat(lesson, "x"))
	}
	for _, seq := range []int64{10, 20} {
		if err := s.SaveSnapshot(ctx, eventstore.Snapshot{Lesson: lesson, Seq: seq, State: fmt.Appendf(nil, `{"seq":%d}`, seq)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveSnapshot(ctx, eventstore.Snapshot{Lesson: lesson, Seq: 20, State: []byte(`{"seq":20,"again":true}`)}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		at   int64
		want int64
		body string
	}{{0, 20, `{"seq":20,"again":true}`}, {26, 20, ""}, {19, 10, `{"seq":10}`}, {10, 10, ""}} {
		snap, err := s.LatestSnapshot(ctx, lesson, tt.at)
		if err != nil || snap.Seq != tt.want || snap.Lesson != lesson {
			t.Fatalf("LatestSnapshot(%d) = %d, %v; want %d", tt.at, snap.Seq, err, tt.want)
		}
		if tt.body != "" && string(snap.State) != tt.body {
			t.Fatalf("LatestSnapshot(%d) state %s, want %s", tt.at, snap.State, tt.body)
		}
	}
	_, err := s.LatestSnapshot(ctx, lesson, 9)
	wantCode(t, err, domain.CodeNotFound)
	err = s.SaveSnapshot(ctx, eventstore.Snapshot{Lesson: lesson, Seq: 27, State: []byte("{}")})
	wantCode(t, err, domain.CodeInvalid)
	err = s.SaveSnapshot(ctx, eventstore.Snapshot{Lesson: lesson, Seq: 0, State: []byte("{}")})
	wantCode(t, err, domain.CodeInvalid)
	err = s.SaveSnapshot(ctx, eventstore.Snapshot{Lesson: lesson, Seq: 5})
	wantCode(t, err, domain.CodeInvalid)
}

func testWait(t *testing.T, open opener) {
	s := open(t)
	lesson := newLesson(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if last, err := s.Wait(ctx, lesson, 0); err != nil || last != 1 {
		t.Fatalf("Wait behind the log = %d, %v", last, err)
	}
	woke := make(chan int64, 1)
	go func() {
		last, err := s.Wait(ctx, lesson, 1)
		if err != nil {
			t.Error(err)
		}
		woke <- last
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case <-woke:
		t.Fatal("Wait returned before anything was appended")
	default:
	}
	mustAppend(t, s, chat(lesson, "wake up"), chat(lesson, "and again"))
	if last := <-woke; last < 2 {
		t.Fatalf("woken with last %d", last)
	}
	short, cancelShort := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancelShort()
	if _, err := s.Wait(short, lesson, 3); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait past the end with a deadline: %v", err)
	}
}

func testLessons(t *testing.T, open opener) {
	s := open(t)
	ctx := context.Background()
	// Lessons far in the future, so that others' lessons do not interleave.
	base := time.Date(2300+int(uuid.New()[0]), 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []uuid.UUID
	for i := range 3 {
		id := uuid.New()
		e, err := domain.NewLesson(id, uuid.New(), fmt.Sprintf("Lesson %d", i), base.Add(time.Duration(i)*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		mustAppend(t, s, e)
		ids = append(ids, id)
	}
	list, err := s.Lessons(ctx, eventstore.ListOptions{Limit: 2, Before: base.Add(3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != ids[2] || list[1].ID != ids[1] || list[0].Title != "Lesson 2" {
		t.Fatalf("Lessons = %+v", list)
	}
	list, err = s.Lessons(ctx, eventstore.ListOptions{Limit: 10, Before: list[1].Created})
	if err != nil || len(list) == 0 || list[0].ID != ids[0] {
		t.Fatalf("next page = %+v, %v", list, err)
	}
	all, err := s.Lessons(ctx, eventstore.ListOptions{})
	if err != nil || len(all) < 3 {
		t.Fatalf("Lessons() = %d lessons, %v", len(all), err)
	}
}

func testCloseCommitsQueued(t *testing.T, open opener) {
	s := open(t)
	lesson := newLesson(t, s)
	type result struct {
		id  uuid.UUID
		seq int64
		err error
	}
	results := make(chan result, 200)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			e := chat(lesson, fmt.Sprint(i))
			seqs, errs, err := s.Append(context.Background(), e)
			if err == nil {
				err = errs[0]
			}
			var seq int64
			if len(seqs) > 0 {
				seq = seqs[0]
			}
			results <- result{e.ID, seq, err}
		})
	}
	time.Sleep(5 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(results)
	s = open(t)
	stored := map[uuid.UUID]int64{}
	for _, e := range readAll(t, s, lesson, 0) {
		stored[e.ID] = e.Seq
	}
	acked := 0
	for r := range results {
		switch {
		case r.err == nil:
			acked++
			if stored[r.id] != r.seq {
				t.Fatalf("acknowledged event %s at %d is stored at %d", r.id, r.seq, stored[r.id])
			}
		case domain.ErrorCode(r.err) != domain.CodeUnavailable:
			t.Fatalf("append during close: %v", r.err)
		}
	}
	if len(stored) != acked+1 {
		t.Fatalf("%d events stored, %d acknowledged", len(stored), acked)
	}
}

// testEventTime: an event's time is read back by its sequence, as stored;
// unknown sequences and lessons are not found.
func testEventTime(t *testing.T, open opener) {
	s := open(t)
	ctx := context.Background()
	lesson := newLesson(t, s)
	var events []domain.Event
	for e, err := range s.Events(ctx, lesson, 0) {
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	for _, e := range events {
		at, err := s.EventTime(ctx, lesson, e.Seq)
		if err != nil || !at.Equal(e.Time) || at.Location() != time.UTC {
			t.Fatalf("EventTime(%d) = %v, %v; the event says %v", e.Seq, at, err, e.Time)
		}
	}
	if _, err := s.EventTime(ctx, lesson, int64(len(events))+1); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("EventTime past the end: %v, want not_found", err)
	}
	if _, err := s.EventTime(ctx, uuid.New(), 1); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("EventTime of an unknown lesson: %v, want not_found", err)
	}
}

// testInvitation: a lesson records no invitation until one is set; the last
// one set is what Lesson and Lessons report, appends leave it alone, and an
// unknown lesson or a nil id is refused.
func testInvitation(t *testing.T, open opener) {
	s := open(t)
	ctx := context.Background()
	lesson := newLesson(t, s)
	if l, err := s.Lesson(ctx, lesson); err != nil || l.Invitation != uuid.Nil {
		t.Fatalf("a new lesson's invitation: %v, %v; want none", l.Invitation, err)
	}
	first, second := uuid.New(), uuid.New()
	for _, id := range []uuid.UUID{first, second} {
		if err := s.SetInvitation(ctx, lesson, id); err != nil {
			t.Fatal(err)
		}
	}
	mustAppend(t, s, chat(lesson, "after the new link"))
	if l, err := s.Lesson(ctx, lesson); err != nil || l.Invitation != second || l.LastSeq != 2 {
		t.Fatalf("Lesson = %+v, %v; want invitation %s and last seq 2", l, err, second)
	}
	all, err := s.Lessons(ctx, eventstore.ListOptions{Limit: eventstore.MaxList})
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(all, func(l eventstore.Lesson) bool { return l.ID == lesson }); i < 0 || all[i].Invitation != second {
		t.Errorf("Lessons does not report the lesson with invitation %s", second)
	}
	wantCode(t, s.SetInvitation(ctx, uuid.New(), uuid.New()), domain.CodeNotFound)
	wantCode(t, s.SetInvitation(ctx, lesson, uuid.Nil), domain.CodeInvalid)
	if l, _ := s.Lesson(ctx, lesson); l.Invitation != second {
		t.Errorf("after refused calls the invitation is %s, want %s", l.Invitation, second)
	}
}

// testLastRecordingKind: a lesson's last recording.started or
// recording.stopped event up to a sequence, none before the first, other
// lessons' apart, and the same from the store opened again.
func testLastRecordingKind(t *testing.T, open opener) {
	s := open(t)
	ctx := context.Background()
	lesson, other := newLesson(t, s), newLesson(t, s)
	teacher := func(p domain.Payload) domain.Event {
		e := event(lesson, "teacher", p)
		e.Role = domain.RoleTeacher
		return e
	}
	mustAppend(t, s, chat(lesson, "before"), teacher(&domain.RecordingStarted{}), chat(lesson, "during"),
		teacher(&domain.RecordingStopped{}), chat(lesson, "between"), teacher(&domain.RecordingStarted{}),
		teacher(&domain.LessonEnded{}), chat(lesson, "after"))
	otherStarted := event(other, "teacher", &domain.RecordingStarted{})
	otherStarted.Role = domain.RoleTeacher
	mustAppend(t, s, otherStarted)
	// By sequence: 1 created, 2 chat, 3 started, 4 chat, 5 stopped, 6 chat,
	// 7 started, 8 ended, 9 chat.
	want := []domain.Kind{"", "", "", domain.KindRecordingStarted, domain.KindRecordingStarted, domain.KindRecordingStopped,
		domain.KindRecordingStopped, domain.KindRecordingStarted, domain.KindRecordingStarted, domain.KindRecordingStarted}
	check := func(s eventstore.Store) {
		t.Helper()
		for upto, want := range want {
			if got, err := s.LastRecordingKind(ctx, lesson, int64(upto)); err != nil || got != want {
				t.Errorf("LastRecordingKind(%d) = %q, %v; want %q", upto, got, err, want)
			}
		}
		if got, err := s.LastRecordingKind(ctx, lesson, math.MaxInt64); err != nil || got != domain.KindRecordingStarted {
			t.Errorf("LastRecordingKind past the end = %q, %v; want %q", got, err, domain.KindRecordingStarted)
		}
		if got, err := s.LastRecordingKind(ctx, other, 1); err != nil || got != "" {
			t.Errorf("LastRecordingKind of the other lesson before its recording = %q, %v; want none", got, err)
		}
		if got, err := s.LastRecordingKind(ctx, uuid.New(), 10); err != nil || got != "" {
			t.Errorf("LastRecordingKind of an unknown lesson = %q, %v; want none", got, err)
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(open(t))
}
