package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/batchrun/batchrun/coordinator"
	"github.com/batchrun/batchrun/jobs"
)

func runCommand(h Hooks) *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a job and commit its output atomically",
		ArgsUsage: "SPEC",
		Flags: append(specFlags(),
			&cli.StringFlag{Name: "state-dir", EnvVars: []string{"BATCHRUN_STATE_DIR"}, Usage: "where partitions and run state live", DefaultText: "$XDG_STATE_HOME/batchrun, else ~/.local/state/batchrun"},
			&cli.IntFlag{Name: "slots", Value: runtime.NumCPU(), Usage: "subtasks that may run at once"},
			&cli.StringFlag{Name: "codec", Value: "s2", Usage: "blocking shuffle compression: s2, zstd, lz4 or none"},
			&cli.StringFlag{Name: "memory", Usage: "bound what operators hold (sort buffers, hash tables, join build sides) to `SIZE` in all, like 256MiB, 1GiB or 512MB, or unbounded; past it they spill to the store", DefaultText: "half the machine's memory or its cgroup's limit, at most 1GiB"},
			&cli.StringFlag{Name: "report", Usage: "write a JSON run summary to `FILE`"},
			&cli.StringFlag{Name: "metrics-file", Usage: "write the run's metrics to `FILE` in Prometheus text format when it ends, succeeded or not (for node_exporter's textfile collector: name it *.prom in its directory)"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "text or json (logs go to stderr)"},
			&cli.StringFlag{Name: "log-level", Value: "warn", Usage: "debug, info, warn or error"},
			&cli.BoolFlag{Name: "progress", Value: true, Usage: "show progress when stdout is a terminal"},
			&cli.StringFlag{Name: "failover", Value: "region", Usage: "what to restart on a failure: region, all or individual"},
			&cli.StringFlag{Name: "restart", Usage: "restart strategy: none, fixed-delay[:attempts=3,delay=1s], exponential-delay[:initial=1s,max=1m,multiplier=2,jitter=0.1,reset-after=1h], failure-rate[:max=1,interval=1m,delay=1s] (default fixed-delay:attempts=3,delay=1s)"},
			&cli.StringSliceFlag{Name: "fault", Usage: "inject a fault (repeatable): error|panic:STAGE[i][#attempt][@batches], lose|corrupt:STAGE[i][->STAGE]"},
			&cli.BoolFlag{Name: "fresh", Usage: "start a new run even if an unfinished run of the same job could be resumed"},
			&cli.DurationFlag{Name: "wait", Usage: "if another run holds the state directory or an output, wait up to `DURATION` for it", DefaultText: "exit 5 at once"},
			&cli.StringFlag{Name: "resume", Usage: "resume the run with this `ID` (see batchrun runs)"},
			&cli.StringFlag{Name: "chaos", Usage: "inject random faults drawn from `seed=N,rate=R`"},
			&cli.StringSliceFlag{Name: "workers", Usage: "run the subtasks on these batchrun workers (`HOST:PORT`, comma-separated or repeated) instead of in this process; --slots is then theirs"},
			&cli.StringSliceFlag{Name: "cluster", Usage: "run the subtasks on the batchrun workers registered in the etcd at these `URLS` (see batchrun worker --etcd); a worker whose lease expires is lost"},
		),
		Action: func(c *cli.Context) error { return runAction(c, h) },
	}
}

// memoryHeadroom is what a bounded run allows the Go heap beyond --memory:
// shuffle buffers, scan batches, codec state.
const memoryHeadroom = 128 << 20

func runAction(c *cli.Context, h Hooks) (err error) {
	logger, err := newLogger(c.App.ErrWriter, c.String("log-format"), c.String("log-level"))
	if err != nil {
		return err
	}
	if c.String("log-format") == "json" {
		// The final error too is one JSON record, whatever failed.
		defer func() {
			if err != nil {
				err = &loggedError{err: err, logger: logger}
			}
		}()
	}
	l, err := loadSpec(c)
	if err != nil {
		return err
	}
	if err := checkReportPath(c.String("report")); err != nil {
		return err
	}
	// With an output on standard output, everything else goes to stderr.
	msgs := c.App.Writer
	if l.WritesStdout() {
		msgs = c.App.ErrWriter
	}
	stateDir, err := stateDir(c.String("state-dir"))
	if err != nil {
		return err
	}
	opts := jobs.RunOptions{
		StateDir: stateDir,
		Slots:    c.Int("slots"),
		Fresh:    c.Bool("fresh"),
		Resume:   c.String("resume"),
		Wait:     c.Duration("wait"),
		Stdout:   c.App.Writer,
		Logger:   logger,
		Workers:  c.StringSlice("workers"),
		Cluster:  c.StringSlice("cluster"),
	}
	if err := parseRunFlags(c, &opts); err != nil {
		return err
	}
	if opts.Memory > 0 {
		// The operators keep to --memory; this makes the Go runtime collect
		// before the heap outgrows it plus room for buffers and decoding.
		debug.SetMemoryLimit(opts.Memory + memoryHeadroom)
	}
	if len(opts.Workers) == 0 && len(opts.Cluster) == 0 {
		opts.Input = &jobs.InputProgress{} // reads elsewhere are not counted here
	}
	prog := newProgress(msgs, c.Bool("progress"), l, opts.Input)
	opts.Observer = prog
	if err := opts.Validate(); err != nil {
		return err
	}
	if h.RunOptions != nil {
		h.RunOptions(&opts)
	}
	report, runErr := runJob(c, l, opts, logger)
	prog.Close()
	if path := c.String("metrics-file"); path != "" {
		if err := writeMetrics(path, l, report, runErr); err != nil && runErr == nil {
			runErr = fmt.Errorf("the run succeeded and its outputs are committed, but --metrics-file failed: %w", err)
		}
	}
	if path := c.String("report"); path != "" && report != nil {
		if err := writeReport(path, report); err != nil && runErr == nil {
			// checkReportPath made this unlikely (a full disk, a folder
			// removed meanwhile); the outputs are committed all the same.
			runErr = fmt.Errorf("the run succeeded and its outputs are committed, but --report failed: %w", err)
		}
	}
	if runErr != nil {
		return runErr
	}
	fmt.Fprint(msgs, report.Summary())
	return nil
}

