-- +goose Up
-- The recording.started and recording.stopped events of each lesson, by
-- sequence: whether a lesson is being recorded (asked by every student
-- before their camera is used) is its last such event's kind, one read of
-- this index however long the lesson's log, where the fold that says so
-- restores a snapshot and folds up to domain.SnapshotEvery events. Only
-- those events are indexed: the other appends write nothing more. The
-- store's query names the same kinds, as literals, so that the planner
-- proves it may use the index. Building it reads the whole events table
-- once, while appends wait (nodes are stopped across a migration anyway).
CREATE INDEX events_recording ON events (lesson_id, seq)
    WHERE kind IN ('recording.started', 'recording.stopped');

-- +goose Down
DROP INDEX events_recording;
