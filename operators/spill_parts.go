package operators

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// Grace partitioning, shared by HashAggregate and HashJoin. An operator
// over its budget writes its rows (aggregate states, join build and probe
// rows) into spillFanout partitions by bits of the key hash, then handles
// one partition at a time with a fresh operator of the next spill level.
// Level l takes the 4 bits below the 4l high bits of the hash, so a
// partition that is still too big is split again by other bits. The slot
// of a table uses the low bits of the same hash, and a shuffle routes by
// another hash (each column's, XXH3 for a string, combined with a seed
// through fmix64), so neither correlates with the partition.
const (
	spillFanout   = 16 // partitions per level
	spillBits     = 4  // log2(spillFanout)
	maxSpillLevel = 4  // levels that may spill; the last one runs unbounded
)

// minSpillBudget is the least a memory-bounded HashAggregate or HashJoin
// holds before it spills, whatever its Budget.Bytes: an empty table alone
// takes 8-16 KiB, so below this every partition would spill again, level
// after level, into thousands of tiny runs.
const minSpillBudget = 64 << 10

// spillPart is the partition of hash h at level.
func spillPart(h uint64, level int) uint8 {
	return uint8(h>>(64-spillBits*(level+1))) & (spillFanout - 1)
}

// spillDrop is a partition number that drops the row.
const spillDrop = 0xff

// spillParts writes batches of one schema into spillFanout runs, each row
// into the run of its partition. Runs start when first written.
type spillParts struct {
	budget Budget
	schema *arrow.Schema
	types  []spec.Type
	mem    memory.Allocator
	runs   [spillFanout]SpillRun
	refs   [spillFanout][]uint64
	views  [][]arrowx.ColView
}

func newSpillParts(b Budget, s spec.Schema, mem memory.Allocator) *spillParts {
	p := &spillParts{budget: b, schema: arrowx.ArrowSchema(s), mem: mem}
	for _, f := range s {
		p.types = append(p.types, f.Type)
	}
	p.views = make([][]arrowx.ColView, len(s))
	return p
}

// write appends row i of rec to the run of partition parts[i] (none for
// spillDrop).
func (p *spillParts) write(ctx context.Context, rec arrow.Record, parts []uint8) error {
	for k := range p.refs {
		p.refs[k] = p.refs[k][:0]
	}
	for i, k := range parts {
		if k != spillDrop {
			p.refs[k] = append(p.refs[k], uint64(i))
		}
	}
	for c := range p.views {
		v, err := arrowx.ViewOf(rec.Column(c))
		if err != nil {
			return err
		}
		p.views[c] = append(p.views[c][:0], v)
	}
	for k, refs := range p.refs {
		if len(refs) == 0 {
			continue
		}
		if len(refs) == len(parts) {
			return p.writeRun(ctx, k, rec)
		}
		part, err := gatherRecord(p.schema, p.types, p.views, refs, p.mem)
		if err != nil {
			return err
		}
		err = p.writeRun(ctx, k, part)
		part.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *spillParts) writeRun(ctx context.Context, k int, rec arrow.Record) error {
	if p.runs[k] == nil {
		run, err := p.budget.Spill.NewRun(p.schema)
		if err != nil {
			return fmt.Errorf("operators: spill: %w", err)
		}
		p.runs[k] = run
		if s := p.budget.Stats; s != nil {
			s.Runs++
		}
	}
	if err := p.runs[k].Write(ctx, rec); err != nil {
		return fmt.Errorf("operators: spill partition %d: %w", k, err)
	}
	if s := p.budget.Stats; s != nil {
		s.Rows += rec.NumRows()
		s.Bytes += batchBufferBytes(rec)
	}
	return nil
}

// finish ends writing every run.
func (p *spillParts) finish(ctx context.Context) error {
	for k, run := range p.runs {
		if run == nil {
			continue
		}
		if err := run.Finish(ctx); err != nil {
			return fmt.Errorf("operators: spill partition %d: %w", k, err)
		}
	}
	return nil
}

// has reports whether partition k holds any row.
func (p *spillParts) has(k int) bool { return p.runs[k] != nil }

// each pushes every batch of partition k, in write order, into op.
func (p *spillParts) each(ctx context.Context, k int, op Operator) error {
	if p.runs[k] == nil {
		return nil
	}
	r, err := p.runs[k].Open(ctx)
	if err != nil {
		return fmt.Errorf("operators: spill partition %d: %w", k, err)
	}
	defer r.Close()
	for {
		rec, err := r.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("operators: spill partition %d: %w", k, err)
		}
		err = op.Push(ctx, rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
}

// discardPart deletes the run of partition k.
func (p *spillParts) discardPart(k int) {
	if p.runs[k] != nil {
		p.runs[k].Discard()
		p.runs[k] = nil
	}
}

// discard deletes every run; it is idempotent.
func (p *spillParts) discard() {
	for k := range p.runs {
		p.discardPart(k)
	}
}

// spillOut forwards the output of the operator that handles one spilled
// partition to the downstream of the operator that spilled, counting rows;
// its Finish does nothing (the spilling operator finishes downstream once,
// after the last partition).
type spillOut struct {
	out  Operator
	rows int64
}

func (o *spillOut) Push(ctx context.Context, rec arrow.Record) error {
	o.rows += rec.NumRows()
	return o.out.Push(ctx, rec)
}

func (o *spillOut) Finish(context.Context) error { return nil }
