package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batchrun/batchrun/jobs"
)

// The operator tests run small YAML jobs over generated CSV inputs with
// NULL cells (empty fields) at parallelism 1 and 4 in both modes, and
// compare with answers computed here in plain Go, row by row.

// opRow is one generated order: id, user (nil: NULL), amount, note.
type opOrder struct {
	id, amount int64
	user       *int64
	note       string // "" is NULL, written "-" (TestOperatorExplodeAggregates maps it back)
}

// noteCell is the note as written in orders.csv.
func (o opOrder) noteCell() string {
	if o.note == "" {
		return "-"
	}
	return o.note
}

type opUser struct {
	user *int64
	name string
}

func i64p(v int64) *int64 { return &v }

// opData generates orders and users: user keys collide, some are NULL on
// both sides, some orders have no user and some users have no order.
func opData() ([]opOrder, []opUser) {
	rng := rand.New(rand.NewPCG(5, 17))
	words := []string{"red", "green", "blue", "red green", "blue  blue", "x"}
	var orders []opOrder
	for i := range 300 {
		o := opOrder{id: int64(i + 1), amount: int64(rng.IntN(50)), note: words[rng.IntN(len(words))]}
		if rng.IntN(10) > 0 {
			o.user = i64p(int64(rng.IntN(30)))
		}
		if rng.IntN(8) == 0 {
			o.note = ""
		}
		orders = append(orders, o)
	}
	var users []opUser
	for u := range 25 {
		users = append(users, opUser{user: i64p(int64(u + 5)), name: "u" + strconv.Itoa(u+5)})
	}
	users = append(users, opUser{user: i64p(7), name: "seven"}, opUser{name: "nobody"}, opUser{name: "nobody2"})
	return orders, users
}

