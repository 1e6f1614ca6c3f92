package console

import (
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every message key a template or a page uses exists, in both languages.
func TestEveryMessageHasBothLanguages(t *testing.T) {
	t.Parallel()
	for key, m := range messages {
		assert.NotEmpty(t, strings.TrimSpace(m[0]), "%s has no zh-CN", key)
		assert.NotEmpty(t, strings.TrimSpace(m[1]), "%s has no English", key)
	}
	used := regexp.MustCompile(`(?:t \$?[.a-zA-Z]+|text\([a-z.]+,) "([a-z_]+\.[a-z_]+)"`)
	var n int
	check := func(name, src string) {
		for _, m := range used.FindAllStringSubmatch(src, -1) {
			n++
			_, ok := messages[m[1]]
			assert.True(t, ok, "%s uses %q, which has no message", name, m[1])
		}
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	require.NoError(t, err)
	for _, name := range names {
		b, err := fs.ReadFile(templateFS, name)
		require.NoError(t, err)
		check(name, string(b))
	}
	for _, f := range []string{"console.go", "pages.go", "household.go", "clerk.go", "reviewer.go", "photo.go", "shop.go"} {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		check(f, string(b))
	}
	assert.Greater(t, n, 40, "the pattern finds the uses")
	// The kinds the board shows each have a word.
	for _, k := range []string{"points", "star_rating", "red_list", "black_list", "recommendation"} {
		_, ok := messages["kind."+k]
		assert.True(t, ok, k)
	}
}
