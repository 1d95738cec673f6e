package integration

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The reference answers: plain Go over the bundled CSV files, sharing no
// code with the engine.

func readCSV(t *testing.T, path string) (header []string, rows [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if len(all) == 0 {
		t.Fatalf("%s: empty", path)
	}
	return all[0], all[1:]
}

func atof(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return f
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return i
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// wordcountAnswer: count of each word, by count desc then word.
func wordcountAnswer(t *testing.T, data string) [][]string {
	_, rows := readCSV(t, filepath.Join(data, "words.txt"))
	counts := map[string]int64{}
	for _, r := range rows {
		counts[r[0]]++
	}
	out := make([][]string, 0, len(counts))
	for w, n := range counts {
		out = append(out, []string{w, strconv.FormatInt(n, 10)})
	}
	sort.Slice(out, func(i, j int) bool {
		ni, nj := atoi(t, out[i][1]), atoi(t, out[j][1])
		if ni != nj {
			return ni > nj
		}
		return out[i][0] < out[j][0]
	})
	return append([][]string{{"word", "n"}}, out...)
}

type userInfo struct{ name, segment string }

func readUsers(t *testing.T, data string) map[int64]userInfo {
	_, rows := readCSV(t, filepath.Join(data, "users.csv"))
	users := make(map[int64]userInfo, len(rows))
	for _, r := range rows {
		users[atoi(t, r[0])] = userInfo{name: r[1], segment: r[2]}
	}
	return users
}

// revenueAnswer: events (amount >= 0) joined with users, per segment:
// orders, revenue, avg amount; by revenue desc then segment.
func revenueAnswer(t *testing.T, data string) [][]string {
	users := readUsers(t, data)
	_, events := readCSV(t, filepath.Join(data, "events.csv"))
	type acc struct {
		n   int64
		sum float64
	}
	bySeg := map[string]*acc{}
	for _, e := range events {
		amount := atof(t, e[3])
		u, ok := users[atoi(t, e[1])]
		if !ok || amount < 0 {
			continue
		}
		a := bySeg[u.segment]
		if a == nil {
			a = &acc{}
			bySeg[u.segment] = a
		}
		a.n++
		a.sum += amount
	}
	var out [][]string
	for seg, a := range bySeg {
		out = append(out, []string{seg, strconv.FormatInt(a.n, 10), ftoa(a.sum), ftoa(a.sum / float64(a.n))})
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := atof(t, out[i][2]), atof(t, out[j][2])
		if ri != rj {
			return ri > rj
		}
		return out[i][0] < out[j][0]
	})
	return append([][]string{{"segment", "orders", "revenue", "avg_amount"}}, out...)
}

// topCustomersAnswer: per (user_id, name) total and orders, top 10 by total
// desc then user_id.
func topCustomersAnswer(t *testing.T, data string) [][]string {
	users := readUsers(t, data)
	_, events := readCSV(t, filepath.Join(data, "events.csv"))
	type acc struct {
		n   int64
		sum float64
	}
	byUser := map[int64]*acc{}
	for _, e := range events {
		id := atoi(t, e[1])
		if _, ok := users[id]; !ok {
			continue
		}
		a := byUser[id]
		if a == nil {
			a = &acc{}
			byUser[id] = a
		}
		a.n++
		a.sum += atof(t, e[3])
	}
	ids := make([]int64, 0, len(byUser))
	for id := range byUser {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		si, sj := byUser[ids[i]].sum, byUser[ids[j]].sum
		if si != sj {
			return si > sj
		}
		return ids[i] < ids[j]
	})
	out := [][]string{{"user_id", "name", "total", "orders"}}
	for _, id := range ids[:min(10, len(ids))] {
		a := byUser[id]
		out = append(out, []string{strconv.FormatInt(id, 10), users[id].name, ftoa(a.sum), strconv.FormatInt(a.n, 10)})
	}
	return out
}

// etlAnswer: valid rows normalised, as a sorted multiset (the output is
// spread over part files by a rebalance, so order is not defined).
func etlAnswer(t *testing.T, data string) [][]string {
	_, rows := readCSV(t, filepath.Join(data, "customers_raw.csv"))
	var out [][]string
	for _, r := range rows {
		email := r[2]
		if email == "" || r[4] == "" {
			continue
		}
		amount := atof(t, r[4])
		if amount < 0 {
			continue
		}
		tier := "bronze"
		if amount >= 500 {
			tier = "gold"
		} else if amount >= 100 {
			tier = "silver"
		}
		out = append(out, []string{r[0], r[1], strings.ToLower(email), strings.ToUpper(r[3]),
			ftoa(amount), strconv.FormatInt(int64(math.Round(amount*100)), 10), tier, r[5]})
	}
	sortRows(out)
	return append([][]string{{"customer_id", "name", "email", "country", "amount", "amount_cents", "tier", "signup_ts"}}, out...)
}

func sortRows(rows [][]string) {
	sort.Slice(rows, func(i, j int) bool { return strings.Join(rows[i], "\x00") < strings.Join(rows[j], "\x00") })
}

// userOrdersWindowAnswer: each order with, among its user's orders by
// (ts, order_id), its number, the running total, the previous amount (0
// for the first), the largest of the last three and the user's count; a
// sorted multiset (each window subtask writes its users in key order, and
// they meet at the write in any order).
func userOrdersWindowAnswer(t *testing.T, data string) [][]string {
	_, events := readCSV(t, filepath.Join(data, "events.csv"))
	byUser := map[string][][]string{}
	for _, e := range events {
		byUser[e[1]] = append(byUser[e[1]], e)
	}
	var out [][]string
	for _, orders := range byUser {
		sort.Slice(orders, func(i, j int) bool {
			ti, tj := atoi(t, orders[i][4]), atoi(t, orders[j][4])
			if ti != tj {
				return ti < tj
			}
			return atoi(t, orders[i][0]) < atoi(t, orders[j][0])
		})
		var total, prev float64
		for i, e := range orders {
			amount := atof(t, e[3])
			total += amount
			last3 := amount
			for j := max(0, i-2); j < i; j++ {
				last3 = math.Max(last3, atof(t, orders[j][3]))
			}
			out = append(out, []string{e[0], e[1], e[2], ftoa(amount), e[4], strconv.Itoa(i + 1),
				ftoa(total), ftoa(prev), ftoa(last3), strconv.Itoa(len(orders))})
			prev = amount
		}
	}
	sortRows(out)
	return append([][]string{{"order_id", "user_id", "country", "amount", "ts", "n", "running_total", "prev_amount", "max_last3", "orders"}}, out...)
}
