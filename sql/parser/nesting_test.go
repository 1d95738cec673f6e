package parser

import (
	"strings"
	"testing"
	"time"
)

// TestNestingCost feeds deeply nested input of the shapes that make a
// backtracking parser slow or a recursive one overflow: each must end,
// parsed or as an *Error, quickly.
func TestNestingCost(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
	}{
		{"parens", "SELECT " + strings.Repeat("(", 5000) + "1" + strings.Repeat(")", 5000)},
		{"unclosed parens", "SELECT " + strings.Repeat("(", 5000)},
		{"from parens", "SELECT * FROM " + strings.Repeat("(", 3000) + "t"},
		{"from parens closed", "SELECT * FROM " + strings.Repeat("(", 300) + "t" + strings.Repeat(")", 300)},
		{"from subqueries failing", "SELECT * FROM " + strings.Repeat("((SELECT * FROM ", 300) + "t WHERE"},
		{"in lists", "SELECT " + strings.Repeat("a IN ((", 500)},
		{"minus", "SELECT " + strings.Repeat("- ", 5000) + "1"},
		{"not", "SELECT " + strings.Repeat("NOT ", 5000) + "1"},
		{"case", "SELECT " + strings.Repeat("CASE WHEN ", 3000)},
		{"scalar subqueries", "SELECT " + strings.Repeat("(SELECT ", 3000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			q, err := Parse(tc.src)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			if err == nil {
				checkRoundTrip(t, tc.src, q)
			} else if _, ok := err.(*Error); !ok {
				t.Errorf("error %T is not *Error: %v", err, err)
			}
		})
	}
}
