package integration

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/batchrun/batchrun/jobs"
)

// The step features a SQL front end compiles into, run as YAML jobs over
// the generated orders and users of operators_test.go and checked against
// answers computed here row by row: join residual conditions and joins
// without keys, NULLS FIRST/LAST, LIMIT with OFFSET, LIKE and ILIKE.

func orderRow(o opOrder) []string {
	return []string{strconv.FormatInt(o.id, 10), cell(o.user), strconv.FormatInt(o.amount, 10), o.noteCell()}
}

// whereJoinAnswer is the nested-loop answer of a join of orders and users
// on user with the residual condition match.
func whereJoinAnswer(orders []opOrder, users []opUser, typ string, match func(opOrder, opUser) bool) [][]string {
	out := [][]string{{"id", "user", "amount", "note", "name"}}
	leftOnly := typ == "semi" || typ == "anti"
	if leftOnly {
		out[0] = out[0][:4]
	}
	matchedUser := make([]bool, len(users))
	for _, o := range orders {
		n := 0
		for i, u := range users {
			if o.user == nil || u.user == nil || *o.user != *u.user || !match(o, u) {
				continue
			}
			n++
			matchedUser[i] = true
			if !leftOnly {
				out = append(out, append(orderRow(o), u.name))
			}
		}
		switch {
		case typ == "semi" && n > 0, typ == "anti" && n == 0:
			out = append(out, orderRow(o))
		case n == 0 && (typ == "left" || typ == "full"):
			out = append(out, append(orderRow(o), ""))
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

// TestSQLJoinWhere: every join type with a residual condition over both
// sides, hashed and broadcast: a pair matches only where it is true.
func TestSQLJoinWhere(t *testing.T) {
	dir := t.TempDir()
	orders, users := writeOpInputs(t, dir)
	match := func(o opOrder, u opUser) bool { return o.amount > 20 && u.name != "seven" }
	for _, typ := range []string{"inner", "left", "right", "full", "semi", "anti"} {
		want := whereJoinAnswer(orders, users, typ, match)
		for _, bc := range []bool{false, true} {
			if bc && (typ == "right" || typ == "full") {
				continue
			}
			steps := fmt.Sprintf("  - id: out\n    join: {left: orders, right: users, on: [user], type: %s, broadcast: %v, where: \"amount > 20 AND name <> 'seven'\"}\n", typ, bc)
			for _, cfg := range configs {
				t.Run(fmt.Sprintf("%s/broadcast=%v/%s", typ, bc, cfg), func(t *testing.T) {
					sameRows(t, runOpJob(t, dir, steps, cfg, -1), clone(want), false)
				})
			}
		}
	}
}

// TestSQLJoinKeyless: joins without keys (a scalar subquery's row, a small
// side) pair every left row with every right row, filtered by the
// condition.
func TestSQLJoinKeyless(t *testing.T) {
	dir := t.TempDir()
	orders, users := writeOpInputs(t, dir)
	var sum int64
	for _, o := range orders {
		sum += o.amount
	}
	avg := float64(sum) / float64(len(orders))
	above := [][]string{{"id", "user", "amount", "note", "avg_amount"}}
	for _, o := range orders {
		if float64(o.amount) > avg {
			above = append(above, append(orderRow(o), strconv.FormatFloat(avg, 'f', -1, 64)))
		}
	}
	small := orders[:4] // id <= 4: oid, amt
	left := [][]string{{"user", "name", "oid", "amt"}}
	for _, u := range users {
		n := 0
		for _, o := range small {
			if u.user != nil && *u.user < o.amount {
				left = append(left, []string{cell(u.user), u.name, strconv.FormatInt(o.id, 10), strconv.FormatInt(o.amount, 10)})
				n++
			}
		}
		if n == 0 {
			left = append(left, []string{cell(u.user), u.name, "", ""})
		}
	}
	anti := [][]string{{"id", "user", "amount", "note"}}
	for _, o := range orders {
		if !slices.ContainsFunc(small, func(s opOrder) bool { return s.amount == o.amount }) {
			anti = append(anti, orderRow(o))
		}
	}
	const smallSteps = `
  - id: small
    input: orders
    filter: "id <= 4"
  - id: smallcols
    input: small
    select: ["id AS oid", "amount AS amt"]
`
	cases := []struct {
		name, steps string
		want        [][]string
	}{
		{"inner", `
  - id: avg
    input: orders
    aggregate: {compute: ["avg(amount) AS avg_amount"]}
  - id: out
    join: {left: orders, right: avg, where: "amount > avg_amount"}
`, above},
		{"left", smallSteps + `
  - id: out
    join: {left: users, right: smallcols, on: [], type: left, where: "user < amt"}
`, left},
		{"anti", smallSteps + `
  - id: out
    join: {left: orders, right: smallcols, type: anti, where: "amount = amt"}
`, anti},
	}
	for _, c := range cases {
		for _, cfg := range configs {
			t.Run(c.name+"/"+cfg.String(), func(t *testing.T) {
				sameRows(t, runOpJob(t, dir, c.steps, cfg, -1), clone(c.want), false)
			})
		}
	}
	// A join without keys broadcasts its right input, which a right join
	// cannot, and broadcast: false contradicts.
	for _, bad := range []struct{ join, want string }{
		{"{left: orders, right: users, type: right}", `step "out": a right join needs keys (on)`},
		{"{left: orders, right: users, on: [], broadcast: false, where: \"id > 1\"}", `step "out": a join without keys (on) broadcasts its right input: broadcast cannot be false`},
		{"{left: orders, right: users, on: [\"id = user\"], type: semi, where: \"user > 1\"}", `step "out": join where: column "user" is in both inputs`},
		{"{left: orders, right: users, on: [user], where: \"name\"}", `step "out": join where name has type string, want bool`},
	} {
		path := filepath.Join(dir, "bad.yaml")
		writeFile(t, path, "name: op\nsteps:"+opReads+"  - id: out\n    join: "+bad.join+"\n")
		if _, err := jobs.LoadFile(path, jobs.FileOptions{}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("join %s: error %v, want %s", bad.join, err, bad.want)
		}
	}
}

// sortOrders sorts orders by user (NULLs where nullsFirst says, user
// descending when desc), then by id.
func sortOrders(orders []opOrder, desc, nullsFirst bool) []opOrder {
	out := slices.Clone(orders)
	slices.SortStableFunc(out, func(a, b opOrder) int {
		switch {
		case (a.user == nil) != (b.user == nil):
			if (a.user == nil) == nullsFirst {
				return -1
			}
			return 1
		case a.user != nil && *a.user != *b.user:
			c := int(*a.user - *b.user)
			if desc {
				c = -c
			}
			return c
		}
		return int(a.id - b.id)
	})
	return out
}

// TestSQLSortNulls: NULLS FIRST and NULLS LAST in either direction, in a
// global sort and in a top-N (sort + limit).
func TestSQLSortNulls(t *testing.T) {
	dir := t.TempDir()
	orders, _ := writeOpInputs(t, dir)
	header := []string{"id", "user", "amount", "note"}
	cases := []struct {
		key              string
		desc, nullsFirst bool
		limit            int
	}{
		{"user DESC NULLS FIRST", true, true, 0},
		{"user NULLS LAST", false, false, 0},
		{"user ASC NULLS LAST", false, false, 40},
		{"user DESC NULLS LAST", true, false, 300},
		{"user DESC", true, false, 0},
		{"user", false, true, 20},
	}
	for _, c := range cases {
		want := [][]string{header}
		sorted := sortOrders(orders, c.desc, c.nullsFirst)
		if c.limit > 0 {
			sorted = sorted[:min(c.limit, len(sorted))]
		}
		for _, o := range sorted {
			want = append(want, orderRow(o))
		}
		steps := fmt.Sprintf("  - id: out\n    input: orders\n    sort: [%q, id]\n", c.key)
		if c.limit > 0 {
			steps = fmt.Sprintf("  - id: sorted\n    input: orders\n    sort: [%q, id]\n  - id: out\n    input: sorted\n    limit: %d\n", c.key, c.limit)
		}
		for _, cfg := range configs {
			t.Run(fmt.Sprintf("%s/limit=%d/%s", c.key, c.limit, cfg), func(t *testing.T) {
				sameRows(t, runOpJob(t, dir, steps, cfg, -1), want, true)
			})
		}
	}
}

// TestSQLLimitOffset: a top-N with an offset keeps count+offset rows per
// subtask and skips the offset once; a limit without a sort skips the
// first rows in input order (exact at parallelism 1).
func TestSQLLimitOffset(t *testing.T) {
	dir := t.TempDir()
	orders, _ := writeOpInputs(t, dir)
	byAmount := slices.Clone(orders)
	slices.SortStableFunc(byAmount, func(a, b opOrder) int {
		if a.amount != b.amount {
			return int(b.amount - a.amount)
		}
		return int(a.id - b.id)
	})
	header := []string{"id", "user", "amount", "note"}
	for _, lim := range []struct{ count, offset int }{{12, 30}, {5, 0}, {10, 295}, {3, 400}, {0, 2}} {
		want := [][]string{header}
		for _, o := range byAmount[min(lim.offset, len(byAmount)):min(lim.offset+lim.count, len(byAmount))] {
			want = append(want, orderRow(o))
		}
		steps := fmt.Sprintf(`
  - id: sorted
    input: orders
    sort: ["amount DESC", id]
  - id: out
    input: sorted
    limit: {count: %d, offset: %d}
`, lim.count, lim.offset)
		for _, cfg := range configs {
			t.Run(fmt.Sprintf("topn/%d+%d/%s", lim.count, lim.offset, cfg), func(t *testing.T) {
				sameRows(t, runOpJob(t, dir, steps, cfg, -1), want, true)
			})
		}
	}
	all := map[string]bool{}
	for _, o := range orders {
		all[strings.Join(orderRow(o), ",")] = true
	}
	steps := "  - id: out\n    input: orders\n    limit: {count: 7, offset: 100}\n"
	for _, cfg := range configs {
		t.Run("plain/"+cfg.String(), func(t *testing.T) {
			got := runOpJob(t, dir, steps, cfg, -1)
			if cfg.parallelism == 1 {
				want := [][]string{header}
				for _, o := range orders[100:107] {
					want = append(want, orderRow(o))
				}
				sameRows(t, got, want, true)
				return
			}
			seen := map[string]bool{}
			for _, r := range got[1:] {
				k := strings.Join(r, ",")
				if !all[k] || seen[k] {
					t.Errorf("row %q is not an input row, or is repeated", r)
				}
				seen[k] = true
			}
			if len(got) != 8 {
				t.Errorf("%d rows, want 7", len(got)-1)
			}
		})
	}
}

// TestSQLLike: LIKE, NOT LIKE, ILIKE and ESCAPE in a filter and a select,
// over notes with NULLs (read with null_string "-"), and substring.
func TestSQLLike(t *testing.T) {
	dir := t.TempDir()
	orders, _ := writeOpInputs(t, dir)
	like := func(o opOrder) (keep bool, null bool) {
		if o.note == "" {
			return false, true
		}
		n := o.note
		return strings.HasPrefix(n, "blue") || strings.HasSuffix(strings.ToLower(n), "green") || !strings.Contains(n, "e"), false
	}
	want := [][]string{{"id", "note", "sub", "rd", "sp"}}
	for _, o := range orders {
		if keep, null := like(o); !keep || null {
			continue
		}
		n := o.note
		sub := n[min(1, len(n)):min(4, len(n))]
		rd := strconv.FormatBool(len(n) >= 3 && n[0] == 'r' && n[2] == 'd')
		sp := strconv.FormatBool(strings.Contains(n, "  "))
		want = append(want, []string{strconv.FormatInt(o.id, 10), n, sub, rd, sp})
	}
	steps := `
  - id: notes
    read: {path: orders.csv, schema: ["id int64", "user int64", "amount int64", "note string"], null_string: "-"}
  - id: kept
    input: notes
    filter: "note LIKE 'blue%' OR note ILIKE '%GREEN' OR note NOT LIKE '%e%'"
  - id: out
    input: kept
    select: [id, note, "substring(note, 2, 3) AS sub", "note LIKE 'r_d%' AS rd", "note LIKE '%!  %' ESCAPE '!' AS sp"]
`
	for _, cfg := range configs {
		t.Run(cfg.String(), func(t *testing.T) {
			sameRows(t, runOpJob(t, dir, steps, cfg, -1), clone(want), false)
		})
	}
}
