package integration

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestDecimalDateJob runs a TPC-H-like job end to end on decimal(15,2)
// and date columns: a date-range filter, revenue = price * (1 - discount)
// (exact decimal(18,4)), a group by month (a date key), a sort and a CSV
// write. The expected output is computed here with integer cents and the
// time package, independently of the engine's decimal and date code.
func TestDecimalDateJob(t *testing.T) {
	dir := t.TempDir()
	type line struct {
		flag        string
		price, disc int64 // cents
		ship        time.Time
	}
	r := rand.New(rand.NewSource(14))
	var lines []line
	var csv strings.Builder
	csv.WriteString("l_orderkey,l_returnflag,l_extendedprice,l_discount,l_shipdate\n")
	base := time.Date(1992, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 20000; i++ {
		l := line{
			flag:  []string{"A", "N", "R"}[r.Intn(3)],
			price: int64(90000 + r.Intn(10_404_950)),
			disc:  int64(r.Intn(11)),
			ship:  base.AddDate(0, 0, r.Intn(7*365)),
		}
		lines = append(lines, l)
		fmt.Fprintf(&csv, "%d,%s,%d.%02d,0.%02d,%s\n", i, l.flag, l.price/100, l.price%100, l.disc, l.ship.Format("2006-01-02"))
	}
	if err := os.WriteFile(filepath.Join(dir, "lineitem.csv"), []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	// Expected: rows shipped in 1994, grouped by flag and month.
	type key struct {
		flag  string
		month time.Time
	}
	type acc struct {
		revenue int64 // scale 4
		n       int64
		maxDisc int64 // scale 2
	}
	groups := map[key]*acc{}
	from, to := time.Date(1994, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1995, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, l := range lines {
		if l.ship.Before(from) || !l.ship.Before(to) {
			continue
		}
		k := key{l.flag, time.Date(l.ship.Year(), l.ship.Month(), 1, 0, 0, 0, 0, time.UTC)}
		g := groups[k]
		if g == nil {
			g = &acc{}
			groups[k] = g
		}
		g.revenue += l.price * (100 - l.disc)
		g.n++
		g.maxDisc = max(g.maxDisc, l.disc)
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if !keys[i].month.Equal(keys[j].month) {
			return keys[i].month.After(keys[j].month) // month DESC
		}
		return keys[i].flag < keys[j].flag
	})
	var want strings.Builder
	want.WriteString("month,l_returnflag,revenue,n,max_disc,avg_price_gt\n")
	for _, k := range keys {
		g := groups[k]
		fmt.Fprintf(&want, "%s,%s,%d.%04d,%d,0.%02d,%v\n", k.month.Format("2006-01-02"), k.flag, g.revenue/10000, g.revenue%10000, g.n, g.maxDisc, g.revenue > 5000*10000*g.n)
	}
	if len(keys) != 36 {
		t.Fatalf("%d groups, want 36: the data does not cover 1994", len(keys))
	}

	spec := `
steps:
  - id: li
    read:
      path: lineitem.csv
      schema: ["l_orderkey int64", "l_returnflag string", "l_extendedprice decimal(15,2)", "l_discount decimal(15, 2)", "l_shipdate date"]
  - id: f
    input: li
    filter: "l_shipdate >= DATE '1994-01-01' AND l_shipdate < date_add('year', 1, DATE '1994-01-01')"
  - id: s
    input: f
    select: ["l_returnflag", "date_trunc('month', l_shipdate) AS month", "l_extendedprice * (1 - l_discount) AS rev", "l_discount"]
  - id: a
    input: s
    aggregate: {by: [month, l_returnflag], compute: ["sum(rev) AS revenue", "count(*) AS n", "max(l_discount) AS max_disc", "avg(rev) AS avg_rev"]}
  - id: p
    input: a
    select: [month, l_returnflag, revenue, n, max_disc, "avg_rev > 5000 AS avg_price_gt"]
  - id: o
    input: p
    sort: ["month DESC", "l_returnflag"]
  - id: w
    input: o
    parallelism: 1
    write: {path: out/revenue.csv}
`
	for _, p := range []int{1, 4} {
		t.Run(fmt.Sprintf("p%d", p), func(t *testing.T) {
			if _, err := runSpec(t, dir, "revenue", spec, p); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(dir, "out", "revenue.csv"))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != want.String() {
				t.Errorf("output:\n%s\nwant\n%s", got, want.String())
			}
		})
	}
}
