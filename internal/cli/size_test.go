package cli

import "testing"

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"", 0}, {"0", 0}, {"1024", 1024}, {"10B", 10},
		{"256MiB", 256 << 20}, {"1GiB", 1 << 30}, {"512MB", 512e6}, {"2KiB", 2048},
		{"1.5GiB", 3 << 29}, {"64K", 64 << 10}, {"3 MiB", 3 << 20}, {"1TB", 1e12},
	} {
		if got, err := parseSize(c.in); err != nil || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v, want %d", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"MiB", "-1MiB", "12XB", "1e400", "lots", "NaN"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}
