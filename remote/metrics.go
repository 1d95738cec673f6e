package remote

import "github.com/prometheus/client_golang/prometheus"

// WorkerMetrics are what a worker counts, for its /metrics.
type WorkerMetrics struct {
	tasks        *prometheus.CounterVec
	running      prometheus.Gauge
	reads        prometheus.Counter
	rowsServed   prometheus.Counter
	bytesServed  prometheus.Counter
	readFailures prometheus.Counter
}

// NewWorkerMetrics registers a worker's metrics, with slots as a gauge.
func NewWorkerMetrics(reg prometheus.Registerer, slots int) *WorkerMetrics {
	m := &WorkerMetrics{
		tasks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "batchrun_worker_tasks_total",
			Help: "Subtask attempts the worker ran, by outcome (succeeded, failed, canceled)."}, []string{"outcome"}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{Name: "batchrun_worker_groups_running",
			Help: "Region attempts running on the worker now."}),
		reads: prometheus.NewCounter(prometheus.CounterOpts{Name: "batchrun_worker_partition_reads_total",
			Help: "Subpartitions other workers read from this one (Flight DoGet)."}),
		rowsServed: prometheus.NewCounter(prometheus.CounterOpts{Name: "batchrun_worker_rows_served_total",
			Help: "Rows this worker sent to other workers."}),
		bytesServed: prometheus.NewCounter(prometheus.CounterOpts{Name: "batchrun_worker_bytes_served_total",
			Help: "Arrow bytes (uncompressed buffers) of the rows this worker sent to other workers."}),
		readFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "batchrun_worker_partition_read_failures_total",
			Help: "Reads of this worker's partitions that failed (missing, damaged, cancelled)."}),
	}
	slotsGauge := prometheus.NewGauge(prometheus.GaugeOpts{Name: "batchrun_worker_slots", Help: "Subtasks the worker runs at once."})
	slotsGauge.Set(float64(slots))
	reg.MustRegister(m.tasks, m.running, m.reads, m.rowsServed, m.bytesServed, m.readFailures, slotsGauge)
	for _, o := range []string{"succeeded", "failed", "canceled"} {
		m.tasks.WithLabelValues(o)
	}
	return m
}

// The methods take a nil receiver: a worker without metrics counts nothing.

func (m *WorkerMetrics) taskEnded(canceled bool, err error) {
	if m == nil {
		return
	}
	switch {
	case err == nil:
		m.tasks.WithLabelValues("succeeded").Inc()
	case canceled:
		m.tasks.WithLabelValues("canceled").Inc()
	default:
		m.tasks.WithLabelValues("failed").Inc()
	}
}

func (m *WorkerMetrics) groupStarted() {
	if m != nil {
		m.running.Inc()
	}
}

func (m *WorkerMetrics) groupEnded() {
	if m != nil {
		m.running.Dec()
	}
}

func (m *WorkerMetrics) served(rows, bytes int64, err error) {
	if m == nil {
		return
	}
	m.reads.Inc()
	m.rowsServed.Add(float64(rows))
	m.bytesServed.Add(float64(bytes))
	if err != nil {
		m.readFailures.Inc()
	}
}
