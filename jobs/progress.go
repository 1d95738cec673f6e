package jobs

import (
	"sync"
	"sync/atomic"

	"github.com/batchrun/batchrun/operators/formats"
	"github.com/batchrun/batchrun/plan"
)

// InputProgress counts, per stage, the bytes of input files its reads have
// read, against their sizes: what a progress display shows of a stage
// that reads files. Runs in this process fill it (RunOptions.Input); a
// run on workers does not. Safe for concurrent use.
type InputProgress struct {
	mu    sync.Mutex
	read  map[plan.StageID]*atomic.Int64
	total map[plan.StageID]int64
}

// Stage returns how many bytes stage's reads have read of how many.
// Attempts run again count again: read may pass total.
func (p *InputProgress) Stage(stage int) (read, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.read[plan.StageID(stage)]; c != nil {
		read = c.Load()
	}
	return read, p.total[plan.StageID(stage)]
}

// track sets the stages' totals from the reads' inputs and returns each
// read step's counter (physical.Config.ReadProgress).
func (p *InputProgress) track(g *plan.StageGraph, inputs map[string]formats.ScanInput) func(step string) *atomic.Int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.read, p.total = make(map[plan.StageID]*atomic.Int64), make(map[plan.StageID]int64)
	byStep := make(map[string]*atomic.Int64, len(inputs))
	for step, in := range inputs {
		st, ok := stageOfStep(g, step)
		if !ok {
			continue
		}
		if p.read[st] == nil {
			p.read[st] = new(atomic.Int64)
		}
		for _, n := range in.Sizes {
			p.total[st] += n
		}
		byStep[step] = p.read[st]
	}
	return func(step string) *atomic.Int64 { return byStep[step] }
}

// stageOfStep is the stage that runs step.
func stageOfStep(g *plan.StageGraph, step string) (plan.StageID, bool) {
	for _, st := range g.Stages {
		for _, op := range st.Ops {
			if op.Step == step {
				return st.ID, true
			}
		}
	}
	return 0, false
}
