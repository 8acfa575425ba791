package lessonvideo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sys/unix"

	"classroom/domain"
	"classroom/domain/timeline"
	"classroom/eventstore"
	"classroom/lessonlog"
	"classroom/media/recorder"
)

// The formats a lesson's video is rendered in.
const (
	// FormatMP4 is H.264 video and AAC audio in MP4, chat as a mov_text
	// subtitle track: what plays anywhere.
	FormatMP4 = "mp4"
	// FormatWebM is VP9 video and Opus audio in WebM, chat as a WebVTT
	// subtitle track.
	FormatWebM = "webm"
)

// Formats lists the formats a video can be rendered in.
func Formats() []string { return []string{FormatMP4, FormatWebM} }

// checkFormat refuses a format that is not one of Formats.
func checkFormat(f string) error {
	if !slices.Contains(Formats(), f) {
		return domain.Errorf(domain.CodeInvalid, "no video format %q (%s)", f, strings.Join(Formats(), " or "))
	}
	return nil
}

// Options shape a render. Zero fields mean the defaults.
type Options struct {
	Format        string // FormatMP4 (the default) or FormatWebM
	Width, Height int    // of the frame; 1280 × 720
	FPS           int    // frames a second; 15
	// Preset is libx264's: "ultrafast" by default, the cheapest, which
	// makes files about 1.6 times as large as "superfast" at the same CRF
	// and costs a third less CPU than "veryfast" (docs/benchmarks.md).
	Preset string
	CRF    int // libx264's quality; 23
	// Threads caps the threads ffmpeg decodes, filters and encodes with:
	// 0 means 1, so that on a small server the live lessons keep the other
	// cores (a render then costs less CPU in all, too); a negative value
	// lets ffmpeg choose (a thread per core).
	Threads int
	// Nice is the niceness the render runs at, ffmpeg and the thread that
	// draws the frames (19, the lowest priority; -1 leaves it as it is).
	// Both are also put in Linux's idle scheduling class (SCHED_IDLE),
	// which gives way to any other task at once: niceness alone still
	// lets a render run out its time slice while a live lesson waits.
	Nice   int
	FFmpeg string // the ffmpeg program; "ffmpeg" on PATH
}

func (o Options) withDefaults() Options {
	if o.Format == "" {
		o.Format = FormatMP4
	}
	if o.Width <= 0 || o.Height <= 0 {
		o.Width, o.Height = 1280, 720
	}
	o.Width, o.Height = o.Width&^1, o.Height&^1
	if o.FPS <= 0 {
		o.FPS = 15
	}
	if o.Preset == "" {
		o.Preset = "ultrafast"
	}
	if o.CRF <= 0 {
		o.CRF = 23
	}
	if o.Threads == 0 {
		o.Threads = 1
	}
	if o.Nice == 0 {
		o.Nice = 19
	}
	if o.FFmpeg == "" {
		o.FFmpeg = "ffmpeg"
	}
	return o
}

// Source is where a render reads the lesson from.
type Source struct {
	Store eventstore.Store
	Decks eventstore.Decks // nil: slides are drawn as blank pages
	// Recordings is the directory of the recordings, a directory per lesson
	// (recorder.ListRecordings).
	Recordings string
}

// Progress is how far a render has come, in frames.
type Progress struct {
	Frames, Total int64
	Elapsed       time.Duration
}

// Left estimates the time the render still takes, from its pace so far.
func (p Progress) Left() time.Duration {
	if p.Frames <= 0 {
		return 0
	}
	return time.Duration(float64(p.Elapsed) / float64(p.Frames) * float64(p.Total-p.Frames))
}

