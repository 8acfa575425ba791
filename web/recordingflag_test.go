package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/domain/timeline"
	"classroom/eventstore"
	"classroom/lessonlog"
	"classroom/web"
)

// logReads is a store counting what is read of lessons' logs: the events
// streamed and the snapshots looked up, the two costs of a fold.
type logReads struct {
	eventstore.Store
	events, snapshots atomic.Int64
}

func (s *logReads) Events(ctx context.Context, lesson uuid.UUID, after int64) iter.Seq2[domain.Event, error] {
	return func(yield func(domain.Event, error) bool) {
		for e, err := range s.Store.Events(ctx, lesson, after) {
			s.events.Add(1)
			if !yield(e, err) {
				return
			}
		}
	}
}

func (s *logReads) LatestSnapshot(ctx context.Context, lesson uuid.UUID, atOrBefore int64) (eventstore.Snapshot, error) {
	s.snapshots.Add(1)
	return s.Store.LatestSnapshot(ctx, lesson, atOrBefore)
}

// reopenable opens a store on the same database each time it is called, as
// a server started again does.
type reopenable func(t *testing.T) eventstore.Store

func reopenableStores(t *testing.T) map[string]reopenable {
	dir := t.TempDir()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		t.Fatal("DATABASE_URL is not set: run the tests through scripts/test, which starts a throwaway PostgreSQL, or point DATABASE_URL at one")
	}
	return map[string]reopenable{
		"sqlite": func(t *testing.T) eventstore.Store {
			s, err := eventstore.OpenSQLite(context.Background(), dir, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"postgres": func(t *testing.T) eventstore.Store {
			s, err := eventstore.OpenPostgres(context.Background(), url, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
}

// TestLessonRecordingFlag: the recording flag of GET /api/lessons/{id} is
// what the fold of the lesson's whole log says, on both stores: never
// recorded, recording started before the snapshot at domain.SnapshotEvery
// and still on past it, stopped after it, started again, the lesson ended
// while recording, a recording.started stored after the end (which the
// fold ignores), and from a store opened anew (a server started again)
// while recording and after the end. Answering reads nothing of the log's
// events or snapshots, however long the lesson, where a fold restores the
// snapshot and folds the events after it.
func TestLessonRecordingFlag(t *testing.T) {
	for name, open := range reopenableStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			var (
				store *logReads
				srv   *httptest.Server
			)
			start := func() {
				store = &logReads{Store: open(t)}
				srv = httptest.NewServer(web.NewHandler(web.Config{Store: store, Logger: quietLog()}))
			}
			stop := func() {
				srv.Close()
				if err := store.Close(); err != nil {
					t.Fatal(err)
				}
			}
			start()
			defer func() { stop() }()
			lesson := uuid.New()
			created, err := domain.NewLesson(lesson, uuid.New(), "Recorded", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			live := domain.NewState()
			add := func(p ...domain.Payload) {
				t.Helper()
				events := make([]domain.Event, len(p))
				for i, p := range p {
					events[i] = domain.Event{ID: uuid.New(), Lesson: lesson, Version: domain.EventVersion,
						Actor: "teacher", Role: domain.RoleTeacher, Time: created.Time.Add(time.Second), Payload: p}
				}
				seqs, errs, err := store.Append(ctx, events...)
				if err != nil {
					t.Fatal(err)
				}
				for i, err := range errs {
					if err != nil {
						t.Fatal(err)
					}
					events[i].Seq = seqs[i]
					live.Apply(events[i])
					if live.Seq%domain.SnapshotEvery == 0 {
						b, err := live.MarshalSnapshot()
						if err != nil {
							t.Fatal(err)
						}
						if err := store.SaveSnapshot(ctx, eventstore.Snapshot{Lesson: lesson, Seq: live.Seq, State: b}); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			chats := func(n int) {
				t.Helper()
				for n > 0 {
					batch := make([]domain.Payload, min(n, 500))
					for i := range batch {
						batch[i] = &domain.ChatPosted{Text: fmt.Sprintf("message %d", live.Seq+int64(i))}
					}
					add(batch...)
					n -= len(batch)
				}
			}
			// check asks srv whether the lesson is being recorded and wants
			// the answer the fold of its log gives, and want.
			check := func(want bool, when string) {
				t.Helper()
				events, snapshots := store.events.Load(), store.snapshots.Load()
				resp, err := http.Get(srv.URL + "/api/lessons/" + lesson.String())
				if err != nil {
					t.Fatal(err)
				}
				var got struct {
					LastSeq   int64 `json:"last_seq"`
					Recording bool  `json:"recording"`
				}
				err = json.NewDecoder(resp.Body).Decode(&got)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: %d, %v", when, resp.StatusCode, err)
				}
				if n, s := store.events.Load()-events, store.snapshots.Load()-snapshots; n != 0 || s != 0 {
					t.Errorf("%s: answering read %d events and %d snapshots of a lesson of %d events, want none",
						when, n, s, got.LastSeq)
				}
				folded, err := lessonlog.Seek(ctx, store.Store, lesson, timeline.AtSeq(got.LastSeq))
				if err != nil {
					t.Fatal(err)
				}
				if got.Recording != folded.Recording || got.Recording != want {
					t.Errorf("%s (event %d): recording %v, the fold says %v, want %v", when, got.LastSeq, got.Recording, folded.Recording, want)
				}
			}

			if seqs, errs, err := store.Append(ctx, created); err != nil || errs[0] != nil || seqs[0] != 1 {
				t.Fatalf("create the lesson: %v, %v, %v", seqs, errs, err)
			}
			created.Seq = 1
			live.Apply(created)
			add(&domain.ParticipantJoined{Name: "Ms Rivera"}, &domain.LessonStarted{})
			chats(10)
			check(false, "never recorded")
			add(&domain.RecordingStarted{})
			check(true, "started")
			chats(domain.SnapshotEvery - int(live.Seq) + 100)
			if s, err := store.Store.LatestSnapshot(ctx, lesson, 0); err != nil || s.Seq != domain.SnapshotEvery {
				t.Fatalf("the lesson's snapshot: %d, %v; want one at %d", s.Seq, err, domain.SnapshotEvery)
			}
			check(true, "started before the snapshot, still on after it")
			add(&domain.RecordingStopped{})
			check(false, "stopped after the snapshot")
			chats(50)
			add(&domain.RecordingStarted{})
			chats(50)
			check(true, "started again")
			stop()
			start()
			check(true, "started again, from a store opened anew")
			add(&domain.LessonEnded{})
			check(false, "ended while recording")
			add(&domain.RecordingStarted{}) // refused by Decide; a fold ignores it
			check(false, "started after the end")
			stop()
			start()
			check(false, "ended, from a store opened anew")
		})
	}
}
