package spec

import (
	"strconv"
	"strings"
)

// WindowStep computes window functions (SQL f(...) OVER (PARTITION BY
// ... ORDER BY ... frame)): every input row is kept, in its columns, and
// gets one more column per function, computed over the rows of its
// partition (the rows equal on PartitionBy; NULLs equal NULLs) ordered by
// OrderBy. Every function of one step shares the partitioning and order;
// each has its own frame. The output is the input columns, then one column
// per function, in order; within a subtask rows come sorted by
// (PartitionBy, OrderBy), ties in input order.
type WindowStep struct {
	// PartitionBy are the partition columns; none makes the whole input
	// one partition (it then runs in one subtask).
	PartitionBy []string
	// OrderBy orders each partition; rows equal on every key are peers
	// (rank gives them one rank, a RANGE frame's CURRENT ROW takes them
	// all). Without it every row of a partition is a peer of every other.
	OrderBy []SortKey
	Funcs   []WindowFunc
}

// String describes the step on one line, for explains: "partition by k
// order by ts DESC compute row_number() AS n, sum(x) ROWS BETWEEN 2
// PRECEDING AND CURRENT ROW".
func (w *WindowStep) String() string {
	var parts []string
	if len(w.PartitionBy) > 0 {
		keys := make([]string, len(w.PartitionBy))
		for i, k := range w.PartitionBy {
			keys[i] = quoteIdent(k)
		}
		parts = append(parts, "partition by "+strings.Join(keys, ", "))
	}
	if len(w.OrderBy) > 0 {
		keys := make([]string, len(w.OrderBy))
		for i, k := range w.OrderBy {
			keys[i] = k.String()
		}
		parts = append(parts, "order by "+strings.Join(keys, ", "))
	}
	funcs := make([]string, len(w.Funcs))
	for i, f := range w.Funcs {
		funcs[i] = f.String()
	}
	return strings.Join(append(parts, "compute "+strings.Join(funcs, ", ")), " ")
}

// WindowFuncKind is a window function.
type WindowFuncKind uint8

const (
	// WinRowNumber is the row's 1-based position in its partition.
	WinRowNumber WindowFuncKind = iota
	// WinRank is 1 + the number of rows before the row's first peer.
	WinRank
	// WinDenseRank is the 1-based number of the row's peer group.
	WinDenseRank
	// WinLag is Arg Offset rows before the row in its partition, Default
	// when that row is outside the partition.
	WinLag
	// WinLead is Arg Offset rows after the row, Default past the end.
	WinLead
	// WinFirstValue is Arg in the frame's first row (NULL included); NULL
	// when the frame is empty.
	WinFirstValue
	// WinLastValue is Arg in the frame's last row.
	WinLastValue
	// WinCount counts the frame's rows (Arg empty: count(*)) or its
	// non-null values of Arg.
	WinCount
	// WinSum, WinAvg, WinMin and WinMax aggregate the frame's non-null
	// values of Arg; NULL when it has none.
	WinSum
	WinAvg
	WinMin
	WinMax
)

var windowFuncNames = [...]string{"row_number", "rank", "dense_rank", "lag", "lead",
	"first_value", "last_value", "count", "sum", "avg", "min", "max"}

func (k WindowFuncKind) String() string {
	if int(k) < len(windowFuncNames) {
		return windowFuncNames[k]
	}
	return "window_func(" + strconv.Itoa(int(k)) + ")"
}

// ParseWindowFuncKind maps a window function name (lower-case).
func ParseWindowFuncKind(s string) (WindowFuncKind, bool) {
	for i, n := range windowFuncNames {
		if n == s {
			return WindowFuncKind(i), true
		}
	}
	return 0, false
}

// UsesFrame reports whether the function is computed over its frame;
// the others (row_number, rank, dense_rank, lag, lead) ignore it.
func (k WindowFuncKind) UsesFrame() bool { return k >= WinFirstValue && k <= WinMax }

// takesArg says whether the function reads a column: never (ranking),
// always, or optionally (count).
func (k WindowFuncKind) takesArg() (allowed, required bool) {
	switch {
	case k <= WinDenseRank:
		return false, false
	case k == WinCount:
		return true, false
	}
	return true, true
}

// FrameUnit is how a frame's bounds count: in rows, or in peer groups of
// the order keys (RANGE, with UNBOUNDED and CURRENT ROW bounds only).
type FrameUnit uint8

const (
	// FrameDefault is no frame clause: RANGE BETWEEN UNBOUNDED PRECEDING
	// AND CURRENT ROW, as in SQL (the whole partition without ORDER BY,
	// where every row is a peer).
	FrameDefault FrameUnit = iota
	FrameRows
	FrameRange
)

