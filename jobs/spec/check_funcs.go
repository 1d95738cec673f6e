package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Functions whose settings must be literals, so that the evaluator prepares
// them once (a compiled pattern, a parsed unit):
//
//	split_part(s, sep, n)      string: the n-th (1-based) piece of s split by sep
//	regexp_like(s, pattern)    bool: pattern (Go RE2 syntax) matches somewhere in s
//	date_part(unit, x)         int64: year, quarter, month, week (ISO), day,
//	                           hour, minute, second, dow (0 = Sunday) or doy of
//	                           a date, a timestamp or int64 unix seconds (UTC)
//	date_trunc(unit, x)        x truncated to the year, quarter, month, week
//	                           (Monday), day, hour, minute or second; the
//	                           type of x (a date stays a date)
//	date_add(unit, n, x)       x plus n (int64) units: year, quarter, month,
//	                           week or day for a date or a timestamp, hour,
//	                           minute, second, millisecond or microsecond for
//	                           a timestamp; a month or a year added to the
//	                           29th-31st stops at the month's last day
//	parse_time(s, layout)      int64: unix seconds of s parsed with a Go layout
//	                           ("2006-01-02 15:04:05"), UTC unless s has a zone;
//	                           NULL when s does not parse
//	format_time(ts, layout)    string: ts formatted in UTC with a Go layout

// DateParts are date_part's units; DateTruncUnits are date_trunc's;
// DateAddUnits are date_add's, the first DateAddDateUnits of them also on
// dates.
var (
	DateParts        = []string{"year", "quarter", "month", "week", "day", "hour", "minute", "second", "dow", "doy"}
	DateTruncUnits   = []string{"year", "quarter", "month", "week", "day", "hour", "minute", "second"}
	DateAddUnits     = []string{"year", "quarter", "month", "week", "day", "hour", "minute", "second", "millisecond", "microsecond"}
	DateAddDateUnits = 5
)

// litArg is the position and type of a function's literal argument.
type litArg struct {
	pos int
	typ Type
}

func typeLiteralArgCall(e *Call, args []Type) (Type, error) {
	var (
		res  Type
		err  error
		lits []litArg
	)
	switch e.Func {
	case "split_part":
		res, err = String, checkArgs(e, args, 3, 3, String, String, Int64)
		lits = []litArg{{1, String}, {2, Int64}}
	case "regexp_like":
		res, err = Bool, checkArgs(e, args, 2, 2, String, String)
		lits = []litArg{{1, String}}
	case "date_part", "date_trunc":
		res, err = typeDateFunc(e, args)
		lits = []litArg{{0, String}}
	case "date_add":
		res, err = typeDateAdd(e, args)
		lits = []litArg{{0, String}}
	case "parse_time":
		res, err = Int64, checkArgs(e, args, 2, 2, String, String)
		lits = []litArg{{1, String}}
	case "format_time":
		res, err = String, checkArgs(e, args, 2, 2, Int64, String)
		lits = []litArg{{1, String}}
	}
	if err != nil {
		return Null, err
	}
	for _, l := range lits {
		lit, ok := e.Args[l.pos].(*Literal)
		if !ok || lit.Type != l.typ {
			return Null, fmt.Errorf("spec: argument %d of %s must be a %s literal in %q", l.pos+1, e.Func, l.typ, e)
		}
	}
	return res, checkLiteralArgs(e)
}

// checkLiteralArgs checks the values of the literal settings.
func checkLiteralArgs(e *Call) error {
	switch e.Func {
	case "split_part":
		if e.Args[1].(*Literal).Str == "" {
			return fmt.Errorf("spec: split_part separator is empty in %q", e)
		}
		if e.Args[2].(*Literal).Int < 1 {
			return fmt.Errorf("spec: split_part position must be >= 1 in %q", e)
		}
	case "regexp_like":
		if _, err := regexp.Compile(e.Args[1].(*Literal).Str); err != nil {
			return fmt.Errorf("spec: regexp_like pattern in %q: %v", e, err)
		}
	case "date_part":
		return checkUnit(e, DateParts)
	case "date_trunc":
		return checkUnit(e, DateTruncUnits)
	case "date_add":
		return checkUnit(e, DateAddUnits)
	case "parse_time", "format_time":
		if e.Args[1].(*Literal).Str == "" {
			return fmt.Errorf("spec: %s layout is empty in %q", e.Func, e)
		}
	}
	return nil
}

// typeDateFunc types date_part(unit, x) (int64) and date_trunc(unit, x)
// (the type of x), x a date, a timestamp or int64 unix seconds.
func typeDateFunc(e *Call, args []Type) (Type, error) {
	if err := checkArgs(e, args, 2, 2); err != nil {
		return Null, err
	}
	x := args[1]
	if x != Date && x != Timestamp && x != Int64 && x != Null {
		return Null, fmt.Errorf("spec: argument 2 of %s must be a date, a timestamp or int64 unix seconds, got %s in %q", e.Func, x, e)
	}
	if args[0] != String {
		return Null, fmt.Errorf("spec: argument 1 of %s must be string, got %s in %q", e.Func, args[0], e)
	}
	if e.Func == "date_part" || x == Null {
		return Int64, nil
	}
	return x, nil
}

// typeDateAdd types date_add(unit, n, x): the type of x, a date or a
// timestamp; units finer than a day need a timestamp.
func typeDateAdd(e *Call, args []Type) (Type, error) {
	if err := checkArgs(e, args, 3, 3); err != nil {
		return Null, err
	}
	if err := checkArgs(e, args[:2], 2, 2, String, Int64); err != nil {
		return Null, err
	}
	x := args[2]
	if x != Date && x != Timestamp && x != Null {
		return Null, fmt.Errorf("spec: argument 3 of date_add must be a date or a timestamp, got %s in %q", x, e)
	}
	if x == Null {
		x = Timestamp
	}
	if lit, ok := e.Args[0].(*Literal); ok && x == Date {
		if i := slices.Index(DateAddUnits, lit.Str); i >= DateAddDateUnits {
			return Null, fmt.Errorf("spec: date_add unit %q needs a timestamp, got a date in %q (CAST it AS timestamp)", lit.Str, e)
		}
	}
	return x, nil
}

func checkUnit(e *Call, units []string) error {
	u := e.Args[0].(*Literal).Str
	if !slices.Contains(units, u) {
		return fmt.Errorf("spec: %s unit %q is unknown in %q (want %s)", e.Func, u, e, strings.Join(units, ", "))
	}
	return nil
}
