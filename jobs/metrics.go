package jobs

import (
	"bytes"
	"fmt"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/batchrun/batchrun/internal/osfs"
)

// Metrics renders r in the Prometheus text format, as gauges of the job's
// last run (the node_exporter textfile collector convention for cron
// jobs): success, end time, duration, rows, bytes, failovers and attempts
// by outcome, each labelled by job.
func (r *Report) Metrics(end time.Time) ([]byte, error) {
	reg := prometheus.NewRegistry()
	job := prometheus.Labels{"job": r.Job}
	gauge := func(name, help string, v float64) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "batchrun_last_run_" + name, Help: help, ConstLabels: job})
		g.Set(v)
		reg.MustRegister(g)
	}
	success := 0.0
	if r.Status == "succeeded" {
		success = 1
	}
	var spilled, stored, opSpilled int64
	for _, s := range r.Stages {
		spilled, stored, opSpilled = spilled+s.Spilled, stored+s.Stored, opSpilled+s.OperatorSpilled
	}
	gauge("success", "1 if the job's last run succeeded and committed its outputs, else 0.", success)
	gauge("end_timestamp_seconds", "When the job's last run ended, in Unix seconds.", float64(end.UnixNano())/1e9)
	gauge("duration_seconds", "How long the job's last run took.", r.Seconds)
	gauge("rows_written", "Rows the job's last run wrote.", float64(r.RowsWritten))
	gauge("rows_skipped", "Malformed input rows the job's last run skipped.", float64(r.RowsSkipped))
	gauge("shuffle_bytes", "Uncompressed bytes the job's last run wrote to blocking shuffles.", float64(spilled))
	gauge("stored_bytes", "Bytes the job's last run stored for blocking shuffles, after compression.", float64(stored))
	gauge("operator_spill_bytes", "Bytes operators of the job's last run spilled under its memory bound.", float64(opSpilled))
	gauge("failovers", "Failures the job's last run recovered from.", float64(len(r.Failovers)))
	attempts := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "batchrun_last_run_attempts",
		Help: "Subtask attempts of the job's last run, by outcome.", ConstLabels: job}, []string{"outcome"})
	for _, o := range []string{"succeeded", "failed", "canceled", "lost"} {
		attempts.WithLabelValues(o)
	}
	for _, a := range r.Attempts {
		attempts.WithLabelValues(a.Outcome).Inc()
	}
	reg.MustRegister(attempts)
	families, err := reg.Gather()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	for _, f := range families {
		if _, err := expfmt.MetricFamilyToText(&buf, f); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// WriteMetrics writes r's metrics to path atomically (a collector may read
// it at any time).
func (r *Report) WriteMetrics(path string, end time.Time) error {
	data, err := r.Metrics(end)
	if err != nil {
		return fmt.Errorf("jobs: metrics: %w", err)
	}
	if err := osfs.WriteFileAtomic(osfs.Default, path, data, filepath.Dir(path)); err != nil {
		return fmt.Errorf("jobs: write metrics %s: %w", path, err)
	}
	return nil
}
