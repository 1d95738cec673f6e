package coordinator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/batchrun/batchrun/cluster"
	"github.com/batchrun/batchrun/ui"
)

// etcdTimeout bounds each request to etcd that must not hang a run (a
// variable for tests).
var etcdTimeout = 10 * time.Second

// Options configure a coordinator process.
type Options struct {
	// Etcd are the endpoints of the cluster's etcd.
	Etcd []string
	// Listen is where the coordinator serves /metrics, /healthz and the
	// web UI (batchrun ui) over the runs it led;
	// Advertise is the address it is listed under (default the one it
	// listens on).
	Listen, Advertise string
	// StateDir holds the coordinator's copy of the run records, its runs'
	// event logs and reports (batchrun runs --state-dir DIR shows them).
	StateDir string
	// TTL is the coordinator's lease: how long after its death a standby
	// may take over (default cluster.DefaultTTL).
	TTL    time.Duration
	Logger *slog.Logger
	// Ready, when set, hears the address the coordinator serves at, once
	// it is in the election (clients then submit to the coordinators).
	Ready func(addr string)
}

// Serve runs a coordinator until ctx is done: it campaigns, and while it
// leads, it runs what clients submit. On losing the lead it stops its
// runs (their workers keep what they committed) and campaigns again.
func Serve(ctx context.Context, o Options) error {
	if o.StateDir == "" || len(o.Etcd) == 0 {
		return fmt.Errorf("coordinator: need --etcd and --state-dir")
	}
	o.Logger = cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	o.TTL = cmp.Or(o.TTL, cluster.DefaultTTL)
	lis, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("coordinator: %w", err)
	}
	addr := cmp.Or(o.Advertise, lis.Addr().String())
	cli, err := cluster.Connect(ctx, o.Etcd)
	if err != nil {
		lis.Close()
		return err
	}
	defer cli.Close()
	m := newMetrics()
	srv := &http.Server{Handler: m.handler(o.StateDir), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Close()
	var ready sync.Once
	listed := func() {
		if o.Ready != nil {
			ready.Do(func() { o.Ready(addr) })
		}
	}
	// An etcd that does not answer at startup is an error (a service
	// manager restarts the coordinator) rather than a silent wait.
	sctx, cancel := context.WithTimeout(ctx, etcdTimeout)
	_, err = cluster.Coordinators(sctx, cli)
	cancel()
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("coordinator: etcd at %v did not answer in %v: %w", o.Etcd, etcdTimeout, err)
	}
	for ctx.Err() == nil {
		if err := campaign(ctx, cli, addr, o, m, listed); err != nil && ctx.Err() == nil {
			o.Logger.Warn("out of the election; entering again", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second): // etcd away: do not spin
			}
		}
	}
	return nil
}

// campaign enters the election (calling listed once it is in), waits to
// lead, and leads until the lead is lost or ctx is done.
func campaign(ctx context.Context, cli *clientv3.Client, addr string, o Options, m *metrics, listed func()) error {
	c, err := cluster.NewCandidate(ctx, cli, addr, o.TTL)
	if err != nil {
		return err
	}
	defer c.Close()
	won := make(chan error, 1)
	var lead *cluster.Leadership
	go func() {
		var err error
		lead, err = c.Campaign(ctx)
		won <- err
	}()
	if err := c.Listed(ctx); err == nil {
		listed()
	}
	if err := <-won; err != nil {
		return err
	}
	o.Logger.Info("leading", "addr", addr, "fence", lead.Fence)
	m.leader.Set(1)
	defer m.leader.Set(0)
	l := &leader{cli: cli, lead: lead, addr: addr, opts: o, metrics: m,
		running: make(map[string]context.CancelCauseFunc), ended: make(map[string]bool)}
	l.run(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return errors.New("lost the lead (the lease expired: etcd out of reach?)")
}

// metrics are the coordinator's Prometheus metrics.
type metrics struct {
	reg     *prometheus.Registry
	leader  prometheus.Gauge
	running prometheus.Gauge
	ended   *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry(),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{Name: "batchrun_coordinator_leader",
			Help: "1 while this coordinator leads"}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{Name: "batchrun_coordinator_runs_running",
			Help: "Submitted runs this coordinator schedules now"}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "batchrun_coordinator_runs_ended_total",
			Help: "Submitted runs this coordinator ended, by status"}, []string{"status"}),
	}
	m.reg.MustRegister(m.leader, m.running, m.ended,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves /metrics, /healthz, and at / the web UI over the runs
// this coordinator led (live ones too: their record and events).
func (m *metrics) handler(stateDir string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", ui.Handler(stateDir))
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	return mux
}
