package plan

import "testing"

func TestOpString(t *testing.T) {
	for _, tc := range []struct {
		op   Op
		want string
	}{
		{Op{Step: "big"}, "big"},
		{Op{Step: "agg", Role: Partial}, "agg(partial)"},
		{Op{Step: "agg", Role: Final}, "agg(final)"},
	} {
		if got := tc.op.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.op, got, tc.want)
		}
	}
}

func TestPartitionerString(t *testing.T) {
	for _, tc := range []struct {
		e    Edge
		want string
	}{
		{Edge{Partitioner: Hash, Keys: []string{"a", "b"}}, "hash[a,b]"},
		{Edge{Partitioner: Hash}, "hash[]"},
		{Edge{Partitioner: Broadcast}, "broadcast"},
		{Edge{Partitioner: Global}, "global"},
	} {
		if got := tc.e.PartitionerString(); got != tc.want {
			t.Errorf("PartitionerString(%v %v) = %q, want %q", tc.e.Partitioner, tc.e.Keys, got, tc.want)
		}
	}
}

func TestDotQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"s0 a", `"s0 a"`},
		{"a\nb", `"a\nb"`},
		{`say "hi"`, `"say \"hi\""`},
		{`back\slash`, `"back\\slash"`},
	} {
		if got := dotQuote(tc.in); got != tc.want {
			t.Errorf("dotQuote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestCompileNil(t *testing.T) {
	if g, err := Compile(nil); err == nil {
		t.Errorf("Compile(nil) = %v, nil; want an error", g)
	}
}
