package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/batchrun/batchrun/jobs"
)

func newApp(stdout, stderr io.Writer, h Hooks) *cli.App {
	return &cli.App{
		Name:    "batchrun",
		Usage:   "run batch jobs over files, surviving failures",
		Version: version(),
		// The completion scripts (batchrun completion) ask for candidates
		// with --generate-bash-completion.
		EnableBashCompletion: true,
		Writer:               stdout,
		ErrWriter:            stderr,
		HideHelpCommand:      true,
		ExitErrHandler:       func(*cli.Context, error) {}, // main maps errors to exit codes
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return &usageError{err.Error()}
		},
		CommandNotFound: func(c *cli.Context, name string) {
			fmt.Fprintf(c.App.ErrWriter, "batchrun: unknown command %q (want run, explain, validate, runs, gc, ui, worker, coordinator, cluster or completion)\n", name)
			cli.OsExiter(ExitUsage)
		},
		Commands: withUsageErrors(runCommand(h), explainCommand(), sqlCommand(), validateCommand(), runsCommand(), gcCommand(), uiCommand(), workerCommand(), coordinatorCommand(), clusterCommand(), completionCommand()),
	}
}

// withUsageErrors makes flag mistakes in a subcommand usage errors (exit
// 2); urfave/cli only applies App.OnUsageError to the root command.
func withUsageErrors(cmds ...*cli.Command) []*cli.Command {
	for _, c := range cmds {
		c.OnUsageError = func(_ *cli.Context, err error, _ bool) error { return &usageError{err.Error()} }
		withUsageErrors(c.Subcommands...)
	}
	return cmds
}

// flagsFirst moves a subcommand's flags before its arguments, so that
// "batchrun run SPEC --param d=1" works: urfave/cli v2 stops reading flags
// at the first argument.
func flagsFirst(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	cmd := app.Command(args[1])
	if cmd == nil {
		return args
	}
	prefix := 2
	if len(cmd.Subcommands) > 0 {
		// A subcommand's flags follow it: reorder after its name.
		if len(args) < 3 || cmd.Command(args[2]) == nil {
			return args
		}
		cmd, prefix = cmd.Command(args[2]), 3
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	var flags, positional []string
	rest := args[prefix:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch {
		case a == "--":
			positional = append(positional, rest[i+1:]...)
			i = len(rest)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if takesValue[name] && !strings.Contains(a, "=") && i+1 < len(rest) {
				i++
				flags = append(flags, rest[i])
			}
		default:
			positional = append(positional, a)
		}
	}
	out := append(slices.Clone(args[:prefix]), flags...)
	return append(out, positional...)
}

// Flags shared by every command that loads a spec.
func specFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "param", Aliases: []string{"p"}, Usage: "substitute `NAME=VALUE` for ${NAME} in the spec (repeatable)"},
		&cli.IntFlag{Name: "parallelism", Usage: "default parallelism of steps that set none", DefaultText: "the spec's, else the number of CPUs"},
		&cli.StringFlag{Name: "mode", Usage: "exchange mode: all-blocking or all-pipelined", DefaultText: "the spec's, else all-blocking"},
	}
}

func loadSpec(c *cli.Context) (*jobs.Loaded, error) {
	if c.NArg() != 1 {
		return nil, &usageError{fmt.Sprintf("%s: want exactly one SPEC argument, got %d", c.Command.Name, c.NArg())}
	}
	params, err := parseParams(c.StringSlice("param"))
	if err != nil {
		return nil, err
	}
	return jobs.LoadFile(c.Args().First(), jobs.FileOptions{
		Params:      params,
		Parallelism: c.Int("parallelism"),
		Mode:        c.String("mode"),
	})
}

func parseParams(kvs []string) (map[string]string, error) {
	params := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, &usageError{fmt.Sprintf("--param %q: want NAME=VALUE", kv)}
		}
		params[name] = value
	}
	return params, nil
}

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check a spec: steps, inputs, columns, types, expressions",
		ArgsUsage: "SPEC",
		Flags:     specFlags(),
		Action: func(c *cli.Context) error {
			l, err := loadSpec(c)
			if err != nil {
				return err
			}
			if err := l.CheckTargets(); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "%s: ok (%d steps)\n", c.Args().First(), len(l.Job.Steps))
			return nil
		},
	}
}

func explainCommand() *cli.Command {
	return &cli.Command{
		Name:      "explain",
		Usage:     "print the stages, exchanges, subtasks and regions a spec compiles to",
		ArgsUsage: "SPEC",
		Flags: append(specFlags(),
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text, json or dot"},
			&cli.StringFlag{Name: "fail", Usage: "print the restart set if subtask `STAGE[i]` failed"},
			&cli.StringFlag{Name: "lose", Usage: "print the restart set if the stored outputs of subtask `STAGE[i]` were lost"},
			&cli.StringFlag{Name: "failover", Value: "region", Usage: "failover strategy for --fail/--lose: region, all or individual"},
		),
		Action: func(c *cli.Context) error {
			l, err := loadSpec(c)
			if err != nil {
				return err
			}
			if c.String("fail") != "" || c.String("lose") != "" {
				failover, err := jobs.ParseFailover(c.String("failover"))
				if err != nil {
					return &usageError{"--failover: " + err.Error()}
				}
				out, err := l.ExplainFailure(failover, c.String("fail"), c.String("lose"))
				if err != nil {
					return &usageError{err.Error()}
				}
				_, err = io.WriteString(c.App.Writer, out)
				return err
			}
			out, err := l.Explain(c.String("format"))
			if err != nil {
				return &usageError{err.Error()}
			}
			_, err = io.WriteString(c.App.Writer, out)
			return err
		},
	}
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, &usageError{fmt.Sprintf("--log-level %q: want debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, &usageError{fmt.Sprintf("--log-format %q: want text or json", format)}
}

func writeReport(path string, report *jobs.Report) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // subtask names hold "->"
	enc.SetIndent("", "  ")
	if err := enc.Encode(report); err != nil {
		return err
	}
	data := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return os.Rename(tmp, path)
}
