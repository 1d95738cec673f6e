package bind

import (
	"strings"

	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/sql/logical"
	"github.com/batchrun/batchrun/sql/parser"
)

// Window functions run after WHERE, GROUP BY and HAVING and before the
// select list, as SQL orders them: the calls of one OVER clause (the same
// PARTITION BY and ORDER BY) become one window step over the block's rows,
// the next clause's a window step over that one's output; the select list
// and ORDER BY then read their columns. Expressions in PARTITION BY, ORDER
// BY and the arguments are computed by a select before the first window.

// collectWindows lists the window calls in nodes, outside subqueries. A
// window call inside another's arguments or OVER clause is an error.
func collectWindows(nodes ...parser.Node) ([]*parser.FuncCall, error) {
	return collectCalls(windowCalls, nodes...)
}

// windowing is the window steps of a block being planned.
type windowing struct {
	x      *exprCtx
	pre    []spec.NamedExpr // the select computing keys and arguments
	extra  bool             // pre computes more than its input's columns
	steps  []*spec.WindowStep
	clause []string                    // per step, its OVER clause's text
	at     []parser.Node               // per step, its first call
	cols   map[*parser.FuncCall]string // window call -> its column
}

// windows plans the window calls of the block over k.in and returns the
// columns the calls' results are in.
func (k *block) windows(calls []*parser.FuncCall) (map[*parser.FuncCall]string, error) {
	w := &windowing{x: &exprCtx{b: k.b, sc: k.sc, agg: k.agg, in: k.in}, cols: map[*parser.FuncCall]string{}}
	for _, f := range k.in.rel.Schema {
		w.pre = append(w.pre, spec.NamedExpr{Expr: &spec.Column{Name: f.Name}, Alias: f.Name})
	}
	for _, c := range calls {
		if err := w.call(c); err != nil {
			return nil, err
		}
	}
	rel := k.in.rel
	var err error
	if w.extra {
		if rel, err = logical.Project(rel, w.pre); err != nil {
			return nil, planError(k.sel, err)
		}
	}
	for i, s := range w.steps {
		if rel, err = logical.Window(rel, *s); err != nil {
			return nil, planError(w.at[i], err)
		}
	}
	k.in = &relation{rel: rel, cols: k.in.cols}
	return w.cols, nil
}

// column returns a column of the pre-select holding e.
func (w *windowing) column(e spec.Expr, name string) string {
	if c, ok := e.(*spec.Column); ok {
		return c.Name
	}
	col := w.x.b.fresh(name)
	w.pre = append(w.pre, spec.NamedExpr{Expr: e, Alias: col})
	w.extra = true
	return col
}

// call binds one window call into the step of its OVER clause.
func (w *windowing) call(c *parser.FuncCall) error {
	name := strings.ToLower(c.Name.Name)
	kind, ok := spec.ParseWindowFuncKind(name)
	if !ok {
		return errorf(c.Name, "unknown window function %s%s", name, suggest(name, windowFuncNames()))
	}
	if c.Distinct || c.Filter != nil {
		return errorf(c, "DISTINCT and FILTER are not supported in window functions")
	}
	step, err := w.step(c)
	if err != nil {
		return err
	}
	fn, err := w.function(c, kind)
	if err != nil {
		return err
	}
	if c.Over.Frame != nil {
		if fn.Frame, err = frame(c.Over.Frame); err != nil {
			return err
		}
	}
	alias := name
	if len(c.Args) > 0 {
		alias += "_" + exprName(c.Args[0])
	}
	fn.Alias = w.x.b.fresh(alias)
	step.Funcs = append(step.Funcs, fn)
	w.cols[c] = fn.Alias
	return nil
}

func windowFuncNames() []string {
	var out []string
	for k := spec.WinRowNumber; k <= spec.WinMax; k++ {
		out = append(out, k.String())
	}
	return out
}

