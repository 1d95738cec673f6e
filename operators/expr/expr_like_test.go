package expr

import (
	"math/rand/v2"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

// likeRegexp is the reference: the pattern as an anchored regexp.
func likeRegexp(pattern string, esc byte, fold bool) *regexp.Regexp {
	var sb strings.Builder
	sb.WriteString("^(?s)")
	if fold {
		sb.WriteString("(?i)")
	}
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case esc != 0 && c == esc && i+1 < len(pattern):
			i++
			sb.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		case c == '%':
			sb.WriteString(".*")
		case c == '_':
			sb.WriteString(".")
		default:
			sb.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		}
	}
	sb.WriteString("$")
	return regexp.MustCompile(sb.String())
}

func TestLikeMatcher(t *testing.T) {
	tests := []struct {
		pattern string
		esc     byte
		fold    bool
		kind    likeKind
		yes, no []string
	}{
		{"abc", 0, false, likeEqual, []string{"abc"}, []string{"ab", "abcd", "ABC", ""}},
		{"", 0, false, likeEqual, []string{""}, []string{"a"}},
		{"%", 0, false, likeAll, []string{"", "x", "%"}, nil},
		{"%%", 0, false, likeAll, []string{"", "xy"}, nil},
		{"ab%", 0, false, likePrefix, []string{"ab", "abc"}, []string{"a", "xab", "AB"}},
		{"%ab", 0, false, likeSuffix, []string{"ab", "xxab"}, []string{"abx", "b"}},
		{"%ab%", 0, false, likeContains, []string{"ab", "xaby", "aab"}, []string{"a b", "ba"}},
		{"%special%requests%", 0, false, likeSeq, []string{"specialrequests", "x special y requests z"}, []string{"requests special", "special request"}},
		{"a%b%c", 0, false, likeSeq, []string{"abc", "a-b-c", "abbc"}, []string{"ab", "ac", "abcx", "xabc"}},
		{"ab%ba", 0, false, likeSeq, []string{"abba", "ab-ba"}, []string{"aba", "ab"}},
		{"a_c", 0, false, likeGeneral, []string{"abc", "aéc"}, []string{"ac", "abbc"}},
		{"_", 0, false, likeGeneral, []string{"x", "é"}, []string{"", "xy"}},
		{"%a_b%", 0, false, likeGeneral, []string{"axb", "zzaxbzz", "aab_b"}, []string{"ab", "a__xb"}},
		{"__%__", 0, false, likeGeneral, []string{"abcd", "abcde"}, []string{"abc"}},
		{"%_é", 0, false, likeGeneral, []string{"xé", "xyé"}, []string{"é"}},
		{`a\%b`, '\\', false, likeEqual, []string{"a%b"}, []string{"axb", `a\%b`}},
		{`a\_%`, '\\', false, likePrefix, []string{"a_", "a_x"}, []string{"ab"}},
		{`%\\%`, '\\', false, likeContains, []string{`x\y`}, []string{"xy"}},
		{`a!%`, '!', false, likeEqual, []string{"a%"}, []string{"ab"}},
		{"AB%", 0, true, likePrefix, []string{"ab", "Abc", "aBx"}, []string{"xab"}},
		{"%é%", 0, true, likeContains, []string{"É", "aéb"}, []string{"e"}},
		{"A_C", 0, true, likeGeneral, []string{"abc", "AéC"}, []string{"ac"}},
		{"Aa%", 'A', true, likePrefix, []string{"ax", "AX", "aax"}, []string{"bx", ""}},
	}
	for _, tt := range tests {
		m := newLikeMatcher(tt.pattern, tt.esc, tt.fold)
		if m.kind != tt.kind {
			t.Errorf("pattern %q: kind %d, want %d", tt.pattern, m.kind, tt.kind)
		}
		for _, s := range tt.yes {
			if !m.match(s) {
				t.Errorf("%q LIKE %q (escape %q, fold %v) = false, want true", s, tt.pattern, tt.esc, tt.fold)
			}
		}
		for _, s := range tt.no {
			if m.match(s) {
				t.Errorf("%q LIKE %q (escape %q, fold %v) = true, want false", s, tt.pattern, tt.esc, tt.fold)
			}
		}
	}
}

