package formats

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/batchrun/batchrun/operators"
)

// CSV field splitting and value parsing shared by CSVScan and
// InferCSVSchema. Lines are split by hand; fields that start with '"' are
// RFC 4180 quoted fields ("" is an escaped quote); a quote anywhere else is
// an ordinary byte. A quoted field must close on its own line: quoted
// newlines are rejected, because splits are cut at newlines.

const (
	msgNoCloseQuote = "quoted field does not close on its line (quoted newlines are not supported)"
	msgAfterQuote   = "unexpected character after a closing quote"
)

// splitter splits lines into fields without allocating per line.
type splitter struct {
	delim   byte
	quote   byte     // the quote byte, '"' unless the read says otherwise
	fields  [][]byte // one per expected column
	scratch []byte   // the unescaped bytes of quoted fields with ""
}

// next extracts the field starting at pos. end is the index of the
// delimiter after it, or len(line); msg is set for a malformed quoted field.
func (s *splitter) next(line []byte, pos int) (f []byte, end int, msg string) {
	if pos < len(line) && line[pos] == s.quote {
		return s.quoted(line, pos)
	}
	i := bytes.IndexByte(line[pos:], s.delim)
	if i < 0 {
		return line[pos:], len(line), ""
	}
	return line[pos : pos+i], pos + i, ""
}

func (s *splitter) quoted(line []byte, pos int) ([]byte, int, string) {
	i, start, escaped := pos+1, len(s.scratch), false
	for {
		q := bytes.IndexByte(line[i:], s.quote)
		if q < 0 {
			return nil, 0, msgNoCloseQuote
		}
		q += i
		if q+1 < len(line) && line[q+1] == s.quote {
			s.scratch = append(s.scratch, line[i:q+1]...)
			i, escaped = q+2, true
			continue
		}
		if q+1 < len(line) && line[q+1] != s.delim {
			return nil, 0, msgAfterQuote
		}
		if !escaped {
			return line[pos+1 : q], q + 1, ""
		}
		s.scratch = append(s.scratch, line[i:q]...)
		return s.scratch[start:], q + 1, ""
	}
}

// skipQuoted returns the end of the quoted field at line[pos] == quote as
// splitter.quoted finds it, or its message, without unescaping the field.
func skipQuoted(line []byte, pos int, quote, delim byte) (int, string) {
	for i := pos + 1; ; {
		q := bytes.IndexByte(line[i:], quote)
		if q < 0 {
			return 0, msgNoCloseQuote
		}
		q += i
		if q+1 < len(line) && line[q+1] == quote {
			i = q + 2
			continue
		}
		if q+1 < len(line) && line[q+1] != delim {
			return 0, msgAfterQuote
		}
		return q + 1, ""
	}
}

// split splits line into s.fields. It returns the number of fields the
// line has (counting stops at len(s.fields)+1), or the 1-based column and
// message of a malformed quoted field.
func (s *splitter) split(line []byte) (nf, badCol int, msg string) {
	s.scratch = s.scratch[:0]
	want := len(s.fields)
	pos := 0
	for c := 0; ; c++ {
		f, end, msg := s.next(line, pos)
		if msg != "" {
			return c, c + 1, msg
		}
		if c < want {
			s.fields[c] = f
		}
		if end >= len(line) {
			return c + 1, 0, ""
		}
		if c+1 >= want {
			return c + 2, 0, "" // a delimiter follows the last wanted field
		}
		pos = end + 1
	}
}

// splitAll returns every field of line (copies, for headers and samples).
func (s *splitter) splitAll(line []byte) (fields []string, badCol int, msg string) {
	s.scratch = s.scratch[:0]
	for pos := 0; ; {
		f, end, msg := s.next(line, pos)
		if msg != "" {
			return nil, len(fields) + 1, msg
		}
		fields = append(fields, string(f))
		if end >= len(line) {
			return fields, 0, ""
		}
		pos = end + 1
	}
}

// trimCR drops a trailing '\r' (CRLF line ends).
func trimCR(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		return line[:n-1]
	}
	return line
}

// parseInt64 parses a decimal int64 with an optional sign. The fast path
// takes up to 18 digits; longer input goes through strconv.
func parseInt64(b []byte) (int64, bool) {
	i, neg := 0, false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		i, neg = 1, b[0] == '-'
	}
	if i == len(b) {
		return 0, false
	}
	if len(b)-i > 18 {
		v, err := strconv.ParseInt(string(b), 10, 64)
		return v, err == nil
	}
	var v int64
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			return 0, false
		}
		v = v*10 + int64(d)
	}
	if neg {
		v = -v
	}
	return v, true
}

