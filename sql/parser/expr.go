package parser

// Binding powers, lowest first: PostgreSQL's operator precedence table.
// Comparison sits below BETWEEN/IN/LIKE, and || below + and -, so that
// a || b + c is a || (b + c) and a = b IS NULL is (a = b) IS NULL.
const (
	precOr      = 1
	precAnd     = 2
	precNot     = 3 // prefix NOT
	precIs      = 4 // IS [NOT] NULL|TRUE|FALSE|DISTINCT FROM
	precCompare = 5 // = <> < <= > >=
	precPred    = 6 // [NOT] BETWEEN, IN, LIKE, ILIKE
	precConcat  = 7 // || and other operators
	precAdd     = 8
	precMul     = 9
	precUnary   = 10 // prefix - and +
	precCast    = 11 // postfix ::
)

// infix describes the operator at the next token, if any: its binding
// power and how many tokens spell it (NOT LIKE is two).
func (p *parser) infix() (prec int, op string) {
	t := p.peek()
	switch t.kind {
	case tokOp:
		switch t.text {
		case "=", "<>", "!=", "<", "<=", ">", ">=":
			return precCompare, t.text
		case "||":
			return precConcat, t.text
		case "+", "-":
			return precAdd, t.text
		case "*", "/", "%":
			return precMul, t.text
		case "::":
			return precCast, t.text
		}
	case tokIdent:
		switch t.upper {
		case "OR":
			return precOr, t.upper
		case "AND":
			return precAnd, t.upper
		case "IS":
			return precIs, t.upper
		case "BETWEEN", "IN", "LIKE", "ILIKE":
			return precPred, t.upper
		case "NOT":
			switch n := p.peekAt(1); {
			case n.kind == tokIdent && (n.upper == "BETWEEN" || n.upper == "IN" || n.upper == "LIKE" || n.upper == "ILIKE"):
				return precPred, "NOT " + n.upper
			}
		}
	}
	return 0, ""
}

// expr parses a full expression.
func (p *parser) expr() (Expr, error) { return p.exprPrec(precOr) }

// exprPrec parses an expression whose infix operators all bind at least
// as tightly as minPrec: precedence climbing. Binary operators are
// left-associative (the right side is parsed at prec+1); the predicate
// forms (IS, BETWEEN, IN, LIKE) and :: are handled as postfix operators
// at their own level.
func (p *parser) exprPrec(minPrec int) (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	left, err := p.prefix()
	if err != nil {
		return nil, err
	}
	for {
		prec, op := p.infix()
		if prec == 0 || prec < minPrec {
			return left, nil
		}
		if left, err = p.infixExpr(left, prec, op); err != nil {
			return nil, err
		}
	}
}

// infixExpr parses the operator op (at the next token) and its right side.
func (p *parser) infixExpr(left Expr, prec int, op string) (Expr, error) {
	t := p.next()
	switch prec {
	case precIs:
		return p.isExpr(left, t.pos)
	case precPred:
		not := op[0] == 'N'
		if not {
			p.next()
		}
		return p.predicate(left, t.pos, op, not)
	case precCast:
		typ, err := p.typeName()
		return &CastExpr{Pos: t.pos, X: left, Type: typ}, err
	}
	right, err := p.exprPrec(prec + 1)
	if err != nil {
		return nil, err
	}
	if op == "!=" {
		op = "<>"
	}
	return &BinaryExpr{Pos: t.pos, Op: op, L: left, R: right}, nil
}

// prefix parses NOT x, -x, +x or a primary.
func (p *parser) prefix() (Expr, error) {
	t := p.peek()
	switch {
	case t.kind == tokIdent && t.upper == "NOT":
		p.next()
		x, err := p.exprPrec(precNot)
		return &UnaryExpr{Pos: t.pos, Op: "NOT", X: x}, err
	case t.kind == tokOp && (t.text == "-" || t.text == "+"):
		p.next()
		x, err := p.exprPrec(precUnary)
		return &UnaryExpr{Pos: t.pos, Op: t.text, X: x}, err
	}
	return p.primary()
}

