package difftest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batchrun/batchrun/sql/difftest/compare"
	"github.com/batchrun/batchrun/sql/difftest/duck"
	"github.com/batchrun/batchrun/sql/difftest/querygen"
)

var (
	sf          = flag.String("sf", "0.01", "TPC-H scale factor of TestTPCH's data")
	legacy      = flag.Bool("difftest.legacy-types", false, "read decimals as float64 and dates as string (a batchrun without those types)")
	firstSeed   = flag.Int64("difftest.seed", 1, "first seed of TestGenerated")
	count       = flag.Int("difftest.n", 200, "number of queries TestGenerated runs")
	updateKnown = flag.Bool("difftest.update-known", false, "rewrite "+knownPath+" from this run's results")
	binary      = flag.String("difftest.batchrun", "", "a batchrun binary to test (default: build ../..)")
)

const (
	knownPath  = "testdata/known-failures.txt"
	runTimeout = 2 * time.Minute // per query; SF 0.01 queries take seconds
)

// env is what every test shares, set up once by the first test that needs
// it (so that go test -run TestSomethingElse builds nothing).
type env struct {
	db    *duck.DB
	tpch  []Table // TPC-H at -sf
	small []Table // querygen's tables
	known Known
}

var (
	envOnce sync.Once
	shared  *env
	envErr  error
	tmpDir  string // removed by TestMain

	buildOnce sync.Once
	runner    *Runner // batchrun's
	buildErr  error

	resultsMu sync.Mutex
	results   = map[string]string{} // test name -> failure reason, "" when it passed
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if shared != nil {
		shared.db.Close()
	}
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
	if *updateKnown && code == 0 {
		if err := writeKnown(); err != nil {
			fmt.Fprintln(os.Stderr, "difftest:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// setup generates the data and opens DuckDB, once.
func setup(t *testing.T) *env {
	t.Helper()
	envOnce.Do(func() { shared, envErr = newEnv() })
	if envErr != nil {
		t.Fatal(envErr)
	}
	return shared
}

func newEnv() (*env, error) {
	var err error
	if tmpDir, err = os.MkdirTemp("", "difftest-"); err != nil {
		return nil, err
	}
	e := &env{}
	if e.known, err = ReadKnown(knownPath); err != nil {
		return nil, err
	}
	if e.db, err = duck.Open(1, true); err != nil {
		return nil, err
	}
	t0 := time.Now()
	if e.tpch, err = GenerateTPCH(e.db, *sf, tmpDir); err != nil {
		return nil, err
	}
	if e.small, err = SmallTables(e.db, tmpDir); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "difftest: generated TPC-H SF %s and the small tables in %.1fs\n", *sf, time.Since(t0).Seconds())
	return e, nil
}

// batchrun is the Runner of the batchrun under test: -difftest.batchrun,
// or built from ../.. once.
func batchrun(t *testing.T) *Runner {
	t.Helper()
	setup(t) // for tmpDir
	buildOnce.Do(func() {
		runner = &Runner{Bin: *binary, Legacy: *legacy}
		if runner.Bin == "" {
			t0 := time.Now()
			runner.Bin, buildErr = Build("../..", tmpDir)
			fmt.Fprintf(os.Stderr, "difftest: built batchrun in %.1fs\n", time.Since(t0).Seconds())
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return runner
}

// TestTPCH runs the 22 TPC-H queries.
func TestTPCH(t *testing.T) {
	files, err := filepath.Glob(tpchQueries + "/q*.sql")
	if err != nil || len(files) != 22 {
		t.Fatalf(tpchQueries+": %d queries (%v), want 22", len(files), err)
	}
	e, r := setup(t), batchrun(t)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".sql"), func(t *testing.T) {
			q, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			e.check(t, r, e.tpch, string(q), "")
		})
	}
}

// TestGenerated runs -difftest.n generated queries from -difftest.seed on.
func TestGenerated(t *testing.T) {
	e, r := setup(t), batchrun(t)
	for seed := *firstSeed; seed < *firstSeed+int64(*count); seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			q := querygen.Generate(seed)
			replay := fmt.Sprintf("seed %d; replay: go test -run 'TestGenerated/seed=%d$' -difftest.seed %d -difftest.n 1\n%s",
				seed, seed, seed, q)
			e.check(t, r, e.small, q, replay)
		})
	}
}

// check runs query through r and judges the outcome against the known
// failures. about is printed with a failure.
func (e *env) check(t *testing.T, r *Runner, tables []Table, query, about string) {
	e.verdict(t, e.diff(t, r, tables, query), about)
}

// diff runs query in DuckDB and through r over tables and compares the
// answers: nil when they agree. An error of the harness's own (DuckDB
// cannot run the query, a file cannot be written) fails t.
func (e *env) diff(t *testing.T, r *Runner, tables []Table, query string) *Failure {
	t.Helper()
	want, err := e.db.Query(query, *legacy)
	if err != nil {
		t.Fatalf("DuckDB cannot run the query (a harness bug): %v\n%s", err, query)
	}
	var names []string
	for _, c := range want.Columns {
		names = append(names, c.Name)
	}
	ord, err := e.db.Order(query, names)
	if err != nil {
		t.Fatalf("reading the query's ORDER BY: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	got, err := r.Run(ctx, t.TempDir(), jobName(t.Name()), tables, query)
	if err == nil {
		if d := compare.Compare(want, got, ord); d != nil {
			err = &Failure{What: "wrong answer", Detail: d.Error()}
		}
	}
	var f *Failure
	if err != nil && !errors.As(err, &f) {
		t.Fatalf("harness: %v", err)
	}
	return f
}

// verdict passes, skips or fails the test t whose query failed with f (nil
// when it passed), as judge says, and records the result.
func (e *env) verdict(t *testing.T, f *Failure, about string) {
	resultsMu.Lock()
	results[t.Name()] = ""
	if f != nil {
		results[t.Name()] = f.Reason()
	}
	resultsMu.Unlock()
	switch o, msg := judge(t.Name(), e.known, f, *updateKnown); o {
	case skip:
		t.Skip(msg)
	case fail:
		t.Fatalf("%s\n%s", msg, about)
	}
}

type outcome int

const (
	pass outcome = iota
	skip
	fail
)

// judge is known-failures.txt's rule: a query not listed must pass; a
// listed query that fails is skipped, and one that passes fails, so that
// the list only shrinks. While the list is being rewritten
// (-difftest.update-known) every failure is a skip.
func judge(name string, known Known, f *Failure, update bool) (outcome, string) {
	reason, listed := known[name]
	switch {
	case f == nil && listed && !update:
		return fail, fmt.Sprintf("%s passes now: remove it from %s (listed as: %s)", name, knownPath, reason)
	case f == nil:
		return pass, ""
	case listed || update:
		return skip, fmt.Sprintf("known failure (listed as: %s)\n%v", reason, f)
	}
	return fail, f.Error()
}

// writeKnown updates the known failures with this run's results: a query
// that ran is listed if and only if it failed; the others stay as they are.
func writeKnown() error {
	k, err := ReadKnown(knownPath)
	if err != nil {
		return err
	}
	for name, reason := range results {
		delete(k, name)
		if reason != "" {
			k[name] = reason
		}
	}
	return k.Write(knownPath)
}

var notName = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// jobName is a test's name as a job name.
func jobName(test string) string {
	return "difftest-" + notName.ReplaceAllString(test, "-")
}
