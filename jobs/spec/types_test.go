package spec

import (
	"strconv"
	"testing"
)

func TestParseType(t *testing.T) {
	tests := []struct {
		in   string
		want Type
	}{
		{"int64", Int64},
		{"int", Int64},
		{"integer", Int64},
		{"INT32", Int64},
		{"bigint", Int64},
		{"double", Float64},
		{"text", String},
		{"boolean", Bool},
		{"date", Date},
		{" DATE ", Date},
		{"timestamp", Timestamp},
		{"datetime", Timestamp},
		{"decimal(15,2)", DecimalType(15, 2)},
		{"DECIMAL(15, 2)", DecimalType(15, 2)},
		{"numeric(3,3)", DecimalType(3, 3)},
		{"decimal(7)", DecimalType(7, 0)},
		{"decimal (18,0)", DecimalType(18, 0)},
		{"decimal", DecimalType(18, 3)},
	}
	for _, tt := range tests {
		got, err := ParseType(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseType(%q) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	bad := map[string]string{
		"decimal(19,2)":  `type "decimal(19,2)": precision must be 1 to 18`,
		"decimal(0)":     `type "decimal(0)": precision must be 1 to 18`,
		"decimal(5,6)":   `type "decimal(5,6)": scale must be 0 to the precision 5`,
		"decimal(5,-1)":  `type "decimal(5,-1)": scale must be 0 to the precision 5`,
		"decimal(a,1)":   `type "decimal(a,1)": want decimal(precision, scale) with whole numbers`,
		"decimal(1,1,1)": `type "decimal(1,1,1)": want decimal(precision, scale)`,
		"decimal(5":      `unknown type "decimal(5" (want int64, float64, string, bool, date, timestamp or decimal(p,s))`,
		"time":           `unknown type "time" (want int64, float64, string, bool, date, timestamp or decimal(p,s))`,
	}
	for in, want := range bad {
		if got, err := ParseType(in); err == nil || err.Error() != want {
			t.Errorf("ParseType(%q) = %s, %v; want error %s", in, got, err, want)
		}
	}
}

func TestDecimalTypeParts(t *testing.T) {
	d := DecimalType(15, 2)
	if d.Kind() != Decimal || !d.IsDecimal() || d.Precision() != 15 || d.Scale() != 2 || d.Physical() != Int64 {
		t.Errorf("DecimalType(15,2) = %#x: kind %s, precision %d, scale %d, physical %s", uint32(d), d.Kind(), d.Precision(), d.Scale(), d.Physical())
	}
	if got := d.String(); got != "decimal(15,2)" {
		t.Errorf("String() = %q", got)
	}
	for _, typ := range []Type{Null, Bool, Int64, Float64, String, Date, Timestamp} {
		if typ.Kind() != typ || typ.IsDecimal() || typ.Scale() != 0 || typ.Precision() != 0 {
			t.Errorf("%s: kind %s, decimal %v, scale %d", typ, typ.Kind(), typ.IsDecimal(), typ.Scale())
		}
	}
	for typ, want := range map[Type]Type{Date: Int64, Timestamp: Int64, Int64: Int64, Float64: Float64, String: String, Bool: Bool} {
		if got := typ.Physical(); got != want {
			t.Errorf("%s.Physical() = %s, want %s", typ, got, want)
		}
	}
	if Date.String() != "date" || Timestamp.String() != "timestamp" {
		t.Errorf("names: %s %s", Date, Timestamp)
	}
	if Decimal.Valid() || !d.Valid() || Type(99).Valid() {
		t.Errorf("Valid: bare decimal %v, decimal(15,2) %v, type 99 %v", Decimal.Valid(), d.Valid(), Type(99).Valid())
	}
	for _, pair := range [][2]int{{0, 0}, {19, 0}, {5, 6}, {5, -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("DecimalType(%d,%d) did not panic", pair[0], pair[1])
				}
			}()
			DecimalType(pair[0], pair[1])
		}()
	}
}