// Render renders a lesson's recording span into a video file at path, in
// opt.Format (which it creates or replaces; the caller renames it into
// place once Render returns nil). progress, when not nil, is called after every second's
// frames.
func Render(ctx context.Context, src Source, lesson uuid.UUID, path string, opt Options, progress func(Progress)) error {
	opt = opt.withDefaults()
	if err := checkFormat(opt.Format); err != nil {
		return err
	}
	dir := filepath.Join(src.Recordings, lesson.String())
	recs, err := recorder.ListRecordings(dir)
	if err != nil && len(recs) == 0 {
		return err
	}
	// The video shows the main room: the breakout groups' media, recorded
	// beside it, is not the class's.
	recs = slices.DeleteFunc(recs, func(r recorder.Recording) bool { return r.Group != "" })
	plan, err := ReadPlan(ctx, src.Store, lesson, recs)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp(filepath.Dir(path), ".render-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	layout := NewLayout(opt.Width, opt.Height)
	enc := &encoder{plan: plan, layout: layout, opt: opt, dir: dir, work: work}
	args, err := enc.args(path)
	if err != nil {
		return err
	}
	name, args := opt.FFmpeg, args
	if opt.Nice > 0 {
		name, args = "nice", append([]string{"-n", strconv.Itoa(opt.Nice), opt.FFmpeg}, args...)
		if chrt, err := exec.LookPath("chrt"); err == nil {
			name, args = chrt, append([]string{"--idle", "0", "nice"}, args...)
		}
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 5 * time.Second
	// ffmpeg goes with the server: a killed server leaves no render
	// writing on. The signal comes when the thread that started ffmpeg
	// ends, so this goroutine keeps its thread until ffmpeg has ended.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var stderr bytes.Buffer
	cmd.Stderr = &limited{w: &stderr, n: 16 << 10}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("lessonvideo: start ffmpeg: %w", err)
	}
	framesErr := make(chan error, 1)
	go func() {
		framesErr <- writeFrames(ctx, src, plan, layout, opt, stdin, progress)
		stdin.Close()
	}()
	ferr := <-framesErr
	ffmpegQuit := errors.Is(ferr, syscall.EPIPE) // ffmpeg's error says why
	if ferr != nil && !ffmpegQuit {
		cancel()
	}
	werr := cmd.Wait()
	switch {
	case parent.Err() != nil:
		return parent.Err()
	case ferr != nil && !ffmpegQuit:
		return ferr
	case werr != nil:
		return fmt.Errorf("lessonvideo: ffmpeg: %w: %s", werr, strings.TrimSpace(stderr.String()))
	}
	return ferr
}

// writeFrames folds the lesson from the span's start and writes a frame
// every 1/FPS seconds of it to w, in YUV 4:2:0, drawing and converting a
// frame again only when an event came since the last one (otherwise the
// last frame's bytes are written again). It runs on a thread of its own, at the render's
// niceness, so that drawing yields the processor to live lessons.
func writeFrames(ctx context.Context, src Source, plan *Plan, layout Layout, opt Options, w io.Writer, progress func(Progress)) error {
	runtime.LockOSThread() // never unlocked: the niced thread ends with the goroutine
	if opt.Nice > 0 {
		tid := syscall.Gettid()
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, opt.Nice)
		_ = unix.SchedSetAttr(tid, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE}, 0)
	}
	s, err := lessonlog.Seek(ctx, src.Store, plan.Lesson, timeline.AtOffset(plan.Start.Sub(plan.Created)))
	if err != nil {
		return err
	}
	framer, err := NewFramer(layout, src.Decks, plan.Lesson)
	if err != nil {
		return err
	}
	next, stop := iter.Pull2(src.Store.Events(ctx, plan.Lesson, s.Seq))
	defer stop()
	pending, more := domain.Event{}, true
	havePending := false
	frame := make([]byte, I420Size(layout.Width, layout.Height))
	total := FrameCount(plan.Duration(), opt.FPS)
	began := time.Now()
	drawn := int64(-1)
	for i := int64(0); i < total; i++ {
		at := plan.Start.Add(FrameTime(i, opt.FPS))
		changed := drawn < 0
		for more {
			if !havePending {
				e, err, ok := next()
				if !ok {
					more = false
					break
				}
				if err != nil {
					return err
				}
				pending, havePending = e, true
			}
			if pending.Time.After(at) {
				break
			}
			s.Apply(pending)
			havePending, changed = false, true
		}
		if changed {
			if err := framer.Draw(ctx, s); err != nil {
				return err
			}
			ToI420(frame, framer.Frame)
			drawn = i
		}
		if _, err := w.Write(frame); err != nil {
			return fmt.Errorf("lessonvideo: write frame %d: %w", i, err)
		}
		if progress != nil && ((i+1)%int64(opt.FPS) == 0 || i+1 == total) {
			progress(Progress{Frames: i + 1, Total: total, Elapsed: time.Since(began)})
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// FrameCount is the number of frames of a span: its length in frames,
// rounded.
func FrameCount(d time.Duration, fps int) int64 {
	return int64(d.Seconds()*float64(fps) + 0.5)
}

// FrameTime is when frame i shows, from the span's start.
func FrameTime(i int64, fps int) time.Duration {
	return time.Duration(i) * time.Second / time.Duration(fps)
}

// limited keeps the first n bytes written to it.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(b []byte) (int, error) {
	if l.n > 0 {
		k := min(l.n, len(b))
		l.w.Write(b[:k])
		l.n -= k
	}
	return len(b), nil
}
