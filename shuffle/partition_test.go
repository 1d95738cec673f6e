package shuffle

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// keyRecord builds a record of one key column from Go values (nil = null).
func keyRecord(mem memory.Allocator, typ arrow.DataType, vals ...any) arrow.Record {
	b := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{{Name: "k", Type: typ, Nullable: true}}, nil))
	defer b.Release()
	for _, v := range vals {
		switch v := v.(type) {
		case nil:
			b.Field(0).AppendNull()
		case int64:
			b.Field(0).(*array.Int64Builder).Append(v)
		case float64:
			b.Field(0).(*array.Float64Builder).Append(v)
		case string:
			b.Field(0).(*array.StringBuilder).Append(v)
		case bool:
			b.Field(0).(*array.BooleanBuilder).Append(v)
		}
	}
	return b.NewRecord()
}

// TestHashStable pins HashRows: which consumer a row goes to must not
// change between processes, runs or versions (a resumed run reads
// partitions an earlier process wrote).
func TestHashStable(t *testing.T) {
	mem := checked(t)
	cases := []struct {
		typ  arrow.DataType
		vals []any
		want []uint64
	}{
		{arrow.PrimitiveTypes.Int64, []any{int64(0), int64(1), int64(-1), int64(42), nil},
			[]uint64{0x9ca066f1a4ab2eea, 0x8d8c0f1935b22218, 0xc90421872aaed907, 0x14726409f9e6463f, 0x5b2743933ebe4033}},
		{arrow.PrimitiveTypes.Float64, []any{0.0, math.Copysign(0, -1), 1.5, math.NaN(), nil},
			[]uint64{0x9ca066f1a4ab2eea, 0x9ca066f1a4ab2eea, 0xbc0b456e9c3387c3, 0x9e22e91d1c6e3c8c, 0x5b2743933ebe4033}},
		{arrow.BinaryTypes.String, []any{"", "a", "hello", nil},
			[]uint64{0xa8c92874e0099a8c, 0xd0710cd09c17937f, 0xe272086dc60a402c, 0x5b2743933ebe4033}},
		{arrow.FixedWidthTypes.Boolean, []any{false, true, nil},
			[]uint64{0xa38df66ae6364b79, 0x18f97d1909dc1dd2, 0x5b2743933ebe4033}},
	}
	for _, c := range cases {
		rec := keyRecord(mem, c.typ, c.vals...)
		got, err := HashRows(rec, []int{0}, nil)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("HashRows(%s %v) = %#x, want %#x", c.typ, c.vals[i], got[i], c.want[i])
			}
		}
	}
}

