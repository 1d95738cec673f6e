package spec

import (
	"fmt"
	"strings"
)

// tokKind is the kind of a lexical token of the expression language.
type tokKind uint8

const (
	tokEOF     tokKind = iota
	tokIdent           // bare identifier; text is as written
	tokQIdent          // "double quoted" identifier; text is unescaped
	tokInt             // integer literal; text is the digits
	tokFloat           // float literal; text as written
	tokString          // 'single quoted' string; text is unescaped
	tokOp              // operator or punctuation; text is the operator
	tokKeyword         // reserved word; text is upper-cased
)

// token is one lexical token. pos is its byte offset in the source.
type token struct {
	kind tokKind
	text string
	pos  int
}

// keywords are the reserved words. A column named like one of them must be
// written "double quoted".
var keywords = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "IN": true, "IS": true, "NULL": true,
	"TRUE": true, "FALSE": true, "BETWEEN": true, "CASE": true, "WHEN": true,
	"THEN": true, "ELSE": true, "END": true, "CAST": true, "TRY_CAST": true, "AS": true,
	"LIKE": true, "ILIKE": true,
}

// describe names the token for an error message.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokQIdent:
		return fmt.Sprintf("identifier %s", quoteIdent(t.text))
	case tokString:
		return fmt.Sprintf("string %s", quoteString(t.text))
	case tokKeyword:
		return t.text
	}
	return fmt.Sprintf("%q", t.text)
}

// lexer splits an expression into tokens.
type lexer struct {
	src string
	pos int
}

// lex returns every token of src, ending with tokEOF.
func lex(src string) ([]token, error) {
	lx := &lexer{src: src}
	var toks []token
	for {
		t, err := lx.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tokEOF {
			return toks, nil
		}
	}
}

func (lx *lexer) errorf(pos int, format string, args ...any) error {
	return newExprError(lx.src, pos, fmt.Sprintf(format, args...))
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) }

func (lx *lexer) next() (token, error) {
	for lx.pos < len(lx.src) && isSpace(lx.src[lx.pos]) {
		lx.pos++
	}
	start := lx.pos
	if start >= len(lx.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := lx.src[start]
	switch {
	case isIdentStart(c):
		for lx.pos < len(lx.src) && isIdentChar(lx.src[lx.pos]) {
			lx.pos++
		}
		word := lx.src[start:lx.pos]
		if up := asciiUpper(word); keywords[up] {
			return token{kind: tokKeyword, text: up, pos: start}, nil
		}
		return token{kind: tokIdent, text: word, pos: start}, nil
	case isDigit(c) || c == '.' && start+1 < len(lx.src) && isDigit(lx.src[start+1]):
		return lx.number()
	case c == '\'':
		s, err := lx.quoted('\'', "string")
		return token{kind: tokString, text: s, pos: start}, err
	case c == '"':
		s, err := lx.quoted('"', "identifier")
		if err == nil && s == "" {
			err = lx.errorf(start, "empty quoted identifier")
		}
		return token{kind: tokQIdent, text: s, pos: start}, err
	}
	return lx.operator()
}

// number lexes digits [. digits] [e [+-] digits].
func (lx *lexer) number() (token, error) {
	start := lx.pos
	digits := func() int {
		n := 0
		for lx.pos < len(lx.src) && isDigit(lx.src[lx.pos]) {
			lx.pos++
			n++
		}
		return n
	}
	kind := tokInt
	digits()
	if lx.pos < len(lx.src) && lx.src[lx.pos] == '.' {
		kind = tokFloat
		lx.pos++
		digits()
	}
	if lx.pos < len(lx.src) && (lx.src[lx.pos] == 'e' || lx.src[lx.pos] == 'E') {
		kind = tokFloat
		lx.pos++
		if lx.pos < len(lx.src) && (lx.src[lx.pos] == '+' || lx.src[lx.pos] == '-') {
			lx.pos++
		}
		if digits() == 0 {
			return token{}, lx.errorf(start, "malformed number %q: expected digits after the exponent", lx.src[start:lx.pos])
		}
	}
	if lx.pos < len(lx.src) && isIdentChar(lx.src[lx.pos]) {
		for lx.pos < len(lx.src) && isIdentChar(lx.src[lx.pos]) {
			lx.pos++
		}
		return token{}, lx.errorf(start, "malformed number %q", lx.src[start:lx.pos])
	}
	return token{kind: kind, text: lx.src[start:lx.pos], pos: start}, nil
}

// quoted lexes a q-quoted run where a doubled q stands for one q.
func (lx *lexer) quoted(q byte, what string) (string, error) {
	start := lx.pos
	lx.pos++
	var b strings.Builder
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		lx.pos++
		if c != q {
			b.WriteByte(c)
			continue
		}
		if lx.pos < len(lx.src) && lx.src[lx.pos] == q {
			b.WriteByte(q)
			lx.pos++
			continue
		}
		return b.String(), nil
	}
	return "", lx.errorf(start, "unterminated quoted %s", what)
}

// operators lists the operator tokens, longest first where they share a
// prefix.
var operators = []string{"||", "<>", "!=", "<=", ">=", "+", "-", "*", "/", "%", "=", "<", ">", "(", ")", ","}

func (lx *lexer) operator() (token, error) {
	rest := lx.src[lx.pos:]
	for _, op := range operators {
		if strings.HasPrefix(rest, op) {
			t := token{kind: tokOp, text: op, pos: lx.pos}
			lx.pos += len(op)
			return t, nil
		}
	}
	return token{}, lx.errorf(lx.pos, "unexpected character %q", rest[0])
}

// ExprError is a syntax error in an expression: Line and Col (1-based; Col
// counts bytes) locate it within Expr, the expression text.
type ExprError struct {
	Expr      string
	Line, Col int
	Msg       string
}

func (e *ExprError) Error() string {
	return fmt.Sprintf("spec: expression %q: line %d col %d: %s", e.Expr, e.Line, e.Col, e.Msg)
}

func newExprError(src string, pos int, msg string) *ExprError {
	line, col := 1, 1
	for i := 0; i < pos && i < len(src); i++ {
		if src[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &ExprError{Expr: src, Line: line, Col: col, Msg: msg}
}

// asciiUpper upper-cases the ASCII letters of s; keywords are ASCII, and
// Unicode case mapping would turn some non-ASCII words into keywords.
func asciiUpper(s string) string { return mapASCII(s, 'a', 'z', 'a'-'A', true) }

// asciiLower lower-cases the ASCII letters of s.
func asciiLower(s string) string { return mapASCII(s, 'A', 'Z', 'a'-'A', false) }

func mapASCII(s string, lo, hi, delta byte, down bool) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c < lo || c > hi:
		case down:
			b[i] = c - delta
		default:
			b[i] = c + delta
		}
	}
	return string(b)
}
