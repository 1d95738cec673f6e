package shuffle

import (
	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// sinkFunc receives one output record for consumer (or for every consumer
// when consumer is allConsumers). It must not keep rec beyond the call
// unless it retains it.
type sinkFunc func(consumer int, rec arrow.Record) error

const allConsumers = -1

// splitter routes records with a partitioner and buffers small outputs per
// consumer until they reach Options.TargetRows or TargetBytes, so that
// hash-partitioning a 64K-row batch 8 ways does not produce 8K-row values.
// It is used by one goroutine.
type splitter struct {
	opts   Options
	n      int
	part   Partitioner
	sink   sinkFunc
	reuse  bool // the sink never keeps records: buffers can be reused
	route  Route
	schema *arrow.Schema
	pend   []*pending // per consumer; one shared slot for RouteAll
	held   int64      // Arrow bytes pending over all consumers
	order  []int32    // row indexes grouped by target
	starts []int      // order[starts[c]:starts[c+1]] go to consumer c
	next   []int
	iota   []int32
}

// pending is the buffered output of one consumer.
type pending struct {
	cols []colBuf
	rows int
}

func newSplitter(n int, part Partitioner, opts Options, reuse bool, sink sinkFunc) *splitter {
	return &splitter{opts: opts, n: n, part: part, sink: sink, reuse: reuse,
		pend: make([]*pending, n+1), starts: make([]int, n+1), next: make([]int, n)}
}

// write routes rec; the caller keeps ownership of rec.
func (s *splitter) write(rec arrow.Record) error {
	if rec.NumRows() == 0 {
		return nil
	}
	if s.schema == nil {
		s.schema = rec.Schema()
	}
	if err := s.part.Route(rec, s.n, &s.route); err != nil {
		return err
	}
	switch s.route.Kind {
	case RouteOne:
		return s.whole(s.route.Consumer, rec)
	case RouteAll:
		return s.whole(allConsumers, rec)
	}
	return s.rows(rec, s.route.Targets)
}

func slot(consumer int) int { return consumer + 1 } // allConsumers -> 0

// whole sends a whole record to consumer: directly when it is big enough
// and nothing is pending there, else through the consumer's buffer.
func (s *splitter) whole(consumer int, rec arrow.Record) error {
	if p := s.pend[slot(consumer)]; (p == nil || p.rows == 0) && s.bigEnough(rec.NumRows(), ArrowBytes(rec)) {
		return s.sink(consumer, rec)
	}
	if cap(s.iota) < int(rec.NumRows()) {
		s.iota = make([]int32, rec.NumRows())
		for i := range s.iota {
			s.iota[i] = int32(i)
		}
	}
	return s.gather(consumer, rec, s.iota[:rec.NumRows()])
}

func (s *splitter) bigEnough(rows, bytes int64) bool {
	return rows >= int64(s.opts.TargetRows) || bytes >= s.opts.TargetBytes
}

// rows sends row i of rec to consumer targets[i], grouping rows by
// consumer with a counting sort (stable: rows keep their order).
func (s *splitter) rows(rec arrow.Record, targets []uint32) error {
	st := s.starts
	clear(st)
	for _, t := range targets {
		st[t+1]++
	}
	for c := 1; c <= s.n; c++ {
		st[c] += st[c-1]
	}
	if cap(s.order) < len(targets) {
		s.order = make([]int32, len(targets))
	}
	order := s.order[:len(targets)]
	next := s.next
	copy(next, st[:s.n])
	for i, t := range targets {
		order[next[t]] = int32(i)
		next[t]++
	}
	for c := 0; c < s.n; c++ {
		if idx := order[st[c]:st[c+1]]; len(idx) > 0 {
			if err := s.gather(c, rec, idx); err != nil {
				return err
			}
		}
	}
	return nil
}

// gather appends rows idx of rec to consumer's buffer and flushes what is
// due.
func (s *splitter) gather(consumer int, rec arrow.Record, idx []int32) error {
	p, err := s.pending(consumer, rec.Schema())
	if err != nil {
		return err
	}
	if p.rows == 0 {
		// Expect about as many rows from the next records: size the
		// buffers once rather than doubling them up from nothing.
		// (plus one record's worth: the flush comes after the record
		// that crosses TargetRows).
		hint := min(s.opts.TargetRows, 8*len(idx)) + len(idx)
		for i, c := range p.cols {
			c.reserve(hint, rec.Column(i))
		}
	}
	before := p.size()
	for i, c := range p.cols {
		c.gather(rec.Column(i), idx)
	}
	p.rows += len(idx)
	after := p.size()
	s.held += after - before
	if s.bigEnough(int64(p.rows), after) {
		if err := s.flush(consumer); err != nil {
			return err
		}
	}
	for s.held > s.opts.MaxBufferedBytes {
		c, ok := s.largest()
		if !ok {
			break
		}
		if err := s.flush(c); err != nil {
			return err
		}
	}
	return nil
}

func (s *splitter) pending(consumer int, schema *arrow.Schema) (*pending, error) {
	if p := s.pend[slot(consumer)]; p != nil {
		return p, nil
	}
	p := &pending{cols: make([]colBuf, schema.NumFields())}
	for i, f := range schema.Fields() {
		c, err := newColBuf(s.opts.Allocator, f.Type)
		if err != nil {
			p.release()
			return nil, err
		}
		p.cols[i] = c
	}
	s.pend[slot(consumer)] = p
	return p, nil
}

func (p *pending) size() int64 {
	var n int64
	for _, c := range p.cols {
		n += c.size()
	}
	return n
}

func (p *pending) release() {
	for _, c := range p.cols {
		if c != nil {
			c.release()
		}
	}
}

func (s *splitter) largest() (int, bool) {
	best, bestSize := 0, int64(-1)
	for i, p := range s.pend {
		if p != nil && p.rows > 0 {
			if sz := p.size(); sz > bestSize {
				best, bestSize = i, sz
			}
		}
	}
	return best - 1, bestSize >= 0
}

// flush sends consumer's pending rows as one record.
func (s *splitter) flush(consumer int) error {
	p := s.pend[slot(consumer)]
	if p == nil || p.rows == 0 {
		return nil
	}
	s.held -= p.size()
	cols := make([]arrow.Array, len(p.cols))
	for i, c := range p.cols {
		cols[i] = c.finish(s.reuse)
	}
	rec := array.NewRecord(s.schema, cols, int64(p.rows))
	for _, c := range cols {
		c.Release()
	}
	p.rows = 0
	err := s.sink(consumer, rec)
	rec.Release()
	return err
}

// flushAll sends everything pending, in consumer order.
func (s *splitter) flushAll() error {
	for i := range s.pend {
		if err := s.flush(i - 1); err != nil {
			return err
		}
	}
	return nil
}

// release frees the buffers (after flushAll, or on abort).
func (s *splitter) release() {
	for i, p := range s.pend {
		if p != nil {
			p.release()
			s.pend[i] = nil
		}
	}
	s.held = 0
}
