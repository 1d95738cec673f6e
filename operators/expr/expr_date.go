package expr

import (
	"fmt"

	"github.com/batchrun/batchrun/jobs/spec"
)

// date_part, date_trunc and date_add over dates (days since 1970-01-01),
// timestamps (microseconds since 1970-01-01 UTC) and int64 unix seconds.
// Every value is first split into a day number and a time of day in
// microseconds; the calendar is the proleptic Gregorian one of
// spec.CivilFromDays, the week the ISO week (it starts on Monday).

// splitTime splits v of type t (a date, a timestamp, or else int64 unix
// seconds) into its day number and its microseconds into the day.
func splitTime(v int64, t spec.Type) (days, micros int64) {
	switch t {
	case spec.Date:
		return v, 0
	case spec.Timestamp:
		return spec.FloorDivMod(v, spec.MicrosPerDay)
	}
	days, secs := spec.FloorDivMod(v, 86400)
	return days, secs * spec.MicrosPerSecond
}

// joinTime is the inverse of splitTime.
func joinTime(days, micros int64, t spec.Type) int64 {
	switch t {
	case spec.Date:
		return days
	case spec.Timestamp:
		return days*spec.MicrosPerDay + micros
	}
	return days*86400 + micros/spec.MicrosPerSecond
}

// isoWeekday is 0 for Monday .. 6 for Sunday.
func isoWeekday(days int64) int64 {
	_, r := spec.FloorDivMod(days+3, 7)
	return r
}

// datePartOf returns date_part(unit, v) for v of type t.
func datePartOf(unit string, t spec.Type) func(int64) int64 {
	return func(v int64) int64 {
		days, us := splitTime(v, t)
		switch unit {
		case "hour":
			return us / (3600 * spec.MicrosPerSecond)
		case "minute":
			return us / (60 * spec.MicrosPerSecond) % 60
		case "second":
			return us / spec.MicrosPerSecond % 60
		case "dow":
			_, r := spec.FloorDivMod(days+4, 7) // 1970-01-01 was a Thursday
			return r
		case "week":
			thu := days - isoWeekday(days) + 3
			y, _, _ := spec.CivilFromDays(thu)
			return (thu-spec.DaysFromCivil(y, 1, 1))/7 + 1
		}
		y, m, d := spec.CivilFromDays(days)
		switch unit {
		case "year":
			return y
		case "quarter":
			return (m-1)/3 + 1
		case "month":
			return m
		case "day":
			return d
		}
		return days - spec.DaysFromCivil(y, 1, 1) + 1 // doy
	}
}

// dateTruncOf returns date_trunc(unit, v) for v of type t: a value of t.
func dateTruncOf(unit string, t spec.Type) func(int64) int64 {
	return func(v int64) int64 {
		days, us := splitTime(v, t)
		var unitUs int64
		switch unit {
		case "hour":
			unitUs = 3600 * spec.MicrosPerSecond
		case "minute":
			unitUs = 60 * spec.MicrosPerSecond
		case "second":
			unitUs = spec.MicrosPerSecond
		case "day":
			return joinTime(days, 0, t)
		case "week":
			return joinTime(days-isoWeekday(days), 0, t)
		}
		if unitUs > 0 {
			return joinTime(days, us-us%unitUs, t)
		}
		y, m, _ := spec.CivilFromDays(days)
		switch unit {
		case "year":
			m = 1
		case "quarter":
			m = (m-1)/3*3 + 1
		}
		return joinTime(spec.DaysFromCivil(y, m, 1), 0, t)
	}
}

// maxMonths bounds the months date_add adds: about 300,000 years.
const maxMonths = 12 * 300_000

// addMonths adds n months to day number days; a day past the end of the
// new month becomes its last day (Jan 31 + 1 month = Feb 28 or 29).
func addMonths(days, n int64) (int64, bool) {
	if n > maxMonths || n < -maxMonths || days > maxMonths*31 || days < -maxMonths*31 {
		return 0, false
	}
	y, m, d := spec.CivilFromDays(days)
	total := y*12 + m - 1 + n
	ny, nm := spec.FloorDivMod(total, 12)
	nm++
	return spec.DaysFromCivil(ny, nm, min(d, spec.DaysInMonth(ny, nm))), true
}

