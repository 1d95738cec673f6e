package ui_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/batchrun/batchrun/jobs"
	"github.com/batchrun/batchrun/ui"
)

// browserBudget bounds the whole browser test: starting chromium, two
// pages and their checks take a few seconds.
const browserBudget = 20 * time.Second

// chromiumPath finds a Chromium or Chrome binary. Without one the browser
// test skips, unless BATCHRUN_REQUIRE_BROWSER=1 (CI installs Debian's
// chromium and sets it), where it fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "no chromium binary on PATH (apt-get install chromium)"
	if os.Getenv("BATCHRUN_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg + " and BATCHRUN_REQUIRE_BROWSER=1")
	}
	t.Skip(msg + ": the browser test skips; set BATCHRUN_REQUIRE_BROWSER=1 to make that a failure")
	return ""
}

// consoleErrors collects what the page reports as an error: uncaught
// exceptions, console.error, and the browser's own error log entries (a
// resource that failed to load).
type consoleErrors struct {
	mu   sync.Mutex
	msgs []string
}

func (c *consoleErrors) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		msg = "exception: " + ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			msg += " " + ev.ExceptionDetails.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var args []string
		for _, a := range ev.Args {
			args = append(args, string(a.Value)+a.Description)
		}
		msg = "console." + string(ev.Type) + ": " + strings.Join(args, " ")
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level != cdplog.EntryLevelError {
			return
		}
		msg = "log: " + ev.Entry.Text + " " + ev.Entry.URL
	default:
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, msg)
}

func (c *consoleErrors) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

// pageFacts is what the run page shows, read from its DOM by pageFactsJS.
type pageFacts struct {
	State       string            `json:"state"`
	Stages      []string          `json:"stages"`
	Edges       []string          `json:"edges"`
	Attempts    map[string]string `json:"attempts"` // "subtask#attempt" -> outcome
	Failovers   []string          `json:"failovers"`
	RestartSet  []string          `json:"restartSet"`
	FailoverRow []string          `json:"failoverRows"`
	StageRows   []string          `json:"stageRows"`
	LoadError   string            `json:"loadError"`
}

const pageFactsJS = `(() => {
  const all = (sel) => Array.from(document.querySelectorAll(sel));
  const err = document.querySelector("#load-error");
  return {
    state: document.querySelector("#run-header")?.dataset.state ?? "",
    stages: all("#dag .stage").map((n) => n.dataset.stage),
    edges: all("#dag .edge").map((n) => n.dataset.partitioner + " " + n.dataset.mode),
    attempts: Object.fromEntries(all("#timeline .attempt").map((n) => [n.dataset.subtask + "#" + n.dataset.attempt, n.dataset.outcome])),
    failovers: all("#timeline .failover").map((n) => n.dataset.failed),
    restartSet: all('#timeline .restart-band[data-failover="0"]').map((n) => n.dataset.subtask),
    failoverRows: all("#failovers tr.failover-row").map((n) => n.dataset.failed),
    stageRows: all("#stages tr.stage-row").map((n) => n.dataset.stage),
    loadError: err ? err.textContent : "",
  };
})()`

// listFactsJS reads the runs list's row of the run.
const listFactsJS = `(() => {
  const row = document.querySelector('#runs tr.run[data-run="%s"]');
  return row ? {state: row.dataset.state, failovers: row.querySelector("td.failovers").dataset.failovers} : null;
})()`

