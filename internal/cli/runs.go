package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/batchrun/batchrun/jobs"
)

// stateDirFlag is --state-dir as every command that reads a state
// directory takes it.
func stateDirFlag() cli.Flag {
	return &cli.StringFlag{Name: "state-dir", EnvVars: []string{"BATCHRUN_STATE_DIR"}, Usage: "where partitions and run state live", DefaultText: "$XDG_STATE_HOME/batchrun, else ~/.local/state/batchrun"}
}

// noArgs refuses positional arguments to a command that takes none.
func noArgs(c *cli.Context) error {
	if c.NArg() != 0 {
		return &usageError{fmt.Sprintf("%s: unexpected argument %q", c.Command.Name, c.Args().First())}
	}
	return nil
}

func runsCommand() *cli.Command {
	return &cli.Command{
		Name:        "runs",
		Usage:       "list the runs in the state directory, newest first",
		Subcommands: []*cli.Command{runsShowCommand()},
		Flags: []cli.Flag{
			stateDirFlag(),
			&cli.BoolFlag{Name: "json", Usage: "print a JSON array instead of a table"},
		},
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			dir, err := stateDir(c.String("state-dir"))
			if err != nil {
				return err
			}
			runs, err := jobs.ListRuns(dir)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return writeRunsJSON(c.App.Writer, runs)
			}
			return writeRunsTable(c.App.Writer, runs)
		},
	}
}

func writeRunsJSON(w io.Writer, runs []jobs.RunInfo) error {
	if runs == nil {
		runs = []jobs.RunInfo{} // [] rather than null
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(runs)
}

// writeRunsTable prints runs as the table of `batchrun runs`; an empty
// list prints the header alone.
func writeRunsTable(w io.Writer, runs []jobs.RunInfo) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tJOB\tSTATE\tSTART\tDURATION\tFAILOVERS\tSTORED\tPARAMS")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.Job, r.State,
			r.Start.Local().Format(time.RFC3339), runDuration(r), r.Failovers,
			jobs.FormatBytes(r.StoredBytes), formatParams(r.Params))
	}
	return tw.Flush()
}

// runDuration is how long a finished run took ("-" while unfinished).
func runDuration(r jobs.RunInfo) string {
	if r.End.IsZero() {
		return "-"
	}
	return fmt.Sprintf("%.2fs", r.End.Sub(r.Start).Seconds())
}

// formatParams prints params as NAME=VALUE,... sorted by name ("-" when
// there are none).
func formatParams(params map[string]string) string {
	if len(params) == 0 {
		return "-"
	}
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(params)) {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%s", k, params[k])
	}
	return b.String()
}
