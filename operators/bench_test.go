package operators

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
)

// The benchmark data looks like the peers' events.csv: user_id Zipf over
// 100K users, country over 200 codes, amount with two decimals, unique ts.
const benchRows = 200_000

var eventsSchema = spec.Schema{
	{Name: "user_id", Type: spec.Int64}, {Name: "country", Type: spec.String},
	{Name: "amount", Type: spec.Float64}, {Name: "ts", Type: spec.Int64},
}

var benchData struct {
	once sync.Once
	dir  string
	path string
	size int64
	recs []arrow.Record
}

// benchEvents returns the path of the generated events CSV and its batches.
func benchEvents(b *testing.B) (string, int64, []arrow.Record) {
	benchData.once.Do(func() {
		dir, err := os.MkdirTemp("", "opbench")
		if err != nil {
			b.Fatal(err)
		}
		benchData.dir = dir
		benchData.path = filepath.Join(dir, "events.csv")
		r := rand.New(rand.NewSource(1))
		zipf := rand.NewZipf(r, 1.1, 1, 99_999)
		buf := []byte("user_id,country,amount,ts\n")
		for i := 0; i < benchRows; i++ {
			buf = strconv.AppendUint(buf, zipf.Uint64()+1, 10)
			buf = fmt.Appendf(buf, ",C%03d,", r.Intn(200))
			buf = strconv.AppendFloat(buf, float64(r.Intn(99999)+1)/100, 'f', 2, 64)
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, 1_700_000_000_000+int64(i)*7919%benchRows*1000+int64(i%1000), 10)
			buf = append(buf, '\n')
		}
		if err := os.WriteFile(benchData.path, buf, 0o644); err != nil {
			b.Fatal(err)
		}
		benchData.size = int64(len(buf))
		sc, _ := NewCSVScan(benchData.path, eventsSchema, ',', 0, 1, memory.DefaultAllocator)
		sink := &opSink{}
		if err := sc.Run(context.Background(), sink); err != nil {
			b.Fatal(err)
		}
		benchData.recs = sink.recs
	})
	return benchData.path, benchData.size, benchData.recs
}

// discard is a downstream that drops every batch.
type discard struct{ rows int64 }

func (d *discard) Push(ctx context.Context, rec arrow.Record) error {
	d.rows += rec.NumRows()
	return nil
}
func (d *discard) Finish(ctx context.Context) error { return nil }

// benchClock marks the start of a measurement: wall time and the process's
// CPU time (user + system, GC included). On a shared, noisy machine the CPU
// figure is the stable one.
type benchClock struct {
	wall time.Time
	cpu  time.Duration
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startClock() benchClock { return benchClock{wall: time.Now(), cpu: cpuTime()} }

// reportRows reports million rows per wall second and per CPU second.
func reportRows(b *testing.B, rows int64, c benchClock) {
	total := float64(rows) * float64(b.N)
	b.ReportMetric(total/time.Since(c.wall).Seconds()/1e6, "Mrows/s")
	b.ReportMetric(total/(cpuTime()-c.cpu).Seconds()/1e6, "Mrows/cpu-s")
}

func BenchmarkCSVScan(b *testing.B) {
	path, size, _ := benchEvents(b)
	for _, splits := range []int{1, 4} {
		b.Run(fmt.Sprintf("splits=%d", splits), func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			start := startClock()
			for i := 0; i < b.N; i++ {
				d := &discard{}
				for k := 0; k < splits; k++ {
					sc, _ := NewCSVScan(path, eventsSchema, ',', k, splits, memory.DefaultAllocator)
					if err := sc.Run(context.Background(), d); err != nil {
						b.Fatal(err)
					}
				}
				if d.rows != benchRows {
					b.Fatalf("read %d rows", d.rows)
				}
			}
			reportRows(b, benchRows, start)
		})
	}
}

