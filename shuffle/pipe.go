package shuffle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"
)

// ErrProducerAborted is wrapped by the error a pipe reader returns when a
// producer it reads from aborted: a failed producer never looks finished.
var ErrProducerAborted = errors.New("shuffle: producer aborted")

// Pipe is a pipelined exchange: one bounded channel of records per
// (producer, consumer) pair. Writers block when a channel is full
// (backpressure); readers read their producers in a fixed order.
//
// Fixed-order reading means a consumer does not drain producer 1 while it
// waits for producer 0 to finish, so producer 1 can block on a full
// channel. That is safe as long as producer 0's progress does not depend
// on producer 1's (it does not within one exchange); if producers are fed
// through another pipe whose consumers are these same producers, the
// capacities must absorb the skew, or the edge should be blocking.
type Pipe struct {
	np, nc   int
	ch       [][]chan arrow.Record // [producer][consumer]
	aborted  []chan struct{}       // per producer, closed by Abort
	abortErr []error               // set before aborted[p] is closed
	closed   []chan struct{}       // per consumer, closed by Reader.Close
}

// NewPipe makes a pipe between numProducers and numConsumers subtasks with
// capacity records buffered per channel (at least 1).
func NewPipe(numProducers, numConsumers, capacity int) *Pipe {
	capacity = max(capacity, 1)
	p := &Pipe{np: numProducers, nc: numConsumers,
		ch: make([][]chan arrow.Record, numProducers), aborted: make([]chan struct{}, numProducers),
		abortErr: make([]error, numProducers), closed: make([]chan struct{}, numConsumers)}
	for i := range p.ch {
		p.ch[i] = make([]chan arrow.Record, numConsumers)
		for c := range p.ch[i] {
			p.ch[i][c] = make(chan arrow.Record, capacity)
		}
		p.aborted[i] = make(chan struct{})
	}
	for c := range p.closed {
		p.closed[c] = make(chan struct{})
	}
	return p
}

// PipeWriter is producer producer's side of a Pipe.
type PipeWriter struct {
	p        *Pipe
	producer int
	split    *splitter
	stats    []Stats
	ctx      context.Context
	err      error
	done     bool
}

var _ Writer = (*PipeWriter)(nil)

// Writer returns the writer of producer, routing with part.
func (p *Pipe) Writer(producer int, part Partitioner, opts Options) *PipeWriter {
	opts.EnsureDefaults()
	w := &PipeWriter{p: p, producer: producer, stats: make([]Stats, p.nc)}
	if err := opts.Validate(); err != nil {
		w.err = err
	}
	if producer < 0 || producer >= p.np {
		w.err = fmt.Errorf("shuffle: pipe writer %d: out of range [0, %d)", producer, p.np)
	}
	w.split = newSplitter(p.nc, part, opts, false, w.send)
	return w
}

// Write implements Writer.
func (w *PipeWriter) Write(ctx context.Context, rec arrow.Record) error {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return fmt.Errorf("shuffle: pipe writer %d: write after Finish or Abort", w.producer)
	}
	w.ctx = ctx
	if err := w.split.write(rec); err != nil {
		w.err = err
		return err
	}
	return nil
}

// send is the splitter's sink: one channel send per consumer (the record
// is shared, not copied, when it goes to every consumer).
func (w *PipeWriter) send(consumer int, rec arrow.Record) error {
	first, last := consumer, consumer
	if consumer == allConsumers {
		first, last = 0, w.p.nc-1
	}
	raw := ArrowBytes(rec)
	for c := first; c <= last; c++ {
		if err := w.sendOne(c, rec); err != nil {
			return err
		}
		w.stats[c].add(rec, raw, 0)
	}
	return nil
}

func (w *PipeWriter) sendOne(c int, rec arrow.Record) error {
	closed := w.p.closed[c]
	select {
	case <-closed: // the consumer stopped reading: drop
		return nil
	default:
	}
	rec.Retain()
	select {
	case w.p.ch[w.producer][c] <- rec:
		return nil
	case <-closed:
	case <-w.p.aborted[w.producer]:
		rec.Release()
		return fmt.Errorf("shuffle: pipe writer %d: %w", w.producer, ErrProducerAborted)
	case <-w.ctx.Done():
		rec.Release()
		return w.ctx.Err()
	}
	rec.Release()
	return nil
}

// Finish implements Writer: flush, then close this producer's channels.
func (w *PipeWriter) Finish(ctx context.Context) error {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return fmt.Errorf("shuffle: pipe writer %d: Finish after Finish or Abort", w.producer)
	}
	w.ctx = ctx
	if err := w.split.flushAll(); err != nil {
		w.err = err
		return err
	}
	w.done = true
	w.split.release()
	for _, ch := range w.p.ch[w.producer] {
		close(ch)
	}
	return nil
}

