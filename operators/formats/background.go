package formats

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/batchrun/batchrun/operators"
)

// backgroundQueue is how many batches a BackgroundWrite lets wait.
const backgroundQueue = 2

// BackgroundWrite runs a FileWrite's Push on a goroutine of its own: the
// subtask hands it each batch and goes on. A stage feeding one writer
// (a global sort's final merge, a query's last step) otherwise merges,
// formats and writes on one core while the others idle; now formatting
// and the file's write calls overlap the work before them. At most
// backgroundQueue batches wait (retained). The writer's first error (a
// panic included) is returned by the next Push or by Finish, and Finish
// then does not finish the file, so no part of a failed write is
// published. RowsWritten and Stats are the writer's once Finish or Close
// returned.
type BackgroundWrite struct {
	w      FileWrite
	queue  chan queued
	done   chan struct{} // closed when the goroutine has drained the queue
	closed bool          // the queue is closed

	mu  sync.Mutex
	err error // the writer's first error
}

type queued struct {
	ctx context.Context
	rec arrow.Record
}

var _ FileWrite = (*BackgroundWrite)(nil)

// Background starts w's goroutine.
func Background(w FileWrite) *BackgroundWrite {
	b := &BackgroundWrite{w: w, queue: make(chan queued, backgroundQueue), done: make(chan struct{})}
	go b.run()
	return b
}

// run pushes every queued batch until the first error, then only
// releases them, until the queue is closed.
func (b *BackgroundWrite) run() {
	defer close(b.done)
	for q := range b.queue {
		if b.failed() == nil {
			b.fail(b.push(q))
		}
		q.rec.Release()
	}
}

func (b *BackgroundWrite) push(q queued) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("operators: write: panic: %v", p)
		}
	}()
	return b.w.Push(q.ctx, q.rec)
}

func (b *BackgroundWrite) fail(err error) {
	if err == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil {
		b.err = err
	}
}

func (b *BackgroundWrite) failed() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

var errBackgroundClosed = errors.New("operators: write: already finished or closed")

// Push queues rec (retaining it) for the writer; it blocks while the
// queue is full.
func (b *BackgroundWrite) Push(ctx context.Context, rec arrow.Record) error {
	if b.closed {
		return errBackgroundClosed
	}
	if err := b.failed(); err != nil {
		return err
	}
	rec.Retain()
	select {
	case b.queue <- queued{ctx: ctx, rec: rec}:
		return nil
	case <-ctx.Done():
		rec.Release()
		return ctx.Err()
	}
}

// stop closes the queue and waits until the goroutine has drained it.
func (b *BackgroundWrite) stop() {
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	<-b.done
}

// Finish waits for the queued batches to be written, then finishes the
// file, unless the writer failed: then it returns the writer's error.
func (b *BackgroundWrite) Finish(ctx context.Context) error {
	if b.closed {
		return errBackgroundClosed
	}
	b.stop()
	if err := b.failed(); err != nil {
		return err
	}
	return b.w.Finish(ctx)
}

// Close abandons the write: queued batches are released unwritten
// (after the one being written) and the file is closed. It is
// idempotent.
func (b *BackgroundWrite) Close() error {
	b.fail(errBackgroundClosed) // the goroutine writes nothing more
	b.stop()
	return b.w.Close()
}

// RowsWritten implements FileWrite (after Finish or Close).
func (b *BackgroundWrite) RowsWritten() int64 { return b.w.RowsWritten() }

// Stats implements FileWrite (after Finish or Close).
func (b *BackgroundWrite) Stats() operators.Stats { return b.w.Stats() }
