package parser

// query parses [WITH ...] body [ORDER BY ...] [LIMIT n] [OFFSET n].
func (p *parser) query() (*Query, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	q := &Query{Pos: p.peek().pos}
	if p.acceptKw("WITH") {
		ctes, err := p.ctes()
		if err != nil {
			return nil, err
		}
		q.With = ctes
	}
	body, err := p.setExpr(0)
	if err != nil {
		return nil, err
	}
	q.Body = body
	if p.isKw("ORDER") {
		if q.OrderBy, err = p.orderBy(); err != nil {
			return nil, err
		}
	}
	return q, p.limitOffset(q)
}

// limitOffset parses LIMIT and OFFSET, in either order, each at most once.
func (p *parser) limitOffset(q *Query) error {
	for {
		var dst *Expr
		switch {
		case p.isKw("LIMIT") && q.Limit == nil:
			dst = &q.Limit
		case p.isKw("OFFSET") && q.Offset == nil:
			dst = &q.Offset
		default:
			return nil
		}
		p.next()
		e, err := p.expr()
		if err != nil {
			return err
		}
		*dst = e
		p.acceptKw("ROWS") // OFFSET n ROWS, as the standard spells it
	}
}

func (p *parser) ctes() ([]*CTE, error) {
	var out []*CTE
	for {
		name, err := p.name("a CTE name")
		if err != nil {
			return nil, err
		}
		c := &CTE{Pos: name.Pos, Name: name}
		if p.isOp("(") {
			if c.Columns, err = p.parenNameList("a column name"); err != nil {
				return nil, err
			}
		}
		if _, err := p.expectKw("AS"); err != nil {
			return nil, err
		}
		if c.Query, err = p.parenQuery(); err != nil {
			return nil, err
		}
		out = append(out, c)
		if !p.acceptOp(",") {
			return out, nil
		}
	}
}

// parenQuery parses ( query ).
func (p *parser) parenQuery() (*Query, error) {
	if _, err := p.expectOp("("); err != nil {
		return nil, err
	}
	q, err := p.query()
	if err != nil {
		return nil, err
	}
	_, err = p.expectOp(")")
	return q, err
}

// setOpPrec is the binding power of a set operator: INTERSECT binds
// tighter than UNION and EXCEPT, as in the standard and PostgreSQL.
func setOpPrec(t token) int {
	if t.kind != tokIdent {
		return 0
	}
	switch t.upper {
	case "UNION", "EXCEPT":
		return 1
	case "INTERSECT":
		return 2
	}
	return 0
}

// setExpr parses set operations by precedence climbing; all are
// left-associative.
func (p *parser) setExpr(minPrec int) (SetExpr, error) {
	left, err := p.setPrimary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		prec := setOpPrec(t)
		if prec == 0 || prec < minPrec {
			return left, nil
		}
		p.next()
		op := &SetOp{Pos: t.pos, Op: t.upper, Left: left}
		if p.acceptKw("ALL") {
			op.All = true
		} else {
			p.acceptKw("DISTINCT")
		}
		if op.Right, err = p.setExpr(prec + 1); err != nil {
			return nil, err
		}
		left = op
	}
}

// setPrimary parses a SELECT or a parenthesized query. Parentheses that
// only group (the inner query has no WITH, ORDER BY, LIMIT or OFFSET)
// leave no node, so that the printer's grouping parentheses read back as
// the same tree.
func (p *parser) setPrimary() (SetExpr, error) {
	if p.isKw("SELECT") {
		return p.selectBlock()
	}
	if !p.isOp("(") {
		return nil, p.unexpected("SELECT or (")
	}
	q, err := p.parenQuery()
	if err != nil {
		return nil, err
	}
	if q.With == nil && q.OrderBy == nil && q.Limit == nil && q.Offset == nil {
		return q.Body, nil
	}
	return q, nil
}

