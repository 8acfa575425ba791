package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/realtime/token"
)

// play sends commands to a stored lesson as a live room would: each is
// decided against the log's state and appended.
func (a *api) play(lesson uuid.UUID, cmds ...domain.Command) {
	a.t.Helper()
	ctx := context.Background()
	st := domain.NewState()
	for e, err := range a.store.Events(ctx, lesson, 0) {
		if err != nil {
			a.t.Fatal(err)
		}
		st.Apply(e)
	}
	for _, c := range cmds {
		c.ID = uuid.New()
		e, err := domain.Decide(st, c, a.clock)
		if err != nil {
			a.t.Fatalf("%s by %s: %v", c.Payload.Kind(), c.Actor, err)
		}
		seqs, errs, err := a.store.Append(ctx, e)
		if err != nil || errs[0] != nil {
			a.t.Fatalf("append %s: %v %v", e.Kind(), err, errs)
		}
		e.Seq = seqs[0]
		st.Apply(e)
	}
}

// foldCounter is the SQLite store, counting the lesson logs read from
// their latest snapshot (lessonlog.Seek's fold).
type foldCounter struct {
	*eventstore.SQLite
	folds atomic.Int64
}

func (f *foldCounter) LatestSnapshot(ctx context.Context, lesson uuid.UUID, atOrBefore int64) (eventstore.Snapshot, error) {
	f.folds.Add(1)
	return f.SQLite.LatestSnapshot(ctx, lesson, atOrBefore)
}

// TestRemovedStudentCannotReplay: the token of a student the teacher removed
// plays nothing of the lesson back; a classmate's does. Checking it does
// not fold the lesson's log on every request, only after a new event.
func TestRemovedStudentCannotReplay(t *testing.T) {
	var store *foldCounter
	a := newAPIWith(t, func(db *eventstore.SQLite) eventstore.Store { store = &foldCounter{SQLite: db}; return store })
	var l lessonOut
	a.do("POST", "/api/lessons", "application/json", `{"title":"Removal"}`, nil, &l)
	id := mustUUID(t, l.ID)
	cmd := func(actor string, role domain.Role, p domain.Payload) domain.Command {
		return domain.Command{Actor: actor, Role: role, Payload: p}
	}
	a.play(id,
		cmd("teacher", domain.RoleTeacher, &domain.ParticipantJoined{Name: "Ms Rivera"}),
		cmd("ann", domain.RoleStudent, &domain.ParticipantJoined{Name: "Ann"}),
		cmd("bob", domain.RoleStudent, &domain.ParticipantJoined{Name: "Bob"}),
		cmd("teacher", domain.RoleTeacher, &domain.ParticipantRemoved{Participant: "ann"}),
		cmd("teacher", domain.RoleTeacher, &domain.LessonEnded{}),
	)
	tok := func(participant string) string {
		s, err := a.tokens.Issue(token.Claims{Lesson: id, Role: domain.RoleStudent, Participant: participant,
			Name: participant, Expires: a.clock.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, path := range []string{"/events", "/state?seq=1", "/recordings"} {
		resp, body := a.get("/api/lessons/"+l.ID+path, tok("ann"))
		var e errorOut
		if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != http.StatusForbidden || e.Error.Reason != "removed" {
			t.Errorf("%s with the removed student's token: %d %s, want 403, reason removed", path, resp.StatusCode, body)
		}
		if resp, body := a.get("/api/lessons/"+l.ID+path, tok("bob")); resp.StatusCode != http.StatusOK {
			t.Errorf("%s with a classmate's token: %d %s", path, resp.StatusCode, body)
		}
	}
	// Remembered: more requests fold nothing; a new event (Bob leaves,
	// which an ended lesson still takes) is folded once, and Ann is still
	// refused at once.
	recordings := func(who string, want int) {
		t.Helper()
		if resp, body := a.get("/api/lessons/"+l.ID+"/recordings", tok(who)); resp.StatusCode != want {
			t.Errorf("%s's recordings: %d %s, want %d", who, resp.StatusCode, body, want)
		}
	}
	folds := store.folds.Load()
	for range 5 {
		recordings("ann", http.StatusForbidden)
		recordings("bob", http.StatusOK)
	}
	if n := store.folds.Load() - folds; n != 0 {
		t.Errorf("10 requests folded the log %d times, want none", n)
	}
	a.play(id, cmd("bob", domain.RoleStudent, &domain.ParticipantLeft{}))
	folds = store.folds.Load()
	recordings("ann", http.StatusForbidden)
	recordings("bob", http.StatusOK)
	if n := store.folds.Load() - folds; n != 1 {
		t.Errorf("after a new event, two requests folded the log %d times, want once", n)
	}
}

// TestDeleteLesson: only the teacher deletes a lesson, once it has ended;
// then it and its recordings are gone.
func TestDeleteLesson(t *testing.T) {
	a := newAPI(t)
	var l lessonOut
	a.do("POST", "/api/lessons", "application/json", `{"title":"Gone","lobby":true}`, nil, &l)
	id := mustUUID(t, l.ID)
	rec := filepath.Join(a.recordings, l.ID)
	if err := os.MkdirAll(rec, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rec, "1.json"), []byte("{}"), 0o640); err != nil {
		t.Fatal(err)
	}
	teacher := http.Header{"Authorization": {"Bearer " + l.Teacher.Token}}
	var e errorOut
	if resp := a.do("DELETE", "/api/lessons/"+l.ID, "", "", http.Header{"Authorization": {"Bearer " + l.Students.Token}}, &e); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a student's deletion: %d %+v", resp.StatusCode, e)
	}
	if resp := a.do("DELETE", "/api/lessons/"+l.ID, "", "", teacher, &e); resp.StatusCode != http.StatusConflict {
		t.Fatalf("deleting a lesson not ended: %d %+v", resp.StatusCode, e)
	}
	a.play(id, domain.Command{Actor: "teacher", Role: domain.RoleTeacher, Payload: &domain.ParticipantJoined{Name: "T"}},
		domain.Command{Actor: "teacher", Role: domain.RoleTeacher, Payload: &domain.LessonEnded{}})
	if resp := a.do("DELETE", "/api/lessons/"+l.ID, "", "", teacher, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the teacher's deletion: %d", resp.StatusCode)
	}
	if resp := a.do("GET", "/api/lessons/"+l.ID, "", "", nil, &e); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the deleted lesson: %d %+v", resp.StatusCode, e)
	}
	if _, err := os.Stat(rec); !os.IsNotExist(err) {
		t.Fatalf("its recordings: %v", err)
	}
}

// TestCreateWithLobby: a lesson created with its lobby on starts with it on.
func TestCreateWithLobby(t *testing.T) {
	a := newAPI(t)
	var l lessonOut
	a.do("POST", "/api/lessons", "application/json", `{"title":"Waiting room","lobby":true}`, nil, &l)
	for e, err := range a.store.Events(context.Background(), mustUUID(t, l.ID), 0) {
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := e.Payload.(*domain.LessonCreated); !ok || !c.Lobby {
			t.Fatalf("the lesson begins with %+v", e.Payload)
		}
		break
	}
}
