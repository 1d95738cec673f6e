package integration

import (
	"fmt"
	"slices"
	"testing"
)

// TestJoinChain: a broadcast join that reads a hash join (and one that
// reads a broadcast join) gives the right rows in every mode and
// parallelism (issue 11, item 9: the broadcast join used to be chained
// into the hash join's stage, where the subtask cannot run two joins, and
// failed at run time after validate and explain accepted it).
func TestJoinChain(t *testing.T) {
	dir := t.TempDir()
	orders, users := writeOpInputs(t, dir)
	named := joinAnswer(orders, users, "inner")
	want := [][]string{append(append([]string{}, named[0]...), "uid", "alias")}
	for _, row := range named[1:] {
		for _, u := range users {
			if u.user != nil && cell(u.user) == row[1] {
				want = append(want, append(append([]string{}, row...), cell(u.user), u.name))
			}
		}
	}
	for _, firstBroadcast := range []bool{false, true} {
		steps := fmt.Sprintf(`
  - id: named
    join: {left: orders, right: users, on: [user], broadcast: %v}
  - id: aliases
    select: ["user AS uid", "name AS alias"]
    input: users
  - id: out
    join: {left: named, right: aliases, on: ["user = uid"], broadcast: true}
`, firstBroadcast)
		for _, cfg := range []runConfig{{"all-blocking", 1}, {"all-blocking", 3}, {"all-pipelined", 1}, {"all-pipelined", 3}} {
			t.Run(fmt.Sprintf("first-broadcast=%v/%s", firstBroadcast, cfg), func(t *testing.T) {
				got := runOpJob(t, dir, steps, cfg, -1)
				sameRows(t, got, clone(want), false)
			})
		}
	}
}

// TestJoinChainStar: the job of issue 11, item 9 (a hash join whose build
// side is a filter, then a broadcast join on another column against a
// dimension read of its own) and three broadcast joins in a row (the
// third used to chain into the second's stage, headed by that join), at
// parallelism 1 and 3 in both modes.
func TestJoinChainStar(t *testing.T) {
	dir := t.TempDir()
	orders, users := writeOpInputs(t, dir)
	var over10 []opUser
	for _, u := range users {
		if u.user != nil && *u.user > 10 {
			over10 = append(over10, u)
		}
	}
	repro := appendMatches(joinAnswer(orders, over10, "inner"), "amount", users, "uid", "alias")
	three := appendMatches(appendMatches(joinAnswer(orders, users, "inner"),
		"amount", users, "uid", "alias"), "id", users, "iid", "tag")
	cases := []struct {
		name, steps string
		want        [][]string
	}{
		{"hash-then-broadcast", `
  - id: d1f
    input: users
    filter: "user > 10"
  - id: j1
    join: {left: orders, right: d1f, on: [user]}
` + userDim("d2", "uid", "alias") + `
  - id: out
    join: {left: j1, right: d2s, on: ["amount = uid"], broadcast: true}
`, repro},
		{"three-broadcasts", `
  - id: j1
    join: {left: orders, right: users, on: [user], broadcast: true}
` + userDim("d2", "uid", "alias") + `
  - id: j2
    join: {left: j1, right: d2s, on: ["amount = uid"], broadcast: true}
` + userDim("d3", "iid", "tag") + `
  - id: out
    join: {left: j2, right: d3s, on: ["id = iid"], broadcast: true}
`, three},
	}
	for _, c := range cases {
		for _, cfg := range []runConfig{{"all-blocking", 1}, {"all-blocking", 3}, {"all-pipelined", 1}, {"all-pipelined", 3}} {
			t.Run(c.name+"/"+cfg.String(), func(t *testing.T) {
				sameRows(t, runOpJob(t, dir, c.steps, cfg, -1), clone(c.want), false)
			})
		}
	}
}

// userDim is a dimension of its own: users.csv read again as step id,
// its columns renamed by step id+"s" so they do not clash with the fact
// side's.
func userDim(id, key, name string) string {
	return fmt.Sprintf(`
  - id: %[1]s
    read: {path: users.csv, schema: ["user int64", "name string"]}
  - id: %[1]ss
    input: %[1]s
    select: ["user AS %[2]s", "name AS %[3]s"]
`, id, key, name)
}

// appendMatches inner-joins rows (a header, then data) on column col with
// users' keys, appending each match's key and name under the given
// column names; NULL matches nothing.
func appendMatches(rows [][]string, col string, users []opUser, key, name string) [][]string {
	c := slices.Index(rows[0], col)
	out := [][]string{append(append([]string{}, rows[0]...), key, name)}
	for _, row := range rows[1:] {
		for _, u := range users {
			if u.user != nil && row[c] != "" && cell(u.user) == row[c] {
				out = append(out, append(append([]string{}, row...), cell(u.user), u.name))
			}
		}
	}
	return out
}
