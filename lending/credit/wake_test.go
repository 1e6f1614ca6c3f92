package credit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestPokeWakesThatBankOnly: a commit of one bank's line events wakes
// that bank's watchers, not every other bank's; a Poke without a bank
// (the cause is unknown) wakes all; the webhook hook runs on every Poke.
func TestPokeWakesThatBankOnly(t *testing.T) {
	s := NewService(nil, nil, nil, time.Now)
	hooks := 0
	s.OnCommit(func() { hooks++ })
	a, b := s.Changed("bank-a"), s.Changed("bank-b")
	assert.Equal(t, a, s.Changed("bank-a"), "watchers of one bank share a channel")

	s.Poke("bank-a")
	assert.True(t, closed(a))
	assert.False(t, closed(b), "bank-b's watchers sleep on")
	assert.False(t, closed(s.Changed("bank-a")), "a fresh channel for the next commit")

	s.Poke("bank-c") // nobody watches it
	assert.False(t, closed(b))

	a2 := s.Changed("bank-a")
	s.Poke()
	assert.True(t, closed(a2))
	assert.True(t, closed(b))
	assert.Equal(t, 3, hooks)
}
