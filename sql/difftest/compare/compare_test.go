package compare

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// table builds a Table from "name TYPE" columns and rows of cells, where
// the cell NULL is NULL and two single quotes the empty string.
func table(cols []string, rows ...[]string) *Table {
	t := &Table{}
	for _, c := range cols {
		name, typ, _ := strings.Cut(c, " ")
		t.Columns = append(t.Columns, Column{Name: name, Type: typ, Kind: KindOf(typ, false)})
	}
	for _, r := range rows {
		var row []Value
		for _, v := range r {
			switch v {
			case "NULL":
				row = append(row, Value{Null: true})
			case "''":
				row = append(row, Value{})
			default:
				row = append(row, Value{Text: v})
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func row(v ...string) []string { return v }

// sorted is ORDER BY the first column; the second breaks no ties.
var sorted = Order{Ordered: true, Keys: []int{0}}

func TestCompare(t *testing.T) {
	cols := []string{"k BIGINT", "v VARCHAR"}
	want := table(cols, row("1", "a"), row("2", "b"), row("2", "c"), row("3", "d"))
	top2 := table(cols, row("1", "a"), row("2", "b")) // LIMIT 2: ("2", "c") was as good
	tests := []struct {
		name string
		want *Table // nil: want
		got  *Table
		ord  Order
		err  string // "" when accepted
	}{
		{"identical", nil, table(cols, row("1", "a"), row("2", "b"), row("2", "c"), row("3", "d")), sorted, ""},
		{"ties permuted", nil, table(cols, row("1", "a"), row("2", "c"), row("2", "b"), row("3", "d")), sorted, ""},
		{"untied rows swapped", nil, table(cols, row("2", "b"), row("1", "a"), row("2", "c"), row("3", "d")), sorted, "row 1 differs"},
		{"tie moved past a key", nil, table(cols, row("1", "a"), row("2", "b"), row("3", "d"), row("2", "c")), sorted, "rows 2..3 differ"},
		{"wrong value", nil, table(cols, row("1", "a"), row("2", "b"), row("2", "x"), row("3", "d")), sorted, "only in batchrun (1 row):\n    (2 | x)"},
		{"missing row", nil, table(cols, row("1", "a"), row("2", "b"), row("3", "d")), sorted, "rows: DuckDB has 4, batchrun 3\n  only in DuckDB (1 row):\n    (2 | c)"},
		{"extra duplicate", nil, table(cols, row("1", "a"), row("2", "b"), row("2", "b"), row("2", "c"), row("3", "d")), sorted, "only in batchrun (1 row):\n    (2 | b)"},
		{"any order without ORDER BY", nil, table(cols, row("3", "d"), row("2", "c"), row("1", "a"), row("2", "b")), Order{}, ""},
		{"multiset counts duplicates", nil, table(cols, row("3", "d"), row("2", "c"), row("1", "a"), row("1", "a")), Order{}, "only in DuckDB (1 row):\n    (2 | b)"},
		{"column count", nil, table(cols[:1], row("1")), Order{}, "columns: DuckDB has 2 (k, v), batchrun 1 (k)"},
		{"column name", nil, table([]string{"K BIGINT", "w VARCHAR"}, row("1", "a")), Order{}, `column 2: DuckDB names it "v", batchrun "w"`},
		{"LIMIT cuts the last tie group", top2, table(cols, row("1", "a"), row("2", "c")), Order{Ordered: true, Keys: []int{0}, Limit: true}, ""},
		{"LIMIT still checks keys", top2, table(cols, row("1", "a"), row("3", "d")), Order{Ordered: true, Keys: []int{0}, Limit: true}, "row 2: batchrun's ORDER BY keys (3) differ from DuckDB's (2)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.want
			if w == nil {
				w = want
			}
			err := Compare(w, tc.got, tc.ord)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.err != "" && err == nil:
				t.Fatalf("accepted, want an error with %q", tc.err)
			case tc.err != "" && !strings.Contains(err.Error(), tc.err):
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, tc.err)
			}
		})
	}
}

func TestValues(t *testing.T) {
	tests := []struct {
		typ, want, got string
		equal          bool
	}{
		{"DECIMAL(15,2)", "1.50", "1.50", true},
		{"DECIMAL(15,2)", "1.50", "1.5", true}, // normalized to the scale: the same number
		{"DECIMAL(15,2)", "1.50", "1.500", true},
		{"DECIMAL(15,2)", "1.50", "1.505", false}, // never rounded
		{"DECIMAL(15,2)", "1.50", "1.51", false},
		{"DECIMAL(15,2)", "-0.10", "-.1", true},
		{"BIGINT", "12", "12", true},
		{"HUGEINT", "170141183460469231731687303715884105727", "170141183460469231731687303715884105727", true},
		{"BIGINT", "12", "12.0", false}, // an integer column wants an integer
		{"BIGINT", "12", "13", false},
		{"DOUBLE", "1", "1.0000000001", true}, // relative 1e-10
		{"DOUBLE", "1", "1.00000001", false},  // relative 1e-8
		{"DOUBLE", "1e20", "100000000000000000001", true},
		{"DOUBLE", "0", "1e-13", true}, // absolute near 0
		{"DOUBLE", "0", "1e-11", false},
		{"DOUBLE", "1.5", "abc", false},
		{"DATE", "1998-09-02", "1998-09-02", true},
		{"DATE", "1998-09-02", "1998-9-2", false},
		{"VARCHAR", "a", "A", false},
		{"BOOLEAN", "true", "TRUE", true},
		{"VARCHAR", "NULL", "''", false}, // NULL is not the empty string
		{"VARCHAR", "''", "NULL", false},
		{"VARCHAR", "NULL", "NULL", true},
		{"VARCHAR", "''", "''", true},
		{"BIGINT", "NULL", "0", false},
	}
	for _, tc := range tests {
		cols := []string{"x " + tc.typ}
		err := Compare(table(cols, row(tc.want)), table(cols, row(tc.got)), Order{})
		if (err == nil) != tc.equal {
			t.Errorf("%s: DuckDB %s, batchrun %s: equal=%v, want %v (%v)", tc.typ, tc.want, tc.got, err == nil, tc.equal, err)
		}
	}
}

// TestLegacyDecimals: with -difftest.legacy-types batchrun's decimals are
// float64, so a DECIMAL column compares within the Double tolerance.
func TestLegacyDecimals(t *testing.T) {
	if k := KindOf("DECIMAL(15,2)", true); k != Double {
		t.Fatalf("legacy DECIMAL(15,2) is kind %d, want Double", k)
	}
	if k := KindOf("DECIMAL(38,4)", false); k != Decimal {
		t.Fatalf("DECIMAL(38,4) is kind %d, want Decimal", k)
	}
}

// TestDoubleTiesUnderOrder: keys within the tolerance are tied, so
// batchrun may order them either way.
func TestDoubleTiesUnderOrder(t *testing.T) {
	cols := []string{"s DOUBLE", "k VARCHAR"}
	want := table(cols, row("0.30000000000000004", "a"), row("0.3", "b"), row("0.1", "c"))
	got := table(cols, row("0.3", "b"), row("0.30000000000000004", "a"), row("0.1", "c"))
	if err := Compare(want, got, Order{Ordered: true, Keys: []int{0}}); err != nil {
		t.Fatal(err)
	}
}

// TestUnknownKeys: an ORDER BY item that is not an output column leaves
// only the items before it as keys; rows tied on those compare as a set.
func TestUnknownKeys(t *testing.T) {
	cols := []string{"k BIGINT", "v VARCHAR"}
	want := table(cols, row("1", "b"), row("1", "a"), row("2", "c"))
	got := table(cols, row("1", "a"), row("1", "b"), row("2", "c"))
	if err := Compare(want, got, Order{Ordered: true, Keys: []int{0}}); err != nil {
		t.Fatal(err)
	}
	if err := Compare(want, got, Order{Ordered: true, Keys: []int{0, 1}}); err == nil {
		t.Fatal("accepted a swap of rows that both keys order")
	}
}

func TestReadCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.csv")
	data := "a,b,c\n1,,\"\"\n2,\"x,\"\"y\"\"\",z\r\n,\"two\nlines\",\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	tab, err := ReadCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range tab.Rows {
		got = append(got, FormatRow(r))
	}
	want := []string{"(1 | NULL | '')", `(2 | x,"y" | z)`, "(NULL | two\nlines | NULL)"}
	if columnNames(tab.Columns) != "a, b, c" || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("columns %s rows %q, want a, b, c and %q", columnNames(tab.Columns), got, want)
	}
	for _, bad := range []string{"a\n\"x\n", "a\nx\"y\n", "a\n\"x\"y\n"} {
		if _, err := parseCSV(bad); err == nil {
			t.Errorf("parseCSV(%q) accepted", bad)
		}
	}
}
