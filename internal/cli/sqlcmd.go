package cli

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"unicode/utf8"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/batchrun/batchrun/jobs"
)

func sqlCommand() *cli.Command {
	return &cli.Command{
		Name:      "sql",
		Usage:     "run a SQL query over files and print its result",
		ArgsUsage: "QUERY",
		Description: "Each --table NAME=FILE is a table the query can read (CSV, JSON lines or Parquet,\n" +
			"by extension; the schema is inferred). The result goes to --out, else to standard\n" +
			"output: an aligned table on a terminal, CSV otherwise.\n\n" +
			"   batchrun sql --table events=examples/data/events.csv \\\n" +
			"     'SELECT country, count(*) AS n FROM events GROUP BY country ORDER BY n DESC'",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "table", Aliases: []string{"t"}, Usage: "a table: `NAME=FILE` (repeatable; a glob or a directory too)"},
			&cli.StringFlag{Name: "out", Usage: "write the result to `FILE` (CSV, JSON lines or Parquet by extension) instead of printing it"},
			&cli.StringFlag{Name: "format", Usage: "how to print the result: table or csv", DefaultText: "table on a terminal, else csv"},
			&cli.BoolFlag{Name: "explain", Usage: "print the plan instead of running the query"},
			&cli.StringFlag{Name: "state-dir", EnvVars: []string{"BATCHRUN_STATE_DIR"}, Usage: "where partitions and run state live", DefaultText: "$XDG_STATE_HOME/batchrun, else ~/.local/state/batchrun"},
			&cli.IntFlag{Name: "parallelism", Aliases: []string{"p"}, Usage: "subtasks of each step", DefaultText: "the number of CPUs"},
		},
		Action: sqlAction,
	}
}

func sqlAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return &usageError{fmt.Sprintf("sql: want exactly one QUERY argument, got %d", c.NArg())}
	}
	format, err := sqlFormat(c)
	if err != nil {
		return err
	}
	out, cleanup, err := sqlTarget(c.String("out"), format)
	if err != nil {
		return err
	}
	defer cleanup()
	l, err := sqlJob(c, out)
	if err != nil {
		return err
	}
	if c.Bool("explain") {
		text, err := l.Explain("text")
		if err != nil {
			return err
		}
		_, err = io.WriteString(c.App.Writer, text)
		return err
	}
	dir, err := stateDir(c.String("state-dir"))
	if err != nil {
		return err
	}
	logger, _ := newLogger(c.App.ErrWriter, "text", "warn")
	opts := jobs.RunOptions{StateDir: dir, Slots: runtime.NumCPU(), Fresh: true, Stdout: c.App.Writer,
		Logger: logger, Memory: jobs.DefaultMemory()}
	if _, err := l.Run(c.Context, opts); err != nil {
		return err
	}
	if format == "table" && c.String("out") == "" {
		return printTable(c.App.Writer, out)
	}
	return nil
}

// sqlFormat is how the result is printed: --format, else an aligned table
// when standard output is a terminal and CSV otherwise.
func sqlFormat(c *cli.Context) (string, error) {
	switch f := c.String("format"); f {
	case "table", "csv":
		return f, nil
	case "":
	default:
		return "", &usageError{fmt.Sprintf("--format %q: want table or csv", f)}
	}
	if f, ok := c.App.Writer.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return "table", nil
	}
	return "csv", nil
}

// sqlTarget is where the result is written: --out, standard output for
// CSV, or a CSV file in a temporary folder to print as a table from.
func sqlTarget(out, format string) (string, func(), error) {
	switch {
	case out != "":
		abs, err := filepath.Abs(out)
		return abs, func() {}, err
	case format == "csv":
		return "-", func() {}, nil
	}
	dir, err := os.MkdirTemp("", "batchrun-sql-")
	if err != nil {
		return "", nil, err
	}
	return filepath.Join(dir, "result.csv"), func() { os.RemoveAll(dir) }, nil
}

// sqlJob builds the job: a read for each --table, the query, a write of
// its result to out.
func sqlJob(c *cli.Context, out string) (*jobs.Loaded, error) {
	b := jobs.NewBuilder("sql").Infer(jobs.InferCSV).Parallelism(c.Int("parallelism"))
	for _, t := range c.StringSlice("table") {
		name, path, ok := strings.Cut(t, "=")
		if !ok || name == "" || path == "" {
			return nil, &usageError{fmt.Sprintf("--table %q: want NAME=FILE", t)}
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, err
		}
		b.Read(name, abs)
	}
	res := b.SQL("query", c.Args().First())
	b.Write("result", res, out).Parallelism(1)
	job, err := b.Build()
	if err != nil {
		return nil, err
	}
	return jobs.Compile(job)
}

// printTable prints a CSV file as an aligned table, numbers right-aligned.
func printTable(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return fmt.Errorf("read the result: %w", err)
	}
	if len(rows) == 0 {
		return nil
	}
	width := make([]int, len(rows[0]))
	numeric := make([]bool, len(rows[0]))
	for i := range numeric {
		numeric[i] = len(rows) > 1
	}
	for r, row := range rows {
		for i, v := range row {
			width[i] = max(width[i], utf8.RuneCountInString(v))
			if r > 0 && v != "" && !isNumber(v) {
				numeric[i] = false
			}
		}
	}
	for r, row := range rows {
		var sb strings.Builder
		for i, v := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(v))
			if i > 0 {
				sb.WriteString("  ")
			}
			if numeric[i] && r > 0 {
				sb.WriteString(pad + v)
			} else {
				sb.WriteString(v + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(sb.String(), " "))
	}
	fmt.Fprintf(w, "(%d rows)\n", len(rows)-1)
	return nil
}

func isNumber(s string) bool {
	for i, r := range s {
		if !(r >= '0' && r <= '9' || r == '.' || (r == '-' && i == 0) || r == 'e' || r == 'E' || r == '+') {
			return false
		}
	}
	return true
}
