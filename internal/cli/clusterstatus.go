package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/batchrun/batchrun/jobs"
)

func clusterCommand() *cli.Command {
	return &cli.Command{
		Name:  "cluster",
		Usage: "look at a cluster of coordinators and workers registered in etcd",
		Subcommands: []*cli.Command{{
			Name:  "status",
			Usage: "list the live coordinators (the leader first), the workers and their slots, and the runs in progress",
			Flags: []cli.Flag{
				&cli.StringSliceFlag{Name: "etcd", Usage: "the etcd `URLS` the workers register with (required)"},
				&cli.BoolFlag{Name: "json", Usage: "print JSON instead of a table"},
			},
			Action: clusterStatusAction,
		}},
	}
}

func clusterStatusAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	if len(c.StringSlice("etcd")) == 0 {
		return &usageError{"cluster status: --etcd URLS is required"}
	}
	ctx, cancel := context.WithTimeout(c.Context, 10*time.Second)
	defer cancel()
	st, err := jobs.Status(ctx, c.StringSlice("etcd"))
	if err != nil {
		return err
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COORDINATOR\tROLE")
	for _, co := range st.Coordinators {
		role := "standby"
		if co.Leader {
			role = "leader"
		}
		fmt.Fprintf(tw, "%s\t%s\n", co.Addr, role)
	}
	fmt.Fprintf(tw, "%d coordinators\n", len(st.Coordinators))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer)
	tw = tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKER\tSLOTS")
	for _, w := range st.Workers {
		fmt.Fprintf(tw, "%s\t%d\n", w.Addr, w.Slots)
	}
	fmt.Fprintf(tw, "%d workers\t%d\n", len(st.Workers), st.Slots)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer)
	tw = tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tJOB\tLEADER\tSTART")
	for _, r := range st.Runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Job, r.Leader, r.Start.Local().Format(time.RFC3339))
	}
	fmt.Fprintf(tw, "%d running\n", len(st.Runs))
	return tw.Flush()
}
