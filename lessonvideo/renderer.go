package lessonvideo

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/media/recorder"
)

// Render states, as Status reports them.
const (
	StateNone      = "none"      // never asked for, nothing rendered
	StateQueued    = "queued"    // waiting for a free slot
	StateRendering = "rendering" // being rendered now
	StateDone      = "done"      // the file is complete
	StateFailed    = "failed"    // the last attempt failed; Error says why
)

// Status is where a lesson's video is.
type Status struct {
	State   string     `json:"state"`
	Percent float64    `json:"percent"`         // of the frames, while rendering
	LeftS   float64    `json:"seconds_left"`    // Left in seconds
	Size    int64      `json:"size,omitempty"`  // of the finished file
	Error   string     `json:"error,omitempty"` // why the last attempt failed
	Done    *time.Time `json:"rendered,omitempty"`
}

// RendererConfig configures a Renderer.
type RendererConfig struct {
	Source Source
	// Dir keeps the videos, for each format F (mp4, webm): <lesson>.F when
	// complete, <lesson>.F.part while being written, <lesson>.F.queued
	// while asked for and not done (what a restarted server takes up
	// again, and what deleting the lesson removes to stop its render),
	// <lesson>.F.failed with the error of the last attempt.
	Dir     string
	Options Options // Format is ignored: each render has its own
	// Formats are those rendered on their own when a recording ends; nil
	// means MP4 alone. Any format can be asked for with Start.
	Formats []string
	// Parallel is how many lessons render at once; 0 means 1.
	Parallel int
	// Scan is how often the recordings are looked at for a lesson whose
	// recording has ended since its video was made; 0 means 30 seconds,
	// a negative value never.
	Scan   time.Duration
	Logger *slog.Logger
}

// Renderer renders lessons' videos in the background, Parallel at a time,
// and keeps them in Dir. A video is offered only once complete: it is
// written under a temporary name and renamed at the end, and a render a
// crash or kill interrupted starts again from the beginning when the next
// Renderer over the same Dir runs. It is safe for concurrent use.
type Renderer struct {
	cfg   RendererConfig
	log   *slog.Logger
	queue chan job

	mu   sync.Mutex
	jobs map[job]*Status // queued and rendering
}

// maxQueued is how many videos may wait for a render slot at once; Start
// refuses more.
const maxQueued = 1024

// job is one video to render: a lesson in a format.
type job struct {
	lesson uuid.UUID
	format string
}

// NewRenderer returns a Renderer over cfg.Dir, with the renders a previous
// one left unfinished queued again.
func NewRenderer(cfg RendererConfig) (*Renderer, error) {
	if cfg.Parallel <= 0 {
		cfg.Parallel = 1
	}
	if cfg.Scan == 0 {
		cfg.Scan = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Formats == nil {
		cfg.Formats = []string{FormatMP4}
	}
	for _, f := range cfg.Formats {
		if err := checkFormat(f); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, err
	}
	r := &Renderer{cfg: cfg, log: cfg.Logger, jobs: map[job]*Status{}}
	entries, err := os.ReadDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	var left []job // queued by a previous renderer, in the order found
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, ".part"), strings.HasPrefix(name, ".render-"):
			os.RemoveAll(filepath.Join(cfg.Dir, name)) // an interrupted render's
		case strings.HasSuffix(name, ".queued"), strings.HasSuffix(name, ".failed"):
			ext := filepath.Ext(name)
			stem := strings.TrimSuffix(name, ext)
			j, older := job{format: FormatMP4}, true // <lesson>.queued, as older servers named an MP4's
			if i := strings.IndexByte(stem, '.'); i >= 0 {
				stem, j.format, older = stem[:i], stem[i+1:], false
			}
			id, err := uuid.Parse(stem)
			if err != nil || checkFormat(j.format) != nil {
				continue
			}
			j.lesson = id
			if older { // renamed as this renderer names it
				if err := os.Rename(filepath.Join(cfg.Dir, name), r.path(j, ext)); err != nil {
					return nil, err
				}
			}
			if ext == ".queued" {
				r.jobs[j] = &Status{State: StateQueued}
				left = append(left, j)
			}
		}
	}
	// The queue holds at least what was left, however much that is:
	// sending more than it holds would block here, before Run could
	// take any of it.
	r.queue = make(chan job, max(maxQueued, len(left)))
	for _, j := range left {
		r.queue <- j
	}
	return r, nil
}

