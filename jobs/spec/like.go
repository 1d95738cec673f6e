package spec

import (
	"fmt"
	"strings"
)

// Like is X [NOT] LIKE 'Pattern' [ESCAPE 'c'], or ILIKE (case-insensitive)
// with ILike. In Pattern, % matches any run of characters (none included)
// and _ exactly one character; Escape, when not 0, makes the character
// after it literal (it may escape %, _ or itself). There is no escape
// character by default (SQL's rule; PostgreSQL's default is a
// backslash). The pattern must be a literal: it is compiled once. A NULL X
// gives NULL.
type Like struct {
	X       Expr
	Pattern string
	Escape  byte
	Not     bool
	ILike   bool
}

func (*Like) exprNode() {}

func (l *Like) String() string {
	var sb strings.Builder
	sb.WriteString(wrap(l.X, prec(l.X) < precCmp))
	if l.Not {
		sb.WriteString(" NOT")
	}
	if l.ILike {
		sb.WriteString(" ILIKE ")
	} else {
		sb.WriteString(" LIKE ")
	}
	sb.WriteString(quoteString(l.Pattern))
	if l.Escape != 0 {
		sb.WriteString(" ESCAPE ")
		sb.WriteString(quoteString(string(rune(l.Escape))))
	}
	return sb.String()
}

// like parses "'pattern' [ESCAPE 'c']" after [NOT] LIKE or ILIKE.
func (p *parser) like(x Expr, ilike, not bool) (Expr, error) {
	t := p.advance()
	if t.kind != tokString {
		return nil, p.errorf(t, "expected a string literal pattern after LIKE, found %s", t.describe())
	}
	l := &Like{X: x, Pattern: t.text, Not: not, ILike: ilike}
	if p.acceptWord("ESCAPE") {
		e := p.advance()
		if e.kind != tokString || len(e.text) > 1 || len(e.text) == 1 && e.text[0] >= 0x80 {
			return nil, p.errorf(e, "expected one ASCII character in quotes after ESCAPE, found %s", e.describe())
		}
		if e.text != "" {
			l.Escape = e.text[0]
		}
	}
	if err := checkLikePattern(l); err != nil {
		return nil, p.errorf(t, "%v", err)
	}
	return l, nil
}

// checkLikePattern rejects a pattern that ends in its escape character.
func checkLikePattern(l *Like) error {
	if l.Escape == 0 {
		return nil
	}
	for i := 0; i < len(l.Pattern); i++ {
		if l.Pattern[i] == l.Escape {
			if i+1 == len(l.Pattern) {
				return fmt.Errorf("LIKE pattern %s ends with its escape character", quoteString(l.Pattern))
			}
			i++
		}
	}
	return nil
}

func typeLike(e *Like, in Schema) (Type, error) {
	t, err := TypeOf(e.X, in)
	if err != nil {
		return Null, err
	}
	if t != String && t != Null {
		return Null, fmt.Errorf("spec: LIKE needs a string operand, got %s in %q (use CAST(x AS string))", t, e)
	}
	if err := checkLikePattern(e); err != nil {
		return Null, fmt.Errorf("spec: %v in %q", err, e)
	}
	return Bool, nil
}

// distinctFrom parses the rest of x IS [NOT] DISTINCT FROM y, which it
// desugars into a CASE that treats NULLs as equal values:
//
//	x IS DISTINCT FROM y      CASE WHEN x IS NULL THEN y IS NOT NULL WHEN y IS NULL THEN TRUE ELSE x <> y END
//	x IS NOT DISTINCT FROM y  CASE WHEN x IS NULL THEN y IS NULL WHEN y IS NULL THEN FALSE ELSE x = y END
func (p *parser) distinctFrom(x Expr, not bool) (Expr, error) {
	if !p.acceptWord("FROM") {
		t := p.peek()
		return nil, p.errorf(t, "expected FROM after IS DISTINCT, found %s", t.describe())
	}
	y, err := p.expr(precConcat)
	if err != nil {
		return nil, err
	}
	cmp := &Binary{Op: OpNe, L: x, R: y}
	if not {
		cmp.Op = OpEq
	}
	return &Case{
		Whens: []When{
			{Cond: &IsNull{X: x}, Then: &IsNull{X: y, Not: !not}},
			{Cond: &IsNull{X: y}, Then: &Literal{Type: Bool, Bool: !not}},
		},
		Else: cmp,
	}, nil
}
