// Package shuffle moves Arrow record batches from producer subtasks to
// consumer subtasks: partitioners, pipelined exchanges (bounded in-memory
// channels) and blocking exchanges (compressed Arrow IPC in the store).
//
// # Owns
//
//   - Partitioners (Forward, Global, Hash, Broadcast, Rebalance, Random)
//     and the stable row hash (HashRows) that Hash routes by.
//   - Splitting records by consumer with typed gather loops, and buffering
//     small outputs per consumer up to Options.TargetRows/TargetBytes
//     (bounded by MaxBufferedBytes over all consumers).
//   - The value codec (Encoder, Decoder): one Arrow IPC record-batch
//     message per value, compressed with s2 (default), zstd, lz4 (Arrow
//     IPC body compression), or not at all; a one-byte tag says which.
//   - BlockingWriter/BlockingReader over storage, and Pipe with its
//     PipeWriter/PipeReader; both satisfy Writer and Reader.
//
// # Must not
//
//   - Import plan, operators or scheduler, or know about jobs and specs:
//     ids are plain integers and storage.PartitionRef; the scheduler maps
//     plan types onto them.
//   - Know Pebble keys (storage owns them).
//
// # Glossary
//
//   - producer / consumer: the subtasks on either side of an exchange,
//     numbered from 0 within it.
//   - partition: one producer's output on one edge (storage.PartitionRef);
//     subpartition: its part for one consumer. Forward and Global
//     partitions have a single subpartition: a forward edge's consumer i
//     reads subpartition 0 of producer i's partition; a global edge's only
//     consumer reads subpartition 0 of every producer's.
//   - attempt: one execution of a producer; a blocking attempt is
//     invisible until Finish commits it.
//   - route: a partitioner's decision for one record: the whole record to
//     one consumer, to all, or row by row.
//   - value: one encoded batch as stored.
//
// # Ownership
//
// Writers never take ownership of the records passed to Write. Readers
// hand out records the caller owns and releases; they stay valid after
// later Next calls (decoded records own their memory; pipe records are
// retained for the consumer). A broadcast record is shared by all its
// consumers' readers, not copied: treat received records as immutable.
//
// # Decisions (BenchmarkCodec, BenchmarkArrowBodyZstd, BenchmarkEngineVsRaw)
//
// Codec, on 1M events rows (31.5 MB of Arrow), 2 cores of a quiet machine,
// MB/s of Arrow bytes:
//
//	                              encode   decode   stored/Arrow
//	Zstd level 1                  150      540-690  0.61
//	Zstd level 3                  105-115  480-680  0.46
//	Arrow IPC body zstd (level 3)  89-95   316-319  0.46
//	LZ4 (Arrow IPC body)          345      1700     0.70
//	S2 (default)                  325-380  770-840  0.72
//	None                          2400     3100     0.98
//
// Compressing the whole IPC message with one reused klauspost zstd encoder
// beats Arrow's IPC body zstd at the same ratio (level 3: 1.2x encode, 1.5-2x
// decode; Arrow's reader builds a zstd decoder for every record batch, and
// its writer compresses each buffer through a streaming encoder). Level 1
// trades 30% more bytes for 1.4x the encode speed: the better deal on 2
// cores, where encoding, not the disk, is the bottleneck. Encoders and
// decoders live as long as a writer or reader, never one per batch. LZ4
// uses Arrow's IPC body compression with one reused IPC writer (its
// per-batch lz4 reader is cheap); it round-trips 1.7x faster than Zstd for
// 15% more bytes.
//
// S2 is the default since whole jobs were measured with each (2026-12-05,
// 2 cores, 20M rows of bench/run.sh, one run each, interleaved): W4 sort
// and write 13.9 s with Zstd, 9.4 s with S2 (12.4 s with LZ4); W3 join
// 3.62/3.63 s with Zstd, 3.18/3.11 s with S2; TPC-H Q18 at SF 1 3.82/3.16
// s against 3.30/2.93 s, Q21 even. Encoding is what the 2 cores wait for;
// S2 stores about 20% more bytes (W4: 387 MB against 315 MB). --codec zstd
// is the choice where the disk, not the CPU, is short.
//
// Engine against the raw floor (encode, append to one subpartition,
// commit, read, decode; BenchmarkEngineVsRaw, 2 cores, interleaved runs):
// Forward 100-105% of the raw throughput, Hash to 8 consumers 80-83% with
// Zstd and 73-75% with LZ4 (the raw floor: 97-120 MB/s with Zstd, 165-188
// with LZ4). Hash partitioning alone (hash, counting sort, typed gather
// into per-consumer buffers) runs at 700-950 MB/s.
//
// Ordering: a consumer receives producer 0's rows, then producer 1's, and
// so on; within a producer, rows keep the order they were written in
// (buffering and the counting sort are stable). So forward, hash, global
// and broadcast edges replay byte for byte when a producer re-runs on the
// same input; rebalance (start drawn from a per-attempt seed) and random
// do not.
//
// # Not done yet
//
//   - Range partitioning.
//   - Re-partitioning supports int64/uint64/float64/timestamp/date and
//     32-bit fixed-width, string/binary and bool columns; nested and large
//     types are rejected (Forward, Global, Broadcast and Rebalance of big
//     records pass any type through).
//   - Decoding copies each buffer out of the decompressed message (Arrow's
//     IPC reader does); a zero-copy decoder would save one copy.
//   - Pipelined readers read producers in a fixed order; see Pipe for the
//     deadlock this can cause across chained pipes.
package shuffle
