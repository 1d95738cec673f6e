package operators

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// The external sort. A Sort with a bounded Budget counts the Arrow buffer
// bytes of the batches it holds; past Budget.Bytes it sorts them (the
// stable in-memory sort), writes them to a spill run in sorted batches and
// drops them. Finish spills what is left and merges the runs: a binary
// heap over each run's current row, ordered by the sort keys and then by
// run index. Runs hold consecutive stretches of the input and each is
// sorted stably, so breaking ties by run index gives exactly the stable
// in-memory sort's output. The merge holds one batch per run; when that
// would exceed the budget (more runs than Budget.Bytes / the largest
// spilled batch), consecutive runs are first merged into longer ones,
// which keeps the tie order. Rows are gathered into output batches with
// the typed take loops of take.go. SortFinal writes its buffer's sorted
// runs as they are instead of sorting it (sort_merge.go).

// extSort is the spilling state of a Sort.
type extSort struct {
	budget   Budget
	held     int64      // Arrow bytes of the buffered batches
	runs     []SpillRun // spilled runs, in input order
	maxBatch int64      // largest spilled batch, in Arrow bytes
	// batchRows is the rows per batch the sort writes, spilled or
	// emitted (BatchRows; tests lower it).
	batchRows int
}

// SetBudget bounds the memory the sort holds; with a bounded budget it
// spills sorted runs and merges them at Finish. Call it before Push.
func (s *Sort) SetBudget(b Budget) { s.ext.budget = b }

// HeldBytes returns the Arrow buffer bytes of the batches the sort holds.
func (s *Sort) HeldBytes() int64 { return s.ext.held + s.chunk.bytes }

// batchBufferBytes is the size of rec's Arrow buffers (a slice counts its
// whole buffers: they stay alive while it is held).
func batchBufferBytes(rec arrow.Record) int64 {
	var n int64
	for _, c := range rec.Columns() {
		n += arrayDataBytes(c.Data())
	}
	return n
}

func arrayDataBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += arrayDataBytes(c)
	}
	return n
}

// account counts a buffered batch and spills when over budget.
func (s *Sort) account(ctx context.Context, rec arrow.Record) error {
	s.ext.held += batchBufferBytes(rec)
	if !s.ext.budget.Bounded() || s.HeldBytes()+s.workingBytes() <= s.ext.budget.Bytes {
		return nil
	}
	return s.spill(ctx)
}

// workingBytes is what sorting the buffered rows will allocate besides the
// rows themselves: the permutation and radix scratch (24 bytes a row) and
// one normalized key word per sort key. At 20M rows it is the size of the
// data again, so the budget must count it.
func (s *Sort) workingBytes() int64 {
	return int64(s.rows) * int64(24+8*len(s.keys))
}

// spill writes the buffer to spill runs and drops it.
func (s *Sort) spill(ctx context.Context) error {
	if s.mode == SortFinal && !s.fin.resort {
		return s.spillFinal(ctx)
	}
	if s.chunking() {
		return s.spillChunks(ctx)
	}
	perm, err := s.permutation()
	if err != nil {
		return err
	}
	return s.spillSorted(ctx, perm)
}

// spillSorted writes the buffered rows perm, in order, as a new run and
// drops the buffer.
func (s *Sort) spillSorted(ctx context.Context, perm []uint32) error {
	run, err := s.ext.newRun(s.schema)
	if err != nil {
		return err
	}
	s.ext.runs = append(s.ext.runs, run) // Close discards it on error
	err = s.emitPermN(ctx, perm, s.ext.rowsPerBatch(), func(rec arrow.Record) error {
		return s.ext.write(ctx, run, rec)
	})
	if err == nil {
		err = run.Finish(ctx)
	}
	if err != nil {
		return fmt.Errorf("operators: Sort: spill: %w", err)
	}
	s.release()
	return nil
}

