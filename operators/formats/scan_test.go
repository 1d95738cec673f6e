package formats

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators"
	"github.com/batchrun/batchrun/operators/internal/optest"
)

func writeTemp(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// scanAll runs every split of path in order and returns the rows.
func scanAll(t testing.TB, mem memory.Allocator, path string, s spec.Schema, numSplits int) ([][]any, error) {
	t.Helper()
	var rows [][]any
	for k := 0; k < numSplits; k++ {
		sc, err := NewCSVScan(path, s, ',', k, numSplits, mem)
		if err != nil {
			t.Fatal(err)
		}
		sink := &optest.Sink{}
		err = sc.Run(context.Background(), sink)
		rows = append(rows, sink.Rows()...)
		for _, r := range sink.Recs {
			if r.NumRows() > operators.BatchRows || r.NumRows() == 0 {
				t.Errorf("split %d: batch of %d rows", k, r.NumRows())
			}
		}
		sink.Release()
		if err != nil {
			return rows, err
		}
		if sink.Finished != 1 {
			t.Errorf("split %d: downstream finished %d times, want 1", k, sink.Finished)
		}
	}
	return rows, nil
}

// scanFile is one generated CSV file and the rows it holds.
type scanFile struct {
	name    string
	content string
	want    [][]any
}

func genScanFile(name string, n int, crlf, trailingNL, quoted bool) scanFile {
	nl := "\n"
	if crlf {
		nl = "\r\n"
	}
	var b strings.Builder
	b.WriteString("id,name,amount,ok" + nl)
	var want [][]any
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("n%d", i%13)
		field := name
		if quoted && i%3 == 0 {
			name = fmt.Sprintf("a,\"b\" %d", i)
			field = `"a,""b"" ` + fmt.Sprint(i) + `"`
		}
		var amount any = float64(i) + 0.25
		amountText := fmt.Sprint(amount)
		if i%7 == 0 {
			amount, amountText = nil, ""
		}
		fmt.Fprintf(&b, "%d,%s,%s,%v", i, field, amountText, i%2 == 0)
		if i < n-1 || trailingNL {
			b.WriteString(nl)
		}
		want = append(want, []any{int64(i), name, amount, i%2 == 0})
	}
	return scanFile{name: name, content: b.String(), want: want}
}

func TestCSVScanSplits(t *testing.T) {
	s := optest.Schema(t, "id int64, name string, amount float64, ok bool")
	var files []scanFile
	for _, n := range []int{0, 1, 2, 5, 40, 333} {
		for _, crlf := range []bool{false, true} {
			for _, nl := range []bool{false, true} {
				for _, q := range []bool{false, true} {
					name := fmt.Sprintf("n=%d crlf=%v trailing-newline=%v quoted=%v", n, crlf, nl, q)
					files = append(files, genScanFile(name, n, crlf, nl, q))
				}
			}
		}
	}
	for _, f := range files {
		path := writeTemp(t, "f.csv", f.content)
		for numSplits := 1; numSplits <= 7; numSplits++ {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			got, err := scanAll(t, mem, path, s, numSplits)
			if err != nil {
				t.Fatalf("%s, %d splits: %v", f.name, numSplits, err)
			}
			if !reflect.DeepEqual(got, f.want) {
				t.Fatalf("scan(%s, %d splits) = %d rows\n%s, want %d rows\n%s", f.name, numSplits, len(got), optest.Format(got), len(f.want), optest.Format(f.want))
			}
			mem.AssertSize(t, 0)
		}
	}
}

func TestCSVScanManyBatches(t *testing.T) {
	s := optest.Schema(t, "id int64, name string, amount float64, ok bool")
	f := genScanFile("big", 2*operators.BatchRows+123, false, true, true)
	path := writeTemp(t, "big.csv", f.content)
	for _, numSplits := range []int{1, 3} {
		mem := optest.Checked(t)
		got, err := scanAll(t, mem, path, s, numSplits)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, f.want) {
			t.Fatalf("scan(big, %d splits) = %d rows, want %d", numSplits, len(got), len(f.want))
		}
	}
}

