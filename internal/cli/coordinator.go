package cli

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/batchrun/batchrun/coordinator"
)

func coordinatorCommand() *cli.Command {
	return &cli.Command{
		Name:  "coordinator",
		Usage: "schedule the runs submitted with run --cluster, as the leader of the coordinators in etcd, until interrupted",
		Description: "Start any number of coordinators on one etcd: they campaign, and the leader schedules every run\n" +
			"that `batchrun run --cluster URLS SPEC` submits, on the workers registered there. The run's\n" +
			"record is kept in etcd: when the leader dies, a standby takes over once its lease expires and\n" +
			"continues each run without running again what the live workers hold. Spec files, inputs and\n" +
			"outputs must be paths every process sees.",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "etcd", Usage: "the etcd `URLS` (comma-separated) of the cluster (required)"},
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:7080", Usage: "serve the web UI of the runs it led, /metrics and /healthz on `HOST:PORT` (port 0 picks one)"},
			&cli.StringFlag{Name: "advertise", Usage: "the `HOST:PORT` this coordinator is listed under", DefaultText: "--listen"},
			&cli.DurationFlag{Name: "lease", Value: 10 * time.Second, Usage: "how long after this coordinator dies a standby takes over (its lease's time to live)"},
			stateDirFlag(),
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "text or json (logs go to stderr)"},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error"},
		},
		Action: coordinatorAction,
	}
}

func coordinatorAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	logger, err := newLogger(c.App.ErrWriter, c.String("log-format"), c.String("log-level"))
	if err != nil {
		return err
	}
	if len(c.StringSlice("etcd")) == 0 {
		return &usageError{"coordinator: --etcd URLS is required"}
	}
	dir, err := stateDir(c.String("state-dir"))
	if err != nil {
		return err
	}
	return coordinator.Serve(c.Context, coordinator.Options{
		Etcd: c.StringSlice("etcd"), Listen: c.String("listen"), Advertise: c.String("advertise"),
		StateDir: dir, TTL: c.Duration("lease"), Logger: logger,
		Ready: func(addr string) { fmt.Fprintf(c.App.Writer, "batchrun coordinator serving at %s\n", addr) },
	})
}
