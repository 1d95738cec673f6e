package spec

import (
	"fmt"
	"strings"
)

// TypeOf type-checks e against the input schema and returns its result type.
//
// Rules: arithmetic takes numbers; int64 op int64 is int64 except / which is
// always float64; a mix of int64 and float64 is float64. || takes strings.
// Comparisons take two numbers or two values of one type. AND, OR, NOT take
// bools. CASE results, coalesce arguments and the like unify (see Unify).
// The NULL literal has type Null, which fits wherever a value is expected;
// an expression over NULL alone (NULL + NULL, -NULL) has type Null too.
func TypeOf(e Expr, in Schema) (Type, error) {
	switch e := e.(type) {
	case *Column:
		if i := in.Index(e.Name); i >= 0 {
			return in[i].Type, nil
		}
		return Null, fmt.Errorf("spec: unknown column %q (have %s)", e.Name, strings.Join(in.Names(), ", "))
	case *Literal:
		if e.Type > String {
			return Null, fmt.Errorf("spec: literal of invalid type %s", e.Type)
		}
		return e.Type, nil
	case *Unary:
		return typeUnary(e, in)
	case *Binary:
		return typeBinary(e, in)
	case *In:
		return typeIn(e, in)
	case *IsNull:
		_, err := TypeOf(e.X, in)
		return Bool, err
	case *Like:
		return typeLike(e, in)
	case *Call:
		return typeCall(e, in)
	case *Case:
		return typeCase(e, in)
	case *Cast:
		return typeCast(e, in)
	case nil:
		return Null, fmt.Errorf("spec: missing expression")
	}
	return Null, fmt.Errorf("spec: unknown expression node %T", e)
}

// Unify is the common type of a and b: Null unifies with anything, int64
// with float64 gives float64, otherwise the types must be equal.
func Unify(a, b Type) (Type, bool) {
	switch {
	case a == Null:
		return b, true
	case b == Null || a == b:
		return a, true
	case a.Numeric() && b.Numeric():
		return Float64, true
	}
	return Null, false
}

// Comparable reports whether values of types a and b can be compared with
// = < and the like: both numeric, the same type, or either is Null.
func Comparable(a, b Type) bool {
	_, ok := Unify(a, b)
	return ok
}

// ArithType is the result type of arithmetic operator op (+ - * / %) on
// numeric (or Null) operand types a and b.
func ArithType(op BinaryOp, a, b Type) Type {
	if a == Null && b == Null {
		return Null
	}
	if op == OpDiv {
		return Float64
	}
	t, _ := Unify(a, b)
	return t
}

func typeUnary(e *Unary, in Schema) (Type, error) {
	t, err := TypeOf(e.X, in)
	if err != nil {
		return Null, err
	}
	switch {
	case e.Op == OpNot && (t == Bool || t == Null):
		return Bool, nil
	case e.Op == OpNot:
		return Null, fmt.Errorf("spec: NOT needs a bool operand, got %s in %q", t, e)
	case t.Numeric() || t == Null:
		return t, nil
	}
	return Null, fmt.Errorf("spec: unary - needs a number, got %s in %q", t, e)
}

func typeBinary(e *Binary, in Schema) (Type, error) {
	l, err := TypeOf(e.L, in)
	if err != nil {
		return Null, err
	}
	r, err := TypeOf(e.R, in)
	if err != nil {
		return Null, err
	}
	switch e.Op {
	case OpAdd, OpSub, OpMul, OpDiv, OpMod:
		if (l.Numeric() || l == Null) && (r.Numeric() || r == Null) {
			return ArithType(e.Op, l, r), nil
		}
		return Null, fmt.Errorf("spec: operator %s needs numbers, got %s and %s in %q", e.Op, l, r, e)
	case OpConcat:
		if (l == String || l == Null) && (r == String || r == Null) {
			return String, nil
		}
		return Null, fmt.Errorf("spec: operator || needs strings, got %s and %s in %q (use CAST(x AS string))", l, r, e)
	case OpAnd, OpOr:
		if (l == Bool || l == Null) && (r == Bool || r == Null) {
			return Bool, nil
		}
		return Null, fmt.Errorf("spec: %s needs bool operands, got %s and %s in %q", e.Op, l, r, e)
	case OpEq, OpNe, OpLt, OpLe, OpGt, OpGe:
		if Comparable(l, r) {
			return Bool, nil
		}
		return Null, fmt.Errorf("spec: cannot compare %s with %s in %q", l, r, e)
	}
	return Null, fmt.Errorf("spec: unknown operator %d in %q", e.Op, e)
}

func typeIn(e *In, in Schema) (Type, error) {
	x, err := TypeOf(e.X, in)
	if err != nil {
		return Null, err
	}
	if len(e.List) == 0 {
		return Null, fmt.Errorf("spec: empty IN list in %q", e)
	}
	for _, v := range e.List {
		t, err := TypeOf(v, in)
		if err != nil {
			return Null, err
		}
		if !Comparable(x, t) {
			return Null, fmt.Errorf("spec: cannot compare %s with %s in %q", x, t, e)
		}
	}
	return Bool, nil
}

