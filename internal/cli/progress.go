package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/batchrun/batchrun/jobs"
)

// progress shows, only on a terminal, one bar per stage: its subtasks
// finished out of all, the rows they produced, for a stage that reads
// files the bytes it read of them (runs in this process), the time since
// the run started and an estimate of the time left (from the bytes read
// where known, else from the subtasks finished).
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

func newProgress(w io.Writer, enabled bool, l *jobs.Loaded, input *jobs.InputProgress) *progress {
	f, ok := w.(*os.File)
	if !enabled || !ok || !term.IsTerminal(int(f.Fd())) {
		return &progress{}
	}
	pr := &progress{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(30))}
	width := 0
	for _, st := range l.Graph.Stages {
		width = max(width, len(st.Name))
	}
	start := time.Now()
	for _, st := range l.Graph.Stages {
		sp := newStageProgress(st.Parallelism)
		stage := int(st.ID)
		bar := pr.p.AddBar(int64(st.Parallelism),
			mpb.PrependDecorators(decor.Name(fmt.Sprintf("%-*s ", width, st.Name)), decor.CountersNoUnit("%d/%d")),
			mpb.AppendDecorators(
				decor.Any(func(decor.Statistics) string {
					pr.mu.Lock()
					defer pr.mu.Unlock()
					return formatCount(sp.rows) + " rows "
				}),
				decor.Any(func(decor.Statistics) string { return inputBytes(input, stage) }),
				decor.Elapsed(decor.ET_STYLE_GO),
				decor.OnComplete(decor.Any(func(s decor.Statistics) string { return eta(input, stage, s, time.Since(start)) }), ""),
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

// inputBytes shows what a stage read of its input files, if it reads any
// and the run counts it.
func inputBytes(input *jobs.InputProgress, stage int) string {
	if input == nil {
		return ""
	}
	read, total := input.Stage(stage)
	if total == 0 {
		return ""
	}
	return jobs.FormatBytes(min(read, total)) + "/" + jobs.FormatBytes(total) + " "
}

// eta estimates a stage's time left from the share done so far: of its
// input bytes where known, else of its subtasks.
func eta(input *jobs.InputProgress, stage int, s decor.Statistics, elapsed time.Duration) string {
	done := 0.0
	if s.Total > 0 {
		done = float64(s.Current) / float64(s.Total)
	}
	if input != nil {
		if read, total := input.Stage(stage); total > 0 {
			done = max(done, min(float64(read)/float64(total), 1))
		}
	}
	if done <= 0 || done >= 1 {
		return ""
	}
	left := time.Duration(float64(elapsed) * (1 - done) / done)
	return " ETA " + left.Round(time.Second).String()
}
