package compare

import (
	"fmt"
	"slices"
	"strings"
)

// maxShown bounds the rows a diff prints of each side.
const maxShown = 10

// compareOrdered checks g (batchrun's rows) against w (DuckDB's) under ord.
//
// The method needs DuckDB's answer only, not SQL's ordering rules: w is in a
// valid order, so split it into groups, the maximal runs of consecutive rows
// equal on the key columns. Every valid order of the same rows has the same
// groups, in the same order, with the same sizes (keys never decrease, so
// equal keys are contiguous); only rows inside a group may be permuted. So
// g is accepted when, for each group w[s:e], g[s:e] is the same multiset of
// rows. Collations, DESC and NULLS FIRST/LAST never need to be evaluated
// here: DuckDB's answer already shows them. Keys equal within the Double
// tolerance are tied, since either side's sum may differ in its last bits.
//
// Under LIMIT the last group may have been cut anywhere among its tied
// rows, and under OFFSET the first, so those are checked on their keys
// only. When an ORDER BY item is not an output column the keys are the
// items before it: the groups are coarser, which accepts every valid order
// and checks less. Without ORDER BY, all rows form one group: a multiset.
func compareOrdered(w, g rows, ord Order) error {
	groups := tieGroups(w, ord.Keys)
	for gi, grp := range groups {
		s, e := grp[0], grp[1]
		cut := (ord.Limit && gi == len(groups)-1) || (ord.Offset && gi == 0)
		if cut {
			for i := s; i < e; i++ {
				if !keysEqual(w.kinds, ord.Keys, w.cells[s], g.cells[i]) {
					return fmt.Errorf("row %d: batchrun's ORDER BY keys %s differ from DuckDB's %s (rows %d..%d are tied and cut by LIMIT/OFFSET)\n%s",
						i+1, formatKeys(g.raw[i], ord.Keys), formatKeys(w.raw[s], ord.Keys), s+1, e, sideBySide(w, g, s))
				}
			}
			continue
		}
		if d := multisetDiff(w.slice(s, e), g.slice(s, e)); d != "" {
			if !ord.Ordered {
				return fmt.Errorf("rows differ (no ORDER BY: compared as a multiset):\n%s", d)
			}
			where := fmt.Sprintf("row %d differs", s+1)
			if e-s > 1 {
				where = fmt.Sprintf("rows %d..%d differ (tied on ORDER BY keys %s, so in any order among themselves)", s+1, e, keyNames(ord.Keys))
			}
			return fmt.Errorf("%s:\n%s%s", where, d, sideBySide(w, g, s))
		}
	}
	return nil
}

// tieGroups splits w into [start, end) runs of rows equal on keys (each
// compared with the run's first row).
func tieGroups(w rows, keys []int) [][2]int {
	var groups [][2]int
	for s := 0; s < len(w.cells); {
		e := s + 1
		for e < len(w.cells) && keysEqual(w.kinds, keys, w.cells[s], w.cells[e]) {
			e++
		}
		groups = append(groups, [2]int{s, e})
		s = e
	}
	return groups
}

func (r rows) slice(s, e int) rows {
	return rows{kinds: r.kinds, raw: r.raw[s:e], cells: r.cells[s:e]}
}

// multisetDiff is "" when w and g hold the same rows, counting duplicates;
// otherwise the rows only one side has (sorted, then merged).
func multisetDiff(w, g rows) string {
	wi, gi := w.sortedIndex(), g.sortedIndex()
	var onlyW, onlyG []int
	for i, j := 0, 0; i < len(wi) || j < len(gi); {
		c := 0
		switch {
		case i == len(wi):
			c = 1
		case j == len(gi):
			c = -1
		default:
			c = cmpRow(w.kinds, w.cells[wi[i]], g.cells[gi[j]])
		}
		switch {
		case c < 0:
			onlyW = append(onlyW, wi[i])
			i++
		case c > 0:
			onlyG = append(onlyG, gi[j])
			j++
		default:
			i, j = i+1, j+1
		}
	}
	if len(onlyW) == 0 && len(onlyG) == 0 {
		return ""
	}
	var b strings.Builder
	listRows(&b, "only in DuckDB", w.raw, onlyW)
	listRows(&b, "only in batchrun", g.raw, onlyG)
	return b.String()
}

func (r rows) sortedIndex() []int {
	idx := make([]int, len(r.cells))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmpRow(r.kinds, r.cells[a], r.cells[b]) })
	return idx
}

func listRows(b *strings.Builder, title string, raw [][]Value, idx []int) {
	if len(idx) == 0 {
		return
	}
	plural := "s"
	if len(idx) == 1 {
		plural = ""
	}
	fmt.Fprintf(b, "  %s (%d row%s):\n", title, len(idx), plural)
	for n, i := range idx {
		if n == maxShown {
			fmt.Fprintf(b, "    ...\n")
			break
		}
		fmt.Fprintf(b, "    %s\n", FormatRow(raw[i]))
	}
}

// sideBySide prints both sides' rows from s on (up to maxShown), in the
// order each gave them; * marks the rows that differ.
func sideBySide(w, g rows, s int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  in order, from row %d:\n", s+1)
	for i := s; i < len(w.raw) && i < s+maxShown; i++ {
		mark := " "
		if cmpRow(w.kinds, w.cells[i], g.cells[i]) != 0 {
			mark = "*"
		}
		fmt.Fprintf(&b, "  %s %4d DuckDB   %s\n", mark, i+1, FormatRow(w.raw[i]))
		fmt.Fprintf(&b, "  %s %4d batchrun %s\n", mark, i+1, FormatRow(g.raw[i]))
	}
	return b.String()
}

func formatKeys(row []Value, keys []int) string {
	vals := make([]Value, len(keys))
	for i, k := range keys {
		vals[i] = row[k]
	}
	return FormatRow(vals)
}

func keyNames(keys []int) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("#%d", k+1)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
