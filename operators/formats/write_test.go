package formats

import (
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/batchrun/batchrun/operators/internal/optest"
)

func TestCSVWrite(t *testing.T) {
	in := optest.Schema(t, "i int64, f float64, b bool, s string")
	rows := [][]any{
		{int64(1), 12.5, true, "plain"},
		{nil, nil, nil, nil},
		{int64(-7), 1e21, false, ""},
		{int64(0), 0.1, true, `a,"b"`},
		{int64(3), math.Inf(-1), false, "line\nbreak"},
		{int64(4), 123456789.125, true, " sp "},
	}
	want := "i,f,b,s\n" +
		"1,12.5,true,plain\n" +
		",,,\n" +
		"-7,1000000000000000000000,false,\"\"\n" +
		"0,0.1,true,\"a,\"\"b\"\"\"\n" +
		"3,-Inf,false,\"line\nbreak\"\n" +
		"4,123456789.125,true, sp \n"
	mem := optest.Checked(t)
	path := filepath.Join(t.TempDir(), "out.csv")
	w, err := NewCSVWrite(path, in)
	if err != nil {
		t.Fatal(err)
	}
	optest.Push(t, w, optest.Record(t, mem, in, rows[:2]), optest.Record(t, mem, in, rows[2:]))
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("CSV written =\n%s\nwant\n%s", got, want)
	}
	if w.RowsWritten() != 6 || w.BytesWritten() != int64(len(want)) {
		t.Errorf("RowsWritten, BytesWritten = %d, %d, want 6, %d", w.RowsWritten(), w.BytesWritten(), len(want))
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close after Finish = %v", err)
	}
}

// TestCSVWriteScanRoundTrip writes rows and scans them back.
func TestCSVWriteScanRoundTrip(t *testing.T) {
	in := optest.Schema(t, "i int64, f float64, s string")
	rows := [][]any{{int64(1), 0.30000000000000004, `q"uote`}, {nil, nil, "x,y"}, {int64(-5), -2.5e-7, "é"}}
	mem := optest.Checked(t)
	path := filepath.Join(t.TempDir(), "rt.csv")
	w, err := NewCSVWrite(path, in)
	if err != nil {
		t.Fatal(err)
	}
	optest.Push(t, w, optest.Record(t, mem, in, rows))
	got, err := scanAll(t, mem, path, in, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rows) {
		t.Errorf("scan(write(rows)) = %v, want %v", got, rows)
	}
}

func TestAppendFloat(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	vals := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, -0.5, 0.01, -0.01, 0.1, 0.29, 12.5, 999.99, 1e12 + 0.01,
		9999999999999.99, 1e13, 1e21, 123456789.125, math.NaN(), math.Inf(1), math.Inf(-1), 5e-324, math.MaxFloat64, 1.005}
	for i := 0; i < 100000; i++ {
		vals = append(vals,
			float64(r.Int63n(1e8)-5e7)/100,                       // cents
			float64(r.Int63n(1e15))/100,                          // large cents
			r.NormFloat64()*math.Pow(10, float64(r.Intn(30)-15)), // anything
			math.Round(r.Float64()*1e6)/1e3)                      // three decimals
	}
	for _, v := range vals {
		if got, want := string(appendFloat(nil, v)), strconv.FormatFloat(v, 'f', -1, 64); got != want {
			t.Fatalf("appendFloat(%v) = %s, want %s", v, got, want)
		}
	}
}

// TestCSVWriteSliced writes a batch that is a slice (non-zero offsets,
// nulls and bools included) and scans it back.
func TestCSVWriteSliced(t *testing.T) {
	in := optest.Schema(t, optest.SlicedSchema)
	mid := optest.SlicedRows[1:7]
	mem := optest.Checked(t)
	path := filepath.Join(t.TempDir(), "s.csv")
	w, err := NewCSVWrite(path, in)
	if err != nil {
		t.Fatal(err)
	}
	optest.Push(t, w, optest.Sliced(t, mem), optest.Record(t, mem, in, nil))
	back, err := scanAll(t, mem, path, in, 1)
	want := [][]any{append([]any{}, mid[0]...)}
	want[0][3] = "" // a NULL string is written as an empty field, read back as ""
	want = append(want, mid[1:]...)
	if err != nil || !reflect.DeepEqual(back, want) {
		t.Errorf("scan(write(slice)) = %v, %v, want %v", back, err, want)
	}
}