// step returns the window step of c's OVER clause: an existing one with
// the same keys, or a new one.
func (w *windowing) step(c *parser.FuncCall) (*spec.WindowStep, error) {
	o := c.Over
	s := &spec.WindowStep{}
	// A key named twice, or ordering by a partition key, changes nothing:
	// it is left out (the step takes each column once).
	seen := map[string]bool{}
	for _, e := range o.PartitionBy {
		v, err := w.x.bind(e)
		if err != nil {
			return nil, err
		}
		if col := w.column(v, exprName(e)); !seen[col] {
			seen[col] = true
			s.PartitionBy = append(s.PartitionBy, col)
		}
	}
	for _, it := range o.OrderBy {
		v, err := w.x.bind(it.Expr)
		if err != nil {
			return nil, err
		}
		if col := w.column(v, exprName(it.Expr)); !seen[col] {
			seen[col] = true
			s.OrderBy = append(s.OrderBy, sortKey(it, col))
		}
	}
	clause := s.String()
	for i, c := range w.clause {
		if c == clause {
			return w.steps[i], nil
		}
	}
	w.steps, w.clause, w.at = append(w.steps, s), append(w.clause, clause), append(w.at, c)
	return s, nil
}

// function binds the arguments of window call c of kind k.
func (w *windowing) function(c *parser.FuncCall, k spec.WindowFuncKind) (spec.WindowFunc, error) {
	fn := spec.NewWindowFunc(k, "")
	want := [2]int{1, 1} // the fewest and most arguments
	switch k {
	case spec.WinRowNumber, spec.WinRank, spec.WinDenseRank:
		want = [2]int{0, 0}
	case spec.WinLag, spec.WinLead:
		want = [2]int{1, 3}
	case spec.WinCount:
		want = [2]int{0, 1}
	}
	n := len(c.Args)
	if c.Star {
		if k != spec.WinCount {
			return fn, errorf(c, "%s(*) is not a window function (count(*) is)", k)
		}
		return fn, nil
	}
	if n < want[0] || n > want[1] {
		return fn, errorf(c, "%s takes %d to %d arguments, got %d", k, want[0], want[1], n)
	}
	if n == 0 {
		return fn, nil
	}
	v, err := w.x.bind(c.Args[0])
	if err != nil {
		return fn, err
	}
	fn.Arg = w.column(v, exprName(c.Args[0]))
	if n > 1 {
		off, ok := constInt(c.Args[1])
		if !ok {
			return fn, errorf(c.Args[1], "the offset of %s must be a whole number >= 0", k)
		}
		fn.Offset = off
	}
	if n > 2 {
		if fn.Default, err = w.defaultValue(c.Args[2], v); err != nil {
			return fn, err
		}
	}
	return fn, nil
}

// defaultValue binds lag's and lead's default, a constant of the
// argument's type.
func (w *windowing) defaultValue(e parser.Expr, arg spec.Expr) (*spec.Literal, error) {
	d, err := w.x.bind(e)
	if err != nil {
		return nil, err
	}
	lit, ok := d.(*spec.Literal)
	if !ok {
		return nil, errorf(e, "the default of lag and lead must be a constant")
	}
	t, err := spec.TypeOf(arg, w.x.schema())
	if err != nil {
		return nil, planError(e, err)
	}
	if lit.Type == spec.String {
		if c, ok := literalAs(lit.Str, t); ok {
			lit = c
		}
	}
	if v, ok := spec.LiteralAs(lit, t); ok {
		return &v, nil
	}
	return lit, nil // Resolve names the mismatch
}

// frame translates a frame clause.
func frame(f *parser.Frame) (spec.WindowFrame, error) {
	var out spec.WindowFrame
	switch f.Unit {
	case "ROWS":
		out.Unit = spec.FrameRows
	case "RANGE":
		out.Unit = spec.FrameRange
	default:
		return out, errorf(f, "%s frames are not supported (ROWS and RANGE are)", f.Unit)
	}
	var err error
	if out.Start, err = frameBound(f.Start); err == nil {
		out.End, err = frameBound(f.End)
	}
	return out, err
}

// frameBound translates one end of a frame; the kinds are in the same
// order in both packages.
func frameBound(b *parser.FrameBound) (spec.FrameBound, error) {
	fb := spec.FrameBound{Kind: spec.BoundKind(b.Kind)}
	if b.Offset != nil {
		n, ok := constInt(b.Offset)
		if !ok {
			return fb, errorf(b.Offset, "a frame offset must be a whole number >= 0")
		}
		fb.N = n
	}
	return fb, nil
}
