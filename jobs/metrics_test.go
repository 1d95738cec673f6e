package jobs

import (
	"bytes"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetricsParse: the metrics parse as Prometheus text format, every
// gauge carries the job label, and the values are the report's.
func TestMetricsParse(t *testing.T) {
	r := &Report{Job: "nightly", Status: "failed", Seconds: 12.5, RowsWritten: 7, RowsSkipped: 2,
		Stages:    []StageReport{{Spilled: 100, Stored: 40, OperatorSpilled: 9}, {Spilled: 1, Stored: 1}},
		Failovers: []FailoverReport{{}, {}},
		Attempts:  []AttemptReport{{Outcome: "succeeded"}, {Outcome: "failed"}, {Outcome: "lost"}, {Outcome: "failed"}}}
	end := time.Unix(1_800_000_000, 500_000_000)
	data, err := r.Metrics(end)
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, data)
	}
	want := map[string]float64{
		"batchrun_last_run_success": 0, "batchrun_last_run_end_timestamp_seconds": 1_800_000_000.5,
		"batchrun_last_run_duration_seconds": 12.5, "batchrun_last_run_rows_written": 7,
		"batchrun_last_run_rows_skipped": 2, "batchrun_last_run_shuffle_bytes": 101,
		"batchrun_last_run_stored_bytes": 41, "batchrun_last_run_operator_spill_bytes": 9,
		"batchrun_last_run_failovers": 2,
	}
	for name, v := range want {
		f := fams[name]
		if f == nil || len(f.Metric) != 1 {
			t.Errorf("%s: %v, want one gauge", name, f)
			continue
		}
		m := f.Metric[0]
		if got := m.GetGauge().GetValue(); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
		if len(m.Label) != 1 || m.Label[0].GetName() != "job" || m.Label[0].GetValue() != "nightly" {
			t.Errorf("%s labels %v, want job=nightly", name, m.Label)
		}
	}
	byOutcome := map[string]float64{}
	for _, m := range fams["batchrun_last_run_attempts"].GetMetric() {
		for _, l := range m.Label {
			if l.GetName() == "outcome" {
				byOutcome[l.GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	if byOutcome["succeeded"] != 1 || byOutcome["failed"] != 2 || byOutcome["lost"] != 1 || byOutcome["canceled"] != 0 || len(byOutcome) != 4 {
		t.Errorf("attempts by outcome %v", byOutcome)
	}
}
