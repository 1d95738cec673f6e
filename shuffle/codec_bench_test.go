package shuffle

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// BenchmarkCodec encodes and decodes 1M events rows (16 batches of 64K).
func BenchmarkCodec(b *testing.B) {
	mem := memory.NewGoAllocator()
	recs := genEvents(mem, 1, 1<<20, 64<<10, 0)
	defer releaseAll(recs)
	var raw int64
	for _, r := range recs {
		raw += ArrowBytes(r)
	}
	for _, cfg := range []struct {
		codec Codec
		level int
	}{{Zstd, 1}, {Zstd, 3}, {LZ4, 0}, {S2, 0}, {None, 0}} {
		name := cfg.codec.String()
		if cfg.level != 0 {
			name += fmt.Sprint(cfg.level)
		}
		opts := Options{Codec: cfg.codec, ZstdLevel: cfg.level, Allocator: mem}
		var vals [][]byte
		b.Run(name+"/encode", func(b *testing.B) {
			b.SetBytes(raw)
			var stored int64
			for i := 0; i < b.N; i++ {
				enc, err := NewEncoder(eventsSchema, opts)
				if err != nil {
					b.Fatal(err)
				}
				vals, stored = vals[:0], 0
				for _, r := range recs {
					v, err := enc.Encode(r)
					if err != nil {
						b.Fatal(err)
					}
					stored += int64(len(v))
					vals = append(vals, bytes.Clone(v))
				}
				enc.Close()
			}
			b.ReportMetric(float64(stored)/float64(raw), "ratio")
		})
		b.Run(name+"/decode", func(b *testing.B) {
			b.SetBytes(raw)
			for i := 0; i < b.N; i++ {
				dec, err := NewDecoder(eventsSchema, mem)
				if err != nil {
					b.Fatal(err)
				}
				for _, v := range vals {
					r, err := dec.Decode(v)
					if err != nil {
						b.Fatal(err)
					}
					r.Release()
				}
				dec.Close()
			}
		})
	}
}

// BenchmarkArrowBodyZstd is the alternative the Zstd codec was measured
// against: Arrow's own IPC body compression with zstd, one writer and one
// reader for the whole stream (its best case).
func BenchmarkArrowBodyZstd(b *testing.B) {
	mem := memory.NewGoAllocator()
	recs := genEvents(mem, 1, 1<<20, 64<<10, 0)
	defer releaseAll(recs)
	var raw int64
	for _, r := range recs {
		raw += ArrowBytes(r)
	}
	var stream bytes.Buffer
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(raw)
		for i := 0; i < b.N; i++ {
			stream.Reset()
			w := ipc.NewWriter(&stream, ipc.WithSchema(eventsSchema), ipc.WithZstd(), ipc.WithAllocator(mem))
			for _, r := range recs {
				if err := w.Write(r); err != nil {
					b.Fatal(err)
				}
			}
			w.Close()
		}
		b.ReportMetric(float64(stream.Len())/float64(raw), "ratio")
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(raw)
		for i := 0; i < b.N; i++ {
			r, err := ipc.NewReader(bytes.NewReader(stream.Bytes()), ipc.WithAllocator(mem))
			if err != nil {
				b.Fatal(err)
			}
			for r.Next() {
			}
			r.Release()
		}
	})
}
