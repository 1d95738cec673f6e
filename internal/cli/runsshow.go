package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/batchrun/batchrun/jobs"
)

func runsShowCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print one run's history: its attempts and failovers as a timeline",
		ArgsUsage: "[ID] (or a prefix of it, as batchrun runs prints it; default the newest run)",
		Flags: []cli.Flag{
			stateDirFlag(),
			&cli.BoolFlag{Name: "json", Usage: "print the run's report (the shape of --report) instead"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text (a timeline) or json (the same as --json)"},
		},
		Action: runsShowAction,
	}
}

func runsShowAction(c *cli.Context) error {
	if c.NArg() > 1 {
		return &usageError{"runs show: want at most one run ID (see batchrun runs)"}
	}
	dir, err := stateDir(c.String("state-dir"))
	if err != nil {
		return err
	}
	asJSON := c.Bool("json")
	switch f := c.String("format"); f {
	case "json":
		asJSON = true
	case "text":
	default:
		return &usageError{fmt.Sprintf("runs show --format %q: want text or json", f)}
	}
	d, err := jobs.ShowRun(dir, c.Args().First())
	if err != nil {
		return err
	}
	if asJSON {
		if d.Report == nil {
			return fmt.Errorf("run %s has no report: its process died before it ended (batchrun runs show without --json prints its events)", d.Info.ID)
		}
		enc := json.NewEncoder(c.App.Writer)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(d.Report)
	}
	writeRunDetail(c.App.Writer, d)
	return nil
}

// writeRunDetail prints a run's header, then its timeline: every attempt
// and failover at its offset from the run's start, from the report, or
// the event log when the run has none.
func writeRunDetail(w io.Writer, d *jobs.RunDetail) {
	i := d.Info
	fmt.Fprintf(w, "run %s of job %s: %s", i.ID, i.Job, i.State)
	if !i.End.IsZero() {
		fmt.Fprintf(w, " in %s", i.End.Sub(i.Start).Round(time.Millisecond))
	}
	fmt.Fprintf(w, ", %d invocation(s), %d failover(s)\n", i.Invocations, i.Failovers)
	fmt.Fprintf(w, "spec %s  params %s  started %s\n", i.Spec, formatParams(i.Params), i.Start.Local().Format(time.RFC3339))
	if i.Error != "" {
		fmt.Fprintf(w, "error: %s\n", i.Error)
	}
	if d.Report == nil {
		fmt.Fprintln(w, "no report (the run's process died before it ended); its events:")
		for _, ev := range d.Events {
			fmt.Fprintf(w, "  %+9.3fs  %-11s %s %s\n", ev.Time.Sub(i.Start).Seconds(), ev.Kind, ev.Subtask, ev.Detail)
		}
		return
	}
	writeTimeline(w, d.Report)
	if d.Report.Plan != "" {
		fmt.Fprintln(w, "plan:")
		for _, line := range strings.Split(strings.TrimRight(d.Report.Plan, "\n"), "\n") {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
}

// timelineLine is one line of a timeline, at an offset from the start.
type timelineLine struct {
	at   time.Duration
	text string
}

func writeTimeline(w io.Writer, r *jobs.Report) {
	var lines []timelineLine
	for _, a := range r.Attempts {
		text := fmt.Sprintf("%-16s %-10s %-9s %7.3fs %s rows", fmt.Sprintf("%s#%d", a.Subtask, a.Attempt),
			a.Worker, a.Outcome, a.End.Sub(a.Start).Seconds(), formatCount(a.RowsOut))
		if a.Cause != "" {
			text += ": " + a.Cause
		}
		lines = append(lines, timelineLine{a.Start.Sub(r.Start), text})
	}
	for _, f := range r.Failovers {
		text := fmt.Sprintf("failover: %s failed; restart %s after %s", f.Failed, strings.Join(f.Subtasks, " "), f.Delay)
		if f.Aftermath {
			text += " (aftermath, not counted)"
		}
		lines = append(lines, timelineLine{f.Time.Sub(r.Start), text})
		for _, why := range f.Reasons {
			lines = append(lines, timelineLine{f.Time.Sub(r.Start), "  because " + why})
		}
	}
	slices.SortStableFunc(lines, func(a, b timelineLine) int { return int(a.at - b.at) })
	fmt.Fprintf(w, "%d rows written, %d malformed rows skipped; outputs %s\n", r.RowsWritten, r.RowsSkipped, strings.Join(r.Outputs, " "))
	fmt.Fprintln(w, "timeline (start offset, attempt, worker, outcome, duration, rows):")
	for _, l := range lines {
		fmt.Fprintf(w, "  %+9.3fs  %s\n", l.at.Seconds(), l.text)
	}
}
