package timeline

import (
	"context"
	"errors"
	"fmt"
	"io"

	"classroom/domain"
)

// Target is where Import stores a lesson: the event store, through three
// functions, so that this package stays free of storage.
type Target struct {
	// LastSeq returns the last sequence number of the lesson that created
	// opens (created.Lesson), or 0 when the store has no such lesson.
	LastSeq func(ctx context.Context, created domain.Event) (int64, error)
	// Append is eventstore.Store.Append.
	Append func(ctx context.Context, events ...domain.Event) (seqs []int64, errs []error, err error)
	// SaveSnapshot stores a snapshot: the state after the event of
	// sequence s.Seq, encoded by s.MarshalSnapshot.
	SaveSnapshot func(ctx context.Context, s *domain.State, encoded []byte) error
	// SnapshotEvery is how many events apart snapshots are saved, as a live
	// room saves them; 0 means domain.SnapshotEvery. A snapshot of the final
	// state is saved too.
	SnapshotEvery int
	// Progress, when set, is told how many events have been checked and
	// appended so far.
	Progress func(checked, appended int64)
}

// Result is what Import stored.
type Result struct {
	Lesson    string // the lesson id
	Title     string
	Events    int64
	LastSeq   int64
	StateHash string
}

// appendBatch is how many events one Append call carries.
const appendBatch = 500

// Import reads a lesson exported by WriteJSON or WriteNDJSON from src and
// appends its events to the target with their ids, times, actors and
// sequence numbers unchanged, saving snapshots as a live room does.
//
// It reads src twice. The first pass checks the whole file before anything
// is stored: everything Reader checks, and that the events fold into the
// state hash the file's end names. A file that fails is refused with a
// CodeInvalid error and the store is untouched. So is a lesson the store
// holds already (CodeConflict). The second pass appends in batches of 500,
// checking that every event gets the sequence number it had.
//
// If the store fails during the second pass (it goes down, ctx ends), the
// lesson is left holding its events 1 to k, the first k of the file: the
// store appends but never deletes, and its appends are idempotent by event
// id, so the error says how far the import got. The lesson then exists, and a
// second Import of the same file is refused as a conflict; it is an
// administrator's call what to do with the partial lesson. Any other error
// in the second pass would mean src changed between the passes.
func Import(ctx context.Context, src io.ReadSeeker, t Target, lim Limits) (Result, error) {
	every := int64(t.SnapshotEvery)
	if every <= 0 {
		every = domain.SnapshotEvery
	}
	progress := t.Progress
	if progress == nil {
		progress = func(int64, int64) {}
	}
	res, created, err := checkImport(ctx, src, lim, progress)
	if err != nil {
		return Result{}, err
	}
	last, err := t.LastSeq(ctx, created)
	if err != nil {
		return Result{}, fmt.Errorf("look up lesson %s: %w", res.Lesson, err)
	}
	if last > 0 {
		return Result{}, domain.Errorf(domain.CodeConflict, "lesson %s exists already (it has %d events): nothing was imported", res.Lesson, last)
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return Result{}, fmt.Errorf("read the file again: %w", err)
	}
	r, err := NewReader(src, lim)
	if err != nil {
		return Result{}, fmt.Errorf("the file changed while it was imported: %w", err)
	}
	a := &importAppender{t: t, res: res, progress: progress, batch: make([]domain.Event, 0, appendBatch)}
	if err := a.appendAll(ctx, r, every); err != nil {
		return Result{}, a.stop(err)
	}
	return res, nil
}

// checkEvery is how many events the check of a file reads between two looks
// at ctx and two progress reports.
const checkEvery = 1000

// checkImport is Import's first pass: it reads the whole file, folds it and
// compares the state's hash with the one the file's end names. It returns
// what the file holds and the event that creates its lesson.
func checkImport(ctx context.Context, src io.Reader, lim Limits, progress func(checked, appended int64)) (Result, domain.Event, error) {
	r, err := NewReader(src, lim)
	if err != nil {
		return Result{}, domain.Event{}, err
	}
	state := domain.NewState()
	var created domain.Event
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Result{}, domain.Event{}, err
		}
		if e.Seq == 1 {
			created = e
		}
		state.Apply(e)
		if e.Seq%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return Result{}, domain.Event{}, err
			}
			progress(e.Seq, 0)
		}
	}
	end, _ := r.End()
	res := Result{Lesson: r.Header().Lesson.ID, Title: r.Header().Lesson.Title, Events: end.Events,
		LastSeq: end.LastSeq, StateHash: state.Hash()}
	if res.StateHash != end.StateHash {
		return Result{}, domain.Event{}, invalid("the events do not fold into the state the file's end names (hash %s, not %s): an event was changed",
			res.StateHash, end.StateHash)
	}
	progress(res.LastSeq, 0)
	return res, created, nil
}

// importAppender is Import's second pass: it appends a checked file's events
// in batches and saves the snapshots.
type importAppender struct {
	t        Target
	res      Result // what the first pass found
	progress func(checked, appended int64)
	batch    []domain.Event // read, not yet appended
	stored   int64          // the last sequence number appended
}

// appendAll appends the events r reads, saving a snapshot every every
// events and after the last one.
func (a *importAppender) appendAll(ctx context.Context, r *Reader, every int64) error {
	state := domain.NewState()
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("the file changed while it was imported: %w", err)
		}
		state.Apply(e)
		a.batch = append(a.batch, e)
		if len(a.batch) == appendBatch || e.Seq%every == 0 {
			if err := a.flush(ctx); err != nil {
				return err
			}
		}
		if e.Seq%every == 0 || e.Seq == a.res.LastSeq {
			if err := a.save(ctx, state); err != nil {
				return err
			}
		}
	}
	if err := a.flush(ctx); err != nil {
		return err
	}
	if a.stored != a.res.LastSeq || state.Hash() != a.res.StateHash {
		return errors.New("the file changed while it was imported")
	}
	return nil
}

// flush appends the pending batch, checking that every event got the
// sequence number it had in the file.
func (a *importAppender) flush(ctx context.Context) error {
	if len(a.batch) == 0 {
		return nil
	}
	seqs, errs, err := a.t.Append(ctx, a.batch...)
	if err != nil {
		return err
	}
	for i, e := range a.batch {
		if errs[i] != nil {
			return fmt.Errorf("event %d: %w", e.Seq, errs[i])
		}
		if seqs[i] != e.Seq {
			return domain.Errorf(domain.CodeConflict, "event %d was stored as %d: someone else wrote to the lesson", e.Seq, seqs[i])
		}
		a.stored = e.Seq
	}
	a.batch = a.batch[:0]
	a.progress(a.res.LastSeq, a.stored)
	return nil
}

// save stores a snapshot of the state, after appending what is pending.
func (a *importAppender) save(ctx context.Context, s *domain.State) error {
	if err := a.flush(ctx); err != nil {
		return err
	}
	b, err := s.MarshalSnapshot()
	if err != nil {
		return err
	}
	if err := a.t.SaveSnapshot(ctx, s, b); err != nil {
		return fmt.Errorf("save the snapshot at %d: %w", s.Seq, err)
	}
	return nil
}

// stop says how far a second pass that failed with err got.
func (a *importAppender) stop(err error) error {
	if a.stored == 0 {
		return fmt.Errorf("import lesson %s: nothing was stored: %w", a.res.Lesson, err)
	}
	return fmt.Errorf("import lesson %s stopped: the store holds its events 1 to %d of %d, which it cannot remove: %w",
		a.res.Lesson, a.stored, a.res.LastSeq, err)
}
