package querygen

import (
	"strings"
	"testing"
)

// TestDeterministic: a seed always gives the same query (replays depend
// on it), and different seeds give different queries.
func TestDeterministic(t *testing.T) {
	seen := map[string]bool{}
	for seed := int64(1); seed <= 200; seed++ {
		q := Generate(seed)
		if Generate(seed) != q {
			t.Fatalf("seed %d gives two queries", seed)
		}
		seen[q] = true
	}
	if len(seen) < 190 {
		t.Errorf("200 seeds gave only %d distinct queries", len(seen))
	}
}

// TestCoverage: over the default 200 seeds every construct of the subset
// appears.
func TestCoverage(t *testing.T) {
	var all strings.Builder
	for seed := int64(1); seed <= 200; seed++ {
		all.WriteString(Generate(seed))
	}
	for _, want := range []string{" BETWEEN ", " IN (", " NOT IN (", " IS NULL", " LIKE ", " OR ", "NOT (",
		"\nJOIN ", "\nLEFT JOIN ", ", t", "GROUP BY", "count(*)", "count(DISTINCT ", "sum(", "avg(", "min(", "max(",
		"HAVING", "ORDER BY", "LIMIT", "CASE WHEN", "COALESCE(", "EXISTS (SELECT", "IN (SELECT", "(SELECT count(*)",
		"UNION ALL", "\nINTERSECT\n", "INTERSECT ALL", "\nEXCEPT\n", "EXCEPT ALL", "WITH cte AS", " DESC", "NULLS FIRST", ", NULL)",
		" OVER (PARTITION BY ", "row_number() OVER", "rank() OVER (ORDER BY", "lag(", "ROWS BETWEEN", ") OVER ()"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("no query has %q", want)
		}
	}
}
