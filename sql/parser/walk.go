package parser

// Inspect walks the tree under n depth-first, like go/ast.Inspect: it calls
// f(n); if that returns true it walks each child, then calls f(nil). The
// binder uses it to find aggregates, window calls and outer references
// without a switch over every node kind of its own.
func Inspect(n Node, f func(Node) bool) {
	if isNil(n) || !f(n) {
		return
	}
	for _, c := range children(n) {
		Inspect(c, f)
	}
	f(nil)
}

// isNil reports whether n is nil or a typed nil pointer (an absent
// optional child).
func isNil(n Node) bool {
	if n == nil {
		return true
	}
	switch v := n.(type) {
	case *Ident:
		return v == nil
	case *TableAlias:
		return v == nil
	case *WindowSpec:
		return v == nil
	case *Frame:
		return v == nil
	case *FrameBound:
		return v == nil
	case *Query:
		return v == nil
	case *TypeName:
		return v == nil
	}
	return false
}

// children lists n's direct children in source order; absent optional
// children are skipped by Inspect.
func children(n Node) []Node {
	switch n := n.(type) {
	case *Query:
		out := nodes(n.With)
		out = append(out, n.Body)
		out = append(out, nodes(n.OrderBy)...)
		return appendExprs(out, n.Limit, n.Offset)
	case *CTE:
		return append(append([]Node{n.Name}, nodes(n.Columns)...), n.Query)
	case *SetOp:
		return []Node{n.Left, n.Right}
	case *Select:
		return selectChildren(n)
	case *SelectItem:
		return []Node{n.Expr, n.Alias}
	case *Star:
		return append(nodes(n.Table), nodes(n.Exclude)...)
	case *OrderItem:
		return []Node{n.Expr}
	case *TableName:
		return append(nodes(n.Name), n.Alias)
	case *DerivedTable:
		return []Node{n.Query, n.Alias}
	case *TableAlias:
		return append([]Node{n.Name}, nodes(n.Columns)...)
	case *Join:
		return appendExprs(append([]Node{n.Left, n.Right}, nodes(n.Using)...), n.On)
	}
	return exprChildren(n)
}

func selectChildren(s *Select) []Node {
	out := nodes(s.Items)
	out = append(out, nodes(s.From)...)
	out = appendExprs(out, s.Where)
	out = append(out, nodes(s.GroupBy)...)
	return appendExprs(out, s.Having)
}

func exprChildren(n Node) []Node {
	switch n := n.(type) {
	case *ColumnRef:
		return nodes(n.Parts)
	case *IntervalLit:
		return []Node{n.Value}
	case *UnaryExpr:
		return []Node{n.X}
	case *BinaryExpr:
		return []Node{n.L, n.R}
	case *IsExpr:
		return []Node{n.X}
	case *IsDistinctExpr:
		return []Node{n.L, n.R}
	case *BetweenExpr:
		return []Node{n.X, n.Lo, n.Hi}
	case *InListExpr:
		return append([]Node{n.X}, nodes(n.List)...)
	case *InSubqueryExpr:
		return []Node{n.X, n.Query}
	case *LikeExpr:
		return appendExprs([]Node{n.X, n.Pattern}, n.Escape)
	case *ExistsExpr:
		return []Node{n.Query}
	case *SubqueryExpr:
		return []Node{n.Query}
	case *CaseExpr:
		return appendExprs(append(appendExprs(nil, n.Operand), nodes(n.Whens)...), n.Else)
	case *When:
		return []Node{n.Cond, n.Result}
	case *CastExpr:
		return []Node{n.X, n.Type}
	case *ExtractExpr:
		return []Node{n.X}
	case *FuncCall:
		out := append([]Node{n.Name}, nodes(n.Args)...)
		return append(appendExprs(out, n.Filter), n.Over)
	case *WindowSpec:
		out := append(nodes(n.PartitionBy), nodes(n.OrderBy)...)
		return append(out, n.Frame)
	case *Frame:
		return []Node{n.Start, n.End}
	case *FrameBound:
		return appendExprs(nil, n.Offset)
	}
	return nil
}

// nodes converts a slice of some node type to []Node.
func nodes[T Node](xs []T) []Node {
	out := make([]Node, 0, len(xs))
	for _, x := range xs {
		out = append(out, x)
	}
	return out
}

// appendExprs appends the non-nil expressions: a nil Expr interface must
// not become a non-nil Node holding nothing.
func appendExprs(out []Node, es ...Expr) []Node {
	for _, e := range es {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}
