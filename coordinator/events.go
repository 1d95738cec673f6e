package coordinator

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/batchrun/batchrun/cluster"
	"github.com/batchrun/batchrun/jobs"
)

// eventsTTL bounds how long progress events stay in etcd.
const eventsTTL = 24 * time.Hour

// publisher is the jobs.Observer of a run the leader schedules: it
// batches subtask ends and publishes each batch as one etcd key, in
// order, for the client to show.
type publisher struct {
	tenure context.Context
	lead   *cluster.Leadership
	sid    string
	lease  clientv3.LeaseID
	logger *slog.Logger

	mu      sync.Mutex
	pending []event
	seq     int
	// wake says events are pending: one write is in flight at a time,
	// and what arrives meanwhile goes in the next (batching under load,
	// no delay otherwise).
	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

var _ jobs.AttemptObserver = (*publisher)(nil)

func newPublisher(tenure context.Context, lead *cluster.Leadership, sid string, lease clientv3.LeaseID, logger *slog.Logger) *publisher {
	p := &publisher{tenure: tenure, lead: lead, sid: sid, lease: lease, logger: logger, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return p
}

// SubtaskFinished implements jobs.Observer; AttemptEnded, which follows,
// publishes the attempt.
func (p *publisher) SubtaskFinished(int, int, int64, error) {}

// AttemptEnded implements jobs.AttemptObserver: one event per attempt,
// for the client's progress and its report.
func (p *publisher) AttemptEnded(stage, index int, a jobs.AttemptReport) {
	e := event{Stage: stage, Index: index, Rows: a.RowsOut, Err: a.Error, A: &a}
	p.mu.Lock()
	p.pending = append(p.pending, e)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *publisher) loop() {
	defer close(p.done)
	for {
		select {
		case <-p.wake:
			p.flush()
		case <-p.stop:
			p.flush()
			return
		}
	}
}

// flush publishes what is pending; progress is best effort (a failed
// write is logged, the run goes on).
func (p *publisher) flush() {
	p.mu.Lock()
	evs := p.pending
	p.pending = nil
	p.mu.Unlock()
	if len(evs) == 0 {
		return
	}
	body, err := json.Marshal(evs)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(p.tenure, etcdTimeout)
	defer cancel()
	if err := p.lead.PutEvents(ctx, p.sid, p.seq, body, p.lease); err != nil && p.tenure.Err() == nil {
		p.logger.Warn("publish progress", "submission", p.sid, "err", err)
	}
	p.seq++
}

// Close publishes what is left and stops.
func (p *publisher) Close() {
	close(p.stop)
	<-p.done
}
