package spec

import (
	"math"
	"math/bits"
	"strconv"
)

// The text forms of dates, timestamps and decimals, shared by the
// expression language (literals, casts) and the file formats. Parsers take
// bytes and allocate nothing; they fail with strconv.ErrSyntax for text of
// the wrong shape and strconv.ErrRange for a value that does not fit.
//
//	date       YYYY-MM-DD (month and day may have one digit)
//	timestamp  YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]][Z|±HH[:MM]]; digits
//	           past the sixth of the fraction are dropped, an offset is
//	           subtracted (the value is UTC)
//	decimal    [±]digits[.digits][e[±]digits]: more fractional digits than
//	           the scale round half away from zero; more integer digits than
//	           precision - scale are out of range
//
// Formatting: dates as YYYY-MM-DD, timestamps as YYYY-MM-DD HH:MM:SS with
// .ffffff (trailing zeros dropped) only when the fraction is not zero, and
// decimals with exactly their scale's digits after the point.

// Microseconds in a day and in a second.
const (
	MicrosPerSecond = 1_000_000
	MicrosPerDay    = 86_400 * MicrosPerSecond
)

// pow10i holds 10^0 .. 10^18.
var pow10i = [...]int64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// Pow10 is 10^n for 0 <= n <= 18.
func Pow10(n int) int64 { return pow10i[n] }

// DaysFromCivil is the day number (days since 1970-01-01) of a date of the
// proleptic Gregorian calendar; month and day are not checked.
func DaysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12 // March is 0
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// CivilFromDays is the year, month (1-12) and day (1-31) of day number z.
func CivilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

// DaysInMonth is the number of days of month m (1-12) of year y.
func DaysInMonth(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func floorDiv(x, m int64) int64 {
	q := x / m
	if x%m != 0 && (x < 0) != (m < 0) {
		q--
	}
	return q
}

// FloorDivMod is x divided by m (m > 0) rounded toward minus infinity, and
// the remainder in [0, m).
func FloorDivMod(x, m int64) (int64, int64) {
	q, r := x/m, x%m
	if r < 0 {
		q, r = q-1, r+m
	}
	return q, r
}

// digitsAt parses the digits of b from i, at least lo and at most hi of
// them; n is how many.
func digitsAt(b []byte, i, lo, hi int) (v int64, n int, ok bool) {
	for n < hi && i+n < len(b) && b[i+n]-'0' <= 9 {
		v = v*10 + int64(b[i+n]-'0')
		n++
	}
	return v, n, n >= lo
}

// parseDatePrefix parses YYYY-MM-DD at the start of b and returns the day
// number and the length of the date.
func parseDatePrefix(b []byte) (days int64, n int, err error) {
	y, ny, ok := digitsAt(b, 0, 4, 6)
	if !ok || ny >= len(b) || b[ny] != '-' {
		return 0, 0, strconv.ErrSyntax
	}
	i := ny + 1
	m, nm, ok := digitsAt(b, i, 1, 2)
	if !ok || i+nm >= len(b) || b[i+nm] != '-' {
		return 0, 0, strconv.ErrSyntax
	}
	i += nm + 1
	d, nd, ok := digitsAt(b, i, 1, 2)
	if !ok {
		return 0, 0, strconv.ErrSyntax
	}
	if m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, m) {
		return 0, 0, strconv.ErrRange
	}
	return DaysFromCivil(y, m, d), i + nd, nil
}

// ParseDate parses YYYY-MM-DD into days since 1970-01-01.
func ParseDate(b []byte) (int64, error) {
	days, n, err := parseDatePrefix(b)
	if err == nil && n != len(b) {
		err = strconv.ErrSyntax
	}
	return days, err
}

// ParseTimestamp parses a timestamp (see above) into microseconds since
// 1970-01-01 00:00:00 UTC.
func ParseTimestamp(b []byte) (int64, error) {
	days, i, err := parseDatePrefix(b)
	if err != nil {
		return 0, err
	}
	var micros int64
	if i < len(b) && (b[i] == ' ' || b[i] == 'T') {
		if micros, i, err = parseClock(b, i+1); err != nil {
			return 0, err
		}
	}
	off, err := parseZone(b[i:])
	if err != nil {
		return 0, err
	}
	if days > math.MaxInt64/MicrosPerDay-1 || days < math.MinInt64/MicrosPerDay+1 {
		return 0, strconv.ErrRange
	}
	return days*MicrosPerDay + micros - off, nil
}

