package realtime

import (
	"context"
	"path/filepath"

	"classroom/domain"
	"classroom/media/recorder"
)

// Recording: the teacher's recording.started and recording.stopped events
// start and stop a segment of the lesson's stage recording (see
// recorder.Recorder.Start), one file per track, in
// Config.RecordingsDir/<lesson>/. lesson.ended stops it, and so does the
// room closing (its stage finalizes the files). A room that loads a lesson
// whose state says recording is on resumes it, in new files of the same
// segment. Of several nodes sharing the database, the lesson's owner
// records, all of the lesson's tracks, wherever they were published.

// recordEvents starts and stops recording as committed events say. Called
// by publish, after the stage is updated.
func (r *Room) recordEvents(events []domain.Event) {
	if !r.records() {
		return
	}
	for _, e := range events {
		switch e.Payload.(type) {
		case *domain.RecordingStarted:
			r.startRecording(e.Seq)
		case *domain.RecordingStopped, *domain.LessonEnded:
			if r.recorder != nil {
				r.recorder.Stop(e.Time)
			}
		}
	}
}

// resumeRecording restarts the recording of a lesson loaded while its
// state says recording is on (the server restarted, or the room closed and
// opened again), as a segment named by the last recording.started event.
func (r *Room) resumeRecording(ctx context.Context) {
	if !r.records() || r.state == nil || !r.state.Recording {
		return
	}
	var segment int64
	for e, err := range r.srv.cfg.Store.Events(ctx, r.lesson, 0) {
		if err != nil {
			r.srv.log.Warn("recording: find the recording.started event", "lesson", r.lesson, "err", err)
			break
		}
		if _, ok := e.Payload.(*domain.RecordingStarted); ok {
			segment = e.Seq
		}
	}
	r.startRecording(segment)
}

// records reports whether this room records its lesson: with a recordings
// directory, and on the lesson's owner only, whose stage takes every track
// of the lesson, relayed from the other nodes (relay.go); a follower's
// recording would be a copy.
func (r *Room) records() bool { return r.srv.cfg.RecordingsDir != "" && r.link == nil }

func (r *Room) startRecording(segment int64) {
	if r.recorder == nil {
		r.recorder = recorder.New(r.stage, r.srv.log.With("lesson", r.lesson))
	}
	err := r.recorder.Start(recorder.Options{Dir: filepath.Join(r.srv.cfg.RecordingsDir, r.lesson.String()),
		Lesson: r.lesson.String(), Segment: segment, Now: r.srv.now})
	if err != nil {
		r.srv.log.Error("recording: start", "lesson", r.lesson, "segment", segment, "err", err)
	}
}
