package merklelog_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuCounters reads the CPU time of this process and of every PostgreSQL
// process on the machine (Linux only). A server process's time is its
// own plus, through cutime, its exited children's, so backends that end
// between two readings are still counted, once. Benchmarks divide the
// difference of two readings by b.N: the CPU a transaction costs on each
// side, which the 2-core machine's throughput ratios hide (BENCHMARKS.md,
// issue 19). ok is false where /proc cannot be read.
func cpuCounters() (self, postgres time.Duration, ok bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0, false
	}
	self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		return self, 0, false
	}
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // exited since the glob
		}
		s := string(b)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open || s[open+1:closing] != "postgres" {
			continue
		}
		f := strings.Fields(s[closing+1:]) // f[0] is field 3 (state)
		if len(f) < 15 {
			continue
		}
		for _, v := range f[11:15] { // utime, stime, cutime, cstime: fields 14–17
			n, err := strconv.ParseInt(v, 10, 64)
			if err == nil {
				postgres += time.Duration(n) * tick
			}
		}
	}
	return self, postgres, true
}
