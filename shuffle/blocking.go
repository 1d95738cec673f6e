package shuffle

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/batchrun/batchrun/storage"
)

// BlockingWriter writes one attempt of a blocking result partition: it
// splits records over numConsumers subpartitions, buffers small outputs,
// encodes each output batch once (with one Encoder for the whole attempt)
// and appends it to a storage.PartitionWriter. Finish commits the attempt.
type BlockingWriter struct {
	ref     storage.PartitionRef
	opts    Options
	pw      *storage.PartitionWriter
	split   *splitter
	enc     *Encoder
	stats   []Stats
	err     error
	done    bool
	attempt uint32
}

var _ Writer = (*BlockingWriter)(nil)

// NewBlockingWriter starts attempt of partition ref with numConsumers
// subpartitions. Forward and Global partitions have one subpartition.
// Argument errors are reported by Write and Finish.
func NewBlockingWriter(store *storage.Store, ref storage.PartitionRef, attempt uint32, numConsumers int, part Partitioner, opts Options) *BlockingWriter {
	opts.EnsureDefaults()
	w := &BlockingWriter{ref: ref, opts: opts, attempt: attempt,
		pw: store.NewPartitionWriter(ref, attempt, numConsumers)}
	if err := opts.Validate(); err != nil {
		w.err = err
	}
	if numConsumers <= 0 {
		w.err = w.errorf("numConsumers %d <= 0", numConsumers)
	} else {
		w.stats = make([]Stats, numConsumers)
		w.split = newSplitter(numConsumers, part, opts, true, w.store)
	}
	return w
}

func (w *BlockingWriter) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

func (w *BlockingWriter) errorf(format string, args ...any) error {
	return fmt.Errorf("shuffle: write %s attempt %d: %s", w.ref, w.attempt, fmt.Sprintf(format, args...))
}

// Write implements Writer.
func (w *BlockingWriter) Write(ctx context.Context, rec arrow.Record) error {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return w.errorf("write after Finish or Abort")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := w.split.write(rec); err != nil {
		return w.fail(wrapWriteErr(w, err))
	}
	return nil
}

// wrapWriteErr leaves storage errors (which name the partition) alone.
func wrapWriteErr(w *BlockingWriter, err error) error {
	var pe *storage.PartitionError
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("shuffle: write %s attempt %d: %w", w.ref, w.attempt, err)
}

// store is the splitter's sink: encode once, append to one or every
// subpartition.
func (w *BlockingWriter) store(consumer int, rec arrow.Record) error {
	if w.enc == nil {
		enc, err := NewEncoder(rec.Schema(), w.opts)
		if err != nil {
			return err
		}
		w.enc = enc
	}
	v, err := w.enc.Encode(rec)
	if err != nil {
		return err
	}
	raw := ArrowBytes(rec)
	first, last := consumer, consumer
	if consumer == allConsumers {
		first, last = 0, len(w.stats)-1
	}
	for c := first; c <= last; c++ {
		if err := w.pw.Append(c, rec.NumRows(), v); err != nil {
			return err
		}
		w.stats[c].add(rec, raw, int64(len(v)))
	}
	return nil
}

// Finish implements Writer: flush, then commit the attempt.
func (w *BlockingWriter) Finish(ctx context.Context) error {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return w.errorf("Finish after Finish or Abort")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if w.split != nil {
		if err := w.split.flushAll(); err != nil {
			return w.fail(wrapWriteErr(w, err))
		}
	}
	if err := w.pw.Commit(); err != nil {
		return w.fail(err)
	}
	w.done = true
	w.close()
	return nil
}

// Abort implements Writer: the attempt's data is discarded.
func (w *BlockingWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	_ = w.pw.Discard() // best effort: an uncommitted attempt is invisible anyway
	w.close()
}

func (w *BlockingWriter) close() {
	if w.split != nil {
		w.split.release()
	}
	if w.enc != nil {
		w.enc.Close()
		w.enc = nil
	}
}

// Stats implements Writer.
func (w *BlockingWriter) Stats() []Stats { return append([]Stats(nil), w.stats...) }

// BlockingReader reads one consumer's subpartition of committed blocking
// partitions, one producer after the other in the order given. Errors from
// the store pass through typed (storage.IsCorrupt, storage.ErrNotFound) and
// name the partition.
type BlockingReader struct {
	store    *storage.Store
	refs     []storage.PartitionRef
	consumer int
	schema   *arrow.Schema
	opts     Options
	dec      *Decoder
	cur      *storage.SubpartitionReader
	next     int
	err      error
}

var _ ProducerSplitter = (*BlockingReader)(nil)

// NewBlockingReader reads subpartition consumer of each of refs (the
// producers, in the fixed order consumers read them) as records of schema,
// which must equal the schema of the records the writers wrote (values
// carry no schema). Only opts.Allocator is used.
func NewBlockingReader(store *storage.Store, refs []storage.PartitionRef, consumer int, schema *arrow.Schema, opts Options) *BlockingReader {
	opts.EnsureDefaults()
	return &BlockingReader{store: store, refs: refs, consumer: consumer, schema: schema, opts: opts}
}

// Next implements Reader.
func (r *BlockingReader) Next(ctx context.Context) (arrow.Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	rec, err := r.read(ctx)
	if err != nil {
		r.err = err
		r.closeCur()
	}
	return rec, err
}

// Producers implements ProducerSplitter: a reader of each producer's
// partition, read side by side.
func (r *BlockingReader) Producers() []Reader {
	if r.next > 0 || r.err != nil {
		return nil
	}
	rs := make([]Reader, len(r.refs))
	for i, ref := range r.refs {
		rs[i] = NewBlockingReader(r.store, []storage.PartitionRef{ref}, r.consumer, r.schema, r.opts)
	}
	return rs
}

func (r *BlockingReader) read(ctx context.Context) (arrow.Record, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if r.cur == nil {
			if r.next == len(r.refs) {
				return nil, io.EOF
			}
			cur, err := r.store.OpenSubpartition(r.refs[r.next], r.consumer)
			if err != nil {
				return nil, err
			}
			r.cur = cur
			r.next++
		}
		v, err := r.cur.Next()
		if err == io.EOF {
			r.closeCur()
			continue
		} else if err != nil {
			return nil, err
		}
		return r.decode(v)
	}
}

func (r *BlockingReader) decode(v []byte) (arrow.Record, error) {
	ref := r.refs[r.next-1]
	if r.dec == nil {
		dec, err := NewDecoder(r.schema, r.opts.Allocator)
		if err != nil {
			return nil, fmt.Errorf("shuffle: read %s sub %d: %w", ref, r.consumer, err)
		}
		r.dec = dec
	}
	rec, err := r.dec.Decode(v)
	if err != nil {
		return nil, fmt.Errorf("shuffle: read %s sub %d: %w", ref, r.consumer, err)
	}
	return rec, nil
}

func (r *BlockingReader) closeCur() {
	if r.cur != nil {
		r.cur.Close()
		r.cur = nil
	}
}

// Close implements Reader.
func (r *BlockingReader) Close() {
	r.closeCur()
	if r.dec != nil {
		r.dec.Close()
		r.dec = nil
	}
	if r.err == nil {
		r.err = errors.New("shuffle: reader closed")
	}
}
