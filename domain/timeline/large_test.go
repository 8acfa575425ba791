package timeline_test

import (
	"fmt"
	"io"
	"iter"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/domain/timeline"
)

// chatty yields a lesson of n events made up as it goes (chat, hands, slide
// changes), holding nothing, and samples the live heap every 10,000 events.
func chatty(n int, peak *uint64) iter.Seq2[domain.Event, error] {
	return func(yield func(domain.Event, error) bool) {
		lesson, start := uuid.New(), time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
		for seq := int64(1); seq <= int64(n); seq++ {
			e := domain.Event{ID: uuid.New(), Lesson: lesson, Seq: seq, Version: 1, Actor: "student-1", Role: domain.RoleStudent,
				Time: start.Add(time.Duration(seq) * 30 * time.Millisecond)}
			switch {
			case seq == 1:
				e.Actor, e.Role, e.Payload = "", domain.RoleSystem, &domain.LessonCreated{Title: "Long"}
			case seq == 2:
				e.Payload = &domain.ParticipantJoined{Name: "Ana"}
			case seq%100 == 0:
				e.Actor, e.Role, e.Payload = "teacher", domain.RoleTeacher, &domain.SlideChanged{Slide: domain.Slide{Page: int(seq/100) % 5}}
			case seq%2 == 0:
				e.Payload = &domain.HandRaised{}
			default:
				e.Payload = &domain.ChatPosted{Text: fmt.Sprintf("message %d: could you say that again, please?", seq)}
			}
			if seq%10000 == 0 {
				runtime.GC()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				*peak = max(*peak, m.HeapAlloc)
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// TestLargeExportStreams exports a 100,000-event lesson in every streaming
// format: the live heap stays far below the size of what is written, so no
// format holds the log.
func TestLargeExportStreams(t *testing.T) {
	for _, c := range []struct {
		name  string
		write func(io.Writer, iter.Seq2[domain.Event, error]) (int64, error)
		least int64 // bytes the export must come to
	}{
		{"json", timeline.WriteJSON, 20 << 20}, {"ndjson", timeline.WriteNDJSON, 20 << 20}, {"csv", timeline.WriteCSV, 8 << 20},
		{"chapters", timeline.WriteChapters, 30 << 10}, {"chat", timeline.WriteChat, 4 << 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			base, peak := m.HeapAlloc, uint64(0)
			var w countingWriter
			n, err := c.write(&w, chatty(100000, &peak))
			if err != nil || n != 100000 {
				t.Fatalf("%d events: %v", n, err)
			}
			grew := int64(peak) - int64(base)
			t.Logf("%d bytes written, live heap grew by at most %d bytes", w.n, grew)
			if w.n < c.least || grew > 8<<20 {
				t.Fatalf("wrote %d bytes with the heap %d bytes above where it started", w.n, grew)
			}
		})
	}
}