func TestDateText(t *testing.T) {
	tests := []struct {
		text string
		days int64
	}{
		{"1970-01-01", 0},
		{"1970-01-02", 1},
		{"1969-12-31", -1},
		{"2000-02-29", 11016},
		{"1998-12-01", 10561},
		{"0001-01-01", -719162},
		{"9999-12-31", 2932896},
	}
	for _, tt := range tests {
		got, err := ParseDate([]byte(tt.text))
		if err != nil || got != tt.days {
			t.Errorf("ParseDate(%q) = %d, %v; want %d", tt.text, got, err, tt.days)
		}
		if s := string(AppendDate(nil, tt.days)); s != tt.text {
			t.Errorf("AppendDate(%d) = %q, want %q", tt.days, s, tt.text)
		}
	}
	if got, err := ParseDate([]byte("1998-1-5")); err != nil || got != DaysFromCivil(1998, 1, 5) {
		t.Errorf("ParseDate(1998-1-5) = %d, %v", got, err)
	}
	bad := map[string]error{
		"1998-02-29": strconv.ErrRange, "1998-13-01": strconv.ErrRange, "1998-00-10": strconv.ErrRange,
		"1998-04-31": strconv.ErrRange, "98-01-01": strconv.ErrSyntax, "1998/01/01": strconv.ErrSyntax,
		"1998-01-01x": strconv.ErrSyntax, "": strconv.ErrSyntax, "1998-01-": strconv.ErrSyntax,
	}
	for in, want := range bad {
		if got, err := ParseDate([]byte(in)); err != want {
			t.Errorf("ParseDate(%q) = %d, %v; want %v", in, got, err, want)
		}
	}
	// Every day of four centuries round-trips and counts up by one.
	for d := DaysFromCivil(1900, 1, 1); d < DaysFromCivil(2300, 1, 1); d++ {
		y, m, dd := CivilFromDays(d)
		if DaysFromCivil(y, m, dd) != d || dd > DaysInMonth(y, m) {
			t.Fatalf("CivilFromDays(%d) = %d-%d-%d", d, y, m, dd)
		}
	}
}

func TestTimestampText(t *testing.T) {
	day := DaysFromCivil(1998, 12, 1) * MicrosPerDay
	tests := []struct {
		text   string
		micros int64
		out    string // "" means text
	}{
		{"1998-12-01 10:00:00", day + 10*3600*MicrosPerSecond, ""},
		{"1998-12-01T10:00:00", day + 10*3600*MicrosPerSecond, "1998-12-01 10:00:00"},
		{"1998-12-01 10:00", day + 10*3600*MicrosPerSecond, "1998-12-01 10:00:00"},
		{"1998-12-01", day, "1998-12-01 00:00:00"},
		{"1998-12-01 00:00:01.5", day + 1500000, ""},
		{"1998-12-01 00:00:01.000001", day + 1000001, ""},
		{"1998-12-01 00:00:01.1234567", day + 1123456, "1998-12-01 00:00:01.123456"},
		{"1998-12-01 12:00:00Z", day + 12*3600*MicrosPerSecond, "1998-12-01 12:00:00"},
		{"1998-12-01 12:00:00+02:00", day + 10*3600*MicrosPerSecond, "1998-12-01 10:00:00"},
		{"1998-12-01 12:00:00-0130", day + (13*60+30)*60*MicrosPerSecond, "1998-12-01 13:30:00"},
		{"1969-12-31 23:59:59.999999", -1, ""},
	}
	for _, tt := range tests {
		got, err := ParseTimestamp([]byte(tt.text))
		if err != nil || got != tt.micros {
			t.Errorf("ParseTimestamp(%q) = %d, %v; want %d", tt.text, got, err, tt.micros)
		}
		want := tt.out
		if want == "" {
			want = tt.text
		}
		if s := string(AppendTimestamp(nil, tt.micros)); s != want {
			t.Errorf("AppendTimestamp(%d) = %q, want %q", tt.micros, s, want)
		}
	}
	for _, in := range []string{"1998-12-01 25:00:00", "1998-12-01 10:61:00", "1998-12-01 10", "1998-12-01 10:00:00 x", "1998-12-01 10:00:00.", "x"} {
		if got, err := ParseTimestamp([]byte(in)); err == nil {
			t.Errorf("ParseTimestamp(%q) = %d, want an error", in, got)
		}
	}
}

