package recorder

import (
	"bufio"
	"os"
	"sync"
)

// bufferedFile is the file ebml-go writes: buffered appends, and writes at
// an offset (cues, duration) after a flush. It never returns a write error
// to ebml-go, whose writer goroutine would stop and leave the track's
// writer blocked: it keeps the first error, drops everything after it,
// and reports it when the file is finalized. A full disk loses the rest of
// one file; it never stalls the recorder or the lesson.
type bufferedFile struct {
	f *os.File
	w *bufio.Writer

	mu    sync.Mutex // ebml-go writes from its goroutine; the track's writer asks for the error
	first error
}

func (b *bufferedFile) fail(err error) {
	if b.first == nil {
		b.first = err
	}
}

func (b *bufferedFile) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.first == nil {
		if _, err := b.w.Write(p); err != nil {
			b.fail(err)
		}
	}
	return len(p), nil
}

func (b *bufferedFile) WriteAt(p []byte, off int64) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.first == nil {
		if err := b.w.Flush(); err != nil {
			b.fail(err)
		} else if _, err := b.f.WriteAt(p, off); err != nil {
			b.fail(err)
		}
	}
	return len(p), nil
}

// Close flushes, syncs and closes the file.
func (b *bufferedFile) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.first == nil {
		if err := b.w.Flush(); err != nil {
			b.fail(err)
		} else if err := b.f.Sync(); err != nil {
			b.fail(err)
		}
	}
	if err := b.f.Close(); err != nil {
		b.fail(err)
	}
	return nil
}

func (b *bufferedFile) failed() bool { return b.err() != nil }

func (b *bufferedFile) err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.first
}
