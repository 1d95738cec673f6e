package integration

import (
	"fmt"
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