func typeCase(e *Case, in Schema) (Type, error) {
	if len(e.Whens) == 0 {
		return Null, fmt.Errorf("spec: CASE without WHEN in %q", e)
	}
	res := Null
	arm := func(x Expr) error {
		t, err := TypeOf(x, in)
		if err != nil {
			return err
		}
		u, ok := Unify(res, t)
		if !ok {
			return fmt.Errorf("spec: CASE results have incompatible types %s and %s in %q", res, t, e)
		}
		res = u
		return nil
	}
	for _, w := range e.Whens {
		c, err := TypeOf(w.Cond, in)
		if err != nil {
			return Null, err
		}
		if c != Bool && c != Null {
			return Null, fmt.Errorf("spec: CASE condition %s has type %s, want bool, in %q", w.Cond, c, e)
		}
		if err := arm(w.Then); err != nil {
			return Null, err
		}
	}
	if e.Else != nil {
		if err := arm(e.Else); err != nil {
			return Null, err
		}
	}
	return res, nil
}

func typeCast(e *Cast, in Schema) (Type, error) {
	if _, err := TypeOf(e.X, in); err != nil {
		return Null, err
	}
	if e.To == Null || e.To > String {
		return Null, fmt.Errorf("spec: cannot cast to %s in %q (want int64, float64, string or bool)", e.To, e)
	}
	return e.To, nil
}

// funcNames lists the scalar functions, sorted.
var funcNames = []string{
	"abs", "ceil", "coalesce", "concat", "date_part", "date_trunc", "floor",
	"format_time", "length", "lower", "ltrim", "nullif", "parse_time",
	"regexp_like", "round", "rtrim", "split_part", "substr", "substring", "trim", "upper",
}

// typeCall checks a scalar function call. Strings functions count
// characters (runes), substr positions are 1-based.
func typeCall(e *Call, in Schema) (Type, error) {
	args := make([]Type, len(e.Args))
	for i, a := range e.Args {
		t, err := TypeOf(a, in)
		if err != nil {
			return Null, err
		}
		args[i] = t
	}
	switch e.Func {
	case "lower", "upper", "trim", "ltrim", "rtrim":
		return String, checkArgs(e, args, 1, 1, String)
	case "length":
		return Int64, checkArgs(e, args, 1, 1, String)
	case "substr", "substring":
		return String, checkArgs(e, args, 2, 3, String, Int64, Int64)
	case "concat":
		return String, checkArgs(e, args, 1, -1, String)
	case "abs", "floor", "ceil":
		return argType(args, 0), checkArgs(e, args, 1, 1, Float64)
	case "round":
		return argType(args, 0), checkArgs(e, args, 1, 2, Float64, Int64)
	case "coalesce":
		if err := checkArgs(e, args, 1, -1); err != nil {
			return Null, err
		}
		return unifyArgs(e, args)
	case "nullif":
		if err := checkArgs(e, args, 2, 2); err != nil {
			return Null, err
		}
		if !Comparable(args[0], args[1]) {
			return Null, fmt.Errorf("spec: cannot compare %s with %s in %q", args[0], args[1], e)
		}
		return args[0], nil
	case "split_part", "regexp_like", "date_part", "date_trunc", "parse_time", "format_time":
		return typeLiteralArgCall(e, args)
	}
	return Null, fmt.Errorf("spec: unknown function %q in %q (known: %s)", e.Func, e, strings.Join(funcNames, ", "))
}

func argType(args []Type, i int) Type {
	if i < len(args) {
		return args[i]
	}
	return Null
}

// checkArgs checks the number of arguments, lo to hi (hi -1: no limit), and their
// types: want[i] for argument i, the last want for the rest. Float64 stands
// for any number. Null fits every type.
func checkArgs(e *Call, args []Type, lo, hi int, want ...Type) error {
	if len(args) < lo || hi >= 0 && len(args) > hi {
		n, most := fmt.Sprint(lo), lo
		switch {
		case hi < 0:
			n = "at least " + n
		case hi == lo+1:
			n, most = fmt.Sprintf("%d or %d", lo, hi), hi
		case hi > lo:
			n, most = fmt.Sprintf("%d to %d", lo, hi), hi
		}
		plural := "s"
		if most == 1 {
			plural = ""
		}
		return fmt.Errorf("spec: %s takes %s argument%s, got %d in %q", e.Func, n, plural, len(args), e)
	}
	if len(want) == 0 {
		return nil
	}
	for i, t := range args {
		w := want[min(i, len(want)-1)]
		ok := t == Null || t == w || w == Float64 && t.Numeric()
		if !ok {
			what := w.String()
			if w == Float64 {
				what = "a number"
			}
			return fmt.Errorf("spec: argument %d of %s must be %s, got %s in %q", i+1, e.Func, what, t, e)
		}
	}
	return nil
}

func unifyArgs(e *Call, args []Type) (Type, error) {
	res := Null
	for _, t := range args {
		u, ok := Unify(res, t)
		if !ok {
			return Null, fmt.Errorf("spec: arguments of %s have incompatible types %s and %s in %q", e.Func, res, t, e)
		}
		res = u
	}
	return res, nil
}
