package parser

import "strings"

// maxDepth bounds how deeply expressions and queries nest, so that hostile
// input ("((((...") ends in an *Error rather than a huge stack. DuckDB's
// max_expression_depth default is the same.
const maxDepth = 1000

// reserved are the keywords that cannot be a bare column, table or alias
// name (PostgreSQL's reserved words that this dialect uses). Every other
// keyword (DATE, YEAR, OVER, ROWS, NULLS...) is matched only where the
// grammar expects it and is otherwise a name.
var reserved = map[string]bool{
	"ALL": true, "AND": true, "ANY": true, "AS": true, "ASC": true, "BETWEEN": true,
	"BY": true, "CASE": true, "CAST": true, "CROSS": true, "DESC": true, "DISTINCT": true,
	"ELSE": true, "END": true, "EXCEPT": true, "EXISTS": true, "FALSE": true, "FETCH": true,
	"FOR": true, "FROM": true, "FULL": true, "GROUP": true, "HAVING": true, "ILIKE": true,
	"IN": true, "INNER": true, "INTERSECT": true, "IS": true, "JOIN": true, "LATERAL": true,
	"LEFT": true, "LIKE": true, "LIMIT": true, "NATURAL": true, "NOT": true, "NULL": true,
	"OFFSET": true, "ON": true, "OR": true, "ORDER": true, "OUTER": true, "RIGHT": true,
	"SELECT": true, "THEN": true, "TRUE": true, "UNION": true, "USING": true, "WHEN": true,
	"WHERE": true, "WINDOW": true, "WITH": true, "QUALIFY": true,
}

// parser is a recursive-descent parser over the token slice. Errors travel
// as return values; nothing here panics on any input.
type parser struct {
	toks  []token
	i     int
	depth int
	memo  map[int]attempt // parenthesized queries tried in FROM, by first token
}

// Parse parses one query, optionally ended by semicolons.
func Parse(src string) (*Query, error) {
	p, err := newParser(src)
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tokEOF || p.isOp(";") {
		return nil, errorf(p.peek().pos, "empty statement")
	}
	q, err := p.query()
	if err != nil {
		return nil, err
	}
	return q, p.end()
}

// ParseExpr parses one scalar expression (for tests and for callers that
// hold an expression alone, such as a spec's filter).
func ParseExpr(src string) (Expr, error) {
	p, err := newParser(src)
	if err != nil {
		return nil, err
	}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	return e, p.end()
}

func newParser(src string) (*parser, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	return &parser{toks: toks}, nil
}

// end accepts trailing semicolons, then requires the end of the input.
func (p *parser) end() error {
	for p.isOp(";") {
		p.i++
	}
	if t := p.peek(); t.kind != tokEOF {
		return p.unexpected("the end of the statement")
	}
	return nil
}

func (p *parser) peek() token { return p.toks[p.i] }

// peekAt returns the token n ahead, or the EOF token past the end.
func (p *parser) peekAt(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// isKw reports whether the next token is the unquoted keyword kw.
func (p *parser) isKw(kw string) bool {
	t := p.peek()
	return t.kind == tokIdent && t.upper == kw
}

// acceptKw consumes the keyword kw if it is next.
func (p *parser) acceptKw(kw string) bool {
	if p.isKw(kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectKw(kw string) (Pos, error) {
	t := p.peek()
	if !p.acceptKw(kw) {
		return t.pos, p.unexpected(kw)
	}
	return t.pos, nil
}

func (p *parser) isOp(op string) bool {
	t := p.peek()
	return t.kind == tokOp && t.text == op
}

func (p *parser) acceptOp(op string) bool {
	if p.isOp(op) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectOp(op string) (Pos, error) {
	t := p.peek()
	if !p.acceptOp(op) {
		return t.pos, p.unexpected(`"` + op + `"`)
	}
	return t.pos, nil
}

// unexpected is the syntax error at the next token: what was expected and
// what was found instead.
func (p *parser) unexpected(want string) error {
	t := p.peek()
	return errorf(t.pos, "syntax error: expected %s, found %s", want, describe(t))
}

func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		return "string '" + strings.ReplaceAll(t.text, "'", "''") + "'"
	case tokQuotedIdent:
		return `"` + strings.ReplaceAll(t.text, `"`, `""`) + `"`
	case tokIdent:
		if reserved[t.upper] {
			return "keyword " + t.upper
		}
		return `"` + t.text + `"`
	}
	return `"` + t.text + `"`
}

// enter counts one level of nesting and fails past maxDepth; every
// recursive production calls it, paired with leave.
func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return errorf(p.peek().pos, "query nested too deeply (more than %d levels)", maxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// isName reports whether the next token can be a name: a quoted
// identifier or an unquoted one that is not reserved.
func (p *parser) isName() bool {
	t := p.peek()
	return t.kind == tokQuotedIdent || (t.kind == tokIdent && !reserved[t.upper])
}

// name parses one identifier.
func (p *parser) name(what string) (*Ident, error) {
	if !p.isName() {
		return nil, p.unexpected(what)
	}
	t := p.next()
	return &Ident{Pos: t.pos, Name: t.text, Quoted: t.kind == tokQuotedIdent}, nil
}

// nameList parses name {, name}.
func (p *parser) nameList(what string) ([]*Ident, error) {
	var out []*Ident
	for {
		id, err := p.name(what)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
		if !p.acceptOp(",") {
			return out, nil
		}
	}
}

// parenNameList parses ( name {, name} ).
func (p *parser) parenNameList(what string) ([]*Ident, error) {
	if _, err := p.expectOp("("); err != nil {
		return nil, err
	}
	ids, err := p.nameList(what)
	if err != nil {
		return nil, err
	}
	_, err = p.expectOp(")")
	return ids, err
}

// exprList parses expr {, expr}.
func (p *parser) exprList() ([]Expr, error) {
	var out []Expr
	for {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		if !p.acceptOp(",") {
			return out, nil
		}
	}
}
