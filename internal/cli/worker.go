package cli

import (
	"fmt"
	"runtime"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/batchrun/batchrun/jobs"
)

func workerCommand() *cli.Command {
	return &cli.Command{
		Name:  "worker",
		Usage: "run the subtasks of jobs started with run --workers or --cluster, until interrupted",
		Description: "A worker serves on --listen. `batchrun run --workers ADDR,...` sends it the subtasks of a job; it\n" +
			"loads the same spec file (inputs and outputs must be paths every process sees), keeps the\n" +
			"blocking partitions it writes under --state-dir, and serves them to the other workers.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:7070", Usage: "serve on `HOST:PORT` (port 0 picks one)"},
			&cli.StringFlag{Name: "advertise", Usage: "the `HOST:PORT` others reach this worker at", DefaultText: "--listen"},
			&cli.DurationFlag{Name: "lease", Value: 10 * time.Second, Usage: "with --etcd: how long after this worker dies others still see it (its lease's time to live)"},
			&cli.StringSliceFlag{Name: "etcd", Usage: "register with the etcd at these `URLS` (comma-separated), so that run --cluster finds this worker; its lease is its liveness"},
			stateDirFlag(),
			&cli.IntFlag{Name: "slots", Value: runtime.NumCPU(), Usage: "subtasks it runs at once"},
			&cli.StringFlag{Name: "metrics-listen", Usage: "serve Prometheus metrics at http://`HOST:PORT`/metrics"},
			&cli.StringFlag{Name: "codec", Value: "s2", Usage: "blocking shuffle compression: s2, zstd, lz4 or none"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "text or json (logs go to stderr)"},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error"},
		},
		Action: workerAction,
	}
}

func workerAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	logger, err := newLogger(c.App.ErrWriter, c.String("log-format"), c.String("log-level"))
	if err != nil {
		return err
	}
	codec, err := jobs.ParseCodec(c.String("codec"))
	if err != nil {
		return &usageError{"--codec: " + err.Error()}
	}
	if c.Int("slots") < 1 {
		return &usageError{fmt.Sprintf("--slots %d: want at least 1", c.Int("slots"))}
	}
	dir, err := stateDir(c.String("state-dir"))
	if err != nil {
		return err
	}
	return jobs.ServeWorker(c.Context, jobs.WorkerOptions{
		Listen: c.String("listen"), Advertise: c.String("advertise"), StateDir: dir,
		Slots: c.Int("slots"), Codec: codec, Logger: logger, Cluster: c.StringSlice("etcd"),
		TTL: c.Duration("lease"), MetricsListen: c.String("metrics-listen"),
		MetricsReady: func(addr string) { logger.Info("metrics", "url", "http://"+addr+"/metrics") },
		Ready:        func(addr string) { fmt.Fprintf(c.App.Writer, "batchrun worker serving at %s\n", addr) },
	})
}
