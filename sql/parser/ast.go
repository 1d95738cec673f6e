package parser

// Node is any AST node. Every node embeds the Pos where it starts (for an
// operator expression: its operator), so a later layer can point at it.
type Node interface {
	Position() Pos
}

// Expr is a scalar expression.
type Expr interface {
	Node
	exprNode()
}

// SetExpr is a query body: a *Select, a *SetOp, or a parenthesized *Query
// that has its own WITH, ORDER BY, LIMIT or OFFSET.
type SetExpr interface {
	Node
	setExprNode()
}

// TableExpr is a FROM item: *TableName, *DerivedTable or *Join.
type TableExpr interface {
	Node
	tableExprNode()
}

// Ident is a name as written. Quoted is set for "x": the binder matches an
// unquoted name case-insensitively and a quoted one exactly.
type Ident struct {
	Pos
	Name   string
	Quoted bool
}

// Query is a full query: WITH, body, ORDER BY, LIMIT, OFFSET. Nil Limit and
// Offset mean none.
type Query struct {
	Pos
	With    []*CTE
	Body    SetExpr
	OrderBy []*OrderItem
	Limit   Expr
	Offset  Expr
}

// CTE is one WITH entry: name [(columns)] AS (query).
type CTE struct {
	Pos
	Name    *Ident
	Columns []*Ident
	Query   *Query
}

// SetOp is Left UNION|INTERSECT|EXCEPT [ALL] Right.
type SetOp struct {
	Pos
	Op    string // "UNION", "INTERSECT" or "EXCEPT"
	All   bool
	Left  SetExpr
	Right SetExpr
}

// Select is one SELECT block.
type Select struct {
	Pos
	Distinct bool
	Items    []*SelectItem
	From     []TableExpr // comma-separated items, joined by the binder
	Where    Expr
	GroupBy  []Expr
	Having   Expr
}

// SelectItem is expr [AS alias], or a star (Expr is a *Star).
type SelectItem struct {
	Pos
	Expr  Expr
	Alias *Ident
}

// Star is *, t.* or either with EXCLUDE (columns). It appears only as a
// select item; count(*) is a FuncCall with Star set instead.
type Star struct {
	Pos
	Table   []*Ident // the qualifier of t.*, nil for *
	Exclude []*Ident
}

// OrderItem is expr [ASC|DESC] [NULLS FIRST|LAST].
type OrderItem struct {
	Pos
	Expr  Expr
	Desc  bool
	Nulls NullsOrder
}

// NullsOrder is an explicit NULLS FIRST or NULLS LAST; the default is the
// binder's to choose (PostgreSQL and DuckDB differ).
type NullsOrder int

const (
	NullsDefault NullsOrder = iota
	NullsFirst
	NullsLast
)

// TableName is a named table (a step id or a CTE) with an optional alias.
type TableName struct {
	Pos
	Name  []*Ident // schema.table has two parts
	Alias *TableAlias
}

// DerivedTable is (query) [AS] alias [(columns)].
type DerivedTable struct {
	Pos
	Query *Query
	Alias *TableAlias
}

// TableAlias is AS name [(col, ...)].
type TableAlias struct {
	Pos
	Name    *Ident
	Columns []*Ident
}

// JoinKind is the kind of an explicit join.
type JoinKind int

const (
	JoinInner JoinKind = iota
	JoinLeft
	JoinRight
	JoinFull
	JoinCross
)

var joinKindNames = [...]string{"JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN", "CROSS JOIN"}

func (k JoinKind) String() string { return joinKindNames[k] }

// Join is Left kind JOIN Right [ON cond | USING (cols)]; a cross join has
// neither. Its Pos is the join keyword's (an operator's, like BinaryExpr).
type Join struct {
	Pos
	Kind  JoinKind
	Left  TableExpr
	Right TableExpr
	On    Expr
	Using []*Ident
}

// ColumnRef is a possibly qualified column name: a, t.a, s.t.a.
type ColumnRef struct {
	Pos
	Parts []*Ident
}

// NumberLit is a numeric literal's exact text: 15, 0.05, 1e3. The binder
// types it (integer, exact decimal, double); no float conversion here.
type NumberLit struct {
	Pos
	Text string
}

// StringLit is '...' with ” undone.
type StringLit struct {
	Pos
	Value string
}

// BoolLit is TRUE or FALSE.
type BoolLit struct {
	Pos
	Value bool
}

// NullLit is NULL.
type NullLit struct {
	Pos
}

// TypedLit is a type name before a string: DATE '1998-12-01',
// TIMESTAMP '...', TIME '...'. Type is upper-case.
type TypedLit struct {
	Pos
	Type  string
	Value string
}

// IntervalLit is INTERVAL 'n' UNIT, INTERVAL n UNIT or INTERVAL '3 months'
// (Unit empty: the unit is inside the string). Value is a *StringLit or a
// *NumberLit; Unit is upper-case as written (DAY, DAYS, MONTH...).
type IntervalLit struct {
	Pos
	Value Expr
	Unit  string
}

// UnaryExpr is NOT x, -x or +x.
type UnaryExpr struct {
	Pos
	Op string // "NOT", "-", "+"
	X  Expr
}

