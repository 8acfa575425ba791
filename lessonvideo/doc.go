// Package lessonvideo renders a recorded lesson into one video file people
// take away: an MP4 (H.264, AAC) of the slide with its board drawn as it was
// drawn, the teacher's camera or screen, the student who had the floor while
// they had it, the lesson's audio mixed, chat as a subtitle track and a
// chapter at every slide change. The board is drawn by a Go rasterizer
// (BoardPainter) from the same fold of the log that drives the replay
// (lessonlog.Seek, domain.State); the encoding, decoding of the recorded
// WebM files and mixing are ffmpeg's, run as a low-priority subprocess fed
// raw frames. A Renderer runs renders in the background, one lesson at a
// time by default, and only ever shows a finished file: a render is written
// under a temporary name and renamed when complete.
//
// It must never import realtime or web, decide who may see a lesson, or
// change the log, the decks or the recordings it reads.
package lessonvideo