// TestBrowserShowsFaultedRun opens the UI over a run that failed once
// and recovered in headless chromium: the list shows it succeeded with
// its failover, and its page draws exactly the plan's stages, the failed
// and the succeeded attempt of the faulted subtask, the failover and its
// restart set, without a console error.
func TestBrowserShowsFaultedRun(t *testing.T) {
	chromium := chromiumPath(t)
	stateDir, report := faultedRun(t)
	srv := httptest.NewServer(ui.Handler(stateDir))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), browserBudget)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // CI runs as root, where chromium's sandbox refuses to start
		chromedp.DisableGPU)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	// Listen starts the browser. Its callback sees each event before the
	// reply to any later command, so by the time the last Evaluate returns
	// every error the page logged so far has been collected.
	var errs consoleErrors
	if err := chromedp.Listen(bctx, errs.listen); err != nil {
		t.Fatalf("start chromium %s: %v", chromium, err)
	}

	if err := chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(`#app[data-loaded="true"]`),
	); err != nil {
		t.Fatalf("runs list: %v (console: %v)", err, errs.all())
	}
	row, err := chromedp.Run(bctx, chromedp.Evaluate[*struct{ State, Failovers string }](fmt.Sprintf(listFactsJS, report.Run)))
	if err != nil {
		t.Fatalf("runs list: %v (console: %v)", err, errs.all())
	}
	if row == nil || row.State != "succeeded" || row.Failovers != "1" {
		t.Errorf("runs list row of %s: %+v, want succeeded with 1 failover", report.Run, row)
	}

	// Follow the run's link, as a user would.
	if err := chromedp.Do(bctx,
		chromedp.Click(`#runs tr.run a`),
		chromedp.WaitVisible(`#timeline`),
		chromedp.WaitVisible(`#app[data-loaded="true"]`),
	); err != nil {
		t.Fatalf("run page: %v (console: %v)", err, errs.all())
	}
	facts, err := chromedp.Run(bctx, chromedp.Evaluate[pageFacts](pageFactsJS))
	if err != nil {
		t.Fatalf("run page: %v (console: %v)", err, errs.all())
	}
	checkRunPage(t, &facts, report)
	if msgs := errs.all(); len(msgs) > 0 {
		t.Errorf("console errors:\n\t%s", strings.Join(msgs, "\n\t"))
	}
}

// checkRunPage compares what the run page shows with the run's report.
func checkRunPage(t *testing.T, facts *pageFacts, report *jobs.Report) {
	t.Helper()
	if facts.LoadError != "" {
		t.Fatalf("run page: %s", facts.LoadError)
	}
	if facts.State != "succeeded" {
		t.Errorf("run header state %q, want succeeded", facts.State)
	}
	var stages, edges []string
	for _, s := range report.Graph.Stages {
		stages = append(stages, s.Name)
	}
	for _, e := range report.Graph.Edges {
		edges = append(edges, e.Partitioner+" "+e.Mode)
	}
	if !slices.Equal(facts.Stages, stages) {
		t.Errorf("DAG nodes %v, want the plan's stages %v", facts.Stages, stages)
	}
	if !slices.Equal(facts.Edges, edges) {
		t.Errorf("DAG edges %v, want the plan's %v", facts.Edges, edges)
	}
	if got := facts.Attempts[faultedSubtask+"#0"]; got != "failed" {
		t.Errorf("timeline: %s#0 is %q, want failed (all: %v)", faultedSubtask, got, facts.Attempts)
	}
	if got := facts.Attempts[faultedSubtask+"#1"]; got != "succeeded" {
		t.Errorf("timeline: %s#1 is %q, want succeeded (all: %v)", faultedSubtask, got, facts.Attempts)
	}
	if len(facts.Attempts) != len(report.Attempts) {
		t.Errorf("timeline: %d attempts, want the report's %d", len(facts.Attempts), len(report.Attempts))
	}
	if !slices.Equal(facts.Failovers, []string{faultedSubtask}) || !slices.Equal(facts.FailoverRow, []string{faultedSubtask}) {
		t.Errorf("failovers: timeline %v, table %v, want [%s] in both", facts.Failovers, facts.FailoverRow, faultedSubtask)
	}
	if want := report.Failovers[0].Subtasks; !slices.Equal(facts.RestartSet, want) {
		t.Errorf("timeline restart set of the failover %v, want %v", facts.RestartSet, want)
	}
	if !slices.Equal(facts.StageRows, stages) {
		t.Errorf("stages table %v, want %v", facts.StageRows, stages)
	}
}