func cell(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

func writeOpInputs(t *testing.T, dir string) ([]opOrder, []opUser) {
	orders, users := opData()
	var b strings.Builder
	b.WriteString("id,user,amount,note\n")
	for _, o := range orders {
		fmt.Fprintf(&b, "%d,%s,%d,%s\n", o.id, cell(o.user), o.amount, o.noteCell())
	}
	writeFile(t, filepath.Join(dir, "orders.csv"), b.String())
	b.Reset()
	b.WriteString("user,name\n")
	for _, u := range users {
		fmt.Fprintf(&b, "%s,%s\n", cell(u.user), u.name)
	}
	writeFile(t, filepath.Join(dir, "users.csv"), b.String())
	return orders, users
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

const opReads = `
  - id: orders
    read: {path: orders.csv, schema: ["id int64", "user int64", "amount int64", "note string"]}
  - id: users
    read: {path: users.csv, schema: ["user int64", "name string"]}
`

// runOpJob writes the spec (reads + steps + a write of step out at
// parallelism 1), runs it and returns the output rows with the header.
func runOpJob(t *testing.T, dir, steps string, cfg runConfig, broadcastBelow int64) [][]string {
	t.Helper()
	spec := "name: op\nsteps:" + opReads + steps + `
  - id: write
    input: out
    write: {path: out.csv}
    parallelism: 1
`
	path := filepath.Join(dir, "job.yaml")
	writeFile(t, path, spec)
	os.Remove(filepath.Join(dir, "out.csv"))
	l, err := jobs.LoadFile(path, jobs.FileOptions{Parallelism: cfg.parallelism, Mode: cfg.mode, BroadcastBelow: broadcastBelow})
	if err != nil {
		t.Fatalf("load: %v\n%s", err, spec)
	}
	if _, err := l.Run(context.Background(), jobs.RunOptions{StateDir: t.TempDir(), Slots: 64}); err != nil {
		t.Fatalf("run %s: %v", cfg, err)
	}
	return readOutput(t, filepath.Join(dir, "out.csv"))
}

// sameRows compares as multisets (ordered false) or in order.
func sameRows(t *testing.T, got, want [][]string, ordered bool) {
	t.Helper()
	if !ordered {
		sortRows(got[1:])
		sortRows(want[1:])
	}
	compareRows(t, got, want)
}

func joinAnswer(orders []opOrder, users []opUser, typ string) [][]string {
	out := [][]string{{"id", "user", "amount", "note", "name"}}
	if typ == "semi" || typ == "anti" {
		out[0] = out[0][:4]
	}
	matchedUser := make([]bool, len(users))
	for _, o := range orders {
		row := []string{strconv.FormatInt(o.id, 10), cell(o.user), strconv.FormatInt(o.amount, 10), o.noteCell()}
		n := 0
		for i, u := range users {
			if o.user == nil || u.user == nil || *o.user != *u.user {
				continue
			}
			n++
			matchedUser[i] = true
			if typ != "semi" && typ != "anti" {
				out = append(out, append(append([]string{}, row...), u.name))
			}
		}
		switch {
		case typ == "semi" && n > 0, typ == "anti" && n == 0:
			out = append(out, row)
		case n == 0 && (typ == "left" || typ == "full"):
			out = append(out, append(row, ""))
		}
	}
	if typ == "right" || typ == "full" {
		for i, u := range users {
			if !matchedUser[i] {
				out = append(out, []string{"", cell(u.user), "", "", u.name})
			}
		}
	}
	return out
}

func TestOperatorJoins(t *testing.T) {
	dir := t.TempDir()
	orders, users := writeOpInputs(t, dir)
	for _, typ := range []string{"inner", "left", "right", "full", "semi", "anti"} {
		want := joinAnswer(orders, users, typ)
		for _, bc := range []bool{false, true} {
			if bc && (typ == "right" || typ == "full") {
				continue
			}
			steps := fmt.Sprintf("  - id: out\n    join: {left: orders, right: users, on: [user], type: %s, broadcast: %v}\n", typ, bc)
			for _, cfg := range configs {
				t.Run(fmt.Sprintf("%s/broadcast=%v/%s", typ, bc, cfg), func(t *testing.T) {
					got := runOpJob(t, dir, steps, cfg, -1)
					sameRows(t, got, clone(want), false)
				})
			}
		}
	}
}

// TestOperatorJoinAutoBroadcast: a small right input is broadcast without
// a hint (inner), never for a full join, and the answers do not change.
func TestOperatorJoinAutoBroadcast(t *testing.T) {
	dir := t.TempDir()
	orders, users := writeOpInputs(t, dir)
	for _, typ := range []string{"inner", "full"} {
		steps := fmt.Sprintf("  - id: out\n    join: {left: orders, right: users, on: [user], type: %s}\n", typ)
		path := filepath.Join(dir, "probe.yaml")
		writeFile(t, path, "name: op\nsteps:"+opReads+steps)
		l, err := jobs.LoadFile(path, jobs.FileOptions{Parallelism: 4})
		if err != nil {
			t.Fatal(err)
		}
		plan, _ := l.Explain("text")
		if got, want := strings.Contains(plan, "broadcast"), typ == "inner"; got != want {
			t.Errorf("%s join: broadcast in plan = %v, want %v\n%s", typ, got, want, plan)
		}
		got := runOpJob(t, dir, steps, runConfig{"all-blocking", 4}, 0)
		sameRows(t, got, joinAnswer(orders, users, typ), false)
	}
}

func clone(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = append([]string{}, r...)
	}
	return out
}

func TestOperatorDistinctUnion(t *testing.T) {
	dir := t.TempDir()
	orders, users := writeOpInputs(t, dir)
	// distinct over (user, note): NULLs equal NULLs.
	seen := map[string]bool{}
	distinct := [][]string{{"user", "note"}}
	for _, o := range orders {
		r := []string{cell(o.user), o.noteCell()}
		if k := strings.Join(r, "\x00") + fmt.Sprint(o.user == nil); !seen[k] {
			seen[k] = true
			distinct = append(distinct, r)
		}
	}
	// union distinct of users' keys and orders' keys.
	seen = map[string]bool{}
	union := [][]string{{"user", "one"}}
	for _, u := range append(append([]*int64{}, userKeys(users)...), orderKeys(orders)...) {
		if k := cell(u) + fmt.Sprint(u == nil); !seen[k] {
			seen[k] = true
			union = append(union, []string{cell(u), "1"})
		}
	}
	cases := []struct {
		name, steps string
		want        [][]string
	}{
		{"distinct", `
  - id: cols
    input: orders
    select: [user, note]
  - id: out
    input: cols
    distinct: true
`, distinct},
		{"distinct-on", `
  - id: cols
    input: orders
    select: [user, note]
  - id: firsts
    input: cols
    distinct: {on: [user, note]}
  - id: out
    input: firsts
    select: [user, note]
`, distinct},
		{"union-distinct", `
  - id: uk
    input: users
    select: [user, "1 AS one"]
  - id: ok
    input: orders
    select: [user, "1 AS one"]
  - id: out
    union: {inputs: [uk, ok], distinct: true}
`, union},
	}
	for _, c := range cases {
		for _, cfg := range configs {
			t.Run(c.name+"/"+cfg.String(), func(t *testing.T) {
				sameRows(t, runOpJob(t, dir, c.steps, cfg, -1), clone(c.want), false)
			})
		}
	}
}

func userKeys(users []opUser) []*int64 {
	var out []*int64
	for _, u := range users {
		out = append(out, u.user)
	}
	return out
}

func orderKeys(orders []opOrder) []*int64 {
	var out []*int64
	for _, o := range orders {
		out = append(out, o.user)
	}
	return out
}

// TestOperatorTopN: sort + limit fuses into a top-N; NULL users sort first
// ascending; ties are broken by id so the answer is exact.
func TestOperatorTopN(t *testing.T) {
	dir := t.TempDir()
	orders, _ := writeOpInputs(t, dir)
	sorted := append([]opOrder{}, orders...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.amount != b.amount {
			return a.amount > b.amount
		}
		if (a.user == nil) != (b.user == nil) {
			return a.user == nil
		}
		if a.user != nil && *a.user != *b.user {
			return *a.user < *b.user
		}
		return a.id < b.id
	})
	want := [][]string{{"id", "user", "amount", "note"}}
	for _, o := range sorted[:25] {
		want = append(want, []string{strconv.FormatInt(o.id, 10), cell(o.user), strconv.FormatInt(o.amount, 10), o.noteCell()})
	}
	steps := `
  - id: sorted
    input: orders
    sort: ["amount DESC", user, id]
  - id: out
    input: sorted
    limit: 25
`
	for _, cfg := range configs {
		t.Run(cfg.String(), func(t *testing.T) {
			sameRows(t, runOpJob(t, dir, steps, cfg, -1), want, true)
		})
	}
}