// BoundKind is the kind of a frame bound (the order of the SQL parser's).
type BoundKind uint8

const (
	BoundUnboundedPreceding BoundKind = iota
	BoundPreceding                    // N PRECEDING
	BoundCurrentRow
	BoundFollowing // N FOLLOWING
	BoundUnboundedFollowing
)

// FrameBound is one end of a frame; N (>= 0) is the row count of N
// PRECEDING and N FOLLOWING.
type FrameBound struct {
	Kind BoundKind
	N    int64
}

func (b FrameBound) String() string {
	switch b.Kind {
	case BoundUnboundedPreceding:
		return "UNBOUNDED PRECEDING"
	case BoundPreceding:
		return strconv.FormatInt(b.N, 10) + " PRECEDING"
	case BoundCurrentRow:
		return "CURRENT ROW"
	case BoundFollowing:
		return strconv.FormatInt(b.N, 10) + " FOLLOWING"
	case BoundUnboundedFollowing:
		return "UNBOUNDED FOLLOWING"
	}
	return "bound(" + strconv.Itoa(int(b.Kind)) + ")"
}

// WindowFrame is the rows of a partition a function aggregates for each
// row: from Start to End, both included. The zero value is the default
// frame (FrameDefault).
type WindowFrame struct {
	Unit       FrameUnit
	Start, End FrameBound
}

// Effective is the frame f stands for: the default frame spelled out as
// RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW, else f.
func (f WindowFrame) Effective() WindowFrame {
	if f.Unit == FrameDefault {
		return WindowFrame{Unit: FrameRange, Start: FrameBound{Kind: BoundUnboundedPreceding}, End: FrameBound{Kind: BoundCurrentRow}}
	}
	return f
}

// String renders the frame clause as ParseWindowFunc reads it; "" for the
// default frame.
func (f WindowFrame) String() string {
	unit := "ROWS"
	switch f.Unit {
	case FrameDefault:
		return ""
	case FrameRange:
		unit = "RANGE"
	}
	return unit + " BETWEEN " + f.Start.String() + " AND " + f.End.String()
}

// WindowFunc is one window function: its output column.
type WindowFunc struct {
	Func WindowFuncKind
	// Arg is the input column; empty for row_number, rank, dense_rank and
	// count(*).
	Arg string
	// Offset is lag's and lead's distance in rows (>= 0; NewWindowFunc and
	// the parser set 1 when none is written; 0 is the row itself).
	Offset int64
	// Default is lag's and lead's value where the row Offset away is
	// outside the partition: a literal of Arg's type (an int64 literal
	// also serves a float64 or decimal column, a decimal literal a decimal
	// of a larger scale); nil or a NULL literal means NULL.
	Default *Literal
	// Frame is the function's frame; the zero value is SQL's default.
	// Only first_value, last_value, count, sum, avg, min and max read it.
	Frame WindowFrame
	// Alias names the output column; when empty it is the function's name
	// (row_number, rank, dense_rank, count for count(*)), else func_arg
	// (sum_amount, lag_amount).
	Alias string
}

// NewWindowFunc returns fn over column arg ("" for none) with the
// defaults: offset 1 for lag and lead, NULL default, the default frame,
// no alias.
func NewWindowFunc(fn WindowFuncKind, arg string) WindowFunc {
	w := WindowFunc{Func: fn, Arg: arg}
	if fn == WinLag || fn == WinLead {
		w.Offset = 1
	}
	return w
}

// Name is the output column's name: Alias, else the default name.
func (w WindowFunc) Name() string { return columnName(w.Alias, w.Func.String(), w.Arg) }

// call renders the function call alone, "lag(amount, 2, 0.0)", for
// messages and String.
func (w WindowFunc) call() string {
	var sb strings.Builder
	sb.WriteString(w.Func.String())
	sb.WriteString("(")
	switch {
	case w.Arg != "":
		sb.WriteString(quoteIdent(w.Arg))
	case w.Func == WinCount:
		sb.WriteString("*")
	}
	if w.Func == WinLag || w.Func == WinLead {
		sb.WriteString(", ")
		sb.WriteString(strconv.FormatInt(w.Offset, 10))
		if w.Default != nil {
			sb.WriteString(", ")
			sb.WriteString(w.Default.String())
		}
	}
	sb.WriteString(")")
	return sb.String()
}

// String renders w as ParseWindowFunc reads it: "func(args) [frame] [AS
// alias]".
func (w WindowFunc) String() string {
	s := w.call()
	if f := w.Frame.String(); f != "" {
		s += " " + f
	}
	if w.Alias != "" {
		s += " AS " + quoteIdent(w.Alias)
	}
	return s
}
