package sqlstore

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPlaceholders(t *testing.T) {
	assert.Equal(t, "", placeholders(1, 0))
	assert.Equal(t, "$1", placeholders(1, 1))
	assert.Equal(t, "$9, $10, $11", placeholders(9, 3), "across a digit boundary")
	// Against the plain way of writing it, over the widths sqlstore uses.
	for _, from := range []int{1, 2, 8, 99, 1001} {
		for _, n := range []int{1, 7, 30, evidenceWidth} {
			want := make([]string, n)
			for i := range want {
				want[i] = fmt.Sprintf("$%d", from+i)
			}
			assert.Equal(t, strings.Join(want, ", "), placeholders(from, n), "from %d, %d of them", from, n)
		}
	}
}

// BenchmarkPlaceholders is one evidence row's list (39 columns), built
// for every submission.
func BenchmarkPlaceholders(b *testing.B) {
	for b.Loop() {
		_ = placeholders(1, evidenceWidth)
	}
}
