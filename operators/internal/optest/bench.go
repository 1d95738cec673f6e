//go:build unix

package optest

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
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// The benchmark data looks like the peers' events.csv: user_id Zipf over
// 100K users, country over 200 codes, amount with two decimals, unique ts.
const BenchRows = 200_000

var EventsSchema = spec.Schema{
	{Name: "user_id", Type: spec.Int64}, {Name: "country", Type: spec.String},
	{Name: "amount", Type: spec.Float64}, {Name: "ts", Type: spec.Int64},
}

var benchData struct {
	once sync.Once
	path string
	size int64
	recs []arrow.Record
}

// Events returns the path of the generated events CSV and the same
// rows as batches of at most BatchRows rows (what a scan of the file
// yields).
func Events(b *testing.B) (string, int64, []arrow.Record) {
	benchData.once.Do(func() {
		dir, err := os.MkdirTemp("", "opbench")
		if err != nil {
			b.Fatal(err)
		}
		benchData.path = filepath.Join(dir, "events.csv")
		rb := array.NewRecordBuilder(memory.DefaultAllocator, arrowx.ArrowSchema(EventsSchema))
		defer rb.Release()
		users, countries := rb.Field(0).(*array.Int64Builder), rb.Field(1).(*array.StringBuilder)
		amounts, times := rb.Field(2).(*array.Float64Builder), rb.Field(3).(*array.Int64Builder)
		r := rand.New(rand.NewSource(1))
		zipf := rand.NewZipf(r, 1.1, 1, 99_999)
		buf := []byte("user_id,country,amount,ts\n")
		for i := 0; i < BenchRows; i++ {
			user, country := zipf.Uint64()+1, fmt.Sprintf("C%03d", r.Intn(200))
			amount := float64(r.Intn(99999)+1) / 100
			ts := 1_700_000_000_000 + int64(i)*7919%BenchRows*1000 + int64(i%1000)
			buf = strconv.AppendUint(buf, user, 10)
			buf = append(append(append(buf, ','), country...), ',')
			buf = strconv.AppendFloat(buf, amount, 'f', 2, 64)
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, ts, 10)
			buf = append(buf, '\n')
			users.Append(int64(user))
			countries.Append(country)
			amounts.Append(amount)
			times.Append(ts)
			if users.Len() == BatchRows || i == BenchRows-1 {
				benchData.recs = append(benchData.recs, rb.NewRecord())
			}
		}
		if err := os.WriteFile(benchData.path, buf, 0o644); err != nil {
			b.Fatal(err)
		}
		benchData.size = int64(len(buf))
	})
	return benchData.path, benchData.size, benchData.recs
}

// Discard is a downstream that drops every batch.
type Discard struct{ Rows int64 }

func (d *Discard) Push(ctx context.Context, rec arrow.Record) error {
	d.Rows += rec.NumRows()
	return nil
}
func (d *Discard) Finish(ctx context.Context) error { return nil }

// Clock marks the start of a measurement: wall time and the process's
// CPU time (user + system, GC included). On a shared, noisy machine the CPU
// figure is the stable one.
type Clock struct {
	wall time.Time
	cpu  time.Duration
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func StartClock() Clock { return Clock{wall: time.Now(), cpu: cpuTime()} }

// ReportRows reports million rows per wall second and per CPU second.
func ReportRows(b *testing.B, rows int64, c Clock) {
	total := float64(rows) * float64(b.N)
	b.ReportMetric(total/time.Since(c.wall).Seconds()/1e6, "Mrows/s")
	b.ReportMetric(total/(cpuTime()-c.cpu).Seconds()/1e6, "Mrows/cpu-s")
}
