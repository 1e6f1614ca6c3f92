package cli

import (
	"os"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

// gcPercent reads the GC percent (SetGCPercent only reads by setting).
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestBatchGC(t *testing.T) {
	for _, v := range []string{"GOGC", "GOMEMLIMIT"} {
		if old, ok := os.LookupEnv(v); ok {
			t.Cleanup(func() { os.Setenv(v, old) })
		}
		t.Setenv(v, "") // restored (or unset) when the test ends
		os.Unsetenv(v)
	}
	percent0, limit0 := gcPercent(), debug.SetMemoryLimit(-1)

	restore := BatchGC()
	assert.Equal(t, batchGCPercent, gcPercent())
	assert.Equal(t, int64(batchMemoryLimit), debug.SetMemoryLimit(-1))
	restore()
	assert.Equal(t, percent0, gcPercent(), "restored")
	assert.Equal(t, limit0, debug.SetMemoryLimit(-1), "restored")

	// The operator's settings stand.
	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "1GiB")
	restore = BatchGC()
	assert.Equal(t, percent0, gcPercent(), "GOGC set: left alone")
	assert.Equal(t, limit0, debug.SetMemoryLimit(-1), "GOMEMLIMIT set: left alone")
	restore()
	assert.Equal(t, percent0, gcPercent())
}