func TestCSVScanValues(t *testing.T) {
	s := optest.Schema(t, "i int64, f float64, b bool, s string")
	content := "\xef\xbb\xbfi,f,b,s\r\n" +
		"1,1.5,true,plain\r\n" +
		",,,\r\n" +
		"\r\n" +
		"-9223372036854775808,1e3,FALSE,\"\"\r\n" +
		"+7,-0.125,1,\"x\"\"y\"\r\n" +
		"\"42\",\"NaN\",\"\",\"semi;colon, comma\"\n"
	path := writeTemp(t, "v.csv", content)
	mem := optest.Checked(t)
	got, err := scanAll(t, mem, path, s, 1)
	if err != nil {
		t.Fatal(err)
	}
	nan := got[4][1]
	want := [][]any{
		{int64(1), 1.5, true, "plain"},
		{nil, nil, nil, ""},
		{int64(-9223372036854775808), 1000.0, false, ""},
		{int64(7), -0.125, true, `x"y`},
		{int64(42), "NaN", nil, "semi;colon, comma"},
	}
	if f, ok := nan.(float64); !ok || f == f {
		t.Errorf("NaN field = %v, want NaN", nan)
	}
	got[4][1] = "NaN" // NaN != NaN for DeepEqual
	if !reflect.DeepEqual(got, want) {
		t.Errorf("scan(values) =\n%s, want\n%s", optest.Format(got), optest.Format(want))
	}
}

func TestCSVScanErrors(t *testing.T) {
	s := optest.Schema(t, "user_id int64, country string, amount float64")
	body := func(bad string) string {
		var b strings.Builder
		b.WriteString("user_id,country,amount\n")
		for i := 0; i < 50; i++ {
			fmt.Fprintf(&b, "%d,US,%d.5\n", i, i)
		}
		b.WriteString(bad + "\n")
		b.WriteString("1,US,2\n")
		return b.String()
	}
	tests := []struct {
		name, content, want string
	}{
		{"int", body("abc,US,1"), `events.csv:52:1: parse "abc" as int64: invalid syntax`},
		{"float", body("1,US,1.2.3"), `events.csv:52:3: parse "1.2.3" as float64: invalid syntax`},
		{"range", body("99999999999999999999,US,1"), `events.csv:52:1: parse "99999999999999999999" as int64: value out of range`},
		{"few", body("1,US"), `events.csv:52:3: row has 2 fields, want 3`},
		{"many", body("1,US,2,3"), `events.csv:52:4: row has more than 3 fields`},
		{"open quote", body(`1,"US,2`), `events.csv:52:2: quoted field does not close on its line (quoted newlines are not supported)`},
		{"after quote", body(`1,"US"x,2`), `events.csv:52:2: unexpected character after a closing quote`},
		{"header", "user_id,land,amount\n1,US,2\n", `events.csv:1:2: header column 2 is "land", want "country" (schema (user_id int64, country string, amount float64))`},
		{"header short", "user_id,country\n1,US\n", `events.csv:1:3: header has 2 columns (user_id, country), want 3 (user_id, country, amount)`},
		{"empty", "", `events.csv:1:1: empty file, want a header row`},
	}
	for _, tc := range tests {
		path := writeTemp(t, "events.csv", tc.content)
		for _, numSplits := range []int{1, 4} {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			_, err := scanAll(t, mem, path, s, numSplits)
			mem.AssertSize(t, 0)
			want := "operators: " + filepath.Join(filepath.Dir(path), tc.want)
			if err == nil || err.Error() != want {
				t.Errorf("%s: scan(%d splits) error = %v, want %s", tc.name, numSplits, err, want)
				continue
			}
			if !operators.IsDataError(err) {
				t.Errorf("%s: error %v is not a DataError", tc.name, err)
			}
		}
	}
}

