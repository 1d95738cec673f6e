package formats

import (
	"fmt"
	"slices"
	"testing"
)

func spansString(splits [][]Span) string {
	s := ""
	for k, sp := range splits {
		if k > 0 {
			s += " | "
		}
		for i, x := range sp {
			if i > 0 {
				s += " "
			}
			s += fmt.Sprintf("f%d[%d,%d)", x.File, x.Start, x.End)
		}
	}
	return s
}

func TestSplits(t *testing.T) {
	for _, tc := range []struct {
		sizes []int64
		n     int
		want  string
	}{
		{[]int64{100}, 1, "f0[0,100)"},
		{[]int64{100}, 4, "f0[0,25) | f0[25,50) | f0[50,75) | f0[75,100)"},
		{[]int64{10, 10}, 2, "f0[0,10) | f1[0,10)"},
		{[]int64{10, 30}, 2, "f0[0,10) f1[0,10) | f1[10,30)"},
		{[]int64{30, 10}, 4, "f0[0,10) | f0[10,20) | f0[20,30) | f1[0,10)"},
		{[]int64{5, 5, 5}, 2, "f0[0,5) f1[0,2) | f1[2,5) f2[0,5)"},
		{[]int64{3}, 5, " | f0[0,1) |  | f0[1,2) | f0[2,3)"},
		{[]int64{0, 10, 0}, 2, "f0[0,0) f1[0,5) | f1[5,10) f2[0,0)"},
		{[]int64{0}, 3, " |  | f0[0,0)"},
		{nil, 2, " | "},
	} {
		got := spansString(Splits(tc.sizes, tc.n))
		if got != tc.want {
			t.Errorf("Splits(%v, %d) = %s, want %s", tc.sizes, tc.n, got, tc.want)
		}
	}
}

// TestSplitsCover checks on many inputs that the spans of all splits cover
// every byte of every file exactly once, in order, and that each split's
// bytes are within one of total/n.
func TestSplitsCover(t *testing.T) {
	for seed := 0; seed < 300; seed++ {
		nf, n := 1+seed%5, 1+seed%7
		sizes := make([]int64, nf)
		var total int64
		for i := range sizes {
			sizes[i] = int64((seed*7919 + i*104729) % 97)
			total += sizes[i]
		}
		next := make([]int64, nf)
		for k, sp := range Splits(sizes, n) {
			var bytes int64
			for _, x := range sp {
				if x.Start != next[x.File] || x.End < x.Start || x.End > sizes[x.File] {
					t.Fatalf("Splits(%v, %d): split %d span %+v does not continue at %d", sizes, n, k, x, next[x.File])
				}
				next[x.File] = x.End
				bytes += x.End - x.Start
			}
			if lo, hi := total/int64(n), total/int64(n)+1; bytes < lo || bytes > hi {
				t.Errorf("Splits(%v, %d): split %d has %d bytes, want %d..%d", sizes, n, k, bytes, lo, hi)
			}
		}
		if !slices.Equal(next, sizes) {
			t.Errorf("Splits(%v, %d) covers %v", sizes, n, next)
		}
	}
}