func TestHashMultiColumn(t *testing.T) {
	mem := checked(t)
	rec := genAllTypes(mem, 0, 2000, 0)
	defer rec.Release()
	ab, err := HashRows(rec, []int{0, 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ba, _ := HashRows(rec, []int{2, 0}, nil)
	a, _ := HashRows(rec, []int{0}, nil)
	seen := map[uint64]bool{}
	for i := range ab {
		if ab[i] == ba[i] || ab[i] == a[i] {
			t.Fatalf("row %d: (i,s), (s,i) and (i) hash alike: %#x %#x %#x", i, ab[i], ba[i], a[i])
		}
		seen[ab[i]] = true
	}
	if len(seen) != len(ab) {
		t.Errorf("%d distinct hashes for %d distinct keys", len(seen), len(ab))
	}
	// A slice hashes like the same rows of the whole record.
	sl := rec.NewSlice(100, 200)
	defer sl.Release()
	part, _ := HashRows(sl, []int{0, 2}, nil)
	for i := range part {
		if part[i] != ab[100+i] {
			t.Fatalf("slice row %d: %#x, want %#x", i, part[i], ab[100+i])
		}
	}
	if _, err := HashRows(rec, []int{5}, nil); err == nil {
		t.Error("hashing a timestamp column succeeded")
	}
}

// TestHashSpread: distinct keys spread evenly over consumers, and equal
// keys in different records go to the same consumer.
func TestHashSpread(t *testing.T) {
	mem := checked(t)
	const n, consumers = 80000, 8
	ints := make([]any, n)
	strs := make([]any, n)
	for i := range ints {
		ints[i] = int64(i)
		strs[i] = fmt.Sprintf("key-%d", i)
	}
	for _, keys := range []struct {
		typ  arrow.DataType
		vals []any
	}{{arrow.PrimitiveTypes.Int64, ints}, {arrow.BinaryTypes.String, strs}} {
		rec := keyRecord(mem, keys.typ, keys.vals...)
		var r1, r2 Route
		if err := Hash("k").Route(rec, consumers, &r1); err != nil {
			t.Fatal(err)
		}
		counts := make([]int, consumers)
		for _, c := range r1.Targets {
			counts[c]++
		}
		for c, k := range counts {
			if k < n/consumers*9/10 || k > n/consumers*11/10 {
				t.Errorf("consumer %d got %d of %d keys", c, k, n)
			}
		}
		sl := rec.NewSlice(1000, 3000)
		if err := Hash("k").Route(sl, consumers, &r2); err != nil {
			t.Fatal(err)
		}
		for i, c := range r2.Targets {
			if c != r1.Targets[1000+i] {
				t.Fatalf("row %d: consumer %d in a slice, %d in the whole record", 1000+i, c, r1.Targets[1000+i])
			}
		}
		sl.Release()
		rec.Release()
	}
}

func TestWholeRoutes(t *testing.T) {
	mem := checked(t)
	rec := genAllTypes(mem, 0, 10, 0)
	defer rec.Release()
	cases := []struct {
		p    Partitioner
		kind RouteKind
		cons int
	}{
		{Forward(), RouteOne, 0},
		{Global(), RouteOne, 0},
		{Broadcast(), RouteAll, 0},
	}
	for _, c := range cases {
		var r Route
		if err := c.p.Route(rec, 4, &r); err != nil || r.Kind != c.kind || r.Consumer != c.cons {
			t.Errorf("%s.Route = kind %d consumer %d (%v), want kind %d consumer %d", c.p, r.Kind, r.Consumer, err, c.kind, c.cons)
		}
	}
}

func TestRebalance(t *testing.T) {
	const n = 5
	starts := map[int]bool{}
	for seed := uint64(0); seed < 20; seed++ {
		p := Rebalance(seed)
		var r Route
		var got []int
		for i := 0; i < 2*n; i++ {
			p.Route(nil, n, &r)
			got = append(got, r.Consumer)
		}
		starts[got[0]] = true
		for i := range got {
			if got[i] != (got[0]+i)%n {
				t.Fatalf("seed %d: consumers %v are not round robin", seed, got)
			}
		}
		again := Rebalance(seed)
		again.Route(nil, n, &r)
		if r.Consumer != got[0] {
			t.Errorf("seed %d: start %d then %d", seed, got[0], r.Consumer)
		}
	}
	if len(starts) < 3 {
		t.Errorf("20 seeds gave only starts %v", starts)
	}
}

func TestRandomRoute(t *testing.T) {
	mem := checked(t)
	rec := genAllTypes(mem, 0, 10000, 0)
	defer rec.Release()
	var r1, r2 Route
	Random(rand.New(rand.NewPCG(1, 2))).Route(rec, 4, &r1)
	Random(rand.New(rand.NewPCG(1, 2))).Route(rec, 4, &r2)
	counts := make([]int, 4)
	for i, c := range r1.Targets {
		counts[c]++
		if r2.Targets[i] != c {
			t.Fatal("the same seed routed rows differently")
		}
	}
	for c, k := range counts {
		if k < 2200 || k > 2800 {
			t.Errorf("consumer %d got %d of 10000 rows", c, k)
		}
	}
}
