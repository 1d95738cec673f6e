package cli

import (
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/batchrun/batchrun/jobs"
)

// progress shows stages done/total and rows produced, only on a terminal.
type progress struct {
	p    *mpb.Progress
	bar  *mpb.Bar
	rows atomic.Int64

	mu        sync.Mutex
	remaining map[int]int // stage -> subtasks not finished
}

func newProgress(w io.Writer, enabled bool, l *jobs.Loaded) *progress {
	f, ok := w.(*os.File)
	if !enabled || !ok || !term.IsTerminal(int(f.Fd())) {
		return &progress{}
	}
	stages := l.Stages()
	pr := &progress{remaining: make(map[int]int, len(stages))}
	for i, n := range stages {
		pr.remaining[i] = n
	}
	pr.p = mpb.New(mpb.WithOutput(w), mpb.WithWidth(40))
	pr.bar = pr.p.AddBar(int64(len(stages)),
		mpb.PrependDecorators(decor.Name("stages "), decor.CountersNoUnit("%d/%d")),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			return formatCount(pr.rows.Load()) + " rows"
		})),
	)
	return pr
}

// SubtaskFinished implements jobs.Observer.
func (pr *progress) SubtaskFinished(stage, _ int, rowsOut int64, err error) {
	if pr.bar == nil || err != nil {
		return
	}
	pr.rows.Add(rowsOut)
	pr.mu.Lock()
	pr.remaining[stage]--
	done := pr.remaining[stage] == 0
	pr.mu.Unlock()
	if done {
		pr.bar.Increment()
	}
}

// Close stops the display.
func (pr *progress) Close() {
	if pr.p == nil {
		return
	}
	pr.bar.Abort(false)
	pr.p.Wait()
}

func formatCount(n int64) string {
	const units = "KMGT"
	if n < 10000 {
		return strconv.FormatInt(n, 10)
	}
	f, u := float64(n), -1
	for f >= 1000 && u < len(units)-1 {
		f /= 1000
		u++
	}
	return strconv.FormatInt(int64(f), 10) + units[u:u+1]
}
