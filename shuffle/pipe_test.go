package shuffle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
)

func TestPipeRoundTrip(t *testing.T) {
	for _, pc := range partCases {
		t.Run(pc.name, func(t *testing.T) {
			mem := checked(t)
			in := producerInputs(mem, 3)
			defer func() {
				for _, recs := range in {
					releaseAll(recs)
				}
			}()
			want := expected(t, pc, in)
			pipe := NewPipe(len(in), pc.consumers, 2)
			opts := Options{Allocator: mem, TargetRows: 1024}
			ctx := context.Background()
			var wg sync.WaitGroup
			errs := make(chan error, len(in)+pc.consumers)
			for p := range in {
				wg.Add(1)
				go func() {
					defer wg.Done()
					w := pipe.Writer(p, pc.part(p), opts)
					for _, rec := range in[p] {
						if err := w.Write(ctx, rec); err != nil {
							errs <- err
							w.Abort()
							return
						}
					}
					errs <- w.Finish(ctx)
				}()
			}
			got := make([][]string, pc.consumers)
			for c := range got {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := pipe.Reader(c)
					defer r.Close()
					var err error
					got[c], _, err = readAllRows(ctx, r)
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			for c := range got {
				checkRows(t, fmt.Sprintf("consumer %d", c), got[c], want[c])
			}
		})
	}
}

// TestPipeBackpressure: with capacity 1, a second Write blocks until the
// consumer reads; cancelling its context unblocks it with the context's
// error.
func TestPipeBackpressure(t *testing.T) {
	mem := checked(t)
	rec := genAllTypes(mem, 0, 100, 0)
	defer rec.Release()
	pipe := NewPipe(1, 1, 1)
	// TargetRows 1: every record is sent as soon as it is written.
	w := pipe.Writer(0, Forward(), Options{Allocator: mem, TargetRows: 1})
	r := pipe.Reader(0)
	defer r.Close()
	bg := context.Background()
	if err := w.Write(bg, rec); err != nil { // fills the channel
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	// The channel is full, so the only way out is the context.
	if err := w.Write(ctx, rec); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write on a full pipe with a cancelled context: %v", err)
	}
	// The failed Write leaves the writer failed; abort it. The record in
	// the channel is dropped, not delivered.
	w.Abort()
	if _, err := r.Next(bg); !errors.Is(err, ErrProducerAborted) {
		t.Fatalf("after Abort: %v, want ErrProducerAborted", err)
	}

	// On a new pipe: a Write blocked on a full channel completes once the
	// consumer reads.
	pipe = NewPipe(1, 1, 1)
	w = pipe.Writer(0, Forward(), Options{Allocator: mem, TargetRows: 1})
	r2 := pipe.Reader(0)
	defer r2.Close()
	if err := w.Write(bg, rec); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		if err := w.Write(bg, rec); err != nil {
			done <- err
			return
		}
		done <- w.Finish(bg)
	}()
	for i := 0; i < 2; i++ {
		got, err := r2.Next(bg)
		if err != nil {
			t.Fatal(err)
		}
		got.Release()
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := r2.Next(bg); err != io.EOF {
		t.Errorf("after Finish: %v, want io.EOF", err)
	}
}

// TestPipeAbort: an aborted producer makes its consumers fail, whether they
// are waiting for it or have its records buffered, and never look done.
func TestPipeAbort(t *testing.T) {
	mem := checked(t)
	rec := genAllTypes(mem, 0, 100, 0)
	defer rec.Release()
	bg := context.Background()
	pipe := NewPipe(2, 2, 4)
	opts := Options{Allocator: mem, TargetRows: 1}
	w0, w1 := pipe.Writer(0, Broadcast(), opts), pipe.Writer(1, Broadcast(), opts)
	if err := w0.Write(bg, rec); err != nil {
		t.Fatal(err)
	}
	if err := w0.Finish(bg); err != nil {
		t.Fatal(err)
	}
	if err := w1.Write(bg, rec); err != nil {
		t.Fatal(err)
	}
	r0, r1 := pipe.Reader(0), pipe.Reader(1)
	defer r0.Close()
	defer r1.Close()
	// Consumer 0 reads producer 0's record and then waits on producer 1.
	got, err := r0.Next(bg)
	if err != nil {
		t.Fatal(err)
	}
	got.Release()
	got, err = r0.Next(bg) // producer 1's first record
	if err != nil {
		t.Fatal(err)
	}
	got.Release()
	waiting := make(chan error)
	go func() {
		_, err := r0.Next(bg)
		waiting <- err
	}()
	w1.Abort()
	if err := <-waiting; !errors.Is(err, ErrProducerAborted) {
		t.Errorf("waiting consumer: %v, want ErrProducerAborted", err)
	}
	// Consumer 1 still has producer 1's record buffered: it fails too
	// (after producer 0's record), instead of delivering it.
	got, err = r1.Next(bg)
	if err != nil {
		t.Fatal(err)
	}
	got.Release()
	if _, err := r1.Next(bg); !errors.Is(err, ErrProducerAborted) {
		t.Errorf("buffered consumer: %v, want ErrProducerAborted", err)
	}
	if _, err := r1.Next(bg); !errors.Is(err, ErrProducerAborted) {
		t.Errorf("consumer after the error: %v, want the same error", err)
	}
	if err := w1.Write(bg, rec); err == nil {
		t.Error("Write after Abort succeeded")
	}
}

// TestPipeCancelReader: a reader waiting for data returns when its context
// is cancelled; a closed reader makes writers drop its records rather than
// block.
func TestPipeCancelReader(t *testing.T) {
	mem := checked(t)
	rec := genAllTypes(mem, 0, 10, 0)
	defer rec.Release()
	pipe := NewPipe(1, 2, 1)
	r0, r1 := pipe.Reader(0), pipe.Reader(1)
	ctx, cancel := context.WithCancel(context.Background())
	waiting := make(chan error)
	go func() {
		_, err := r0.Next(ctx)
		waiting <- err
	}()
	cancel()
	if err := <-waiting; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled reader: %v", err)
	}
	r0.Close()
	w := pipe.Writer(0, Broadcast(), Options{Allocator: mem, TargetRows: 1})
	bg := context.Background()
	for i := 0; i < 3; i++ { // consumer 0 is gone; consumer 1 has room for 1
		done := make(chan error)
		go func() { done <- w.Write(bg, rec) }()
		if i > 0 {
			got, err := r1.Next(bg)
			if err != nil {
				t.Fatal(err)
			}
			got.Release()
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(bg); err != nil {
		t.Fatal(err)
	}
	var recs []arrow.Record
	for {
		got, err := r1.Next(bg)
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, got)
	}
	if len(recs) != 1 {
		t.Errorf("consumer 1 got %d more records, want 1", len(recs))
	}
	releaseAll(recs)
	r1.Close()
}

// TestPipeProducers: split by producer, a consumer reads a later
// producer's records while an earlier one has sent nothing (the
// sequential reader would wait on producer 0), and a producer's abort
// fails only its own reader.
func TestPipeProducers(t *testing.T) {
	mem := checked(t)
	rec := genAllTypes(mem, 0, 100, 0)
	defer rec.Release()
	bg := context.Background()
	pipe := NewPipe(2, 1, 1)
	opts := Options{Allocator: mem, TargetRows: 1}
	w0, w1 := pipe.Writer(0, Global(), opts), pipe.Writer(1, Global(), opts)
	sent := make(chan error, 1)
	go func() {
		for i := 0; i < 3; i++ {
			if err := w1.Write(bg, rec); err != nil {
				sent <- err
				return
			}
		}
		sent <- w1.Finish(bg)
	}()
	r := pipe.Reader(0)
	defer r.Close()
	parts := r.Producers()
	if len(parts) != 2 {
		t.Fatalf("split into %d readers, want 2", len(parts))
	}
	rows, n, err := readAllRows(bg, parts[1])
	if err != nil || n != 3 || len(rows) != 300 {
		t.Errorf("producer 1's reader: %d batches, %d rows, %v; want 3 batches of 100", n, len(rows), err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	w0.Abort()
	if _, err := parts[0].Next(bg); !errors.Is(err, ErrProducerAborted) {
		t.Errorf("aborted producer's reader: %v, want ErrProducerAborted", err)
	}
	if _, err := parts[1].Next(bg); err != io.EOF {
		t.Errorf("finished producer's reader after the other's abort: %v, want io.EOF", err)
	}
	for _, p := range parts {
		p.Close()
	}
}
