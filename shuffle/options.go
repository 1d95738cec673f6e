package shuffle

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow/memory"
)

// Options configures writers, readers and codecs. Zero values are the
// defaults.
type Options struct {
	// Codec compresses blocking partitions (default S2). Pipes do not
	// encode.
	Codec Codec
	// ZstdLevel is the zstd level, 1 to 22 (default 1, klauspost's
	// "fastest": 1.4x the encode speed of level 3 for 30% more bytes on
	// the events data; see the package doc).
	ZstdLevel int
	// Allocator allocates decoded and re-partitioned records (default
	// memory.DefaultAllocator).
	Allocator memory.Allocator
	// TargetRows: a consumer's pending rows are encoded (or sent down a
	// pipe) once they reach this many rows (default 65536).
	TargetRows int
	// TargetBytes: ... or this many Arrow bytes (default 8 MiB).
	TargetBytes int64
	// MaxBufferedBytes bounds the Arrow bytes pending over all consumers
	// of one writer; past it the largest pending batch is flushed early
	// (default 64 MiB).
	MaxBufferedBytes int64
}

// EnsureDefaults fills zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.ZstdLevel == 0 {
		o.ZstdLevel = 1
	}
	if o.Allocator == nil {
		o.Allocator = memory.DefaultAllocator
	}
	if o.TargetRows == 0 {
		o.TargetRows = 64 << 10
	}
	if o.TargetBytes == 0 {
		o.TargetBytes = 8 << 20
	}
	if o.MaxBufferedBytes == 0 {
		o.MaxBufferedBytes = 64 << 20
	}
}

// Validate reports the first invalid field.
func (o *Options) Validate() error {
	switch {
	case o.Codec >= numCodecs:
		return fmt.Errorf("shuffle: options: unknown codec %d", o.Codec)
	case o.ZstdLevel < 1 || o.ZstdLevel > 22:
		return fmt.Errorf("shuffle: options: ZstdLevel %d not in [1, 22]", o.ZstdLevel)
	case o.TargetRows < 1:
		return fmt.Errorf("shuffle: options: TargetRows %d < 1", o.TargetRows)
	case o.TargetBytes < 1:
		return fmt.Errorf("shuffle: options: TargetBytes %d < 1", o.TargetBytes)
	case o.MaxBufferedBytes < o.TargetBytes:
		return fmt.Errorf("shuffle: options: MaxBufferedBytes %d < TargetBytes %d", o.MaxBufferedBytes, o.TargetBytes)
	}
	return nil
}

func (o *Options) String() string {
	return fmt.Sprintf("codec=%s zstd_level=%d target_rows=%d target_bytes=%d max_buffered=%d",
		o.Codec, o.ZstdLevel, o.TargetRows, o.TargetBytes, o.MaxBufferedBytes)
}