// Abort implements Writer: this producer's consumers fail with an error
// wrapping ErrProducerAborted.
func (w *PipeWriter) Abort() {
	if w.done || w.producer < 0 || w.producer >= w.p.np {
		return
	}
	w.done = true
	w.split.release()
	// abortErr is written before the close, which happens before any
	// reader observes the closed channel and reads it.
	w.p.abortErr[w.producer] = fmt.Errorf("shuffle: pipe producer %d: %w", w.producer, ErrProducerAborted)
	close(w.p.aborted[w.producer])
}

// Stats implements Writer (StoredBytes is 0).
func (w *PipeWriter) Stats() []Stats { return append([]Stats(nil), w.stats...) }

// PipeReader is consumer consumer's side of a Pipe.
type PipeReader struct {
	p        *Pipe
	consumer int
	next     int
	err      error
	once     sync.Once
}

var _ ProducerSplitter = (*PipeReader)(nil)

// Reader returns the reader of consumer.
func (p *Pipe) Reader(consumer int) *PipeReader {
	r := &PipeReader{p: p, consumer: consumer}
	if consumer < 0 || consumer >= p.nc {
		r.err = fmt.Errorf("shuffle: pipe reader %d: out of range [0, %d)", consumer, p.nc)
	}
	return r
}

// Next implements Reader.
func (r *PipeReader) Next(ctx context.Context) (arrow.Record, error) {
	for r.err == nil {
		if r.next == r.p.np {
			return nil, io.EOF
		}
		rec, err := r.recv(ctx, r.next)
		switch {
		case err == io.EOF:
			r.next++
		case err == ctx.Err() && err != nil:
			return nil, err
		case err != nil:
			r.err = err
		default:
			return rec, nil
		}
	}
	return nil, r.err
}

// recv receives producer prod's next record for this consumer: io.EOF at
// its end, its abort error (after dropping what it had buffered here), or
// ctx's error.
func (r *PipeReader) recv(ctx context.Context, prod int) (arrow.Record, error) {
	select {
	case rec, ok := <-r.p.ch[prod][r.consumer]:
		if r.isAborted(prod) {
			if ok {
				rec.Release()
			}
			r.drain(prod)
			return nil, r.p.abortErr[prod]
		}
		if !ok {
			return nil, io.EOF
		}
		return rec, nil
	case <-r.p.aborted[prod]:
		r.drain(prod)
		return nil, r.p.abortErr[prod]
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Producers implements ProducerSplitter: a reader of each producer's
// channel to this consumer, read side by side. Closing one drops what its
// producer buffered; Close on r still ends the consumer's side.
func (r *PipeReader) Producers() []Reader {
	if r.next > 0 || r.err != nil {
		return nil
	}
	rs := make([]Reader, r.p.np)
	for prod := range rs {
		rs[prod] = &pipeProducer{r: r, prod: prod}
	}
	return rs
}

// pipeProducer reads one producer of a PipeReader.
type pipeProducer struct {
	r    *PipeReader
	prod int
	err  error // io.EOF at the end
}

func (q *pipeProducer) Next(ctx context.Context) (arrow.Record, error) {
	if q.err != nil {
		return nil, q.err
	}
	rec, err := q.r.recv(ctx, q.prod)
	if err != nil && err != ctx.Err() {
		q.err = err
	}
	return rec, err
}

func (q *pipeProducer) Close() {
	q.r.drain(q.prod)
	if q.err == nil {
		q.err = errors.New("shuffle: reader closed")
	}
}

func (r *PipeReader) isAborted(prod int) bool {
	select {
	case <-r.p.aborted[prod]:
		return true
	default:
		return false
	}
}

// drain releases the records buffered in producer prod's channel to this
// consumer, without blocking.
func (r *PipeReader) drain(prod int) {
	for {
		select {
		case rec, ok := <-r.p.ch[prod][r.consumer]:
			if !ok {
				return
			}
			rec.Release()
		default:
			return
		}
	}
}

// Close implements Reader: writers stop sending to this consumer (their
// records for it are dropped), and what is buffered is released.
func (r *PipeReader) Close() {
	if r.consumer < 0 || r.consumer >= r.p.nc {
		return
	}
	r.once.Do(func() { close(r.p.closed[r.consumer]) })
	for prod := 0; prod < r.p.np; prod++ {
		r.drain(prod)
	}
	if r.err == nil {
		r.err = errors.New("shuffle: reader closed")
	}
}
