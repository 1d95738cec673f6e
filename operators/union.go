package operators

import (
	"context"
	"fmt"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"
)

// Passthrough forwards batches unchanged. It is Union (UNION ALL) and the
// local side of a repartition: several inputs may push into it, and only the
// last input's Finish finishes the downstream. Unlike other operators it is
// safe for concurrent use by its inputs: it serializes their calls to out.
type Passthrough struct {
	mu     sync.Mutex
	inputs int
	out    Operator
	stats  Stats
}

// NewPassthrough returns a passthrough with the given number of inputs
// (at least 1), each of which calls Finish once.
func NewPassthrough(inputs int, out Operator) *Passthrough {
	return &Passthrough{inputs: max(inputs, 1), out: out}
}

// Stats returns the rows forwarded so far.
func (p *Passthrough) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Push forwards rec.
func (p *Passthrough) Push(ctx context.Context, rec arrow.Record) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inputs == 0 {
		return fmt.Errorf("operators: Passthrough: batch after every input finished")
	}
	p.stats.RowsIn += rec.NumRows()
	p.stats.RowsOut += rec.NumRows()
	return p.out.Push(ctx, rec)
}

// Finish ends one input; the last one finishes the downstream operator.
func (p *Passthrough) Finish(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inputs == 0 {
		return fmt.Errorf("operators: Passthrough: more Finish calls than inputs")
	}
	p.inputs--
	if p.inputs > 0 {
		return nil
	}
	return p.out.Finish(ctx)
}
