package spec

import "fmt"

// Walk calls fn on e and then on each of its sub-expressions, depth
// first, left to right. A nil e (a CASE without ELSE) is skipped.
func Walk(e Expr, fn func(Expr)) {
	_ = walk(e, fn)
}

// ColumnRefs calls f with the name of every column e reads, in tree order
// (a column read twice is reported twice). An expression kind it does not
// know is an error: it could read any column, so a caller pruning columns
// or placing conditions must not guess.
func ColumnRefs(e Expr, f func(name string)) error {
	return walk(e, func(x Expr) {
		if c, ok := x.(*Column); ok {
			f(c.Name)
		}
	})
}

// walk is Walk, with an error for a node of a kind it does not know (its
// sub-expressions are not visited).
func walk(e Expr, fn func(Expr)) error {
	if e == nil {
		return nil
	}
	fn(e)
	var err error
	sub := func(xs ...Expr) {
		for _, x := range xs {
			if err == nil {
				err = walk(x, fn)
			}
		}
	}
	switch e := e.(type) {
	case *Column, *Literal:
	case *Unary:
		sub(e.X)
	case *Binary:
		sub(e.L, e.R)
	case *In:
		sub(e.X)
		sub(e.List...)
	case *IsNull:
		sub(e.X)
	case *Like:
		sub(e.X)
	case *Call:
		sub(e.Args...)
	case *Case:
		for _, w := range e.Whens {
			sub(w.Cond, w.Then)
		}
		sub(e.Else)
	case *Cast:
		sub(e.X)
	default:
		return fmt.Errorf("column analysis does not know expression %T", e)
	}
	return err
}

// ExprColumns returns the names of the columns e references, each once,
// in the order they first appear.
func ExprColumns(e Expr) []string {
	var names []string
	seen := map[string]bool{}
	Walk(e, func(x Expr) {
		if c, ok := x.(*Column); ok && !seen[c.Name] {
			seen[c.Name] = true
			names = append(names, c.Name)
		}
	})
	return names
}
