package postgres

import (
	"strings"
	"testing"
)

// BenchmarkAppendCopyEscaped: a decision's explanation (about 2 KB of
// JSON, nothing to escape) as COPY text, against appending its bytes
// alone, the floor.
func BenchmarkAppendCopyEscaped(b *testing.B) {
	s := `{"reasons":[` + strings.Repeat(`{"code":"POINTS","zh":"积分达标","en":"points meet the bar"},`, 30) + `{}]}`
	buf := make([]byte, 0, 4096)
	b.Run("append", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		for b.Loop() {
			buf = append(buf[:0], s...)
		}
	})
	b.Run("escaped", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		for b.Loop() {
			buf = appendCopyEscaped(buf[:0], s)
		}
	})
}
