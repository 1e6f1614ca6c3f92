package rpc

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
)

func TestKeyCacheExpiresAndStaysBounded(t *testing.T) {
	t.Parallel()
	c := newKeyCache(5*time.Second, 2)
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	p := &access.Principal{Name: "a"}
	c.put([]byte("k1"), p, now)
	require.Same(t, p, c.get([]byte("k1"), now.Add(5*time.Second)), "still valid at the TTL")
	assert.Nil(t, c.get([]byte("k1"), now.Add(5*time.Second+time.Nanosecond)), "a revocation bites after the TTL")
	assert.Nil(t, c.get([]byte("k2"), now))

	c.put([]byte("k2"), p, now)
	c.put([]byte("k3"), p, now) // over the bound: the cache starts afresh
	assert.LessOrEqual(t, len(c.byID), 2)
	assert.Same(t, p, c.get([]byte("k3"), now))
}
