package spec

// Expr is a node of a scalar expression tree. Trees are built by ParseExpr
// or the constructors below and are immutable once built. String renders a
// node back to SQL that ParseExpr accepts and that parses to an equal tree.
type Expr interface {
	String() string
	exprNode()
}

// Column references an input column by name.
type Column struct{ Name string }

// Literal is a constant. Type Null is the NULL literal.
type Literal struct {
	Type  Type
	Int   int64
	Float float64
	Str   string
	Bool  bool
}

// UnaryOp is a prefix operator.
type UnaryOp uint8

const (
	OpNot UnaryOp = iota
	OpNeg
)

// Unary is NOT x or -x.
type Unary struct {
	Op UnaryOp
	X  Expr
}

// BinaryOp is an infix operator.
type BinaryOp uint8

const (
	OpAdd BinaryOp = iota
	OpSub
	OpMul
	OpDiv
	OpMod
	OpEq
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
	OpAnd
	OpOr
	OpConcat // ||
)

var binaryOpText = [...]string{"+", "-", "*", "/", "%", "=", "<>", "<", "<=", ">", ">=", "AND", "OR", "||"}

func (o BinaryOp) String() string { return binaryOpText[o] }

// Binary is L op R.
type Binary struct {
	Op   BinaryOp
	L, R Expr
}

// In is X [NOT] IN (List...).
type In struct {
	X    Expr
	List []Expr
	Not  bool
}

// IsNull is X IS [NOT] NULL.
type IsNull struct {
	X   Expr
	Not bool
}

// Call is a scalar function call such as lower(name). Func is lower-case.
type Call struct {
	Func string
	Args []Expr
}

// When is one WHEN cond THEN result arm of a searched CASE.
type When struct {
	Cond, Then Expr
}

// Case is CASE WHEN ... THEN ... [ELSE ...] END. A simple CASE (CASE x WHEN
// v THEN ...) is parsed into the searched form with x = v conditions.
type Case struct {
	Whens []When
	Else  Expr // nil means ELSE NULL
}

// Cast is CAST(X AS To), or TRY_CAST(X AS To) with Try: a value that
// does not convert is NULL instead of an error.
type Cast struct {
	X   Expr
	To  Type
	Try bool
}

func (*Column) exprNode()  {}
func (*Literal) exprNode() {}
func (*Unary) exprNode()   {}
func (*Binary) exprNode()  {}
func (*In) exprNode()      {}
func (*IsNull) exprNode()  {}
func (*Call) exprNode()    {}
func (*Case) exprNode()    {}
func (*Cast) exprNode()    {}
