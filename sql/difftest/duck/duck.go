// Package duck is the reference side of the differential tests: DuckDB
// (through github.com/duckdb/duckdb-go/v2, with its tpch extension linked
// in statically, see tpch_static.cpp), its answers as compare.Tables and
// the ORDER BY of a query as compare.Order.
package duck

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/batchrun/batchrun/sql/difftest/compare"
)

// DB is an in-memory DuckDB database on one connection, so that SET and
// the tables created stay visible to every later statement.
type DB struct {
	db   *sql.DB
	conn *sql.Conn
}

// Open opens an in-memory database running on threads threads; tpch
// registers dbgen and tpch_queries.
func Open(threads int, tpch bool) (*DB, error) {
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, err
	}
	if tpch {
		if err := loadTPCH(connector); err != nil {
			connector.Close()
			return nil, err
		}
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(context.Background())
	if err != nil {
		db.Close()
		return nil, err
	}
	d := &DB{db: db, conn: conn}
	if err := d.Exec(fmt.Sprintf("SET threads = %d", threads)); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close closes the database.
func (d *DB) Close() error {
	d.conn.Close()
	return d.db.Close()
}

// Exec runs statements that return no rows (several, separated by ';').
func (d *DB) Exec(stmts string) error {
	_, err := d.conn.ExecContext(context.Background(), stmts)
	return err
}

// Column is a table's column as DESCRIBE gives it.
type Column struct {
	Name, Type string // Type as DuckDB spells it: BIGINT, DECIMAL(15,2), DATE, VARCHAR...
}

// Describe lists table's columns and their types.
func (d *DB) Describe(table string) ([]Column, error) {
	rows, err := d.conn.QueryContext(context.Background(),
		"SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []Column
	for rows.Next() {
		var c Column
		if err := rows.Scan(&c.Name, &c.Type); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("no table %q", table)
	}
	return cols, nil
}

// Query runs q and returns its answer as text: DECIMAL with exactly its
// scale, DOUBLE in Go's shortest round-trip form, DATE as YYYY-MM-DD. legacy
// picks compare.KindOf's legacy kinds for the columns.
func (d *DB) Query(q string, legacy bool) (*compare.Table, error) {
	rows, err := d.conn.QueryContext(context.Background(), q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	t := &compare.Table{}
	for _, ct := range cts {
		typ := ct.DatabaseTypeName()
		t.Columns = append(t.Columns, compare.Column{Name: ct.Name(), Type: typ, Kind: compare.KindOf(typ, legacy)})
	}
	vals := make([]any, len(cts))
	ptrs := make([]any, len(cts))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]compare.Value, len(vals))
		for i, v := range vals {
			if row[i], err = text(v, t.Columns[i].Type); err != nil {
				return nil, fmt.Errorf("column %s: %w", t.Columns[i].Name, err)
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t, rows.Err()
}

// text is a value as the comparer reads it (after duckrun's text).
func text(v any, typ string) (compare.Value, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return compare.Value{Null: true}, nil
	case duckdb.Decimal:
		s = decimalText(x)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		s = strconv.FormatFloat(float64(x), 'g', -1, 32)
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64, int, uint, *big.Int, bool:
		s = fmt.Sprint(x)
	case string:
		s = x
	case []byte:
		s = string(x)
	case time.Time:
		s = x.Format("2006-01-02 15:04:05.999999")
		if typ == "DATE" {
			s = x.Format("2006-01-02")
		}
	default:
		return compare.Value{}, fmt.Errorf("unsupported value type %T", v)
	}
	return compare.Value{Text: s}, nil
}

// decimalText prints a DECIMAL with exactly its scale (12.50 stays 12.50).
func decimalText(d duckdb.Decimal) string {
	v := new(big.Int).Abs(d.Value)
	digits := v.String()
	if scale := int(d.Scale); scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if d.Value.Sign() < 0 {
		digits = "-" + digits
	}
	return digits
}
