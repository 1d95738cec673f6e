package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/batchrun/batchrun/jobs"
)

func gcCommand() *cli.Command {
	return &cli.Command{
		Name:  "gc",
		Usage: "remove the stored partitions and records of old runs",
		Flags: []cli.Flag{
			stateDirFlag(),
			&cli.IntFlag{Name: "keep", Value: 10, Usage: "keep the `N` newest runs of each job (0: none)"},
			&cli.DurationFlag{Name: "older-than", Usage: "remove only runs that ended more than `DURATION` ago (e.g. 72h; default any age); unfinished runs, which may be resumed, are removed only with it"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print what would be removed and remove nothing"},
		},
		Action: gcAction,
	}
}

func gcAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	opts := jobs.GCOptions{KeepLast: c.Int("keep"), OlderThan: c.Duration("older-than"), DryRun: c.Bool("dry-run")}
	if opts.KeepLast < 0 {
		return &usageError{fmt.Sprintf("--keep %d: want N >= 0", opts.KeepLast)}
	}
	if opts.OlderThan < 0 {
		return &usageError{fmt.Sprintf("--older-than %v: want a duration >= 0", opts.OlderThan)}
	}
	dir, err := stateDir(c.String("state-dir"))
	if err != nil {
		return err
	}
	res, err := jobs.GC(dir, opts)
	verb, freed := "removed", "freed"
	if opts.DryRun {
		verb, freed = "would remove", "would free"
	}
	var total int64
	for _, r := range res.Removed {
		fmt.Fprintf(c.App.Writer, "%s run %s (job %s, %s, %s on disk)\n", verb, r.ID, r.Job, r.State, jobs.FormatBytes(r.StoredBytes))
		total += r.StoredBytes
	}
	for _, job := range res.Skipped {
		fmt.Fprintf(c.App.Writer, "kept the runs of job %s: it is running\n", job)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%s %d run(s), %s %s\n", verb, len(res.Removed), freed, jobs.FormatBytes(total))
	return nil
}