// TestOperatorExplodeAggregates explodes notes into words and aggregates
// per word: count(*), count(user) (skips NULLs), count_distinct(user),
// sum, min, max, avg and any_value; NULL notes yield no word and
// "blue  blue" yields an empty word.
func TestOperatorExplodeAggregates(t *testing.T) {
	dir := t.TempDir()
	orders, _ := writeOpInputs(t, dir)
	type acc struct {
		n, nUser, sum, min, max int64
		users                   map[int64]bool
	}
	per := map[string]*acc{}
	var order []string
	for _, o := range orders {
		if o.note == "" {
			continue
		}
		for _, w := range strings.Split(o.note, " ") {
			a := per[w]
			if a == nil {
				a = &acc{min: o.amount, max: o.amount, users: map[int64]bool{}}
				per[w] = a
				order = append(order, w)
			}
			a.n++
			a.sum += o.amount
			a.min, a.max = min(a.min, o.amount), max(a.max, o.amount)
			if o.user != nil {
				a.nUser++
				a.users[*o.user] = true
			}
		}
	}
	want := [][]string{{"word", "n", "n_user", "users", "total", "lo", "hi", "mean", "some"}}
	for _, w := range order {
		a := per[w]
		want = append(want, []string{w, fmt.Sprint(a.n), fmt.Sprint(a.nUser), fmt.Sprint(len(a.users)),
			fmt.Sprint(a.sum), fmt.Sprint(a.min), fmt.Sprint(a.max), ftoa(float64(a.sum) / float64(a.n)), w})
	}
	steps := `
  - id: notes
    input: orders
    select: [user, amount, "nullif(note, '-') AS note"]
  - id: words
    input: notes
    explode: {column: note, split: " ", as: word}
  - id: out
    input: words
    aggregate:
      by: [word]
      compute: ["count(*) AS n", "count(user) AS n_user", "count_distinct(user) AS users", "sum(amount) AS total",
                "min(amount) AS lo", "max(amount) AS hi", "avg(amount) AS mean", "any_value(word) AS some"]
`
	for _, cfg := range configs {
		t.Run(cfg.String(), func(t *testing.T) {
			sameRows(t, runOpJob(t, dir, steps, cfg, -1), clone(want), false)
		})
	}
}

// TestExampleLogRollup runs examples/log-rollup.yaml (JSON lines, explode,
// count_distinct, date functions, top-level sort) against an answer
// computed here from the JSON.
func TestExampleLogRollup(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(examplesDir(t), "data", "logs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ day, tag string }
	reqs, users := map[key]int{}, map[key]map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rec struct {
			TS   int64   `json:"ts"`
			User *string `json:"user"`
			Tags *string `json:"tags"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Tags == nil {
			continue
		}
		day := time.Unix(rec.TS, 0).UTC().Format("2006-01-02")
		for _, tag := range strings.Split(*rec.Tags, " ") {
			k := key{day, tag}
			reqs[k]++
			if users[k] == nil {
				users[k] = map[string]bool{}
			}
			if rec.User != nil {
				users[k][*rec.User] = true
			}
		}
	}
	want := [][]string{{"day", "tag", "requests", "users"}}
	for k, n := range reqs {
		want = append(want, []string{k.day, k.tag, strconv.Itoa(n), strconv.Itoa(len(users[k]))})
	}
	sortRows(want[1:])
	ex := example{name: "log-rollup", output: "out/log-rollup.csv", ordered: true}
	for _, cfg := range configs {
		t.Run(cfg.String(), func(t *testing.T) {
			_, out := runExample(t, ex, cfg, jobs.RunOptions{})
			compareRows(t, readOutput(t, out), want)
		})
	}
}
