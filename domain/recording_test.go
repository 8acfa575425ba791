package domain

import "testing"

// TestIsRecordingIsTheFold: for every log of up to six events after its
// lesson.created, drawn from the kinds that touch Recording or the
// lesson's status and a few that do not, IsRecording of the log's last
// recording event and of whether it holds a lesson.ended is what Apply folds
// the log to. The logs are stored ones, not decided: they hold what Decide
// refuses (a recording started twice, stopped when not started, started
// after the lesson ended), which Apply must fold all the same.
func TestIsRecordingIsTheFold(t *testing.T) {
	kinds := []Payload{&RecordingStarted{}, &RecordingStopped{}, &LessonEnded{}, &LessonStarted{},
		&ParticipantJoined{Name: "Tina"}, &ParticipantLeft{}, &LessonCreated{Title: "Again"}}
	created, err := NewLesson(id("lesson"), id("created"), "Recorded", t0)
	if err != nil {
		t.Fatal(err)
	}
	created.Seq = 1
	const most = 6
	logs := 0
	var each func(log []Payload)
	each = func(log []Payload) {
		s := NewState()
		s.Apply(created)
		var last Kind
		ended := false
		for i, p := range log {
			s.Apply(Event{ID: id("event"), Lesson: created.Lesson, Seq: int64(i + 2), Version: EventVersion,
				Actor: teacher, Role: RoleTeacher, Time: t0, Payload: p})
			switch p.Kind() {
			case KindRecordingStarted, KindRecordingStopped:
				last = p.Kind()
			case KindLessonEnded:
				ended = true
			}
		}
		logs++
		if got := IsRecording(last, ended); got != s.Recording {
			seen := make([]Kind, len(log))
			for i, p := range log {
				seen[i] = p.Kind()
			}
			t.Fatalf("after %v: IsRecording(%q, %v) = %v, the fold says %v", seen, last, ended, got, s.Recording)
		}
		if len(log) == most {
			return
		}
		for _, p := range kinds {
			each(append(log, p))
		}
	}
	each(nil)
	if logs < 100_000 {
		t.Fatalf("checked %d logs", logs)
	}
}
