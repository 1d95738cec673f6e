package shuffle

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
)

// Writer is the producer side of an exchange: one producer subtask's
// output, split over the consumers by a Partitioner. It is used by one
// goroutine (Abort included); to unblock a Write from elsewhere, cancel
// its context.
type Writer interface {
	// Write routes rec's rows to consumers. The caller keeps ownership of
	// rec (the writer retains or copies what it keeps). Write may block
	// (a full pipe) until ctx is done.
	Write(ctx context.Context, rec arrow.Record) error
	// Finish sends what is buffered and ends the output: a blocking
	// writer commits its partition attempt; a pipe writer closes its
	// channels so its consumers move on to the next producer. Nothing is
	// visible as complete before Finish returns nil.
	Finish(ctx context.Context) error
	// Abort abandons the output: a blocking writer discards its attempt;
	// a pipe writer makes its consumers' Next fail (never io.EOF). It is
	// idempotent and does nothing after a successful Finish.
	Abort()
	// Stats returns per-consumer statistics (after Finish: final).
	Stats() []Stats
}

// Reader is the consumer side of an exchange: everything one consumer
// subtask receives, producer by producer in a fixed order (all of
// producer 0's records, then producer 1's, ...). It is used by one
// goroutine.
type Reader interface {
	// Next returns the next record, which the caller owns and releases;
	// it stays valid after later calls. At the end Next returns io.EOF.
	// A lost or corrupt input, or an aborted producer, is an error.
	Next(ctx context.Context) (arrow.Record, error)
	// Close releases the reader; it may be called before the end.
	Close()
}

// ProducerSplitter is a Reader that can also be read producer by producer,
// as a final sort merging its producers' sorted partitions reads it.
type ProducerSplitter interface {
	Reader
	// Producers returns one Reader per producer, in the Reader's order,
	// each returning what Next would have of that producer, or nil when
	// the Reader cannot be split (or has been read from). The caller then
	// reads and closes those instead, and still closes this Reader.
	Producers() []Reader
}

// Stats describes what one consumer received from one writer.
type Stats struct {
	Rows    int64
	Batches int64
	// RawBytes is the size of the batches' Arrow buffers.
	RawBytes int64
	// StoredBytes is the encoded size written to the store (0 for pipes).
	StoredBytes int64
}

func (s *Stats) add(rec arrow.Record, raw, stored int64) {
	s.Rows += rec.NumRows()
	s.Batches++
	s.RawBytes += raw
	s.StoredBytes += stored
}

// arrowBytes is the size of a record's Arrow buffers.
func ArrowBytes(rec arrow.Record) int64 {
	var n int64
	for _, c := range rec.Columns() {
		n += dataBytes(c.Data())
	}
	return n
}

func dataBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataBytes(c)
	}
	return n
}
