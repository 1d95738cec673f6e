package ui_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/jobs"
	"github.com/batchrun/batchrun/ui"
)

// get fetches url and returns its status, content type and body.
func get(t *testing.T, url string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// getJSON fetches url, wants status and decodes its JSON body into v.
func getJSON(t *testing.T, url string, status int, v any) {
	t.Helper()
	code, ctype, body := get(t, url)
	if code != status || ctype != "application/json" {
		t.Fatalf("GET %s: %d %s, want %d application/json\n%s", url, code, ctype, status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", url, err, body)
	}
}

func TestAPIRunsListsTheRun(t *testing.T) {
	stateDir, report := faultedRun(t)
	srv := httptest.NewServer(ui.Handler(stateDir))
	defer srv.Close()

	var runs []jobs.RunInfo
	getJSON(t, srv.URL+"/api/runs", http.StatusOK, &runs)
	if len(runs) != 1 {
		t.Fatalf("/api/runs: %d runs, want 1: %+v", len(runs), runs)
	}
	r := runs[0]
	if r.ID != report.Run || r.Job != "ui-demo" || r.State != "succeeded" || r.Failovers != 1 {
		t.Errorf("/api/runs: %+v, want run %s of ui-demo, succeeded, 1 failover", r, report.Run)
	}
}

func TestAPIRunHasAttemptsFailoversAndGraph(t *testing.T) {
	stateDir, report := faultedRun(t)
	srv := httptest.NewServer(ui.Handler(stateDir))
	defer srv.Close()

	var v ui.RunView
	getJSON(t, srv.URL+"/api/runs/"+report.Run[:8], http.StatusOK, &v) // a prefix names the run
	if v.Info.ID != report.Run || v.Report == nil || v.Report.Run != report.Run {
		t.Fatalf("/api/runs/%s: info %+v, report %v: want run %s with its report", report.Run[:8], v.Info, v.Report, report.Run)
	}
	var outcomes []string
	for _, a := range v.Report.Attempts {
		if a.Subtask == faultedSubtask {
			outcomes = append(outcomes, a.Outcome)
			if a.Outcome == "failed" && !strings.Contains(a.Cause, "injected fault") {
				t.Errorf("failed attempt of %s: cause %q, want the injected fault", faultedSubtask, a.Cause)
			}
		}
	}
	if !slices.Equal(outcomes, []string{"failed", "succeeded"}) {
		t.Errorf("attempts of %s: outcomes %v, want [failed succeeded]", faultedSubtask, outcomes)
	}
	if len(v.Report.Failovers) != 1 {
		t.Fatalf("failovers: %+v, want 1", v.Report.Failovers)
	}
	if f := v.Report.Failovers[0]; f.Failed != faultedSubtask || !slices.Contains(f.Subtasks, faultedSubtask) || f.Rerun == 0 {
		t.Errorf("failover: failed %s, restart set %v, %d re-run: want %s failed, in its own restart set, re-run",
			f.Failed, f.Subtasks, f.Rerun, faultedSubtask)
	}
	g := v.Report.Graph
	if g == nil {
		t.Fatal("report has no graph")
	}
	var stages, modes []string
	for _, s := range g.Stages {
		stages = append(stages, s.Name)
	}
	for _, e := range g.Edges {
		modes = append(modes, e.Partitioner+" "+e.Mode)
	}
	if want := []string{"events", "byuser", "sorted"}; !slices.Equal(stages, want) {
		t.Errorf("graph stages %v, want %v", stages, want)
	}
	if want := []string{"hash blocking", "global pipelined"}; !slices.Equal(modes, want) {
		t.Errorf("graph edges %v, want %v", modes, want)
	}
	if len(v.Events) == 0 {
		t.Error("no events")
	}
}

func TestAPIRunNotFound(t *testing.T) {
	stateDir, _ := faultedRun(t)
	srv := httptest.NewServer(ui.Handler(stateDir))
	defer srv.Close()

	var e struct{ Error string }
	getJSON(t, srv.URL+"/api/runs/ffff", http.StatusNotFound, &e)
	if !strings.Contains(e.Error, `no run in `+stateDir+` has an id starting with "ffff"`) {
		t.Errorf("error %q, want it to say no run has that id", e.Error)
	}
}

// A state directory no run has used yet lists [], not null: the page
// iterates it.
func TestAPIRunsEmpty(t *testing.T) {
	srv := httptest.NewServer(ui.Handler(t.TempDir()))
	defer srv.Close()
	code, _, body := get(t, srv.URL+"/api/runs")
	if code != http.StatusOK || strings.TrimSpace(string(body)) != "[]" {
		t.Errorf("/api/runs on an empty state directory: %d %s, want 200 []", code, body)
	}
}

func TestPageAndAssets(t *testing.T) {
	srv := httptest.NewServer(ui.Handler(t.TempDir()))
	defer srv.Close()
	for _, c := range []struct {
		path, ctype, contains string
	}{
		{"/", "text/html", `<script src="/static/app.js">`},
		{"/runs/0123456789abcdef", "text/html", `<script src="/static/app.js">`},
		{"/static/app.js", "text/javascript", "function drawDAG"},
		{"/static/style.css", "text/css", ".outcome-failed"},
	} {
		code, ctype, body := get(t, srv.URL+c.path)
		if code != http.StatusOK || !strings.HasPrefix(ctype, c.ctype) || !strings.Contains(string(body), c.contains) {
			t.Errorf("GET %s: %d %s, want 200 %s holding %q", c.path, code, ctype, c.ctype, c.contains)
		}
	}
	if code, _, _ := get(t, srv.URL+"/nothing-here"); code != http.StatusNotFound {
		t.Errorf("GET /nothing-here: %d, want 404", code)
	}
}

func TestServeRefusesBadOptions(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		opts   ui.Options
		errHas string
	}{
		{"missing state dir", ui.Options{StateDir: filepath.Join(dir, "nope"), Listen: "127.0.0.1:0"}, "does not exist"},
		{"state dir a file", ui.Options{StateDir: file, Listen: "127.0.0.1:0"}, "is not a directory"},
		{"listen not host:port", ui.Options{StateDir: dir, Listen: "8080"}, "want HOST:PORT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := ui.Serve(context.Background(), c.opts)
			var oe *jobs.OptionError
			if !errors.As(err, &oe) || !strings.Contains(err.Error(), c.errHas) {
				t.Errorf("Serve: %v, want an OptionError saying %q", err, c.errHas)
			}
		})
	}
}

// Serve says where it listens once it does, serves there, and returns nil
// when its context ends (the command's SIGINT).
func TestServeUntilCanceled(t *testing.T) {
	stateDir, report := faultedRun(t)
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	served := make(chan error, 1)
	go func() {
		served <- ui.Serve(ctx, ui.Options{StateDir: stateDir, Listen: "127.0.0.1:0", Ready: func(u string) { urls <- u }})
	}()
	var url string
	select {
	case url = <-urls:
	case err := <-served:
		t.Fatalf("Serve returned before it was ready: %v", err)
	}
	var runs []jobs.RunInfo
	getJSON(t, url+"api/runs", http.StatusOK, &runs)
	if len(runs) != 1 || runs[0].ID != report.Run {
		t.Errorf("%sapi/runs: %+v, want run %s", url, runs, report.Run)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve after cancel: %v, want nil", err)
	}
}
