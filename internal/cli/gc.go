package cli

import (
	"os"
	"runtime/debug"
)

// Batch collection settings: a batch command (reassess, simulate) plans
// pages of households, allocating a great deal of short-lived garbage
// while its live heap stays a few pages. It collects less often (GOGC
// 400), within a soft memory limit. The limit was 200 MiB, which a
// re-assessment of a million households reached, so the collector ran
// on the limit rather than on GOGC: at 1 GiB the run's own CPU fell from
// 88.6 to 75.3 s and its resident set rose from 230 to 470 MB
// (BENCHMARKS.md, issue 19). An operator short of memory sets GOMEMLIMIT.
const (
	batchGCPercent   = 400
	batchMemoryLimit = 1 << 30
)

// BatchGC sets the batch collection settings for the rest of a command,
// each unless the operator set its own in the environment (GOGC,
// GOMEMLIMIT), which the Go runtime has then applied already. restore
// puts back what was in force before.
func BatchGC() (restore func()) {
	var undo []func()
	if _, ok := os.LookupEnv("GOGC"); !ok {
		was := debug.SetGCPercent(batchGCPercent)
		undo = append(undo, func() { debug.SetGCPercent(was) })
	}
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok {
		was := debug.SetMemoryLimit(batchMemoryLimit)
		undo = append(undo, func() { debug.SetMemoryLimit(was) })
	}
	return func() {
		for _, f := range undo {
			f()
		}
	}
}