// isExpr parses what follows IS: [NOT] NULL|TRUE|FALSE or [NOT] DISTINCT
// FROM y.
func (p *parser) isExpr(left Expr, pos Pos) (Expr, error) {
	not := p.acceptKw("NOT")
	switch {
	case p.isKw("NULL") || p.isKw("TRUE") || p.isKw("FALSE"):
		return &IsExpr{Pos: pos, X: left, Not: not, What: p.next().upper}, nil
	case p.acceptKw("DISTINCT"):
		if _, err := p.expectKw("FROM"); err != nil {
			return nil, err
		}
		right, err := p.exprPrec(precIs + 1)
		return &IsDistinctExpr{Pos: pos, L: left, R: right, Not: not}, err
	}
	return nil, p.unexpected("NULL, TRUE, FALSE or DISTINCT FROM after IS")
}

// predicate parses the right side of [NOT] BETWEEN, IN, LIKE or ILIKE.
// Their operands bind tighter than the predicate itself, so the AND of
// BETWEEN is never read as a conjunction.
func (p *parser) predicate(left Expr, pos Pos, op string, not bool) (Expr, error) {
	switch op {
	case "BETWEEN", "NOT BETWEEN":
		lo, err := p.exprPrec(precPred + 1)
		if err != nil {
			return nil, err
		}
		if _, err := p.expectKw("AND"); err != nil {
			return nil, err
		}
		hi, err := p.exprPrec(precPred + 1)
		return &BetweenExpr{Pos: pos, X: left, Lo: lo, Hi: hi, Not: not}, err
	case "IN", "NOT IN":
		return p.inExpr(left, pos, not)
	}
	like := &LikeExpr{Pos: pos, X: left, Not: not, ILike: op == "ILIKE" || op == "NOT ILIKE"}
	var err error
	if like.Pattern, err = p.exprPrec(precPred + 1); err != nil {
		return nil, err
	}
	if p.acceptKw("ESCAPE") {
		like.Escape, err = p.exprPrec(precPred + 1)
	}
	return like, err
}

// inExpr parses (list) or (query) after [NOT] IN.
func (p *parser) inExpr(left Expr, pos Pos, not bool) (Expr, error) {
	if !p.isOp("(") {
		return nil, p.unexpected(`"(" after IN`)
	}
	if q, ok, err := p.maybeSubquery(); ok || err != nil {
		return &InSubqueryExpr{Pos: pos, X: left, Query: q, Not: not}, err
	}
	p.next()
	list, err := p.exprList()
	if err != nil {
		return nil, err
	}
	if _, err := p.expectOp(")"); err != nil {
		return nil, err
	}
	return &InListExpr{Pos: pos, X: left, List: list, Not: not}, nil
}

// maybeSubquery parses "(" query ")" at the next token when that is what
// it is. "(SELECT" and "(WITH" are certainly queries (ok, or the query's
// error); "((" may open a query, ((SELECT 1) UNION (SELECT 2)), or an
// expression, ((SELECT 1) + 1): the query is tried and, failing, nothing
// is consumed and ok is false, for the caller to parse an expression.
func (p *parser) maybeSubquery() (q *Query, ok bool, err error) {
	inner := p.peekAt(1)
	switch {
	case inner.kind == tokIdent && (inner.upper == "SELECT" || inner.upper == "WITH"):
		q, err := p.memoParenQuery()
		return q, err == nil, err
	case inner.kind == tokOp && inner.text == "(":
		start := p.i
		if q, err := p.memoParenQuery(); err == nil {
			return q, true, nil
		}
		p.i = start
	}
	return nil, false, nil
}

// typeName parses name [(n [, m])]; DOUBLE PRECISION is the one type
// spelled with two words.
func (p *parser) typeName() (*TypeName, error) {
	id, err := p.name("a type name")
	if err != nil {
		return nil, err
	}
	t := &TypeName{Pos: id.Pos, Name: asciiLower(id.Name)}
	if !id.Quoted && t.Name == "double" && p.acceptKw("PRECISION") {
		t.Name = "double precision"
	}
	if !p.acceptOp("(") {
		return t, nil
	}
	for {
		n := p.peek()
		if n.kind != tokNumber {
			return nil, p.unexpected("a number in the type's parameters")
		}
		p.next()
		t.Args = append(t.Args, n.text)
		if !p.acceptOp(",") {
			break
		}
	}
	_, err = p.expectOp(")")
	return t, err
}
