package spec

import "strings"

// The parts of the expression grammar that name or build typed values:
// DATE and TIMESTAMP literals, and CAST with its type names.

// typedLiteral parses the string after DATE or TIMESTAMP: DATE
// '1998-12-01', TIMESTAMP '1998-12-01 10:00:00'.
func (p *parser) typedLiteral(name token) (Expr, error) {
	str := p.advance()
	var (
		v   int64
		err error
		typ Type
	)
	switch asciiUpper(name.text) {
	case "DATE":
		typ = Date
		v, err = ParseDate([]byte(str.text))
	case "TIMESTAMP":
		typ = Timestamp
		v, err = ParseTimestamp([]byte(str.text))
	default:
		return nil, p.errorf(str, "expected an operator or end of input, found %s", str.describe())
	}
	if err != nil {
		return nil, p.errorf(str, "invalid %s %s", typ, str.describe())
	}
	return &Literal{Type: typ, Int: v}, nil
}

// cast parses the rest of CAST(x AS type). A string literal cast to a
// decimal type is the decimal literal itself (Literal.String writes decimal
// literals that way).
func (p *parser) cast() (Expr, error) {
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	x, err := p.expr(precLowest)
	if err != nil {
		return nil, err
	}
	if err := p.expectKeyword("AS", " in CAST"); err != nil {
		return nil, err
	}
	typ, err := p.typeName()
	if err != nil {
		return nil, err
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	if lit, ok := x.(*Literal); ok && lit.Type == String && typ.IsDecimal() {
		if v, err := ParseDecimal([]byte(strings.TrimSpace(lit.Str)), typ); err == nil {
			return &Literal{Type: typ, Int: v}, nil
		}
	}
	return &Cast{X: x, To: typ}, nil
}

// typeName parses a type: a name, with "(p[, s])" for a decimal.
func (p *parser) typeName() (Type, error) {
	t := p.peek()
	if t.kind != tokIdent {
		return Null, p.errorf(t, "expected a type name, found %s", t.describe())
	}
	p.i++
	text := t.text
	if p.isOp("(") {
		p.i++
		text += "("
		for {
			a := p.advance()
			if a.kind != tokInt {
				return Null, p.errorf(a, "expected a number in the type %s, found %s", t.text, a.describe())
			}
			text += a.text
			if p.isOp(")") {
				p.i++
				break
			}
			if err := p.expectOp(","); err != nil {
				return Null, err
			}
			text += ","
		}
		text += ")"
	}
	typ, err := ParseType(text)
	if err != nil {
		return Null, p.errorf(t, "%v", err)
	}
	return typ, nil
}