func (p *parser) selectBlock() (*Select, error) {
	s := &Select{Pos: p.next().pos}
	if p.acceptKw("DISTINCT") {
		s.Distinct = true
	} else {
		p.acceptKw("ALL")
	}
	var err error
	if s.Items, err = p.selectItems(); err != nil {
		return nil, err
	}
	if p.acceptKw("FROM") {
		if s.From, err = p.fromList(); err != nil {
			return nil, err
		}
	}
	if p.acceptKw("WHERE") {
		if s.Where, err = p.expr(); err != nil {
			return nil, err
		}
	}
	if s.GroupBy, err = p.byList("GROUP"); err != nil {
		return nil, err
	}
	if p.acceptKw("HAVING") {
		if s.Having, err = p.expr(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (p *parser) selectItems() ([]*SelectItem, error) {
	var out []*SelectItem
	for {
		it, err := p.selectItem()
		if err != nil {
			return nil, err
		}
		out = append(out, it)
		if !p.acceptOp(",") {
			return out, nil
		}
	}
}

// selectItem parses *, t.* [EXCLUDE ...] or expr [[AS] alias].
func (p *parser) selectItem() (*SelectItem, error) {
	pos := p.peek().pos
	if star, ok, err := p.star(); ok || err != nil {
		return &SelectItem{Pos: pos, Expr: star}, err
	}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	it := &SelectItem{Pos: pos, Expr: e}
	it.Alias, err = p.alias()
	return it, err
}

// star parses * or name{.name}.* with an optional EXCLUDE; ok is false,
// with nothing consumed, when no star is next.
func (p *parser) star() (*Star, bool, error) {
	n := 0
	for p.peekAt(n).kind == tokIdent || p.peekAt(n).kind == tokQuotedIdent {
		if t := p.peekAt(n + 1); t.kind != tokOp || t.text != "." {
			return nil, false, nil
		}
		n += 2
	}
	if t := p.peekAt(n); t.kind != tokOp || t.text != "*" {
		return nil, false, nil
	}
	s := &Star{Pos: p.peek().pos}
	for p.peekAt(1).kind == tokOp && p.peekAt(1).text == "." {
		id, err := p.name("a table name")
		if err != nil {
			return nil, true, err
		}
		s.Table = append(s.Table, id)
		p.next() // "."
	}
	p.next() // "*"
	if p.acceptKw("EXCLUDE") {
		var err error
		if p.isOp("(") {
			s.Exclude, err = p.parenNameList("a column name")
		} else {
			s.Exclude, err = p.nameList("a column name")
		}
		if err != nil {
			return nil, true, err
		}
	}
	return s, true, nil
}

// alias parses [AS] name, returning nil when there is none.
func (p *parser) alias() (*Ident, error) {
	if p.acceptKw("AS") {
		return p.name("an alias")
	}
	if p.isName() {
		return p.name("an alias")
	}
	return nil, nil
}

// byList parses kw BY expr {, expr} (GROUP BY, PARTITION BY), or nothing
// when kw is not next.
func (p *parser) byList(kw string) ([]Expr, error) {
	if !p.acceptKw(kw) {
		return nil, nil
	}
	if _, err := p.expectKw("BY"); err != nil {
		return nil, err
	}
	return p.exprList()
}

// orderBy parses ORDER BY item {, item}.
func (p *parser) orderBy() ([]*OrderItem, error) {
	p.next() // ORDER
	if _, err := p.expectKw("BY"); err != nil {
		return nil, err
	}
	var out []*OrderItem
	for {
		pos := p.peek().pos
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		it := &OrderItem{Pos: pos, Expr: e}
		if p.acceptKw("DESC") {
			it.Desc = true
		} else {
			p.acceptKw("ASC")
		}
		if p.isKw("NULLS") {
			p.next()
			switch {
			case p.acceptKw("FIRST"):
				it.Nulls = NullsFirst
			case p.acceptKw("LAST"):
				it.Nulls = NullsLast
			default:
				return nil, p.unexpected("FIRST or LAST")
			}
		}
		out = append(out, it)
		if !p.acceptOp(",") {
			return out, nil
		}
	}
}