// spillChunks merges the in-memory runs and the buffer into a new spill
// run and drops them.
func (s *Sort) spillChunks(ctx context.Context) error {
	run, err := s.ext.newRun(s.schema)
	if err != nil {
		return err
	}
	s.ext.runs = append(s.ext.runs, run) // Close discards it on error
	err = s.mergeChunks(ctx, nil, func(rec arrow.Record) error { return s.ext.write(ctx, run, rec) })
	if err == nil {
		err = run.Finish(ctx)
	}
	if err != nil {
		return fmt.Errorf("operators: Sort: spill: %w", err)
	}
	return nil
}

func (e *extSort) rowsPerBatch() int {
	if e.batchRows > 0 {
		return e.batchRows
	}
	return BatchRows
}

func (e *extSort) newRun(schema *arrow.Schema) (SpillRun, error) {
	run, err := e.budget.Spill.NewRun(schema)
	if err != nil {
		return nil, fmt.Errorf("operators: Sort: spill: %w", err)
	}
	if e.budget.Stats != nil {
		e.budget.Stats.Runs++
	}
	return run, nil
}

// write appends rec to run and counts it.
func (e *extSort) write(ctx context.Context, run SpillRun, rec arrow.Record) error {
	n := batchBufferBytes(rec)
	e.maxBatch = max(e.maxBatch, n)
	if st := e.budget.Stats; st != nil {
		st.Rows += rec.NumRows()
		st.Bytes += n
	}
	return run.Write(ctx, rec)
}

// discard deletes every spill run; it is idempotent.
func (e *extSort) discard() {
	for _, r := range e.runs {
		r.Discard()
	}
	e.runs = nil
}

// fanIn is how many runs one merge reads at once: as many batches as fit
// the budget, at least 2.
func (e *extSort) fanIn() int {
	if e.maxBatch <= 0 {
		return len(e.runs)
	}
	return int(max(2, min(e.budget.Bytes/e.maxBatch, 1<<20)))
}

// finishExternal spills the rest, merges the runs into the output and
// finishes it.
func (s *Sort) finishExternal(ctx context.Context) error {
	emit := func(rec arrow.Record) error {
		s.stats.RowsOut += rec.NumRows()
		return s.out.Push(ctx, rec)
	}
	if s.mergesHeld() {
		if err := s.mergeChunks(ctx, s.ext.runs, emit); err != nil {
			return err
		}
		return s.out.Finish(ctx)
	}
	if s.rows > 0 || len(s.chunk.runs) > 0 {
		if err := s.spill(ctx); err != nil {
			return err
		}
	}
	if err := s.fin.closeOpen(ctx); err != nil {
		return err
	}
	for len(s.ext.runs) > s.ext.fanIn() {
		if err := s.mergePass(ctx); err != nil {
			return err
		}
	}
	if err := s.merge(ctx, s.ext.runs, emit); err != nil {
		return err
	}
	return s.out.Finish(ctx)
}

// mergesHeld reports whether a chunked sort finishes by merging its spill
// runs with the sorted runs it holds, instead of spilling those first (a
// write and a read of up to its budget): when a batch of each spill run
// fits in an eighth of the budget, the memory the merge adds to what is
// held.
func (s *Sort) mergesHeld() bool {
	return s.chunking() && int64(len(s.ext.runs))*s.ext.maxBatch <= s.ext.budget.Bytes/8
}

// mergePass merges consecutive groups of fanIn runs into one run each.
func (s *Sort) mergePass(ctx context.Context) error {
	k := s.ext.fanIn()
	var next []SpillRun
	for from := 0; from < len(s.ext.runs); from += k {
		group := s.ext.runs[from:min(from+k, len(s.ext.runs))]
		if len(group) == 1 {
			next = append(next, group[0])
			continue
		}
		run, err := s.ext.newRun(s.schema)
		if err != nil {
			return err
		}
		err = s.merge(ctx, group, func(rec arrow.Record) error { return s.ext.write(ctx, run, rec) })
		if err == nil {
			err = run.Finish(ctx)
		}
		if err != nil {
			run.Discard()
			s.ext.runs = append(s.ext.runs, next...) // for Close to discard
			return fmt.Errorf("operators: Sort: merge pass: %w", err)
		}
		for _, r := range group {
			r.Discard()
		}
		next = append(next, run)
	}
	// Runs not yet merged keep their places; merged ones were discarded.
	s.ext.runs = next
	return nil
}