func TestDecimalText(t *testing.T) {
	tests := []struct {
		text string
		typ  Type
		want int64
		err  error
	}{
		{"123.45", DecimalType(15, 2), 12345, nil},
		{"-0.5", DecimalType(15, 2), -50, nil},
		{"+7", DecimalType(15, 2), 700, nil},
		{"7.", DecimalType(15, 2), 700, nil},
		{".25", DecimalType(15, 2), 25, nil},
		{"0.125", DecimalType(15, 2), 13, nil}, // half away from zero
		{"-0.125", DecimalType(15, 2), -13, nil},
		{"0.1249999", DecimalType(15, 2), 12, nil},
		{"2.5", DecimalType(3, 0), 3, nil},
		{"-2.5", DecimalType(3, 0), -3, nil},
		{"1e2", DecimalType(5, 2), 10000, nil},
		{"1.5E-1", DecimalType(5, 2), 15, nil},
		{"12345e-2", DecimalType(5, 2), 12345, nil},
		{"999.99", DecimalType(5, 2), 99999, nil},
		{"999.995", DecimalType(5, 2), 0, strconv.ErrRange}, // rounds to 1000.00
		{"1000", DecimalType(5, 2), 0, strconv.ErrRange},
		{"0000000000000000000000000001.5", DecimalType(5, 2), 150, nil},
		{"0.0000000000000000000000000001", DecimalType(5, 2), 0, nil},
		{"999999999999999999", DecimalType(18, 0), 999999999999999999, nil},
		{"9999999999999999999", DecimalType(18, 0), 0, strconv.ErrRange},
		{"1e40", DecimalType(18, 0), 0, strconv.ErrRange},
		{"", DecimalType(5, 2), 0, strconv.ErrSyntax},
		{"-", DecimalType(5, 2), 0, strconv.ErrSyntax},
		{".", DecimalType(5, 2), 0, strconv.ErrSyntax},
		{"1.2.3", DecimalType(5, 2), 0, strconv.ErrSyntax},
		{"1e", DecimalType(5, 2), 0, strconv.ErrSyntax},
		{"abc", DecimalType(5, 2), 0, strconv.ErrSyntax},
		{" 1", DecimalType(5, 2), 0, strconv.ErrSyntax},
	}
	for _, tt := range tests {
		got, err := ParseDecimal([]byte(tt.text), tt.typ)
		if err != tt.err || err == nil && got != tt.want {
			t.Errorf("ParseDecimal(%q, %s) = %d, %v; want %d, %v", tt.text, tt.typ, got, err, tt.want, tt.err)
		}
	}
	formats := []struct {
		v     int64
		scale int
		want  string
	}{
		{12340, 2, "123.40"}, {-5, 2, "-0.05"}, {7, 0, "7"}, {0, 3, "0.000"}, {-7, 0, "-7"},
		{999999999999999999, 18, "0.999999999999999999"}, {-9223372036854775808, 0, "-9223372036854775808"},
	}
	for _, f := range formats {
		if got := string(AppendDecimal(nil, f.v, f.scale)); got != f.want {
			t.Errorf("AppendDecimal(%d, %d) = %q, want %q", f.v, f.scale, got, f.want)
		}
	}
}

func TestRescale(t *testing.T) {
	tests := []struct {
		v        int64
		from, to int
		want     int64
		ok       bool
	}{
		{12345, 2, 4, 1234500, true},
		{12345, 2, 0, 123, true},
		{12350, 2, 0, 124, true},
		{-12350, 2, 0, -124, true},
		{-12349, 2, 0, -123, true},
		{5, 1, 0, 1, true},
		{-5, 1, 0, -1, true},
		{1e17, 0, 2, 0, false},
		{-922337203685477580, 0, 1, -9223372036854775800, true},
	}
	for _, tt := range tests {
		got, ok := Rescale(tt.v, tt.from, tt.to)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("Rescale(%d, %d, %d) = %d, %v; want %d, %v", tt.v, tt.from, tt.to, got, ok, tt.want, tt.ok)
		}
	}
}
