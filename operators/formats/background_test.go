package formats

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// fakeWrite is a FileWrite that records what reaches it and can fail,
// panic or block at a batch.
type fakeWrite struct {
	rows             int64
	batches          int
	failAt, panicAt  int // 1-based batch numbers; 0: never
	block            chan struct{}
	finished, closed int
}

func (f *fakeWrite) Push(ctx context.Context, rec arrow.Record) error {
	f.batches++
	if f.block != nil {
		<-f.block
	}
	switch f.batches {
	case f.failAt:
		return errors.New("disk full")
	case f.panicAt:
		panic("formatting bug")
	}
	f.rows += rec.NumRows()
	return nil
}
func (f *fakeWrite) Finish(context.Context) error { f.finished++; return nil }
func (f *fakeWrite) Close() error                 { f.closed++; return nil }
func (f *fakeWrite) RowsWritten() int64           { return f.rows }
func (f *fakeWrite) Stats() operators.Stats       { return operators.Stats{RowsIn: f.rows} }

// TestBackgroundWriteCSV: through the background writer a CSV file is
// byte for byte what the writer alone writes.
func TestBackgroundWriteCSV(t *testing.T) {
	in := optest.Schema(t, "i int64, s string")
	mem := optest.Checked(t)
	var rows [][]any
	for i := range 5000 {
		rows = append(rows, []any{int64(i), strings.Repeat("x", i%7)})
	}
	dir := t.TempDir()
	var files []string
	for _, bg := range []bool{false, true} {
		path := filepath.Join(dir, map[bool]string{false: "plain.csv", true: "bg.csv"}[bg])
		w, err := NewCSVWrite(path, in)
		if err != nil {
			t.Fatal(err)
		}
		var fw FileWrite = w
		if bg {
			fw = Background(w)
		}
		var recs []arrow.Record
		for from := 0; from < len(rows); from += 700 {
			recs = append(recs, optest.Record(t, mem, in, rows[from:min(from+700, len(rows))]))
		}
		optest.Push(t, fw, recs...)
		if fw.RowsWritten() != int64(len(rows)) {
			t.Errorf("background=%v: RowsWritten = %d, want %d", bg, fw.RowsWritten(), len(rows))
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, string(b))
	}
	if files[0] != files[1] || len(files[0]) == 0 {
		t.Errorf("the background writer wrote %d bytes, the writer alone %d, or they differ", len(files[1]), len(files[0]))
	}
}

// TestBackgroundWriteFailure: a writer's error or panic is returned by a
// later Push or by Finish, which then does not finish the file; every
// batch is released; Close stops the goroutine.
func TestBackgroundWriteFailure(t *testing.T) {
	in := optest.Schema(t, "i int64")
	for _, tc := range []struct {
		name string
		fake fakeWrite
		want string
	}{
		{"error", fakeWrite{failAt: 3}, "disk full"},
		{"panic", fakeWrite{panicAt: 2}, "panic: formatting bug"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := optest.Checked(t)
			fake := tc.fake
			bw := Background(&fake)
			var err error
			for i := 0; i < 10 && err == nil; i++ {
				rec := optest.Record(t, mem, in, [][]any{{int64(i)}})
				err = bw.Push(context.Background(), rec)
				rec.Release()
			}
			if err == nil {
				err = bw.Finish(context.Background())
			} else if ferr := bw.Finish(context.Background()); ferr == nil {
				t.Errorf("Finish after a failed Push = nil")
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("pushing 10 batches = %v, want %q", err, tc.want)
			}
			if fake.finished != 0 {
				t.Errorf("the failed file was finished")
			}
			if err := bw.Close(); err != nil || fake.closed != 1 {
				t.Errorf("Close = %v, writer closed %d times", err, fake.closed)
			}
		})
	}
}

// TestBackgroundWriteCancel: a Push blocked on a full queue returns when
// its context is cancelled, and Close releases what was queued.
func TestBackgroundWriteCancel(t *testing.T) {
	in := optest.Schema(t, "i int64")
	mem := optest.Checked(t)
	fake := fakeWrite{block: make(chan struct{})}
	bw := Background(&fake)
	ctx, cancel := context.WithCancel(context.Background())
	pushed := 0
	errc := make(chan error, 1)
	go func() {
		for {
			rec := optest.Record(t, mem, in, [][]any{{int64(pushed)}})
			err := bw.Push(ctx, rec)
			rec.Release()
			if err != nil {
				errc <- err
				return
			}
			pushed++
			if pushed == backgroundQueue+1 { // one in the writer, the queue full
				cancel()
			}
		}
	}()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Push on a full queue after cancel = %v", err)
	}
	close(fake.block)
	if err := bw.Close(); err != nil || fake.closed != 1 || fake.finished != 0 {
		t.Errorf("Close = %v; writer closed %d times, finished %d", err, fake.closed, fake.finished)
	}
	// The checked allocator fails the test if a queued batch was not
	// released.
}
