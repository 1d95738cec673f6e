package formats

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// Hand-rolled JSON token helpers for the JSON lines reader. They work on
// one line in place and allocate nothing on the common path (strings
// without escapes are returned as sub-slices of the line). Each returns the
// position after what it parsed, or a message on malformed input.

// jsonSpace marks the JSON whitespace bytes.
var jsonSpace = [256]bool{' ': true, '\t': true, '\r': true, '\n': true}

func skipWS(line []byte, p int) int {
	for p < len(line) && jsonSpace[line[p]] {
		p++
	}
	return p
}

// jsonString parses the string starting at line[p] == '"'. Without
// escapes it returns a sub-slice of line; with escapes it unescapes into
// *scratch (appending) and returns that part of it.
func jsonString(line []byte, p int, scratch *[]byte) ([]byte, int, string) {
	start := p + 1
	q := bytes.IndexByte(line[start:], '"')
	if q < 0 {
		return nil, 0, "unterminated string"
	}
	if bytes.IndexByte(line[start:start+q], '\\') < 0 {
		return line[start : start+q], start + q + 1, ""
	}
	return jsonUnescape(line, start, scratch)
}

// jsonUnescape is the slow path of jsonString: the string at line[start:]
// has escapes.
func jsonUnescape(line []byte, start int, scratch *[]byte) ([]byte, int, string) {
	out := *scratch
	base := len(out)
	for i := start; i < len(line); {
		c := line[i]
		switch {
		case c == '"':
			*scratch = out
			return out[base:], i + 1, ""
		case c != '\\':
			out = append(out, c)
			i++
			continue
		case i+1 >= len(line):
			return nil, 0, "unterminated string"
		}
		i++
		switch e := line[i]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n, ok := jsonRune(line[i+1:])
			if !ok {
				return nil, 0, `bad \u escape`
			}
			out = utf8.AppendRune(out, r)
			i += n
		default:
			return nil, 0, "bad escape \\" + string(e)
		}
		i++
	}
	return nil, 0, "unterminated string"
}

// jsonRune decodes the 4 hex digits after \u (and a following \uDC00-
// \uDFFF low surrogate); n is the bytes consumed after the 'u'.
func jsonRune(b []byte) (r rune, n int, ok bool) {
	hi, ok := hex4(b)
	if !ok {
		return 0, 0, false
	}
	if hi < 0xD800 || hi > 0xDBFF {
		return hi, 4, true
	}
	if len(b) >= 10 && b[4] == '\\' && b[5] == 'u' {
		if lo, ok := hex4(b[6:]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
			return 0x10000 + (hi-0xD800)<<10 + (lo - 0xDC00), 10, true
		}
	}
	return utf8.RuneError, 4, true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(v), err == nil
}

// jsonNumberEnd returns the end of the number token at line[p].
func jsonNumberEnd(line []byte, p int) int {
	for p < len(line) {
		switch c := line[p]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			p++
		default:
			return p
		}
	}
	return p
}

// jsonLiteral matches true, false or null at line[p].
func jsonLiteral(line []byte, p int, lit string) bool {
	return len(line)-p >= len(lit) && string(line[p:p+len(lit)]) == lit
}

// jsonSkip skips the value at line[p] (a field the schema does not have).
func jsonSkip(line []byte, p int, scratch *[]byte) (int, string) {
	if p >= len(line) {
		return 0, "missing value"
	}
	switch c := line[p]; {
	case c == '"':
		_, end, msg := jsonString(line, p, scratch)
		return end, msg
	case c == '{' || c == '[':
		return jsonSkipNested(line, p)
	case c == 't' && jsonLiteral(line, p, "true"):
		return p + 4, ""
	case c == 'f' && jsonLiteral(line, p, "false"):
		return p + 5, ""
	case c == 'n' && jsonLiteral(line, p, "null"):
		return p + 4, ""
	case c == '-' || c >= '0' && c <= '9':
		return jsonNumberEnd(line, p), ""
	}
	return 0, "invalid value"
}

// jsonSkipNested skips an object or array, minding strings.
func jsonSkipNested(line []byte, p int) (int, string) {
	depth := 0
	for i := p; i < len(line); i++ {
		switch line[i] {
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1, ""
			}
		case '"':
			for i++; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' {
					i++
				}
			}
		}
	}
	return 0, "unterminated object or array"
}