// path is the file of a job with the suffix ext: "" for the video.
func (r *Renderer) path(j job, ext string) string {
	return filepath.Join(r.cfg.Dir, j.lesson.String()+"."+j.format+ext)
}

// Dir is the directory the renderer keeps the videos in.
func (r *Renderer) Dir() string { return r.cfg.Dir }

// Remove deletes every file a renderer keeps of a lesson in dir, in every
// format (its video, a part being written, its place in the queue, its
// failure); none is not an error. The place in the queue goes first: a
// render of the lesson under way, in this process or another over the same
// dir, sees it gone, stops within a second of frames and removes what it
// wrote, and one that was finishing removes the video it put in place.
func Remove(dir string, lesson uuid.UUID) error {
	var names []string
	for _, f := range Formats() {
		names = append(names, "."+f+".queued")
	}
	names = append(names, ".queued", ".failed") // as older servers named an MP4's
	for _, f := range Formats() {
		names = append(names, "."+f, "."+f+".part", "."+f+".failed")
	}
	for _, ext := range names {
		if err := os.Remove(filepath.Join(dir, lesson.String()+ext)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Start asks for a lesson's video in a format (FormatMP4, FormatWebM): it
// is queued unless it is queued or being rendered already. A video
// rendered before is made again (the recording may have grown); until the
// new one is complete the old one is still offered.
func (r *Renderer) Start(id uuid.UUID, format string) (Status, error) {
	if err := checkFormat(format); err != nil {
		return Status{}, err
	}
	j := job{id, format}
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, ok := r.jobs[j]; ok {
		return *st, nil
	}
	if len(r.jobs) >= cap(r.queue) {
		return Status{}, domain.Errorf(domain.CodeRateLimited, "%d videos are waiting already", len(r.jobs))
	}
	if err := os.WriteFile(r.path(j, ".queued"), nil, 0o640); err != nil {
		return Status{}, err
	}
	os.Remove(r.path(j, ".failed"))
	st := &Status{State: StateQueued}
	r.jobs[j] = st
	r.queue <- j
	return *st, nil
}

// Status reports where a lesson's video in a format is; an unknown format
// has none.
func (r *Renderer) Status(id uuid.UUID, format string) Status {
	if checkFormat(format) != nil {
		return Status{State: StateNone}
	}
	j := job{id, format}
	r.mu.Lock()
	if st, ok := r.jobs[j]; ok {
		s := *st
		r.mu.Unlock()
		return s
	}
	r.mu.Unlock()
	if fi, err := os.Stat(r.path(j, "")); err == nil {
		t := fi.ModTime().UTC()
		return Status{State: StateDone, Percent: 100, Size: fi.Size(), Done: &t}
	}
	if b, err := os.ReadFile(r.path(j, ".failed")); err == nil {
		return Status{State: StateFailed, Error: string(b)}
	}
	return Status{State: StateNone}
}

// File returns the complete video of a lesson in a format, to be opened;
// CodeNotFound when there is none (a render under way is never offered).
func (r *Renderer) File(id uuid.UUID, format string) (string, error) {
	if err := checkFormat(format); err != nil {
		return "", err
	}
	p := r.path(job{id, format}, "")
	if _, err := os.Stat(p); err != nil {
		return "", domain.Errorf(domain.CodeNotFound, "lesson %s has no %s video yet", id, format)
	}
	return p, nil
}

// Run renders what is queued, Parallel lessons at a time, and looks for
// lessons whose recording has ended every Scan, until ctx is done. A render
// cut short by ctx stays queued, for the next Run.
func (r *Renderer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range r.cfg.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-r.queue:
					r.render(ctx, j)
				}
			}
		}()
	}
	if r.cfg.Scan > 0 {
		t := time.NewTicker(r.cfg.Scan)
		defer t.Stop()
		for {
			r.scan()
			select {
			case <-ctx.Done():
				wg.Wait()
				return
			case <-t.C:
			}
		}
	}
	wg.Wait()
}

