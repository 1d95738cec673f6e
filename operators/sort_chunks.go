package operators

import (
	"context"
	"io"

	"github.com/apache/arrow/go/v17/arrow"
)

// Chunked sorting. A SortPartial sorts its input in chunks of about
// sortChunkRows rows as they arrive, each into an in-memory sorted run,
// and k-way merges the runs when it spills or finishes. Sorting millions
// of rows at once misses the caches at every step (the radix passes, and
// above all the gathers, which fetch each column of each row from wherever
// it was); a chunk is a working set near the last-level cache's size, and
// a merge reads its runs front to back. The chunks hold consecutive
// stretches of the input and the merge breaks ties by run, so the output
// is the stable sort's. BenchmarkSortMillions measures it.

// sortChunkRows is the rows of one in-memory sorted run. Chosen from W4's
// scan + partial sort stage at 20M rows on a 2-core machine with a 32 MiB
// L3: 128K rows 4.0 s, 256K 3.9, 512K 3.6-3.8, 1M 3.8, 2M 3.7-3.8, the
// whole buffer at once 4.6-4.9.
const sortChunkRows = 512 << 10

// sortChunks is a Sort's in-memory sorted runs.
type sortChunks struct {
	// off leaves the input unsorted until Finish (TopN keeps its own
	// buffer, SortFinal merges runs it finds).
	off   bool
	rows  int // rows per chunk (sortChunkRows; tests lower it)
	runs  [][]arrow.Record
	bytes int64 // Arrow bytes of runs
}

func (c *sortChunks) limit() int {
	if c.rows > 0 {
		return c.rows
	}
	return sortChunkRows
}

// chunking reports whether s sorts its input in chunks.
func (s *Sort) chunking() bool { return s.mode == SortPartial && !s.chunk.off }

// sortChunk sorts the buffered rows into a new in-memory run and drops
// the buffer.
func (s *Sort) sortChunk(ctx context.Context) error {
	if s.rows == 0 {
		return nil
	}
	perm, err := s.permutation()
	if err != nil {
		return err
	}
	var run []arrow.Record
	var bytes int64
	err = s.emitPermN(ctx, perm, s.ext.rowsPerBatch(), func(rec arrow.Record) error {
		rec.Retain()
		run = append(run, rec)
		bytes += batchBufferBytes(rec)
		return nil
	})
	if err != nil {
		releaseRecords(run)
		return err
	}
	s.release()
	s.chunk.runs = append(s.chunk.runs, run)
	s.chunk.bytes += bytes
	return nil
}

// mergeChunks sorts what is buffered into a last run and calls fn with
// the rows of the spill runs given (the earlier input) and of the
// in-memory runs in sorted order, in batches of at most rowsPerBatch rows;
// it drops the in-memory runs.
func (s *Sort) mergeChunks(ctx context.Context, spill []SpillRun, fn func(arrow.Record) error) error {
	if err := s.sortChunk(ctx); err != nil {
		return err
	}
	defer s.dropChunks()
	if len(spill) == 0 && len(s.chunk.runs) == 1 {
		for _, rec := range s.chunk.runs[0] {
			if err := fn(rec); err != nil {
				return err
			}
		}
		return nil
	}
	m := s.newMerger()
	defer m.close()
	if err := m.addRuns(ctx, spill); err != nil {
		return err
	}
	for _, run := range s.chunk.runs {
		if err := m.add(ctx, &recordsReader{recs: run}, false); err != nil {
			return err
		}
	}
	return m.run(ctx, fn)
}

// dropChunks releases the in-memory runs.
func (s *Sort) dropChunks() {
	for _, run := range s.chunk.runs {
		releaseRecords(run)
	}
	s.chunk.runs, s.chunk.bytes = nil, 0
}

func releaseRecords(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}

// recordsReader reads an in-memory run (retaining each batch it returns;
// the run keeps its own references).
type recordsReader struct {
	recs []arrow.Record
	i    int
}

func (r *recordsReader) Next(context.Context) (arrow.Record, error) {
	if r.i == len(r.recs) {
		return nil, io.EOF
	}
	rec := r.recs[r.i]
	r.i++
	rec.Retain()
	return rec, nil
}

func (r *recordsReader) Close() {}
