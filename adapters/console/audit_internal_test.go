package console

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every message key audit.go uses exists in both languages (the shared
// test walks the templates and the older page files, not this one).
func TestAuditMessages(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("audit.go")
	require.NoError(t, err)
	uses := regexp.MustCompile(`text\(q\.lang, "(aud\.[a-z_.]+)"`).FindAllStringSubmatch(string(src), -1)
	require.Greater(t, len(uses), 20, "the pattern finds the uses")
	for _, m := range uses {
		ms, ok := messages[m[1]]
		if assert.True(t, ok, "%s has no message", m[1]) {
			assert.NotEmpty(t, ms[0], m[1])
			assert.NotEmpty(t, ms[1], m[1])
		}
	}
	// The replayed fields each have words.
	for _, f := range []string{"policy_hash", "input_hash", "eligible", "score", "grade", "limit", "rate",
		"exposure_cap", "valid_until", "knock_outs", "declines"} {
		_, ok := messages["aud.field."+f]
		assert.True(t, ok, f)
	}
}
