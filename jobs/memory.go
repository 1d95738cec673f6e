package jobs

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// DefaultMemory is the operators' memory bound when none is given: half
// of what this process may use, the machine's memory or its cgroup's
// limit, whichever is smaller; 0 (unbounded) where neither can be read.
// Past it, sorts, aggregations and joins spill to the run's store, so a
// run's memory does not grow with its input.
func DefaultMemory() int64 {
	limit := memTotal(readFile("/proc/meminfo"))
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if c := cgroupLimit(readFile(path)); c > 0 && (limit == 0 || c < limit) {
			limit = c
		}
	}
	return limit / 2
}

func readFile(path string) []byte {
	data, _ := os.ReadFile(path)
	return data
}

// memTotal reads MemTotal from /proc/meminfo's text, in bytes; 0 if
// absent.
func memTotal(meminfo []byte) int64 {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil || kb <= 0 {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// cgroupLimit reads a cgroup memory limit (v2 memory.max, or v1
// memory.limit_in_bytes); 0 when there is none ("max", or v1's huge
// "unlimited" value) or it cannot be read.
func cgroupLimit(data []byte) int64 {
	s := strings.TrimSpace(string(data))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n >= 1<<60 {
		return 0
	}
	return n
}
