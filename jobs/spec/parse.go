package spec

import (
	"fmt"
	"strconv"
	"strings"
)

// Binding powers of the expression grammar, loosest first (SQL precedence).
const (
	precLowest = iota
	precOr
	precAnd
	precNot
	precCmp // = <> < <= > >= IN IS BETWEEN
	precConcat
	precAdd
	precMul
	precUnary
	precPrimary
)

// parser is a Pratt parser over the tokens of one expression.
type parser struct {
	src   string
	toks  []token
	i     int
	depth int // nesting of expr calls, bounded by maxDepth
}

// maxDepth bounds the nesting of an expression, so that no input can
// exhaust the stack.
const maxDepth = 1000

// ParseExpr parses a scalar expression in SQL syntax, for example
// "amount > 10 AND country IN ('DE', 'FR')". Errors are *ExprError and
// locate the problem within src.
func ParseExpr(src string) (Expr, error) {
	p, err := newParser(src)
	if err != nil {
		return nil, err
	}
	e, err := p.expr(precLowest)
	if err != nil {
		return nil, err
	}
	if err := p.expectEOF(); err != nil {
		return nil, err
	}
	return e, nil
}

// ParseNamedExpr parses one select item, "expr [AS alias]". The alias may be
// left out only when expr is a bare column, which then names the output.
func ParseNamedExpr(src string) (NamedExpr, error) {
	p, err := newParser(src)
	if err != nil {
		return NamedExpr{}, err
	}
	e, err := p.expr(precLowest)
	if err != nil {
		return NamedExpr{}, err
	}
	ne := NamedExpr{Expr: e}
	if p.acceptKeyword("AS") {
		if ne.Alias, err = p.ident("an alias after AS"); err != nil {
			return NamedExpr{}, err
		}
	} else if col, ok := e.(*Column); ok {
		ne.Alias = col.Name
	}
	if err := p.expectEOF(); err != nil {
		return NamedExpr{}, err
	}
	if ne.Alias == "" {
		return NamedExpr{}, fmt.Errorf("spec: select item %q needs a name: write %q", src, strings.TrimSpace(src)+" AS name")
	}
	return ne, nil
}

// ParseSortKey parses "column [ASC|DESC] [NULLS FIRST|NULLS LAST]".
func ParseSortKey(src string) (SortKey, error) {
	p, err := newParser(src)
	if err != nil {
		return SortKey{}, err
	}
	col, err := p.ident("a column name")
	if err != nil {
		return SortKey{}, err
	}
	k := SortKey{Column: col}
	switch {
	case p.acceptWord("ASC"):
	case p.acceptWord("DESC"):
		k.Desc = true
	}
	if p.acceptWord("NULLS") {
		switch {
		case p.acceptWord("FIRST"):
			k.Nulls = NullsFirst
		case p.acceptWord("LAST"):
			k.Nulls = NullsLast
		default:
			t := p.peek()
			return SortKey{}, p.errorf(t, "expected FIRST or LAST after NULLS, found %s", t.describe())
		}
	}
	if t := p.peek(); t.kind != tokEOF {
		return SortKey{}, p.errorf(t, "expected ASC, DESC, NULLS FIRST, NULLS LAST or end of input, found %s", t.describe())
	}
	return k, nil
}

// acceptWord accepts the bare identifier word (ASCII case-insensitive), a
// word with a meaning only where it appears (ASC, NULLS, ESCAPE...), so not
// a reserved keyword.
func (p *parser) acceptWord(word string) bool {
	if t := p.peek(); t.kind == tokIdent && asciiUpper(t.text) == word {
		p.i++
		return true
	}
	return false
}