// runJob runs l: in this process, or (with --cluster and coordinators up
// in its etcd) submitted to their leader and followed to its end.
func runJob(c *cli.Context, l *jobs.Loaded, opts jobs.RunOptions, logger *slog.Logger) (*jobs.Report, error) {
	if len(opts.Cluster) == 0 {
		return l.Run(c.Context, opts)
	}
	up, err := coordinator.Available(c.Context, opts.Cluster)
	if err != nil {
		return nil, err
	}
	if !up {
		return l.Run(c.Context, opts) // no coordinator: this process schedules
	}
	spec, err := filepath.Abs(c.Args().First())
	if err != nil {
		return nil, err
	}
	sub := coordinator.Submission{Spec: spec, Load: l.FileOptions(), Codec: c.String("codec"),
		Memory: opts.Memory, Failover: c.String("failover"), Restart: c.String("restart"),
		Faults: c.StringSlice("fault"), Chaos: c.String("chaos"), Seed: opts.Seed, Fresh: opts.Fresh, Resume: opts.Resume, Wait: opts.Wait}
	return coordinator.Submit(c.Context, opts.Cluster, sub, opts.Observer, logger)
}

// parseRunFlags parses the flags of `batchrun run` that name typed
// options, once, here: nothing below the command line parses strings. A
// value that does not parse is a usage error.
func parseRunFlags(c *cli.Context, opts *jobs.RunOptions) error {
	var err error
	switch m := c.String("memory"); m {
	case "":
		opts.Memory = jobs.DefaultMemory()
	case "unbounded":
		opts.Memory = 0
	default:
		if opts.Memory, err = parseSize(m); err != nil {
			return &usageError{"--memory: " + err.Error()}
		}
	}
	if opts.Codec, err = jobs.ParseCodec(c.String("codec")); err != nil {
		return &usageError{"--codec: " + err.Error()}
	}
	if opts.Failover, err = jobs.ParseFailover(c.String("failover")); err != nil {
		return &usageError{"--failover: " + err.Error()}
	}
	if s := c.String("restart"); s != "" {
		if opts.Restart, err = jobs.ParseRestart(s); err != nil {
			return &usageError{"--restart: " + err.Error()}
		}
	}
	for _, f := range c.StringSlice("fault") {
		spec, err := jobs.ParseFault(f)
		if err != nil {
			return &usageError{"--fault: " + err.Error()}
		}
		opts.Faults = append(opts.Faults, spec)
	}
	if s := c.String("chaos"); s != "" {
		if opts.Chaos, err = jobs.ParseChaos(s); err != nil {
			return &usageError{"--chaos: " + err.Error()}
		}
	}
	return nil
}

// checkReportPath fails, before anything runs, when --report could not be
// written at the end: its folder is missing or not writable, or the path
// is a directory.
func checkReportPath(path string) error {
	if path == "" {
		return nil
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return &usageError{fmt.Sprintf("--report %s: is a directory", path)}
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".batchrun-report-check-*")
	if err != nil {
		return &usageError{fmt.Sprintf("--report %s: cannot write in %s: %v", path, dir, errors.Unwrap(err))}
	}
	_ = f.Close()
	return os.Remove(f.Name())
}

// stateDir resolves --state-dir's default: $XDG_STATE_HOME/batchrun, else
// ~/.local/state/batchrun.
func stateDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if x := os.Getenv("XDG_STATE_HOME"); x != "" {
		return x + "/batchrun", nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no --state-dir and no home directory: %w", err)
	}
	return home + "/.local/state/batchrun", nil
}

// writeMetrics writes the run's metrics; a run that failed before it
// started (locked, say) still says so: success 0.
func writeMetrics(path string, l *jobs.Loaded, report *jobs.Report, runErr error) error {
	if report == nil {
		report = &jobs.Report{Job: l.Job.Name, Status: "failed"}
		if runErr != nil {
			report.Error = runErr.Error()
		}
	}
	return report.WriteMetrics(path, time.Now())
}