func TestCSVScanBadArgs(t *testing.T) {
	s := optest.Schema(t, "a int64")
	for _, tc := range []struct {
		split, numSplits int
		delim            byte
	}{{0, 0, ','}, {3, 3, ','}, {-1, 2, ','}, {0, 1, '"'}} {
		if _, err := NewCSVScan("x.csv", s, tc.delim, tc.split, tc.numSplits, memory.DefaultAllocator); err == nil {
			t.Errorf("NewCSVScan(split %d of %d, delim %q) = nil error, want one", tc.split, tc.numSplits, tc.delim)
		}
	}
	sc, err := NewCSVScan(filepath.Join(t.TempDir(), "missing.csv"), s, 0, 0, 1, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Run(context.Background(), &optest.Sink{}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("Run(missing file) error = %v, want no such file", err)
	}
}

func TestCSVScanOneColumnBlankLine(t *testing.T) {
	path := writeTemp(t, "one.csv", "s\na\n\nb\n")
	mem := optest.Checked(t)
	got, err := scanAll(t, mem, path, optest.Schema(t, "s string"), 1)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]any{{"a"}, {""}, {"b"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("scan(one column) = %v, want %v", got, want)
	}
}

func TestCSVScanTabDelimiter(t *testing.T) {
	path := writeTemp(t, "t.tsv", "a\tb\n1\tx,y\n")
	mem := optest.Checked(t)
	sc, err := NewCSVScan(path, optest.Schema(t, "a int64, b string"), '\t', 0, 1, mem)
	if err != nil {
		t.Fatal(err)
	}
	sink := &optest.Sink{}
	defer sink.Release()
	if err := sc.Run(context.Background(), sink); err != nil {
		t.Fatal(err)
	}
	if got, want := sink.Rows(), [][]any{{int64(1), "x,y"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("scan(tsv) = %v, want %v", got, want)
	}
}

func TestInferCSVSchema(t *testing.T) {
	tests := []struct {
		content string
		want    string
	}{
		{"a,b,c,d,e\n1,1.5,true,x,\n-2,3,FALSE,4,\n", "(a int64, b float64, c bool, d string, e string)"},
		{"a,b\n,1\n7,2e3\n", "(a int64, b float64)"},
		{"a,b\n1,true\n1.5,1\n", "(a float64, b string)"},
		{"\"a,x\",b\n\"1\",\"y\"\n", "(a,x int64, b string)"},
		{"a\n", "(a string)"},
	}
	for _, tc := range tests {
		path := writeTemp(t, "i.csv", tc.content)
		s, err := InferCSVSchema(path, 0, 100)
		if err != nil {
			t.Errorf("InferCSVSchema(%q): %v", tc.content, err)
			continue
		}
		if got := s.String(); got != tc.want {
			t.Errorf("InferCSVSchema(%q) = %s, want %s", tc.content, got, tc.want)
		}
	}
	path := writeTemp(t, "bad.csv", "a,b\n1,2\n3\n")
	if _, err := InferCSVSchema(path, 0, 100); err == nil || !strings.HasSuffix(err.Error(), "bad.csv:3:2: row has 1 fields, want 2") {
		t.Errorf("InferCSVSchema(short row) error = %v", err)
	}
	// Only the sample is read.
	path = writeTemp(t, "sample.csv", "a\n1\n2\nx\n")
	if s, err := InferCSVSchema(path, 0, 2); err != nil || s.String() != "(a int64)" {
		t.Errorf("InferCSVSchema(sample 2) = %s, %v, want (a int64)", s, err)
	}
}

func TestParseNumbers(t *testing.T) {
	for _, in := range []string{"0", "-0", "12.5", "0.1", "999999999999999", "123456789012345.6", "1e5", ".5", "5.", "-3.25", "1234567.1234567"} {
		got, ok := parseFloat64([]byte(in))
		var want float64
		_, err := fmt.Sscan(in, &want)
		if !ok || err != nil || got != want {
			t.Errorf("parseFloat64(%q) = %v, %v, want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "-", "+", "1-", "1a", "--1"} {
		if v, ok := parseInt64([]byte(in)); ok {
			t.Errorf("parseInt64(%q) = %d, true, want failure", in, v)
		}
	}
	for in, want := range map[string]int64{"0": 0, "-17": -17, "+5": 5, "9223372036854775807": 1<<63 - 1} {
		if got, ok := parseInt64([]byte(in)); !ok || got != want {
			t.Errorf("parseInt64(%q) = %d, %v, want %d", in, got, ok, want)
		}
	}
}

func TestScanInt64(t *testing.T) {
	for _, in := range []string{"0", "7", "12345678", "123456789", "-12345678", "+87654321x", "1234567890123", "999999999999999999",
		"1234567a9", "1234567/,", "1234567:", "00000000001", "-9223372036854775808"} {
		line := []byte(in + ",tail")
		v, end, ok := scanInt64(line, 0, ',')
		field := in
		want, err := strconv.ParseInt(field, 10, 64)
		wantOK := err == nil && len(strings.TrimLeft(strings.TrimLeft(field, "+-"), "0123456789")) == 0 && len(strings.TrimLeft(field, "+-")) <= 18
		if ok != wantOK || (ok && (v != want || end != len(in))) {
			t.Errorf("scanInt64(%q) = %d, %d, %v, want %d, %d, %v", line, v, end, ok, want, len(in), wantOK)
		}
	}
	r := rand.New(rand.NewSource(1))
	for k := 0; k < 20000; k++ {
		digits := make([]byte, 1+r.Intn(18))
		for i := range digits {
			digits[i] = byte('0' + r.Intn(10))
		}
		want, _ := strconv.ParseInt(string(digits), 10, 64)
		if v, end, ok := scanInt64(append(digits, ','), 0, ','); !ok || v != want || end != len(digits) {
			t.Fatalf("scanInt64(%s) = %d, %d, %v, want %d", digits, v, end, ok, want)
		}
	}
}