// merge k-way merges runs and calls fn with each output batch of at most
// rowsPerBatch (BatchRows) rows (fn does not keep the batch unless it
// retains it).
func (s *Sort) merge(ctx context.Context, runs []SpillRun, fn func(arrow.Record) error) error {
	m := s.newMerger()
	defer m.close()
	if err := m.addRuns(ctx, runs); err != nil {
		return err
	}
	return m.run(ctx, fn)
}

// addRuns opens each spill run as the next cursor of the merge.
func (m *merger) addRuns(ctx context.Context, runs []SpillRun) error {
	for _, run := range runs {
		r, err := run.Open(ctx)
		if err != nil {
			return fmt.Errorf("%w: %w", errSortRun, err)
		}
		if err := m.add(ctx, r, false); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sort) newMerger() *merger {
	m := &merger{s: s, types: make([]spec.Type, len(s.in)), views: make([][]arrowx.ColView, len(s.in))}
	for c := range s.in {
		m.types[c] = s.in[c].Type
	}
	return m
}

// run heapifies the cursors and calls fn with each merged batch.
func (m *merger) run(ctx context.Context, fn func(arrow.Record) error) error {
	m.init()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := m.next(ctx)
		if err != nil || rec == nil {
			return err
		}
		err = fn(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
}

// errSortRun wraps errors reading a spill run back; errSortInput errors
// reading a sorted input stream (MergeSorted).
var (
	errSortRun   = errors.New("operators: Sort: read spill run")
	errSortInput = errors.New("operators: Sort: read sorted input")
)

// cursor is one run's (or input stream's) read position in a merge.
type cursor struct {
	r     BatchReader
	rec   arrow.Record // current batch; nil at the end
	keys  []*keyData   // rec's sort keys, flattened
	row   int
	chunk int // rec's index in merger.chunks, or -1
	// input marks an input stream (MergeSorted): its rows count as the
	// sort's input and its order is checked, last being the key of its
	// previous batch's last row.
	input bool
	index int
	last  []*keyData
	batch int
}

// advance loads the run's next non-empty batch, or sets rec to nil at its
// end.
func (c *cursor) advance(ctx context.Context, s *Sort) error {
	if c.rec != nil {
		c.rec.Release()
		c.rec = nil
	}
	c.row, c.chunk = 0, -1
	wrap := errSortRun
	if c.input {
		wrap = errSortInput
	}
	for {
		rec, err := c.r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %w", wrap, err)
		}
		if rec.NumRows() == 0 {
			rec.Release()
			continue
		}
		c.rec = rec
		if err := c.flatten(s); err != nil {
			return err
		}
		if c.input {
			s.stats.RowsIn += rec.NumRows()
			return c.checkOrder()
		}
		return nil
	}
}

// checkOrder verifies that an input stream's new batch is sorted and does
// not sort before the stream's previous batch: merging assumes it, and an
// unsorted stream would silently give unsorted output.
func (c *cursor) checkOrder() error {
	n := int(c.rec.NumRows())
	c.batch++
	unsorted := len(runStarts(c.keys, n)) > 1 || (c.last != nil && compareRows(c.keys, 0, c.last, 0) < 0)
	if unsorted {
		return fmt.Errorf("%w %d: batch %d is out of sort order", errSortInput, c.index, c.batch)
	}
	c.last = c.last[:0]
	for _, kd := range c.keys {
		c.last = append(c.last, kd.rowCopy(uint32(n-1)))
	}
	return nil
}

func (c *cursor) flatten(s *Sort) error {
	c.keys = c.keys[:0]
	for _, k := range s.keys {
		v, err := arrowx.ViewOf(c.rec.Column(k.col))
		if err != nil {
			return err
		}
		kd := &keyData{typ: k.typ, desc: k.desc, nullsFirst: k.nullsFirst, norm: make([]uint64, 0, v.N)}
		kd.add(&v)
		c.keys = append(c.keys, kd)
	}
	return nil
}

// merger is one k-way merge: a min-heap of cursor indexes and the batches
// the output batch being gathered refers to.
type merger struct {
	s      *Sort
	cur    []*cursor
	heap   []int
	types  []spec.Type
	chunks []arrow.Record     // retained; refs point into them
	views  [][]arrowx.ColView // per column, one view per chunk
	refs   []uint64
}

// add makes r (a spill run's reader, or an input stream when input) the
// next cursor of the merge; close closes it.
func (m *merger) add(ctx context.Context, r BatchReader, input bool) error {
	c := &cursor{r: r, chunk: -1, input: input, index: len(m.cur)}
	m.cur = append(m.cur, c)
	return c.advance(ctx, m.s)
}

// init heapifies the cursors that have rows.
func (m *merger) init() {
	for i, c := range m.cur {
		if c.rec != nil {
			m.heap = append(m.heap, i)
		}
	}
	for i := len(m.heap)/2 - 1; i >= 0; i-- {
		m.down(i)
	}
}

// less orders cursors by their current rows' keys, then by run index.
func (m *merger) less(i, j int) bool {
	a, b := m.cur[i], m.cur[j]
	if c := compareRows(a.keys, uint32(a.row), b.keys, uint32(b.row)); c != 0 {
		return c < 0
	}
	return i < j
}

func (m *merger) down(i int) {
	h := m.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		c := l
		if r := l + 1; r < len(h) && m.less(h[r], h[l]) {
			c = r
		}
		if !m.less(h[c], h[i]) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// next gathers the next output batch; nil when every run is exhausted.
func (m *merger) next(ctx context.Context) (arrow.Record, error) {
	m.refs = m.refs[:0]
	for len(m.refs) < m.s.ext.rowsPerBatch() && len(m.heap) > 0 {
		c := m.cur[m.heap[0]]
		if c.chunk < 0 {
			if err := m.addChunk(c); err != nil {
				return nil, err
			}
		}
		m.refs = append(m.refs, mkRef(c.chunk, c.row))
		c.row++
		if c.row == int(c.rec.NumRows()) {
			if err := c.advance(ctx, m.s); err != nil {
				return nil, err
			}
			if c.rec == nil {
				last := len(m.heap) - 1
				m.heap[0] = m.heap[last]
				m.heap = m.heap[:last]
			}
		}
		m.down(0)
	}
	if len(m.refs) == 0 {
		return nil, nil
	}
	rec, err := gatherRecord(m.s.schema, m.types, m.views, m.refs, m.s.mem)
	m.dropChunks()
	return rec, err
}

// addChunk makes c's batch a gather source of the output batch.
func (m *merger) addChunk(c *cursor) error {
	for col := range m.views {
		v, err := arrowx.ViewOf(c.rec.Column(col))
		if err != nil {
			return err
		}
		m.views[col] = append(m.views[col], v)
	}
	c.chunk = len(m.chunks)
	c.rec.Retain()
	m.chunks = append(m.chunks, c.rec)
	return nil
}

// dropChunks releases the gather sources once the batch is built.
func (m *merger) dropChunks() {
	for _, rec := range m.chunks {
		rec.Release()
	}
	m.chunks = m.chunks[:0]
	for col := range m.views {
		m.views[col] = m.views[col][:0]
	}
	for _, c := range m.cur {
		c.chunk = -1
	}
}

func (m *merger) close() {
	m.dropChunks()
	for _, c := range m.cur {
		if c.rec != nil {
			c.rec.Release()
			c.rec = nil
		}
		c.r.Close()
	}
}
