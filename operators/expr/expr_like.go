package expr

import (
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/batchrun/batchrun/jobs/spec"
)

// LIKE and ILIKE. The pattern is compiled once into a likeMatcher: it is
// split at its unescaped % into segments (the first anchored at the start
// of the value, the last at its end), and the common shapes get a plain
// string search, no regexp: 'abc' is an equality, 'abc%' a prefix, '%abc'
// a suffix, '%abc%' a substring search (strings.Index), and 'a%b%c' or
// '%a%b%' a prefix, a suffix and a leftmost strings.Index of each middle
// segment in turn, which is exact because % matches any run. Segments
// holding _ (one character, a rune) go to the general matcher: the same
// plan, with each segment matched part by part (literal runs, runs of _)
// and a middle segment searched from its leftmost possible start (the
// leftmost match of a segment of fixed length in characters also ends
// first, so taking it never loses a match). ILIKE lower-cases the pattern
// once and each value into a reused buffer (rune by rune, so _ still
// counts characters). No row allocates.

// likeKind is the shape of a compiled pattern.
type likeKind uint8

const (
	likeAll      likeKind = iota // only %: every value
	likeEqual                    // no wildcard
	likePrefix                   // lit%
	likeSuffix                   // %lit
	likeContains                 // %lit%
	likeSeq                      // literal segments around %
	likeGeneral                  // segments with _
)

// likePart is a literal run of a segment, or (lit "") a run of any
// single-character wildcards (_).
type likePart struct {
	lit  string
	anyN int
}

// likeSeg is the pattern between two %: literal text and _ wildcards.
type likeSeg struct {
	parts []likePart
	runes int // its length in characters
}

func (g *likeSeg) literal() (string, bool) {
	switch len(g.parts) {
	case 0:
		return "", true
	case 1:
		return g.parts[0].lit, g.parts[0].anyN == 0
	}
	return "", false
}

// likeMatcher is a compiled LIKE pattern.
type likeMatcher struct {
	kind        likeKind
	first, last likeSeg   // anchored at the start and the end (maybe empty)
	mids        []likeSeg // the non-empty segments between
	whole       bool      // no %: first is the whole pattern
	lit         string    // likeEqual, likePrefix, likeSuffix, likeContains
	lits        []string  // likeSeq: the middle segments
	minLen      int       // bytes a matching value has at least (literals only)
	fold        bool      // ILIKE
	buf         []byte    // ILIKE: the lower-cased value
}

// newLikeMatcher compiles pattern with escape character esc (0: none).
// With fold the match ignores case.
func newLikeMatcher(pattern string, esc byte, fold bool) *likeMatcher {
	m := &likeMatcher{fold: fold}
	segs := splitLike(pattern, esc)
	if fold { // lower-case the literals (the same number of characters)
		for _, g := range segs {
			for i, p := range g.parts {
				g.parts[i].lit = string(appendLower(nil, p.lit))
			}
		}
	}
	m.first, m.last = segs[0], segs[len(segs)-1]
	m.whole = len(segs) == 1
	for _, g := range segs[1:max(len(segs)-1, 1)] {
		if len(g.parts) > 0 {
			m.mids = append(m.mids, g)
		}
	}
	m.classify()
	return m
}

// splitLike splits a pattern at its unescaped %, each piece into parts.
func splitLike(pattern string, esc byte) []likeSeg {
	segs := []likeSeg{{}}
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			g := &segs[len(segs)-1]
			g.parts = append(g.parts, likePart{lit: string(lit)})
			g.runes += utf8.RuneCount(lit)
			lit = lit[:0]
		}
	}
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case esc != 0 && c == esc && i+1 < len(pattern):
			i++
			lit = append(lit, pattern[i])
		case c == '%':
			flush()
			segs = append(segs, likeSeg{})
		case c == '_':
			flush()
			g := &segs[len(segs)-1]
			if n := len(g.parts); n > 0 && g.parts[n-1].lit == "" {
				g.parts[n-1].anyN++
			} else {
				g.parts = append(g.parts, likePart{anyN: 1})
			}
			g.runes++
		default:
			lit = append(lit, c)
		}
	}
	flush()
	return segs
}

// classify picks the shape: literal-only patterns get string searches.
func (m *likeMatcher) classify() {
	first, okF := m.first.literal()
	last, okL := m.last.literal()
	lits, ok := []string(nil), okF && okL
	for _, g := range m.mids {
		s, okM := g.literal()
		lits, ok = append(lits, s), ok && okM
	}
	switch {
	case !ok:
		m.kind = likeGeneral
	case m.whole:
		m.kind, m.lit = likeEqual, first
	case first == "" && last == "" && len(lits) == 0:
		m.kind = likeAll
	case last == "" && len(lits) == 0:
		m.kind, m.lit = likePrefix, first
	case first == "" && len(lits) == 0:
		m.kind, m.lit = likeSuffix, last
	case first == "" && last == "" && len(lits) == 1:
		m.kind, m.lit = likeContains, lits[0]
	default:
		m.kind, m.lits = likeSeq, lits
		m.minLen = len(first) + len(last)
		for _, s := range lits {
			m.minLen += len(s)
		}
	}
}

// match reports whether s matches the pattern.
func (m *likeMatcher) match(s string) bool {
	if m.fold {
		m.buf = appendLower(m.buf[:0], s)
		s = unsafe.String(unsafe.SliceData(m.buf), len(m.buf))
	}
	switch m.kind {
	case likeAll:
		return true
	case likeEqual:
		return s == m.lit
	case likePrefix:
		return strings.HasPrefix(s, m.lit)
	case likeSuffix:
		return strings.HasSuffix(s, m.lit)
	case likeContains:
		return strings.Contains(s, m.lit)
	case likeSeq:
		return m.matchSeq(s)
	}
	return m.matchGeneral(s)
}

