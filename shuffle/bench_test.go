package shuffle

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/storage"
)

// benchEvents is 1M rows of (int64, string, float64, int64) in 64K-row
// batches, and their Arrow size.
func benchEvents(b *testing.B) ([]arrow.Record, int64) {
	recs := genEvents(memory.DefaultAllocator, 1, 1<<20, 64<<10, 0)
	b.Cleanup(func() { releaseAll(recs) })
	var raw int64
	for _, r := range recs {
		raw += ArrowBytes(r)
	}
	return recs, raw
}

func BenchmarkHashPartition(b *testing.B) {
	recs, raw := benchEvents(b)
	for _, key := range []string{"user_id", "country"} {
		b.Run(key, func(b *testing.B) {
			b.SetBytes(raw)
			var rows int64
			for i := 0; i < b.N; i++ {
				opts := Options{}
				opts.EnsureDefaults()
				s := newSplitter(8, Hash(key), opts, true, func(_ int, rec arrow.Record) error {
					rows += rec.NumRows()
					return nil
				})
				for _, r := range recs {
					if err := s.write(r); err != nil {
						b.Fatal(err)
					}
				}
				if err := s.flushAll(); err != nil {
					b.Fatal(err)
				}
				s.release()
			}
			if rows != int64(b.N)<<20 {
				b.Fatalf("%d rows out", rows)
			}
		})
	}
}

func openDiskStore(b *testing.B) *storage.Store {
	s, err := storage.Open(b.TempDir(), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkBlockingRoundTrip writes 1M rows through a BlockingWriter
// (commit included) on a real directory and reads every consumer back.
// Compare with BenchmarkRawFloor.
func BenchmarkBlockingRoundTrip(b *testing.B) {
	recs, raw := benchEvents(b)
	ctx := context.Background()
	for _, c := range []struct {
		name      string
		consumers int
		part      func() Partitioner
	}{
		{"forward", 1, Forward},
		{"hash8", 8, func() Partitioner { return Hash("user_id") }},
	} {
		for _, codec := range []Codec{Zstd, LZ4} {
			b.Run(c.name+"/"+codec.String(), func(b *testing.B) {
				s := openDiskStore(b)
				opts := Options{Codec: codec}
				b.SetBytes(raw)
				var stored int64
				for i := 0; i < b.N; i++ {
					ref := storage.PartitionRef{Run: 1, Producer: uint32(i)}
					w := NewBlockingWriter(s, ref, 0, c.consumers, c.part(), opts)
					for _, r := range recs {
						if err := w.Write(ctx, r); err != nil {
							b.Fatal(err)
						}
					}
					if err := w.Finish(ctx); err != nil {
						b.Fatal(err)
					}
					stored = 0
					for _, st := range w.Stats() {
						stored += st.StoredBytes
					}
					for cons := 0; cons < c.consumers; cons++ {
						drainReader(b, NewBlockingReader(s, []storage.PartitionRef{ref}, cons, eventsSchema, opts))
					}
				}
				b.ReportMetric(float64(stored)/float64(raw), "ratio")
			})
		}
	}
}

func drainReader(b *testing.B, r Reader) {
	defer r.Close()
	for {
		rec, err := r.Next(context.Background())
		if err == io.EOF {
			return
		} else if err != nil {
			b.Fatal(err)
		}
		rec.Release()
	}
}

// BenchmarkRawFloor is the least a blocking shuffle of the same data can
// cost: each batch encoded with the same codec, appended to one storage
// subpartition, committed, read back and decoded; no partitioning, no
// buffering, no Writer/Reader layer.
func BenchmarkRawFloor(b *testing.B) {
	recs, raw := benchEvents(b)
	for _, codec := range []Codec{Zstd, LZ4} {
		b.Run(codec.String(), func(b *testing.B) {
			s := openDiskStore(b)
			b.SetBytes(raw)
			for i := 0; i < b.N; i++ {
				ref := storage.PartitionRef{Run: 1, Producer: uint32(i)}
				rawRoundTrip(b, s, ref, recs, codec)
			}
		})
	}
}

func rawRoundTrip(b *testing.B, s *storage.Store, ref storage.PartitionRef, recs []arrow.Record, codec Codec) {
	enc, err := NewEncoder(eventsSchema, Options{Codec: codec})
	if err != nil {
		b.Fatal(err)
	}
	w := s.NewPartitionWriter(ref, 0, 1)
	for _, r := range recs {
		v, err := enc.Encode(r)
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Append(0, r.NumRows(), v); err != nil {
			b.Fatal(err)
		}
	}
	enc.Close()
	if err := w.Commit(); err != nil {
		b.Fatal(err)
	}
	sr, err := s.OpenSubpartition(ref, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer sr.Close()
	dec, err := NewDecoder(eventsSchema, memory.DefaultAllocator)
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	for {
		v, err := sr.Next()
		if err == io.EOF {
			return
		} else if err != nil {
			b.Fatal(err)
		}
		rec, err := dec.Decode(v)
		if err != nil {
			b.Fatal(err)
		}
		rec.Release()
	}
}

// BenchmarkEngineVsRaw interleaves the raw floor and the engine paths in
// every iteration (so that a noisy machine slows them alike) and reports
// each one's throughput as a percentage of the raw floor's.
func BenchmarkEngineVsRaw(b *testing.B) {
	recs, raw := benchEvents(b)
	ctx := context.Background()
	for _, codec := range []Codec{Zstd, LZ4} {
		b.Run(codec.String(), func(b *testing.B) {
			s := openDiskStore(b)
			opts := Options{Codec: codec}
			var tRaw, tFwd, tHash time.Duration
			engine := func(i int, n int, part Partitioner) time.Duration {
				start := time.Now()
				ref := storage.PartitionRef{Run: 2, Edge: uint32(n), Producer: uint32(i)}
				w := NewBlockingWriter(s, ref, 0, n, part, opts)
				for _, r := range recs {
					if err := w.Write(ctx, r); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Finish(ctx); err != nil {
					b.Fatal(err)
				}
				for c := 0; c < n; c++ {
					drainReader(b, NewBlockingReader(s, []storage.PartitionRef{ref}, c, eventsSchema, opts))
				}
				return time.Since(start)
			}
			b.SetBytes(raw)
			for i := 0; i < b.N; i++ {
				start := time.Now()
				rawRoundTrip(b, s, storage.PartitionRef{Run: 1, Producer: uint32(i)}, recs, codec)
				tRaw += time.Since(start)
				tFwd += engine(i, 1, Forward())
				tHash += engine(i, 8, Hash("user_id"))
			}
			b.ReportMetric(float64(raw)*float64(b.N)/tRaw.Seconds()/1e6, "raw_MB/s")
			b.ReportMetric(100*tRaw.Seconds()/tFwd.Seconds(), "forward_%raw")
			b.ReportMetric(100*tRaw.Seconds()/tHash.Seconds(), "hash8_%raw")
		})
	}
}
