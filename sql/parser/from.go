package parser

// fromList parses FROM's comma-separated items.
func (p *parser) fromList() ([]TableExpr, error) {
	var out []TableExpr
	for {
		t, err := p.tableRef()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		if !p.acceptOp(",") {
			return out, nil
		}
	}
}

// tableRef parses a table primary followed by any number of joins, which
// associate to the left.
func (p *parser) tableRef() (TableExpr, error) {
	left, err := p.tablePrimary()
	if err != nil {
		return nil, err
	}
	for {
		pos := p.peek().pos
		kind, ok, err := p.joinKind()
		if err != nil {
			return nil, err
		}
		if !ok {
			return left, nil
		}
		right, err := p.tablePrimary()
		if err != nil {
			return nil, err
		}
		j := &Join{Pos: pos, Kind: kind, Left: left, Right: right}
		if kind != JoinCross {
			if err := p.joinCondition(j); err != nil {
				return nil, err
			}
		}
		left = j
	}
}

// joinKind consumes [INNER | LEFT|RIGHT|FULL [OUTER] | CROSS] JOIN; ok is
// false, with nothing consumed, when no join is next.
func (p *parser) joinKind() (JoinKind, bool, error) {
	kind := JoinInner
	switch {
	case p.isKw("JOIN"):
	case p.acceptKw("INNER"):
	case p.acceptKw("CROSS"):
		kind = JoinCross
	case p.isKw("LEFT") || p.isKw("RIGHT") || p.isKw("FULL"):
		kind = map[string]JoinKind{"LEFT": JoinLeft, "RIGHT": JoinRight, "FULL": JoinFull}[p.next().upper]
		p.acceptKw("OUTER")
	case p.isKw("NATURAL"):
		return 0, false, errorf(p.peek().pos, "NATURAL joins are not supported: name the columns with USING")
	default:
		return 0, false, nil
	}
	if _, err := p.expectKw("JOIN"); err != nil {
		return 0, false, err
	}
	return kind, true, nil
}

// joinCondition parses ON expr or USING (cols).
func (p *parser) joinCondition(j *Join) error {
	var err error
	switch {
	case p.acceptKw("ON"):
		j.On, err = p.expr()
	case p.acceptKw("USING"):
		j.Using, err = p.parenNameList("a column name")
	default:
		err = p.unexpected("ON or USING")
	}
	return err
}

// tablePrimary parses a table name, a derived table or a parenthesized
// join. "((" can open a query or a join: maybeSubquery tries the query
// first and backtracks, which the token slice makes exact.
func (p *parser) tablePrimary() (TableExpr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	pos := p.peek().pos
	if !p.isOp("(") {
		return p.tableName()
	}
	q, ok, err := p.maybeSubquery()
	if ok || err != nil {
		d := &DerivedTable{Pos: pos, Query: q}
		if err == nil {
			d.Alias, err = p.tableAlias()
		}
		return d, err
	}
	p.next() // "("
	t, err := p.tableRef()
	if err != nil {
		return nil, err
	}
	_, err = p.expectOp(")")
	return t, err
}

// attempt is the outcome of parsing a parenthesized query at one token.
type attempt struct {
	q   *Query
	end int
	err error
}

// memoParenQuery is parenQuery remembered by its first token (p.memo): a
// parenthesized query parses the same wherever it is tried, and without
// the memo nested "((" that are tried as a query and then as something
// else would cost exponential time.
func (p *parser) memoParenQuery() (*Query, error) {
	if a, ok := p.memo[p.i]; ok {
		p.i = a.end
		return a.q, a.err
	}
	start := p.i
	q, err := p.parenQuery()
	if p.memo == nil {
		p.memo = map[int]attempt{}
	}
	p.memo[start] = attempt{q: q, end: p.i, err: err}
	return q, err
}

func (p *parser) tableName() (TableExpr, error) {
	first, err := p.name("a table name")
	if err != nil {
		return nil, err
	}
	t := &TableName{Pos: first.Pos, Name: []*Ident{first}}
	for p.acceptOp(".") {
		id, err := p.name("a table name")
		if err != nil {
			return nil, err
		}
		t.Name = append(t.Name, id)
	}
	t.Alias, err = p.tableAlias()
	return t, err
}

// tableAlias parses [AS] name [(col, ...)], returning nil when absent.
func (p *parser) tableAlias() (*TableAlias, error) {
	pos := p.peek().pos
	name, err := p.alias()
	if name == nil || err != nil {
		return nil, err
	}
	a := &TableAlias{Pos: pos, Name: name}
	if p.isOp("(") {
		a.Columns, err = p.parenNameList("a column name")
	}
	return a, err
}
