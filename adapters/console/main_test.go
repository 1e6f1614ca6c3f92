package console_test

import (
	"os"
	"testing"

	"github.com/sanzhi/sanzhi/access/signin"
)

// TestMain makes new password hashes cheap: nearly every test here sets
// and checks staff passwords, and under the race detector one
// OWASP-strength argon2id hash costs about half a second of CPU, most of
// this package's time. access/signin tests the production cost.
func TestMain(m *testing.M) {
	signin.LowerCostForTests()
	code := m.Run()
	stopBrowser()
	os.Exit(code)
}
