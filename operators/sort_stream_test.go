package operators

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// closingReader is a test stream that records Close and can fail after
// some batches.
type closingReader struct {
	sortTestReader
	closed int
	failAt int // Next fails at this batch (0: never)
	err    error
}

func (r *closingReader) Next(ctx context.Context) (arrow.Record, error) {
	if r.failAt > 0 && r.i == r.failAt-1 {
		return nil, r.err
	}
	return r.sortTestReader.Next(ctx)
}

func (r *closingReader) Close() {
	r.closed++
	for _, rec := range r.recs {
		rec.Release()
	}
	r.recs = nil
}

// mergeStreams runs MergeSorted over streams cut from per-stream rows and
// returns the sink, the sort and the readers.
func mergeStreams(t *testing.T, r *rand.Rand, in spec.Schema, keys []spec.SortKey, streams [][][]any, tweak func([]*closingReader)) (*optest.Sink, *Sort, []*closingReader, error) {
	t.Helper()
	mem := optest.Checked(t)
	sink := &optest.Sink{}
	s, err := NewSort(SortFinal, in, keys, sink, mem)
	if err != nil {
		t.Fatal(err)
	}
	s.ext.batchRows = 70
	readers := make([]*closingReader, len(streams))
	brs := make([]BatchReader, len(streams))
	for i, rows := range streams {
		readers[i] = &closingReader{sortTestReader: sortTestReader{recs: randomChunks(t, r, mem, in, rows, 90)}}
		brs[i] = readers[i]
	}
	if tweak != nil {
		tweak(readers)
	}
	err = s.MergeSorted(context.Background(), brs)
	for i, rd := range readers {
		if rd.closed != 1 {
			t.Errorf("stream %d closed %d times, want 1", i, rd.closed)
		}
	}
	return sink, s, readers, err
}

// sortedStreams returns n streams of sorted rows (some empty), numbered in
// stream order in column seq, and all rows in stream order.
func sortedStreams(r *rand.Rand, in spec.Schema, keys []spec.SortKey, n int) (streams [][][]any, all [][]any) {
	pool := externalSortRows(n * 300)
	for i := 0; i < n; i++ {
		size := r.Intn(301)
		if r.Intn(5) == 0 {
			size = 0
		}
		rows := refSort(in, pool[i*300:i*300+size], keys)
		streams = append(streams, rows)
		all = append(all, rows...)
	}
	for i := range all {
		all[i][4] = int64(i)
	}
	return streams, all
}

func TestSortMergeSorted(t *testing.T) {
	in := optest.Schema(t, "a int64, b string, c float64, d bool, seq int64")
	r := rand.New(rand.NewSource(21))
	for n := 0; n <= 6; n++ {
		for ki, keys := range finalTestKeys {
			t.Run(fmt.Sprintf("streams=%d/keys=%d", n, ki), func(t *testing.T) {
				streams, all := sortedStreams(r, in, keys, n)
				want := refSort(in, all, keys) // stable: ties in stream order
				sink, s, _, err := mergeStreams(t, r, in, keys, streams, nil)
				defer sink.Release()
				if err != nil {
					t.Fatalf("MergeSorted: %v", err)
				}
				if got := sink.Rows(); !sameRows(got, want) {
					t.Errorf("MergeSorted(%d streams, %+v) =\n%s, want\n%s", n, keys, optest.Format(got), optest.Format(want))
				}
				if sink.Finished != 1 {
					t.Errorf("downstream finished %d times", sink.Finished)
				}
				if st := s.Stats(); st.RowsIn != int64(len(all)) || st.RowsOut != int64(len(all)) {
					t.Errorf("stats %+v, want %d rows in and out", st, len(all))
				}
			})
		}
	}
}

// An unsorted stream, or one that fails, fails the merge: the downstream
// is never finished, so no output of it is committed.
func TestSortMergeSortedErrors(t *testing.T) {
	in := optest.Schema(t, "a int64, b string, c float64, d bool, seq int64")
	keys := finalTestKeys[0]
	r := rand.New(rand.NewSource(22))
	boom := errors.New("boom")
	for _, tc := range []struct {
		name  string
		tweak func([]*closingReader)
		is    error
		msg   string
	}{
		{"swapped batches", func(rs []*closingReader) {
			b := rs[1].recs
			b[0], b[len(b)-1] = b[len(b)-1], b[0]
		}, errSortInput, "out of sort order"},
		{"reversed stream", func(rs []*closingReader) {
			rs[2].recs = []arrow.Record{reversed(t, in, rs[2].recs)}
		}, errSortInput, "out of sort order"},
		{"read error", func(rs []*closingReader) { rs[1].failAt, rs[1].err = 2, boom }, boom, "boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var streams [][][]any
			for len(streams) < 3 {
				rows := refSort(in, externalSortRows(400), keys)
				streams = append(streams, rows)
			}
			sink, _, _, err := mergeStreams(t, r, in, keys, streams, tc.tweak)
			defer sink.Release()
			if !errors.Is(err, tc.is) || !strings.Contains(fmt.Sprint(err), tc.msg) {
				t.Fatalf("MergeSorted = %v, want an error wrapping %v with %q", err, tc.is, tc.msg)
			}
			if sink.Finished != 0 {
				t.Errorf("downstream finished after %v", err)
			}
		})
	}
}

// reversed returns one record holding recs' rows in reverse order (and
// releases recs).
func reversed(t *testing.T, in spec.Schema, recs []arrow.Record) arrow.Record {
	rows := optest.Rows(recs)
	for _, rec := range recs {
		rec.Release()
	}
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	return optest.Record(t, optest.Checked(t), in, rows)
}
