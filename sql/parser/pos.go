package parser

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Pos is where a node or token starts in the source text. Offset is in
// bytes (for slicing the source); Line and Col are 1-based, Col counted in
// characters, which is what a user sees and what Caret draws.
type Pos struct {
	Offset int
	Line   int
	Col    int
}

// Position returns p; every AST node embeds a Pos, so every node has it.
func (p Pos) Position() Pos { return p }

// Error is a syntax error at a position in the query. Callers that show
// errors to users render it with Render; the binder will return the same
// type for name and type errors, so one rendering serves both.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string {
	return fmt.Sprintf("sql: line %d, column %d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
}

// Render returns the error message, then the offending line of src with a
// caret under the error's column.
func (e *Error) Render(src string) string {
	return e.Error() + "\n" + Caret(src, e.Pos)
}

// errorf returns an *Error at p.
func errorf(p Pos, format string, args ...any) *Error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// Caret returns the line of src that holds p and, below it, a caret under
// p's column. Tabs before the column are repeated in the caret's line so
// the caret lines up in a terminal whatever its tab width. A position past
// the end of src (an error at EOF) puts the caret after the last character.
func Caret(src string, p Pos) string {
	off := min(max(p.Offset, 0), len(src))
	start := strings.LastIndexByte(src[:off], '\n') + 1
	end := strings.IndexByte(src[off:], '\n')
	if end < 0 {
		end = len(src)
	} else {
		end += off
	}
	line := strings.TrimSuffix(src[start:end], "\r")
	var pad strings.Builder
	for i := start; i < off && i < start+len(line); {
		r, w := utf8.DecodeRuneInString(src[i:])
		if r == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteByte(' ')
		}
		i += w
	}
	return line + "\n" + pad.String() + "^\n"
}
