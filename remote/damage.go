package remote

import (
	"context"
	"encoding/json"

	"github.com/apache/arrow/go/v17/arrow/flight"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/plan"
)

// injectFaults applies the partition faults (Damage) that g's readers
// trigger, at the workers holding the partitions, before g is sent; a
// holder that cannot be reached is left alone (its loss is the fault
// then).
func (e *Executor) injectFaults(ctx context.Context, g *executor.Group) {
	if e.Damage == nil {
		return
	}
	e.damaging.Lock()
	defer e.damaging.Unlock()
	for _, t := range g.Tasks {
		for _, in := range t.Inputs {
			if in.Mode != plan.Blocking {
				continue
			}
			for k, p := range in.Partitions {
				corrupt, ok := e.Damage(p, t.Subtask.Index)
				if ok && in.Locations[k] != "" {
					req := damageRequest{Run: e.run, Partition: p, Sub: in.Subpartition, Corrupt: corrupt}
					_ = e.damage(ctx, in.Locations[k], req)
				}
			}
		}
	}
}

func (e *Executor) damage(ctx context.Context, addr string, req damageRequest) error {
	c, err := e.clients.get(addr)
	if err != nil {
		return err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	stream, err := c.DoAction(ctx, &flight.Action{Type: actionDamage, Body: body})
	if err != nil {
		return err
	}
	return flight.ReadUntilEOF(stream)
}