// parseClock parses HH:MM[:SS[.ffffff]] at b[i:] into microseconds of the day.
func parseClock(b []byte, i int) (int64, int, error) {
	h, n, ok := digitsAt(b, i, 2, 2)
	if !ok || i+n >= len(b) || b[i+n] != ':' {
		return 0, 0, strconv.ErrSyntax
	}
	i += n + 1
	m, n, ok := digitsAt(b, i, 2, 2)
	if !ok {
		return 0, 0, strconv.ErrSyntax
	}
	i += n
	var s, frac int64
	if i < len(b) && b[i] == ':' {
		if s, n, ok = digitsAt(b, i+1, 2, 2); !ok {
			return 0, 0, strconv.ErrSyntax
		}
		i += n + 1
		if i < len(b) && b[i] == '.' {
			f, nf, ok := digitsAt(b, i+1, 1, 6)
			if !ok {
				return 0, 0, strconv.ErrSyntax
			}
			frac = f * pow10i[6-nf]
			i += nf + 1
			for i < len(b) && b[i]-'0' <= 9 {
				i++
			}
		}
	}
	if h > 23 || m > 59 || s > 59 {
		return 0, 0, strconv.ErrRange
	}
	return ((h*60+m)*60+s)*MicrosPerSecond + frac, i, nil
}

// parseZone parses what may follow a timestamp's clock: nothing, Z, or an
// offset ±HH[:MM]; it returns the offset in microseconds.
func parseZone(b []byte) (int64, error) {
	switch {
	case len(b) == 0:
		return 0, nil
	case len(b) == 1 && (b[0] == 'Z' || b[0] == 'z'):
		return 0, nil
	case b[0] != '+' && b[0] != '-':
		return 0, strconv.ErrSyntax
	}
	h, n, ok := digitsAt(b, 1, 2, 2)
	if !ok {
		return 0, strconv.ErrSyntax
	}
	i := 1 + n
	var m int64
	if i < len(b) && b[i] == ':' {
		i++
	}
	if i < len(b) {
		if m, n, ok = digitsAt(b, i, 2, 2); !ok {
			return 0, strconv.ErrSyntax
		}
		i += n
	}
	if i != len(b) {
		return 0, strconv.ErrSyntax
	}
	if h > 23 || m > 59 {
		return 0, strconv.ErrRange
	}
	off := (h*60 + m) * 60 * MicrosPerSecond
	if b[0] == '-' {
		off = -off
	}
	return off, nil
}

// AppendDate appends day number days as YYYY-MM-DD.
func AppendDate(dst []byte, days int64) []byte {
	y, m, d := CivilFromDays(days)
	if y < 0 {
		dst = append(dst, '-')
		y = -y
	}
	dst = appendPadded(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, m, 2)
	dst = append(dst, '-')
	return appendPadded(dst, d, 2)
}

// AppendTimestamp appends micros as YYYY-MM-DD HH:MM:SS[.ffffff].
func AppendTimestamp(dst []byte, micros int64) []byte {
	days, us := FloorDivMod(micros, MicrosPerDay)
	dst = AppendDate(dst, days)
	secs, frac := us/MicrosPerSecond, us%MicrosPerSecond
	dst = append(dst, ' ')
	dst = appendPadded(dst, secs/3600, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, secs/60%60, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, secs%60, 2)
	if frac == 0 {
		return dst
	}
	digits := 6
	for frac%10 == 0 {
		frac /= 10
		digits--
	}
	dst = append(dst, '.')
	return appendPadded(dst, frac, digits)
}

// appendPadded appends v >= 0 in at least width digits, zero-padded.
func appendPadded(dst []byte, v int64, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 10 || width > 1 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	i--
	buf[i] = byte('0' + v)
	return append(dst, buf[i:]...)
}

// ParseDecimal parses b as a value of decimal type t: the number times
// 10^scale, rounded half away from zero. It fails with strconv.ErrRange
// when the result has more than t's precision digits.
func ParseDecimal(b []byte, t Type) (int64, error) {
	i, neg := 0, false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		i, neg = 1, b[0] == '-'
	}
	intStart := i
	for i < len(b) && b[i]-'0' <= 9 {
		i++
	}
	intEnd, fracStart, fracEnd := i, i, i
	if i < len(b) && b[i] == '.' {
		i++
		fracStart = i
		for i < len(b) && b[i]-'0' <= 9 {
			i++
		}
		fracEnd = i
	}
	if intEnd == intStart && fracEnd == fracStart {
		return 0, strconv.ErrSyntax
	}
	exp := 0
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		e, n, ok := parseExponent(b[i+1:])
		if !ok {
			return 0, strconv.ErrSyntax
		}
		exp, i = e, i+1+n
	}
	if i != len(b) {
		return 0, strconv.ErrSyntax
	}
	d := decDigits{b: b, intStart: intStart, intLen: intEnd - intStart, fracStart: fracStart,
		n: intEnd - intStart + fracEnd - fracStart}
	v, err := d.scaled(exp-(fracEnd-fracStart)+t.Scale(), t.Precision())
	if neg {
		v = -v
	}
	return v, err
}

