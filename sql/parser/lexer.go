package parser

import (
	"strings"
	"unicode/utf8"
)

// tokenKind says what a token is. Keywords are not a kind of their own:
// they are identifiers, matched by their upper-cased text, so that the
// non-reserved ones (YEAR, DATE, OVER, ROWS...) stay usable as names.
type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokQuotedIdent // "x": never a keyword
	tokNumber
	tokString
	tokOp // punctuation and operators: ( ) , . ; + - * / % || = <> != < <= > >= ::
)

// token is one lexeme. text is the identifier as written, the number's
// exact text, the string's value with ” undone, or the operator; upper is
// the ASCII upper-case of an unquoted identifier, for keyword matching.
type token struct {
	kind  tokenKind
	text  string
	upper string
	pos   Pos
}

// lexer turns SQL text into tokens. It tracks line starts so that every
// token carries a full Pos without a second pass.
type lexer struct {
	src       string
	off       int
	line      int
	lineStart int
}

// lex returns all tokens of src, ending with tokEOF, or the first lexical
// error. The parser backtracks over the slice (a parenthesized FROM item
// may be a query or a join), which a stream would not allow.
func lex(src string) ([]token, error) {
	l := &lexer{src: src, line: 1}
	var toks []token
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tokEOF {
			return toks, nil
		}
	}
}

func (l *lexer) pos() Pos {
	return Pos{Offset: l.off, Line: l.line, Col: utf8.RuneCountInString(l.src[l.lineStart:l.off]) + 1}
}

// advance moves past n bytes, counting the newlines in them.
func (l *lexer) advance(n int) {
	for i := l.off; i < l.off+n; i++ {
		if l.src[i] == '\n' {
			l.line++
			l.lineStart = i + 1
		}
	}
	l.off += n
}

func (l *lexer) peekByte(i int) byte {
	if l.off+i < len(l.src) {
		return l.src[l.off+i]
	}
	return 0
}

// twoByteOps are the operators longer than one byte; the lexer tries them
// before the single bytes.
var twoByteOps = []string{"||", "<>", "!=", "<=", ">=", "::"}

func (l *lexer) next() (token, error) {
	if err := l.skipSpaceAndComments(); err != nil {
		return token{}, err
	}
	p := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tokEOF, pos: p}, nil
	}
	c := l.src[l.off]
	switch {
	case isIdentStart(c):
		return l.ident(p), nil
	case isDigit(c) || (c == '.' && isDigit(l.peekByte(1))):
		return l.number(p), nil
	case c == '\'':
		s, err := l.quoted('\'', p, "string")
		return token{kind: tokString, text: s, pos: p}, err
	case c == '"':
		s, err := l.quoted('"', p, "quoted identifier")
		if err == nil && s == "" {
			err = errorf(p, "zero-length quoted identifier")
		}
		return token{kind: tokQuotedIdent, text: s, pos: p}, err
	}
	for _, op := range twoByteOps {
		if strings.HasPrefix(l.src[l.off:], op) {
			l.advance(2)
			return token{kind: tokOp, text: op, pos: p}, nil
		}
	}
	if strings.IndexByte("(),.;+-*/%=<>", c) >= 0 {
		l.advance(1)
		return token{kind: tokOp, text: string(c), pos: p}, nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.off:])
	return token{}, errorf(p, "unexpected character %q", r)
}

// skipSpaceAndComments skips blanks, -- line comments and /* */ block
// comments (which nest, as in PostgreSQL).
func (l *lexer) skipSpaceAndComments() error {
	for l.off < len(l.src) {
		switch c := l.src[l.off]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			l.advance(1)
		case c == '-' && l.peekByte(1) == '-':
			end := strings.IndexByte(l.src[l.off:], '\n')
			if end < 0 {
				end = len(l.src) - l.off
			}
			l.advance(end)
		case c == '/' && l.peekByte(1) == '*':
			if err := l.blockComment(); err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

func (l *lexer) blockComment() error {
	p := l.pos()
	l.advance(2)
	depth := 1
	for l.off < len(l.src) {
		switch {
		case strings.HasPrefix(l.src[l.off:], "*/"):
			l.advance(2)
			depth--
			if depth == 0 {
				return nil
			}
		case strings.HasPrefix(l.src[l.off:], "/*"):
			l.advance(2)
			depth++
		default:
			l.advance(1)
		}
	}
	return errorf(p, "unterminated /* comment")
}

// isIdentStart allows bytes of multi-byte UTF-8 characters in names, as
// PostgreSQL does, without judging which characters are letters.
func isIdentStart(c byte) bool {
	return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (l *lexer) ident(p Pos) token {
	end := l.off
	for end < len(l.src) && isIdentPart(l.src[end]) {
		end++
	}
	text := l.src[l.off:end]
	l.advance(end - l.off)
	return token{kind: tokIdent, text: text, upper: asciiUpper(text), pos: p}
}

// number scans digits [. digits] [e [+-] digits], keeping the exact text:
// the binder types 0.05 as an exact decimal, which a float would lose.
func (l *lexer) number(p Pos) token {
	s, end := l.src, l.off
	digits := func() {
		for end < len(s) && isDigit(s[end]) {
			end++
		}
	}
	digits()
	if end < len(s) && s[end] == '.' {
		end++
		digits()
	}
	if end < len(s) && (s[end] == 'e' || s[end] == 'E') {
		e := end + 1
		if e < len(s) && (s[e] == '+' || s[e] == '-') {
			e++
		}
		if e < len(s) && isDigit(s[e]) {
			end = e
			digits()
		}
	}
	text := s[l.off:end]
	l.advance(end - l.off)
	return token{kind: tokNumber, text: text, pos: p}
}

// quoted scans a q-quoted string whose q is escaped by doubling it, and
// returns its value.
func (l *lexer) quoted(q byte, p Pos, what string) (string, error) {
	var b strings.Builder
	i := l.off + 1
	for i < len(l.src) {
		c := l.src[i]
		if c != q {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 < len(l.src) && l.src[i+1] == q {
			b.WriteByte(q)
			i += 2
			continue
		}
		l.advance(i + 1 - l.off)
		return b.String(), nil
	}
	return "", errorf(p, "unterminated %s", what)
}

// asciiUpper upper-cases ASCII letters only: strings.ToUpper would turn
// "ſelect" into SELECT, making a name a keyword.
func asciiUpper(s string) string { return asciiShift(s, 'a', 'z', 'A'-'a') }

// asciiLower lower-cases ASCII letters only.
func asciiLower(s string) string { return asciiShift(s, 'A', 'Z', 'a'-'A') }

// asciiShift adds delta to every byte of s in [lo, hi].
func asciiShift(s string, lo, hi byte, delta int) string {
	b := []byte(s)
	for i, c := range b {
		if c >= lo && c <= hi {
			b[i] = byte(int(c) + delta)
		}
	}
	return string(b)
}
