package parser

// call parses the rest of name(...) [FILTER (WHERE ...)] [OVER (...)]:
// count(*), f(DISTINCT a), and substring's SQL-standard
// substring(x FROM a FOR b), which becomes substring(x, a, b).
func (p *parser) call(name *Ident) (Expr, error) {
	f := &FuncCall{Pos: name.Pos, Name: name}
	p.next() // "("
	var err error
	switch {
	case p.isOp("*"):
		p.next()
		f.Star = true
	case p.isOp(")"):
	default:
		if p.acceptKw("DISTINCT") {
			f.Distinct = true
		} else {
			p.acceptKw("ALL")
		}
		if f.Args, err = p.callArgs(name); err != nil {
			return nil, err
		}
	}
	if _, err := p.expectOp(")"); err != nil {
		return nil, err
	}
	if p.isKw("FILTER") && p.peekAt(1).kind == tokOp && p.peekAt(1).text == "(" {
		p.i += 2
		if _, err := p.expectKw("WHERE"); err != nil {
			return nil, err
		}
		if f.Filter, err = p.expr(); err != nil {
			return nil, err
		}
		if _, err := p.expectOp(")"); err != nil {
			return nil, err
		}
	}
	if p.isKw("OVER") {
		if f.Over, err = p.windowSpec(); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// callArgs parses a call's arguments. For substring it also takes the
// standard's FROM start [FOR length] (and FOR alone, from 1).
func (p *parser) callArgs(name *Ident) ([]Expr, error) {
	first, err := p.expr()
	if err != nil {
		return nil, err
	}
	args := []Expr{first}
	if !name.Quoted && asciiUpper(name.Name) == "SUBSTRING" && (p.isKw("FROM") || p.isKw("FOR")) {
		return p.substringArgs(args)
	}
	for p.acceptOp(",") {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
	return args, nil
}

func (p *parser) substringArgs(args []Expr) ([]Expr, error) {
	if p.isKw("FROM") {
		p.next()
		from, err := p.expr()
		if err != nil {
			return nil, err
		}
		args = append(args, from)
	} else {
		args = append(args, &NumberLit{Pos: p.peek().pos, Text: "1"})
	}
	if p.acceptKw("FOR") {
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		args = append(args, n)
	}
	return args, nil
}

// windowSpec parses OVER ([PARTITION BY ...] [ORDER BY ...] [frame]).
func (p *parser) windowSpec() (*WindowSpec, error) {
	p.next() // OVER
	pos, err := p.expectOp("(")
	if err != nil {
		return nil, err
	}
	w := &WindowSpec{Pos: pos}
	if w.PartitionBy, err = p.byList("PARTITION"); err != nil {
		return nil, err
	}
	if p.isKw("ORDER") {
		if w.OrderBy, err = p.orderBy(); err != nil {
			return nil, err
		}
	}
	if p.isKw("ROWS") || p.isKw("RANGE") || p.isKw("GROUPS") {
		if w.Frame, err = p.frame(); err != nil {
			return nil, err
		}
	}
	_, err = p.expectOp(")")
	return w, err
}

// frame parses ROWS|RANGE|GROUPS {BETWEEN bound AND bound | bound}.
func (p *parser) frame() (*Frame, error) {
	t := p.next()
	f := &Frame{Pos: t.pos, Unit: t.upper}
	var err error
	if !p.acceptKw("BETWEEN") {
		f.Start, err = p.frameBound()
		f.End = &FrameBound{Pos: p.peek().pos, Kind: BoundCurrentRow}
		return f, err
	}
	if f.Start, err = p.frameBound(); err != nil {
		return nil, err
	}
	if _, err := p.expectKw("AND"); err != nil {
		return nil, err
	}
	f.End, err = p.frameBound()
	return f, err
}

// frameBound parses UNBOUNDED PRECEDING|FOLLOWING, CURRENT ROW, or
// n PRECEDING|FOLLOWING.
func (p *parser) frameBound() (*FrameBound, error) {
	b := &FrameBound{Pos: p.peek().pos}
	switch {
	case p.isKw("UNBOUNDED"):
		p.next()
		var err error
		b.Kind, err = p.direction(BoundUnboundedPreceding, BoundUnboundedFollowing)
		return b, err
	case p.isKw("CURRENT"):
		p.next()
		b.Kind = BoundCurrentRow
		_, err := p.expectKw("ROW")
		return b, err
	}
	var err error
	if b.Offset, err = p.exprPrec(precAdd); err != nil {
		return nil, err
	}
	b.Kind, err = p.direction(BoundPreceding, BoundFollowing)
	return b, err
}

// direction parses PRECEDING (returning preceding) or FOLLOWING.
func (p *parser) direction(preceding, following BoundKind) (BoundKind, error) {
	switch {
	case p.acceptKw("PRECEDING"):
		return preceding, nil
	case p.acceptKw("FOLLOWING"):
		return following, nil
	}
	return 0, p.unexpected("PRECEDING or FOLLOWING")
}
