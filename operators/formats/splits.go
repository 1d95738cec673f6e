package formats

// Span is the byte range [Start, End) of file File (an index into the
// scan's file list) that one split reads. For line formats the reader
// aligns both ends to line starts (see Splits).
type Span struct {
	File       int
	Start, End int64
}

// Splits plans the splits of a line-format input (CSV, JSON lines): the
// files, concatenated in order, are cut into n byte ranges of nearly equal
// size, split k covering the concatenated bytes [total*k/n,
// total*(k+1)/n). Each range is then cut at file borders, so a span never
// covers two files and a split may hold spans of several files (a whole
// file is one span). An empty file is a span [0, 0) of the split its offset
// falls in (so a CSV reader still checks its header). It is pure and
// deterministic: every subtask computes the same plan and reads its own
// entry.
//
// Readers align spans to lines: a span starting at s > 0 starts just past
// the first newline at or after s, and one ending at e < size ends just
// past the first newline at or after e. Two spans meeting at p agree on
// where the line at p goes, so every line is read exactly once.
func Splits(sizes []int64, n int) [][]Span { return SplitFiles(sizes, nil, n) }

// SplitFiles is Splits where whole[f] marks file f unsplittable (a
// compressed file, which has no byte offsets to start reading at): it is
// one span [0, size) of the split its midpoint falls in, as AssignUnits
// places units, so the splits stay contiguous runs in file order and each
// split's bytes are within about the largest whole file of total/n. whole
// may be nil or shorter than sizes (the rest are splittable).
func SplitFiles(sizes []int64, whole []bool, n int) [][]Span {
	out := make([][]Span, n)
	if n < 1 {
		return out
	}
	var total int64
	for _, s := range sizes {
		total += s
	}
	bound := func(k int) int64 { return total/int64(n)*int64(k) + total%int64(n)*int64(k)/int64(n) }
	var off int64 // offset of file f in the concatenation
	k := 0
	for f, size := range sizes {
		if size == 0 || f < len(whole) && whole[f] {
			// The split that holds the midpoint off+size/2 (doubled to stay exact).
			for k < n-1 && 2*bound(k+1) <= 2*off+size {
				k++
			}
			out[k] = append(out[k], Span{File: f, End: size})
			off += size
			continue
		}
		for pos := off; pos < off+size; {
			for k < n-1 && bound(k+1) <= pos {
				k++
			}
			end := off + size
			if k < n-1 {
				end = min(end, bound(k+1))
			}
			out[k] = append(out[k], Span{File: f, Start: pos - off, End: end - off})
			pos = end
		}
		off += size
	}
	return out
}

// AssignUnits plans the splits of an input made of indivisible units
// (Parquet row groups), given each unit's weight (its bytes): unit i goes
// to the split its weight's midpoint falls in when the weights are laid
// end to end and cut into n equal ranges. So each split gets a contiguous
// run of units, the runs are in order, and their weights are nearly equal
// when units are small against total/n. Zero total weight assigns by
// count. Pure and deterministic.
func AssignUnits(weights []int64, n int) []int {
	out := make([]int, len(weights))
	if n <= 1 || len(weights) == 0 {
		return out
	}
	var total int64
	for _, w := range weights {
		total += max(w, 0)
	}
	var off int64
	for i, w := range weights {
		w = max(w, 0)
		if total == 0 {
			out[i] = i * n / len(weights)
			continue
		}
		// In float64 to stay clear of int64 overflow; deterministic.
		mid := (float64(off) + float64(w)/2) / float64(total)
		out[i] = min(int(mid*float64(n)), n-1)
		off += w
	}
	return out
}
