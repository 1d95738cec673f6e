package spec

import "strings"

// ParseWindowFunc parses one window function:
//
//	func(args) [ROWS|RANGE frame] [AS alias]
//
// with func one of row_number(), rank(), dense_rank(), count(*),
// count(col), sum, avg, min, max, first_value, last_value (col), lag and
// lead (col[, offset[, default]]), offset an integer (default 1) and
// default a literal (default NULL). The frame is "BETWEEN start AND end"
// or "start" alone (then it ends at CURRENT ROW), each bound UNBOUNDED
// PRECEDING, n PRECEDING, CURRENT ROW, n FOLLOWING or UNBOUNDED
// FOLLOWING. Without an alias the output is named by WindowFunc.Name.
// Resolve checks what needs the input schema (types, the frame's bounds).
func ParseWindowFunc(src string) (WindowFunc, error) {
	p, err := newParser(src)
	if err != nil {
		return WindowFunc{}, err
	}
	t := p.peek()
	known := strings.Join(windowFuncNames[:], ", ")
	if t.kind != tokIdent {
		return WindowFunc{}, p.errorf(t, "expected a window function (%s), found %s", known, t.describe())
	}
	fn, ok := ParseWindowFuncKind(asciiLower(t.text))
	if !ok {
		return WindowFunc{}, p.errorf(t, "unknown window function %q (known: %s)", t.text, known)
	}
	p.i++
	w := NewWindowFunc(fn, "")
	if err := p.windowArgs(&w); err != nil {
		return WindowFunc{}, err
	}
	if p.acceptWord("ROWS") {
		w.Frame.Unit = FrameRows
	} else if p.acceptWord("RANGE") {
		w.Frame.Unit = FrameRange
	}
	if w.Frame.Unit != FrameDefault {
		if err := p.frame(&w.Frame); err != nil {
			return WindowFunc{}, err
		}
	}
	if p.acceptKeyword("AS") {
		if w.Alias, err = p.ident("an alias after AS"); err != nil {
			return WindowFunc{}, err
		}
	}
	if t := p.peek(); t.kind != tokEOF {
		return WindowFunc{}, p.errorf(t, "expected ROWS, RANGE, AS or end of input, found %s", t.describe())
	}
	return w, nil
}

// windowArgs parses "(args)" after the function name.
func (p *parser) windowArgs(w *WindowFunc) error {
	if err := p.expectOp("("); err != nil {
		return err
	}
	allowed, required := w.Func.takesArg()
	switch {
	case p.isOp(")") && required:
		t := p.peek()
		return p.errorf(t, "%s needs a column, found %s", w.Func, t.describe())
	case p.isOp(")"):
	case !allowed:
		t := p.peek()
		return p.errorf(t, "%s() takes no arguments, found %s", w.Func, t.describe())
	case w.Func == WinCount && p.isOp("*"):
		p.i++
	default:
		var err error
		if w.Arg, err = p.ident("a column name"); err != nil {
			return err
		}
	}
	if (w.Func == WinLag || w.Func == WinLead) && p.isOp(",") {
		p.i++
		if err := p.lagArgs(w); err != nil {
			return err
		}
	}
	return p.expectOp(")")
}

// lagArgs parses "offset[, default]" of lag and lead.
func (p *parser) lagArgs(w *WindowFunc) error {
	t := p.peek()
	e, err := p.expr(precLowest)
	if err != nil {
		return err
	}
	off, ok := e.(*Literal)
	if !ok || off.Type != Int64 {
		return p.errorf(t, "%s offset: expected an integer, found %s", w.Func, e)
	}
	w.Offset = off.Int
	if !p.isOp(",") {
		return nil
	}
	p.i++
	t = p.peek()
	if e, err = p.expr(precLowest); err != nil {
		return err
	}
	def, ok := e.(*Literal)
	if !ok {
		return p.errorf(t, "%s default: expected a literal, found %s", w.Func, e)
	}
	if def.Type != Null {
		w.Default = def
	}
	return nil
}

// frame parses the bounds after ROWS or RANGE.
func (p *parser) frame(f *WindowFrame) error {
	var err error
	if !p.acceptKeyword("BETWEEN") {
		f.End = FrameBound{Kind: BoundCurrentRow}
		f.Start, err = p.frameBound()
		return err
	}
	if f.Start, err = p.frameBound(); err != nil {
		return err
	}
	if err := p.expectKeyword("AND", " between the frame's bounds"); err != nil {
		return err
	}
	f.End, err = p.frameBound()
	return err
}

// frameBound parses UNBOUNDED PRECEDING|FOLLOWING, CURRENT ROW or n
// PRECEDING|FOLLOWING.
func (p *parser) frameBound() (FrameBound, error) {
	t := p.peek()
	var b FrameBound
	switch {
	case p.acceptWord("UNBOUNDED"):
		b.Kind = BoundUnboundedPreceding
		if p.acceptWord("FOLLOWING") {
			return FrameBound{Kind: BoundUnboundedFollowing}, nil
		}
	case p.acceptWord("CURRENT"):
		if !p.acceptWord("ROW") {
			t := p.peek()
			return b, p.errorf(t, "expected ROW after CURRENT, found %s", t.describe())
		}
		return FrameBound{Kind: BoundCurrentRow}, nil
	case t.kind == tokInt:
		e, err := p.number(p.advance(), "")
		if err != nil {
			return b, err
		}
		b.Kind, b.N = BoundPreceding, e.(*Literal).Int
		if p.acceptWord("FOLLOWING") {
			b.Kind = BoundFollowing
			return b, nil
		}
	default:
		return b, p.errorf(t, "expected a frame bound (UNBOUNDED PRECEDING, n PRECEDING, CURRENT ROW, n FOLLOWING, UNBOUNDED FOLLOWING), found %s", t.describe())
	}
	if !p.acceptWord("PRECEDING") {
		t := p.peek()
		return b, p.errorf(t, "expected PRECEDING or FOLLOWING, found %s", t.describe())
	}
	return b, nil
}
