package operators

import (
	"bytes"
	"slices"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// The sort is MSD by key column and LSD radix within a column: every key
// value becomes an order-preserving 64-bit word (complemented for a
// descending key), rows are radix-sorted by the words of the first key
// column, and each run of equal words is sorted by the next column. Nulls
// are split off first (stably) so they need no word of their own. String
// words hold the first 7 bytes and min(len, 8), which orders strings of up
// to 7 bytes exactly; runs of longer strings sharing 7 bytes fall back to a
// comparison sort. Every step is stable, so equal rows keep input order.
// Nulls go before or after every value as the key says (nullsFirst),
// whatever its direction.

// keyData is one sort key column flattened over every buffered row.
type keyData struct {
	typ        spec.Type
	desc       bool
	nullsFirst bool
	norm       []uint64 // order-preserving word of each row (complemented if desc)
	null       []bool   // nil when no row is null
	data       []byte   // strings: every row's bytes
	offs       []int    // strings: row i is data[offs[i]:offs[i+1]]
}

// add appends the rows of one batch's key column.
func (kd *keyData) add(v *arrowx.ColView) {
	base := len(kd.norm)
	if v.Nulls > 0 && kd.null == nil {
		kd.null = make([]bool, base, cap(kd.norm))
	}
	if kd.typ == spec.String && kd.offs == nil {
		kd.offs = []int{0}
	}
	for i := 0; i < v.N; i++ {
		var w uint64
		switch kd.typ {
		case spec.Int64:
			w = uint64(v.I64[i]) ^ 1<<63
		case spec.Float64:
			w = floatWord(v.F64[i])
		case spec.Bool:
			if v.BoolAt(i) {
				w = 1
			}
		case spec.String:
			s := v.Str(i)
			w = stringWord(s)
			kd.data = append(kd.data, s...)
			kd.offs = append(kd.offs, len(kd.data))
		}
		if kd.desc {
			w = ^w
		}
		kd.norm = append(kd.norm, w)
	}
	if kd.null != nil {
		for i := 0; i < v.N; i++ {
			kd.null = append(kd.null, v.IsNull(i))
		}
	}
}

// floatWord orders floats as unsigned words: -Inf < ... < -0 = 0 < ... <
// +Inf < NaN.
func floatWord(f float64) uint64 {
	b := floatKey(f)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

// stringWord is the first 7 bytes of s (zero padded), then min(len(s), 8).
func stringWord(s []byte) uint64 {
	var w uint64
	for i := 0; i < 7; i++ {
		w <<= 8
		if i < len(s) {
			w |= uint64(s[i])
		}
	}
	return w<<8 | uint64(min(len(s), 8))
}

func (kd *keyData) str(r uint32) []byte { return kd.data[kd.offs[r]:kd.offs[r+1]] }

// compare orders rows a and b by this key alone, nulls included.
func (kd *keyData) compare(a, b uint32) int { return compareKey(kd, a, kd, b) }

func (kd *keyData) isNull(r uint32) bool { return kd.null != nil && kd.null[r] }

// compareKey orders row a of x and row b of y, two flattenings of the same
// key (the external sort's merge compares rows of different runs).
func compareKey(x *keyData, a uint32, y *keyData, b uint32) int {
	if na, nb := x.isNull(a), y.isNull(b); na || nb {
		switch {
		case na && nb:
			return 0
		case na == x.nullsFirst:
			return -1
		}
		return 1
	}
	if c := cmpWord(x.norm[a], y.norm[b]); c != 0 || x.typ != spec.String {
		return c
	}
	c := bytes.Compare(x.str(a), y.str(b))
	if x.desc {
		return -c
	}
	return c
}

func cmpWord(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// sorter sorts row numbers by a list of keys. k, tk and tr are scratch
// space as long as all rows; hist is the radix histogram.
type sorter struct {
	keys  []*keyData
	k, tk []uint64
	tr    []uint32
	hist  [8][256]int
}

// sortRange stably sorts rows, which are equal on keys [0, c), by keys
// [c, len(keys)).
func (st *sorter) sortRange(rows []uint32, c int) {
	if len(rows) < 2 || c == len(st.keys) {
		return
	}
	kd := st.keys[c]
	if kd.null != nil {
		var nulls []uint32
		nulls, rows = st.splitNulls(rows, kd)
		st.sortRange(nulls, c+1)
	}
	st.sortByWord(rows, kd.norm)
	for i := 0; i < len(rows); {
		w := kd.norm[rows[i]]
		j := i + 1
		for j < len(rows) && kd.norm[rows[j]] == w {
			j++
		}
		if j-i > 1 {
			st.sortTies(rows[i:j], c, w)
		}
		i = j
	}
}

// sortTies sorts a run of rows with equal words of key c.
func (st *sorter) sortTies(run []uint32, c int, w uint64) {
	kd := st.keys[c]
	if kd.desc {
		w = ^w
	}
	if kd.typ != spec.String || w&0xff < 8 {
		st.sortRange(run, c+1) // the word decides equality
		return
	}
	slices.SortStableFunc(run, kd.compare)
	for i := 0; i < len(run); {
		j := i + 1
		for j < len(run) && bytes.Equal(kd.str(run[i]), kd.str(run[j])) {
			j++
		}
		st.sortRange(run[i:j], c+1)
		i = j
	}
}

// splitNulls stably moves the null rows of kd to the front (nulls first)
// or back and returns the null and non-null parts.
func (st *sorter) splitNulls(rows []uint32, kd *keyData) (nulls, vals []uint32) {
	tmp := st.tr[:0]
	for _, r := range rows {
		if !kd.null[r] {
			tmp = append(tmp, r)
		}
	}
	nv := len(tmp)
	for _, r := range rows {
		if kd.null[r] {
			tmp = append(tmp, r)
		}
	}
	if !kd.nullsFirst {
		copy(rows, tmp)
		return rows[nv:], rows[:nv]
	}
	nn := len(rows) - nv
	copy(rows, tmp[nv:])
	copy(rows[nn:], tmp[:nv])
	return rows[:nn], rows[nn:]
}

// sortByWord stably sorts rows by norm[row]: insertion sort when short,
// else an LSD radix sort over the bytes that differ.
func (st *sorter) sortByWord(rows []uint32, norm []uint64) {
	n := len(rows)
	if n <= 32 {
		for i := 1; i < n; i++ {
			r := rows[i]
			w := norm[r]
			j := i
			for ; j > 0 && norm[rows[j-1]] > w; j-- {
				rows[j] = rows[j-1]
			}
			rows[j] = r
		}
		return
	}
	k := st.k[:n]
	for i, r := range rows {
		k[i] = norm[r]
	}
	st.radix(rows, k)
}

func (st *sorter) radix(rows []uint32, k []uint64) {
	n := len(rows)
	h := &st.hist
	*h = [8][256]int{}
	for _, w := range k {
		for b := 0; b < 8; b++ {
			h[b][byte(w>>(8*b))]++
		}
	}
	src, dst := k, st.tk[:n]
	srcR, dstR := rows, st.tr[:n]
	for b := 0; b < 8; b++ {
		shift := uint(8 * b)
		if h[b][byte(k[0]>>shift)] == n {
			continue // every word has the same byte b
		}
		sum := 0
		for i := range h[b] {
			c := h[b][i]
			h[b][i] = sum
			sum += c
		}
		for i, w := range src {
			d := byte(w >> shift)
			p := h[b][d]
			h[b][d]++
			dst[p], dstR[p] = w, srcR[i]
		}
		src, dst = dst, src
		srcR, dstR = dstR, srcR
	}
	if &srcR[0] != &rows[0] {
		copy(rows, srcR)
	}
}

// compareRows orders row a of x and row b of y, two flattenings of the
// same keys, by every key in turn.
// Words decide unless a row may be null or the words of strings tie.
func compareRows(x []*keyData, a uint32, y []*keyData, b uint32) int {
	for k, kx := range x {
		ky := y[k]
		if kx.null == nil && ky.null == nil {
			if c := cmpWord(kx.norm[a], ky.norm[b]); c != 0 {
				return c
			}
			if kx.typ != spec.String {
				continue
			}
		}
		if c := compareKey(kx, a, ky, b); c != 0 {
			return c
		}
	}
	return 0
}

// orderBreaks appends to out, ascending, every row i in [1, n) of keys
// that sorts strictly before row i-1: where an ascending run ends. It
// compares one key column at a time, each over the rows the columns before
// it left tied (tied is scratch space, returned for reuse).
func orderBreaks(keys []*keyData, n int, tied, out []uint32) ([]uint32, []uint32) {
	from := len(out)
	for k, kd := range keys {
		next := tied[:0] // overwrites tied behind the read position
		switch {
		case k == 0 && kd.null == nil && kd.typ != spec.String:
			norm := kd.norm[:n]
			for i := 1; i < n; i++ {
				switch a, b := norm[i-1], norm[i]; {
				case a > b:
					out = append(out, uint32(i))
				case a == b:
					next = append(next, uint32(i))
				}
			}
		case k == 0:
			for i := uint32(1); i < uint32(n); i++ {
				out, next = classifyPair(kd, i, out, next)
			}
		case kd.null == nil && kd.typ != spec.String:
			norm := kd.norm[:n]
			for _, i := range tied {
				switch a, b := norm[i-1], norm[i]; {
				case a > b:
					out = append(out, i)
				case a == b:
					next = append(next, i)
				}
			}
		default:
			for _, i := range tied {
				out, next = classifyPair(kd, i, out, next)
			}
		}
		tied = next
		if len(tied) == 0 {
			break
		}
	}
	if len(keys) > 1 {
		slices.Sort(out[from:])
	}
	return tied, out
}

// classifyPair appends row i to out when it sorts before row i-1 by kd,
// and to tied when they are equal.
func classifyPair(kd *keyData, i uint32, out, tied []uint32) ([]uint32, []uint32) {
	switch c := compareKey(kd, i-1, kd, i); {
	case c > 0:
		out = append(out, i)
	case c == 0:
		tied = append(tied, i)
	}
	return out, tied
}

// rowCopy returns row r of kd as a keyData of one row.
func (kd *keyData) rowCopy(r uint32) *keyData {
	c := &keyData{typ: kd.typ, desc: kd.desc, nullsFirst: kd.nullsFirst, norm: []uint64{kd.norm[r]}}
	if kd.null != nil {
		c.null = []bool{kd.null[r]}
	}
	if kd.typ == spec.String {
		c.data = slices.Clone(kd.str(r))
		c.offs = []int{0, len(c.data)}
	}
	return c
}