// parseExponent parses [±]digits, clamped to ±10000.
func parseExponent(b []byte) (int, int, bool) {
	i, neg := 0, false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		i, neg = 1, b[0] == '-'
	}
	start, e := i, 0
	for ; i < len(b) && b[i]-'0' <= 9; i++ {
		e = min(e*10+int(b[i]-'0'), 10000)
	}
	if neg {
		e = -e
	}
	return e, i, i > start
}

// decDigits is the digit string of a decimal's text: its integer digits
// then its fractional digits, n in all.
type decDigits struct {
	b                []byte
	intStart, intLen int
	fracStart, n     int
}

func (d *decDigits) at(j int) int64 {
	if j < d.intLen {
		return int64(d.b[d.intStart+j] - '0')
	}
	return int64(d.b[d.fracStart+j-d.intLen] - '0')
}

// scaled is the digit string times 10^k, rounded half away from zero,
// checked to have at most prec digits.
func (d *decDigits) scaled(k, prec int) (int64, error) {
	keep := d.n // digits before the rounding point
	if k < 0 {
		keep = d.n + k
	}
	lead := 0
	for lead < keep && d.at(lead) == 0 {
		lead++
	}
	if keep-lead > MaxDecimalPrecision {
		return 0, strconv.ErrRange
	}
	var v int64
	for j := lead; j < keep; j++ {
		v = v*10 + d.at(j)
	}
	if keep >= 0 && keep < d.n && d.at(keep) >= 5 {
		v++
	}
	if k > 0 && v != 0 {
		if k > MaxDecimalPrecision || v >= pow10i[MaxDecimalPrecision-k] {
			return 0, strconv.ErrRange
		}
		v *= pow10i[k]
	}
	if v >= pow10i[prec] {
		return 0, strconv.ErrRange
	}
	return v, nil
}

// AppendDecimal appends v, a decimal of the given scale, with exactly
// scale digits after the point ("-0.05", "7" for scale 0).
func AppendDecimal(dst []byte, v int64, scale int) []byte {
	u := uint64(v)
	if v < 0 {
		dst = append(dst, '-')
		u = -u
	}
	if scale == 0 {
		return strconv.AppendUint(dst, u, 10)
	}
	p := uint64(pow10i[scale])
	dst = strconv.AppendUint(dst, u/p, 10)
	dst = append(dst, '.')
	return appendPadded(dst, int64(u%p), scale)
}

// DecimalFits reports whether v has at most precision digits.
func DecimalFits(v int64, precision int) bool {
	b := pow10i[precision]
	return v < b && v > -b
}

// Rescale converts v from scale from to scale to (both 0-18), rounding
// half away from zero when the scale drops; ok is false when the result
// overflows int64.
func Rescale(v int64, from, to int) (int64, bool) {
	switch {
	case to > from:
		return MulOverflows(v, pow10i[to-from])
	case to < from:
		return DivRound(v, pow10i[from-to]), true
	}
	return v, true
}

// DivRound is v / p (p > 0) rounded half away from zero.
func DivRound(v, p int64) int64 {
	q, r := v/p, v%p
	switch {
	case r > 0 && r >= p-r:
		q++
	case r < 0 && -r >= p+r:
		q--
	}
	return q
}

// MulOverflows is a * b; ok is false when it overflows int64.
func MulOverflows(a, b int64) (int64, bool) {
	ua, ub := uint64(a), uint64(b)
	neg := (a < 0) != (b < 0)
	if a < 0 {
		ua = -ua
	}
	if b < 0 {
		ub = -ub
	}
	hi, lo := bits.Mul64(ua, ub)
	if hi != 0 || lo > math.MaxInt64 && !(neg && lo == 1<<63) {
		return 0, false
	}
	if neg {
		return -int64(lo), true
	}
	return int64(lo), true
}
