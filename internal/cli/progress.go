package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/batchrun/batchrun/jobs"
)

// progress shows, only on a terminal, one bar per stage: its subtasks
// finished out of all, the rows they produced, the time since it started
// and an estimate of the time left.
type progress struct {
	p      *mpb.Progress
	mu     sync.Mutex
	stages []*stageProgress
	bars   []*mpb.Bar
}

// stageProgress counts a stage's finished subtasks and their rows. A
// subtask that finishes again (a failover re-ran it) counts once, with the
// rows of its latest attempt, so a bar never passes its total.
type stageProgress struct {
	done  map[int]int64 // subtask index -> rows of its latest finished attempt
	total int
	rows  int64
}

func newStageProgress(total int) *stageProgress {
	return &stageProgress{done: make(map[int]int64, total), total: total}
}

// finished records subtask index finishing with rows; it reports whether
// the subtask had not finished before.
func (s *stageProgress) finished(index int, rows int64) bool {
	prev, again := s.done[index]
	s.done[index] = rows
	s.rows += rows - prev
	return !again
}

func newProgress(w io.Writer, enabled bool, l *jobs.Loaded) *progress {
	f, ok := w.(*os.File)
	if !enabled || !ok || !term.IsTerminal(int(f.Fd())) {
		return &progress{}
	}
	pr := &progress{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(30))}
	width := 0
	for _, st := range l.Graph.Stages {
		width = max(width, len(st.Name))
	}
	for _, st := range l.Graph.Stages {
		sp := newStageProgress(st.Parallelism)
		bar := pr.p.AddBar(int64(st.Parallelism),
			mpb.PrependDecorators(decor.Name(fmt.Sprintf("%-*s ", width, st.Name)), decor.CountersNoUnit("%d/%d")),
			mpb.AppendDecorators(
				decor.Any(func(decor.Statistics) string {
					pr.mu.Lock()
					defer pr.mu.Unlock()
					return formatCount(sp.rows) + " rows "
				}),
				decor.Elapsed(decor.ET_STYLE_GO),
				decor.OnComplete(decor.Name(" ETA "), ""),
				decor.OnComplete(decor.AverageETA(decor.ET_STYLE_GO), ""),
			),
		)
		pr.stages = append(pr.stages, sp)
		pr.bars = append(pr.bars, bar)
	}
	return pr
}

// SubtaskFinished implements jobs.Observer.
func (pr *progress) SubtaskFinished(stage, index int, rowsOut int64, err error) {
	if pr.p == nil || err != nil {
		return
	}
	pr.mu.Lock()
	first := pr.stages[stage].finished(index, rowsOut)
	pr.mu.Unlock()
	if first {
		pr.bars[stage].Increment()
	}
}

// Close stops the display.
func (pr *progress) Close() {
	if pr.p == nil {
		return
	}
	for _, b := range pr.bars {
		b.Abort(false)
	}
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
