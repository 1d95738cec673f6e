package parser

// primary parses an operand: a literal, a name, a call, a parenthesized
// expression or subquery, CASE, CAST, EXTRACT, EXISTS, or a typed literal.
func (p *parser) primary() (Expr, error) {
	t := p.peek()
	switch t.kind {
	case tokNumber:
		p.next()
		return &NumberLit{Pos: t.pos, Text: t.text}, nil
	case tokString:
		p.next()
		return &StringLit{Pos: t.pos, Value: t.text}, nil
	case tokQuotedIdent:
		return p.nameExpr()
	case tokOp:
		if t.text == "(" {
			return p.parenExpr()
		}
	case tokIdent:
		return p.keywordOrName(t)
	}
	return nil, p.unexpected("an expression")
}

// keywordOrName parses what an unquoted word starts: a keyword form
// (NULL, TRUE, CASE, CAST, EXISTS, DATE '...', INTERVAL ...) or a name.
func (p *parser) keywordOrName(t token) (Expr, error) {
	switch t.upper {
	case "NULL":
		p.next()
		return &NullLit{Pos: t.pos}, nil
	case "TRUE", "FALSE":
		p.next()
		return &BoolLit{Pos: t.pos, Value: t.upper == "TRUE"}, nil
	case "CASE":
		return p.caseExpr()
	case "CAST", "TRY_CAST":
		if p.peekAt(1).kind == tokOp && p.peekAt(1).text == "(" {
			return p.castExpr()
		}
	case "EXISTS":
		p.next()
		q, err := p.parenQuery()
		return &ExistsExpr{Pos: t.pos, Query: q}, err
	case "DATE", "TIMESTAMP", "TIME":
		if s := p.peekAt(1); s.kind == tokString {
			p.i += 2
			return &TypedLit{Pos: t.pos, Type: t.upper, Value: s.text}, nil
		}
	case "INTERVAL":
		if k := p.peekAt(1).kind; k == tokString || k == tokNumber {
			return p.intervalLit()
		}
	case "EXTRACT":
		if p.peekAt(1).kind == tokOp && p.peekAt(1).text == "(" {
			return p.extractExpr()
		}
	case "LEFT", "RIGHT":
		// Reserved for joins, but also the string functions left(s, n)
		// and right(s, n); in an operand position only the call is
		// possible.
		if p.peekAt(1).kind == tokOp && p.peekAt(1).text == "(" {
			p.next()
			return p.call(&Ident{Pos: t.pos, Name: t.text})
		}
	}
	if reserved[t.upper] {
		return nil, p.unexpected("an expression")
	}
	return p.nameExpr()
}

// nameExpr parses a column reference or a function call.
func (p *parser) nameExpr() (Expr, error) {
	first, err := p.name("a name")
	if err != nil {
		return nil, err
	}
	if p.isOp("(") {
		return p.call(first)
	}
	ref := &ColumnRef{Pos: first.Pos, Parts: []*Ident{first}}
	for p.isOp(".") {
		p.next()
		id, err := p.name("a column name")
		if err != nil {
			return nil, err
		}
		ref.Parts = append(ref.Parts, id)
	}
	return ref, nil
}

// parenExpr parses ( expr ) or a scalar subquery ( query ).
func (p *parser) parenExpr() (Expr, error) {
	pos := p.peek().pos
	if q, ok, err := p.maybeSubquery(); ok || err != nil {
		return &SubqueryExpr{Pos: pos, Query: q}, err
	}
	p.next()
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	_, err = p.expectOp(")")
	return e, err
}

// caseExpr parses CASE [operand] WHEN c THEN r ... [ELSE e] END.
func (p *parser) caseExpr() (Expr, error) {
	c := &CaseExpr{Pos: p.next().pos}
	var err error
	if !p.isKw("WHEN") {
		if c.Operand, err = p.expr(); err != nil {
			return nil, err
		}
	}
	for p.isKw("WHEN") {
		w := &When{Pos: p.next().pos}
		if w.Cond, err = p.expr(); err != nil {
			return nil, err
		}
		if _, err := p.expectKw("THEN"); err != nil {
			return nil, err
		}
		if w.Result, err = p.expr(); err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, w)
	}
	if len(c.Whens) == 0 {
		return nil, p.unexpected("WHEN")
	}
	if p.acceptKw("ELSE") {
		if c.Else, err = p.expr(); err != nil {
			return nil, err
		}
	}
	_, err = p.expectKw("END")
	return c, err
}

// castExpr parses CAST(x AS type) or TRY_CAST(x AS type).
func (p *parser) castExpr() (Expr, error) {
	t := p.next()
	p.next() // "("
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	if _, err := p.expectKw("AS"); err != nil {
		return nil, err
	}
	typ, err := p.typeName()
	if err != nil {
		return nil, err
	}
	_, err = p.expectOp(")")
	return &CastExpr{Pos: t.pos, X: x, Type: typ, Try: t.upper == "TRY_CAST"}, err
}

// intervalUnits are the units INTERVAL accepts after its value, singular
// and plural as DuckDB prints them.
var intervalUnits = map[string]bool{
	"YEAR": true, "YEARS": true, "QUARTER": true, "QUARTERS": true, "MONTH": true, "MONTHS": true,
	"WEEK": true, "WEEKS": true, "DAY": true, "DAYS": true, "HOUR": true, "HOURS": true,
	"MINUTE": true, "MINUTES": true, "SECOND": true, "SECONDS": true,
	"MILLISECOND": true, "MILLISECONDS": true, "MICROSECOND": true, "MICROSECONDS": true,
}

// intervalLit parses INTERVAL 'v' [unit] or INTERVAL n unit.
func (p *parser) intervalLit() (Expr, error) {
	pos := p.next().pos
	v := p.next()
	lit := &IntervalLit{Pos: pos}
	if v.kind == tokString {
		lit.Value = &StringLit{Pos: v.pos, Value: v.text}
	} else {
		lit.Value = &NumberLit{Pos: v.pos, Text: v.text}
	}
	if u := p.peek(); u.kind == tokIdent && intervalUnits[u.upper] {
		p.next()
		lit.Unit = u.upper
	} else if v.kind == tokNumber {
		return nil, p.unexpected("an interval unit (DAY, MONTH, YEAR...)")
	}
	return lit, nil
}

// extractExpr parses EXTRACT(field FROM x).
func (p *parser) extractExpr() (Expr, error) {
	pos := p.next().pos
	p.next() // "("
	f := p.peek()
	if (f.kind != tokIdent && f.kind != tokString) || !isWord(f.text) {
		return nil, p.unexpected("a date part (YEAR, MONTH, DAY...)")
	}
	p.next()
	if _, err := p.expectKw("FROM"); err != nil {
		return nil, err
	}
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	_, err = p.expectOp(")")
	return &ExtractExpr{Pos: pos, Field: asciiUpper(f.text), X: x}, err
}

// isWord reports whether s is letters and underscores only, as a date
// part is; a string date part ('year') must be one to print as a keyword.
func isWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '_' && (c|0x20 < 'a' || c|0x20 > 'z') {
			return false
		}
	}
	return s != ""
}
