package storage

import (
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// BenchmarkWritePath compares the two write paths on a real directory: 64
// MiB of incompressible 1 MiB values into 8 subpartitions, committed (the
// "write" case), and read back in order (the "read" case).
//
// Measured on the 2-core machine (go test -bench WritePath -benchtime 5x,
// MB/s, a few runs; the disk takes 270 MB/s with fdatasync and 2 GB/s into
// the page cache):
//
//	ingest/write  ~1300-1700   ingest/read  ~2500-3500
//	batch/write   ~ 250- 350   batch/read   ~2500-3500
//
// Ingest writes each byte once (plus one fsync per sstable); batch writes
// it to the WAL, copies it into the memtable and writes it again at flush.
// So WriteIngest is the default.
func BenchmarkWritePath(b *testing.B) {
	const consumers, valueSize, total = 8, 1 << 20, 64 << 20
	vals := make([][]byte, total/valueSize)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range vals {
		vals[i] = make([]byte, valueSize)
		for j := 0; j < valueSize; j += 8 {
			v := rng.Uint64()
			for k := 0; k < 8; k++ {
				vals[i][j+k] = byte(v >> (8 * k))
			}
		}
	}
	for _, p := range writePaths {
		b.Run(p.String()+"/write", func(b *testing.B) {
			s := openDisk(b, Options{WritePath: p})
			b.SetBytes(total)
			for i := 0; i < b.N; i++ {
				ref := PartitionRef{Run: 1, Producer: uint32(i)}
				if err := writeValues(s, ref, consumers, vals); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(p.String()+"/read", func(b *testing.B) {
			s := openDisk(b, Options{WritePath: p})
			ref := PartitionRef{Run: 1}
			if err := writeValues(s, ref, consumers, vals); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(total)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for c := 0; c < consumers; c++ {
					if err := drain(s, ref, c); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func openDisk(b *testing.B, opts Options) *Store {
	s, err := Open(b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func writeValues(s *Store, ref PartitionRef, consumers int, vals [][]byte) error {
	w := s.NewPartitionWriter(ref, 0, consumers)
	defer w.Discard()
	for i, v := range vals {
		if err := w.Append(i%consumers, 1, v); err != nil {
			return err
		}
	}
	return w.Commit()
}

func drain(s *Store, ref PartitionRef, c int) error {
	r, err := s.OpenSubpartition(ref, c)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		if _, err := r.Next(); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("sub %d: %w", c, err)
		}
	}
}
