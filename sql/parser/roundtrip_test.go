package parser

import (
	"reflect"
	"testing"
)

// stripPositions zeroes every Pos in the tree under n, in place, so that
// two parses of differently laid-out text compare equal with DeepEqual.
func stripPositions(n any) {
	strip(reflect.ValueOf(n))
}

var posType = reflect.TypeFor[Pos]()

func strip(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			strip(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == posType {
			if v.CanSet() {
				v.Set(reflect.Zero(posType))
			}
			return
		}
		for i := range v.NumField() {
			strip(v.Field(i))
		}
	case reflect.Slice:
		for i := range v.Len() {
			strip(v.Index(i))
		}
	}
}

// checkRoundTrip parses the canonical printout of q and requires the same
// AST, positions aside, and the same printout (a fixed point).
func checkRoundTrip(t testing.TB, src string, q *Query) {
	t.Helper()
	printed := Format(q)
	again, err := Parse(printed)
	if err != nil {
		t.Fatalf("round trip: the printout does not parse: %v\nsource:\n%s\nprintout:\n%s", err, src, printed)
	}
	if p2 := Format(again); p2 != printed {
		t.Fatalf("round trip: printout changed:\nfirst:\n%s\nsecond:\n%s", printed, p2)
	}
	stripPositions(q)
	stripPositions(again)
	if !reflect.DeepEqual(q, again) {
		t.Fatalf("round trip: AST changed (printouts equal):\n%s", printed)
	}
}
