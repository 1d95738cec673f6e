package duck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/batchrun/batchrun/sql/difftest/compare"
)

// node is the part of json_serialize_sql's query node that Order reads.
type node struct {
	Type      string           `json:"type"`
	Modifiers []modifier       `json:"modifiers"`
	Select    []map[string]any `json:"select_list"`
	Left      *node            `json:"left"` // of a set operation
}

type modifier struct {
	Type   string `json:"type"`
	Orders []struct {
		Expression map[string]any `json:"expression"`
	} `json:"orders"`
	Limit  any `json:"limit"`
	Offset any `json:"offset"`
}

// Order reads what the outermost level of query q fixes about the order of
// its answer, whose columns are named names: whether it has ORDER BY, which
// output columns its items are, and whether LIMIT or OFFSET cut it. It asks
// DuckDB's own parser (json_serialize_sql), so it reads every query DuckDB
// runs.
//
// An ORDER BY item is output column i when it is the integer i+1, an
// unqualified name that is the name of exactly one output column (as
// DuckDB binds ORDER BY names to the select list's aliases first), or the
// same expression as select item i. Keys stop before the first item that is
// none of these (ORDER BY an expression not selected); compare.Order says
// why a prefix of the keys is still sound.
func (d *DB) Order(q string, names []string) (compare.Order, error) {
	var text string
	err := d.conn.QueryRowContext(context.Background(), "SELECT json_serialize_sql(?::VARCHAR)::VARCHAR", q).Scan(&text)
	if err != nil {
		return compare.Order{}, err
	}
	var parsed struct {
		Error      bool   `json:"error"`
		Message    string `json:"error_message"`
		Statements []struct {
			Node node `json:"node"`
		} `json:"statements"`
	}
	if err := json.Unmarshal([]byte(text), &parsed); err != nil {
		return compare.Order{}, fmt.Errorf("json_serialize_sql: %w", err)
	}
	if parsed.Error || len(parsed.Statements) != 1 {
		return compare.Order{}, fmt.Errorf("json_serialize_sql: not one query: %s", parsed.Message)
	}
	top := parsed.Statements[0].Node
	selects := top.firstSelect()
	var ord compare.Order
	for _, m := range top.Modifiers {
		switch m.Type {
		case "ORDER_MODIFIER":
			ord.Ordered = true
			for _, o := range m.Orders {
				i, ok := outputColumn(o.Expression, names, selects)
				if !ok {
					break
				}
				ord.Keys = append(ord.Keys, i)
			}
		case "LIMIT_MODIFIER", "LIMIT_PERCENT_MODIFIER":
			ord.Limit = ord.Limit || m.Limit != nil
			ord.Offset = ord.Offset || m.Offset != nil
		}
	}
	return ord, nil
}

// firstSelect is the select list that names the output columns: the
// leftmost SELECT's of a set operation. It is nil when it holds a * (its
// items are then not the output columns one for one).
func (n *node) firstSelect() []map[string]any {
	for n.Type == "SET_OPERATION_NODE" && n.Left != nil {
		n = n.Left
	}
	for _, e := range n.Select {
		if e["class"] == "STAR" {
			return nil
		}
	}
	return n.Select
}

func outputColumn(e map[string]any, names []string, selects []map[string]any) (int, bool) {
	switch e["class"] {
	case "CONSTANT":
		if v, ok := e["value"].(map[string]any); ok {
			if i, ok := v["value"].(float64); ok && i >= 1 && int(i) <= len(names) && i == float64(int(i)) {
				return int(i) - 1, true
			}
		}
	case "COLUMN_REF":
		if parts, ok := e["column_names"].([]any); ok && len(parts) == 1 {
			if i, err := uniqueName(names, fmt.Sprint(parts[0])); err == nil {
				return i, true
			}
		}
	}
	want := canonical(e)
	for i, s := range selects {
		if canonical(s) == want && i < len(names) {
			return i, true
		}
	}
	return 0, false
}

func uniqueName(names []string, name string) (int, error) {
	found := -1
	for i, n := range names {
		if strings.EqualFold(n, name) {
			if found >= 0 {
				return 0, errors.New("ambiguous")
			}
			found = i
		}
	}
	if found < 0 {
		return 0, errors.New("not found")
	}
	return found, nil
}

// canonical is an expression's JSON without what differs between two
// writings of the same expression (its alias and position).
func canonical(e map[string]any) string {
	b, _ := json.Marshal(strip(e))
	return string(b)
}

func strip(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			if k != "alias" && k != "query_location" {
				m[k] = strip(val)
			}
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, val := range x {
			s[i] = strip(val)
		}
		return s
	}
	return v
}