// scanInt64 parses the unquoted int64 field at line[pos] (pos <
// len(line)) up to the delimiter or the end of the line, whichever comes
// first, and returns the index where it stopped. It fails (and the caller
// takes the general path) on anything but [sign]1-18 digits.
func scanInt64(line []byte, pos int, delim byte) (int64, int, bool) {
	i, neg := pos, line[pos] == '-'
	if neg || line[pos] == '+' {
		i++
	}
	start := i
	var v uint64
	if i+8 <= len(line) {
		if w, ok := eightDigits(line[i:]); ok {
			v, i = w, i+8
		}
	}
	for ; i < len(line); i++ {
		d := line[i] - '0'
		if d > 9 {
			break
		}
		v = v*10 + uint64(d)
	}
	if n := i - start; n == 0 || n > 18 || (i < len(line) && line[i] != delim) {
		return 0, 0, false
	}
	if neg {
		return -int64(v), i, true
	}
	return int64(v), i, true
}

// eightDigits parses b[:8] when all eight bytes are ASCII digits, with a
// few word operations instead of eight multiply-adds.
func eightDigits(b []byte) (uint64, bool) {
	w := binary.LittleEndian.Uint64(b)
	const hi, six = 0xF0F0F0F0F0F0F0F0, 0x0606060606060606
	if w&hi != 0x3030303030303030 || (w+six)&hi != 0x3030303030303030 {
		return 0, false
	}
	w -= 0x3030303030303030
	w = (w * 10) + (w >> 8)
	w = ((w & 0x000000FF000000FF) * (100 + (1000000 << 32))) +
		(((w >> 16) & 0x000000FF000000FF) * (1 + (10000 << 32)))
	return w >> 32, true
}

// scanFloat64 is scanInt64 for [sign]digits[.digits] floats with at most
// 15 significant digits (see parseFloat64).
func scanFloat64(line []byte, pos int, delim byte) (float64, int, bool) {
	i, neg := pos, line[pos] == '-'
	if neg || line[pos] == '+' {
		i++
	}
	var mant uint64
	digits, dotAt := 0, -1
	for ; i < len(line); i++ {
		c := line[i]
		if d := c - '0'; d <= 9 {
			mant = mant*10 + uint64(d)
			digits++
			continue
		}
		if c != '.' || dotAt >= 0 {
			break
		}
		dotAt = i
	}
	if digits == 0 || digits > 15 || (i < len(line) && line[i] != delim) {
		return 0, 0, false
	}
	frac := 0
	if dotAt >= 0 {
		frac = i - dotAt - 1
	}
	f := float64(mant) / pow10[frac]
	if neg {
		f = -f
	}
	return f, i, true
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat64 parses a float. The fast path takes [sign]digits[.digits]
// with at most 15 significant digits: the mantissa and the power of ten are
// exact, so one division is correctly rounded, the same result as strconv.
// Anything else (exponents, inf, nan, long mantissas) goes through strconv.
func parseFloat64(b []byte) (float64, bool) {
	i, neg := 0, false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		i, neg = 1, b[0] == '-'
	}
	var mant uint64
	digits, frac, dot := 0, 0, false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return parseFloatSlow(b)
		}
	}
	if digits == 0 || digits > 15 {
		return parseFloatSlow(b)
	}
	f := float64(mant) / pow10[frac]
	if neg {
		f = -f
	}
	return f, true
}

func parseFloatSlow(b []byte) (float64, bool) {
	f, err := strconv.ParseFloat(string(b), 64)
	return f, err == nil
}

// parseBool accepts what strconv.ParseBool accepts (true, false, 1, 0, t,
// f, TRUE, True, ...).
func parseBool(b []byte) (bool, bool) {
	switch string(b) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	v, err := strconv.ParseBool(string(b))
	return v, err == nil
}

// parseFailure explains why b does not parse as typ, in strconv's words.
func parseFailure(b []byte, typ string) string {
	var err error
	switch typ {
	case "int64":
		_, err = strconv.ParseInt(string(b), 10, 64)
	case "float64":
		_, err = strconv.ParseFloat(string(b), 64)
	default:
		_, err = strconv.ParseBool(string(b))
	}
	reason := "invalid syntax"
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		reason = ne.Err.Error()
	}
	return fmt.Sprintf("parse %q as %s: %s", b, typ, reason)
}

// readHeader reads the header line from r, at the start of a file's
// content: its fields and the offset just past it.
func readHeader(r *bufio.Reader, path string, delim, quote byte) ([]string, int64, error) {
	var line []byte
	for {
		b, err := r.ReadSlice('\n')
		line = append(line, b...)
		switch err {
		case bufio.ErrBufferFull:
			continue
		case nil:
			return splitHeader(line[:len(line)-1], path, delim, quote, int64(len(line)))
		case io.EOF:
			if len(line) == 0 {
				return nil, 0, &operators.DataError{File: path, Line: 1, Column: 1, Msg: "empty file, want a header row"}
			}
			return splitHeader(line, path, delim, quote, int64(len(line)))
		}
		return nil, 0, err // names the file (decoders.open)
	}
}

func splitHeader(line []byte, path string, delim, quote byte, end int64) ([]string, int64, error) {
	line = trimCR(bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")))
	s := splitter{delim: delim, quote: quote}
	names, col, msg := s.splitAll(line)
	if msg != "" {
		return nil, 0, &operators.DataError{File: path, Line: 1, Column: col, Msg: msg}
	}
	return names, end, nil
}