// BinaryExpr is a binary operator: OR AND = <> < <= > >= + - * / % ||.
// != is read as <>.
type BinaryExpr struct {
	Pos
	Op   string
	L, R Expr
}

// IsExpr is x IS [NOT] NULL|TRUE|FALSE.
type IsExpr struct {
	Pos
	X    Expr
	Not  bool
	What string // "NULL", "TRUE" or "FALSE"
}

// IsDistinctExpr is x IS [NOT] DISTINCT FROM y.
type IsDistinctExpr struct {
	Pos
	L, R Expr
	Not  bool
}

// BetweenExpr is x [NOT] BETWEEN lo AND hi.
type BetweenExpr struct {
	Pos
	X, Lo, Hi Expr
	Not       bool
}

// InListExpr is x [NOT] IN (a, b, ...).
type InListExpr struct {
	Pos
	X    Expr
	List []Expr
	Not  bool
}

// InSubqueryExpr is x [NOT] IN (query).
type InSubqueryExpr struct {
	Pos
	X     Expr
	Query *Query
	Not   bool
}

// LikeExpr is x [NOT] LIKE|ILIKE pattern [ESCAPE e].
type LikeExpr struct {
	Pos
	X       Expr
	Pattern Expr
	Escape  Expr // nil when absent
	Not     bool
	ILike   bool
}

// ExistsExpr is EXISTS (query); NOT EXISTS is a UnaryExpr over it.
type ExistsExpr struct {
	Pos
	Query *Query
}

// SubqueryExpr is a scalar subquery: (query) where a value is expected.
type SubqueryExpr struct {
	Pos
	Query *Query
}

// CaseExpr is CASE [operand] WHEN ... THEN ... [ELSE ...] END; Operand is
// nil for the searched form.
type CaseExpr struct {
	Pos
	Operand Expr
	Whens   []*When
	Else    Expr
}

// When is one WHEN cond THEN result arm.
type When struct {
	Pos
	Cond   Expr
	Result Expr
}

// CastExpr is CAST(x AS type), TRY_CAST(x AS type) or x::type.
type CastExpr struct {
	Pos
	X    Expr
	Type *TypeName
	Try  bool
}

// TypeName is a type as written: name [(n [, m])]. Name is lower-case
// ("decimal", "double precision"); Args are the exact integer texts.
type TypeName struct {
	Pos
	Name string
	Args []string
}

// ExtractExpr is EXTRACT(field FROM x); Field is upper-case (YEAR...).
type ExtractExpr struct {
	Pos
	Field string
	X     Expr
}

// FuncCall is name([DISTINCT] args) [FILTER (WHERE cond)] [OVER (...)].
// Star is set for count(*). Name is as written; the binder folds case.
type FuncCall struct {
	Pos
	Name     *Ident
	Args     []Expr
	Star     bool
	Distinct bool
	Filter   Expr
	Over     *WindowSpec
}

// WindowSpec is the inside of OVER (...).
type WindowSpec struct {
	Pos
	PartitionBy []Expr
	OrderBy     []*OrderItem
	Frame       *Frame
}

// Frame is ROWS|RANGE|GROUPS BETWEEN start AND end; a frame written with
// one bound has End of kind BoundCurrentRow, as the standard says.
type Frame struct {
	Pos
	Unit  string // "ROWS", "RANGE" or "GROUPS"
	Start *FrameBound
	End   *FrameBound
}

// BoundKind is the kind of a frame bound.
type BoundKind int

const (
	BoundUnboundedPreceding BoundKind = iota
	BoundPreceding
	BoundCurrentRow
	BoundFollowing
	BoundUnboundedFollowing
)

// FrameBound is one end of a frame; Offset is set for n PRECEDING and
// n FOLLOWING.
type FrameBound struct {
	Pos
	Kind   BoundKind
	Offset Expr
}

func (*Select) setExprNode() {}
func (*SetOp) setExprNode()  {}
func (*Query) setExprNode()  {}

func (*TableName) tableExprNode()    {}
func (*DerivedTable) tableExprNode() {}
func (*Join) tableExprNode()         {}

func (*Star) exprNode()           {}
func (*ColumnRef) exprNode()      {}
func (*NumberLit) exprNode()      {}
func (*StringLit) exprNode()      {}
func (*BoolLit) exprNode()        {}
func (*NullLit) exprNode()        {}
func (*TypedLit) exprNode()       {}
func (*IntervalLit) exprNode()    {}
func (*UnaryExpr) exprNode()      {}
func (*BinaryExpr) exprNode()     {}
func (*IsExpr) exprNode()         {}
func (*IsDistinctExpr) exprNode() {}
func (*BetweenExpr) exprNode()    {}
func (*InListExpr) exprNode()     {}
func (*InSubqueryExpr) exprNode() {}
func (*LikeExpr) exprNode()       {}
func (*ExistsExpr) exprNode()     {}
func (*SubqueryExpr) exprNode()   {}
func (*CaseExpr) exprNode()       {}
func (*CastExpr) exprNode()       {}
func (*ExtractExpr) exprNode()    {}
func (*FuncCall) exprNode()       {}
