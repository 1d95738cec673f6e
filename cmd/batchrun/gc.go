package main

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
			&cli.IntFlag{Name: "keep", Usage: "keep the `N` newest runs of each job"},
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
	removed, err := jobs.GC(dir, opts)
	if err != nil {
		return err
	}
	verb := "removed"
	if opts.DryRun {
		verb = "would remove"
	}
	var total int64
	for _, r := range removed {
		fmt.Fprintf(c.App.Writer, "%s run %s (job %s, %s, %s stored)\n", verb, r.ID, r.Job, r.State, jobs.FormatBytes(r.StoredBytes))
		total += r.StoredBytes
	}
	fmt.Fprintf(c.App.Writer, "%s %d run(s), %s stored\n", verb, len(removed), jobs.FormatBytes(total))
	return nil
}
