package jobs

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// DefaultMemory is the operators' memory bound when none is given: half
// of what this process may use (the machine's memory or its cgroup's
// limit, whichever is smaller), at most DefaultMemoryCap. Past it, sorts,
// aggregations and joins spill to the run's store, so a run's memory does
// not grow with its input.
func DefaultMemory() int64 {
	limit := memTotal(readFile("/proc/meminfo"))
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if c := cgroupLimit(readFile(path)); c > 0 && (limit == 0 || c < limit) {
			limit = c
		}
	}
	return defaultMemory(limit)
}

// DefaultMemoryCap caps the default bound. A sort holding 10M rows per
// subtask is slower than one that spills sorted runs and merges them
// (bench W4 at 20M rows on 2 cores and 23 GB: 9.7-10.3 s and 1.2 GB peak
// RSS with 1 GiB, 11.9-17.4 s and 2.1-2.5 GB with half the machine), and
// a job run from cron should not take half of a shared machine.
const DefaultMemoryCap = 1 << 30

// defaultMemory is the default bound for a process that may use limit
// bytes (0: unknown).
func defaultMemory(limit int64) int64 {
	if limit <= 0 {
		return DefaultMemoryCap
	}
	return min(limit/2, DefaultMemoryCap)
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
