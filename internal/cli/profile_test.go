package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCPUProfile(t *testing.T) {
	stop, err := CPUProfile("")
	require.NoError(t, err)
	stop()

	path := filepath.Join(t.TempDir(), "cpu.prof")
	stop, err = CPUProfile(path)
	require.NoError(t, err)
	stop()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Positive(t, fi.Size(), "the profile was written")

	_, err = CPUProfile(filepath.Join(t.TempDir(), "no such dir", "cpu.prof"))
	assert.Error(t, err)
}