// ParseAgg parses one aggregate, "func(*|column) [AS alias]" with func one
// of count, sum, min, max, avg; only count takes *. Without an alias the
// output is named "count" for count(*) and func_column otherwise.
func ParseAgg(src string) (Agg, error) {
	p, err := newParser(src)
	if err != nil {
		return Agg{}, err
	}
	t := p.peek()
	if t.kind != tokIdent {
		return Agg{}, p.errorf(t, "expected an aggregate function (%s), found %s", strings.Join(aggNames[:], ", "), t.describe())
	}
	fn, ok := ParseAggFunc(asciiLower(t.text))
	if !ok {
		return Agg{}, p.errorf(t, "unknown aggregate function %q (known: %s)", t.text, strings.Join(aggNames[:], ", "))
	}
	p.i++
	if err := p.expectOp("("); err != nil {
		return Agg{}, err
	}
	a := Agg{Func: fn}
	if t := p.peek(); t.kind == tokOp && t.text == "*" && fn == AggCount {
		p.i++
	} else if a.Arg, err = p.ident("a column name"); err != nil {
		return Agg{}, err
	}
	if err := p.expectOp(")"); err != nil {
		return Agg{}, err
	}
	if p.acceptKeyword("AS") {
		if a.Alias, err = p.ident("an alias after AS"); err != nil {
			return Agg{}, err
		}
	} else {
		a.Alias = fn.String()
		if a.Arg != "" {
			a.Alias += "_" + a.Arg
		}
	}
	return a, p.expectEOF()
}

func newParser(src string) (*parser, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	return &parser{src: src, toks: toks}, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) advance() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) errorf(at token, format string, args ...any) error {
	return newExprError(p.src, at.pos, fmt.Sprintf(format, args...))
}

func (p *parser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tokKeyword && t.text == kw
}