// TestLikeMatcherRandom checks random patterns and values over a small
// alphabet (with a two-byte character) against the regexp reference.
func TestLikeMatcherRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pick := func(alphabet []string, n int) string {
		var sb strings.Builder
		for range n {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return sb.String()
	}
	values := make([]string, 200)
	for i := range values {
		values[i] = pick([]string{"a", "b", "é", "A", "%"}, rng.IntN(7))
	}
	for range 2000 {
		pattern := pick([]string{"a", "b", "é", "%", "_", "!", "B"}, rng.IntN(6))
		if strings.HasSuffix(pattern, "!") && !strings.HasSuffix(pattern, "!!") {
			pattern += "%"
		}
		fold := rng.IntN(3) == 0
		var esc byte
		if rng.IntN(2) == 0 {
			esc = '!'
		}
		m, ref := newLikeMatcher(pattern, esc, fold), likeRegexp(pattern, esc, fold)
		for _, v := range values {
			if got, want := m.match(v), ref.MatchString(v); got != want {
				t.Fatalf("%q LIKE %q (escape %q, fold %v) = %v, want %v (kind %d)", v, pattern, esc, fold, got, want, m.kind)
			}
		}
	}
}

// TestExprLike evaluates LIKE, NOT LIKE and ILIKE over a column with
// NULLs: NULL in, NULL out.
func TestExprLike(t *testing.T) {
	var N any
	schema := spec.Schema{{Name: "s", Type: spec.String}, {Name: "n", Type: spec.Int64}}
	cols := [][]any{
		{"PROMO BRUSHED", nil, "promo x", "", "special packages requests", "a_b"},
		{int64(1), int64(2), nil, int64(4), int64(5), int64(6)},
	}
	tests := []struct {
		expr string
		want []any
	}{
		{"s LIKE 'PROMO%'", []any{true, N, false, false, false, false}},
		{"s NOT LIKE 'PROMO%'", []any{false, N, true, true, true, true}},
		{"s ILIKE 'promo%'", []any{true, N, true, false, false, false}},
		{"s NOT ILIKE '%X'", []any{true, N, false, true, true, true}},
		{"s LIKE '%special%requests%'", []any{false, N, false, false, true, false}},
		{`s LIKE 'a\_b' ESCAPE '\'`, []any{false, N, false, false, false, true}},
		{"s LIKE 'a_b'", []any{false, N, false, false, false, true}},
		{"s LIKE '%'", []any{true, N, true, true, true, true}},
		{"s LIKE ''", []any{false, N, false, true, false, false}},
		{"NULL LIKE 'a'", []any{N, N, N, N, N, N}},
		{"'abc' LIKE 'a%'", []any{true, true, true, true, true, true}},
		{"lower(s) LIKE 'promo %' OR n > 5", []any{true, N, true, false, false, true}},
		{"CAST(n AS string) LIKE '4' AND s LIKE ''", []any{false, false, false, true, false, false}},
		{"CAST(n AS string) LIKE '4' OR s LIKE ''", []any{false, N, N, true, false, false}},
		{"s IS DISTINCT FROM 'promo x'", []any{true, true, false, true, true, true}},
		{"s IS NOT DISTINCT FROM NULL", []any{false, true, false, false, false, false}},
		{"n IS NOT DISTINCT FROM 4", []any{false, false, false, true, false, false}},
		{"substring(s, 1, 5)", []any{"PROMO", N, "promo", "", "speci", "a_b"}},
	}
	mem := optest.Checked(t)
	rec := buildRecord(t, mem, schema, cols)
	defer rec.Release()
	for _, tt := range tests {
		got, _, err := evalString(t, tt.expr, schema, rec, mem)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.expr, got, tt.want)
		}
	}
	for _, bad := range []string{"n LIKE 'a'", "s LIKE s", `s LIKE 'a\' ESCAPE '\'`, "s LIKE 'a' ESCAPE 'ab'"} {
		e, err := spec.ParseExpr(bad)
		if err == nil {
			_, err = spec.TypeOf(e, schema)
		}
		if err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// BenchmarkLike matches 64K strings (TPC-H comment-like text) with each
// pattern shape, and regexp_like for comparison.
func BenchmarkLike(b *testing.B) {
	words := []string{"furiously", "special", "requests", "packages", "carefully", "final", "deposits", "ironic", "PROMO", "brushed"}
	rng := rand.New(rand.NewPCG(9, 9))
	col := make([]any, optest.BatchRows)
	for i := range col {
		var sb strings.Builder
		for k := range 4 + rng.IntN(6) {
			if k > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(words[rng.IntN(len(words))])
		}
		col[i] = sb.String()
	}
	schema := spec.Schema{{Name: "s", Type: spec.String}}
	mem := memory.NewGoAllocator()
	rec := buildRecord(b, mem, schema, [][]any{col})
	defer rec.Release()
	for _, src := range []string{
		"s LIKE 'PROMO%'",
		"s LIKE '%brushed'",
		"s LIKE '%ironic%'",
		"s LIKE '%special%requests%'",
		"s LIKE '%special_requests%'",
		"s ILIKE '%promo%'",
		"regexp_like(s, 'special.*requests')",
	} {
		b.Run(src, func(b *testing.B) {
			e, err := spec.ParseExpr(src)
			if err != nil {
				b.Fatal(err)
			}
			c, err := CompileExpr(e, schema)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				arr, err := c.Eval(rec, mem)
				if err != nil {
					b.Fatal(err)
				}
				arr.Release()
			}
			b.ReportMetric(float64(b.N)*float64(rec.NumRows())/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// TestExprLikeBatch checks LIKE over a batch of short random strings
// (where a batch-wide substring search finds many hits across rows) and
// over slices of it against strings.Contains and the matcher row by row.
func TestExprLikeBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	col := make([]any, 3000)
	for i := range col {
		if rng.IntN(9) == 0 {
			continue // NULL
		}
		var sb strings.Builder
		for range rng.IntN(5) {
			sb.WriteByte("ab"[rng.IntN(2)])
		}
		col[i] = sb.String()
	}
	schema := spec.Schema{{Name: "s", Type: spec.String}}
	mem := optest.Checked(t)
	rec := buildRecord(t, mem, schema, [][]any{col})
	defer rec.Release()
	for _, src := range []string{"s LIKE '%ab%'", "s NOT LIKE '%ba%'", "s LIKE '%a%b'", "s ILIKE '%AB%'"} {
		e, _ := spec.ParseExpr(src)
		like := e.(*spec.Like)
		m := newLikeMatcher(like.Pattern, 0, like.ILike)
		for _, bounds := range [][2]int64{{0, 3000}, {7, 2991}, {1001, 1002}} {
			part := rec.NewSlice(bounds[0], bounds[1])
			got, _, err := evalString(t, src, schema, part, mem)
			part.Release()
			if err != nil {
				t.Fatal(err)
			}
			for i, g := range got {
				var want any
				if v := col[int(bounds[0])+i]; v != nil {
					want = m.match(v.(string)) != like.Not
					if like.Pattern == "%ab%" && want != strings.Contains(v.(string), "ab") {
						t.Fatalf("matcher disagrees with strings.Contains on %q", v)
					}
				}
				if g != want {
					t.Fatalf("%s on rows %v: row %d (%v) = %v, want %v", src, bounds, i, col[int(bounds[0])+i], g, want)
				}
			}
		}
	}
}
