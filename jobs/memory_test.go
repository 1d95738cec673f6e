package jobs

import "testing"

func TestMemoryLimits(t *testing.T) {
	if got := memTotal([]byte("MemTotal:       24576000 kB\nMemFree:  100 kB\n")); got != 24576000<<10 {
		t.Errorf("memTotal = %d", got)
	}
	if got := memTotal([]byte("MemFree: 1 kB\n")); got != 0 {
		t.Errorf("memTotal without MemTotal = %d, want 0", got)
	}
	for limit, want := range map[int64]int64{0: 1 << 30, 1 << 30: 512 << 20, 24 << 30: 1 << 30} {
		if got := defaultMemory(limit); got != want {
			t.Errorf("defaultMemory(%d) = %d, want %d", limit, got, want)
		}
	}
	for in, want := range map[string]int64{"max\n": 0, "2147483648\n": 2 << 30, "9223372036854771712\n": 0, "": 0, "junk": 0} {
		if got := cgroupLimit([]byte(in)); got != want {
			t.Errorf("cgroupLimit(%q) = %d, want %d", in, got, want)
		}
	}
}
