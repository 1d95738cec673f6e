package spec

import (
	"fmt"
	"strings"
)

// windowSchema checks a window step: its partition and order columns, and
// each function's argument, offset, default and frame. The output is the
// input's columns, then one per function.
func windowSchema(w *WindowStep, in Schema) (Schema, string) {
	if len(w.Funcs) == 0 {
		return nil, "window has no functions (compute)"
	}
	if msg := checkColumns(w.PartitionBy, in, "window partition_by", "duplicate window partition_by column %q"); msg != "" {
		return nil, msg
	}
	if msg := checkColumns(sortColumns(w.OrderBy), in, "window order_by", "duplicate window order_by column %q"); msg != "" {
		return nil, msg
	}
	out := append(make(Schema, 0, len(in)+len(w.Funcs)), in...)
	for _, f := range w.Funcs {
		field, msg := windowField(f, in)
		if msg != "" {
			return nil, msg
		}
		if out.Index(field.Name) >= 0 {
			return nil, fmt.Sprintf("%s: duplicate column %q in window output: add AS another name", f.call(), field.Name)
		}
		out = append(out, field)
	}
	return out, ""
}

// windowField is the output column of f over input in.
func windowField(f WindowFunc, in Schema) (Field, string) {
	call := f.call()
	if f.Func > WinMax {
		return Field{}, fmt.Sprintf("unknown window function %d", f.Func)
	}
	allowed, required := f.Func.takesArg()
	switch {
	case f.Arg == "" && required:
		return Field{}, fmt.Sprintf("%s needs a column", call)
	case f.Arg != "" && !allowed:
		return Field{}, fmt.Sprintf("%s takes no column", call)
	}
	if msg := checkFrame(f); msg != "" {
		return Field{}, strings.TrimSpace(call+" "+f.Frame.String()) + ": " + msg
	}
	name := f.Name()
	if f.Arg == "" {
		return Field{Name: name, Type: Int64}, ""
	}
	i := in.Index(f.Arg)
	if i < 0 {
		return Field{}, unknownColumn(call, f.Arg, in)
	}
	t := in[i].Type
	switch f.Func {
	case WinCount:
		t = Int64
	case WinSum, WinAvg:
		if !t.Numeric() {
			return Field{}, fmt.Sprintf("%s: column %q has type %s, want int64, float64 or a decimal", call, f.Arg, t)
		}
		t = SumType(t)
		if f.Func == WinAvg {
			t = Float64
		}
	case WinLag, WinLead:
		if msg := checkLag(f, t); msg != "" {
			return Field{}, call + ": " + msg
		}
	}
	return Field{Name: name, Type: t}, ""
}

// checkLag checks lag's and lead's offset and default against the
// argument's type t.
func checkLag(f WindowFunc, t Type) string {
	if f.Offset < 0 {
		return fmt.Sprintf("offset must be >= 0, got %d", f.Offset)
	}
	if f.Default == nil {
		return ""
	}
	if _, ok := LiteralAs(f.Default, t); !ok {
		return fmt.Sprintf("default %s has type %s, which does not convert exactly to the column's %s", f.Default, f.Default.Type, t)
	}
	return ""
}

// checkFrame checks f's frame: bounds in order, offsets >= 0, and RANGE
// frames with UNBOUNDED and CURRENT ROW bounds only. Functions that do
// not use a frame accept any valid one and ignore it.
func checkFrame(f WindowFunc) string {
	fr := f.Frame
	switch {
	case fr.Unit == FrameDefault && (fr.Start != FrameBound{} || fr.End != FrameBound{}):
		return "frame bounds without a unit: set Unit to FrameRows or FrameRange"
	case fr.Unit == FrameDefault:
		return ""
	case fr.Unit > FrameRange:
		return fmt.Sprintf("unknown frame unit %d", fr.Unit)
	case fr.Start.Kind > BoundUnboundedFollowing || fr.End.Kind > BoundUnboundedFollowing:
		return "unknown frame bound"
	case fr.Start.N < 0 || fr.End.N < 0:
		return fmt.Sprintf("frame offsets must be >= 0, got %d", min(fr.Start.N, fr.End.N))
	case fr.Start.Kind == BoundUnboundedFollowing:
		return "a frame cannot start at UNBOUNDED FOLLOWING"
	case fr.End.Kind == BoundUnboundedPreceding:
		return "a frame cannot end at UNBOUNDED PRECEDING"
	case fr.Start.Kind == BoundCurrentRow && fr.End.Kind == BoundPreceding:
		return "a frame starting at CURRENT ROW cannot end before it (n PRECEDING)"
	case fr.Start.Kind == BoundFollowing && fr.End.Kind <= BoundCurrentRow:
		return "a frame starting at n FOLLOWING cannot end at CURRENT ROW or n PRECEDING"
	case fr.Unit == FrameRange && (hasOffset(fr.Start) || hasOffset(fr.End)):
		return "RANGE frames with an offset (n PRECEDING or FOLLOWING) are not supported: use ROWS, or RANGE with UNBOUNDED and CURRENT ROW bounds"
	}
	return ""
}

func hasOffset(b FrameBound) bool { return b.Kind == BoundPreceding || b.Kind == BoundFollowing }

// LiteralAs converts l to type t exactly: l itself when its type is t, an
// int64 as a float64 or as a decimal, a decimal as a decimal of a scale at
// least its own. ok is false when the conversion is not one of these or
// the value does not fit t (lag's and lead's defaults).
func LiteralAs(l *Literal, t Type) (Literal, bool) {
	switch {
	case l.Type == t:
		return *l, true
	case l.Type == Int64 && t == Float64:
		return Literal{Type: Float64, Float: float64(l.Int)}, true
	case t.IsDecimal() && (l.Type == Int64 || l.Type.IsDecimal()):
		from := 0
		if l.Type.IsDecimal() {
			from = l.Type.Scale()
		}
		if from > t.Scale() {
			return Literal{}, false
		}
		v, ok := Rescale(l.Int, from, t.Scale())
		if !ok || !DecimalFits(v, t.Precision()) {
			return Literal{}, false
		}
		return Literal{Type: t, Int: v}, true
	}
	return Literal{}, false
}
