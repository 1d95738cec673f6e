package spec

import (
	"fmt"
	"strings"
)

// TypeOf type-checks e against the input schema and returns its result type.
//
// Rules (Unify and ArithType hold the details): arithmetic takes numbers;
// int64 op int64 is int64 except / which is always float64; a mix of int64
// and float64 is float64. A decimal with a decimal or an int64 (which acts
// as decimal(18,0)) is a decimal: + - % give decimal(min(18, max(p1-s1,
// p2-s2) + max(s1,s2) + 1), max(s1,s2)), * gives decimal(min(18, p1+p2),
// s1+s2) (s1+s2 > 18 is an error), / gives float64; a decimal with a
// float64 is float64. date + int64, int64 + date and date - int64 are
// dates (days), date - date and timestamp - timestamp are int64 (days,
// microseconds). || takes strings. Comparisons take two values whose types
// unify: numbers of any kinds (decimals compare by value whatever their
// scales), a date with a timestamp (the date as its midnight), or two
// values of one type. AND, OR, NOT take bools. CASE results, coalesce
// arguments and the like unify. The NULL literal has type Null, which fits
// wherever a value is expected; an expression over NULL alone (NULL +
// NULL, -NULL) has type Null too.
func TypeOf(e Expr, in Schema) (Type, error) {
	switch e := e.(type) {
	case *Column:
		if i := in.Index(e.Name); i >= 0 {
			return in[i].Type, nil
		}
		return Null, fmt.Errorf("spec: unknown column %q (have %s)", e.Name, strings.Join(in.Names(), ", "))
	case *Literal:
		if !e.Type.Valid() {
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

// Unify is the common type of a and b: Null unifies with anything; int64
// with float64 gives float64; two decimals give the decimal with the larger
// integer digits and the larger scale (precision capped at 18); a decimal
// with an int64 gives decimal(18, its scale) (the int64 acts as
// decimal(18,0)); a decimal with a float64 gives float64; a date with a
// timestamp gives timestamp. Otherwise the types must be equal.
func Unify(a, b Type) (Type, bool) {
	switch {
	case a == Null:
		return b, true
	case b == Null || a == b:
		return a, true
	case a.IsDecimal() && b.IsDecimal() || a.IsDecimal() && b == Int64 || a == Int64 && b.IsDecimal():
		a, b = asDecimal(a), asDecimal(b)
		s := max(a.Scale(), b.Scale())
		digits := max(a.Precision()-a.Scale(), b.Precision()-b.Scale())
		return DecimalType(min(MaxDecimalPrecision, digits+s), s), true
	case a.Numeric() && b.Numeric():
		return Float64, true
	case a.Temporal() && b.Temporal():
		return Timestamp, true
	}
	return Null, false
}

// asDecimal is t, or decimal(18,0) for an int64.
func asDecimal(t Type) Type {
	if t == Int64 {
		return DecimalType(MaxDecimalPrecision, 0)
	}
	return t
}

// Comparable reports whether values of types a and b can be compared with
// = < and the like: their types unify (see Unify).
func Comparable(a, b Type) bool {
	_, ok := Unify(a, b)
	return ok
}

// ArithType is the result type of arithmetic operator op (+ - * / %) on
// operand types a and b (see TypeOf), or Null when TypeOf rejects them.
func ArithType(op BinaryOp, a, b Type) Type {
	t, _ := arithType(op, a, b)
	return t
}

// arithType is ArithType with the reason a combination is rejected.
func arithType(op BinaryOp, a, b Type) (Type, string) {
	if a.Temporal() || b.Temporal() {
		return temporalArith(op, a, b)
	}
	if !(a.Numeric() || a == Null) || !(b.Numeric() || b == Null) {
		return Null, "needs numbers"
	}
	switch {
	case a == Null && b == Null:
		return Null, ""
	case op == OpDiv:
		return Float64, ""
	case a == Float64 || b == Float64 || !a.IsDecimal() && !b.IsDecimal():
		t, _ := Unify(a, b)
		return t, ""
	case a == Null:
		return b, ""
	case b == Null:
		return a, ""
	}
	a, b = asDecimal(a), asDecimal(b)
	p1, s1, p2, s2 := a.Precision(), a.Scale(), b.Precision(), b.Scale()
	if op == OpMul {
		if s1+s2 > MaxDecimalPrecision {
			return Null, fmt.Sprintf("gives a decimal scale of %d, more than %d", s1+s2, MaxDecimalPrecision)
		}
		return DecimalType(min(MaxDecimalPrecision, p1+p2), s1+s2), ""
	}
	s := max(s1, s2)
	return DecimalType(min(MaxDecimalPrecision, max(p1-s1, p2-s2)+s+1), s), ""
}

// temporalArith types arithmetic with a date or a timestamp: date ± int64
// and int64 + date are dates, date - date and timestamp - timestamp are
// int64.
func temporalArith(op BinaryOp, a, b Type) (Type, string) {
	isInt := func(t Type) bool { return t == Int64 || t == Null }
	switch {
	case op == OpAdd && a == Date && isInt(b), op == OpAdd && isInt(a) && b == Date, op == OpSub && a == Date && isInt(b):
		return Date, ""
	case op == OpSub && (a == b || a == Null || b == Null):
		return Int64, ""
	case a == Timestamp || b == Timestamp:
		return Null, "is not defined on timestamps except timestamp - timestamp (use date_add)"
	}
	return Null, "takes a date and an int64 (days) for + and -, or two dates for -"
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
		t, msg := arithType(e.Op, l, r)
		if msg != "" {
			return Null, fmt.Errorf("spec: operator %s %s, got %s and %s in %q", e.Op, msg, l, r, e)
		}
		return t, nil
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

// Castable reports whether CAST(x AS to) is defined for x of type from:
// anything to and from string; between bool, int64, float64 and decimals
// (bool not with decimals); between date and timestamp; NULL to anything.
func Castable(from, to Type) bool {
	switch {
	case from == Null || from == to || from == String || to == String:
		return true
	case from.Temporal() || to.Temporal():
		return from.Temporal() && to.Temporal()
	case from == Bool && to.IsDecimal() || from.IsDecimal() && to == Bool:
		return false
	}
	return true
}

func typeCast(e *Cast, in Schema) (Type, error) {
	from, err := TypeOf(e.X, in)
	if err != nil {
		return Null, err
	}
	if e.To == Null || !e.To.Valid() || e.To == Decimal {
		return Null, fmt.Errorf("spec: cannot cast to %s in %q (want int64, float64, string, bool, date, timestamp or decimal(p,s))", e.To, e)
	}
	if !Castable(from, e.To) {
		return Null, fmt.Errorf("spec: cannot cast %s to %s in %q", from, e.To, e)
	}
	return e.To, nil
}

// funcNames lists the scalar functions, sorted.
var funcNames = []string{
	"abs", "ceil", "coalesce", "concat", "date_add", "date_part", "date_trunc", "floor",
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
	case "abs", "floor", "ceil", "round":
		return typeMath(e, args)
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
	case "split_part", "regexp_like", "date_part", "date_trunc", "date_add", "parse_time", "format_time":
		return typeLiteralArgCall(e, args)
	}
	return Null, fmt.Errorf("spec: unknown function %q in %q (known: %s)", e.Func, e, strings.Join(funcNames, ", "))
}

// typeMath types abs(x), floor(x), ceil(x) and round(x[, digits]): the
// type of x, except on a decimal(p,s), as in DuckDB: floor, ceil and round
// without digits give decimal(p,0); round(x, n) needs a literal n and
// gives decimal(p, n) when 0 <= n < s, decimal(p,0) when n < 0, and x's
// type when n >= s.
func typeMath(e *Call, args []Type) (Type, error) {
	hi := 1
	if e.Func == "round" {
		hi = 2
	}
	if err := checkArgs(e, args, 1, hi, Float64, Int64); err != nil {
		return Null, err
	}
	t := args[0]
	if !t.IsDecimal() || e.Func == "abs" {
		return t, nil
	}
	p, s := t.Precision(), t.Scale()
	if len(args) == 1 {
		return DecimalType(p, 0), nil
	}
	lit, ok := e.Args[1].(*Literal)
	if !ok || lit.Type != Int64 {
		return Null, fmt.Errorf("spec: argument 2 of round must be an int64 literal when rounding a decimal in %q", e)
	}
	switch n := lit.Int; {
	case n >= int64(s):
		return t, nil
	case n >= 0:
		return DecimalType(p, int(n)), nil
	}
	return DecimalType(p, 0), nil
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