func BenchmarkHashAggregate(b *testing.B) {
	_, _, recs := benchEvents(b)
	aggs := []spec.Agg{{Func: spec.AggCount, Alias: "cnt"}, {Func: spec.AggSum, Arg: "amount", Alias: "total"}}
	for _, tc := range []struct {
		name string
		keys []string
	}{{"country", []string{"country"}}, {"user_id", []string{"user_id"}}, {"country,user_id", []string{"country", "user_id"}}} {
		b.Run(tc.name, func(b *testing.B) {
			step := &spec.AggregateStep{Keys: tc.keys, Aggs: aggs}
			b.ReportAllocs()
			start := startClock()
			for i := 0; i < b.N; i++ {
				h, err := NewHashAggregate(AggPartial, eventsSchema, step, &discard{}, memory.DefaultAllocator)
				if err != nil {
					b.Fatal(err)
				}
				for _, rec := range recs {
					if err := h.Push(context.Background(), rec); err != nil {
						b.Fatal(err)
					}
				}
				if err := h.Finish(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			reportRows(b, benchRows, start)
		})
	}
}

func BenchmarkHashJoinProbe(b *testing.B) {
	_, _, recs := benchEvents(b)
	users := spec.Schema{{Name: "user_id", Type: spec.Int64}, {Name: "segment", Type: spec.String}}
	out := append(append(spec.Schema{}, eventsSchema...), users[1])
	var urows [][]any
	for u := 1; u <= 100_000; u++ {
		urows = append(urows, []any{int64(u), fmt.Sprintf("seg%d", u%10)})
	}
	build := chunkRecords(&testing.T{}, memory.DefaultAllocator, users, urows, BatchRows)
	step := &spec.JoinStep{LeftKeys: []string{"user_id"}, RightKeys: []string{"user_id"}}
	j, err := NewHashJoin(step, eventsSchema, users, out, &discard{}, memory.DefaultAllocator)
	if err != nil {
		b.Fatal(err)
	}
	for _, rec := range build {
		if err := j.Build().Push(context.Background(), rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := j.Build().Finish(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := startClock()
	for i := 0; i < b.N; i++ {
		for _, rec := range recs {
			if err := j.Push(context.Background(), rec); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRows(b, benchRows, start)
}

func BenchmarkSort(b *testing.B) {
	_, _, recs := benchEvents(b)
	for _, tc := range []struct {
		name string
		keys []spec.SortKey
	}{
		{"user_id,ts", []spec.SortKey{{Column: "user_id"}, {Column: "ts"}}},
		{"country,amount_desc", []spec.SortKey{{Column: "country"}, {Column: "amount", Desc: true}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			start := startClock()
			for i := 0; i < b.N; i++ {
				s, err := NewSort(SortPartial, eventsSchema, tc.keys, &discard{}, memory.DefaultAllocator)
				if err != nil {
					b.Fatal(err)
				}
				for _, rec := range recs {
					if err := s.Push(context.Background(), rec); err != nil {
						b.Fatal(err)
					}
				}
				if err := s.Finish(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			reportRows(b, benchRows, start)
		})
	}
}

func BenchmarkCSVWrite(b *testing.B) {
	_, size, recs := benchEvents(b)
	path := filepath.Join(b.TempDir(), "out.csv")
	b.SetBytes(size)
	b.ReportAllocs()
	start := startClock()
	for i := 0; i < b.N; i++ {
		w, err := NewCSVWrite(path, eventsSchema)
		if err != nil {
			b.Fatal(err)
		}
		for _, rec := range recs {
			if err := w.Push(context.Background(), rec); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil { // no fsync: measure formatting
			b.Fatal(err)
		}
	}
	reportRows(b, benchRows, start)
}

// BenchmarkFilter keeps about half the rows (amount > 500), gathering the
// kept rows of every column by hand.
func BenchmarkFilter(b *testing.B) {
	_, _, recs := benchEvents(b)
	e, err := spec.ParseExpr("amount > 500")
	if err != nil {
		b.Fatal(err)
	}
	pred, err := CompileExpr(e, eventsSchema)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := startClock()
	for i := 0; i < b.N; i++ {
		f, err := NewFilter(pred, eventsSchema, &discard{}, memory.DefaultAllocator)
		if err != nil {
			b.Fatal(err)
		}
		for _, rec := range recs {
			if err := f.Push(context.Background(), rec); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRows(b, benchRows, start)
}
