package domain

// IsRecording is State.Recording after a stored log, from two facts a store
// reads without folding the log: last, the kind of the log's last
// recording.started or recording.stopped event ("" when it holds neither),
// and ended, whether it holds a lesson.ended. It equals what Apply folds the
// whole log to, for a log that begins with its lesson.created, as every
// stored log does: only those two kinds set Recording, lesson.ended clears
// it, and after lesson.ended nothing is applied but a participant leaving.
// So whoever asks only whether a lesson is being recorded need not restore
// and fold its state.
func IsRecording(last Kind, ended bool) bool {
	return last == KindRecordingStarted && !ended
}