// dateAddOf returns date_add(unit, n, v) for v of type t (a date or a
// timestamp); ok is false when the result overflows.
func dateAddOf(unit string, t spec.Type) func(n, v int64) (int64, bool) {
	months := map[string]int64{"month": 1, "quarter": 3, "year": 12}[unit]
	if months > 0 {
		return func(n, v int64) (int64, bool) {
			m, ok := spec.MulOverflows(n, months)
			if !ok {
				return 0, false
			}
			days, us := splitTime(v, t)
			nd, ok := addMonths(days, m)
			return joinTime(nd, us, t), ok
		}
	}
	step := map[string]int64{"week": 7 * spec.MicrosPerDay, "day": spec.MicrosPerDay,
		"hour": 3600 * spec.MicrosPerSecond, "minute": 60 * spec.MicrosPerSecond,
		"second": spec.MicrosPerSecond, "millisecond": 1000, "microsecond": 1}[unit]
	if t == spec.Date {
		step /= spec.MicrosPerDay
	}
	return func(n, v int64) (int64, bool) {
		d, ok := spec.MulOverflows(n, step)
		if !ok {
			return 0, false
		}
		r := v + d
		return r, (r^v)&(r^d) >= 0
	}
}

// intPairNode maps two int64 operands through f into values of type typ;
// a row f fails on is an error (fail) on the rows in care, else NULL.
type intPairNode struct {
	l, r exprNode
	f    func(x, y int64) (int64, bool)
	typ  spec.Type
	fail func(x, y int64) error
}

func (n *intPairNode) eval(b *evalBatch, care []byte) (exprVec, error) {
	l, r, err := evalPair(b, care, n.l, n.r)
	if err != nil {
		return exprVec{}, err
	}
	defer l.release()
	defer r.release()
	if l.isNullC() || r.isNullC() {
		return exprVec{}, nil
	}
	a, am := intOperand(l)
	c, cm := intOperand(r)
	if l.isConst() && r.isConst() {
		v, ok := n.f(a[0], c[0])
		if !ok {
			return exprVec{}, n.fail(a[0], c[0])
		}
		return constVec(exprConst{valid: true, i: v}), nil
	}
	buf, out := allocFixed[int64](b)
	bad := false
	for i := range out {
		v, ok := n.f(a[i&am], c[i&cm])
		out[i], bad = v, bad || !ok
	}
	valid := b.andValidity(l, r)
	if bad {
		valid, err = b.failRows(valid, care, func(i int) error {
			if _, ok := n.f(a[i&am], c[i&cm]); ok {
				return nil
			}
			return n.fail(a[i&am], c[i&cm])
		})
		if err != nil {
			buf.Release()
			return exprVec{}, err
		}
	}
	return arrVec(b.newArray(n.typ, valid, buf)), nil
}

// compileDateFunc compiles date_part, date_trunc and date_add.
func (c *exprCompiler) compileDateFunc(e *spec.Call) (exprNode, error) {
	unit := e.Args[0].(*spec.Literal).Str
	last := e.Args[len(e.Args)-1]
	t, _ := spec.TypeOf(last, c.in)
	if t == spec.Null {
		return &constNode{}, nil
	}
	x, err := c.compile(last, t)
	if err != nil {
		return nil, err
	}
	switch e.Func {
	case "date_part":
		return &intToIntNode{x: x, f: datePartOf(unit, t)}, nil
	case "date_trunc":
		return &intToIntNode{x: x, f: dateTruncOf(unit, t)}, nil
	}
	n, err := c.compile(e.Args[1], spec.Int64)
	text := e.String()
	return &intPairNode{l: n, r: x, f: dateAddOf(unit, t), typ: t, fail: func(n, v int64) error {
		return &EvalError{Msg: fmt.Sprintf("%s: %s plus %d %s is out of range", text, appendIntText(nil, v, t), n, unit)}
	}}, err
}
