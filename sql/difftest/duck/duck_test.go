package duck

import (
	"fmt"
	"testing"
)

func open(t *testing.T) *DB {
	t.Helper()
	d, err := Open(1, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Exec("CREATE TABLE t (a INTEGER, b DECIMAL(10,2)); CREATE TABLE u (b INTEGER)"); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestOrder(t *testing.T) {
	d := open(t)
	tests := []struct {
		q, want string
	}{
		{"SELECT a AS x, sum(b) FROM t GROUP BY a ORDER BY x DESC, 2, sum(b), t.a LIMIT 3", "{true [0 1 1] true false}"},
		{"SELECT t.a, b FROM t ORDER BY t.a, a + 1, b", "{true [0] false false}"},
		{"SELECT a, b FROM t ORDER BY t.a, b", "{true [] false false}"}, // t.a is not the item a
		{"SELECT a AS x FROM t ORDER BY a OFFSET 2", "{true [0] false true}"},
		{"SELECT a FROM t UNION ALL SELECT b FROM u ORDER BY 1", "{true [0] false false}"},
		{"WITH c AS (SELECT a FROM t ORDER BY a) SELECT * FROM c ORDER BY A", "{true [0] false false}"},
		{"SELECT a FROM t WHERE a IN (SELECT b FROM u ORDER BY b LIMIT 1)", "{false [] false false}"},
		{"SELECT a FROM t LIMIT 1", "{false [] true false}"},
	}
	for _, tc := range tests {
		res, err := d.Query(tc.q, false)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range res.Columns {
			names = append(names, c.Name)
		}
		ord, err := d.Order(tc.q, names)
		if got := fmt.Sprint(ord); err != nil || got != tc.want {
			t.Errorf("%s:\n got %s (%v)\nwant %s", tc.q, got, err, tc.want)
		}
	}
}

func TestQueryText(t *testing.T) {
	d := open(t)
	res, err := d.Query("SELECT 1.5::DECIMAL(10,2) AS d, -0.05::DECIMAL(10,2) AS n, 0.1::DOUBLE + 0.2::DOUBLE AS f, DATE '1998-09-02' AS dt, NULL AS z, '' AS e, 2::HUGEINT * 1e20::HUGEINT AS h", false)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(res.Rows)
	want := "[[{1.50 false} {-0.05 false} {0.30000000000000004 false} {1998-09-02 false} { true} { false} {200000000000000000000 false}]]"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
