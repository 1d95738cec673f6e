package spec

// Walk calls fn on e and then on each of its sub-expressions, depth
// first, left to right. A nil e (a CASE without ELSE) is skipped.
func Walk(e Expr, fn func(Expr)) {
	if e == nil {
		return
	}
	fn(e)
	switch e := e.(type) {
	case *Unary:
		Walk(e.X, fn)
	case *Binary:
		Walk(e.L, fn)
		Walk(e.R, fn)
	case *In:
		Walk(e.X, fn)
		for _, x := range e.List {
			Walk(x, fn)
		}
	case *IsNull:
		Walk(e.X, fn)
	case *Like:
		Walk(e.X, fn)
	case *Call:
		for _, x := range e.Args {
			Walk(x, fn)
		}
	case *Case:
		for _, w := range e.Whens {
			Walk(w.Cond, fn)
			Walk(w.Then, fn)
		}
		Walk(e.Else, fn)
	case *Cast:
		Walk(e.X, fn)
	}
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