// TestSplitFiles: a whole (compressed) file is one span [0, size) of the
// split its midpoint falls in; splittable files are cut as by Splits.
func TestSplitFiles(t *testing.T) {
	for _, tc := range []struct {
		sizes []int64
		whole []bool
		n     int
		want  string
	}{
		{[]int64{100}, []bool{true}, 1, "f0[0,100)"},
		{[]int64{100}, []bool{true}, 4, " |  | f0[0,100) | "},
		{[]int64{100}, []bool{false}, 2, "f0[0,50) | f0[50,100)"},
		{[]int64{10, 10, 10, 10}, []bool{true, true, true, true}, 4, "f0[0,10) | f1[0,10) | f2[0,10) | f3[0,10)"},
		{[]int64{10, 10, 10, 10}, []bool{true, true, true, true}, 2, "f0[0,10) f1[0,10) | f2[0,10) f3[0,10)"},
		{[]int64{100, 1, 1, 1}, []bool{true, true, true, true}, 2, "f0[0,100) | f1[0,1) f2[0,1) f3[0,1)"},
		{[]int64{60, 100}, []bool{true, false}, 2, "f0[0,60) f1[0,20) | f1[20,100)"},
		{[]int64{100, 20}, []bool{false, true}, 2, "f0[0,60) | f0[60,100) f1[0,20)"},
		{[]int64{10, 100, 10}, []bool{false, true, false}, 3, "f0[0,10) | f1[0,100) | f2[0,10)"},
		{[]int64{100, 300}, []bool{true}, 4, "f0[0,100) | f1[0,100) | f1[100,200) | f1[200,300)"},
		{[]int64{0, 10}, []bool{true, true}, 2, "f0[0,0) | f1[0,10)"},
	} {
		got := spansString(SplitFiles(tc.sizes, tc.whole, tc.n))
		if got != tc.want {
			t.Errorf("SplitFiles(%v, %v, %d) = %s, want %s", tc.sizes, tc.whole, tc.n, got, tc.want)
		}
	}
}

// TestSplitFilesCover checks on many inputs with whole files that every
// file is covered exactly once, in order (so splits are contiguous runs of
// the input), a whole file by one span, and that each split's bytes are
// within the largest whole file of total/n.
func TestSplitFilesCover(t *testing.T) {
	for seed := 0; seed < 500; seed++ {
		nf, n := 1+seed%6, 1+seed%7
		sizes, whole := make([]int64, nf), make([]bool, nf)
		var total, maxWhole int64
		for i := range sizes {
			sizes[i] = int64((seed*7919 + i*104729) % 97)
			whole[i] = (seed>>1+i)%3 == 0
			total += sizes[i]
			if whole[i] {
				maxWhole = max(maxWhole, sizes[i])
			}
		}
		next := make([]int64, nf)
		last := -1
		for k, sp := range SplitFiles(sizes, whole, n) {
			var bytes int64
			for _, x := range sp {
				if x.File < last || x.Start != next[x.File] || x.End < x.Start || x.End > sizes[x.File] {
					t.Fatalf("SplitFiles(%v, %v, %d): split %d span %+v does not continue at %d", sizes, whole, n, k, x, next[x.File])
				}
				if whole[x.File] && (x.Start != 0 || x.End != sizes[x.File]) {
					t.Fatalf("SplitFiles(%v, %v, %d): split %d cuts whole file %d: %+v", sizes, whole, n, k, x.File, x)
				}
				last, next[x.File] = x.File, x.End
				bytes += x.End - x.Start
			}
			if lo, hi := total/int64(n)-maxWhole, total/int64(n)+1+maxWhole; bytes < lo || bytes > hi {
				t.Errorf("SplitFiles(%v, %v, %d): split %d has %d bytes, want %d..%d", sizes, whole, n, k, bytes, lo, hi)
			}
		}
		if !slices.Equal(next, sizes) {
			t.Errorf("SplitFiles(%v, %v, %d) covers %v", sizes, whole, n, next)
		}
	}
}

func TestAssignUnits(t *testing.T) {
	for _, tc := range []struct {
		weights []int64
		n       int
		want    []int
	}{
		{[]int64{10, 10, 10, 10}, 2, []int{0, 0, 1, 1}},
		{[]int64{10, 10, 10, 10}, 4, []int{0, 1, 2, 3}},
		{[]int64{10, 10, 10, 10}, 1, []int{0, 0, 0, 0}},
		{[]int64{100, 1, 1, 1}, 2, []int{0, 1, 1, 1}},
		{[]int64{1, 1, 1, 100}, 2, []int{0, 0, 0, 1}},
		{[]int64{10, 10}, 4, []int{1, 3}},
		{[]int64{0, 0, 0}, 3, []int{0, 1, 2}},
		{nil, 3, []int{}},
	} {
		if got := AssignUnits(tc.weights, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("AssignUnits(%v, %d) = %v, want %v", tc.weights, tc.n, got, tc.want)
		}
	}
}
