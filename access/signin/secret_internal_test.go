package signin

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The cost new hashes are made at in production is OWASP's argon2id
// recommendation, whatever a test binary lowered it to.
func TestProductionCostIsOWASP(t *testing.T) {
	assert.Equal(t, hashCost{memory: 19456, time: 2, threads: 1}, owaspCost)
	assert.Equal(t, &owaspCost, newHashCost.Load(), "unless a test lowered it")
	h, err := HashPassword("pässwörd 密码")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"), h)
	ok, err := VerifyPassword(h, "pässwörd 密码")
	require.NoError(t, err)
	assert.True(t, ok)
}

// A hash made at the lowered cost still verifies after the cost changes
// back: the stored parameters are honoured.
func TestLoweredHashesVerifyAtTheirOwnCost(t *testing.T) {
	restore := LowerCostForTests()
	h, err := HashPassword("correct horse 2026")
	restore()
	require.NoError(t, err)
	assert.Contains(t, h, "$m=64,t=1,p=1$")
	assert.Equal(t, &owaspCost, newHashCost.Load(), "restored")
	ok, err := VerifyPassword(h, "correct horse 2026")
	require.NoError(t, err)
	assert.True(t, ok)
}
