package spec

import "fmt"

// ColumnRefs calls f with the name of every column e reads, in tree order
// (a column read twice is reported twice). An expression kind it does not
// know is an error: it could read any column, so a caller pruning columns
// or placing conditions must not guess.
func ColumnRefs(e Expr, f func(name string)) error {
	var err error
	walk := func(xs ...Expr) {
		for _, x := range xs {
			if err == nil {
				err = ColumnRefs(x, f)
			}
		}
	}
	switch e := e.(type) {
	case nil, *Literal:
	case *Column:
		f(e.Name)
	case *Unary:
		walk(e.X)
	case *Binary:
		walk(e.L, e.R)
	case *In:
		walk(e.X)
		walk(e.List...)
	case *IsNull:
		walk(e.X)
	case *Like:
		walk(e.X)
	case *Call:
		walk(e.Args...)
	case *Case:
		for _, w := range e.Whens {
			walk(w.Cond, w.Then)
		}
		walk(e.Else)
	case *Cast:
		walk(e.X)
	default:
		return fmt.Errorf("column analysis does not know expression %T", e)
	}
	return err
}