// render renders one job into <lesson>.F.part and renames it into place,
// unless the lesson was deleted meanwhile (Remove took its place in the
// queue): then the render stops and leaves nothing.
func (r *Renderer) render(ctx context.Context, j job) {
	defer func() {
		r.mu.Lock()
		delete(r.jobs, j)
		r.mu.Unlock()
	}()
	if !r.queued(j) {
		return // deleted while it waited
	}
	r.set(j, Status{State: StateRendering})
	part, final := r.path(j, ".part"), r.path(j, "")
	began := time.Now()
	renderCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	opt := r.cfg.Options
	opt.Format = j.format
	err := Render(renderCtx, r.cfg.Source, j.lesson, part, opt, func(p Progress) {
		if !r.queued(j) {
			cancel()
			return
		}
		// 99 at most: the encoder finishes the file after the last frame.
		r.set(j, Status{State: StateRendering, Percent: 99 * float64(p.Frames) / float64(max(1, p.Total)),
			LeftS: p.Left().Seconds()})
	})
	if err == nil {
		err = os.Rename(part, final)
	}
	// Deleted: whatever was written goes. Checked after the rename, so
	// that a Remove that came before it is seen here and one after it
	// removes the video itself.
	if !r.queued(j) {
		os.Remove(part)
		os.Remove(final)
		r.log.Info("lesson video dropped: the lesson was deleted", "lesson", j.lesson, "format", j.format)
		return
	}
	if err != nil {
		os.Remove(part)
		if ctx.Err() != nil {
			return // still queued on disk: the next Run takes it up
		}
		r.log.Warn("lesson video", "lesson", j.lesson, "format", j.format, "err", err)
		os.WriteFile(r.path(j, ".failed"), []byte(err.Error()), 0o640)
	} else {
		r.log.Info("lesson video rendered", "lesson", j.lesson, "format", j.format, "took", time.Since(began))
	}
	os.Remove(r.path(j, ".queued"))
}

// queued tells whether a job still has its place in the queue on disk,
// which only Remove takes away while it is under way.
func (r *Renderer) queued(j job) bool {
	_, err := os.Stat(r.path(j, ".queued"))
	return err == nil
}

func (r *Renderer) set(j job, st Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.jobs[j]; ok {
		r.jobs[j] = &st
	}
}

// scan queues the lessons whose recording has ended (every file of it has
// its end) after their video was made or last failed.
func (r *Renderer) scan() {
	dirs, err := os.ReadDir(r.cfg.Source.Recordings)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			r.log.Warn("lesson video: scan recordings", "err", err)
		}
		return
	}
	for _, d := range dirs {
		id, err := uuid.Parse(d.Name())
		if err != nil || !d.IsDir() {
			continue
		}
		recs, _ := recorder.ListRecordings(filepath.Join(r.cfg.Source.Recordings, d.Name()))
		var last time.Time
		ended := len(recs) > 0
		for _, rec := range recs {
			if rec.End == nil {
				ended = false
				break
			}
			last = later(last, *rec.End)
		}
		if !ended {
			continue
		}
		for _, f := range r.cfg.Formats {
			if r.madeSince(job{id, f}, last) {
				continue
			}
			if _, err := r.Start(id, f); err != nil {
				r.log.Warn("lesson video: queue", "lesson", id, "format", f, "err", err)
			}
		}
	}
}

// madeSince tells whether the job's video was made, or last failed, or is
// under way, after t.
func (r *Renderer) madeSince(j job, t time.Time) bool {
	r.mu.Lock()
	_, busy := r.jobs[j]
	r.mu.Unlock()
	if busy {
		return true
	}
	for _, ext := range []string{"", ".failed"} {
		if fi, err := os.Stat(r.path(j, ext)); err == nil && fi.ModTime().After(t) {
			return true
		}
	}
	return false
}