func (p *parser) acceptKeyword(kw string) bool {
	if p.isKeyword(kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectKeyword(kw, context string) error {
	if p.acceptKeyword(kw) {
		return nil
	}
	t := p.peek()
	return p.errorf(t, "expected %s%s, found %s", kw, context, t.describe())
}

func (p *parser) isOp(op string) bool {
	t := p.peek()
	return t.kind == tokOp && t.text == op
}

func (p *parser) expectOp(op string) error {
	if p.isOp(op) {
		p.i++
		return nil
	}
	t := p.peek()
	return p.errorf(t, "expected %q, found %s", op, t.describe())
}

func (p *parser) expectEOF() error {
	if t := p.peek(); t.kind != tokEOF {
		return p.errorf(t, "expected an operator or end of input, found %s", t.describe())
	}
	return nil
}

// ident accepts a bare or quoted identifier.
func (p *parser) ident(what string) (string, error) {
	t := p.peek()
	if t.kind == tokIdent || t.kind == tokQIdent {
		p.i++
		return t.text, nil
	}
	return "", p.errorf(t, "expected %s, found %s", what, t.describe())
}

// expr parses an expression whose infix operators all bind at least as
// tightly as minPrec.
func (p *parser) expr(minPrec int) (Expr, error) {
	if p.depth++; p.depth > maxDepth {
		return nil, p.errorf(p.peek(), "expression nested more than %d deep", maxDepth)
	}
	defer func() { p.depth-- }()
	left, err := p.prefix()
	if err != nil {
		return nil, err
	}
	for {
		prec := p.infixPrec()
		if prec == 0 || prec < minPrec {
			return left, nil
		}
		if left, err = p.infix(left, prec); err != nil {
			return nil, err
		}
	}
}

// binaryOps maps infix operator tokens to their operator.
var binaryOps = map[string]BinaryOp{
	"+": OpAdd, "-": OpSub, "*": OpMul, "/": OpDiv, "%": OpMod,
	"=": OpEq, "<>": OpNe, "!=": OpNe, "<": OpLt, "<=": OpLe, ">": OpGt, ">=": OpGe,
	"AND": OpAnd, "OR": OpOr, "||": OpConcat,
}

// binaryPrec is the binding power of each binary operator.
var binaryPrec = [...]int{
	OpAdd: precAdd, OpSub: precAdd, OpMul: precMul, OpDiv: precMul, OpMod: precMul,
	OpEq: precCmp, OpNe: precCmp, OpLt: precCmp, OpLe: precCmp, OpGt: precCmp, OpGe: precCmp,
	OpAnd: precAnd, OpOr: precOr, OpConcat: precConcat,
}

// infixPrec is the binding power of the next token as an infix operator, or
// 0 when it is none.
func (p *parser) infixPrec() int {
	t := p.peek()
	switch t.kind {
	case tokOp:
		if op, ok := binaryOps[t.text]; ok {
			return binaryPrec[op]
		}
	case tokKeyword:
		switch t.text {
		case "AND", "OR":
			return binaryPrec[binaryOps[t.text]]
		case "IN", "IS", "BETWEEN", "LIKE", "ILIKE":
			return precCmp
		case "NOT": // NOT IN, NOT BETWEEN, NOT LIKE, NOT ILIKE
			if n := p.toks[p.i+1]; n.kind == tokKeyword && (n.text == "IN" || n.text == "BETWEEN" || n.text == "LIKE" || n.text == "ILIKE") {
				return precCmp
			}
		}
	}
	return 0
}

// infix parses the operator after left and its right operand. Binary
// operators are left associative.
func (p *parser) infix(left Expr, prec int) (Expr, error) {
	t := p.advance()
	if t.kind == tokKeyword {
		switch t.text {
		case "IN":
			return p.inList(left, false)
		case "IS":
			return p.isNull(left)
		case "BETWEEN":
			return p.between(left, false)
		case "LIKE", "ILIKE":
			return p.like(left, t.text == "ILIKE", false)
		case "NOT":
			switch n := p.advance(); n.text {
			case "IN":
				return p.inList(left, true)
			case "LIKE", "ILIKE":
				return p.like(left, n.text == "ILIKE", true)
			}
			return p.between(left, true)
		}
	}
	right, err := p.expr(prec + 1)
	if err != nil {
		return nil, err
	}
	return &Binary{Op: binaryOps[t.text], L: left, R: right}, nil
}

// inList parses "(a, b, ...)" after [NOT] IN.
func (p *parser) inList(x Expr, not bool) (Expr, error) {
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	args, err := p.exprList()
	if err != nil {
		return nil, err
	}
	if len(args) == 0 {
		return nil, p.errorf(p.toks[p.i-1], "expected at least one value in the IN list")
	}
	return &In{X: x, List: args, Not: not}, nil
}

// exprList parses "a, b, ...)" up to and including the closing parenthesis.
func (p *parser) exprList() ([]Expr, error) {
	var list []Expr
	if p.isOp(")") {
		p.i++
		return nil, nil
	}
	for {
		e, err := p.expr(precLowest)
		if err != nil {
			return nil, err
		}
		list = append(list, e)
		if p.isOp(",") {
			p.i++
			continue
		}
		if p.isOp(")") {
			p.i++
			return list, nil
		}
		t := p.peek()
		return nil, p.errorf(t, "expected \",\" or \")\", found %s", t.describe())
	}
}

// isNull parses "[NOT] NULL" or "[NOT] DISTINCT FROM y" after IS.
func (p *parser) isNull(x Expr) (Expr, error) {
	not := p.acceptKeyword("NOT")
	if p.acceptWord("DISTINCT") {
		return p.distinctFrom(x, not)
	}
	if err := p.expectKeyword("NULL", " after IS"); err != nil {
		return nil, err
	}
	return &IsNull{X: x, Not: not}, nil
}

// between parses "lo AND hi" after [NOT] BETWEEN: x BETWEEN lo AND hi is
// x >= lo AND x <= hi, and NOT BETWEEN is x < lo OR x > hi.
func (p *parser) between(x Expr, not bool) (Expr, error) {
	lo, err := p.expr(precConcat)
	if err != nil {
		return nil, err
	}
	if err := p.expectKeyword("AND", " in BETWEEN"); err != nil {
		return nil, err
	}
	hi, err := p.expr(precConcat)
	if err != nil {
		return nil, err
	}
	if not {
		return &Binary{Op: OpOr, L: &Binary{Op: OpLt, L: x, R: lo}, R: &Binary{Op: OpGt, L: x, R: hi}}, nil
	}
	return &Binary{Op: OpAnd, L: &Binary{Op: OpGe, L: x, R: lo}, R: &Binary{Op: OpLe, L: x, R: hi}}, nil
}

// prefix parses an operand: a literal, column, call, parenthesized
// expression, CASE, CAST, or a prefix operator applied to an operand.
func (p *parser) prefix() (Expr, error) {
	t := p.advance()
	switch t.kind {
	case tokInt, tokFloat:
		return p.number(t, "")
	case tokString:
		return &Literal{Type: String, Str: t.text}, nil
	case tokQIdent:
		return &Column{Name: t.text}, nil
	case tokIdent:
		if p.isOp("(") {
			p.i++
			return p.call(t)
		}
		if p.peek().kind == tokString {
			return p.typedLiteral(t)
		}
		return &Column{Name: t.text}, nil
	case tokKeyword:
		return p.prefixKeyword(t)
	case tokOp:
		return p.prefixOp(t)
	}
	return nil, p.errorf(t, "expected an operand, found %s", t.describe())
}

func (p *parser) prefixKeyword(t token) (Expr, error) {
	switch t.text {
	case "TRUE", "FALSE":
		return &Literal{Type: Bool, Bool: t.text == "TRUE"}, nil
	case "NULL":
		return &Literal{Type: Null}, nil
	case "NOT":
		x, err := p.expr(precNot)
		if err != nil {
			return nil, err
		}
		return &Unary{Op: OpNot, X: x}, nil
	case "CASE":
		return p.caseExpr()
	case "CAST":
		return p.cast()
	case "TRY_CAST":
		e, err := p.cast()
		if c, ok := e.(*Cast); ok {
			c.Try = true
		}
		return e, err
	}
	return nil, p.errorf(t, "expected an operand, found %s", t.describe())
}

func (p *parser) prefixOp(t token) (Expr, error) {
	switch t.text {
	case "(":
		e, err := p.expr(precLowest)
		if err != nil {
			return nil, err
		}
		return e, p.expectOp(")")
	case "-", "+":
		sign := t.text
		if n := p.peek(); n.kind == tokInt || n.kind == tokFloat {
			p.i++
			return p.number(n, sign)
		}
		x, err := p.expr(precUnary)
		if err != nil || sign == "+" {
			return x, err
		}
		return &Unary{Op: OpNeg, X: x}, nil
	}
	return nil, p.errorf(t, "expected an operand, found %s", t.describe())
}

// number converts a numeric token, with an optional sign before it, into a
// literal.
func (p *parser) number(t token, sign string) (Expr, error) {
	if sign == "+" {
		sign = ""
	}
	if t.kind == tokInt {
		v, err := strconv.ParseInt(sign+t.text, 10, 64)
		if err != nil {
			return nil, p.errorf(t, "integer %s%s out of range for int64", sign, t.text)
		}
		return &Literal{Type: Int64, Int: v}, nil
	}
	v, err := strconv.ParseFloat(sign+t.text, 64)
	if err != nil {
		return nil, p.errorf(t, "number %s%s out of range for float64", sign, t.text)
	}
	return &Literal{Type: Float64, Float: v}, nil
}

// call parses the arguments of name( ... ).
func (p *parser) call(name token) (Expr, error) {
	args, err := p.exprList()
	if err != nil {
		return nil, err
	}
	return &Call{Func: asciiLower(name.text), Args: args}, nil
}

// caseExpr parses the rest of CASE [x] WHEN ... THEN ... [ELSE ...] END. The
// simple form CASE x WHEN v becomes the searched form WHEN x = v.
func (p *parser) caseExpr() (Expr, error) {
	var subject Expr
	if t := p.peek(); t.kind == tokKeyword && (t.text == "END" || t.text == "ELSE") {
		return nil, p.errorf(t, "expected WHEN in CASE, found %s", t.describe())
	}
	if !p.isKeyword("WHEN") {
		var err error
		if subject, err = p.expr(precLowest); err != nil {
			return nil, err
		}
	}
	c := &Case{}
	for p.acceptKeyword("WHEN") {
		cond, err := p.expr(precLowest)
		if err != nil {
			return nil, err
		}
		if subject != nil {
			cond = &Binary{Op: OpEq, L: subject, R: cond}
		}
		if err := p.expectKeyword("THEN", " after WHEN"); err != nil {
			return nil, err
		}
		then, err := p.expr(precLowest)
		if err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, When{Cond: cond, Then: then})
	}
	if len(c.Whens) == 0 {
		t := p.peek()
		return nil, p.errorf(t, "expected WHEN in CASE, found %s", t.describe())
	}
	if p.acceptKeyword("ELSE") {
		var err error
		if c.Else, err = p.expr(precLowest); err != nil {
			return nil, err
		}
	}
	return c, p.expectKeyword("END", " to close CASE")
}
