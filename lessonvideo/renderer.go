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
	// Dir keeps the videos: <lesson>.mp4 when complete, <lesson>.mp4.part
	// while being written, <lesson>.queued while asked for and not done
	// (what a restarted server takes up again), <lesson>.failed with the
	// error of the last attempt.
	Dir     string
	Options Options
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
	queue chan uuid.UUID

	mu   sync.Mutex
	jobs map[uuid.UUID]*Status // queued and rendering
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
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, err
	}
	r := &Renderer{cfg: cfg, log: cfg.Logger, queue: make(chan uuid.UUID, 1024), jobs: map[uuid.UUID]*Status{}}
	entries, err := os.ReadDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, ".part"), strings.HasPrefix(name, ".render-"):
			os.RemoveAll(filepath.Join(cfg.Dir, name)) // an interrupted render's
		case strings.HasSuffix(name, ".queued"):
			if id, err := uuid.Parse(strings.TrimSuffix(name, ".queued")); err == nil {
				r.jobs[id] = &Status{State: StateQueued}
				r.queue <- id
			}
		}
	}
	return r, nil
}

func (r *Renderer) path(id uuid.UUID, ext string) string {
	return filepath.Join(r.cfg.Dir, id.String()+ext)
}

// Dir is the directory the renderer keeps the videos in.
func (r *Renderer) Dir() string { return r.cfg.Dir }

// Remove deletes every file a renderer keeps of a lesson in dir (its video,
// a part being written, its place in the queue, its failure); none is not
// an error. A render of the lesson still running may write its video after
// it; deleting the lesson again removes that.
func Remove(dir string, lesson uuid.UUID) error {
	for _, ext := range []string{".mp4", ".mp4.part", ".queued", ".failed"} {
		if err := os.Remove(filepath.Join(dir, lesson.String()+ext)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Start asks for a lesson's video: it is queued unless it is queued or
// being rendered already. A video rendered before is made again (the
// recording may have grown); until the new one is complete the old one is
// still offered.
func (r *Renderer) Start(id uuid.UUID) (Status, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, ok := r.jobs[id]; ok {
		return *st, nil
	}
	if len(r.jobs) >= cap(r.queue) {
		return Status{}, domain.Errorf(domain.CodeRateLimited, "%d videos are waiting already", len(r.jobs))
	}
	if err := os.WriteFile(r.path(id, ".queued"), nil, 0o640); err != nil {
		return Status{}, err
	}
	os.Remove(r.path(id, ".failed"))
	st := &Status{State: StateQueued}
	r.jobs[id] = st
	r.queue <- id
	return *st, nil
}

// Status reports where a lesson's video is.
func (r *Renderer) Status(id uuid.UUID) Status {
	r.mu.Lock()
	if st, ok := r.jobs[id]; ok {
		s := *st
		r.mu.Unlock()
		return s
	}
	r.mu.Unlock()
	if fi, err := os.Stat(r.path(id, ".mp4")); err == nil {
		t := fi.ModTime().UTC()
		return Status{State: StateDone, Percent: 100, Size: fi.Size(), Done: &t}
	}
	if b, err := os.ReadFile(r.path(id, ".failed")); err == nil {
		return Status{State: StateFailed, Error: string(b)}
	}
	return Status{State: StateNone}
}

// File returns the complete video of a lesson, to be opened; CodeNotFound
// when there is none (a render under way is never offered).
func (r *Renderer) File(id uuid.UUID) (string, error) {
	p := r.path(id, ".mp4")
	if _, err := os.Stat(p); err != nil {
		return "", domain.Errorf(domain.CodeNotFound, "lesson %s has no video yet", id)
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
				case id := <-r.queue:
					r.render(ctx, id)
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

// render renders one lesson into <lesson>.mp4.part and renames it into place.
func (r *Renderer) render(ctx context.Context, id uuid.UUID) {
	r.set(id, Status{State: StateRendering})
	part := r.path(id, ".mp4.part")
	began := time.Now()
	err := Render(ctx, r.cfg.Source, id, part, r.cfg.Options, func(p Progress) {
		// 99 at most: the encoder finishes the file after the last frame.
		r.set(id, Status{State: StateRendering, Percent: 99 * float64(p.Frames) / float64(max(1, p.Total)),
			LeftS: p.Left().Seconds()})
	})
	if err == nil {
		err = os.Rename(part, r.path(id, ".mp4"))
	}
	if err != nil {
		os.Remove(part)
		if ctx.Err() != nil {
			return // still queued on disk: the next Run takes it up
		}
		r.log.Warn("lesson video", "lesson", id, "err", err)
		os.WriteFile(r.path(id, ".failed"), []byte(err.Error()), 0o640)
	} else {
		r.log.Info("lesson video rendered", "lesson", id, "took", time.Since(began))
	}
	os.Remove(r.path(id, ".queued"))
	r.mu.Lock()
	delete(r.jobs, id)
	r.mu.Unlock()
}

func (r *Renderer) set(id uuid.UUID, st Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.jobs[id]; ok {
		r.jobs[id] = &st
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
		if !ended || r.madeSince(id, last) {
			continue
		}
		if _, err := r.Start(id); err != nil {
			r.log.Warn("lesson video: queue", "lesson", id, "err", err)
		}
	}
}

// madeSince tells whether the lesson's video was made, or last failed, or
// is under way, after t.
func (r *Renderer) madeSince(id uuid.UUID, t time.Time) bool {
	r.mu.Lock()
	_, busy := r.jobs[id]
	r.mu.Unlock()
	if busy {
		return true
	}
	for _, ext := range []string{".mp4", ".failed"} {
		if fi, err := os.Stat(r.path(id, ext)); err == nil && fi.ModTime().After(t) {
			return true
		}
	}
	return false
}
