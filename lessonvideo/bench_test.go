package lessonvideo_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"classroom/eventstore"
	"classroom/lessonvideo"
	"classroom/lessonvideo/videotest"
)

// BenchmarkRender renders long scripted lessons (videotest.Long) and reports
// the render's wall time and CPU time (this process's and ffmpeg's, in all
// and each) per minute of lesson, by how long the lesson is, how much is drawn, how many
// students' cameras there are and the video's size. Each iteration is one
// whole render.
func BenchmarkRender(b *testing.B) {
	type scenario struct {
		name string
		long videotest.LongOptions
		w, h int
	}
	base := videotest.LongOptions{Length: 20 * time.Second, StrokesPerMinute: 60, Points: 60, Students: 1, Camera: "640x480", CameraFPS: 30}
	with := func(f func(*videotest.LongOptions)) videotest.LongOptions { o := base; f(&o); return o }
	type lesson struct {
		src lessonvideo.Source
		l   videotest.Lesson
		dir string
	}
	lessons := map[videotest.LongOptions]lesson{} // scenarios of the same lesson share its recordings
	for _, sc := range []scenario{
		{"seconds=20/strokes=60/students=1/720p", base, 1280, 720},
		{"seconds=20/strokes=60/students=1/480p", base, 854, 480},
		{"seconds=20/strokes=60/students=1/1080p", base, 1920, 1080},
		{"seconds=20/strokes=600/students=1/720p", with(func(o *videotest.LongOptions) { o.StrokesPerMinute = 600 }), 1280, 720},
		{"seconds=20/strokes=60/students=3/720p", with(func(o *videotest.LongOptions) { o.Students = 3 }), 1280, 720},
		{"seconds=40/strokes=60/students=1/720p", with(func(o *videotest.LongOptions) { o.Length = 40 * time.Second }), 1280, 720},
	} {
		outer := b // the lessons outlive each scenario
		b.Run(sc.name, func(b *testing.B) {
			ls, ok := lessons[sc.long]
			if !ok {
				ls.dir = outer.TempDir()
				store, err := eventstore.OpenSQLite(context.Background(), ls.dir, slog.New(slog.DiscardHandler))
				if err != nil {
					b.Fatal(err)
				}
				outer.Cleanup(func() { store.Close() })
				recs := filepath.Join(ls.dir, "recordings")
				ls.l = videotest.Long(b, store, recs, time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC), sc.long)
				ls.src = lessonvideo.Source{Store: store, Decks: store, Recordings: recs}
				lessons[sc.long] = ls
			}
			opt := lessonvideo.Options{Width: sc.w, Height: sc.h}
			minutes := sc.long.Length.Minutes()
			b.ResetTimer()
			self0, kids0 := cpuTime()
			began := time.Now()
			for i := 0; i < b.N; i++ {
				if err := lessonvideo.Render(context.Background(), ls.src, ls.l.ID, filepath.Join(ls.dir, fmt.Sprint(sc.w, "-", i, ".mp4")), opt, nil); err != nil {
					b.Fatal(err)
				}
			}
			per := func(d time.Duration) float64 { return d.Seconds() / float64(b.N) / minutes }
			self1, kids1 := cpuTime()
			wall := per(time.Since(began))
			b.ReportMetric(wall, "wall-s/lesson-min")
			b.ReportMetric(per(self1-self0+kids1-kids0), "cpu-s/lesson-min")
			b.ReportMetric(per(self1-self0), "go-cpu-s/lesson-min")
			b.ReportMetric(per(kids1-kids0), "ffmpeg-cpu-s/lesson-min")
			b.ReportMetric(wall/60, "x-realtime")
		})
	}
}

// cpuTime is the CPU time of this process (the frames drawn in Go) and of
// its waited-for children (ffmpeg).
func cpuTime() (self, kids time.Duration) {
	var s, k syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &s)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &k)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(s.Utime) + tv(s.Stime), tv(k.Utime) + tv(k.Stime)
}