// matchSeq matches literal segments: the prefix, then the suffix of what
// is left (so that they do not overlap), then each middle segment at its
// leftmost place in between.
func (m *likeMatcher) matchSeq(s string) bool {
	if len(s) < m.minLen {
		return false
	}
	first, _ := m.first.literal()
	last, _ := m.last.literal()
	if !strings.HasPrefix(s, first) || !strings.HasSuffix(s[len(first):], last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, lit := range m.lits {
		i := strings.Index(s, lit)
		if i < 0 {
			return false
		}
		s = s[i+len(lit):]
	}
	return true
}

// matchGeneral matches segments with _ wildcards.
func (m *likeMatcher) matchGeneral(s string) bool {
	end, ok := m.first.matchAt(s, 0)
	if !ok {
		return false
	}
	if m.whole {
		return end == len(s)
	}
	// The last segment has a fixed length in characters: it can only
	// start that many characters before the end.
	from := len(s)
	for range m.last.runes {
		if from <= end {
			return false
		}
		_, size := utf8.DecodeLastRuneInString(s[:from])
		from -= size
	}
	if from < end {
		return false
	}
	if e, ok := m.last.matchAt(s, from); !ok || e != len(s) {
		return false
	}
	s = s[:from]
	for i := range m.mids {
		if end, ok = m.mids[i].find(s, end); !ok {
			return false
		}
	}
	return true
}

// matchAt matches the segment at byte pos of s and returns where it ends.
func (g *likeSeg) matchAt(s string, pos int) (int, bool) {
	for _, p := range g.parts {
		if p.anyN == 0 {
			if !strings.HasPrefix(s[pos:], p.lit) {
				return 0, false
			}
			pos += len(p.lit)
			continue
		}
		for range p.anyN {
			if pos >= len(s) {
				return 0, false
			}
			if s[pos] < utf8.RuneSelf {
				pos++
			} else {
				_, size := utf8.DecodeRuneInString(s[pos:])
				pos += size
			}
		}
	}
	return pos, true
}

// find matches the segment at its leftmost place at or after byte from
// (a character boundary) and returns where that match ends.
func (g *likeSeg) find(s string, from int) (int, bool) {
	lead := g.parts[0].lit // a literal start is searched for directly
	for from <= len(s) {
		if lead != "" {
			i := strings.Index(s[from:], lead)
			if i < 0 {
				return 0, false
			}
			from += i
		}
		if end, ok := g.matchAt(s, from); ok {
			return end, true
		}
		if from == len(s) {
			break
		}
		_, size := utf8.DecodeRuneInString(s[from:])
		from += size
	}
	return 0, false
}

// appendLower appends s lower-cased rune by rune (ASCII fast path).
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			for _, r := range s[i:] {
				dst = utf8.AppendRune(dst, unicode.ToLower(r))
			}
			return dst
		}
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func (c *exprCompiler) compileLike(e *spec.Like) (exprNode, error) {
	x, err := c.compile(e.X, spec.String)
	if err != nil {
		return nil, err
	}
	return &likeNode{x: x, m: newLikeMatcher(e.Pattern, e.Escape, e.ILike), not: e.Not}, nil
}

// likeNode is x [NOT] LIKE|ILIKE pattern; NULL x gives NULL.
type likeNode struct {
	x   exprNode
	m   *likeMatcher
	not bool
}

func (n *likeNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	x, err := n.x.eval(b, care)
	if err != nil || x.isNullC() {
		return x, err
	}
	defer x.release()
	if x.isConst() {
		return constVec(exprConst{valid: true, b: n.m.match(x.c.s) != n.not}), nil
	}
	offs, data := stringParts(x.arr)
	valid := b.validBits(x)
	buf, bits := b.allocBits(0)
	if n.m.kind == likeContains && !n.m.fold {
		containsRows(offs, data, n.m.lit, bits, b.n)
		if n.not {
			for i := range bits {
				bits[i] = ^bits[i]
			}
		}
		return arrVec(b.newArray(spec.Bool, b.validity(x.arr), buf)), nil
	}
	for i := 0; i < b.n; i++ {
		if (valid == nil || testBit(valid, i)) && n.m.match(strRow(offs, data, i)) != n.not {
			bits[i>>3] |= 1 << (uint(i) & 7)
		}
	}
	return arrVec(b.newArray(spec.Bool, b.validity(x.arr), buf)), nil
}

// containsRows sets bit i for each of the n rows that holds lit, with one
// search over the batch's string data instead of one per row: a hit that
// crosses into the next row is not one, and after a hit the search
// resumes at the next row. The value bits of NULL rows are don't-care.
func containsRows(offs []int32, data []byte, lit string, bits []byte, n int) {
	if lit == "" || n == 0 {
		return
	}
	end := int(offs[n])
	s := unsafe.String(unsafe.SliceData(data), len(data))[:end]
	row, pos := 0, int(offs[0])
	for pos < end {
		i := strings.Index(s[pos:], lit)
		if i < 0 {
			return
		}
		at := pos + i
		for int(offs[row+1]) <= at {
			row++
		}
		if at+len(lit) <= int(offs[row+1]) {
			bits[row>>3] |= 1 << (uint(row) & 7)
			pos = int(offs[row+1])
			row++
			continue
		}
		pos = at + 1
	}
}
