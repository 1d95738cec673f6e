package spec

import (
	"fmt"
	"strings"
)

// checkKeyless checks a join without keys: it pairs every left row with
// every right row, so it must broadcast its right input, which rules out
// right and full joins.
func checkKeyless(j *JoinStep) string {
	if len(j.LeftKeys) > 0 || len(j.RightKeys) > 0 {
		return ""
	}
	if j.Type.KeepsUnmatchedRight() {
		return fmt.Sprintf("a %s join needs keys (on): a join without keys broadcasts its right input, which a %s join cannot", j.Type, j.Type)
	}
	if !j.Broadcast {
		return "a join without keys (on) broadcasts its right input: broadcast cannot be false"
	}
	return ""
}

// joinWhere type-checks a join's residual condition over the left
// columns followed by the right ones. A column it reads that both sides
// have is ambiguous, unless it is a right key paired with the left key of
// its name (its value in a key-equal pair is the left one's).
func joinWhere(j *JoinStep, ids []string, left, right Schema, using map[string]bool) string {
	if j.Where == nil {
		return ""
	}
	sch := append(Schema{}, left...)
	for _, f := range right {
		if sch.Index(f.Name) < 0 {
			sch = append(sch, f)
		}
	}
	for _, c := range ExprColumns(j.Where) {
		if left.Index(c) >= 0 && right.Index(c) >= 0 && !using[c] {
			return fmt.Sprintf("join where: column %q is in both inputs (%q and %q): rename it with a select before the join", c, ids[0], ids[1])
		}
	}
	t, err := TypeOf(j.Where, sch)
	if err != nil {
		return "join where: " + strings.TrimPrefix(err.Error(), "spec: ")
	}
	if t != Bool {
		return fmt.Sprintf("join where %s has type %s, want bool", j.Where, t)
	}
	return ""
}
