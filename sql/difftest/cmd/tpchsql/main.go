// Command tpchsql times the TPC-H queries through batchrun's sql step and
// through DuckDB, alternating query by query, and checks that the answers
// agree; bench/tpch-sql.sh builds and runs it.
//
//	tpchsql -data DIR -batchrun BIN [-queries DIR] [-runs R] [-only q01,q06] [-threads N] [-legacy-types]
//
// DIR holds the CSV files of ../shared/tpch/gen.sh. DuckDB reads them
// through views (read_csv with dbgen's column types), so that it too reads
// the files on every query, as batchrun does. Times are wall seconds,
// medians of R runs, batchrun's including its process start. It prints a
// markdown table and exits 1 when a query fails or the answers differ, 2
// when batchrun has no sql step yet.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/batchrun/batchrun/sql/difftest"
	"github.com/batchrun/batchrun/sql/difftest/compare"
	"github.com/batchrun/batchrun/sql/difftest/duck"
)

func main() {
	data := flag.String("data", "", "directory of the TPC-H CSV files (../shared/tpch/gen.sh)")
	bin := flag.String("batchrun", "", "the batchrun binary")
	queries := flag.String("queries", "../parser/testdata/tpch", "directory of q01.sql ... q22.sql")
	runs := flag.Int("runs", 1, "runs of each query on each side")
	only := flag.String("only", "", "comma-separated queries to run (default all), e.g. q01,q06")
	threads := flag.Int("threads", 2, "DuckDB threads")
	legacy := flag.Bool("legacy-types", false, "read decimals as float64 and dates as string")
	flag.Parse()
	if *data == "" || *bin == "" || *runs < 1 {
		flag.Usage()
		os.Exit(2)
	}
	b := &bench{runner: &difftest.Runner{Bin: *bin, Legacy: *legacy}, runs: *runs, legacy: *legacy}
	os.Exit(b.main(*data, *queries, *only, *threads))
}

type bench struct {
	db     *duck.DB
	tables []difftest.Table
	runner *difftest.Runner
	runs   int
	legacy bool
	work   string
}

func (b *bench) main(data, queries, only string, threads int) int {
	files, err := filepath.Glob(filepath.Join(queries, "q*.sql"))
	if err != nil || len(files) == 0 {
		return fail(fmt.Errorf("no queries in %s", queries))
	}
	if b.db, err = duck.Open(threads, true); err != nil {
		return fail(err)
	}
	defer b.db.Close()
	if b.tables, err = difftest.LoadTPCH(b.db, data); err != nil {
		return fail(err)
	}
	if b.work, err = os.MkdirTemp("", "tpchsql-"); err != nil {
		return fail(err)
	}
	defer os.RemoveAll(b.work)
	var totalB, totalD float64
	bad := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sql")
		if only != "" && !slices.Contains(strings.Split(only, ","), name) {
			continue
		}
		tb, td, verdict, err := b.query(name, f)
		if errors.Is(err, errNoSQL) {
			fail(err)
			return 2
		}
		if err != nil {
			return fail(err)
		}
		if verdict != "equal" {
			bad++
		}
		if totalB == 0 { // the header, once the queries run
			fmt.Println("| query | batchrun s | DuckDB s | batchrun/DuckDB | answers |")
			fmt.Println("|---|---|---|---|---|")
		}
		totalB, totalD = totalB+tb, totalD+td
		fmt.Printf("| %s | %.3f | %.3f | %s | %s |\n", name, tb, td, ratio(tb, td), verdict)
	}
	fmt.Printf("| total | %.3f | %.3f | %s | %d of the queries differ or fail |\n", totalB, totalD, ratio(totalB, totalD), bad)
	if bad > 0 {
		return 1
	}
	return 0
}

var errNoSQL = errors.New("this batchrun has no sql step yet (issue 14)")

// query runs one query b.runs times on each side, alternating, and
// returns the median seconds of each and whether the answers agree. A
// batchrun without a sql step ends the whole bench (exit 2).
func (b *bench) query(name, file string) (tb, td float64, verdict string, err error) {
	text, err := os.ReadFile(file)
	if err != nil {
		return 0, 0, "", err
	}
	q := string(text)
	var bs, ds []float64
	var got, want *compare.Table
	for r := 0; r < b.runs; r++ {
		dir := filepath.Join(b.work, fmt.Sprintf("%s-%d", name, r))
		if err := os.Mkdir(dir, 0o755); err != nil {
			return 0, 0, "", err
		}
		t0 := time.Now()
		got, err = b.runner.Run(context.Background(), dir, "tpch-sql-"+name, b.tables, q)
		bs = append(bs, time.Since(t0).Seconds())
		var f *difftest.Failure
		if errors.As(err, &f) && strings.Contains(f.Detail, `unknown key "sql"`) {
			return 0, 0, "", fmt.Errorf("%w: %s", errNoSQL, f.Reason())
		}
		t0 = time.Now()
		if want, err = b.db.Query(q, b.legacy); err != nil {
			return 0, 0, "", fmt.Errorf("%s: DuckDB: %w", name, err)
		}
		ds = append(ds, time.Since(t0).Seconds())
		if f != nil {
			return median(bs), median(ds), "batchrun failed: " + f.Reason(), nil
		}
	}
	return median(bs), median(ds), b.verdict(q, want, got), nil
}

func (b *bench) verdict(q string, want, got *compare.Table) string {
	var names []string
	for _, c := range want.Columns {
		names = append(names, c.Name)
	}
	ord, err := b.db.Order(q, names)
	if err != nil {
		return "cannot read ORDER BY: " + err.Error()
	}
	if err := compare.Compare(want, got, ord); err != nil {
		fmt.Fprintf(os.Stderr, "%v\n", err)
		first, _, _ := strings.Cut(err.Error(), "\n")
		return "DIFFER: " + first
	}
	return "equal"
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "tpchsql:", err)
	return 1
}
